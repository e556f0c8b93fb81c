/* Tests for negotiate: document formats (?format=, Accept) and the entity
 * tags of If-None-Match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "negotiate.h"

static void test_format_table(void **state)
{
    (void)state;
    assert_int_equal(format_parse("csv"), FORMAT_CSV);
    assert_int_equal(format_parse("xlsx"), FORMAT_XLSX);
    assert_int_equal(format_parse("CSV"), -1);
    assert_int_equal(format_parse("pdf"), -1);
    assert_string_equal(format_name(FORMAT_ICS), "ics");
    assert_string_equal(format_media_type(FORMAT_HTML), "text/html");
    assert_string_equal(format_media_type(FORMAT_XLSX),
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
}

static void test_format_lists(void **state)
{
    (void)state;
    uint8_t f[FORMAT_N];
    char err[160];
    assert_int_equal(format_list_parse("csv,xlsx,json", f, err, sizeof err), 3);
    assert_int_equal(f[0], FORMAT_CSV);
    assert_int_equal(f[2], FORMAT_JSON);
    assert_int_equal(format_list_parse("ics", f, err, sizeof err), 1);
    const char *bad[] = {"", "csv,", ",csv", "csv,pdf", "csv,csv", "csv json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (format_list_parse(bad[i], f, err, sizeof err) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    format_list_parse("csv,csv", f, err, sizeof err);
    assert_string_equal(err, "format csv is listed twice");
}

static void test_query_format_wins_and_must_be_offered(void **state)
{
    (void)state;
    uint8_t offered[] = {FORMAT_CSV, FORMAT_JSON, FORMAT_HTML};
    assert_int_equal(negotiate_format(offered, 3, "json", "text/csv"), FORMAT_JSON);
    assert_int_equal(negotiate_format(offered, 3, "html", NULL), FORMAT_HTML);
    assert_int_equal(negotiate_format(offered, 3, "xlsx", NULL), -1);
    assert_int_equal(negotiate_format(offered, 3, "", NULL), -1);
}

static void test_accept_picks_the_most_valued_format(void **state)
{
    (void)state;
    uint8_t offered[] = {FORMAT_CSV, FORMAT_JSON, FORMAT_HTML};
    struct {
        const char *accept;
        int want;
    } cases[] = {
        {NULL, FORMAT_CSV},
        {"", FORMAT_CSV},
        {"  ", FORMAT_CSV},
        {"*/*", FORMAT_CSV},
        {"application/json", FORMAT_JSON},
        {"APPLICATION/JSON", FORMAT_JSON},
        {"text/html, application/json", FORMAT_JSON},
        {"text/html;q=0.9, application/json;q=0.8", FORMAT_HTML},
        {"text/*;q=0.5, application/json;q=0.4", FORMAT_CSV},
        {"text/*, text/csv;q=0", FORMAT_HTML},
        {"*/*;q=0.1, text/html", FORMAT_HTML},
        {"text/html; charset=utf-8; q=0.7, application/json ; q=0.6", FORMAT_HTML},
        {"application/json;q=1.000", FORMAT_JSON},
        {"application/xml", -1},
        {"image/*", -1},
        {"application/json;q=0", -1},
        {"application/json;q=2, text/html;q=0.001", FORMAT_HTML},
        {"application/json;q=0.5555", -1},
        {"garbage", -1},
        {"text/, /csv, /", -1},
        {",,,", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = negotiate_format(offered, 3, NULL, cases[i].accept);
        if (got != cases[i].want)
            fail_msg("Accept '%s': got %d, want %d", cases[i].accept ? cases[i].accept : "(none)",
                     got, cases[i].want);
    }
    /* Equal values: the route's order decides. */
    uint8_t html_first[] = {FORMAT_HTML, FORMAT_CSV};
    assert_int_equal(negotiate_format(html_first, 2, NULL, "text/csv, text/html"), FORMAT_HTML);
}

static void test_if_none_match_tags(void **state)
{
    (void)state;
    negotiate_tags_t t;
    assert_int_equal(negotiate_if_none_match("\"abc\"", &t), 0);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.tags[0], "abc");
    negotiate_tags_clear(&t);
    assert_int_equal(negotiate_if_none_match(" W/\"a\" ,\"b!#~\",, \"\"", &t), 0);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.tags[0], "a");
    assert_string_equal(t.tags[1], "b!#~");
    assert_string_equal(t.tags[2], "");
    negotiate_tags_clear(&t);
    assert_int_equal(t.n, 0);
    assert_int_equal(negotiate_if_none_match(" * ", &t), 0);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.tags[0], "*");
    negotiate_tags_clear(&t);
}

static void test_malformed_if_none_match_is_refused(void **state)
{
    (void)state;
    char many[2048] = "", longest[200];
    for (int i = 0; i <= NEGOTIATE_MAX_TAGS; i++)
        strcat(many, "\"x\",");
    snprintf(longest, sizeof longest, "\"%0*d\"", NEGOTIATE_MAX_TAG_LEN + 1, 0);
    const char *bad[] = {"",          "abc",     "\"abc",  "\"a\" \"b\"",     "w/\"a\"",
                         "* , \"a\"", "\"a b\"", "\"a\"x", "\"caf\xc3\xa9\"", many,
                         longest,     ","};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        negotiate_tags_t t;
        if (negotiate_if_none_match(bad[i], &t) != -1)
            fail_msg("'%.60s' was accepted", bad[i]);
        assert_int_equal(t.n, 0);
    }
    /* At the limits: accepted. */
    many[strlen(many) - 4] = '\0';
    negotiate_tags_t t;
    assert_int_equal(negotiate_if_none_match(many, &t), 0);
    assert_int_equal(t.n, NEGOTIATE_MAX_TAGS);
    negotiate_tags_clear(&t);
    snprintf(longest, sizeof longest, "\"%0*d\"", NEGOTIATE_MAX_TAG_LEN, 0);
    assert_int_equal(negotiate_if_none_match(longest, &t), 0);
    negotiate_tags_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_table),
        cmocka_unit_test(test_format_lists),
        cmocka_unit_test(test_query_format_wins_and_must_be_offered),
        cmocka_unit_test(test_accept_picks_the_most_valued_format),
        cmocka_unit_test(test_if_none_match_tags),
        cmocka_unit_test(test_malformed_if_none_match_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
