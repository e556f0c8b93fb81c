/* clock: business time and Montréal's calendar (see clock.h). Parsing,
 * calendar arithmetic and the zone's rules are the C library's (strptime,
 * timegm, localtime_r, mktime); this file only checks shapes and ranges. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Business time is real time plus this offset: zero unless a start was
 * set. */
static int64_t clock_offset_ms;

#define CLOCK_MAX_INSTANT_LEN 40

static int64_t clock_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when `s` starts with `pattern`, where 'd' stands for a digit and any
 * other character for itself: strptime alone takes "2026-1-2" and leading
 * spaces. */
static int clock_has_shape(const char *s, const char *pattern)
{
    for (; *pattern; pattern++, s++) {
        if (*pattern == 'd' ? !isdigit((unsigned char)*s) : *s != *pattern)
            return 0;
    }
    return 1;
}

/* 1 when the broken-down UTC time names a real instant: strptime takes
 * February 31 and second 60, which timegm would carry into the next
 * field. */
static int clock_is_real(const struct tm *tm)
{
    struct tm copy = *tm, back;
    time_t t = timegm(&copy);
    if (!gmtime_r(&t, &back))
        return 0;
    return back.tm_year == tm->tm_year && back.tm_mon == tm->tm_mon &&
           back.tm_mday == tm->tm_mday && back.tm_hour == tm->tm_hour &&
           back.tm_min == tm->tm_min && back.tm_sec == tm->tm_sec;
}

/* The C library silently falls back to UTC when it cannot read a zone, so
 * the zone's file is checked first, where the C library looks for it. */
static int clock_zone_readable(const char *zone, char *err, size_t errlen)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    if (n == sizeof magic && memcmp(magic, "TZif", 4) == 0)
        return 0;
    snprintf(err, errlen, "cannot load the time zone %s from %s (is the tzdata package installed?)",
             zone, path);
    return -1;
}

int clock_init(const char *zone, const char *start, char *err, size_t errlen)
{
    int64_t start_ms = 0;
    if (clock_zone_readable(zone, err, errlen) != 0)
        return -1;
    if (start && *start && clock_parse_instant(start, &start_ms, err, errlen) != 0)
        return -1;
    setenv("TZ", zone, 1);
    tzset();
    clock_offset_ms = start && *start ? start_ms - clock_real_ms() : 0;
    return 0;
}

int64_t clock_now_ms(void)
{
    return clock_real_ms() + clock_offset_ms;
}

void clock_date_of(int64_t ms, char out[CLOCK_DATE_LEN])
{
    /* Floor, so that an instant before 1970 is on its own day. */
    time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(out, CLOCK_DATE_LEN, "%Y-%m-%d", &tm) == 0)
        out[0] = '\0';
}

void clock_today(char out[CLOCK_DATE_LEN])
{
    clock_date_of(clock_now_ms(), out);
}

int clock_day_start_ms(const char *date, int64_t *ms)
{
    int y, m, d;
    if (clock_parse_date(date, &y, &m, &d) != 0)
        return -1;
    /* Montréal changes its clocks at 02:00, so midnight always exists. */
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}

int clock_parse_date(const char *s, int *year, int *month, int *day)
{
    struct tm tm = {0};
    if (strlen(s) != 10 || !clock_has_shape(s, "dddd-dd-dd") || !strptime(s, "%Y-%m-%d", &tm) ||
        !clock_is_real(&tm))
        return -1;
    int y = tm.tm_year + 1900;
    if (y < CLOCK_MIN_YEAR || y > CLOCK_MAX_YEAR)
        return -1;
    *year = y;
    *month = tm.tm_mon + 1;
    *day = tm.tm_mday;
    return 0;
}

/* Milliseconds of an optional ".fraction" (1 to 9 digits); moves *rest
 * past it. Returns -1 when the dot has no digits or too many. */
static int64_t clock_fraction_ms(const char **rest)
{
    if (**rest != '.')
        return 0;
    size_t n = strspn(*rest + 1, "0123456789");
    if (n == 0 || n > 9)
        return -1;
    char digits[4] = "000";
    memcpy(digits, *rest + 1, n < 3 ? n : 3);
    *rest += 1 + n;
    return strtol(digits, NULL, 10);
}

int clock_parse_instant(const char *s, int64_t *ms, char *err, size_t errlen)
{
    static const char example[] = "such as 2026-11-26T03:30:00Z or 2026-11-25T22:30:00-05:00";
    struct tm tm = {0}, zone = {0};
    const char *rest = NULL;
    if (strlen(s) > CLOCK_MAX_INSTANT_LEN || !clock_has_shape(s, "dddd-dd-ddTdd:dd:dd") ||
        !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))) {
        snprintf(err, errlen, "'%.*s' is not an ISO 8601 instant %s", CLOCK_MAX_INSTANT_LEN, s,
                 example);
        return -1;
    }
    if (!clock_is_real(&tm)) {
        snprintf(err, errlen, "'%s' is not a real date and time", s);
        return -1;
    }
    int64_t frac = clock_fraction_ms(&rest);
    if (frac < 0) {
        snprintf(err, errlen, "'%s': a fraction of a second has 1 to 9 digits", s);
        return -1;
    }
    if (!*rest) {
        snprintf(err, errlen, "'%s' has no zone: end it with Z or an offset %s", s, example);
        return -1;
    }
    const char *end = strptime(rest, "%z", &zone);
    if (!end || *end) {
        snprintf(err, errlen, "'%s': '%s' is not a zone (Z, or an offset such as -05:00)", s, rest);
        return -1;
    }
    int64_t v = ((int64_t)timegm(&tm) - zone.tm_gmtoff) * 1000 + frac;
    if (tm.tm_year + 1900 > CLOCK_MAX_YEAR || v < 0) {
        snprintf(err, errlen, "'%s' is outside 1970 to %d", s, CLOCK_MAX_YEAR);
        return -1;
    }
    *ms = v;
    return 0;
}
