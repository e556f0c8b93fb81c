/* http_request: the request reader around http-parser (see
 * http_request.h). */
#include "http_request.h"

#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

/* Header bytes are fed in slices this large, so the URL callback (which
 * http-parser calls at the end of each slice) sees an over-long URL before
 * the header-block limit does. */
#define HTTP_READER_SLICE 1024

enum {
    HDR_CONTENT_TYPE,
    HDR_AUTHORIZATION,
    HDR_IDEMPOTENCY_KEY,
    HDR_EXPECT,
    HDR_ACCEPT,
    HDR_IF_NONE_MATCH,
    HDR_COUNT
};
static const char *const http_reader_header_names[HDR_COUNT] = {
    "content-type", "authorization", "idempotency-key", "expect", "accept", "if-none-match"};

struct http_reader {
    http_parser parser;
    http_parser_settings settings;
    http_limits_t limits;
    http_request_t req;
    /* URL and selected header values, NUL-separated; offsets because the
     * buffer moves as it grows. */
    char *arena;
    size_t arena_len, arena_cap;
    size_t url_len;
    int url_closed;
    char field[32];
    size_t field_len;
    int in_value;   /* the last header callback was a value */
    int cur_header; /* HDR_* of the value being read, or -1 */
    size_t hdr_off[HDR_COUNT];
    int hdr_seen[HDR_COUNT];
    size_t n_headers;
    size_t header_bytes;
    char *body;
    size_t body_len, body_cap;
    int started, headers_done, done, failed;
    int err_status;
    const char *err_msg;
};

void http_limits_default(http_limits_t *limits)
{
    limits->max_url = 8192;
    limits->max_header_bytes = 16384;
    limits->max_headers = 100;
    limits->max_body = 1024 * 1024;
}

void http_request_set_global_limit(size_t max_header_bytes)
{
    http_parser_set_max_header_size((uint32_t)max_header_bytes);
}

static int http_reader_fail(http_reader_t *self, int status, const char *msg)
{
    if (!self->err_status) {
        self->err_status = status;
        self->err_msg = msg;
    }
    return -1;
}

static void http_reader_append(http_reader_t *self, const char *at, size_t len)
{
    if (self->arena_len + len + 1 > self->arena_cap) {
        size_t cap = self->arena_cap ? self->arena_cap : 512;
        while (cap < self->arena_len + len + 1)
            cap *= 2;
        self->arena = xrealloc(self->arena, cap);
        self->arena_cap = cap;
    }
    memcpy(self->arena + self->arena_len, at, len);
    self->arena_len += len;
}

static void http_reader_close_string(http_reader_t *self)
{
    http_reader_append(self, "", 1);
}

static int http_reader_count(http_reader_t *self, size_t len)
{
    self->header_bytes += len;
    if (self->header_bytes > self->limits.max_header_bytes)
        return http_reader_fail(self, 431, "request header block too large");
    return 0;
}

static http_reader_t *http_reader_of(http_parser *p)
{
    return p->data;
}

static int http_reader_on_begin(http_parser *p)
{
    http_reader_of(p)->started = 1;
    return 0;
}

static int http_reader_on_url(http_parser *p, const char *at, size_t len)
{
    http_reader_t *self = http_reader_of(p);
    if (self->url_len + len > self->limits.max_url)
        return http_reader_fail(self, 414, "request target too long");
    if (http_reader_count(self, len))
        return -1;
    http_reader_append(self, at, len);
    self->url_len += len;
    return 0;
}

static void http_reader_close_url(http_reader_t *self)
{
    if (!self->url_closed) {
        http_reader_close_string(self);
        self->url_closed = 1;
    }
}

/* Ends the header value being read, if any. */
static void http_reader_end_value(http_reader_t *self)
{
    if (self->in_value && self->cur_header >= 0)
        http_reader_close_string(self);
    self->in_value = 0;
    self->cur_header = -1;
}

static int http_reader_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int http_reader_on_field(http_parser *p, const char *at, size_t len)
{
    http_reader_t *self = http_reader_of(p);
    http_reader_close_url(self);
    if (self->in_value || self->n_headers == 0) {
        http_reader_end_value(self);
        self->field_len = 0;
        if (++self->n_headers > self->limits.max_headers)
            return http_reader_fail(self, 431, "too many request headers");
    }
    if (http_reader_count(self, len + 4)) /* ": " and CRLF */
        return -1;
    /* http-parser's non-strict build lets spaces into names; RFC 9110
     * tokens do not. */
    for (size_t i = 0; i < len; i++)
        if (!http_reader_tchar(at[i]))
            return http_reader_fail(self, 400, "invalid character in a header name");
    /* Names longer than the buffer are none of the selected ones. */
    if (self->field_len + len < sizeof self->field)
        memcpy(self->field + self->field_len, at, len);
    self->field_len += len;
    return 0;
}

