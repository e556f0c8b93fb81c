/* ceiling-hop: the fastest gateway-shaped path this stack allows.
 *
 * Bare libuv + http-parser server that forwards each request over one
 * ZeroMQ DEALER to ceiling-store's ROUTER (one SQLite SELECT) and answers
 * with the row as JSON. One request at a time per connection: the parser is
 * paused and reading stopped while a request is at the store, and resumed
 * (with any pipelined bytes kept) when its reply is written.
 *
 * ZeroMQ in the loop as the gateway does it (services/gateway/zwatch.h):
 * a uv_poll on ZMQ_FD and every send set a "maybe readable" flag (a send
 * may have eaten the edge); while it is set, uv_prepare keeps an idle
 * handle running so the loop does not block, and uv_check drains a bounded
 * batch of whole messages; a receive that finds nothing clears it. (Asking
 * ZMQ_EVENTS every turn costs two system calls each time.) Reading goes on
 * while a request is at the store, into the connection's buffer, so that
 * reading is not stopped and restarted on every request.
 * Replies are matched by slot and generation, so a late reply for a closed
 * connection is dropped. There is no deadline: a benchmark assumes the
 * store is up (the gateway proper answers 504).
 *
 * Requests are one frame, [tag: 8 bytes][key: 4-byte int]; replies one
 * frame, [tag][name], the name empty when the key is not found.
 *
 * Usage: ceiling-hop PORT STORE_ENDPOINT   (listens on 127.0.0.1) */
#include <errno.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#define IN_SIZE 16384
#define MAX_CONNS 4096
#define ROWS 1000
#define BATCH 64

static const char RESP_BAD[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n";

typedef struct {
    uv_tcp_t tcp;
    http_parser parser;
    uint32_t slot;
    int32_t key;
    int pending;    /* a request is at the store */
    int keep_alive; /* of the request being answered */
    int closing;
    int reading;
    char in[IN_SIZE];
    size_t in_off, in_len; /* unparsed bytes kept while paused */
    char out[512];
    uv_write_t write;
    uv_buf_t out_buf;
    uv_shutdown_t shutdown;
} conn_t;

static http_parser_settings settings;
static void *dealer;
static uv_poll_t zpoll;
static uv_prepare_t zprepare;
static uv_check_t zcheck;
static uv_idle_t zidle;
static conn_t *slots[MAX_CONNS];
static uint32_t generation[MAX_CONNS];
static uint32_t free_slots[MAX_CONNS];
static uint32_t n_free;
static int32_t next_key;
static int maybe_readable = 1; /* a receive on the DEALER may find a reply */

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void conn_parse(conn_t *c);

static void on_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    slots[c->slot] = NULL;
    generation[c->slot]++; /* any reply still coming is now stale */
    free_slots[n_free++] = c->slot;
    free(c);
}

static void on_rejected(uv_handle_t *h)
{
    free(h->data);
}

static void conn_close(conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->handle->data);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    conn_t *c = h->data;
    (void)hint;
    if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(sizeof c->in - c->in_len));
}

static void conn_read(conn_t *c, int on)
{
    if (on && !c->reading)
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    else if (!on && c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = on;
}

/* The answer is out: close, or go on with the next request. */
static void conn_written(conn_t *c)
{
    if (!c->keep_alive || c->closing) {
        c->closing = 1;
        if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
            conn_close(c);
        return;
    }
    /* Next request: first whatever was pipelined behind this one. */
    http_parser_pause(&c->parser, 0);
    conn_parse(c);
}

static void on_written(uv_write_t *req, int status)
{
    conn_t *c = req->handle->data;
    if (status != 0 || uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    conn_written(c);
}

/* With `now` (not from inside the parser), writes at once when the socket
 * takes it all, as the gateway does: a queued uv_write costs an epoll_ctl
 * when it completes. */
static void conn_respond(conn_t *c, int code, const char *body, int now)
{
    static const char *reason[] = {[0] = "OK", [1] = "Not Found", [2] = "Service Unavailable"};
    int r = code == 200 ? 0 : code == 404 ? 1 : 2;
    int len =
        snprintf(c->out, sizeof c->out,
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n%s\r\n%s",
                 code, reason[r], strlen(body), c->keep_alive ? "" : "Connection: close\r\n", body);
    c->out_buf = uv_buf_init(c->out, (unsigned)len);
    int n = now ? uv_try_write((uv_stream_t *)&c->tcp, &c->out_buf, 1) : 0;
    if (n == len) {
        conn_written(c);
        return;
    }
    if (n > 0) {
        c->out_buf.base += n;
        c->out_buf.len -= (size_t)n;
    }
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &c->out_buf, 1, on_written) != 0)
        conn_close(c);
}

static void conn_fail(conn_t *c)
{
    c->closing = 1;
    c->out_buf = uv_buf_init((char *)RESP_BAD, sizeof RESP_BAD - 1);
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &c->out_buf, 1, on_written) != 0)
        conn_close(c);
}

