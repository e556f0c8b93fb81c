/* transport: ZeroMQ sockets as every Concerto process sets them up, and
 * whole-message receive and send.
 *
 * A multipart message is always read to its last frame, even when it is
 * malformed or has too many frames, so the next read starts in step. */
#ifndef CONCERTO_TRANSPORT_H
#define CONCERTO_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "envelope.h"

#define TRANSPORT_MAX_FRAMES 4

typedef struct {
    int64_t max_frame; /* ZMQ_MAXMSGSIZE: larger frames drop the peer */
    int sndhwm;
    int rcvhwm;
    int heartbeat_ms; /* ZMTP heartbeats detect half-open TCP; 0 disables */
} transport_options_t;

/* Sensible defaults: 1 MiB frames, HWM 10,000, heartbeats every 2 s. */
void transport_options_default(transport_options_t *opt);

/* A new socket of `type` with the options applied, plus ZMQ_LINGER 0 and,
 * for ROUTER, ZMQ_ROUTER_MANDATORY. NULL on failure (errno set). */
void *transport_socket(void *ctx, int type, const transport_options_t *opt);

typedef struct {
    zmq_msg_t frames[TRANSPORT_MAX_FRAMES];
    int count;     /* frames kept */
    int truncated; /* the message had more frames than kept */
} transport_msg_t;

/* Receives one whole message. Returns 0, or -1 with errno (EAGAIN when
 * ZMQ_DONTWAIT finds nothing). On success the caller closes it with
 * transport_msg_close. */
int transport_recv(void *sock, transport_msg_t *msg, int flags);
void transport_msg_close(transport_msg_t *msg);
const void *transport_frame_data(transport_msg_t *msg, int i);
size_t transport_frame_size(transport_msg_t *msg, int i);

/* Sends `n` frames as one message. Returns 0, or -1 with errno. */
int transport_send(void *sock, const void *const *data, const size_t *lens, int n, int flags);

/* For a client's DEALER: waits up to `timeout_ms` for the reply envelope
 * whose correlation id is `id` (its last frame), skipping answers to other
 * requests and frames that are not valid envelopes (logged). Returns 1 with
 * *reply set (freed with envelope_free), 0 when the time is up, or -1 on a
 * socket error (errno set). */
int transport_await_reply(void *sock, const uint8_t id[16], int64_t timeout_ms, envelope_t **reply);

#endif
