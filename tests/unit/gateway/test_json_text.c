/* json_text: the same text as json_dumps(JSON_COMPACT), whatever the size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_text.h"

static void assert_same_as_dumps(json_t *doc)
{
    char *want = json_dumps(doc, JSON_COMPACT);
    size_t len = 0;
    char *got = json_text(doc, &len);
    assert_non_null(want);
    assert_int_equal(len, strlen(want));
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void test_small_document_matches_dumps(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s, s:i, s:[b, n]}", "name", "Table de quartier — Côte-des-Neiges",
                            "count", 3, "flags", 1);
    assert_same_as_dumps(doc);
    json_decref(doc);
}

static void test_empty_object_is_two_bytes(void **state)
{
    (void)state;
    json_t *doc = json_object();
    size_t len = 0;
    char *got = json_text(doc, &len);
    assert_int_equal(len, 2);
    assert_string_equal(got, "{}");
    free(got);
    json_decref(doc);
}

static void test_document_past_the_stack_buffer_matches_dumps(void **state)
{
    (void)state;
    json_t *doc = json_array();
    for (int i = 0; i < 3000; i++)
        json_array_append_new(doc, json_string("montreal-nord"));
    assert_same_as_dumps(doc); /* about 48 KiB */
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_document_matches_dumps),
        cmocka_unit_test(test_empty_object_is_two_bytes),
        cmocka_unit_test(test_document_past_the_stack_buffer_matches_dumps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
