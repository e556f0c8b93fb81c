/* Business clock and Montréal's calendar: dates on both sides of midnight
 * UTC and across the daylight-saving changes, local midnights, and what
 * CONCERTO_CLOCK_START accepts and refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static int64_t instant(const char *iso)
{
    char err[256];
    int64_t ms = -1;
    assert_int_equal(clock_parse_instant(iso, &ms, err, sizeof err), 0);
    return ms;
}

static void assert_date_at(const char *iso, const char *date)
{
    char out[CLOCK_DATE_LEN];
    clock_date_of(instant(iso), out);
    assert_string_equal(out, date);
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(clock_init(CLOCK_ZONE, NULL, err, sizeof err), 0);
    return 0;
}

static void test_date_is_montreal_not_utc_around_midnight_utc(void **state)
{
    (void)state;
    /* 22:30 in Montréal (EST, UTC-5) is already the next day in UTC. */
    assert_date_at("2026-11-26T03:30:00Z", "2026-11-25");
    assert_date_at("2026-11-26T04:59:59Z", "2026-11-25");
    assert_date_at("2026-11-26T05:00:00Z", "2026-11-26");
    assert_date_at("2026-11-25T23:59:59Z", "2026-11-25");
    /* In summer (EDT, UTC-4) the day turns an hour earlier in UTC. */
    assert_date_at("2026-07-01T03:59:59Z", "2026-06-30");
    assert_date_at("2026-07-01T04:00:00Z", "2026-07-01");
    /* New year: still the old year in Montréal. */
    assert_date_at("2027-01-01T02:00:00Z", "2026-12-31");
}

static void test_date_follows_the_march_change(void **state)
{
    (void)state;
    /* 2026-03-08: clocks go from 02:00 EST to 03:00 EDT (07:00Z). */
    assert_date_at("2026-03-08T04:59:59Z", "2026-03-07");
    assert_date_at("2026-03-08T05:00:00Z", "2026-03-08");
    /* Under EDT, 04:30Z is 00:30 the next day; under EST it would be
     * 23:30 the day before. */
    assert_date_at("2026-03-09T03:59:59Z", "2026-03-08");
    assert_date_at("2026-03-09T04:30:00Z", "2026-03-09");
}

static void test_date_follows_the_november_change(void **state)
{
    (void)state;
    /* 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST (06:00Z). */
    assert_date_at("2026-11-01T03:59:59Z", "2026-10-31");
    assert_date_at("2026-11-01T04:30:00Z", "2026-11-01");
    assert_date_at("2026-11-02T04:30:00Z", "2026-11-01");
    assert_date_at("2026-11-02T05:00:00Z", "2026-11-02");
}

static void test_day_start_is_local_midnight_on_each_side_of_the_changes(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(clock_day_start_ms("2026-03-08", &ms), 0);
    assert_int_equal(ms, instant("2026-03-08T05:00:00Z"));
    assert_int_equal(clock_day_start_ms("2026-03-09", &ms), 0);
    assert_int_equal(ms, instant("2026-03-09T04:00:00Z"));
    /* The day of the March change lasts 23 hours, November's 25. */
    assert_int_equal(instant("2026-03-09T04:00:00Z") - instant("2026-03-08T05:00:00Z"),
                     23 * 3600 * 1000LL);
    assert_int_equal(clock_day_start_ms("2026-11-01", &ms), 0);
    assert_int_equal(ms, instant("2026-11-01T04:00:00Z"));
    assert_int_equal(clock_day_start_ms("2026-11-02", &ms), 0);
    assert_int_equal(ms, instant("2026-11-02T05:00:00Z"));
    assert_int_equal(clock_day_start_ms("2026-02-30", &ms), -1);
}

static void test_instants_with_zone_offset_and_fraction_are_read(void **state)
{
    (void)state;
    int64_t z = instant("2026-11-26T03:30:00Z");
    assert_int_equal(z, 1795663800000LL);
    assert_int_equal(instant("2026-11-25T22:30:00-05:00"), z);
    assert_int_equal(instant("2026-11-25T22:30:00-0500"), z);
    assert_int_equal(instant("2026-11-26T05:30:00+02:00"), z);
    assert_int_equal(instant("2026-11-26T03:30:00.25Z"), z + 250);
    assert_int_equal(instant("2026-11-26T03:30:00.123456789Z"), z + 123);
    assert_int_equal(instant("1970-01-01T00:00:00Z"), 0);
}

static void assert_refused(const char *s, const char *says)
{
    char err[256] = "";
    int64_t ms = 42;
    assert_int_equal(clock_parse_instant(s, &ms, err, sizeof err), -1);
    assert_int_equal(ms, 42);
    if (!strstr(err, says))
        fail_msg("'%s': expected a message with '%s', got '%s'", s, says, err);
}

