/* text: UTF-8 validity, text limits and search folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void assert_folds(const char *in, const char *want)
{
    char *got = text_fold(in);
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
    assert_folds("  VILLE-ÉMARD / Côte St-Paul  ", "ville emard cote saint paul");
    assert_folds("Montréal-Nord (TQMN)", "montreal nord tqmn");
}

static void test_fold_applies_compatibility_and_casefold(void **state)
{
    (void)state;
    assert_folds("ﬁ", "fi");           /* ligature */
    assert_folds("Straße", "strasse"); /* case folding */
    assert_folds("Œuvre", "oeuvre");
    assert_folds("Cæcilia", "caecilia");
    assert_folds("Ｍｏｎｔｒéａｌ", "montreal"); /* full-width */
    assert_folds("Ç_a-va", "c a va");
}

static void test_fold_spells_out_saint_and_sainte(void **state)
{
    (void)state;
    assert_folds("St-Léonard", "saint leonard");
    assert_folds("Saint-Léonard", "saint leonard");
    assert_folds("STE. CATHERINE", "sainte catherine");
    assert_folds("Sts-Anges, Stes-Marie", "saints anges saintes marie");
    assert_folds("st", "saint");
    assert_folds("Steinberg est", "steinberg est"); /* only whole words */
    assert_folds("Toussaint", "toussaint");
}

static void test_plural_agreement(void **state)
{
    (void)state;
    assert_string_equal(text_plural(1, "problem", "problems"), "problem");
    assert_string_equal(text_plural(0, "problem", "problems"), "problems");
    assert_string_equal(text_plural(2, "sector", "sectors"), "sectors");
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
    assert_null(text_fold("caf\xC3"));
}

static void test_text_checks_utf8_controls_blank_and_length(void **state)
{
    (void)state;
    assert_int_equal(text_check("Côte-des-Neiges", 15, 0), TEXT_OK);
    assert_int_equal(text_check("Côte-des-Neiges", 14, 0), TEXT_TOO_LONG);
    assert_int_equal(text_check("bad \xC3(", 100, 0), TEXT_BAD_UTF8);
    assert_int_equal(text_check("\xED\xA0\x80", 100, 0), TEXT_BAD_UTF8);
    assert_int_equal(text_check("a\x01", 100, 0), TEXT_CONTROL);
    assert_int_equal(text_check("line\nline", 100, 0), TEXT_CONTROL);
    assert_int_equal(text_check("line\nline", 100, 1), TEXT_OK);
    assert_int_equal(text_check("   ", 100, 0), TEXT_BLANK);
}

/* The one UTF-8 check: Unicode's well-formed sequences, nothing else. */
static void test_words_split_on_spaces(void **state)
{
    (void)state;
    size_t n = 9;
    char **w = text_words(" fr  en es", &n);
    assert_int_equal(n, 3);
    assert_string_equal(w[0], "fr");
    assert_string_equal(w[1], "en");
    assert_string_equal(w[2], "es");
    text_words_free(w, n);
    assert_null(text_words("   ", &n));
    assert_int_equal(n, 0);
    assert_null(text_words(NULL, &n));
    assert_int_equal(n, 0);
    char *parts[] = {"housing", "health"};
    char *joined = text_words_join(parts, 2);
    assert_string_equal(joined, "housing health");
    free(joined);
    joined = text_words_join(NULL, 0);
    assert_string_equal(joined, "");
    free(joined);
}

static void test_utf8_accepts_well_formed_and_refuses_the_rest(void **state)
{
    (void)state;
    assert_true(text_valid("", 0));
    assert_true(text_valid("Côte-des-Neiges", strlen("Côte-des-Neiges")));
    assert_true(text_valid("\xF0\x9F\x98\x80", 4));  /* U+1F600 */
    assert_true(text_valid("\xF4\x8F\xBF\xBF", 4));  /* U+10FFFF */
    assert_false(text_valid("a\0b", 3));             /* NUL */
    assert_false(text_valid("\xC0\xAF", 2));         /* overlong '/' */
    assert_false(text_valid("\xE0\x80\xAF", 3));     /* overlong */
    assert_false(text_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(text_valid("\xF4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(text_valid("caf\xC3", 4));          /* cut short */
    assert_false(text_valid("\x80", 1));             /* lone continuation */
    assert_false(text_valid("\xFF", 1));
    assert_int_equal(text_char_len("\xC3\xA9x", 3), 2);
    assert_int_equal(text_char_len("\xC3\xA9", 1), 0); /* not all there */
    assert_int_equal(text_char_len("", 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_strips_accents_case_and_punctuation),
        cmocka_unit_test(test_words_split_on_spaces),
        cmocka_unit_test(test_fold_applies_compatibility_and_casefold),
        cmocka_unit_test(test_fold_spells_out_saint_and_sainte),
        cmocka_unit_test(test_plural_agreement),
        cmocka_unit_test(test_fold_of_punctuation_only_is_empty),
        cmocka_unit_test(test_fold_refuses_invalid_utf8),
        cmocka_unit_test(test_text_checks_utf8_controls_blank_and_length),
        cmocka_unit_test(test_utf8_accepts_well_formed_and_refuses_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
