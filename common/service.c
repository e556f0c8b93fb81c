/* service: the daemon runtime (see service.h): configuration, the poll
 * loop, request dispatch with group commit and idempotency, event
 * publishing, heartbeats, the runtime's own requests, and shutdown. */
#include "service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "idempotency.h"
#include "log.h"
#include "service_internal.h"
#include "text.h"
#include "uuid.h"
#include "xalloc.h"

#define REPLY_TYPE "concerto.common.v1.Reply"
#define DEFAULT_MAX_DOCUMENT (32 * 1024 * 1024)
#define DEFAULT_REPLY_CACHE_ENTRIES 256
#define REPLY_CACHE_BYTES (16 * 1024 * 1024)

int64_t service_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- calls */

void service_call_init(service_call_t *call, service_t *svc, const envelope_t *env)
{
    memset(call, 0, sizeof *call);
    call->svc = svc;
    call->env = env;
    call->now_ms = clock_now_ms();
    call->status = STATUS_OK;
}

void service_call_clear(service_call_t *call)
{
    free(call->message);
    for (size_t i = 0; i < call->n_violations; i++) {
        free(call->violations[i].field);
        free(call->violations[i].description);
    }
    free(call->violations);
    free(call->result_type);
    free(call->result);
    for (size_t i = 0; i < call->n_events; i++)
        outbox_event_clear(&call->events[i]);
    free(call->events);
    service_document_free(&call->doc);
    memset(call, 0, sizeof *call);
}

void service_call_keep_events(service_call_t *call)
{
    service_t *svc = call->svc;
    if (!call->n_events)
        return;
    svc->to_publish =
        xrealloc(svc->to_publish, (svc->n_to_publish + call->n_events) * sizeof *svc->to_publish);
    memcpy(svc->to_publish + svc->n_to_publish, call->events,
           call->n_events * sizeof *call->events);
    svc->n_to_publish += call->n_events;
    free(call->events);
    call->events = NULL;
    call->n_events = 0;
}

store_t *service_call_store(service_call_t *call)
{
    return call->svc->store;
}

sqlite3 *service_call_db(service_call_t *call)
{
    return store_db(call->svc->store);
}

const envelope_t *service_call_envelope(service_call_t *call)
{
    return call->env;
}

const char *service_call_actor(service_call_t *call)
{
    return call->env && call->env->actor ? call->env->actor : "";
}

int service_call_json_names(service_call_t *call)
{
    return call->env->has_json_names && call->env->json_names;
}

caller_t service_call_caller(service_call_t *call)
{
    return caller_of(call->env);
}

int service_call_scope_allows(service_call_t *call, const char *scope, const char *value)
{
    return caller_scope_allows(call->env, scope, value);
}

int64_t service_call_now_ms(service_call_t *call)
{
    return call->now_ms;
}

const char *service_call_today(service_call_t *call)
{
    if (!call->today[0])
        clock_date_of(call->now_ms, call->today);
    return call->today;
}

int service_call_reply(service_call_t *call, const ProtobufCMessage *result)
{
    call->status = STATUS_OK;
    free(call->result);
    free(call->result_type);
    call->result = NULL;
    call->result_type = NULL;
    if (result) {
        call->result = message_pack(result, &call->result_len);
        call->result_type = xstrdup(result->descriptor->name);
    }
    return STATUS_OK;
}

