/* registry_fold and registry_cursor: search folding and page cursors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry_cursor.h"
#include "registry_fold.h"

static void assert_folds(const char *in, const char *want)
{
    char *got = registry_fold(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_fold_strips_accents_case_and_punctuation(void **state)
{
    (void)state;
    assert_folds("Côte-des-Neiges", "cote des neiges");
    assert_folds("Côte-des-Neiges–Notre-Dame-de-Grâce", "cote des neiges notre dame de grace");
    assert_folds("L'Espérance", "l esperance");
    assert_folds("  VILLE-ÉMARD / Côte St-Paul  ", "ville emard cote st paul");
    assert_folds("Montréal-Nord (TQMN)", "montreal nord tqmn");
}

static void test_fold_applies_compatibility_and_casefold(void **state)
{
    (void)state;
    assert_folds("ﬁ", "fi");           /* ligature */
    assert_folds("Straße", "strasse"); /* case folding */
    assert_folds("Œuvre", "œuvre");
    assert_folds("Ｍｏｎｔｒéａｌ", "montreal"); /* full-width */
    assert_folds("Ç_a-va", "c a va");
}

static void test_fold_of_punctuation_only_is_empty(void **state)
{
    (void)state;
    assert_folds("--- ''", "");
    assert_folds("", "");
}

static void test_fold_refuses_invalid_utf8(void **state)
{
    (void)state;
    assert_null(registry_fold("caf\xC3"));
}

static void test_cursor_round_trips_and_rejects_other_lists(void **state)
{
    (void)state;
    char *c = registry_cursor_encode("tables", "tqmn");
    char key[REGISTRY_CURSOR_MAX_KEY + 1];
    assert_int_equal(registry_cursor_decode("tables", c, key), 0);
    assert_string_equal(key, "tqmn");
    assert_int_equal(registry_cursor_decode("organizations", c, key), -1);
    free(c);
    assert_int_equal(registry_cursor_decode("tables", "zz", key), -1);
    assert_int_equal(registry_cursor_decode("tables", "616", key), -1);
    assert_int_equal(registry_cursor_decode("tables", "", key), -1);
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(registry_cursor_decode("tables", big, key), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_strips_accents_case_and_punctuation),
        cmocka_unit_test(test_fold_applies_compatibility_and_casefold),
        cmocka_unit_test(test_fold_of_punctuation_only_is_empty),
        cmocka_unit_test(test_fold_refuses_invalid_utf8),
        cmocka_unit_test(test_cursor_round_trips_and_rejects_other_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
