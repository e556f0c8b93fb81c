/* patch: partial updates by descriptor and the changed paths they list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/jsonmap.pb-c.h"
#include "patch.h"
#include "xalloc.h"

typedef Concerto__Test__V1__AllKinds all_t;

/* A stored message as a database read would give it. */
static all_t *stored_message(void)
{
    all_t *m = xmalloc(sizeof *m);
    concerto__test__v1__all_kinds__init(m);
    m->string_value = xstrdup("old");
    m->has_int32_value = 1;
    m->int32_value = 1;
    m->has_bool_value = 1;
    m->bool_value = 1;
    m->n_tags = 2;
    m->tags = xcalloc(2, sizeof *m->tags);
    m->tags[0] = xstrdup("a");
    m->tags[1] = xstrdup("b");
    return m;
}

static void assert_paths(const patch_changes_t *ch, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    assert_int_equal(ch->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ch->paths[i], want[i]);
}

static void test_present_fields_replace_and_are_listed_in_field_order(void **state)
{
    (void)state;
    all_t *m = stored_message();
    all_t up = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    Concerto__Test__V1__Contact c = CONCERTO__TEST__V1__CONTACT__INIT;
    Concerto__Test__V1__Address a = CONCERTO__TEST__V1__ADDRESS__INIT;
    up.string_value = "new";
    up.has_int32_value = 1;
    up.int32_value = 1; /* the same value: not a change */
    up.has_bool_value = 1;
    up.bool_value = 0;
    up.has_int64_value = 1;
    up.int64_value = 9;
    a.street = "1 rue X";
    c.address = &a;
    up.contact = &c;
    patch_changes_t ch = {0};
    patch_apply(&m->base, &up.base, NULL, &ch);
    static const char *const want[] = {"int64_value", "bool_value", "string_value",
                                       "contact.address.street", NULL};
    assert_paths(&ch, want);
    assert_string_equal(m->string_value, "new");
    assert_true(m->has_int64_value && m->int64_value == 9);
    assert_false(m->bool_value);
    assert_string_equal(m->contact->address->street, "1 rue X");
    assert_true(patch_changed(&ch, "contact.address.street"));
    assert_false(patch_changed(&ch, "int32_value"));
    /* Absent fields keep their stored value. */
    assert_int_equal(m->n_tags, 2);
    patch_changes_clear(&ch);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_empty_string_clears_and_repeated_is_replaced_only_when_given(void **state)
{
    (void)state;
    all_t *m = stored_message();
    all_t up = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    up.string_value = "";
    patch_changes_t ch = {0};
    patch_apply(&m->base, &up.base, NULL, &ch);
    static const char *const cleared[] = {"string_value", NULL};
    assert_paths(&ch, cleared);
    assert_null(m->string_value);
    assert_int_equal(m->n_tags, 2);
    patch_changes_clear(&ch);

    char *same[] = {"a", "b"}, *other[] = {"c"};
    up.string_value = NULL;
    up.n_tags = 2;
    up.tags = same;
    patch_apply(&m->base, &up.base, NULL, &ch);
    assert_int_equal(ch.n, 0);
    up.n_tags = 1;
    up.tags = other;
    patch_apply(&m->base, &up.base, NULL, &ch);
    static const char *const replaced[] = {"tags", NULL};
    assert_paths(&ch, replaced);
    assert_int_equal(m->n_tags, 1);
    assert_string_equal(m->tags[0], "c");
    patch_changes_clear(&ch);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_fixed_fields_keep_their_stored_value(void **state)
{
    (void)state;
    all_t *m = stored_message();
    all_t up = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    up.string_value = "";
    up.has_int32_value = 1;
    up.int32_value = 2;
    static const char *const fixed[] = {"string_value", NULL};
    patch_changes_t ch = {0};
    patch_apply(&m->base, &up.base, fixed, &ch);
    static const char *const want[] = {"int32_value", NULL};
    assert_paths(&ch, want);
    assert_string_equal(m->string_value, "old");
    patch_changes_clear(&ch);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_bytes_and_oneof_members_are_copied(void **state)
{
    (void)state;
    all_t *m = stored_message();
    m->choice_case = CONCERTO__TEST__V1__ALL_KINDS__CHOICE_CHOICE_NAME;
    m->choice_name = xstrdup("before");
    all_t up = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    up.has_bytes_value = 1;
    up.bytes_value.data = (uint8_t *)"xyz";
    up.bytes_value.len = 3;
    up.choice_case = CONCERTO__TEST__V1__ALL_KINDS__CHOICE_CHOICE_NUMBER;
    up.choice_number = 5;
    patch_changes_t ch = {0};
    patch_apply(&m->base, &up.base, NULL, &ch);
    static const char *const want[] = {"bytes_value", "choice_number", NULL};
    assert_paths(&ch, want);
    assert_true(m->has_bytes_value && m->bytes_value.len == 3);
    assert_memory_equal(m->bytes_value.data, "xyz", 3);
    assert_int_equal(m->choice_case, CONCERTO__TEST__V1__ALL_KINDS__CHOICE_CHOICE_NUMBER);
    assert_int_equal(m->choice_number, 5);
    patch_changes_clear(&ch);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_present_fields_replace_and_are_listed_in_field_order),
        cmocka_unit_test(test_empty_string_clears_and_repeated_is_replaced_only_when_given),
        cmocka_unit_test(test_fixed_fields_keep_their_stored_value),
        cmocka_unit_test(test_bytes_and_oneof_members_are_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
