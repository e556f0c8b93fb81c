/* service_internal: what the runtime's files share (service.c,
 * service_loop.c, service_backup.c); not for daemons. */
#ifndef CONCERTO_SERVICE_INTERNAL_H
#define CONCERTO_SERVICE_INTERNAL_H

#include "backup.h"
#include "clock.h"
#include "download.h"
#include "outbox.h"
#include "reply_cache.h"
#include "service.h"
#include "subscriber.h"
#include "transport.h"

typedef struct {
    const ProtobufCMessageDescriptor *desc;
    service_kind_t kind;
    service_handler_fn fn;
    void *arg;
} service_handler_t;

/* Handlers sorted by type name, found by binary search. */
typedef struct {
    service_handler_t *v;
    size_t n;
} service_table_t;

/* Adds a handler; -1 (logged) when the type has one already. */
int service_table_add(service_table_t *t, const ProtobufCMessageDescriptor *desc,
                      service_kind_t kind, service_handler_fn fn, void *arg);
const service_handler_t *service_table_find(const service_table_t *t, const char *type);
void service_table_clear(service_table_t *t);

typedef struct {
    char *field;
    char *description;
} service_violation_t;

struct service_call {
    service_t *svc;
    const envelope_t *env;
    int64_t now_ms;             /* business time */
    char today[CLOCK_DATE_LEN]; /* from now_ms, when first asked */
    int status;
    char *message;
    service_violation_t *violations;
    size_t n_violations;
    size_t violations_dropped; /* past SERVICE_MAX_VIOLATIONS */
    char *result_type;
    uint8_t *result;
    size_t result_len;
    /* Events emitted by this call, published after the batch commits. */
    outbox_event_t *events;
    size_t n_events;
    int command; /* a SERVICE_COMMAND: its answer is kept for retries */
    /* A document answer or a version tag (service_document.c). */
    struct service_document *doc;
};

struct service {
    char *name;
    store_t *store;
    void *zctx;
    void *router;
    void *pub;
    transport_options_t topt;
    int heartbeat_ms;
    int64_t started_ms;
    size_t batch_max;
    struct service_request *batch; /* batch_max slots, service_on_router's */
    volatile int stopping;

    service_table_t handlers;

    /* Subscriptions, each with its event handlers. */
    subscriber_t **subs;
    service_table_t *sub_events;
    size_t n_subs;

    struct service_timer {
        int interval_ms;
        int64_t due_ms;
        service_timer_fn fn;
        void *arg;
    } * timers;
    size_t n_timers;

    /* Events committed but not yet published, in sequence order. */
    outbox_event_t *to_publish;
    size_t n_to_publish;

    /* The last backup started (running or finished), where backups go,
     * and how many pages each loop turn copies. */
    backup_t *backup;
    char *backup_dir;
    int backup_step_pages;
    int64_t backup_started_ms, backup_finished_ms;

    /* Durable timers (service_timers.c): the earliest due instant known,
     * in business time (0: not read yet; INT64_MAX: none), and the real
     * instant before which a failed firing is not tried again. */
    int64_t timers_next_due_ms;
    int64_t timers_retry_ms;

    int64_t max_document;        /* CONCERTO_MAX_DOCUMENT */
    reply_cache_t *replies;      /* SERVICE_QUERY_CACHED answers; NULL: none kept */
    download_store_t *downloads; /* documents larger than a frame; made on first use */
};

int64_t service_now_ms(void);

void service_call_init(service_call_t *call, service_t *svc, const envelope_t *env);
/* Frees what the call holds; events not moved out are freed too. */
void service_call_clear(service_call_t *call);
/* Moves the call's events onto the service's publish list. */
void service_call_keep_events(service_call_t *call);
/* Publishes everything on the publish list (after a commit). */
void service_publish_pending(service_t *svc);
/* Drops what is on the publish list (after a failed commit). */
void service_drop_pending(service_t *svc);

/* Packs an Envelope(Reply) answering `request_id`. */
uint8_t *service_pack_reply(service_t *svc, const ProtobufCBinaryData *request_id,
                            const uint8_t *reply, size_t reply_len, size_t *len);
/* Packs the call's answer as a Reply message. An answer that would not
 * fit in a reply frame is replaced by an INTERNAL error saying so (the
 * call's status changes): nothing larger than the frame limit is sent,
 * since a peer's ZMQ_MAXMSGSIZE would drop the whole link. */
uint8_t *service_call_pack_reply(service_call_t *call, size_t *len);
/* The largest packed Reply that fits, with its Envelope, in one frame. */
size_t service_reply_limit(service_t *svc);

/* --- service_document.c --- */
void service_document_free(struct service_document **doc_p);
/* Adds the call's document or version tag to an OK `reply` (borrowed
 * pointers, valid while the call lives). */
void service_document_pack(service_call_t *call, Concerto__Common__V1__Reply *reply);
/* Registers DownloadPartRequest and the expiry of abandoned downloads. */
void service_document_setup(service_t *svc);

/* Heartbeat of this service: head sequence and subscriber cursors. The
 * caller frees the result with service_heartbeat_clear. */
void service_heartbeat_fill(service_t *svc, Concerto__Common__V1__Heartbeat *hb);
void service_heartbeat_clear(Concerto__Common__V1__Heartbeat *hb);

service_t *service_new(const char *name, store_t *store);
void service_publish_heartbeat(service_t *svc);
/* Reads up to batch_max requests from the ROUTER, runs and answers them.
 * Returns 1 when it read anything (more may wait, and its replies may have
 * hidden the ZMQ_FD edge of the next request), 0 when nothing was there. */
int service_on_router(service_t *svc);
/* Runs one decoded request inside the open transaction and returns the
 * packed Reply (the caller frees it). Sets *batch_failed when only rolling
 * back the whole transaction can undo the request's writes. */
uint8_t *service_run_request(service_t *svc, const envelope_t *env, size_t *reply_len,
                             int *batch_failed);

/* --- service_timers.c --- */
/* Runs the durable timers that are due, in one transaction. */
void service_timers_fire_due(service_t *svc);
/* Milliseconds until a durable timer is due (0: now), or INT64_MAX. */
int64_t service_timers_wait_ms(service_t *svc);

/* --- service_backup.c --- */
/* BackupRequest: checks the name, starts the copy and answers at once. */
int service_handle_backup(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int service_backup_running(const service_t *svc);
/* Copies one loop turn's pages of a running backup; call with no
 * transaction open. */
void service_backup_step(service_t *svc);
/* The last backup's status for a heartbeat (strings borrowed from the
 * backup); NULL when none was started. Free with free(). */
Concerto__Common__V1__BackupStatus *service_backup_status(service_t *svc);

/* Subscribes to `source` at `router_ep` and `pub_ep` (once the ZeroMQ
 * context exists); -1 (logged) when it is subscribed already. */
int service_subscribe(service_t *svc, const char *source, const char *router_ep,
                      const char *pub_ep);
/* Registers the rows of an event table, each passed its row's `arg` or
 * else `arg`; -1 (logged) for a source not subscribed or a type taken. */
int service_handle_events(service_t *svc, const service_event_spec_t *table, size_t n, void *arg);

#endif
