/* date: "YYYY-MM-DD" calendar dates (see date.h). */
#include "date.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

static int date_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_parse(const char *s, int *year, int *month, int *day)
{
    if (strlen(s) != DATE_LEN || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < DATE_LEN; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < DATE_MIN_YEAR || y > DATE_MAX_YEAR || m < 1 || m > 12 || d < 1)
        return -1;
    if (d > days[m - 1] + (m == 2 && date_leap(y)))
        return -1;
    *year = y;
    *month = m;
    *day = d;
    return 0;
}

int date_valid(const char *s)
{
    int y, m, d;
    return date_parse(s, &y, &m, &d) == 0;
}

/* Howard Hinnant's days_from_civil. */
int64_t date_days(const char *s)
{
    int y, m, d;
    if (date_parse(s, &y, &m, &d) != 0)
        return 0;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void date_from_ms(int64_t ms, char out[DATE_LEN + 1])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, DATE_LEN + 1, "%Y-%m-%d", &tm);
}
