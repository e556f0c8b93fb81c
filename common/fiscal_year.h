/* fiscal_year: the one definition of a fiscal year every daemon and route
 * uses.
 *
 * A fiscal year starts on the first day of one month
 * (CONCERTO_FISCAL_YEAR_START_MONTH, April by default, as Québec's and
 * Centraide's do) and ends the day before that date a year later. It is
 * named by its two calendar years: "2025-2026" runs from 2025-04-01 to
 * 2026-03-31. A year that starts in January would be a calendar year and
 * could not be named so; the start month is therefore 2 to 12. Functions
 * take and give a fiscal year as its first calendar year (2025). */
#ifndef CONCERTO_FISCAL_YEAR_H
#define CONCERTO_FISCAL_YEAR_H

#include <stddef.h>

#include "clock.h"

/* "2025-2026" and its NUL. */
#define FISCAL_YEAR_LABEL_LEN 10
#define FISCAL_YEAR_DEFAULT_START_MONTH 4

/* Sets the first month (2 to 12); returns 0, or -1 and changes nothing. */
int fiscal_year_set_start_month(int month);
int fiscal_year_start_month(void);

/* The fiscal year `date` ("YYYY-MM-DD", see clock_parse_date) falls in.
 * Returns 0 and its first year, or -1 when `date` is not a date. */
int fiscal_year_of(const char *date, int *first_year);

/* "2025-2026" for 2025. Years outside [CLOCK_MIN_YEAR, CLOCK_MAX_YEAR - 1]
 * are a programmer error, here and below: take them from fiscal_year_of or
 * fiscal_year_parse. */
void fiscal_year_label(int first_year, char out[FISCAL_YEAR_LABEL_LEN]);
/* Reads a label: two consecutive years, "YYYY-YYYY", the first in
 * [CLOCK_MIN_YEAR, CLOCK_MAX_YEAR - 1]. Returns 0 and the first year, or -1
 * with a message for the caller's answer in `err` ("2025-2027": "must name
 * two consecutive years, like 2025-2026"). */
int fiscal_year_parse(const char *label, int *first_year, char *err, size_t errlen);

/* Its first and last days, "YYYY-MM-DD". */
void fiscal_year_first_day(int first_year, char out[CLOCK_DATE_LEN]);
void fiscal_year_last_day(int first_year, char out[CLOCK_DATE_LEN]);

#endif
