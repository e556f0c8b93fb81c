/* date: calendar dates as "YYYY-MM-DD" text, the form they have on the
 * wire and in storage (it sorts as text). Reading them is clock.h's
 * (clock_parse_date); this adds what handlers ask of them. */
#ifndef CONCERTO_DATE_H
#define CONCERTO_DATE_H

#include <stdint.h>

#include "clock.h"

/* 1 for a real calendar date clock_parse_date accepts. */
int date_valid(const char *s);
/* Days since 1970-01-01 of a date that date_valid accepts (0 otherwise). */
int64_t date_days(const char *s);
/* The date `days` after `s` (before, when negative), for a date that
 * date_valid accepts. Returns 0, or -1 when `s` is not one or the result
 * leaves [CLOCK_MIN_YEAR, CLOCK_MAX_YEAR]. */
int date_add_days(const char *s, int64_t days, char out[CLOCK_DATE_LEN]);

#endif
