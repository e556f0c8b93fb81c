/* negotiate: formats and entity tags (see negotiate.h). */
#include "negotiate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

static const struct {
    const char *name;
    const char *media_type;
} format_table[FORMAT_N] = {
    {"json", "application/json"},
    {"csv", "text/csv"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"html", "text/html"},
    {"ics", "text/calendar"},
};

const char *format_name(format_t f)
{
    return f < FORMAT_N ? format_table[f].name : "unknown";
}

const char *format_media_type(format_t f)
{
    return f < FORMAT_N ? format_table[f].media_type : "application/octet-stream";
}

int format_parse(const char *name)
{
    for (int i = 0; i < FORMAT_N; i++)
        if (strcmp(name, format_table[i].name) == 0)
            return i;
    return -1;
}

int format_list_parse(const char *text, uint8_t out[FORMAT_N], char *err, size_t errlen)
{
    int n = 0;
    const char *s = text;
    for (;;) {
        size_t len = strcspn(s, ",");
        char name[16];
        int f = -1;
        if (len > 0 && len < sizeof name) {
            memcpy(name, s, len);
            name[len] = '\0';
            f = format_parse(name);
        }
        if (f < 0) {
            snprintf(err, errlen, "unknown format '%.*s' (json, csv, xlsx, html, ics)",
                     (int)(len < 32 ? len : 32), s);
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (out[i] == f) {
                snprintf(err, errlen, "format %s is listed twice", name);
                return -1;
            }
        out[n++] = (uint8_t)f;
        if (!s[len])
            return n;
        s += len + 1;
    }
}

/* ------------------------------------------------------------ Accept */

static const char *negotiate_skip_space(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* q-value: "1", "1.000", "0", "0.5" (at most three decimals); in
 * thousandths, or -1. */
static int negotiate_qvalue(const char *s, const char *end)
{
    if (s == end || (*s != '0' && *s != '1'))
        return -1;
    int q = (*s - '0') * 1000, scale = 100;
    s++;
    if (s < end && *s == '.') {
        s++;
        for (int digits = 0; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits == 3)
                return -1;
            q += (*s - '0') * scale;
            scale /= 10;
        }
    }
    return s == end && q <= 1000 ? q : -1;
}

/* How specifically `range` (type/subtype, either may be a star) matches
 * `media`: 3 exact, 2 a type with any subtype, 1 any type, 0 not at all. */
static int negotiate_match(const char *range, size_t len, const char *media)
{
    const char *slash = memchr(range, '/', len);
    if (!slash || slash == range || slash == range + len - 1)
        return 0;
    size_t tlen = (size_t)(slash - range), slen = len - tlen - 1;
    const char *mslash = strchr(media, '/');
    size_t mtlen = (size_t)(mslash - media);
    if (tlen == 1 && range[0] == '*')
        return slen == 1 && slash[1] == '*' ? 1 : 0;
    if (tlen != mtlen || strncasecmp(range, media, tlen) != 0)
        return 0;
    if (slen == 1 && slash[1] == '*')
        return 2;
    return strlen(mslash + 1) == slen && strncasecmp(slash + 1, mslash + 1, slen) == 0 ? 3 : 0;
}

/* The q-value (thousandths) the Accept header gives `media`: that of its
 * most specific matching range; 0 when none matches. */
static int negotiate_accept_q(const char *accept, const char *media)
{
    int best_spec = 0, best_q = 0;
    const char *s = accept;
    while (*s) {
        const char *end = s + strcspn(s, ",");
        const char *p = negotiate_skip_space(s, end);
        const char *range_end = p + strcspn(p, ";,");
        if (range_end > end)
            range_end = end;
        const char *r_end = range_end;
        while (r_end > p && (r_end[-1] == ' ' || r_end[-1] == '\t'))
            r_end--;
        int q = 1000;
        for (const char *param = range_end; param < end && *param == ';';) {
            const char *next = param + 1 + strcspn(param + 1, ";,");
            if (next > end)
                next = end;
            const char *k = negotiate_skip_space(param + 1, next);
            if (next - k >= 2 && (k[0] == 'q' || k[0] == 'Q') && k[1] == '=') {
                const char *v_end = next;
                while (v_end > k + 2 && (v_end[-1] == ' ' || v_end[-1] == '\t'))
                    v_end--;
                q = negotiate_qvalue(k + 2, v_end);
            }
            param = next;
        }
        int spec = q >= 0 ? negotiate_match(p, (size_t)(r_end - p), media) : 0;
        if (spec > best_spec) {
            best_spec = spec;
            best_q = q;
        }
        s = *end ? end + 1 : end;
    }
    return best_q;
}

int negotiate_format(const uint8_t *offered, int n, const char *query_format, const char *accept)
{
    if (n <= 0)
        return -1;
    if (query_format) {
        for (int i = 0; i < n; i++)
            if (strcmp(query_format, format_name((format_t)offered[i])) == 0)
                return offered[i];
        return -1;
    }
    const char *a = accept;
    while (a && (*a == ' ' || *a == '\t'))
        a++;
    if (!a || !*a)
        return offered[0];
    int best = -1, best_q = 0;
    for (int i = 0; i < n; i++) {
        int q = negotiate_accept_q(a, format_media_type((format_t)offered[i]));
        if (q > best_q) {
            best_q = q;
            best = offered[i];
        }
    }
    return best;
}

/* ------------------------------------------------------------ If-None-Match */

void negotiate_tags_clear(negotiate_tags_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->tags[i]);
    t->n = 0;
}

int negotiate_if_none_match(const char *header, negotiate_tags_t *out)
{
    out->n = 0;
    const char *s = header;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '*') {
        const char *rest = s + 1;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (*rest)
            return -1;
        out->tags[out->n++] = xstrdup("*");
        return 0;
    }
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s)
            return out->n ? 0 : (negotiate_tags_clear(out), -1);
        if (s[0] == 'W' && s[1] == '/')
            s += 2;
        if (*s != '"')
            break;
        const char *start = ++s;
        /* etagc: %x21 / %x23-7E; obs-text is not accepted here. */
        while (*s == 0x21 || (*s >= 0x23 && *s <= 0x7e))
            s++;
        size_t len = (size_t)(s - start);
        if (*s != '"' || len > NEGOTIATE_MAX_TAG_LEN || out->n == NEGOTIATE_MAX_TAGS)
            break;
        out->tags[out->n++] = xstrndup(start, len);
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s && *s != ',')
            break;
    }
    negotiate_tags_clear(out);
    return -1;
}
