/* subscriber: one service's subscription to another's events, the
 * delivery protocol alone (docs/architecture.md, "Delivery guarantees").
 *
 * The cursor (last applied sequence) lives in the subscriber's database
 * and moves in the same transaction as the events' effects, so a crash
 * anywhere loses nothing and applies nothing twice. PUB is only a fast
 * path: a live event is applied when it is exactly the next one; anything
 * else (a gap, a restart, a heartbeat showing the source is ahead) asks
 * the source's ROUTER for the events after the cursor, a page at a time,
 * until caught up.
 *
 * It knows its service only through a narrow context: the store, the
 * name, the ZeroMQ context and limits, and hooks to apply one event (the
 * service runs its handler as a call) and to publish or drop what a batch
 * of handlers emitted. Without a ZeroMQ context it opens no socket, and
 * its inputs can be fed by hand (subscriber_on_*), as its tests do. */
#ifndef CONCERTO_SUBSCRIBER_H
#define CONCERTO_SUBSCRIBER_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "store.h"
#include "transport.h"

#define SUBSCRIBER_PAGE 500               /* events a replay page asks for */
#define SUBSCRIBER_REPLAY_TIMEOUT_MS 3000 /* before a replay request is sent again */
#define SUBSCRIBER_RETRY_MS 200           /* after a request that could not be sent */
#define SUBSCRIBER_ACK_INTERVAL_MS 5000

typedef struct subscriber subscriber_t;

typedef struct {
    store_t *store;           /* the cursors, and the events' effects */
    const char *name;         /* this service, as its sources know it */
    void *zctx;               /* NULL: no sockets */
    transport_options_t topt; /* socket options; max_frame bounds what is read */
    /* Applies event `env` of `source` inside the open transaction, as a
     * call of this service; returns the status of its handler (STATUS_OK
     * for a type with none) and what went wrong in `why`. INTERNAL and
     * UNAVAILABLE roll the batch back, to be retried from the same cursor;
     * any other failure skips the event, a fact its source already
     * committed. */
    int (*apply)(void *owner, const char *source, const envelope_t *env, char *why, size_t whylen);
    /* After a batch's transaction: publishes what its handlers emitted
     * when `committed`, else drops it. */
    void (*publish)(void *owner, int committed);
    /* The clock of replay deadlines and acks, Unix milliseconds. */
    int64_t (*now_ms)(void);
    void *owner;
} subscriber_ctx_t;

/* A subscription to `source` whose ROUTER and PUB are at `router_ep` and
 * `pub_ep`; `ctx` is copied (its strings and store must outlive it). */
subscriber_t *subscriber_new(const subscriber_ctx_t *ctx, const char *source, const char *router_ep,
                             const char *pub_ep);
void subscriber_destroy(subscriber_t **self_p);

/* Loads the cursor, connects the sockets (with a ZeroMQ context) and asks
 * for what follows the cursor. Returns 0 or -1 (logged). */
int subscriber_start(subscriber_t *self);
/* Drains both sockets (bounded) and applies what can be applied. Returns 1
 * when it read anything, 0 when both were empty. */
int subscriber_on_readable(subscriber_t *self);
/* Timer work: replay deadlines and acks to the source. Returns 1 when it
 * sent on the DEALER (which may hide the ZMQ_FD edge of a reply). */
int subscriber_tick(subscriber_t *self, int64_t now_ms);

/* The inputs as the sockets deliver them, decoded: live events (in the
 * order received), a heartbeat of the source, the Reply to the pending
 * replay request. */
void subscriber_on_live(subscriber_t *self, envelope_t **events, size_t n);
void subscriber_on_heartbeat(subscriber_t *self, uint64_t head_sequence);
void subscriber_on_page(subscriber_t *self, const Concerto__Common__V1__Reply *reply);

const char *subscriber_source(const subscriber_t *self);
void *subscriber_sub_socket(subscriber_t *self);
void *subscriber_dealer_socket(subscriber_t *self);
uint64_t subscriber_applied(const subscriber_t *self);
uint64_t subscriber_source_head(const subscriber_t *self);
/* 1 while a replay request is outstanding; *deadline_ms gets when it is
 * sent again (may be NULL). */
int subscriber_replay_pending(const subscriber_t *self, int64_t *deadline_ms);

#endif
