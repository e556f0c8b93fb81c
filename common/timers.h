/* timers: a service's durable timers, kept in its SQLite file.
 *
 * A timer is a request (the name of a message type the daemon handles as
 * a command, and its packed payload) to run at a business instant
 * (common/clock.h), under a key the daemon chooses ("recognition:tqmn") to
 * find, replace or cancel it. Rows are written in the caller's
 * transaction, so a timer exists only if the command that scheduled it
 * commits. This module stores timers; the runtime fires them
 * (service_timers.c, docs/architecture.md). */
#ifndef CONCERTO_TIMERS_H
#define CONCERTO_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "store.h"

/* A key is 1 to this many bytes. */
#define TIMERS_MAX_KEY ENVELOPE_MAX_TEXT_LEN

/* The runtime migration step that creates the table (outbox.c lists the
 * runtime's steps). */
extern const char timers_schema_sql[];

typedef struct {
    int64_t id; /* never reused; the fired request's idempotency key is "timer/<id>" */
    char *key;
    int64_t due_ms; /* business time, Unix milliseconds */
    char *type;     /* the request's message type */
    uint8_t *payload;
    size_t payload_len;
    char *actor; /* who scheduled it; NULL when nobody was named */
    int64_t created_ms;
} timers_entry_t;

/* Schedules `request` at `due_ms` under `key`, replacing any timer pending
 * under that key. `id` may be NULL. Returns 0, or -1 (logged) on a key
 * that is empty or too long, or a database error. */
int timers_schedule(store_t *store, const char *key, int64_t due_ms,
                    const ProtobufCMessage *request, const char *actor, int64_t now_ms,
                    int64_t *id);
/* Returns 1 when a timer was pending under `key` and is now cancelled, 0
 * when none was, -1 on a database error. */
int timers_cancel(store_t *store, const char *key);
/* Deletes the timer `id` (once fired); 0 or -1. */
int timers_remove(store_t *store, int64_t id);

/* The earliest due instant: 1 and *due_ms, 0 when no timer is pending, or
 * -1 on a database error. */
int timers_next_due(store_t *store, int64_t *due_ms);
/* Timers due at or before `now_ms`, at most `max`, earliest first (then in
 * the order they were scheduled). Sets *out to an array the caller frees
 * with timers_entries_free; returns how many, or -1. */
int timers_read_due(store_t *store, int64_t now_ms, size_t max, timers_entry_t **out);
/* Pending timers whose key starts with `key_prefix` ("" for all), at most
 * `max`, earliest first: what a daemon shows as "scheduled". Same
 * ownership and result as timers_read_due. */
int timers_list(store_t *store, const char *key_prefix, size_t max, timers_entry_t **out);
void timers_entries_free(timers_entry_t **entries, size_t n);

#endif
