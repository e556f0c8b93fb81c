/* http_server: HTTP/1.1 connections on libuv (see http_server.h). */
#include "http_server.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apierror.h"
#include "log.h"
#include "xalloc.h"

#define HTTP_READ_BUF 16384
#define HTTP_LINGER_MS 1000
#define HTTP_BACKLOG 1024
#define HTTP_HEAD_MAX 2048

typedef enum {
    CONN_READING,   /* reading a request (or idle between requests) */
    CONN_WAITING,   /* a request is with the application */
    CONN_WRITING,   /* the answer is being written */
    CONN_STREAMING, /* a streamed answer: head sent, body in chunks */
    CONN_LINGER,    /* answered with close: discard input until EOF */
} conn_state_t;

typedef struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_server_t *server;
    uint32_t slot;
    uint32_t gen; /* of the request with the application; 0 otherwise */
    conn_state_t state;
    http_reader_t *reader;
    char *buf;
    size_t buf_len, buf_off;
    int reading;
    int processing; /* inside conn_process's loop */
    int written;    /* an answer completed during it */
    int closing;
    int open_handles;
    int request_timer; /* the request-read timer runs for this request */
    int continue_sent;
    int close_after;  /* close once the answer is written */
    int chunked;      /* the streamed answer is framed in chunks (HTTP/1.1) */
    int detached;     /* the stream's producer is gone: tell it nothing more */
    uint64_t done_ns; /* when the request's last byte arrived */
} conn_t;

typedef struct {
    uv_write_t req;
    conn_t *conn;
    char *head;
    char *body;
    int final; /* the answer (not a 100 Continue) */
    /* A streamed chunk's producer, told when it is written or lost. */
    http_stream_fn on_written;
    void *arg;
} conn_write_t;

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int listener_closed;
    int destroyed;
    http_server_options_t opt;
    http_server_callbacks_t cb;
    conn_t **slots;
    uint32_t *free_slots;
    size_t n_free, n_conns;
    uint32_t next_gen;
    int draining;
    int port;
    time_t date_sec;
    char date[64];
};

static const char *http_server_reason(int status)
{
    const char *s = http_status_str((enum http_status)status);
    return s && *s ? s : "Unknown";
}

http_server_t *http_server_new(uv_loop_t *loop, const http_server_options_t *opt,
                               const http_server_callbacks_t *cb)
{
    http_server_t *self = xcalloc(1, sizeof *self);
    self->loop = loop;
    self->opt = *opt;
    self->cb = *cb;
    self->slots = xcalloc(opt->max_connections, sizeof *self->slots);
    self->free_slots = xcalloc(opt->max_connections, sizeof *self->free_slots);
    for (size_t i = 0; i < opt->max_connections; i++)
        self->free_slots[i] = (uint32_t)(opt->max_connections - 1 - i);
    self->n_free = opt->max_connections;
    self->next_gen = 1;
    uv_tcp_init(loop, &self->listener);
    self->listener.data = self;
    return self;
}

static const char *http_server_date(http_server_t *self)
{
    time_t now = time(NULL);
    if (now != self->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(self->date, sizeof self->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        self->date_sec = now;
    }
    return self->date;
}

/* ------------------------------------------------------------ closing */

static void conn_on_close(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->open_handles > 0)
        return;
    http_reader_destroy(&c->reader);
    free(c->buf);
    free(c);
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    http_server_t *s = c->server;
    c->closing = 1;
    c->gen = 0;
    s->slots[c->slot] = NULL;
    s->free_slots[s->n_free++] = c->slot;
    s->n_conns--;
    uv_close((uv_handle_t *)&c->tcp, conn_on_close);
    uv_close((uv_handle_t *)&c->timer, conn_on_close);
}

static void conn_on_timeout(uv_timer_t *t);

static void conn_arm(conn_t *c, uint64_t ms)
{
    uv_timer_start(&c->timer, conn_on_timeout, ms, 0);
}

static void conn_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn_t *c = h->data;
    if (!c->buf)
        c->buf = xmalloc(HTTP_READ_BUF);
    if (c->state == CONN_LINGER)
        c->buf_len = c->buf_off = 0;
    if (c->buf_off > 0) { /* the reader copies what it keeps: bytes may move */
        memmove(c->buf, c->buf + c->buf_off, c->buf_len - c->buf_off);
        c->buf_len -= c->buf_off;
        c->buf_off = 0;
    }
    *buf = uv_buf_init(c->buf + c->buf_len, (unsigned)(HTTP_READ_BUF - c->buf_len));
}