static void test_bad_instants_are_refused_with_a_reason(void **state)
{
    (void)state;
    assert_refused("", "is not an ISO 8601 instant such as 2026-11-26T03:30:00Z");
    assert_refused("yesterday", "is not an ISO 8601 instant");
    assert_refused("2026-11-26", "is not an ISO 8601 instant");
    assert_refused("2026-1-2T03:04:05Z", "is not an ISO 8601 instant");
    assert_refused(" 2026-11-26T03:30:00Z", "is not an ISO 8601 instant");
    assert_refused("2026-11-26 03:30:00Z", "is not an ISO 8601 instant");
    assert_refused("2026-11-26T03:30:00", "has no zone: end it with Z or an offset");
    assert_refused("2026-11-26T03:30:00Zjunk", "is not a zone");
    assert_refused("2026-11-26T03:30:00EST", "is not a zone");
    assert_refused("2026-02-29T00:00:00Z", "is not a real date and time");
    assert_refused("2026-11-26T24:00:00Z", "is not an ISO 8601 instant");
    assert_refused("2026-11-26T03:30:60Z", "is not a real date and time");
    assert_refused("2026-11-26T03:30:00.Z", "fraction of a second has 1 to 9 digits");
    assert_refused("2026-11-26T03:30:00.1234567890Z", "fraction of a second");
    assert_refused("1969-12-31T23:59:59Z", "outside 1970 to 2199");
    assert_refused("2200-01-01T00:00:00Z", "outside 1970 to 2199");
    char long_text[300];
    memset(long_text, '9', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    assert_refused(long_text, "is not an ISO 8601 instant");
}

static void test_leap_day_is_a_date(void **state)
{
    (void)state;
    int y = 0, m = 0, d = 0;
    assert_int_equal(clock_parse_date("2028-02-29", &y, &m, &d), 0);
    assert_int_equal(y * 10000 + m * 100 + d, 20280229);
    assert_int_equal(clock_parse_date("2026-02-29", &y, &m, &d), -1);
    assert_int_equal(clock_parse_date("2026-13-01", &y, &m, &d), -1);
    assert_int_equal(clock_parse_date("2026-4-01", &y, &m, &d), -1);
    assert_int_equal(clock_parse_date("2026-04-01x", &y, &m, &d), -1);
    assert_int_equal(clock_parse_date("1799-12-31", &y, &m, &d), -1);
}

static void test_start_sets_business_time_which_runs_on(void **state)
{
    (void)state;
    char err[256];
    int64_t start = instant("2026-11-26T03:30:00Z");
    assert_int_equal(clock_init(CLOCK_ZONE, "2026-11-26T03:30:00Z", err, sizeof err), 0);
    int64_t first = clock_now_ms();
    assert_true(first >= start && first < start + 60 * 1000);
    char today[CLOCK_DATE_LEN];
    clock_today(today);
    assert_string_equal(today, "2026-11-25");
    struct timespec pause = {0, 30 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_true(clock_now_ms() >= first + 30);
    /* No start: the real time again. */
    assert_int_equal(clock_init(CLOCK_ZONE, "", err, sizeof err), 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t real = (int64_t)ts.tv_sec * 1000;
    assert_true(clock_now_ms() >= real && clock_now_ms() < real + 60 * 1000);
}

static void test_bad_start_changes_nothing(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(clock_init(CLOCK_ZONE, "2030-01-01T00:00:00Z", err, sizeof err), 0);
    assert_int_equal(clock_init(CLOCK_ZONE, "2026-11-26", err, sizeof err), -1);
    assert_non_null(strstr(err, "'2026-11-26' is not an ISO 8601 instant"));
    assert_true(clock_now_ms() >= instant("2030-01-01T00:00:00Z"));
    assert_int_equal(clock_init(CLOCK_ZONE, NULL, err, sizeof err), 0);
}

static void test_missing_zone_is_an_error_not_utc(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(clock_init("America/Nowhere", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot load the time zone America/Nowhere"));
    assert_non_null(strstr(err, "tzdata"));
    setenv("TZDIR", "/nonexistent", 1);
    assert_int_equal(clock_init(CLOCK_ZONE, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/America/Toronto"));
    unsetenv("TZDIR");
    /* The zone loaded before is still in force. */
    assert_date_at("2026-11-26T03:30:00Z", "2026-11-25");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_is_montreal_not_utc_around_midnight_utc),
        cmocka_unit_test(test_date_follows_the_march_change),
        cmocka_unit_test(test_date_follows_the_november_change),
        cmocka_unit_test(test_day_start_is_local_midnight_on_each_side_of_the_changes),
        cmocka_unit_test(test_instants_with_zone_offset_and_fraction_are_read),
        cmocka_unit_test(test_bad_instants_are_refused_with_a_reason),
        cmocka_unit_test(test_leap_day_is_a_date),
        cmocka_unit_test(test_start_sets_business_time_which_runs_on),
        cmocka_unit_test(test_bad_start_changes_nothing),
        cmocka_unit_test(test_missing_zone_is_an_error_not_utc),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
