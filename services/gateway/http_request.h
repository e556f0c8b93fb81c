/* http_request: the HTTP/1.1 request reader, an adapter around Debian's
 * http-parser (nodejs/http-parser 2.9) with the gateway's limits.
 *
 * It turns bytes into one request at a time and stops at the end of each,
 * so that pipelined requests are answered in order: the caller keeps the
 * unconsumed bytes and feeds them after answering (http_reader_next). It
 * owns no socket and allocates only the request's URL, selected headers and
 * body, which makes it the unit under the fuzz target. Strict settings: no
 * lenient headers, Content-Length together with chunked is an error, chunked
 * request bodies are refused with 411. */
#ifndef CONCERTO_GW_HTTP_REQUEST_H
#define CONCERTO_GW_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t max_url;          /* request target bytes -> 414 */
    size_t max_header_bytes; /* request line and headers -> 431 */
    size_t max_headers;      /* header lines -> 431 */
    size_t max_body;         /* Content-Length -> 413 */
} http_limits_t;

/* 8 KiB URL, 16 KiB header block, 100 headers, 1 MiB body. */
void http_limits_default(http_limits_t *limits);

/* Sets the header-block limit inside http-parser, which is one setting for
 * the whole process: call once at start with the largest limit in use. */
void http_request_set_global_limit(size_t max_header_bytes);

typedef struct {
    int method;      /* enum http_method */
    int keep_alive;  /* the connection may stay open after the answer */
    int http_1_0;    /* an HTTP/1.0 request: no chunked answers */
    const char *url; /* the request target, NUL-terminated */
    size_t url_len;
    const char *path; /* into url; not NUL-terminated */
    size_t path_len;
    const char *query; /* into url, after '?'; NULL when absent */
    size_t query_len;
    /* Selected headers, NUL-terminated, NULL when absent. */
    const char *content_type;
    const char *authorization;
    const char *idempotency_key;
    const char *accept;
    const char *if_none_match;
    int expect_continue; /* Expect: 100-continue */
    const char *body;    /* NULL when empty */
    size_t body_len;
} http_request_t;

typedef struct http_reader http_reader_t;

typedef enum {
    HTTP_READER_MORE = 0,   /* everything consumed; the request is not complete */
    HTTP_READER_DONE = 1,   /* a whole request; see http_reader_request */
    HTTP_READER_ERROR = -1, /* see http_reader_error; answer and close */
} http_reader_result_t;

http_reader_t *http_reader_new(const http_limits_t *limits);
void http_reader_destroy(http_reader_t **self_p);

/* Feeds bytes. *consumed says how many were used: all of them for MORE,
 * up to the end of the request for DONE (the rest belongs to the next
 * request), up to the error for ERROR. After DONE or ERROR, feeding again
 * without http_reader_next consumes nothing. */
http_reader_result_t http_reader_feed(http_reader_t *self, const char *data, size_t len,
                                      size_t *consumed);

/* The request after DONE; valid until http_reader_next or destroy. */
const http_request_t *http_reader_request(const http_reader_t *self);

/* After ERROR: the HTTP status to answer (400, 411, 413, 414, 431) and a
 * message for the error body. */
int http_reader_error(const http_reader_t *self, const char **message);

/* Forgets the current request and readies the reader for the next one on
 * the same connection. */
void http_reader_next(http_reader_t *self);

/* Whether any byte of the current request has arrived (a timeout then
 * deserves a 408; otherwise the connection was just idle). */
int http_reader_started(const http_reader_t *self);
/* Whether the client waits for "100 Continue" before sending the body it
 * announced (headers complete, body not yet arrived). */
int http_reader_expects_continue(const http_reader_t *self);
/* Whether the current request's headers are complete (the body may still
 * be arriving). */
int http_reader_headers_done(const http_reader_t *self);

#endif