static void conn_process(conn_t *c);
static void conn_read_stop(conn_t *c);

static void conn_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    conn_t *c = stream->data;
    if (nread == 0 || c->closing)
        return;
    if (nread == UV_EOF &&
        (c->state == CONN_WAITING || c->state == CONN_WRITING || c->state == CONN_STREAMING)) {
        /* Half-closed after its requests: they are still answered, and
         * reading again after the last one fails, which closes. */
        conn_read_stop(c);
        return;
    }
    if (nread < 0) {
        /* EOF or error: nothing more can be read; whatever was partial is
         * abandoned. */
        conn_close(c);
        return;
    }
    if (c->state == CONN_LINGER)
        return;
    c->buf_len += (size_t)nread;
    conn_process(c);
    /* Reading goes on while a request is answered (stopping and restarting
     * it costs system calls on every request); only a client that pipelines
     * a full buffer ahead is paused, and resumes when the answer is out. */
    if (c->state != CONN_READING && c->buf_len - c->buf_off == HTTP_READ_BUF)
        conn_read_stop(c);
}

static void conn_read_start(conn_t *c)
{
    if (!c->reading && !c->closing) {
        if (uv_read_start((uv_stream_t *)&c->tcp, conn_on_alloc, conn_on_read) == 0)
            c->reading = 1;
        else
            conn_close(c);
    }
}

static void conn_read_stop(conn_t *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->data;
    free(req);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    /* Our FIN is out. Reading what the client still sends until its EOF
     * (briefly) keeps the kernel from answering it with a reset that could
     * destroy the response before the client reads it. */
    c->state = CONN_LINGER;
    conn_arm(c, HTTP_LINGER_MS);
    conn_read_start(c);
}

static void conn_shutdown(conn_t *c)
{
    uv_shutdown_t *req = xmalloc(sizeof *req);
    req->data = c;
    conn_read_stop(c);
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, conn_on_shutdown) != 0) {
        free(req);
        conn_close(c);
    }
}

/* ------------------------------------------------------------ writing */

/* The answer is out: shut down, or ready the reader for the next request. */
static void conn_next(conn_t *c)
{
    if (c->close_after) {
        conn_shutdown(c);
        return;
    }
    http_reader_next(c->reader);
    c->state = CONN_READING;
    c->request_timer = 0;
    c->continue_sent = 0;
    conn_arm(c, c->server->opt.idle_timeout_ms);
}

static void conn_written(conn_t *c)
{
    /* An answer given from inside conn_process (a local route, an error)
     * is noted: that loop moves on once the application has returned, so
     * the request stays valid meanwhile and nothing recurses. */
    if (c->processing) {
        c->written = 1;
        return;
    }
    conn_next(c);
    if (c->state != CONN_READING)
        return;
    conn_process(c);
    if (c->state == CONN_READING)
        conn_read_start(c);
}

static void conn_on_write(uv_write_t *req, int status)
{
    conn_write_t *w = (conn_write_t *)req;
    conn_t *c = w->conn;
    int final = w->final;
    http_stream_fn on_written = w->on_written;
    void *arg = w->arg;
    free(w->head);
    free(w->body);
    free(w);
    if (on_written && !c->detached)
        on_written(arg, status < 0 || c->closing ? -1 : 0);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (final)
        conn_written(c);
}

/* Writes at once when the socket takes it all (nearly always): a queued
 * uv_write costs allocations and, when it completes, an epoll_ctl. The
 * rest, if any, goes through uv_write, which keeps the order. `head` is
 * borrowed (copied only if some of it must wait); `body` is taken. */
