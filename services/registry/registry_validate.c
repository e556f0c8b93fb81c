/* registry_validate: shape rules for registry input (see registry_validate.h). */
#include "registry_validate.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

#include "xalloc.h"

const char *const registry_territory_kinds[] = {"borough", "neighbourhood", "municipality",
                                                "sector", NULL};
const char *const registry_sectors[] = {"community",
                                        "health_social_services",
                                        "education",
                                        "municipal",
                                        "housing",
                                        "employment_economy",
                                        "culture_leisure",
                                        "security",
                                        "environment",
                                        "citizens",
                                        "philanthropy",
                                        "other",
                                        NULL};
const char *const registry_networks[] = {
    "community", "public_institution", "municipal", "private", "philanthropic", "citizen", NULL};
const char *const registry_roles[] = {"member", "board", "observer", NULL};
const char *const registry_statuses[] = {"requested", "under_review", "recognized", "refused",
                                         "suspended", "withdrawn",    NULL};

registry_text_problem_t registry_check_text(const char *s, size_t max_chars, int multiline)
{
    size_t len = strlen(s), chars = 0;
    int blank = 1;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0)
            return REGISTRY_TEXT_BAD_UTF8;
        i += (size_t)k;
        chars++;
        int space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0;
        if (!space)
            blank = 0;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat == UTF8PROC_CATEGORY_CC && !(multiline && (cp == '\n' || cp == '\t' || cp == '\r')))
            return REGISTRY_TEXT_CONTROL;
    }
    if (blank)
        return REGISTRY_TEXT_BLANK;
    if (chars > max_chars)
        return REGISTRY_TEXT_TOO_LONG;
    return REGISTRY_TEXT_OK;
}

const char *registry_text_problem_text(registry_text_problem_t p)
{
    switch (p) {
    case REGISTRY_TEXT_OK:
        return "ok";
    case REGISTRY_TEXT_BAD_UTF8:
        return "must be valid UTF-8";
    case REGISTRY_TEXT_CONTROL:
        return "must not contain control characters";
    case REGISTRY_TEXT_TOO_LONG:
        return "is too long";
    case REGISTRY_TEXT_BLANK:
        return "must not be blank";
    }
    return "is invalid";
}

static int registry_is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int registry_valid_slug(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!registry_is_lower_alnum(s[i]) && s[i] != '-')
            return 0;
    return registry_is_lower_alnum(s[0]) && registry_is_lower_alnum(s[n - 1]);
}

static int registry_email_local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static int registry_valid_domain(const char *d)
{
    size_t labels = 0;
    const char *p = d, *last = d;
    while (1) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n < 1 || n > 63 || p[0] == '-' || p[n - 1] == '-')
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)p[i]) && p[i] != '-')
                return 0;
        labels++;
        last = p;
        if (!dot)
            break;
        p = dot + 1;
    }
    if (labels < 2)
        return 0;
    if (strncmp(last, "xn--", 4) == 0)
        return strlen(last) > 4;
    if (strlen(last) < 2)
        return 0;
    for (const char *c = last; *c; c++)
        if (!isalpha((unsigned char)*c))
            return 0;
    return 1;
}

int registry_valid_email(const char *s)
{
    size_t n = strlen(s);
    if (n < 6 || n > REGISTRY_MAX_EMAIL)
        return 0;
    const char *at = strchr(s, '@');
    if (!at || strchr(at + 1, '@'))
        return 0;
    size_t local = (size_t)(at - s);
    if (local < 1 || local > 64 || s[0] == '.' || s[local - 1] == '.')
        return 0;
    for (size_t i = 0; i < local; i++) {
        if (!registry_email_local_char((unsigned char)s[i]))
            return 0;
        if (s[i] == '.' && s[i + 1] == '.')
            return 0;
    }
    return registry_valid_domain(at + 1);
}

/* Matches an extension marker, case-insensitively; returns its length. */
static size_t registry_phone_ext_marker(const char *p)
{
    static const char *const markers[] = {"extension", "poste", "ext.", "ext", "p.", "x", "#"};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        size_t n = strlen(markers[i]);
        if (strncasecmp(p, markers[i], n) == 0)
            return n;
    }
    return 0;
}

int registry_valid_phone(const char *s)
{
    if (strlen(s) > REGISTRY_MAX_PHONE)
        return 0;
    const char *p = s;
    int plus = 0, open = 0;
    char digits[12];
    size_t nd = 0;
    if (*p == '+') {
        plus = 1;
        p++;
    }
    for (; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (nd == 11)
                return 0;
            digits[nd++] = *p;
        } else if (*p == '(') {
            if (open)
                return 0;
            open = 1;
        } else if (*p == ')') {
            if (!open)
                return 0;
            open = 0;
        } else if (*p != ' ' && *p != '-' && *p != '.') {
            break;
        }
    }
    if (open)
        return 0;
    const char *d = digits;
    if (nd == 11) {
        if (digits[0] != '1')
            return 0;
        d++;
        nd--;
    } else if (plus) {
        return 0;
    }
    if (nd != 10 || d[0] < '2' || d[3] < '2')
        return 0;
    if (!*p)
        return 1;
    /* An extension: an optional comma or semicolon, a marker, digits. */
    if (*p == ',' || *p == ';')
        p++;
    while (*p == ' ')
        p++;
    size_t m = registry_phone_ext_marker(p);
    if (!m)
        return 0;
    p += m;
    while (*p == ' ')
        p++;
    size_t ext = 0;
    while (isdigit((unsigned char)p[ext]))
        ext++;
    return ext >= 1 && ext <= 6 && p[ext] == '\0';
}

int registry_valid_neq(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isdigit((unsigned char)s[n]))
            return 0;
    return n == 10;
}

int registry_valid_url(const char *s)
{
    size_t n = strlen(s);
    if (n > REGISTRY_MAX_URL)
        return 0;
    size_t scheme;
    if (strncasecmp(s, "https://", 8) == 0)
        scheme = 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        scheme = 7;
    else
        return 0;
    if (n == scheme || s[scheme] == '/' || s[scheme] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

int registry_valid_language(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 'a' || s[n] > 'z')
            return 0;
    return n == 2 || n == 3;
}

static int registry_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int registry_parse_date(const char *s, int *year, int *month, int *day)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < REGISTRY_DATE_MIN_YEAR || y > REGISTRY_DATE_MAX_YEAR || m < 1 || m > 12 || d < 1)
        return -1;
    if (d > days[m - 1] + (m == 2 && registry_leap(y)))
        return -1;
    *year = y;
    *month = m;
    *day = d;
    return 0;
}

int registry_valid_date(const char *s)
{
    int y, m, d;
    return registry_parse_date(s, &y, &m, &d) == 0;
}

/* Howard Hinnant's days_from_civil. */
int64_t registry_date_days(const char *s)
{
    int y, m, d;
    if (registry_parse_date(s, &y, &m, &d) != 0)
        return 0;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void registry_date_from_ms(int64_t ms, char out[11])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int registry_in_vocabulary(const char *const *words, const char *s)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return 1;
    return 0;
}

char *registry_vocabulary_text(const char *const *words)
{
    size_t len = 1;
    for (size_t i = 0; words[i]; i++)
        len += strlen(words[i]) + 2;
    char *out = xmalloc(len);
    out[0] = '\0';
    for (size_t i = 0; words[i]; i++) {
        if (i)
            strcat(out, ", ");
        strcat(out, words[i]);
    }
    return out;
}
