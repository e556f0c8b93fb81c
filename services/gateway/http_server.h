/* http_server: the gateway's HTTP/1.1 server on libuv.
 *
 * One request at a time per connection: when a request is complete the
 * server stops reading (uv_read_stop; pipelined bytes stay buffered) and
 * hands it to the application; when the application's answer has been
 * written, it reads the next request. So pipelined requests are answered in
 * order, and a client that floods us only fills its own socket buffer.
 *
 * The application answers through a reference (slot + generation), never a
 * pointer: when a connection closes, or its slot is reused, references to
 * it go stale and answers to them are dropped (http_server_respond returns
 * -1). Connection memory is freed only in uv_close callbacks.
 *
 * Limits: the request reader's (URL 414, header block 431, body 413,
 * chunked 411, malformed 400 — each answered with a JSON error and a
 * close), the number of connections (beyond it a connection gets a 503 and
 * is closed), a request-read timeout from a request's first byte (408 and
 * close; also the write timeout) and an idle timeout between requests
 * (silent close). */
#ifndef CONCERTO_GW_HTTP_SERVER_H
#define CONCERTO_GW_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http_request.h"

typedef struct http_server http_server_t;

typedef struct {
    uint32_t slot;
    uint32_t gen;
} http_ref_t;

typedef struct {
    const char *name;
    const char *value;
} http_header_t;

typedef struct {
    http_limits_t limits;
    size_t max_connections;
    uint64_t request_timeout_ms; /* from a request's first byte to its last; and writes */
    uint64_t idle_timeout_ms;    /* between requests on a keep-alive connection */
    int access_log;              /* one log line per answer */
} http_server_options_t;

/* A complete request. `req` stays valid until the answer is given. */
typedef void (*http_server_request_fn)(void *arg, http_ref_t ref, const http_request_t *req);
/* After each answer, for metrics: the route passed to respond (-1 for the
 * server's own errors), the status and the time since the request's last
 * byte. */
typedef void (*http_server_done_fn)(void *arg, int route, int status, uint64_t duration_us);
typedef void (*http_server_refused_fn)(void *arg);

typedef struct {
    http_server_request_fn on_request;
    http_server_done_fn on_done;
    http_server_refused_fn on_refused;
    void *arg;
} http_server_callbacks_t;

http_server_t *http_server_new(uv_loop_t *loop, const http_server_options_t *opt,
                               const http_server_callbacks_t *cb);

/* Binds and listens on "host:port" ("127.0.0.1:8080", "[::]:8080", port 0
 * for any). Returns 0, or -1 with a message. */
int http_server_listen(http_server_t *self, const char *address, char *err, size_t errlen);
/* The port actually bound. */
int http_server_port(const http_server_t *self);

/* Answers the request `ref` names: status, extra headers, a body (taken:
 * freed by the server; may be NULL with len 0) of `content_type`. `route`
 * is the metrics label index. A 503 gets `Retry-After: 1` from the server.
 * Returns 0, or -1 if the reference is stale (the body is freed all the
 * same). */
int http_server_respond(http_server_t *self, http_ref_t ref, int status,
                        const http_header_t *headers, size_t n_headers, const char *content_type,
                        char **body, size_t len, int route);

/* Streamed answers, for bodies too large to hold (documents read from a
 * service in parts): the head now, the body in pieces, each written before
 * the next is asked for, framed with chunked transfer encoding (HTTP/1.0
 * clients get Content-Length `size` and the raw bytes instead). Each piece
 * written in time restarts the write timeout. A stream that cannot go on
 * is aborted: the connection closes, so the client sees the body cut
 * short, never a truncated body that looks whole. */

/* Told, from the loop and never from inside a call, that a piece has been
 * written (status 0) or will never be (-1: the connection is gone). */
typedef void (*http_stream_fn)(void *arg, int status);

/* Sends the head of a streamed answer to `ref`; the reference stays valid
 * until the stream ends. `size` is the body's length (access log; the
 * Content-Length of HTTP/1.0). Returns 0, or -1 when the reference is
 * stale. */
int http_server_stream_start(http_server_t *self, http_ref_t ref, int status,
                             const http_header_t *headers, size_t n_headers,
                             const char *content_type, uint64_t size, int route);
/* Queues a piece of the body (taken; `len` > 0); `on_written` runs once it
 * has been written or lost. Returns 0, or -1 when the connection is gone
 * (the piece is freed and `on_written` never runs). */
int http_server_stream_write(http_server_t *self, http_ref_t ref, char **data, size_t len,
                             http_stream_fn on_written, void *arg);
/* Ends the body; the connection then serves its next request. */
int http_server_stream_end(http_server_t *self, http_ref_t ref);
/* Closes the connection of a stream that cannot be finished. Returns 1
 * when it did: no `on_written` of that stream runs after it. Returns 0 when
 * the connection was gone already: a piece still being written is then
 * reported lost (-1) as usual. */
int http_server_stream_abort(http_server_t *self, http_ref_t ref);

size_t http_server_connections(const http_server_t *self);

/* Stops accepting, closes idle connections and lets busy ones finish their
 * current answer (then closes them). */
void http_server_drain(http_server_t *self);
/* Closes everything now; memory goes in the close callbacks. */
void http_server_destroy(http_server_t **self_p);

#endif