static void conn_write(conn_t *c, const char *head, size_t head_len, char *body, size_t body_len,
                       int final)
{
    uv_buf_t bufs[2] = {uv_buf_init((char *)head, (unsigned)head_len),
                        uv_buf_init(body ? body : "", (unsigned)body_len)};
    unsigned nbufs = body_len ? 2 : 1;
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
    if (n < 0 && n != UV_EAGAIN) {
        free(body);
        conn_close(c);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    if (done == head_len + body_len) {
        free(body);
        if (final)
            conn_written(c);
        return;
    }
    conn_write_t *w = xcalloc(1, sizeof *w);
    w->conn = c;
    w->body = body;
    w->final = final;
    uv_buf_t *rest = bufs;
    if (done >= head_len) {
        rest++;
        nbufs--;
        done -= head_len;
    } else {
        w->head = xstrndup(head + done, head_len - done);
        bufs[0] = uv_buf_init(w->head, (unsigned)(head_len - done));
        done = 0;
    }
    rest->base += done;
    rest->len -= done;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, rest, nbufs, conn_on_write) != 0) {
        free(w->head);
        free(body);
        free(w);
        conn_close(c);
    }
}

/* Keeps the access log's path printable and unquoted: the request target
 * without its query, non-printables, quotes and spaces as '?'. */
static void http_server_log_path(const http_request_t *req, char *out, size_t outlen)
{
    size_t n = 0;
    if (req && req->path) {
        for (size_t i = 0; i < req->path_len && n + 1 < outlen && n < 256; i++) {
            char ch = req->path[i];
            out[n++] = (ch <= ' ' || ch > '~' || ch == '"' || ch == '\\') ? '?' : ch;
        }
    }
    if (n == 0 && outlen > 1)
        out[n++] = '-';
    out[n] = '\0';
}

/* Appends `len` bytes of `s` to head[*n]; returns 0, or -1 when they do
 * not fit. */
static int head_put(char *head, size_t *n, const char *s, size_t len)
{
    if (len >= HTTP_HEAD_MAX - *n)
        return -1;
    memcpy(head + *n, s, len);
    *n += len;
    return 0;
}

static int head_puts(char *head, size_t *n, const char *s)
{
    return head_put(head, n, s, strlen(s));
}

/* Formats the status line and headers into `head` (HTTP_HEAD_MAX bytes):
 * Content-Length `len`, or chunked framing when `chunked`, or neither for
 * statuses without a body. Returns the length, or -1 when it does not fit
 * (only huge extra headers, a programmer error, get there). Pieces are
 * copied, not formatted: snprintf with a conversion per piece was a
 * fifth of the gateway's own instructions per request. */
static int conn_head(conn_t *c, char *head, int status, const http_header_t *headers,
                     size_t n_headers, const char *content_type, size_t len, int chunked)
{
    http_server_t *s = c->server;
    /* Statuses are three digits (100 to 599). */
    char line[64] = "HTTP/1.1 000 ";
    line[9] = (char)('0' + status / 100 % 10);
    line[10] = (char)('0' + status / 10 % 10);
    line[11] = (char)('0' + status % 10);
    size_t n = 0;
    int bad = head_put(head, &n, line, 13) || head_puts(head, &n, http_server_reason(status)) ||
              head_puts(head, &n, "\r\nDate: ") || head_puts(head, &n, http_server_date(s)) ||
              head_puts(head, &n, "\r\n");
    if (status == 204 || status == 304) /* RFC 9110: no body, nothing to type */
        content_type = NULL;
    else if (chunked)
        bad = bad || head_puts(head, &n, "Transfer-Encoding: chunked\r\n");
    else
        bad = bad || head_put(head, &n, line,
                              (size_t)snprintf(line, sizeof line, "Content-Length: %zu\r\n", len));
    if (content_type)
        bad = bad || head_puts(head, &n, "Content-Type: ") || head_puts(head, &n, content_type) ||
              head_puts(head, &n, "\r\n");
    if (c->close_after)
        bad = bad || head_puts(head, &n, "Connection: close\r\n");
    /* Every 503 is a passing condition (overload, a service down, shutdown). */
    if (status == 503)
        bad = bad || head_puts(head, &n, "Retry-After: 1\r\n");
    for (size_t i = 0; i < n_headers && !bad; i++)
        bad = head_puts(head, &n, headers[i].name) || head_puts(head, &n, ": ") ||
              head_puts(head, &n, headers[i].value) || head_puts(head, &n, "\r\n");
    if (bad || head_puts(head, &n, "\r\n")) {
        log_error("response head too long", "status=%d", status);
        return -1;
    }
    return (int)n;
}

/* The access log line and the metrics callback of an answer of `len`
 * bytes. */