int service_call_fail(service_call_t *call, status_t status, const char *fmt, ...)
{
    call->status = status;
    free(call->message);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    call->message = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(call->message, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return status;
}

void service_call_violation(service_call_t *call, const char *field, const char *fmt, ...)
{
    if (call->n_violations >= SERVICE_MAX_VIOLATIONS) {
        call->violations_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *desc = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(desc, (size_t)n + 1, fmt, ap);
    va_end(ap);
    call->violations =
        xrealloc(call->violations, (call->n_violations + 1) * sizeof *call->violations);
    call->violations[call->n_violations].field = xstrdup(field);
    call->violations[call->n_violations].description = desc;
    call->n_violations++;
}

size_t service_call_violation_count(service_call_t *call)
{
    return call->n_violations + call->violations_dropped;
}

int service_call_emit(service_call_t *call, const char *subject, const ProtobufCMessage *event)
{
    outbox_event_t ev;
    if (outbox_append(call->svc->store, call->svc->name, service_call_actor(call), subject, event,
                      &ev) != 0)
        return -1;
    call->events = xrealloc(call->events, (call->n_events + 1) * sizeof *call->events);
    call->events[call->n_events++] = ev;
    return 0;
}

size_t service_reply_limit(service_t *svc)
{
    /* The Envelope around a Reply: id and correlation id (18 bytes each),
     * time, type and source names, the payload's length; 128 bytes and the
     * name hold them with room to spare. */
    return (size_t)svc->topt.max_frame - 128 - strlen(svc->name);
}

static uint8_t *service_call_pack(service_call_t *call, size_t *len)
{
    Concerto__Common__V1__Reply reply = CONCERTO__COMMON__V1__REPLY__INIT;
    reply.has_status = 1;
    reply.status = (Concerto__Common__V1__Status)call->status;
    reply.message = call->message;
    if (call->status == STATUS_OK && !reply.message)
        reply.message = "ok";
    Concerto__Common__V1__FieldViolation *fv = NULL, **fvp = NULL;
    char more[64];
    size_t n = call->n_violations + (call->violations_dropped ? 1 : 0);
    if (n) {
        fv = xcalloc(n, sizeof *fv);
        fvp = xcalloc(n, sizeof *fvp);
        for (size_t i = 0; i < n; i++) {
            concerto__common__v1__field_violation__init(&fv[i]);
            fvp[i] = &fv[i];
        }
        for (size_t i = 0; i < call->n_violations; i++) {
            fv[i].field = call->violations[i].field;
            fv[i].description = call->violations[i].description;
        }
        if (call->violations_dropped) {
            snprintf(more, sizeof more, "and %zu more %s, not listed", call->violations_dropped,
                     text_plural((long long)call->violations_dropped, "problem", "problems"));
            fv[n - 1].field = "";
            fv[n - 1].description = more;
        }
        reply.n_fields = n;
        reply.fields = fvp;
    }
    if (call->status == STATUS_OK && call->result_type) {
        reply.result_type = call->result_type;
        reply.has_result = 1;
        reply.result.data = call->result;
        reply.result.len = call->result_len;
    }
    service_document_pack(call, &reply);
    uint8_t *out = message_pack(&reply.base, len);
    free(fv);
    free(fvp);
    return out;
}

uint8_t *service_call_pack_reply(service_call_t *call, size_t *len)
{
    uint8_t *out = service_call_pack(call, len);
    size_t limit = service_reply_limit(call->svc);
    if (*len <= limit)
        return out;
    free(out);
    size_t size = *len;
    const char *type = call->env && call->env->type ? call->env->type : "-";
    log_error("answer too large", "type=%s bytes=%zu limit=%zu", type, size, limit);
    /* Only the error is left: no result, document or violations. */
    service_call_t err;
    service_call_init(&err, call->svc, call->env);
    err.command = call->command;
    service_call_clear(call);
    *call = err;
    service_call_fail(call, STATUS_INTERNAL,
                      "the answer to %s would be %zu bytes, over the %zu-byte frame limit: a "
                      "list must be paged, a document answered with "
                      "service_call_reply_document",
                      type, size, limit);
    return service_call_pack(call, len);
}

uint8_t *service_pack_reply(service_t *svc, const ProtobufCBinaryData *request_id,
                            const uint8_t *reply, size_t reply_len, size_t *len)
{
    uint8_t id[UUID_LEN];
    envelope_t env;
    envelope_prepare(&env, id, svc->name, REPLY_TYPE, reply, reply_len);
    if (request_id && request_id->len) {
        env.has_correlation_id = 1;
        env.correlation_id = *request_id;
    }
    return envelope_pack(&env, len);
}

/* A reply for a request that never reached a handler. */
static uint8_t *service_pack_error(service_t *svc, const ProtobufCBinaryData *request_id,
                                   status_t status, const char *message, size_t *len)
{
    service_call_t call;
    service_call_init(&call, svc, NULL);
    service_call_fail(&call, status, "%s", message);
    size_t rlen = 0;
    uint8_t *reply = service_call_pack_reply(&call, &rlen);
    service_call_clear(&call);
    uint8_t *frame = service_pack_reply(svc, request_id, reply, rlen, len);
    free(reply);
    return frame;
}

/* ---------------------------------------------------------- publishing */

void service_publish_pending(service_t *svc)
{
    for (size_t i = 0; i < svc->n_to_publish; i++) {
        outbox_event_t *ev = &svc->to_publish[i];
        if (svc->pub) {
            const void *data[2] = {ev->type, ev->frame};
            size_t lens[2] = {strlen(ev->type), ev->len};
            /* PUB never blocks; a subscriber that misses this catches up
             * by replay, so a failed send only costs latency. */
            if (transport_send(svc->pub, data, lens, 2, ZMQ_DONTWAIT) != 0)
                log_warn("publish failed", "seq=%llu error=\"%s\"", (unsigned long long)ev->seq,
                         zmq_strerror(errno));
        }
        outbox_event_clear(ev);
    }
    svc->n_to_publish = 0;
}

void service_drop_pending(service_t *svc)
{
    for (size_t i = 0; i < svc->n_to_publish; i++)
        outbox_event_clear(&svc->to_publish[i]);
    svc->n_to_publish = 0;
}

void service_heartbeat_fill(service_t *svc, Concerto__Common__V1__Heartbeat *hb)
{
    concerto__common__v1__heartbeat__init(hb);
    hb->service = svc->name;
    hb->has_head_sequence = 1;
    hb->head_sequence = outbox_head(svc->store);
    hb->has_started_ms = 1;
    hb->started_ms = svc->started_ms;
    hb->has_log_lines_dropped = 1;
    hb->log_lines_dropped = log_dropped();
    hb->backup = service_backup_status(svc);
    if (!svc->n_subs)
        return;
    hb->n_cursors = svc->n_subs;
    hb->cursors = xcalloc(svc->n_subs, sizeof *hb->cursors);
    for (size_t i = 0; i < svc->n_subs; i++) {
        Concerto__Common__V1__SubscriberCursor *c = xmalloc(sizeof *c);
        concerto__common__v1__subscriber_cursor__init(c);
        c->source = (char *)subscriber_source(svc->subs[i]);
        c->has_applied_sequence = 1;
        c->applied_sequence = subscriber_applied(svc->subs[i]);
        c->has_source_head = 1;
        c->source_head = subscriber_source_head(svc->subs[i]);
        hb->cursors[i] = c;
    }
}

int service_call_cursor(service_call_t *call, const char *source,
                        Concerto__Common__V1__SubscriberCursor *out)
{
    service_t *svc = call->svc;
    concerto__common__v1__subscriber_cursor__init(out);
    for (size_t i = 0; i < svc->n_subs; i++) {
        if (strcmp(subscriber_source(svc->subs[i]), source) != 0)
            continue;
        out->source = (char *)subscriber_source(svc->subs[i]);
        out->has_applied_sequence = out->has_source_head = out->has_lag = 1;
        out->applied_sequence = subscriber_applied(svc->subs[i]);
        out->source_head = subscriber_source_head(svc->subs[i]);
        out->lag =
            out->source_head > out->applied_sequence ? out->source_head - out->applied_sequence : 0;
        return 0;
    }
    return -1;
}

void service_heartbeat_clear(Concerto__Common__V1__Heartbeat *hb)
{
    free(hb->backup);
    hb->backup = NULL;
    for (size_t i = 0; i < hb->n_cursors; i++)
        free(hb->cursors[i]);
    free(hb->cursors);
    hb->cursors = NULL;
    hb->n_cursors = 0;
}

void service_publish_heartbeat(service_t *svc)
{
    Concerto__Common__V1__Heartbeat hb;
    service_heartbeat_fill(svc, &hb);
    size_t plen = 0;
    uint8_t *payload = message_pack(&hb.base, &plen);
    service_heartbeat_clear(&hb);
    uint8_t id[UUID_LEN];
    envelope_t env;
    const char *type = concerto__common__v1__heartbeat__descriptor.name;
    envelope_prepare(&env, id, svc->name, type, payload, plen);
    size_t len = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    const void *data[2] = {type, frame};
    size_t lens[2] = {strlen(type), len};
    transport_send(svc->pub, data, lens, 2, ZMQ_DONTWAIT);
    free(frame);
    free(payload);
}

/* ------------------------------------------------- built-in requests */

static int service_handle_status(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    Concerto__Common__V1__Heartbeat hb;
    service_heartbeat_fill(call->svc, &hb);
    service_call_reply(call, &hb.base);
    service_heartbeat_clear(&hb);
    return STATUS_OK;
}

typedef struct {
    Concerto__Common__V1__ReplayPage *page;
    size_t cap;
    int failed;
} replay_collect_t;

static int service_replay_collect(uint64_t seq, const uint8_t *frame, size_t len, void *arg)
{
    replay_collect_t *rc = arg;
    envelope_t *env = concerto__common__v1__envelope__unpack(NULL, len, frame);
    if (!env) {
        log_error("outbox row does not decode", "seq=%llu", (unsigned long long)seq);
        rc->failed = 1;
        return -1;
    }
    if (rc->page->n_events == rc->cap) {
        rc->cap = rc->cap ? rc->cap * 2 : 64;
        rc->page->events = xrealloc(rc->page->events, rc->cap * sizeof *rc->page->events);
    }
    rc->page->events[rc->page->n_events++] = env;
    return 0;
}

static int service_handle_replay(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Common__V1__ReplayRequest *req = (const void *)msg;
    service_t *svc = call->svc;
    size_t max = req->has_max_events && req->max_events ? req->max_events : 500;
    if (max > 5000)
        max = 5000;
    Concerto__Common__V1__ReplayPage page = CONCERTO__COMMON__V1__REPLAY_PAGE__INIT;
    page.has_head_sequence = 1;
    page.head_sequence = outbox_head(svc->store);
    replay_collect_t rc = {&page, 0, 0};
    /* Keep the page well under the frame limit whatever the events weigh. */
    size_t budget = (size_t)svc->topt.max_frame / 2;
    if (outbox_read_after(svc->store, req->after_sequence, max, budget, service_replay_collect,
                          &rc) < 0 ||
        rc.failed) {
        service_call_fail(call, STATUS_INTERNAL, "outbox read failed");
    } else if (req->subscriber && *req->subscriber &&
               outbox_record_ack(svc->store, req->subscriber, req->after_sequence,
                                 service_now_ms()) != 0) {
        /* Unrecorded, the asker could lose to pruning what it still needs. */
        service_call_fail(call, STATUS_INTERNAL, "cannot record the subscriber's position");
    } else {
        service_call_reply(call, &page.base);
    }
    for (size_t i = 0; i < page.n_events; i++)
        concerto__common__v1__envelope__free_unpacked(page.events[i], NULL);
    free(page.events);
    return call->status;
}

static int service_handle_ack(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Common__V1__SubscriberAck *ack = (const void *)msg;
    if (!ack->subscriber || !*ack->subscriber)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "subscriber is required");
    if (outbox_record_ack(call->svc->store, ack->subscriber, ack->applied_sequence,
                          service_now_ms()) != 0)
        return service_call_fail(call, STATUS_INTERNAL, "cannot record ack");
    return service_call_reply(call, NULL);
}

static int service_handle_prune(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Common__V1__PruneOutboxRequest *req = (const void *)msg;
    Concerto__Common__V1__PruneOutboxResult res = CONCERTO__COMMON__V1__PRUNE_OUTBOX_RESULT__INIT;
    if (outbox_prune(call->svc->store, req->up_to_sequence, &res.pruned_up_to, &res.rows_deleted) !=
        0)
        return service_call_fail(call, STATUS_INTERNAL, "prune failed");
    res.has_pruned_up_to = res.has_rows_deleted = 1;
    log_info("outbox pruned", "up_to=%llu rows=%llu actor=%s", (unsigned long long)res.pruned_up_to,
             (unsigned long long)res.rows_deleted, service_call_actor(call));
    return service_call_reply(call, &res.base);
}

/* ---------------------------------------------------------- dispatch */

/* The index of `type` in `t`, or where it would go (with *found 0). */
static size_t service_table_index(const service_table_t *t, const char *type, int *found)
{
    size_t lo = 0, hi = t->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->v[mid].desc->name, type);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int service_table_add(service_table_t *t, const ProtobufCMessageDescriptor *desc,
                      service_kind_t kind, service_handler_fn fn, void *arg)
{
    int found;
    size_t i = service_table_index(t, desc->name, &found);
    if (found) {
        log_error("handler registered twice", "type=%s", desc->name);
        return -1;
    }
    t->v = xrealloc(t->v, (t->n + 1) * sizeof *t->v);
    memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
    t->v[i] = (service_handler_t){desc, kind, fn, arg};
    t->n++;
    return 0;
}

const service_handler_t *service_table_find(const service_table_t *t, const char *type)
{
    int found;
    size_t i = service_table_index(t, type, &found);
    return found ? &t->v[i] : NULL;
}

void service_table_clear(service_table_t *t)
{
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

/* The digest a cacheable query's answer is kept under: the request's
 * envelope without what differs between two asks of the same thing (its
 * id, time, sequence and key), and the business date. 0, or -1 when the
 * request is too large to be worth keeping. */
static int service_reply_key(service_call_t *call, const envelope_t *env,
                             uint8_t key[REPLY_CACHE_KEY_LEN])
{
    envelope_t same = *env;
    same.has_id = same.has_correlation_id = same.has_timestamp_ms = same.has_sequence = 0;
    same.idempotency_key = NULL;
    uint8_t buf[4096];
    size_t len = protobuf_c_message_get_packed_size(&same.base);
    if (len > sizeof buf)
        return -1;
    protobuf_c_message_pack(&same.base, buf);
    const char *today = service_call_today(call);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, REPLY_CACHE_KEY_LEN);
    crypto_generichash_update(&st, buf, len);
    crypto_generichash_update(&st, (const unsigned char *)today, strlen(today));
    crypto_generichash_final(&st, key, REPLY_CACHE_KEY_LEN);
    return 0;
}

/* Runs one decoded request inside the open batch transaction and returns
 * the packed Reply. Sets *batch_failed when the request's savepoint could be
 * neither released nor rolled back: its writes are then in an unknown state
 * and only rolling back the whole batch removes them. */
uint8_t *service_run_request(service_t *svc, const envelope_t *env, size_t *reply_len,
                             int *batch_failed)
{
    service_call_t call;
    service_call_init(&call, svc, env);
    const service_handler_t *h = service_table_find(&svc->handlers, env->type);
    if (!h) {
        service_call_fail(&call, STATUS_INVALID_ARGUMENT, "unknown message type %s", env->type);
        uint8_t *r = service_call_pack_reply(&call, reply_len);
        service_call_clear(&call);
        return r;
    }
    call.command = h->kind == SERVICE_COMMAND;
    uint8_t cache_key[REPLY_CACHE_KEY_LEN];
    store_version_t version;
    int cacheable = h->kind == SERVICE_QUERY_CACHED && svc->replies &&
                    service_reply_key(&call, env, cache_key) == 0 &&
                    store_version(svc->store, &version) == 0;
    if (cacheable) {
        size_t len;
        const uint8_t *kept = reply_cache_get(svc->replies, &version, cache_key, &len);
        if (kept) {
            service_call_clear(&call);
            uint8_t *r = xmalloc(len ? len : 1);
            memcpy(r, kept, len);
            *reply_len = len;
            return r;
        }
    }
    const uint8_t *payload = env->has_payload ? env->payload.data : NULL;
    size_t payload_len = env->has_payload ? env->payload.len : 0;
    char key[ENVELOPE_MAX_TEXT_LEN + 1];
    uint8_t hash[IDEMPOTENCY_HASH_LEN];
    if (h->kind == SERVICE_COMMAND) {
        if (env->idempotency_key && *env->idempotency_key)
            snprintf(key, sizeof key, "%s", env->idempotency_key);
        else
            envelope_id_hex(env, key);
        idempotency_hash(env->type, payload, payload_len, hash);
        uint8_t *stored = NULL;
        switch (idempotency_lookup(svc->store, key, hash, &stored, reply_len)) {
        case IDEMPOTENCY_REPLAY:
            service_call_clear(&call);
            return stored;
        case IDEMPOTENCY_CONFLICT:
            service_call_fail(&call, STATUS_CONFLICT,
                              "idempotency key %s was used before with a different request", key);
            goto done;
        case IDEMPOTENCY_ERROR:
            service_call_fail(&call, STATUS_INTERNAL, "idempotency lookup failed");
            goto done;
        case IDEMPOTENCY_NEW:
            break;
        }
    }

    ProtobufCMessage *msg = NULL;
    if (envelope_unpack_payload(env, h->desc, &msg) != ENVELOPE_OK) {
        service_call_fail(&call, STATUS_INVALID_ARGUMENT, "payload does not decode as %s",
                          env->type);
        goto done;
    }
    /* Only commands can leave partial writes behind; queries skip the
     * savepoint, which is most of their cost. */
    int sp = -1;
    if (h->kind == SERVICE_COMMAND && (sp = store_savepoint(svc->store)) < 0) {
        protobuf_c_message_free_unpacked(msg, NULL);
        service_call_fail(&call, STATUS_UNAVAILABLE, "database unavailable");
        goto done;
    }
    int status = h->fn(&call, msg, h->arg);
    protobuf_c_message_free_unpacked(msg, NULL);
    call.status = status;
    if (status == STATUS_OK) {
        size_t rlen = 0;
        uint8_t *r = service_call_pack_reply(&call, &rlen);
        if (call.status != STATUS_OK) { /* too large to send: nothing may happen */
            free(r);
            goto undo;
        }
        if (h->kind == SERVICE_COMMAND &&
            idempotency_record(svc->store, key, hash, r, rlen, service_now_ms()) != 0) {
            free(r);
            service_call_fail(&call, STATUS_INTERNAL, "cannot record idempotency key");
            goto undo;
        }
        if (sp >= 0 && store_release(svc->store, sp) != 0) {
            free(r);
            goto lost;
        }
        /* A document may be kept in parts or answered "not modified":
         * the runtime holds state for it, so it is never replayed. */
        if (cacheable && !call.doc)
            reply_cache_put(svc->replies, &version, cache_key, r, rlen);
        service_call_keep_events(&call);
        service_call_clear(&call);
        *reply_len = rlen;
        return r;
    }
    if (!call.message)
        service_call_fail(&call, (status_t)status, "%s", status_name(status));
undo:
    if (sp < 0 || store_rollback_to(svc->store, sp) == 0)
        goto done;
lost:
    *batch_failed = 1;
    service_call_clear(&call);
    service_call_init(&call, svc, env);
    service_call_fail(&call, STATUS_INTERNAL, "database error; nothing was changed");
done : {
    uint8_t *r = service_call_pack_reply(&call, reply_len);
    service_call_clear(&call);
    return r;
}
}

typedef struct service_request {
    zmq_msg_t identity;
    envelope_t *env;
    uint8_t *reply; /* packed Envelope(Reply) */
    size_t reply_len;
} service_request_t;

/* Answers every request of a batch that did not commit UNAVAILABLE, but
 * the one at `keep` (the cause, answered already): queries too, since
 * they may have read writes that are now gone. */
static void service_answer_rolled_back(service_t *svc, service_request_t *reqs, size_t n,
                                       size_t keep, const char *why)
{
    for (size_t i = 0; i < n; i++) {
        if (!reqs[i].reply || !reqs[i].env || i == keep)
            continue;
        free(reqs[i].reply);
        reqs[i].reply =
            service_pack_error(svc, &reqs[i].env->id, STATUS_UNAVAILABLE, why, &reqs[i].reply_len);
    }
}

/* Runs decoded requests as one transaction (group commit): replies and
 * events leave only once COMMIT has returned. The transaction is deferred:
 * queries share one read snapshot, and the write lock is taken only when a
 * command first writes. */
static void service_run_batch(service_t *svc, service_request_t *reqs, size_t n)
{
    int in_txn = 0, failed = 0;
    size_t i = 0;
    for (; i < n && !failed; i++) {
        if (!reqs[i].env)
            continue;
        if (!in_txn) {
            if (store_begin(svc->store) != 0)
                break;
            in_txn = 1;
        }
        size_t rlen = 0;
        uint8_t *reply = service_run_request(svc, reqs[i].env, &rlen, &failed);
        reqs[i].reply = service_pack_reply(svc, &reqs[i].env->id, reply, rlen, &reqs[i].reply_len);
        free(reply);
    }
    if (failed) {
        store_rollback(svc->store);
        service_drop_pending(svc);
        service_answer_rolled_back(svc, reqs, n, i - 1, "batch rolled back; retry");
    } else if (in_txn && store_commit(svc->store) != 0) {
        service_drop_pending(svc);
        service_answer_rolled_back(svc, reqs, n, n, "commit failed; retry");
    }
    service_publish_pending(svc);
    for (i = 0; i < n; i++)
        if (!reqs[i].reply && reqs[i].env)
            reqs[i].reply = service_pack_error(svc, &reqs[i].env->id, STATUS_UNAVAILABLE,
                                               "database busy; retry", &reqs[i].reply_len);
}

uint8_t *service_dispatch_frame(service_t *svc, const uint8_t *frame, size_t len, size_t *reply_len)
{
    service_request_t req = {0};
    int err = envelope_decode(frame, len, (size_t)svc->topt.max_frame, &req.env);
    if (err != ENVELOPE_OK)
        return service_pack_error(svc, NULL, STATUS_INVALID_ARGUMENT, envelope_error_text(err),
                                  reply_len);
    service_run_batch(svc, &req, 1);
    envelope_free(&req.env);
    *reply_len = req.reply_len;
    return req.reply;
}

Concerto__Common__V1__Reply *service_submit(service_t *svc, const ProtobufCMessage *request,
                                            const char *actor)
{
    size_t plen = 0;
    uint8_t *payload = message_pack(request, &plen);
    uint8_t id[UUID_LEN];
    envelope_t env;
    envelope_prepare(&env, id, svc->name, request->descriptor->name, payload, plen);
    env.actor = (char *)actor;
    size_t flen = 0, rlen = 0;
    uint8_t *frame = envelope_pack(&env, &flen);
    free(payload);
    uint8_t *out = service_dispatch_frame(svc, frame, flen, &rlen);
    free(frame);
    envelope_t *reply_env = NULL;
    Concerto__Common__V1__Reply *reply = NULL;
    if (envelope_decode(out, rlen, SIZE_MAX, &reply_env) == ENVELOPE_OK)
        envelope_unpack_payload(reply_env, &concerto__common__v1__reply__descriptor,
                                (ProtobufCMessage **)&reply);
    envelope_free(&reply_env);
    free(out);
    return reply;
}

/* Reads up to batch_max requests from the ROUTER and answers them. */
int service_on_router(service_t *svc)
{
    /* Kept from turn to turn: most turns read a few requests, or none. */
    if (!svc->batch)
        svc->batch = xcalloc(svc->batch_max, sizeof *svc->batch);
    service_request_t *reqs = svc->batch;
    size_t n = 0;
    /* Bounded reads, malformed messages included, so one busy peer cannot
     * hold the loop. */
    size_t reads = 0;
    for (; n < svc->batch_max && reads < 2 * svc->batch_max; reads++) {
        transport_msg_t m;
        if (transport_recv(svc->router, &m, ZMQ_DONTWAIT) != 0)
            break;
        service_request_t *r = &reqs[n];
        if (m.count < 2 || m.truncated) {
            /* A ROUTER always gives the identity; without a body frame
             * there is nothing to answer. */
            log_warn("request dropped", "reason=\"expected identity and one envelope frame\"");
            transport_msg_close(&m);
            continue;
        }
        zmq_msg_init(&r->identity);
        if (zmq_msg_copy(&r->identity, &m.frames[0]) != 0) {
            log_warn("request dropped", "error=\"%s\"", zmq_strerror(errno));
            zmq_msg_close(&r->identity);
            transport_msg_close(&m);
            continue;
        }
        int err = envelope_decode(transport_frame_data(&m, m.count - 1),
                                  transport_frame_size(&m, m.count - 1),
                                  (size_t)svc->topt.max_frame, &r->env);
        if (err != ENVELOPE_OK) {
            log_warn("bad envelope", "error=\"%s\"", envelope_error_text(err));
            r->reply = service_pack_error(svc, NULL, STATUS_INVALID_ARGUMENT,
                                          envelope_error_text(err), &r->reply_len);
        }
        transport_msg_close(&m);
        n++;
    }
    service_run_batch(svc, reqs, n);
    for (size_t i = 0; i < n; i++) {
        const void *data[2] = {zmq_msg_data(&reqs[i].identity), reqs[i].reply};
        size_t lens[2] = {zmq_msg_size(&reqs[i].identity), reqs[i].reply_len};
        if (transport_send(svc->router, data, lens, 2, ZMQ_DONTWAIT) != 0)
            log_warn("reply not delivered", "error=\"%s\"", zmq_strerror(errno));
        zmq_msg_close(&reqs[i].identity);
        envelope_free(&reqs[i].env);
        free(reqs[i].reply);
    }
    memset(reqs, 0, n * sizeof *reqs);
    return reads > 0;
}

/* -------------------------------------------------------- registration */

int service_handle(service_t *svc, const service_handler_spec_t *table, size_t n, void *arg)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (service_table_add(&svc->handlers, table[i].request, table[i].kind, table[i].fn,
                              table[i].arg ? (void *)table[i].arg : arg) != 0)
            rc = -1;
    return rc;
}

