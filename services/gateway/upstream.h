/* upstream: the gateway's link to one service.
 *
 * A DEALER to the service's ROUTER carries requests (one frame: a packed
 * Envelope); many are in flight at once, matched to replies by the reply
 * envelope's correlation_id in a pending table, each with a deadline. A SUB
 * to the service's PUB receives its Heartbeats. A service is known to be
 * down when it was never heard, when neither a heartbeat nor a reply came
 * for `heartbeat_misses` intervals, or when a socket monitor on the DEALER
 * reported its link closed (and not reopened since): new calls then fail
 * at once, calls in flight end at once with UPSTREAM_DOWN, and the change
 * is logged, as is the return. A reply for a request no longer pending
 * (deadline passed) is dropped and counted. */
#ifndef CONCERTO_GW_UPSTREAM_H
#define CONCERTO_GW_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "concerto/common/v1/envelope.pb-c.h"

typedef struct upstream upstream_t;

typedef struct {
    const char *name;   /* "registry": log field, metrics label */
    const char *router; /* endpoint of the service's ROUTER */
    const char *pub;    /* endpoint of its PUB */
    int heartbeat_ms;
    int heartbeat_misses;
    size_t max_inflight; /* calls beyond this fail with UPSTREAM_ERR_BUSY */
    int64_t max_frame;
} upstream_options_t;

typedef enum {
    UPSTREAM_REPLY = 0,     /* `reply` is the service's answer */
    UPSTREAM_TIMEOUT = 1,   /* no answer before the deadline */
    UPSTREAM_CANCELLED = 2, /* the gateway is shutting down */
    UPSTREAM_BAD_REPLY = 3, /* an answer came but is not a Reply */
    UPSTREAM_DOWN = 4,      /* the service went down with the call in flight */
} upstream_outcome_t;

/* Called exactly once per successful upstream_call. `reply` is borrowed,
 * non-NULL only for UPSTREAM_REPLY. */
typedef void (*upstream_fn)(void *arg, upstream_outcome_t outcome,
                            const Concerto__Common__V1__Reply *reply);

/* A request; everything is borrowed for the time of upstream_call. */
typedef struct {
    const char *type; /* full request type name */
    const uint8_t *payload;
    size_t payload_len;
    const char *actor;                          /* may be NULL */
    const char *idempotency_key;                /* may be NULL */
    const Concerto__Common__V1__Caller *caller; /* who the gateway authenticated; may be NULL */
    const char *format;                         /* a document route's chosen format; may be NULL */
    char *const *if_none_match;                 /* the client's entity tags */
    size_t n_if_none_match;
    int json_names; /* the client names fields in JSON: errors should too */
} upstream_request_t;

typedef enum {
    UPSTREAM_ERR_DOWN = -1,     /* no recent heartbeat */
    UPSTREAM_ERR_BUSY = -2,     /* too many in flight, or the send would block */
    UPSTREAM_ERR_INTERNAL = -3, /* the send failed otherwise */
    /* The envelope would exceed max_frame; a peer's ZMQ_MAXMSGSIZE would
     * drop the whole connection, and every call on it, for it. */
    UPSTREAM_ERR_TOO_LARGE = -4,
} upstream_error_t;

/* Connects (ZeroMQ connects lazily; nothing blocks). NULL on failure. */
upstream_t *upstream_new(uv_loop_t *loop, void *zctx, const upstream_options_t *opt);

/* Fails every pending call with UPSTREAM_CANCELLED, then closes the sockets
 * and handles; memory goes in the close callbacks. */
void upstream_destroy(upstream_t **self_p);

/* Sends a request; `fn` runs later with the outcome (never from inside
 * this call). `id_out` (may be NULL) gets the request envelope id. Returns
 * 0, or an upstream_error_t and `fn` is never called. */
int upstream_call(upstream_t *self, const upstream_request_t *req, uint64_t deadline_ms,
                  upstream_fn fn, void *arg, uint8_t id_out[16]);

int upstream_is_up(const upstream_t *self);
/* Milliseconds since the last heartbeat, or -1 if none ever came. */
int64_t upstream_heartbeat_age_ms(const upstream_t *self);
/* The last heartbeat received (borrowed), or NULL. */
const Concerto__Common__V1__Heartbeat *upstream_heartbeat(const upstream_t *self);
size_t upstream_inflight(const upstream_t *self);
uint64_t upstream_late_replies(const upstream_t *self);

#endif