static void conn_account(conn_t *c, const http_request_t *req, int status, size_t len, int route)
{
    http_server_t *s = c->server;
    uint64_t duration_us = (uv_hrtime() - c->done_ns) / 1000;
    if (s->opt.access_log) {
        char path[260];
        http_server_log_path(req, path, sizeof path);
        log_info("request", "method=%s path=%s status=%d duration_ms=%.3f bytes=%zu",
                 req ? http_method_str((enum http_method)req->method) : "-", path, status,
                 (double)duration_us / 1000.0, len);
    }
    if (s->cb.on_done)
        s->cb.on_done(s->cb.arg, route, status, duration_us);
}

/* Writes status line, headers and body; `req` may be NULL (reader errors). */
static void conn_answer(conn_t *c, const http_request_t *req, int status,
                        const http_header_t *headers, size_t n_headers, const char *content_type,
                        char *body, size_t len, int route)
{
    http_server_t *s = c->server;
    if (!req || !req->keep_alive || s->draining)
        c->close_after = 1;
    if (status == 204 || status == 304) {
        free(body);
        body = NULL;
        len = 0;
    }
    /* Formatted on the stack: conn_write copies it only in the rare case
     * that the socket does not take it at once. */
    char head[HTTP_HEAD_MAX];
    int n = conn_head(c, head, status, headers, n_headers, content_type, len, 0);
    if (n < 0) {
        free(body);
        conn_close(c);
        return;
    }
    conn_account(c, req, status, len, route);
    c->state = CONN_WRITING;
    c->gen = 0;
    conn_arm(c, s->opt.request_timeout_ms);
    conn_write(c, head, (size_t)n, body, len, 1);
}

static void conn_error(conn_t *c, const http_request_t *req, int status, const char *message)
{
    size_t len = 0;
    char *body = apierror_body(apierror_code_for_http(status), message, NULL, 0, &len);
    c->close_after = 1;
    conn_read_stop(c);
    c->done_ns = uv_hrtime();
    conn_answer(c, req, status, NULL, 0, "application/json", body, len, -1);
}

/* ------------------------------------------------------------ reading */

static void conn_dispatch(conn_t *c)
{
    http_server_t *s = c->server;
    uv_timer_stop(&c->timer);
    c->state = CONN_WAITING;
    c->done_ns = uv_hrtime();
    c->gen = s->next_gen++;
    if (s->next_gen == 0)
        s->next_gen = 1;
    http_ref_t ref = {c->slot, c->gen};
    s->cb.on_request(s->cb.arg, ref, http_reader_request(c->reader));
}

static void conn_send_continue(conn_t *c)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->continue_sent = 1;
    conn_write(c, line, sizeof line - 1, NULL, 0, 0);
}

static void conn_process(conn_t *c)
{
    c->processing = 1;
    while (c->state == CONN_READING && !c->closing && c->buf_off < c->buf_len) {
        size_t used = 0;
        http_reader_result_t r =
            http_reader_feed(c->reader, c->buf + c->buf_off, c->buf_len - c->buf_off, &used);
        c->buf_off += used;
        if (!c->request_timer && http_reader_started(c->reader)) {
            c->request_timer = 1;
            conn_arm(c, c->server->opt.request_timeout_ms);
        }
        if (r == HTTP_READER_DONE) {
            conn_dispatch(c);
        } else if (r == HTTP_READER_ERROR) {
            const char *msg = NULL;
            int status = http_reader_error(c->reader, &msg);
            conn_error(c, NULL, status, msg);
        }
        if (r != HTTP_READER_MORE) {
            if (c->written && !c->closing)
                conn_next(c);
            c->written = 0;
        } else {
            if (http_reader_headers_done(c->reader) && !c->continue_sent &&
                http_reader_expects_continue(c->reader))
                conn_send_continue(c);
            break;
        }
    }
    c->processing = 0;
    /* Bytes left over belong to pipelined requests and wait where they are
     * (conn_on_alloc makes room when more arrive). */
    if (c->buf_off == c->buf_len)
        c->buf_off = c->buf_len = 0;
}

static void conn_on_timeout(uv_timer_t *t)
{
    conn_t *c = t->data;
    if (c->closing)
        return;
    if (c->state == CONN_READING && http_reader_started(c->reader)) {
        conn_error(c, NULL, 408, "request not received in time");
        return;
    }
    /* Idle, a stalled write, or the end of lingering. */
    conn_close(c);
}

