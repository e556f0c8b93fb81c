/* clock: business time and Montréal's calendar.
 *
 * Business time is what decisions, default dates, due dates and durable
 * timers go by. It is the real time, unless CONCERTO_CLOCK_START made it
 * start at another instant (tests, demonstrations); from there it runs on
 * at the real clock's pace. Heartbeats, deadlines, replay timing, logs and
 * envelope timestamps use the real clocks, never this one.
 *
 * "Today" is Montréal's calendar date (America/Toronto, read from the
 * tzdata files by the C library), never UTC's. clock_init sets the
 * process's TZ to that zone; the runtime calls it once at start. One
 * daemon, one thread: none of this is thread-safe. */
#ifndef CONCERTO_CLOCK_H
#define CONCERTO_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Montréal's zone; America/Montreal is an alias of it. */
#define CLOCK_ZONE "America/Toronto"
/* "YYYY-MM-DD" and its NUL. */
#define CLOCK_DATE_LEN 11
/* Calendar dates are read between these years, inclusive. */
#define CLOCK_MIN_YEAR 1800
#define CLOCK_MAX_YEAR 2199

/* Loads `zone` (CLOCK_ZONE in daemons) and, when `start` is neither NULL
 * nor empty, makes business time start at that ISO 8601 instant. Returns
 * 0, or -1 with a message in `err`: a zone the system cannot load (no
 * tzdata) or a start that is not an instant. On failure nothing changes. */
int clock_init(const char *zone, const char *start, char *err, size_t errlen);

/* Business time now, Unix milliseconds. */
int64_t clock_now_ms(void);

/* Montréal's date at the instant `ms` (Unix milliseconds). */
void clock_date_of(int64_t ms, char out[CLOCK_DATE_LEN]);
/* Montréal's date now, in business time. */
void clock_today(char out[CLOCK_DATE_LEN]);
/* The instant Montréal's day `date` begins (local midnight), for due
 * dates. Returns 0, or -1 when `date` is not a date clock_parse_date
 * accepts. */
int clock_day_start_ms(const char *date, int64_t *ms);

/* "YYYY-MM-DD", a real calendar date with the year in [CLOCK_MIN_YEAR,
 * CLOCK_MAX_YEAR]. Returns 0 and the parts, or -1. */
int clock_parse_date(const char *s, int *year, int *month, int *day);

/* An ISO 8601 instant with its zone: "2026-11-26T03:30:00Z",
 * "2026-11-25T22:30:00-05:00", optionally with a fraction of a second
 * ("...:00.250Z"), in 1970 to CLOCK_MAX_YEAR. Returns 0 and the Unix
 * milliseconds, or -1 with a message in `err` saying what is wrong. */
int clock_parse_instant(const char *s, int64_t *ms, char *err, size_t errlen);

#endif
