/* ceiling-http: the fastest keep-alive HTTP/1.1 server this stack allows.
 *
 * Bare libuv + http-parser answering every request with a fixed small JSON
 * body: the upper bound for any gateway route, with no routing, no JSON and
 * no ZeroMQ. Pipelined requests are answered in order, in one write per read.
 *
 * Usage: ceiling-http PORT   (listens on 127.0.0.1) */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BODY "{\"status\":\"ok\"}"
#define HEAD "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"

static const char RESP_KEEP[] = HEAD "\r\n" BODY;
static const char RESP_CLOSE[] = HEAD "Connection: close\r\n\r\n" BODY;
static const char RESP_BAD[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n";

#define IN_SIZE 16384
#define OUT_SIZE 16384
#define WRITE_QUEUE_MAX (1024 * 1024) /* stop reading past this much unsent */

typedef struct {
    uv_tcp_t tcp;
    http_parser parser;
    char in[IN_SIZE];
    char out[OUT_SIZE];
    size_t out_len;
    int closing;
    int throttled; /* reading stopped until queued writes drain */
    uv_shutdown_t shutdown;
} conn_t;

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
    char data[];
} write_t;

static http_parser_settings settings;

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void conn_close(conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    conn_t *c = h->data;
    (void)hint;
    *buf = uv_buf_init(c->in, sizeof c->in);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status)
{
    uv_stream_t *s = req->handle;
    conn_t *c = s->data;
    free(req);
    if (status == 0 && c->throttled && !c->closing && uv_stream_get_write_queue_size(s) == 0 &&
        !uv_is_closing((uv_handle_t *)s)) {
        c->throttled = 0;
        uv_read_start(s, on_alloc, on_read);
    }
}

/* Sends what is buffered: directly when the socket takes it, else queued. */
static void conn_flush(conn_t *c)
{
    uv_stream_t *s = (uv_stream_t *)&c->tcp;
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
    int n = uv_stream_get_write_queue_size(s) ? 0 : uv_try_write(s, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    if (done < c->out_len) {
        size_t rest = c->out_len - done;
        write_t *w = malloc(sizeof *w + rest);
        if (!w)
            abort();
        memcpy(w->data, c->out + done, rest);
        w->buf = uv_buf_init(w->data, (unsigned)rest);
        if (uv_write(&w->req, s, &w->buf, 1, on_written) != 0) {
            free(w);
            conn_close(c);
            return;
        }
        if (!c->closing && uv_stream_get_write_queue_size(s) > WRITE_QUEUE_MAX) {
            c->throttled = 1;
            uv_read_stop(s);
        }
    }
    c->out_len = 0;
}

static void conn_respond(conn_t *c, const char *resp, size_t len)
{
    if (c->out_len + len > sizeof c->out)
        conn_flush(c);
    memcpy(c->out + c->out_len, resp, len);
    c->out_len += len;
}

static int on_message_complete(http_parser *p)
{
    conn_t *c = p->data;
    if (http_should_keep_alive(p)) {
        conn_respond(c, RESP_KEEP, sizeof RESP_KEEP - 1);
    } else {
        conn_respond(c, RESP_CLOSE, sizeof RESP_CLOSE - 1);
        c->closing = 1;
        http_parser_pause(p, 1); /* nothing after this request is answered */
    }
    return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->handle->data);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    size_t used = http_parser_execute(&c->parser, &settings, buf->base, (size_t)n);
    enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
    if (!c->closing && (err != HPE_OK || used != (size_t)n)) {
        conn_respond(c, RESP_BAD, sizeof RESP_BAD - 1);
        c->closing = 1;
    }
    conn_flush(c);
    if (c->closing && !uv_is_closing((uv_handle_t *)s)) {
        uv_read_stop(s);
        if (uv_shutdown(&c->shutdown, s, on_shutdown) != 0)
            conn_close(c);
    }
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
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    http_parser_settings_init(&settings);
    settings.on_message_complete = on_message_complete;

    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &server);
    int rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 1024, on_connection);
    if (rc != 0) {
        fprintf(stderr, "ceiling-http: cannot listen on port %s: %s\n", argv[1], uv_strerror(rc));
        return 1;
    }
    fprintf(stderr, "ceiling-http: listening on 127.0.0.1:%s\n", argv[1]);
    return uv_run(loop, UV_RUN_DEFAULT);
}