/* ------------------------------------------------------------ accepting */

typedef struct {
    uv_tcp_t tcp;
} refused_t;

static void http_server_on_refused_close(uv_handle_t *h)
{
    free(h->data);
}

static void http_server_refuse(http_server_t *s)
{
    refused_t *r = xmalloc(sizeof *r);
    uv_tcp_init(s->loop, &r->tcp);
    r->tcp.data = r;
    if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&r->tcp) == 0) {
        static const char body[] =
            "{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"too many connections\","
            "\"fields\":[]}}";
        char head[256];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\nRetry-After: 1\r\n\r\n%s",
                         sizeof body - 1, body);
        uv_buf_t b = uv_buf_init(head, (unsigned)n);
        uv_try_write((uv_stream_t *)&r->tcp, &b, 1);
    }
    uv_close((uv_handle_t *)&r->tcp, http_server_on_refused_close);
    if (s->cb.on_refused)
        s->cb.on_refused(s->cb.arg);
}

static void http_server_on_connection(uv_stream_t *listener, int status)
{
    http_server_t *s = listener->data;
    if (status < 0) {
        log_warn("accept failed", "error=\"%s\"", uv_strerror(status));
        return;
    }
    if (s->n_free == 0 || s->draining) {
        http_server_refuse(s);
        return;
    }
    conn_t *c = xcalloc(1, sizeof *c);
    c->server = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, conn_on_close);
        uv_close((uv_handle_t *)&c->timer, conn_on_close);
        return;
    }
    c->slot = s->free_slots[--s->n_free];
    s->slots[c->slot] = c;
    s->n_conns++;
    c->reader = http_reader_new(&s->opt.limits);
    c->state = CONN_READING;
    uv_tcp_nodelay(&c->tcp, 1);
    /* A new connection must send its first request within the request
     * timeout. */
    conn_arm(c, s->opt.request_timeout_ms);
    conn_read_start(c);
}

int http_server_listen(http_server_t *self, const char *address, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || (size_t)(colon - address) >= sizeof host) {
        snprintf(err, errlen, "address '%s' is not host:port", address);
        return -1;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535) {
        snprintf(err, errlen, "address '%s': bad port", address);
        return -1;
    }
    struct sockaddr_storage ss;
    size_t hl = strlen(host);
    int rc;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        rc = uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)&ss);
    } else {
        rc = uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss);
    }
    if (rc == 0)
        rc = uv_tcp_bind(&self->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&self->listener, HTTP_BACKLOG, http_server_on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", address, uv_strerror(rc));
        return -1;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&self->listener, (struct sockaddr *)&bound, &blen);
    self->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                   : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

int http_server_port(const http_server_t *self)
{
    return self->port;
}

/* The connection `ref` names, if it is still the same one and in `state`
 * (CONN_WAITING for an answer, CONN_STREAMING for a stream's pieces). */
static conn_t *http_server_lookup(const http_server_t *self, http_ref_t ref, conn_state_t state)
{
    if (ref.slot >= self->opt.max_connections || ref.gen == 0)
        return NULL;
    conn_t *c = self->slots[ref.slot];
    if (!c || c->closing || c->gen != ref.gen || c->state != state)
        return NULL;
    return c;
}

int http_server_respond(http_server_t *self, http_ref_t ref, int status,
                        const http_header_t *headers, size_t n_headers, const char *content_type,
                        char **body, size_t len, int route)
{
    char *b = body ? *body : NULL;
    if (body)
        *body = NULL;
    conn_t *c = http_server_lookup(self, ref, CONN_WAITING);
    if (!c) {
        free(b);
        return -1;
    }
    conn_answer(c, http_reader_request(c->reader), status, headers, n_headers, content_type, b,
                b ? len : 0, route);
    return 0;
}

/* ------------------------------------------------------------ streaming */

/* Queues bytes through uv_write, so that `on_written` always runs later,
 * from the loop. */
