/* shape: each common input shape, accepted and refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shape.h"

static void test_slug_accepts_lowercase_digits_and_inner_hyphens(void **state)
{
    (void)state;
    assert_true(shape_slug("tq"));
    assert_true(shape_slug("tqmn"));
    assert_true(shape_slug("cote-des-neiges-2"));
    char max[65];
    memset(max, 'a', 64);
    max[64] = '\0';
    assert_true(shape_slug(max));
}

static void test_slug_rejects_length_case_and_edges(void **state)
{
    (void)state;
    char long65[66];
    memset(long65, 'a', 65);
    long65[65] = '\0';
    assert_false(shape_slug(long65));
    assert_false(shape_slug("a"));
    assert_false(shape_slug(""));
    assert_false(shape_slug("TQMN"));
    assert_false(shape_slug("-tqmn"));
    assert_false(shape_slug("tqmn-"));
    assert_false(shape_slug("tq mn"));
    assert_false(shape_slug("tq_mn"));
    assert_false(shape_slug("côte"));
}

static void test_email_accepts_common_addresses(void **state)
{
    (void)state;
    assert_true(shape_email("info@tqmn.ca"));
    assert_true(shape_email("prenom.nom+table@cdc-centre-sud.org"));
    assert_true(shape_email("a@b.quebec"));
    assert_true(shape_email("x@exemple.xn--p1ai"));
}

static void test_email_rejects_malformed_addresses(void **state)
{
    (void)state;
    assert_false(shape_email("tqmn.ca"));
    assert_false(shape_email("a@@b.ca"));
    assert_false(shape_email("a@b@c.ca"));
    assert_false(shape_email("@tqmn.ca"));
    assert_false(shape_email("info@tqmn"));
    assert_false(shape_email("info@tqmn.c"));
    assert_false(shape_email("info@-tqmn.ca"));
    assert_false(shape_email("info@tqmn..ca"));
    assert_false(shape_email(".info@tqmn.ca"));
    assert_false(shape_email("in..fo@tqmn.ca"));
    assert_false(shape_email("in fo@tqmn.ca"));
    assert_false(shape_email("info@tqmn.c4"));
    char big[300];
    memset(big, 'a', 250);
    strcpy(big + 250, "@b.ca");
    assert_false(shape_email(big));
}

static void test_phone_accepts_north_american_forms_and_extensions(void **state)
{
    (void)state;
    assert_true(shape_phone("514-555-0123"));
    assert_true(shape_phone("(514) 555-0123"));
    assert_true(shape_phone("514.555.0123"));
    assert_true(shape_phone("5145550123"));
    assert_true(shape_phone("+1 514 555 0123"));
    assert_true(shape_phone("1-800-555-0123"));
    assert_true(shape_phone("514-555-0123 x12"));
    assert_true(shape_phone("514-555-0123 ext. 123"));
    assert_true(shape_phone("514-555-0123, poste 4567"));
    assert_true(shape_phone("514 555-0123 #2"));
}

static void test_phone_rejects_other_shapes(void **state)
{
    (void)state;
    assert_false(shape_phone("555-0123"));
    assert_false(shape_phone("514-555-01234"));
    assert_false(shape_phone("+33 1 23 45 67 89"));
    assert_false(shape_phone("+2 514 555 0123"));
    assert_false(shape_phone("114-555-0123"));  /* area code starts 2-9 */
    assert_false(shape_phone("514-155-0123"));  /* exchange starts 2-9 */
    assert_false(shape_phone("(514 555-0123")); /* unbalanced */
    assert_false(shape_phone("514-555-0123 x"));
    assert_false(shape_phone("514-555-0123 x1234567"));
    assert_false(shape_phone("514-555-0123 call me"));
    assert_false(shape_phone(""));
}

static void test_url_needs_http_scheme_and_host(void **state)
{
    (void)state;
    assert_true(shape_url("https://www.tqmn.ca/a?b=c"));
    assert_true(shape_url("http://petitebourgogne.org"));
    assert_true(shape_url("HTTPS://EXAMPLE.ORG"));
    assert_false(shape_url("ftp://example.org"));
    assert_false(shape_url("https://"));
    assert_false(shape_url("https:///path"));
    assert_false(shape_url("https://exa mple.org"));
    assert_false(shape_url("www.tqmn.ca"));
}

static void test_language_is_two_or_three_lowercase_letters(void **state)
{
    (void)state;
    assert_true(shape_language("fr"));
    assert_true(shape_language("cre"));
    assert_false(shape_language("FR"));
    assert_false(shape_language("f"));
    assert_false(shape_language("fra1"));
    assert_false(shape_language("fr-CA"));
}

static void test_words_are_matched_and_listed(void **state)
{
    (void)state;
    static const char *const roles[] = {"member", "board", "observer", NULL};
    assert_true(shape_word(roles, "observer"));
    assert_false(shape_word(roles, "Observer"));
    assert_false(shape_word(roles, ""));
    char *text = shape_words_text(roles);
    assert_string_equal(text, "member, board, observer");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slug_accepts_lowercase_digits_and_inner_hyphens),
        cmocka_unit_test(test_slug_rejects_length_case_and_edges),
        cmocka_unit_test(test_email_accepts_common_addresses),
        cmocka_unit_test(test_email_rejects_malformed_addresses),
        cmocka_unit_test(test_phone_accepts_north_american_forms_and_extensions),
        cmocka_unit_test(test_phone_rejects_other_shapes),
        cmocka_unit_test(test_url_needs_http_scheme_and_host),
        cmocka_unit_test(test_language_is_two_or_three_lowercase_letters),
        cmocka_unit_test(test_words_are_matched_and_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