/* The subscriber's view of this service: an event runs as a call of it. */
static int service_apply_event(void *owner, const char *source, const envelope_t *env, char *why,
                               size_t whylen)
{
    service_t *svc = owner;
    size_t i = 0;
    while (i < svc->n_subs && strcmp(subscriber_source(svc->subs[i]), source) != 0)
        i++;
    const service_handler_t *h =
        i < svc->n_subs ? service_table_find(&svc->sub_events[i], env->type) : NULL;
    if (!h)
        return STATUS_OK;
    ProtobufCMessage *msg = NULL;
    if (envelope_unpack_payload(env, h->desc, &msg) != ENVELOPE_OK) {
        snprintf(why, whylen, "the payload does not decode as %s", env->type);
        return STATUS_INVALID_ARGUMENT;
    }
    service_call_t call;
    service_call_init(&call, svc, env);
    int status = h->fn(&call, msg, h->arg);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (status == STATUS_OK)
        service_call_keep_events(&call);
    snprintf(why, whylen, "%s", call.message ? call.message : "");
    service_call_clear(&call);
    return status;
}

static void service_publish_or_drop(void *owner, int committed)
{
    if (committed)
        service_publish_pending(owner);
    else
        service_drop_pending(owner);
}

int service_subscribe(service_t *svc, const char *source, const char *router_ep, const char *pub_ep)
{
    for (size_t i = 0; i < svc->n_subs; i++)
        if (strcmp(subscriber_source(svc->subs[i]), source) == 0) {
            log_error("subscribed twice", "source=%s", source);
            return -1;
        }
    subscriber_ctx_t ctx = {svc->store,          svc->name,
                            svc->zctx,           svc->topt,
                            service_apply_event, service_publish_or_drop,
                            service_now_ms,      svc};
    svc->subs = xrealloc(svc->subs, (svc->n_subs + 1) * sizeof *svc->subs);
    svc->sub_events = xrealloc(svc->sub_events, (svc->n_subs + 1) * sizeof *svc->sub_events);
    svc->subs[svc->n_subs] = subscriber_new(&ctx, source, router_ep, pub_ep);
    svc->sub_events[svc->n_subs] = (service_table_t){0};
    svc->n_subs++;
    return 0;
}

