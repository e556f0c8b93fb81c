/* text: UTF-8 validity, input text limits and search folding (see
 * text.h). */
#include "text.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "xalloc.h"

/* Decodes the character at `s` into *cp; returns its length, or 0. */
static size_t text_decode(const char *s, size_t n, utf8proc_int32_t *cp)
{
    if (n == 0 || s[0] == '\0')
        return 0;
    /* utf8proc_iterate refuses overlong forms, surrogates and code points
     * past U+10FFFF. */
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, cp);
    return k > 0 ? (size_t)k : 0;
}

size_t text_char_len(const char *s, size_t n)
{
    utf8proc_int32_t cp;
    return text_decode(s, n, &cp);
}

int text_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* Most text is ASCII: skip it without a call per byte. */
        if (p[i] >= 0x01 && p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = text_char_len(s + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

size_t text_first_bad(const char *s, size_t n, size_t *line, size_t *column)
{
    size_t i = 0;
    *line = *column = 1;
    while (i < n) {
        size_t k = text_char_len(s + i, n - i);
        if (k == 0)
            return i;
        if (s[i] == '\n') {
            (*line)++;
            *column = 0;
        }
        (*column)++;
        i += k;
    }
    return n;
}

char *text_to_utf8(const char *encoding, const char *in, size_t len, size_t *out_len, size_t *bad)
{
    iconv_t cd = iconv_open("UTF-8", encoding);
    if (cd == (iconv_t)-1) {
        *bad = len;
        return NULL;
    }
    /* A byte becomes at most 3 in UTF-8 from a single-byte character set;
     * 4 covers any. */
    size_t cap = 4 * len + 1;
    char *out = xmalloc(cap);
    char *src = (char *)in, *dst = out;
    size_t left = len, room = cap - 1;
    size_t rc = iconv(cd, &src, &left, &dst, &room);
    if (rc != (size_t)-1)
        rc = iconv(cd, NULL, NULL, &dst, &room);
    iconv_close(cd);
    if (rc == (size_t)-1) {
        *bad = (size_t)(src - in);
        free(out);
        return NULL;
    }
    *dst = '\0';
    *out_len = (size_t)(dst - out);
    return out;
}

static int text_is_space(utf8proc_int32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0;
}

text_problem_t text_check(const char *s, size_t max_chars, int multiline)
{
    size_t len = strlen(s), chars = 0;
    int blank = 1;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        size_t k = text_decode(s + i, len - i, &cp);
        if (k == 0)
            return TEXT_BAD_UTF8;
        i += k;
        chars++;
        if (!text_is_space(cp))
            blank = 0;
        if (utf8proc_category(cp) == UTF8PROC_CATEGORY_CC &&
            !(multiline && (cp == '\n' || cp == '\t' || cp == '\r')))
            return TEXT_CONTROL;
    }
    if (blank)
        return TEXT_BLANK;
    if (chars > max_chars)
        return TEXT_TOO_LONG;
    return TEXT_OK;
}

const char *text_problem_text(text_problem_t p)
{
    switch (p) {
    case TEXT_OK:
        return "ok";
    case TEXT_BAD_UTF8:
        return "must be valid UTF-8";
    case TEXT_CONTROL:
        return "must not contain control characters";
    case TEXT_TOO_LONG:
        return "is too long";
    case TEXT_BLANK:
        return "must not be blank";
    }
    return "is invalid";
}

const char *text_plural(long long n, const char *one, const char *other)
{
    return n == 1 ? one : other;
}

static int text_fold_keeps(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

/* Letters no decomposition takes apart, spelled as people type them
 * without the key: "oeuvres" for "Œuvres". Same byte length. */
static const char *text_fold_ligature(utf8proc_int32_t cp)
{
    switch (cp) {
    case 0x0153: /* œ */
        return "oe";
    case 0x00E6: /* æ */
        return "ae";
    default:
        return NULL;
    }
}

/* Abbreviations of place names, spelled out: "st" is "saint". */
static const char *const text_fold_abbreviations[][2] = {
    {"st", "saint"}, {"ste", "sainte"}, {"sts", "saints"}, {"stes", "saintes"}};

/* `words` (single spaces between words) with each abbreviation spelled
 * out; a new string. */
static char *text_fold_expand(const char *words)
{
    size_t n = strlen(words);
    char *out = xmalloc(3 * n + 1); /* "st" -> "saint": at most 2.5 times */
    size_t o = 0;
    for (const char *p = words; *p;) {
        size_t len = strcspn(p, " ");
        const char *word = p;
        size_t wlen = len;
        for (size_t i = 0; i < sizeof text_fold_abbreviations / sizeof *text_fold_abbreviations;
             i++)
            if (strlen(text_fold_abbreviations[i][0]) == len &&
                memcmp(p, text_fold_abbreviations[i][0], len) == 0) {
                word = text_fold_abbreviations[i][1];
                wlen = strlen(word);
            }
        memcpy(out + o, word, wlen);
        o += wlen;
        p += len;
        if (*p)
            out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

char *text_fold(const char *s)
{
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, 0, &mapped,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |
                         UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    if (n < 0)
        return NULL;
    /* Folding only removes or keeps code points, so the output is never
     * longer than the mapped text. */
    char *out = xmalloc((size_t)n + 1);
    size_t o = 0;
    int pending_space = 0;
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(mapped + i, n - i, &cp);
        if (k <= 0)
            break;
        if (text_fold_keeps(cp)) {
            if (pending_space && o > 0)
                out[o++] = ' ';
            pending_space = 0;
            const char *spelled = text_fold_ligature(cp);
            memcpy(out + o, spelled ? spelled : (const char *)mapped + i, (size_t)k);
            o += (size_t)k;
        } else {
            pending_space = 1;
        }
        i += k;
    }
    out[o] = '\0';
    free(mapped);
    char *expanded = text_fold_expand(out);
    free(out);
    return expanded;
}

char **text_words(const char *s, size_t *n)
{
    *n = 0;
    size_t cap = 0;
    for (const char *p = s; p && *p; p++)
        cap += *p != ' ' && (p == s || p[-1] == ' ');
    if (!cap)
        return NULL;
    char **out = xcalloc(cap, sizeof *out);
    for (const char *p = s; *p;) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (len)
            out[(*n)++] = xstrndup(p, len);
        p += len;
    }
    return out;
}

void text_words_free(char **words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
}

char *text_words_join(char *const *words, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(words[i]) + 1;
    char *out = xmalloc(len);
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ' ';
        size_t w = strlen(words[i]);
        memcpy(p, words[i], w);
        p += w;
    }
    *p = '\0';
    return out;
}
