/* zwatch: a ZeroMQ socket inside the libuv loop.
 *
 * ZMQ_FD only signals edges, and any send, receive or ZMQ_EVENTS call on
 * the socket may consume the edge that announced a waiting message. So the
 * fd's uv_poll only wakes the loop; the decision is always ZMQ_EVENTS, read
 * again every loop turn: a uv_prepare starts a no-op uv_idle when messages
 * wait (so the loop does not block in epoll), and a uv_check delivers up to
 * ZWATCH_BATCH messages per turn so that HTTP and timers get their turn.
 * A send made anywhere (an HTTP callback, a timer) therefore never strands a
 * reply. See docs/gateway.md and architecture-notes.md §3. */
#ifndef CONCERTO_GW_ZWATCH_H
#define CONCERTO_GW_ZWATCH_H

#include <uv.h>

#define ZWATCH_BATCH 64

typedef struct zwatch zwatch_t;

/* Called while ZMQ_EVENTS shows ZMQ_POLLIN; must receive (whole) at most
 * one message from `sock` with ZMQ_DONTWAIT. */
typedef void (*zwatch_fn)(void *sock, void *arg);

/* Watches `sock` (borrowed until zwatch_destroy). NULL on failure. */
zwatch_t *zwatch_new(uv_loop_t *loop, void *sock, zwatch_fn fn, void *arg);

/* Stops watching and closes the loop handles; the memory goes in their close
 * callbacks. With `close_socket`, the socket is zmq_close'd after its poll
 * handle is closed (never before, per libuv's poll rules). */
void zwatch_destroy(zwatch_t **self_p, int close_socket);

#endif
