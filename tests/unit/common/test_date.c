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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_accepts_real_calendar_dates),
        cmocka_unit_test(test_date_rejects_impossible_or_malformed_dates),
        cmocka_unit_test(test_date_days_counts_from_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
