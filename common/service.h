/* service: the runtime every Concerto daemon runs on.
 *
 * One thread, one poll loop. A ROUTER takes commands and queries, each
 * an Envelope whose type names the request message; the runtime unpacks it
 * with the registered descriptor and calls the handler. A PUB carries the
 * service's events and a heartbeat with its head sequence.
 *
 * Delivery (docs/architecture.md):
 * - Every request read in one loop turn runs inside one SQLite transaction,
 *   each in its own SAVEPOINT (group commit). Replies and events leave only
 *   after COMMIT, so a client never sees a change that could be lost.
 * - A command's idempotency key is stored with its reply in the same
 *   transaction; a retry gets the first reply and changes nothing, and the
 *   same key with a different request gets CONFLICT.
 * - Events emitted by a handler go to the outbox in that transaction and
 *   are published after commit.
 * - Subscriptions keep a cursor per source, advanced in the same
 *   transaction as the event's effect; gaps and heartbeats that show the
 *   source is ahead trigger paged replay from the source's ROUTER.
 *
 * A daemon's main is usually just service_main(&spec, argc, argv). */
#ifndef CONCERTO_SERVICE_H
#define CONCERTO_SERVICE_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "caller.h"
#include "config.h"
#include "envelope.h"
#include "status.h"
#include "store.h"

typedef struct service service_t;
typedef struct service_call service_call_t;

typedef enum {
    /* Reads, or at most one self-contained write statement: runs without
     * a savepoint and without an idempotency record. */
    SERVICE_QUERY,
    /* A query whose answer depends only on its request (type, payload,
     * caller, format, version tags), the business date and the store: the
     * runtime keeps its answer and serves it again until the store changes
     * (reply_cache.h). Not for answers that read the time of day, a
     * subscriber's progress or anything outside the store. */
    SERVICE_QUERY_CACHED,
    SERVICE_COMMAND, /* may write and emit; deduplicated by idempotency key */
} service_kind_t;

/* Handles one request or event. Answer with service_call_reply or
 * service_call_fail and return the status answered: STATUS_OK keeps the
 * handler's writes and events, anything else rolls them back. The request
 * message is borrowed. */
typedef int (*service_handler_fn)(service_call_t *call, const ProtobufCMessage *msg, void *arg);

/* Called every `interval_ms` from the loop. */
typedef void (*service_timer_fn)(service_t *svc, void *arg);

/* One row of a daemon's handler table: the request type it answers (a
 * protoc-c descriptor, so a typo is a compile error), whether it is a
 * command or a query, the handler, and optionally the handler's own `arg`
 * (when NULL it gets the one given with the table: the daemon's
 * settings). A daemon declares its table once:
 *
 *     static const service_handler_spec_t registry_handlers[] = {
 *         {&concerto__registry__v1__change_recognition_request__descriptor, SERVICE_COMMAND,
 *          registry_handle_change_recognition},
 *         {&concerto__registry__v1__get_territory_request__descriptor, SERVICE_QUERY,
 *          entity_on_get, &registry_territories},
 *         ...
 *     };
 */
typedef struct {
    const ProtobufCMessageDescriptor *request;
    service_kind_t kind;
    service_handler_fn fn;
    const void *arg;
} service_handler_spec_t;

/* One row of a daemon's event table: events of type `event` from the
 * service `source` go to `fn` (with `arg`, or the table's). The runtime
 * subscribes to every source its table names, where CONCERTO_<SOURCE>_ROUTER
 * and _PUB say (listed in --help; the defaults are services.def's), and
 * runs each event as a command of this service, exactly once, in the
 * transaction that moves the cursor. Events of types with no row still
 * advance it. */
typedef struct {
    const char *source; /* a name of common/services.def */
    const ProtobufCMessageDescriptor *event;
    service_handler_fn fn;
    const void *arg;
} service_event_spec_t;

