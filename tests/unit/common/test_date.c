/* date: "YYYY-MM-DD" calendar dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "date.h"

static void test_date_accepts_real_calendar_dates(void **state)
{
    (void)state;
    assert_true(date_valid("2024-02-29"));
    assert_true(date_valid("2000-02-29"));
    assert_true(date_valid("1991-04-04"));
    assert_true(date_valid("1800-01-01"));
    assert_true(date_valid("2199-12-31"));
}

static void test_date_rejects_impossible_or_malformed_dates(void **state)
{
    (void)state;
    assert_false(date_valid("2023-02-29"));
    assert_false(date_valid("1900-02-29"));
    assert_false(date_valid("2024-04-31"));
    assert_false(date_valid("2024-13-01"));
    assert_false(date_valid("2024-00-10"));
    assert_false(date_valid("2024-01-00"));
    assert_false(date_valid("2024-1-01"));
    assert_false(date_valid("2024/01/01"));
    assert_false(date_valid("1799-12-31"));
    assert_false(date_valid("2200-01-01"));
    assert_false(date_valid("2024-01-01T00:00"));
}

static void test_date_days_counts_from_epoch(void **state)
{
    (void)state;
    assert_int_equal(date_days("1970-01-01"), 0);
    assert_int_equal(date_days("2000-03-01"), 11017);
    assert_int_equal(date_days("2025-01-01") - date_days("2024-01-01"), 366);
}

static void test_date_add_days_crosses_months_years_and_leap_days(void **state)
{
    (void)state;
    char out[CLOCK_DATE_LEN];
    assert_int_equal(date_add_days("2024-02-28", 1, out), 0);
    assert_string_equal(out, "2024-02-29");
    assert_int_equal(date_add_days("2025-03-31", 366, out), 0);
    assert_string_equal(out, "2026-04-01");
    assert_int_equal(date_add_days("2026-01-01", -1, out), 0);
    assert_string_equal(out, "2025-12-31");
    assert_int_equal(date_add_days("1969-12-31", 0, out), 0);
    assert_string_equal(out, "1969-12-31");
    assert_int_equal(date_add_days("2199-12-31", 1, out), -1);
    assert_int_equal(date_add_days("1800-01-01", -1, out), -1);
    assert_int_equal(date_add_days("2024-02-30", 1, out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_accepts_real_calendar_dates),
        cmocka_unit_test(test_date_rejects_impossible_or_malformed_dates),
        cmocka_unit_test(test_date_days_counts_from_epoch),
        cmocka_unit_test(test_date_add_days_crosses_months_years_and_leap_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