static int on_message_complete(http_parser *p)
{
    conn_t *c = p->data;
    c->keep_alive = http_should_keep_alive(p);
    http_parser_pause(p, 1); /* one request at a time */
    c->key = next_key % ROWS + 1;
    next_key++;
    char req[12]; /* tag (slot, generation), then the key */
    uint64_t tag = (uint64_t)c->slot << 32 | generation[c->slot];
    memcpy(req, &tag, 8);
    memcpy(req + 8, &c->key, 4);
    maybe_readable = 1;
    if (zmq_send(dealer, req, sizeof req, ZMQ_DONTWAIT) < 0) {
        /* Not connected yet or at the high-water mark: answer, never block
         * (pitfall 5). */
        conn_respond(c, 503, "{\"error\":\"store unavailable\"}", 0);
        return 0;
    }
    c->pending = 1;
    return 0;
}

/* Parses the kept bytes unless a request is at the store. */
static void conn_parse(conn_t *c)
{
    if (c->in_off < c->in_len && !c->pending) {
        size_t n =
            http_parser_execute(&c->parser, &settings, c->in + c->in_off, c->in_len - c->in_off);
        c->in_off += n;
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (err != HPE_OK && err != HPE_PAUSED) {
            conn_read(c, 0);
            conn_fail(c);
            return;
        }
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    /* Only a client that pipelines a whole buffer ahead is paused. */
    conn_read(c, c->in_len - c->in_off < sizeof c->in);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->in_len += (size_t)n;
    conn_parse(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    c->parser.data = c;
    http_parser_init(&c->parser, HTTP_REQUEST);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || n_free == 0) {
        uv_close((uv_handle_t *)&c->tcp, on_rejected);
        return;
    }
    c->slot = free_slots[--n_free];
    slots[c->slot] = c;
    uv_tcp_nodelay(&c->tcp, 1);
    conn_read(c, 1);
}

/* Reads one whole reply, [tag][name] in one frame, and answers its
 * connection if it is still the one that asked. Returns 0 when none was
 * waiting. */
static int reply_one(void)
{
    char frame[256];
    int count = 0, more = 1;
    size_t len = 0;
    while (more) { /* every frame, even of a malformed reply (pitfall 4) */
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return count > 0;
        }
        if (count++ == 0 && (len = zmq_msg_size(&part)) <= sizeof frame)
            memcpy(frame, zmq_msg_data(&part), len);
        more = zmq_msg_more(&part);
        zmq_msg_close(&part);
    }
    uint64_t tag;
    if (count != 1 || len < sizeof tag || len > sizeof frame)
        return 1;
    memcpy(&tag, frame, sizeof tag);
    uint32_t slot = (uint32_t)(tag >> 32);
    if (slot >= MAX_CONNS)
        return 1;
    conn_t *c = slots[slot];
    if (!c || generation[slot] != (uint32_t)tag || !c->pending)
        return 1; /* stale: the connection closed meanwhile */
    c->pending = 0;
    const char *name = frame + sizeof tag;
    int name_len = (int)(len - sizeof tag);
    if (name_len == 0) {
        conn_respond(c, 404, "{\"error\":\"not found\"}", 1);
        return 1;
    }
    char body[320];
    snprintf(body, sizeof body, "{\"id\":%d,\"name\":\"%.*s\"}", (int)c->key, name_len, name);
    conn_respond(c, 200, body, 1);
    return 1;
}

static void on_zpoll(uv_poll_t *h, int status, int events)
{
    (void)h, (void)status, (void)events;
    maybe_readable = 1;
}

static void on_zidle(uv_idle_t *h)
{
    (void)h;
}

static void on_zprepare(uv_prepare_t *h)
{
    (void)h;
    if (maybe_readable)
        uv_idle_start(&zidle, on_zidle); /* do not block: replies may wait */
    else
        uv_idle_stop(&zidle);
}

static void on_zcheck(uv_check_t *h)
{
    (void)h;
    for (int i = 0; i < BATCH && maybe_readable; i++)
        if (!reply_one())
            maybe_readable = 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: %s PORT STORE_ENDPOINT\n", argv[0]);
        return 2;
    }
    http_parser_settings_init(&settings);
    settings.on_message_complete = on_message_complete;
    for (uint32_t i = 0; i < MAX_CONNS; i++)
        free_slots[n_free++] = MAX_CONNS - 1 - i;

    void *ctx = zmq_ctx_new();
    dealer = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, fd;
    size_t fd_size = sizeof fd;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(dealer, argv[2]) != 0 || zmq_getsockopt(dealer, ZMQ_FD, &fd, &fd_size) != 0) {
        fprintf(stderr, "ceiling-hop: cannot connect %s: %s\n", argv[2], zmq_strerror(errno));
        return 1;
    }

    uv_loop_t *loop = uv_default_loop();
    uv_poll_init(loop, &zpoll, fd); /* an eventfd, not a socket (pitfall 3) */
    uv_poll_start(&zpoll, UV_READABLE, on_zpoll);
    uv_prepare_init(loop, &zprepare);
    uv_prepare_start(&zprepare, on_zprepare);
    uv_check_init(loop, &zcheck);
    uv_check_start(&zcheck, on_zcheck);
    uv_idle_init(loop, &zidle);

    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &server);
    int rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 1024, on_connection);
    if (rc != 0) {
        fprintf(stderr, "ceiling-hop: cannot listen on port %s: %s\n", argv[1], uv_strerror(rc));
        return 1;
    }
    fprintf(stderr, "ceiling-hop: listening on 127.0.0.1:%s, store %s\n", argv[1], argv[2]);
    return uv_run(loop, UV_RUN_DEFAULT);
}
