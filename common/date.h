/* date: calendar dates as "YYYY-MM-DD" text, the form they have on the
 * wire and in storage (it sorts as text). Pure functions. */
#ifndef CONCERTO_DATE_H
#define CONCERTO_DATE_H

#include <stdint.h>

#define DATE_MIN_YEAR 1800
#define DATE_MAX_YEAR 2199
#define DATE_LEN 10 /* "YYYY-MM-DD" */

/* A real calendar date with the year in [DATE_MIN_YEAR, DATE_MAX_YEAR].
 * Returns 0 and the parts, or -1. */
int date_parse(const char *s, int *year, int *month, int *day);
int date_valid(const char *s);
/* Days since 1970-01-01 of a date that date_valid accepts (0 otherwise). */
int64_t date_days(const char *s);
/* The UTC date of a Unix millisecond instant. */
void date_from_ms(int64_t ms, char out[DATE_LEN + 1]);

#endif