int service_handle_events(service_t *svc, const service_event_spec_t *table, size_t n, void *arg)
{
    int rc = 0;
    for (size_t r = 0; r < n; r++) {
        size_t i = 0;
        while (i < svc->n_subs && strcmp(subscriber_source(svc->subs[i]), table[r].source) != 0)
            i++;
        if (i == svc->n_subs) {
            log_error("event handler for a source not subscribed", "source=%s", table[r].source);
            rc = -1;
        } else if (service_table_add(&svc->sub_events[i], table[r].event, SERVICE_COMMAND,
                                     table[r].fn, table[r].arg ? (void *)table[r].arg : arg) != 0) {
            rc = -1;
        }
    }
    return rc;
}

int service_every(service_t *svc, int interval_ms, service_timer_fn fn, void *arg)
{
    if (interval_ms <= 0)
        return -1;
    svc->timers = xrealloc(svc->timers, (svc->n_timers + 1) * sizeof *svc->timers);
    svc->timers[svc->n_timers++] =
        (struct service_timer){interval_ms, service_now_ms() + interval_ms, fn, arg};
    return 0;
}

store_t *service_store(service_t *svc)
{
    return svc->store;
}

const char *service_name(service_t *svc)
{
    return svc->name;
}

void service_stop(service_t *svc)
{
    svc->stopping = 1;
}

