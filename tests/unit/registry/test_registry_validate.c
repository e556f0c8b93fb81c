/* registry_validate: the registry's own rules: NEQ and vocabularies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry_validate.h"
#include "shape.h"

static void test_neq_is_exactly_ten_digits(void **state)
{
    (void)state;
    assert_true(registry_valid_neq("1140000000"));
    assert_true(registry_valid_neq("3312345678"));
    assert_false(registry_valid_neq("114000000"));
    assert_false(registry_valid_neq("11400000000"));
    assert_false(registry_valid_neq("114 000 0000"));
    assert_false(registry_valid_neq("11400000a0"));
    assert_false(registry_valid_neq(""));
}

static void test_vocabularies_list_their_codes(void **state)
{
    (void)state;
    assert_true(shape_word(registry_roles, "observer"));
    assert_true(shape_word(registry_territory_kinds, "sector"));
    char *text = shape_words_text(registry_roles);
    assert_string_equal(text, "member, board, observer");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_neq_is_exactly_ten_digits),
        cmocka_unit_test(test_vocabularies_list_their_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