static int conn_queue(conn_t *c, char *head, size_t head_len, char *body, size_t body_len,
                      int final, http_stream_fn on_written, void *arg)
{
    conn_write_t *w = xcalloc(1, sizeof *w);
    w->conn = c;
    w->head = head;
    w->body = body;
    w->final = final;
    w->on_written = on_written;
    w->arg = arg;
    uv_buf_t bufs[3] = {uv_buf_init(head, (unsigned)head_len),
                        uv_buf_init(body ? body : "", (unsigned)body_len),
                        uv_buf_init((char *)"\r\n", c->chunked && body_len ? 2 : 0)};
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, 3, conn_on_write) != 0) {
        free(w->head);
        free(w->body);
        free(w);
        conn_close(c);
        return -1;
    }
    return 0;
}

int http_server_stream_start(http_server_t *self, http_ref_t ref, int status,
                             const http_header_t *headers, size_t n_headers,
                             const char *content_type, uint64_t size, int route)
{
    conn_t *c = http_server_lookup(self, ref, CONN_WAITING);
    if (!c)
        return -1;
    const http_request_t *req = http_reader_request(c->reader);
    if (!req->keep_alive || self->draining)
        c->close_after = 1;
    c->chunked = !req->http_1_0;
    char head[HTTP_HEAD_MAX];
    int n = conn_head(c, head, status, headers, n_headers, content_type, (size_t)size, c->chunked);
    if (n < 0) {
        conn_close(c);
        return -1;
    }
    conn_account(c, req, status, (size_t)size, route);
    c->state = CONN_STREAMING;
    c->detached = 0;
    conn_arm(c, self->opt.request_timeout_ms);
    return conn_queue(c, xstrndup(head, (size_t)n), (size_t)n, NULL, 0, 0, NULL, NULL);
}

int http_server_stream_write(http_server_t *self, http_ref_t ref, char **data, size_t len,
                             http_stream_fn on_written, void *arg)
{
    char *body = *data;
    *data = NULL;
    conn_t *c = http_server_lookup(self, ref, CONN_STREAMING);
    if (!c || len == 0) {
        free(body);
        return -1;
    }
    /* Each chunk written in time restarts the write timeout: a reader
     * that keeps up is never cut off, one that stalls is. */
    conn_arm(c, self->opt.request_timeout_ms);
    char *size = NULL;
    size_t size_len = 0;
    if (c->chunked) {
        size = xasprintf("%zx\r\n", len);
        size_len = strlen(size);
    }
    return conn_queue(c, size, size_len, body, len, 0, on_written, arg);
}

int http_server_stream_end(http_server_t *self, http_ref_t ref)
{
    conn_t *c = http_server_lookup(self, ref, CONN_STREAMING);
    if (!c)
        return -1;
    c->gen = 0;
    c->state = CONN_WRITING;
    const char *last = c->chunked ? "0\r\n\r\n" : "";
    return conn_queue(c, xstrdup(last), strlen(last), NULL, 0, 1, NULL, NULL);
}

int http_server_stream_abort(http_server_t *self, http_ref_t ref)
{
    conn_t *c = http_server_lookup(self, ref, CONN_STREAMING);
    if (!c)
        return 0;
    c->detached = 1;
    conn_close(c);
    return 1;
}

size_t http_server_connections(const http_server_t *self)
{
    return self->n_conns;
}

static void http_server_free(http_server_t *self)
{
    free(self->slots);
    free(self->free_slots);
    free(self);
}

static void http_server_on_listener_close(uv_handle_t *h)
{
    http_server_t *self = h->data;
    self->listener_closed = 1;
    if (self->destroyed)
        http_server_free(self);
}

void http_server_drain(http_server_t *self)
{
    self->draining = 1;
    if (!uv_is_closing((uv_handle_t *)&self->listener))
        uv_close((uv_handle_t *)&self->listener, http_server_on_listener_close);
    for (size_t i = 0; i < self->opt.max_connections; i++) {
        conn_t *c = self->slots[i];
        if (c && c->state == CONN_READING && !http_reader_started(c->reader))
            conn_close(c);
    }
}

void http_server_destroy(http_server_t **self_p)
{
    http_server_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    for (size_t i = 0; i < self->opt.max_connections; i++)
        if (self->slots[i])
            conn_close(self->slots[i]);
    self->destroyed = 1;
    if (self->listener_closed)
        http_server_free(self);
    else if (!uv_is_closing((uv_handle_t *)&self->listener))
        uv_close((uv_handle_t *)&self->listener, http_server_on_listener_close);
}
