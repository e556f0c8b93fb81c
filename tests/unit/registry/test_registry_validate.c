/* registry_validate: each shape rule, accepted and refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry_validate.h"

static void test_slug_accepts_lowercase_digits_and_inner_hyphens(void **state)
{
    (void)state;
    assert_true(registry_valid_slug("tq"));
    assert_true(registry_valid_slug("tqmn"));
    assert_true(registry_valid_slug("cote-des-neiges-2"));
    char max[65];
    memset(max, 'a', 64);
    max[64] = '\0';
    assert_true(registry_valid_slug(max));
}

static void test_slug_rejects_length_case_and_edges(void **state)
{
    (void)state;
    char long65[66];
    memset(long65, 'a', 65);
    long65[65] = '\0';
    assert_false(registry_valid_slug(long65));
    assert_false(registry_valid_slug("a"));
    assert_false(registry_valid_slug(""));
    assert_false(registry_valid_slug("TQMN"));
    assert_false(registry_valid_slug("-tqmn"));
    assert_false(registry_valid_slug("tqmn-"));
    assert_false(registry_valid_slug("tq mn"));
    assert_false(registry_valid_slug("tq_mn"));
    assert_false(registry_valid_slug("côte"));
}

static void test_email_accepts_common_addresses(void **state)
{
    (void)state;
    assert_true(registry_valid_email("info@tqmn.ca"));
    assert_true(registry_valid_email("prenom.nom+table@cdc-centre-sud.org"));
    assert_true(registry_valid_email("a@b.quebec"));
    assert_true(registry_valid_email("x@exemple.xn--p1ai"));
}

static void test_email_rejects_malformed_addresses(void **state)
{
    (void)state;
    assert_false(registry_valid_email("tqmn.ca"));
    assert_false(registry_valid_email("a@@b.ca"));
    assert_false(registry_valid_email("a@b@c.ca"));
    assert_false(registry_valid_email("@tqmn.ca"));
    assert_false(registry_valid_email("info@tqmn"));
    assert_false(registry_valid_email("info@tqmn.c"));
    assert_false(registry_valid_email("info@-tqmn.ca"));
    assert_false(registry_valid_email("info@tqmn..ca"));
    assert_false(registry_valid_email(".info@tqmn.ca"));
    assert_false(registry_valid_email("in..fo@tqmn.ca"));
    assert_false(registry_valid_email("in fo@tqmn.ca"));
    assert_false(registry_valid_email("info@tqmn.c4"));
    char big[300];
    memset(big, 'a', 250);
    strcpy(big + 250, "@b.ca");
    assert_false(registry_valid_email(big));
}

static void test_phone_accepts_north_american_forms_and_extensions(void **state)
{
    (void)state;
    assert_true(registry_valid_phone("514-555-0123"));
    assert_true(registry_valid_phone("(514) 555-0123"));
    assert_true(registry_valid_phone("514.555.0123"));
    assert_true(registry_valid_phone("5145550123"));
    assert_true(registry_valid_phone("+1 514 555 0123"));
    assert_true(registry_valid_phone("1-800-555-0123"));
    assert_true(registry_valid_phone("514-555-0123 x12"));
    assert_true(registry_valid_phone("514-555-0123 ext. 123"));
    assert_true(registry_valid_phone("514-555-0123, poste 4567"));
    assert_true(registry_valid_phone("514 555-0123 #2"));
}

static void test_phone_rejects_other_shapes(void **state)
{
    (void)state;
    assert_false(registry_valid_phone("555-0123"));
    assert_false(registry_valid_phone("514-555-01234"));
    assert_false(registry_valid_phone("+33 1 23 45 67 89"));
    assert_false(registry_valid_phone("+2 514 555 0123"));
    assert_false(registry_valid_phone("114-555-0123"));  /* area code starts 2-9 */
    assert_false(registry_valid_phone("514-155-0123"));  /* exchange starts 2-9 */
    assert_false(registry_valid_phone("(514 555-0123")); /* unbalanced */
    assert_false(registry_valid_phone("514-555-0123 x"));
    assert_false(registry_valid_phone("514-555-0123 x1234567"));
    assert_false(registry_valid_phone("514-555-0123 call me"));
    assert_false(registry_valid_phone(""));
}

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

