/* date: "YYYY-MM-DD" calendar dates (see date.h). */
#include "date.h"

#include <time.h>

int date_valid(const char *s)
{
    int y, m, d;
    return clock_parse_date(s, &y, &m, &d) == 0;
}

int64_t date_days(const char *s)
{
    struct tm tm = {0};
    if (clock_parse_date(s, &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 0)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) / 86400;
}

int date_add_days(const char *s, int64_t days, char out[CLOCK_DATE_LEN])
{
    if (!date_valid(s))
        return -1;
    time_t t = (time_t)((date_days(s) + days) * 86400);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < CLOCK_MIN_YEAR ||
        tm.tm_year + 1900 > CLOCK_MAX_YEAR)
        return -1;
    if (strftime(out, CLOCK_DATE_LEN, "%Y-%m-%d", &tm) == 0)
        return -1;
    return 0;
}