/* What the runtime answers on every service. */
static const service_handler_spec_t service_builtins[] = {
    {&concerto__common__v1__status_request__descriptor, SERVICE_QUERY, service_handle_status, NULL},
    {&concerto__common__v1__replay_request__descriptor, SERVICE_QUERY, service_handle_replay, NULL},
    {&concerto__common__v1__subscriber_ack__descriptor, SERVICE_QUERY, service_handle_ack, NULL},
    {&concerto__common__v1__prune_outbox_request__descriptor, SERVICE_QUERY, service_handle_prune,
     NULL},
    {&concerto__common__v1__backup_request__descriptor, SERVICE_QUERY, service_handle_backup, NULL},
};

service_t *service_new(const char *name, store_t *store)
{
    service_t *svc = xcalloc(1, sizeof *svc);
    svc->name = xstrdup(name);
    svc->store = store;
    transport_options_default(&svc->topt);
    svc->heartbeat_ms = 1000;
    svc->batch_max = 256;
    svc->started_ms = service_now_ms();
    /* Beside the database unless the daemon says where its data folder is
     * (service_start does). */
    const char *db = store_path(store);
    const char *slash = strrchr(db, '/');
    svc->backup_dir = slash ? xasprintf("%.*s/backups/%s", (int)(slash - db), db, name)
                            : xasprintf("backups/%s", name);
    svc->backup_step_pages = 64;
    svc->max_document = DEFAULT_MAX_DOCUMENT;
    svc->replies = reply_cache_new(DEFAULT_REPLY_CACHE_ENTRIES, REPLY_CACHE_BYTES);
    service_document_setup(svc);
    service_handle(svc, service_builtins, sizeof service_builtins / sizeof service_builtins[0],
                   NULL);
    return svc;
}