static void test_url_needs_http_scheme_and_host(void **state)
{
    (void)state;
    assert_true(registry_valid_url("https://www.tqmn.ca/a?b=c"));
    assert_true(registry_valid_url("http://petitebourgogne.org"));
    assert_true(registry_valid_url("HTTPS://EXAMPLE.ORG"));
    assert_false(registry_valid_url("ftp://example.org"));
    assert_false(registry_valid_url("https://"));
    assert_false(registry_valid_url("https:///path"));
    assert_false(registry_valid_url("https://exa mple.org"));
    assert_false(registry_valid_url("www.tqmn.ca"));
}

static void test_language_is_two_or_three_lowercase_letters(void **state)
{
    (void)state;
    assert_true(registry_valid_language("fr"));
    assert_true(registry_valid_language("cre"));
    assert_false(registry_valid_language("FR"));
    assert_false(registry_valid_language("f"));
    assert_false(registry_valid_language("fra1"));
    assert_false(registry_valid_language("fr-CA"));
}

static void test_date_accepts_real_calendar_dates(void **state)
{
    (void)state;
    assert_true(registry_valid_date("2024-02-29"));
    assert_true(registry_valid_date("2000-02-29"));
    assert_true(registry_valid_date("1991-04-04"));
    assert_true(registry_valid_date("1800-01-01"));
    assert_true(registry_valid_date("2199-12-31"));
}

static void test_date_rejects_impossible_or_malformed_dates(void **state)
{
    (void)state;
    assert_false(registry_valid_date("2023-02-29"));
    assert_false(registry_valid_date("1900-02-29"));
    assert_false(registry_valid_date("2024-04-31"));
    assert_false(registry_valid_date("2024-13-01"));
    assert_false(registry_valid_date("2024-00-10"));
    assert_false(registry_valid_date("2024-01-00"));
    assert_false(registry_valid_date("2024-1-01"));
    assert_false(registry_valid_date("2024/01/01"));
    assert_false(registry_valid_date("1799-12-31"));
    assert_false(registry_valid_date("2200-01-01"));
    assert_false(registry_valid_date("2024-01-01T00:00"));
}

static void test_date_days_counts_from_epoch(void **state)
{
    (void)state;
    assert_int_equal(registry_date_days("1970-01-01"), 0);
    assert_int_equal(registry_date_days("2000-03-01"), 11017);
    assert_int_equal(registry_date_days("2025-01-01") - registry_date_days("2024-01-01"), 366);
    char d[11];
    registry_date_from_ms(1735689600000LL, d); /* 2025-01-01T00:00:00Z */
    assert_string_equal(d, "2025-01-01");
}

static void test_text_checks_utf8_controls_blank_and_length(void **state)
{
    (void)state;
    assert_int_equal(registry_check_text("Côte-des-Neiges", 15, 0), REGISTRY_TEXT_OK);
    assert_int_equal(registry_check_text("Côte-des-Neiges", 14, 0), REGISTRY_TEXT_TOO_LONG);
    assert_int_equal(registry_check_text("bad \xC3(", 100, 0), REGISTRY_TEXT_BAD_UTF8);
    assert_int_equal(registry_check_text("\xED\xA0\x80", 100, 0), REGISTRY_TEXT_BAD_UTF8);
    assert_int_equal(registry_check_text("a\x01", 100, 0), REGISTRY_TEXT_CONTROL);
    assert_int_equal(registry_check_text("line\nline", 100, 0), REGISTRY_TEXT_CONTROL);
    assert_int_equal(registry_check_text("line\nline", 100, 1), REGISTRY_TEXT_OK);
    assert_int_equal(registry_check_text("   ", 100, 0), REGISTRY_TEXT_BLANK);
}

static void test_vocabularies_list_their_codes(void **state)
{
    (void)state;
    assert_true(registry_in_vocabulary(registry_sectors, "health_social_services"));
    assert_false(registry_in_vocabulary(registry_sectors, "health"));
    assert_true(registry_in_vocabulary(registry_networks, "public_institution"));
    assert_true(registry_in_vocabulary(registry_roles, "observer"));
    assert_true(registry_in_vocabulary(registry_territory_kinds, "sector"));
    char *text = registry_vocabulary_text(registry_roles);
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
        cmocka_unit_test(test_neq_is_exactly_ten_digits),
        cmocka_unit_test(test_url_needs_http_scheme_and_host),
        cmocka_unit_test(test_language_is_two_or_three_lowercase_letters),
        cmocka_unit_test(test_date_accepts_real_calendar_dates),
        cmocka_unit_test(test_date_rejects_impossible_or_malformed_dates),
        cmocka_unit_test(test_date_days_counts_from_epoch),
        cmocka_unit_test(test_text_checks_utf8_controls_blank_and_length),
        cmocka_unit_test(test_vocabularies_list_their_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
