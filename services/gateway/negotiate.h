/* negotiate: what a client asks of a document route beyond its
 * parameters — the format (`?format=` or `Accept`) among those the route
 * offers, and the versions it already holds (`If-None-Match`).
 *
 * Formats are a fixed table: json (the message reply rendered as JSON),
 * csv, xlsx, html, ics (documents the service builds). A route's list is in
 * preference order; the first is the default. Pure; unit-tested. */
#ifndef CONCERTO_GW_NEGOTIATE_H
#define CONCERTO_GW_NEGOTIATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    FORMAT_JSON = 0,
    FORMAT_CSV,
    FORMAT_XLSX,
    FORMAT_HTML,
    FORMAT_ICS,
    FORMAT_N,
} format_t;

/* "json", "csv", "xlsx", "html", "ics". */
const char *format_name(format_t f);
/* "application/json", "text/csv", ... */
const char *format_media_type(format_t f);
/* The format named `name` (exactly, lower case), or -1. */
int format_parse(const char *name);

/* Parses a comma list of format names ("csv,xlsx,json") into `out` (at
 * most FORMAT_N); returns the count, or -1 with a reason in `err` for an
 * unknown name, a name given twice or an empty list. */
int format_list_parse(const char *text, uint8_t out[FORMAT_N], char *err, size_t errlen);

/* Chooses among the `n` offered formats: `query_format` (the `format`
 * query parameter, NULL when absent) must name one of them; otherwise the
 * Accept header picks the one it values most (q-values, the most specific
 * media range counts; ties go to the route's order); no Accept means the
 * first. Returns the format, or -1 when none fits (406). */
int negotiate_format(const uint8_t *offered, int n, const char *query_format, const char *accept);

#define NEGOTIATE_MAX_TAGS 32
#define NEGOTIATE_MAX_TAG_LEN 128

typedef struct {
    char *tags[NEGOTIATE_MAX_TAGS]; /* opaque tags, without quotes or W/ */
    size_t n;
} negotiate_tags_t;

/* Parses If-None-Match: "*", or entity tags (`"x"`, `W/"x"`) separated by
 * commas. Returns 0 and the tags (freed with negotiate_tags_clear), or -1
 * when malformed, with more than NEGOTIATE_MAX_TAGS tags, or a tag longer
 * than NEGOTIATE_MAX_TAG_LEN. */
int negotiate_if_none_match(const char *header, negotiate_tags_t *out);
void negotiate_tags_clear(negotiate_tags_t *t);

#endif