void service_set_reply_cache(service_t *svc, size_t entries)
{
    reply_cache_destroy(&svc->replies);
    svc->replies = reply_cache_new(entries, REPLY_CACHE_BYTES);
}

service_t *service_new_for_test(const char *name, store_t *store)
{
    return service_new(name, store);
}

void service_destroy(service_t **self_p)
{
    service_t *svc = *self_p;
    if (!svc)
        return;
    for (size_t i = 0; i < svc->n_subs; i++) {
        subscriber_destroy(&svc->subs[i]);
        service_table_clear(&svc->sub_events[i]);
    }
    free(svc->subs);
    free(svc->sub_events);
    if (svc->router)
        zmq_close(svc->router);
    if (svc->pub)
        zmq_close(svc->pub);
    if (svc->zctx)
        zmq_ctx_term(svc->zctx);
    if (service_backup_running(svc))
        log_warn("backup abandoned", "path=%s reason=\"the service stops\"",
                 backup_path(svc->backup));
    backup_destroy(&svc->backup);
    free(svc->backup_dir);
    free(svc->batch);
    service_drop_pending(svc);
    download_store_destroy(&svc->downloads);
    reply_cache_destroy(&svc->replies);
    free(svc->to_publish);
    service_table_clear(&svc->handlers);
    free(svc->timers);
    free(svc->name);
    free(svc);
    *self_p = NULL;
}
