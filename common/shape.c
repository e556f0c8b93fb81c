/* shape: predicates of common input shapes (see shape.h). */
#include "shape.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

static int shape_is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int shape_slug(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > SHAPE_SLUG_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!shape_is_lower_alnum(s[i]) && s[i] != '-')
            return 0;
    return shape_is_lower_alnum(s[0]) && shape_is_lower_alnum(s[n - 1]);
}

static int shape_email_local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static int shape_domain(const char *d)
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

int shape_email(const char *s)
{
    size_t n = strlen(s);
    if (n < 6 || n > SHAPE_EMAIL_MAX)
        return 0;
    const char *at = strchr(s, '@');
    if (!at || strchr(at + 1, '@'))
        return 0;
    size_t local = (size_t)(at - s);
    if (local < 1 || local > 64 || s[0] == '.' || s[local - 1] == '.')
        return 0;
    for (size_t i = 0; i < local; i++) {
        if (!shape_email_local_char((unsigned char)s[i]))
            return 0;
        if (s[i] == '.' && s[i + 1] == '.')
            return 0;
    }
    return shape_domain(at + 1);
}

/* Matches an extension marker, case-insensitively; returns its length. */
static size_t shape_phone_ext_marker(const char *p)
{
    static const char *const markers[] = {"extension", "poste", "ext.", "ext", "p.", "x", "#"};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        size_t n = strlen(markers[i]);
        if (strncasecmp(p, markers[i], n) == 0)
            return n;
    }
    return 0;
}

/* The extension after a number: an optional comma or semicolon, a
 * marker, 1 to 6 digits. */
static int shape_phone_extension(const char *p)
{
    if (*p == ',' || *p == ';')
        p++;
    while (*p == ' ')
        p++;
    size_t m = shape_phone_ext_marker(p);
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

int shape_phone(const char *s)
{
    if (strlen(s) > SHAPE_PHONE_MAX)
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
    return !*p || shape_phone_extension(p);
}

int shape_url(const char *s)
{
    size_t n = strlen(s);
    if (n > SHAPE_URL_MAX)
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

int shape_language(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 'a' || s[n] > 'z')
            return 0;
    return n == 2 || n == 3;
}

int shape_word(const char *const *words, const char *s)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return 1;
    return 0;
}

char *shape_words_text(const char *const *words)
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