typedef struct {
    /* "registry": source name, log field, variable prefix; its default
     * endpoints are services.def's (a daemon not in the list, such as the
     * test kit's, must be given CONCERTO_<NAME>_ROUTER and _PUB). */
    const char *name;
    const store_migration_t *migrations; /* the service schema */
    size_t n_migrations;
    const config_var_t *extra_vars; /* the daemon's own settings, for --help too */
    size_t n_extra_vars;
    const char *summary; /* one line for --help */
    /* The request handlers, registered before setup runs, and the event
     * handlers; each is passed its row's `arg` or else this `arg`. */
    const service_handler_spec_t *handlers;
    size_t n_handlers;
    const service_event_spec_t *events;
    size_t n_events;
    void *arg;
    /* Optional: reads the daemon's settings (into what `arg` points to),
     * loads data. Non-zero stops the daemon before it serves. */
    int (*setup)(service_t *svc, const config_t *cfg);
} service_spec_t;

/* Parses --help/--version, loads configuration from the environment
 * (CONCERTO_<NAME>_ROUTER, _PUB, _DB, CONCERTO_DATA_DIR, ...), opens the
 * store, runs setup, binds and serves until SIGTERM or SIGINT, then drains
 * and exits. Returns the process exit code. */
int service_main(const service_spec_t *spec, int argc, char **argv);

/* Registers the `n` handlers of `table`, each passed its row's `arg` or
 * else `arg` (what service_main does with the spec's table; tests call it
 * themselves).
 * Each request type has one handler: -1 (logged) when a type is already
 * taken. Requests find their handler by binary search on the type name. */
int service_handle(service_t *svc, const service_handler_spec_t *table, size_t n, void *arg);
/* Keeps up to `entries` answers of SERVICE_QUERY_CACHED handlers (0: none;
 * CONCERTO_REPLY_CACHE_ENTRIES sets it, 256 by default). */
void service_set_reply_cache(service_t *svc, size_t entries);

int service_every(service_t *svc, int interval_ms, service_timer_fn fn, void *arg);

store_t *service_store(service_t *svc);
const char *service_name(service_t *svc);
/* Asks the loop to stop after the current turn (also what signals do). */
void service_stop(service_t *svc);

/* --- inside a handler --- */

store_t *service_call_store(service_call_t *call);
sqlite3 *service_call_db(service_call_t *call);
/* The request or event envelope (borrowed): source, actor, timestamp... */
const envelope_t *service_call_envelope(service_call_t *call);
/* Who asked: the envelope's actor, or "" when none was given. */
const char *service_call_actor(service_call_t *call);
/* The caller as the gateway authenticated it: its role (public, reader,
 * operator, admin, partner; none for the daemon's own work) and name.
 * Decide with it what to show (caller_identified: contact details only to
 * callers with a token) and record who acted. Trusted as it arrives on the
 * ROUTER (docs/architecture.md, "The caller"). */
caller_t service_call_caller(service_call_t *call);
/* Whether the caller may act on `value` under a partner scope this daemon
 * owns ("funder", "centraide"): always for callers with a token or none;
 * for a partner, when its allow-list line gives the scope with that value
 * or "*". Answer PERMISSION_DENIED otherwise. */
int service_call_scope_allows(service_call_t *call, const char *scope, const char *value);
/* Business time (common/clock.h) at the start of this call, Unix
 * milliseconds: what decisions and records of this call go by. */
int64_t service_call_now_ms(service_call_t *call);
/* Montréal's date at that instant, "YYYY-MM-DD": the call's "today" for
 * default dates and "not in the future" checks. Owned by the call. */
const char *service_call_today(service_call_t *call);

/* Answers OK with `result` (may be NULL for an empty answer). An answer
 * larger than a frame is replaced by an INTERNAL error saying so. */
