/* registry_validate: the shape rules of registry input, as pure functions.
 *
 * Each predicate returns 1 when the value is well-formed and 0 otherwise;
 * none allocates. The handlers turn a 0 into a field violation. */
#ifndef CONCERTO_REGISTRY_VALIDATE_H
#define CONCERTO_REGISTRY_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Explicit maxima, in characters (code points) unless noted. */
#define REGISTRY_MAX_NAME 200
#define REGISTRY_MAX_ACRONYM 32
#define REGISTRY_MAX_TEXT 2000 /* notes, boundary, statement */
#define REGISTRY_MAX_ADDRESS 300
#define REGISTRY_MAX_REASON 1000
#define REGISTRY_MAX_AUTHOR 200
#define REGISTRY_MAX_URL 500   /* bytes */
#define REGISTRY_MAX_EMAIL 254 /* bytes (RFC 5321) */
#define REGISTRY_MAX_PHONE 40  /* bytes */
#define REGISTRY_MAX_LANGUAGES 8
#define REGISTRY_MAX_POPULATION 10000000
#define REGISTRY_MAX_BOARD_SEATS 100
#define REGISTRY_MAX_MEETINGS 365
#define REGISTRY_MAX_STAFF 1000
#define REGISTRY_MIN_YEAR 1800
#define REGISTRY_DATE_MIN_YEAR 1800
#define REGISTRY_DATE_MAX_YEAR 2199

typedef enum {
    REGISTRY_TEXT_OK = 0,
    REGISTRY_TEXT_BAD_UTF8,
    REGISTRY_TEXT_CONTROL, /* control characters (newlines only where allowed) */
    REGISTRY_TEXT_TOO_LONG,
    REGISTRY_TEXT_BLANK, /* empty or only white space */
} registry_text_problem_t;

/* Checks that `s` is valid UTF-8, not blank, at most `max_chars` code
 * points, and free of control characters (tabs and newlines are allowed
 * when `multiline`). */
registry_text_problem_t registry_check_text(const char *s, size_t max_chars, int multiline);
/* "must be valid UTF-8", ...; the caller adds the maximum for TOO_LONG. */
const char *registry_text_problem_text(registry_text_problem_t p);

/* [a-z0-9-], 2 to 64 characters, starting and ending with a letter or
 * digit. */
int registry_valid_slug(const char *s);
/* local@domain.tld: ASCII, at most 254 bytes, local part at most 64,
 * domain labels of letters, digits and inner hyphens, an alphabetic (or
 * punycode) top-level domain. */
int registry_valid_email(const char *s);
/* A North American (NANP) number: 10 digits, optionally after +1 or 1,
 * with spaces, dots, hyphens or parentheses between groups; area code and
 * exchange start with 2-9. An extension may follow: "x123", "ext. 123",
 * "poste 123", "#123" (1 to 6 digits). */
int registry_valid_phone(const char *s);
/* Québec enterprise number: exactly 10 digits. The Registraire des
 * entreprises publishes no check-digit rule, so none is applied. */
int registry_valid_neq(const char *s);
/* http:// or https:// followed by a host; no white space or control
 * characters; at most REGISTRY_MAX_URL bytes. */
int registry_valid_url(const char *s);
/* An ISO 639 code: 2 or 3 lower-case ASCII letters. */
int registry_valid_language(const char *s);

/* "YYYY-MM-DD", a real calendar date with the year in
 * [REGISTRY_DATE_MIN_YEAR, REGISTRY_DATE_MAX_YEAR]. Returns 0 and the
 * parts, or -1. */
int registry_parse_date(const char *s, int *year, int *month, int *day);
int registry_valid_date(const char *s);
/* Days since 1970-01-01 of a date that registry_valid_date accepts. */
int64_t registry_date_days(const char *s);
/* The UTC date of a Unix millisecond instant, "YYYY-MM-DD". */
void registry_date_from_ms(int64_t ms, char out[11]);

/* Vocabularies, NULL-terminated. */
extern const char *const registry_territory_kinds[];
extern const char *const registry_sectors[];
extern const char *const registry_networks[];
extern const char *const registry_roles[];
extern const char *const registry_statuses[];
int registry_in_vocabulary(const char *const *words, const char *s);
/* "a, b, c": the words joined, for error messages; the caller frees. */
char *registry_vocabulary_text(const char *const *words);

#endif
