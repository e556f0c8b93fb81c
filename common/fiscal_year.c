/* fiscal_year: the fiscal year's setting, label and bounds (see
 * fiscal_year.h). */
#include "fiscal_year.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int fiscal_start_month = FISCAL_YEAR_DEFAULT_START_MONTH;

int fiscal_year_set_start_month(int month)
{
    if (month < 2 || month > 12)
        return -1;
    fiscal_start_month = month;
    return 0;
}

int fiscal_year_start_month(void)
{
    return fiscal_start_month;
}

int fiscal_year_of(const char *date, int *first_year)
{
    int y, m, d;
    if (clock_parse_date(date, &y, &m, &d) != 0)
        return -1;
    *first_year = m >= fiscal_start_month ? y : y - 1;
    return 0;
}

void fiscal_year_label(int first_year, char out[FISCAL_YEAR_LABEL_LEN])
{
    assert(first_year >= CLOCK_MIN_YEAR && first_year < CLOCK_MAX_YEAR);
    /* The modulo tells the compiler each year is four digits. */
    snprintf(out, FISCAL_YEAR_LABEL_LEN, "%04u-%04u", (unsigned)first_year % 10000u,
             (unsigned)(first_year + 1) % 10000u);
}

/* The four-digit year at `s`, or -1. */
static int fiscal_year_digits(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int fiscal_year_parse(const char *label, int *first_year, char *err, size_t errlen)
{
    int first = -1, second = -1;
    if (strlen(label) == 9 && label[4] == '-') {
        first = fiscal_year_digits(label);
        second = fiscal_year_digits(label + 5);
    }
    if (first < 0 || second < 0) {
        snprintf(err, errlen, "'%.20s' is not a fiscal year: expected two years, like 2025-2026",
                 label);
        return -1;
    }
    if (second != first + 1) {
        snprintf(err, errlen, "'%s' must name two consecutive years, like 2025-2026", label);
        return -1;
    }
    if (first < CLOCK_MIN_YEAR || first > CLOCK_MAX_YEAR - 1) {
        snprintf(err, errlen, "'%s' must start between %d and %d", label, CLOCK_MIN_YEAR,
                 CLOCK_MAX_YEAR - 1);
        return -1;
    }
    *first_year = first;
    return 0;
}

void fiscal_year_first_day(int first_year, char out[CLOCK_DATE_LEN])
{
    assert(first_year >= CLOCK_MIN_YEAR && first_year < CLOCK_MAX_YEAR);
    snprintf(out, CLOCK_DATE_LEN, "%04u-%02u-01", (unsigned)first_year % 10000u,
             (unsigned)fiscal_start_month % 100u);
}

void fiscal_year_last_day(int first_year, char out[CLOCK_DATE_LEN])
{
    /* Day 0 of the start month, a year on: timegm carries it back to the
     * last day of the month before, leap years included. */
    struct tm tm = {.tm_year = first_year + 1 - 1900, .tm_mon = fiscal_start_month - 1};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(out, CLOCK_DATE_LEN, "%Y-%m-%d", &tm);
}
