/* zwatch: a ZeroMQ socket inside the libuv loop.
 *
 * ZMQ_FD only signals edges, and any send or receive on the socket may
 * consume the edge that announced a waiting message. Asking ZMQ_EVENTS
 * every loop turn would be correct but costs two system calls per socket
 * per turn (libzmq checks its mailbox with getpid and poll), which was the
 * gateway's largest cost under load. So a zwatch keeps a "maybe readable"
 * flag instead: set when the fd's uv_poll fires and when the owner sends
 * on the socket (zwatch_kick), cleared only when a receive finds nothing,
 * the one receive that also consumes any pending edge. While the flag is
 * set, a uv_prepare starts a no-op uv_idle (the loop must not block) and a
 * uv_check delivers up to ZWATCH_BATCH messages per turn, so that HTTP and
 * timers get their turn. See docs/gateway.md and architecture-notes.md §3. */
#ifndef CONCERTO_GW_ZWATCH_H
#define CONCERTO_GW_ZWATCH_H

#include <uv.h>

#define ZWATCH_BATCH 64

typedef struct zwatch zwatch_t;

/* Receives (whole) at most one message from `sock` with ZMQ_DONTWAIT.
 * Returns 1 when it took one (even a malformed one it dropped), 0 when
 * none was waiting. */
typedef int (*zwatch_fn)(void *sock, void *arg);

/* Watches `sock` (borrowed until zwatch_destroy). NULL on failure. */
zwatch_t *zwatch_new(uv_loop_t *loop, void *sock, zwatch_fn fn, void *arg);

/* Says the socket may hold messages the fd will not announce: call after
 * every send on it made outside this zwatch's own callback. Costs nothing
 * until the next loop turn. */
void zwatch_kick(zwatch_t *self);

/* Stops watching and closes the loop handles; the memory goes in their close
 * callbacks. With `close_socket`, the socket is zmq_close'd after its poll
 * handle is closed (never before, per libuv's poll rules). */
void zwatch_destroy(zwatch_t **self_p, int close_socket);

#endif
