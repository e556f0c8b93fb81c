/* outbox: a service's numbered event log.
 *
 * Events are appended in the same transaction as the change that caused
 * them, numbered by a sequence that never repeats (AUTOINCREMENT), and kept
 * as packed envelopes so a replay sends the very bytes that were published.
 * The outbox is the audit trail: it is pruned only by an operator, and
 * never past the slowest known subscriber. */
#ifndef CONCERTO_OUTBOX_H
#define CONCERTO_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "store.h"

/* SQL for the runtime's tables (outbox, idempotency, cursors, acks, durable timers);
 * applied by the runtime's migration track. */
extern const store_migration_t outbox_migrations[];
extern const size_t outbox_migration_count;

typedef struct {
    uint64_t seq;
    uint8_t *frame; /* packed envelope, owned by the caller after a read */
    size_t len;
    char *type;
} outbox_event_t;

/* Appends `event` as a new envelope from `source`. `subject` names the
 * entity it is about ("table:tqmn"), for history queries; may be NULL.
 * Must run inside a transaction. On success fills *out (the caller owns
 * out->frame and out->type) and returns 0; -1 on a database error. */
int outbox_append(store_t *store, const char *source, const char *actor, const char *subject,
                  const ProtobufCMessage *event, outbox_event_t *out);
void outbox_event_clear(outbox_event_t *ev);

/* Highest sequence ever appended (0 when none). */
uint64_t outbox_head(store_t *store);

/* Calls `fn` for events with seq > after, in order, at most `max` of them
 * and at most `max_bytes` of frames (at least one event is always given).
 * The frame passed to fn is borrowed. Returns the count, or -1 when the
 * read failed (even after some events were given to fn). */
typedef int (*outbox_visit_fn)(uint64_t seq, const uint8_t *frame, size_t len, void *arg);
int outbox_read_after(store_t *store, uint64_t after, size_t max, size_t max_bytes,
                      outbox_visit_fn fn, void *arg);

/* Events about `subject`, newest last, seq > after, at most max. */
int outbox_read_subject(store_t *store, const char *subject, uint64_t after, size_t max,
                        outbox_visit_fn fn, void *arg);

/* Records that `subscriber` has applied up to `seq` (never moves back). */
int outbox_record_ack(store_t *store, const char *subscriber, uint64_t seq, int64_t now_ms);

/* Deletes events with seq <= min(up_to, slowest acked subscriber).
 * Returns the bound actually used in *pruned_to and rows in *deleted. */
int outbox_prune(store_t *store, uint64_t up_to, uint64_t *pruned_to, uint64_t *deleted);

#endif