int service_call_reply(service_call_t *call, const ProtobufCMessage *result);
/* Answers `status` with a message; returns `status`. */
int service_call_fail(service_call_t *call, status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A reply lists at most this many violations, and then says how many more
 * there were: a handler checking a large input must not make an answer
 * without bound. */
#define SERVICE_MAX_VIOLATIONS 100
/* Adds a field violation to the answer (use before service_call_fail). */
void service_call_violation(service_call_t *call, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Number of violations added so far. */
size_t service_call_violation_count(service_call_t *call);

/* How far this service has applied the events of `source` (a
 * subscription): fills `out` (its source string borrowed) with the
 * applied sequence, the newest head seen and the lag between them. The
 * answer to the gateway's TableStatusRequest carries it for the registry
 * (table_status.proto). Returns -1 when `source` is not subscribed. */
int service_call_cursor(service_call_t *call, const char *source,
                        Concerto__Common__V1__SubscriberCursor *out);

/* --- documents and conditional answers (service_document.c) --- */

/* 1 when the client names fields by their JSON names (the gateway's HTTP
 * API): violations and messages then name them so (ctx.h does it). */
int service_call_json_names(service_call_t *call);
/* The format the gateway chose for this request among those its route
 * offers ("json", "csv", "xlsx", "html", "ics"), or "" when the route offers
 * no choice. Answer "json" and "" with a message, the others with a
 * document. */
const char *service_call_format(service_call_t *call);
/* Names the state the answer is built from: anything that changes whenever
 * the answer would (a sequence, the time of the last change). The runtime
 * makes an opaque tag of it and the format, which the gateway sends as the
 * ETag. Returns 1 when the caller already holds that tag (its If-None-Match
 * names it): the runtime has answered "not modified", and the handler
 * returns STATUS_OK without building anything. Returns 0 otherwise, and
 * the answer will carry the tag. Call it first. */
int service_call_version(service_call_t *call, const char *version);
/* Answers OK with a document of `content_type` ("text/csv; charset=utf-8"),
 * to be saved as `file_name` (NULL: shown in place), from the bytes in
 * *data (taken: freed with free, *data set to NULL). A document larger than
 * a reply frame is kept by the runtime and read by the gateway in parts:
 * no handler pages a document. Refused with INTERNAL, naming the sizes: a
 * document over CONCERTO_MAX_DOCUMENT, and one larger than a frame from a
 * command (its answer is kept for retries). Answered UNAVAILABLE when too
 * many large documents are being downloaded. Returns the status answered. */
int service_call_reply_document(service_call_t *call, const char *content_type,
                                const char *file_name, uint8_t **data, size_t len);

/* Appends an event to the outbox in this call's transaction; it is
 * published after commit, or dropped if the call fails. `subject` names
 * the entity ("table:tqmn") for history queries; may be NULL. Returns 0,
 * or -1 on a database error (then fail the call with STATUS_INTERNAL). */
int service_call_emit(service_call_t *call, const char *subject, const ProtobufCMessage *event);

/* Durable timers (docs/architecture.md). Schedules `request`, a message
 * this daemon handles as a command, to run at the business instant
 * `due_ms` (common/clock.h), under `key` ("recognition:tqmn", 1 to 256
 * bytes); a timer pending under `key` is replaced. The timer is written in
 * this call's transaction: it exists only if the call succeeds. When due,
 * the request runs once as a command of the scheduling call's actor, with
 * the idempotency key "timer/<id>"; its effects, its events and the
 * timer's removal commit together. Returns 0, or -1 on a database error or
 * a type this daemon does not handle as a command (logged; fail the call
 * with STATUS_INTERNAL). common/timers.h lists pending timers. */
int service_call_schedule(service_call_t *call, const char *key, int64_t due_ms,
                          const ProtobufCMessage *request);
/* Cancels the timer pending under `key`, in this call's transaction.
 * Returns 1 if one was cancelled, 0 if none was pending, -1 on a database
 * error. */
int service_call_cancel_timer(service_call_t *call, const char *key);

/* Runs `request` as if it had come from the ROUTER (transaction,
 * idempotency under a fresh key, handler, commit, publish), for a daemon's
 * own work such as loading demo data at start. Returns the Reply, freed
 * with concerto__common__v1__reply__free_unpacked. */
Concerto__Common__V1__Reply *service_submit(service_t *svc, const ProtobufCMessage *request,
                                            const char *actor);

/* For tests of handlers without sockets: runs one packed request envelope
 * through the same path and returns the packed Reply envelope. */
uint8_t *service_dispatch_frame(service_t *svc, const uint8_t *frame, size_t len,
                                size_t *reply_len);
/* Creates a runtime around an open store, with no sockets, for such tests. */
service_t *service_new_for_test(const char *name, store_t *store);
void service_destroy(service_t **self_p);

#endif