static int http_reader_on_value(http_parser *p, const char *at, size_t len)
{
    http_reader_t *self = http_reader_of(p);
    if (!self->in_value) {
        self->in_value = 1;
        self->cur_header = -1;
        if (self->field_len < sizeof self->field) {
            for (int i = 0; i < HDR_COUNT; i++) {
                const char *name = http_reader_header_names[i];
                if (strlen(name) == self->field_len &&
                    strncasecmp(name, self->field, self->field_len) == 0) {
                    if (self->hdr_seen[i])
                        return http_reader_fail(self, 400, "a header appears twice");
                    self->hdr_seen[i] = 1;
                    self->hdr_off[i] = self->arena_len;
                    self->cur_header = i;
                }
            }
        }
    }
    if (http_reader_count(self, len))
        return -1;
    /* http-parser misses a control character at the start of a value. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)at[i];
        if ((c < ' ' && c != '\t') || c == 127)
            return http_reader_fail(self, 400, "invalid character in a header value");
    }
    if (self->cur_header >= 0)
        http_reader_append(self, at, len);
    return 0;
}

static const char *http_reader_header(http_reader_t *self, int which)
{
    return self->hdr_seen[which] ? self->arena + self->hdr_off[which] : NULL;
}

static int http_reader_on_headers_complete(http_parser *p)
{
    http_reader_t *self = http_reader_of(p);
    http_reader_close_url(self);
    http_reader_end_value(self);
    http_request_t *req = &self->req;
    if (p->flags & F_CHUNKED)
        return http_reader_fail(self, 411,
                                "chunked request bodies are not accepted; "
                                "send Content-Length");
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > self->limits.max_body)
        return http_reader_fail(self, 413, "request body too large");
    if (p->method == HTTP_CONNECT)
        return http_reader_fail(self, 400, "CONNECT is not supported");
    req->method = p->method;
    req->http_1_0 = p->http_major == 1 && p->http_minor == 0;
    req->url = self->arena;
    req->url_len = self->url_len;
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (self->url_len == 0 || http_parser_parse_url(req->url, req->url_len, 0, &u) != 0 ||
        !(u.field_set & (1 << UF_PATH)) || req->url[u.field_data[UF_PATH].off] != '/')
        return http_reader_fail(self, 400, "invalid request target");
    req->path = req->url + u.field_data[UF_PATH].off;
    req->path_len = u.field_data[UF_PATH].len;
    if (u.field_set & (1 << UF_QUERY)) {
        req->query = req->url + u.field_data[UF_QUERY].off;
        req->query_len = u.field_data[UF_QUERY].len;
    }
    req->content_type = http_reader_header(self, HDR_CONTENT_TYPE);
    req->authorization = http_reader_header(self, HDR_AUTHORIZATION);
    req->idempotency_key = http_reader_header(self, HDR_IDEMPOTENCY_KEY);
    req->accept = http_reader_header(self, HDR_ACCEPT);
    req->if_none_match = http_reader_header(self, HDR_IF_NONE_MATCH);
    const char *expect = http_reader_header(self, HDR_EXPECT);
    req->expect_continue = expect && strcasecmp(expect, "100-continue") == 0;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0) {
        self->body_cap = (size_t)p->content_length;
        self->body = xmalloc(self->body_cap);
    }
    self->headers_done = 1;
    return 0;
}

static int http_reader_on_body(http_parser *p, const char *at, size_t len)
{
    http_reader_t *self = http_reader_of(p);
    if (self->body_len + len > self->body_cap)
        return http_reader_fail(self, 400, "body longer than Content-Length");
    memcpy(self->body + self->body_len, at, len);
    self->body_len += len;
    return 0;
}

static int http_reader_on_message_complete(http_parser *p)
{
    http_reader_t *self = http_reader_of(p);
    self->done = 1;
    self->req.keep_alive = http_should_keep_alive(p) && !p->upgrade;
    self->req.body = self->body_len ? self->body : NULL;
    self->req.body_len = self->body_len;
    /* Stop here: the bytes after this request wait until it is answered. */
    http_parser_pause(p, 1);
    return 0;
}

