/* Fiscal years: which one a date falls in, their bounds, and labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fiscal_year.h"

static int reset(void **state)
{
    (void)state;
    assert_int_equal(fiscal_year_set_start_month(FISCAL_YEAR_DEFAULT_START_MONTH), 0);
    return 0;
}

static int of(const char *date)
{
    int first = -1;
    assert_int_equal(fiscal_year_of(date, &first), 0);
    return first;
}

static void test_april_start_splits_the_calendar_year(void **state)
{
    (void)state;
    assert_int_equal(fiscal_year_start_month(), 4);
    assert_int_equal(of("2026-03-31"), 2025);
    assert_int_equal(of("2026-04-01"), 2026);
    assert_int_equal(of("2026-12-31"), 2026);
    assert_int_equal(of("2027-01-01"), 2026);
    int first = 7;
    assert_int_equal(fiscal_year_of("2026-02-30", &first), -1);
    assert_int_equal(fiscal_year_of("2026", &first), -1);
    assert_int_equal(first, 7);
}

static void test_bounds_of_a_fiscal_year(void **state)
{
    (void)state;
    char first[CLOCK_DATE_LEN], last[CLOCK_DATE_LEN];
    fiscal_year_first_day(2025, first);
    fiscal_year_last_day(2025, last);
    assert_string_equal(first, "2025-04-01");
    assert_string_equal(last, "2026-03-31");
}

static void test_another_start_month_moves_the_bounds(void **state)
{
    (void)state;
    assert_int_equal(fiscal_year_set_start_month(3), 0);
    char last[CLOCK_DATE_LEN];
    /* Ends on February 29 in a leap year, 28 otherwise. */
    fiscal_year_last_day(2027, last);
    assert_string_equal(last, "2028-02-29");
    fiscal_year_last_day(2025, last);
    assert_string_equal(last, "2026-02-28");
    assert_int_equal(fiscal_year_set_start_month(12), 0);
    assert_int_equal(of("2026-11-30"), 2025);
    assert_int_equal(of("2026-12-01"), 2026);
    fiscal_year_last_day(2026, last);
    assert_string_equal(last, "2027-11-30");
}

static void test_start_month_outside_february_to_december_is_refused(void **state)
{
    (void)state;
    assert_int_equal(fiscal_year_set_start_month(1), -1);
    assert_int_equal(fiscal_year_set_start_month(13), -1);
    assert_int_equal(fiscal_year_set_start_month(0), -1);
    assert_int_equal(fiscal_year_start_month(), 4);
}

static void test_label_round_trips(void **state)
{
    (void)state;
    char label[FISCAL_YEAR_LABEL_LEN], err[128];
    fiscal_year_label(2025, label);
    assert_string_equal(label, "2025-2026");
    int first = 0;
    assert_int_equal(fiscal_year_parse(label, &first, err, sizeof err), 0);
    assert_int_equal(first, 2025);
}

static void assert_label_refused(const char *label, const char *says)
{
    char err[128] = "";
    int first = 42;
    assert_int_equal(fiscal_year_parse(label, &first, err, sizeof err), -1);
    assert_int_equal(first, 42);
    if (!strstr(err, says))
        fail_msg("'%s': expected a message with '%s', got '%s'", label, says, err);
}

static void test_bad_labels_get_a_clear_error(void **state)
{
    (void)state;
    assert_label_refused("2025-2027",
                         "'2025-2027' must name two consecutive years, like 2025-2026");
    assert_label_refused("2026-2025", "must name two consecutive years");
    assert_label_refused("2025", "'2025' is not a fiscal year: expected two years, like 2025-2026");
    assert_label_refused("", "is not a fiscal year");
    assert_label_refused("2025-26", "is not a fiscal year");
    assert_label_refused("2025/2026", "is not a fiscal year");
    assert_label_refused("2025-2026 ", "is not a fiscal year");
    assert_label_refused("+025-2026", "is not a fiscal year");
    assert_label_refused("1799-1800", "must start between 1800 and 2198");
    assert_label_refused("2199-2200", "must start between 1800 and 2198");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_april_start_splits_the_calendar_year, reset),
        cmocka_unit_test_setup(test_bounds_of_a_fiscal_year, reset),
        cmocka_unit_test_setup(test_another_start_month_moves_the_bounds, reset),
        cmocka_unit_test_setup(test_start_month_outside_february_to_december_is_refused, reset),
        cmocka_unit_test_setup(test_label_round_trips, reset),
        cmocka_unit_test_setup(test_bad_labels_get_a_clear_error, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
