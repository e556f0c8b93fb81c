/* zwatch: ZeroMQ sockets in the libuv loop (see zwatch.h). */
#include "zwatch.h"

#include <stdlib.h>
#include <zmq.h>

#include "xalloc.h"

struct zwatch {
    uv_poll_t poll;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_idle_t idle;
    void *sock;
    zwatch_fn fn;
    void *arg;
    int open_handles;
    int close_socket;
    int maybe_readable; /* a receive may find a message */
};

/* Readable or not, the fd says "look": the check watcher does the work. */
static void zwatch_on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    zwatch_t *self = h->data;
    self->maybe_readable = 1;
}

static void zwatch_on_idle(uv_idle_t *h)
{
    (void)h;
}

static void zwatch_on_prepare(uv_prepare_t *h)
{
    zwatch_t *self = h->data;
    if (self->maybe_readable)
        uv_idle_start(&self->idle, zwatch_on_idle);
    else
        uv_idle_stop(&self->idle);
}

static void zwatch_on_check(uv_check_t *h)
{
    zwatch_t *self = h->data;
    for (int i = 0; i < ZWATCH_BATCH && self->maybe_readable; i++)
        if (!self->fn(self->sock, self->arg))
            self->maybe_readable = 0;
}

void zwatch_kick(zwatch_t *self)
{
    self->maybe_readable = 1;
}

zwatch_t *zwatch_new(uv_loop_t *loop, void *sock, zwatch_fn fn, void *arg)
{
    int fd = -1;
    size_t len = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
        return NULL;
    zwatch_t *self = xcalloc(1, sizeof *self);
    self->sock = sock;
    self->fn = fn;
    self->arg = arg;
    self->maybe_readable = 1;
    /* ZMQ_FD is an eventfd on Linux, not a socket: uv_poll_init. */
    if (uv_poll_init(loop, &self->poll, fd) != 0) {
        free(self);
        return NULL;
    }
    uv_prepare_init(loop, &self->prepare);
    uv_check_init(loop, &self->check);
    uv_idle_init(loop, &self->idle);
    self->poll.data = self->prepare.data = self->check.data = self->idle.data = self;
    self->open_handles = 4;
    uv_poll_start(&self->poll, UV_READABLE, zwatch_on_poll);
    uv_prepare_start(&self->prepare, zwatch_on_prepare);
    uv_check_start(&self->check, zwatch_on_check);
    return self;
}

static void zwatch_on_close(uv_handle_t *h)
{
    zwatch_t *self = h->data;
    if (h == (uv_handle_t *)&self->poll && self->close_socket) {
        zmq_close(self->sock);
        self->sock = NULL;
    }
    if (--self->open_handles == 0)
        free(self);
}

void zwatch_destroy(zwatch_t **self_p, int close_socket)
{
    zwatch_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    self->close_socket = close_socket;
    uv_close((uv_handle_t *)&self->poll, zwatch_on_close);
    uv_close((uv_handle_t *)&self->prepare, zwatch_on_close);
    uv_close((uv_handle_t *)&self->check, zwatch_on_close);
    uv_close((uv_handle_t *)&self->idle, zwatch_on_close);
}