static void http_reader_reset(http_reader_t *self)
{
    http_parser_init(&self->parser, HTTP_REQUEST);
    self->parser.data = self;
    memset(&self->req, 0, sizeof self->req);
    self->arena_len = 0;
    self->url_len = 0;
    self->url_closed = 0;
    self->field_len = 0;
    self->in_value = 0;
    self->cur_header = -1;
    memset(self->hdr_seen, 0, sizeof self->hdr_seen);
    self->n_headers = 0;
    self->header_bytes = 0;
    free(self->body);
    self->body = NULL;
    self->body_len = self->body_cap = 0;
    self->started = self->headers_done = self->done = self->failed = 0;
    self->err_status = 0;
    self->err_msg = NULL;
}

http_reader_t *http_reader_new(const http_limits_t *limits)
{
    http_reader_t *self = xcalloc(1, sizeof *self);
    self->limits = *limits;
    http_parser_settings_init(&self->settings);
    self->settings.on_message_begin = http_reader_on_begin;
    self->settings.on_url = http_reader_on_url;
    self->settings.on_header_field = http_reader_on_field;
    self->settings.on_header_value = http_reader_on_value;
    self->settings.on_headers_complete = http_reader_on_headers_complete;
    self->settings.on_body = http_reader_on_body;
    self->settings.on_message_complete = http_reader_on_message_complete;
    http_reader_reset(self);
    return self;
}

void http_reader_destroy(http_reader_t **self_p)
{
    http_reader_t *self = *self_p;
    if (!self)
        return;
    free(self->arena);
    free(self->body);
    free(self);
    *self_p = NULL;
}

static const char *http_reader_parse_error(enum http_errno e)
{
    switch (e) {
    case HPE_INVALID_METHOD:
        return "invalid method";
    case HPE_INVALID_VERSION:
        return "invalid HTTP version";
    case HPE_INVALID_URL:
    case HPE_INVALID_HOST:
    case HPE_INVALID_PORT:
    case HPE_INVALID_PATH:
    case HPE_INVALID_QUERY_STRING:
    case HPE_INVALID_FRAGMENT:
        return "invalid request target";
    case HPE_INVALID_HEADER_TOKEN:
        return "invalid character in a header";
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        return "invalid Content-Length";
    case HPE_INVALID_TRANSFER_ENCODING:
        return "invalid Transfer-Encoding";
    default:
        return "malformed request";
    }
}

http_reader_result_t http_reader_feed(http_reader_t *self, const char *data, size_t len,
                                      size_t *consumed)
{
    *consumed = 0;
    if (self->failed)
        return HTTP_READER_ERROR;
    if (self->done)
        return HTTP_READER_DONE;
    while (*consumed < len) {
        size_t chunk = len - *consumed;
        if (!self->headers_done && chunk > HTTP_READER_SLICE)
            chunk = HTTP_READER_SLICE;
        size_t n = http_parser_execute(&self->parser, &self->settings, data + *consumed, chunk);
        *consumed += n;
        if (self->done)
            return HTTP_READER_DONE;
        enum http_errno e = HTTP_PARSER_ERRNO(&self->parser);
        if (e != HPE_OK || n != chunk) {
            self->failed = 1;
            if (!self->err_status) {
                if (e == HPE_HEADER_OVERFLOW)
                    http_reader_fail(self, 431, "request header block too large");
                else
                    http_reader_fail(self, 400, http_reader_parse_error(e));
            }
            return HTTP_READER_ERROR;
        }
    }
    return HTTP_READER_MORE;
}

const http_request_t *http_reader_request(const http_reader_t *self)
{
    return self->done ? &self->req : NULL;
}

int http_reader_error(const http_reader_t *self, const char **message)
{
    if (message)
        *message = self->err_msg ? self->err_msg : "malformed request";
    return self->err_status ? self->err_status : 400;
}

void http_reader_next(http_reader_t *self)
{
    http_reader_reset(self);
}

int http_reader_started(const http_reader_t *self)
{
    return self->started;
}

int http_reader_headers_done(const http_reader_t *self)
{
    return self->headers_done;
}

int http_reader_expects_continue(const http_reader_t *self)
{
    return self->headers_done && !self->done && self->req.expect_continue &&
           self->body_len < self->body_cap;
}
