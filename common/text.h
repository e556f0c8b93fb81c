/* text: UTF-8 text. The project's one UTF-8 check (envelopes, the gateway's
 * JSON, handler input), the limits of input text, and the folded form of
 * names for search. Built on utf8proc.
 *
 * Well-formed UTF-8 here is Unicode's (table 3-7): no overlong forms, no
 * surrogates, nothing past U+10FFFF, and no NUL, which no text Concerto
 * passes on may hold. */
#ifndef CONCERTO_TEXT_H
#define CONCERTO_TEXT_H

#include <stddef.h>

/* Bytes of the well-formed character at `s` (at most `n` bytes may be
 * read), or 0 when it is ill-formed, cut short, or NUL. */
size_t text_char_len(const char *s, size_t n);
/* 1 when the `n` bytes at `s` are well-formed UTF-8 without NUL. */
int text_valid(const char *s, size_t n);

typedef enum {
    TEXT_OK = 0,
    TEXT_BAD_UTF8,
    TEXT_CONTROL, /* control characters (tabs and newlines only where allowed) */
    TEXT_TOO_LONG,
    TEXT_BLANK, /* empty or only white space */
} text_problem_t;

/* Checks the NUL-terminated `s`: well-formed, not blank, at most
 * `max_chars` code points, free of control characters (tab, CR and LF are
 * allowed when `multiline`). */
text_problem_t text_check(const char *s, size_t max_chars, int multiline);
/* "must be valid UTF-8", ...; the caller adds the maximum for TOO_LONG. */
const char *text_problem_text(text_problem_t p);

/* The `len` bytes at `in`, in character set `encoding` (an iconv name:
 * "WINDOWS-1252"), as UTF-8: a new NUL-terminated string the caller frees
 * (*out_len bytes), or NULL when `encoding` is unknown (*bad = len) or a
 * byte has no meaning in it (*bad = its offset). */
char *text_to_utf8(const char *encoding, const char *in, size_t len, size_t *out_len, size_t *bad);
/* The offset of the first byte of `s` (`n` bytes) that is not part of
 * well-formed UTF-8 without NUL, or n when there is none; *line and *column
 * (1-based, the column in characters) say where it is. */
size_t text_first_bad(const char *s, size_t n, size_t *line, size_t *column);

/* `one` when n is 1, else `other`: "1 problem", "2 problems", "0
 * problems". */
const char *text_plural(long long n, const char *one, const char *other);

/* The search form of a name, compared ignoring case, accents and
 * punctuation: compatibility decomposition, marks stripped, case folded,
 * œ and æ spelled oe and ae, anything but letters and digits turned into
 * single spaces between words, and the abbreviations st, ste, sts, stes
 * spelled saint, sainte, saints, saintes ("St-Léonard" and
 * "Saint-Léonard" both fold to "saint leonard").
 * "Côte-des-Neiges–Notre-Dame-de-Grâce" folds to
 * "cote des neiges notre dame de grace"; the result needs no escaping in a
 * LIKE pattern. Returns a new string the caller frees, or NULL if `s` is
 * not valid UTF-8. */
char *text_fold(const char *s);

/* The words of `s` separated by spaces (a list kept in one column: "fr
 * en"), as a new array of new strings, NULL when there are none; *n gets
 * how many. Free with text_words_free. */
char **text_words(const char *s, size_t *n);
void text_words_free(char **words, size_t n);
/* The reverse: the `n` words joined with single spaces, as a new string
 * ("" for none). */
char *text_words_join(char *const *words, size_t n);

#endif
