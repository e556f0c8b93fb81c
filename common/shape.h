/* shape: the common shapes of input values, as pure predicates: slugs,
 * e-mail addresses, North American phone numbers, web addresses, language
 * codes, and words of a closed vocabulary. Each returns 1 when the value
 * is well-formed and 0 otherwise; none allocates but shape_words_text.
 * field.h turns a 0 into a field violation. */
#ifndef CONCERTO_SHAPE_H
#define CONCERTO_SHAPE_H

#include <stddef.h>

#define SHAPE_SLUG_MAX 64
#define SHAPE_URL_MAX 500   /* bytes */
#define SHAPE_EMAIL_MAX 254 /* bytes (RFC 5321) */
#define SHAPE_PHONE_MAX 40  /* bytes */

/* [a-z0-9-], 2 to SHAPE_SLUG_MAX characters, starting and ending with a
 * letter or digit: ids and references. */
int shape_slug(const char *s);
/* local@domain.tld: ASCII, at most 254 bytes, local part at most 64,
 * domain labels of letters, digits and inner hyphens, an alphabetic (or
 * punycode) top-level domain. */
int shape_email(const char *s);
/* A North American (NANP) number: 10 digits, optionally after +1 or 1,
 * with spaces, dots, hyphens or parentheses between groups; area code and
 * exchange start with 2-9. An extension may follow: "x123", "ext. 123",
 * "poste 123", "#123" (1 to 6 digits). */
int shape_phone(const char *s);
/* http:// or https:// followed by a host; no white space or control
 * characters; at most SHAPE_URL_MAX bytes. */
int shape_url(const char *s);
/* An ISO 639 code: 2 or 3 lower-case ASCII letters. */
int shape_language(const char *s);

/* 1 if `s` is one of `words` (NULL-terminated). */
int shape_word(const char *const *words, const char *s);
/* "a, b, c": the words joined, for error messages; the caller frees. */
char *shape_words_text(const char *const *words);

#endif
