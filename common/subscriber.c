/* subscriber: one service's subscription to another's events (see
 * subscriber.h). */
#include "subscriber.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "status.h"
#include "uuid.h"
#include "xalloc.h"

#define SUBSCRIBER_DRAIN_MAX 1024

struct subscriber {
    subscriber_ctx_t ctx;
    char *source;
    char *router_ep;
    char *pub_ep;
    void *sub;
    void *dealer;
    uint64_t applied;     /* mirrors the cursors row */
    uint64_t source_head; /* newest head the source announced */
    int replay_pending;
    uint8_t replay_id[UUID_LEN];
    int64_t replay_deadline_ms;
    int64_t next_ack_ms;
    uint64_t acked;
    int warned_behind;
};

subscriber_t *subscriber_new(const subscriber_ctx_t *ctx, const char *source, const char *router_ep,
                             const char *pub_ep)
{
    subscriber_t *self = xcalloc(1, sizeof *self);
    self->ctx = *ctx;
    self->source = xstrdup(source);
    self->router_ep = xstrdup(router_ep);
    self->pub_ep = xstrdup(pub_ep);
    return self;
}

void subscriber_destroy(subscriber_t **self_p)
{
    subscriber_t *self = *self_p;
    if (!self)
        return;
    if (self->sub)
        zmq_close(self->sub);
    if (self->dealer)
        zmq_close(self->dealer);
    free(self->source);
    free(self->router_ep);
    free(self->pub_ep);
    free(self);
    *self_p = NULL;
}

const char *subscriber_source(const subscriber_t *self)
{
    return self->source;
}

uint64_t subscriber_applied(const subscriber_t *self)
{
    return self->applied;
}

uint64_t subscriber_source_head(const subscriber_t *self)
{
    return self->source_head > self->applied ? self->source_head : self->applied;
}

void *subscriber_sub_socket(subscriber_t *self)
{
    return self->sub;
}

void *subscriber_dealer_socket(subscriber_t *self)
{
    return self->dealer;
}

int subscriber_replay_pending(const subscriber_t *self, int64_t *deadline_ms)
{
    if (deadline_ms)
        *deadline_ms = self->replay_deadline_ms;
    return self->replay_pending;
}

static uint64_t subscriber_load_cursor(subscriber_t *self)
{
    store_t *store = self->ctx.store;
    sqlite3_stmt *st = store_stmt(store, "SELECT applied_seq FROM cursors WHERE source = ?");
    uint64_t v = 0;
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, self->source, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

static int subscriber_save_cursor(subscriber_t *self, uint64_t seq)
{
    sqlite3_stmt *st = store_stmt(
        self->ctx.store, "INSERT INTO cursors(source, applied_seq) VALUES(?, ?) "
                         "ON CONFLICT(source) DO UPDATE SET applied_seq = excluded.applied_seq");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, self->source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Sends a request envelope to the source's ROUTER; returns 0 or -1. */
static int subscriber_send(subscriber_t *self, const ProtobufCMessage *msg, uint8_t id[UUID_LEN])
{
    size_t plen = 0;
    uint8_t *payload = message_pack(msg, &plen);
    envelope_t env;
    envelope_prepare(&env, id, self->ctx.name, msg->descriptor->name, payload, plen);
    size_t len = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    const void *data[1] = {frame};
    int rc = self->dealer ? transport_send(self->dealer, data, &len, 1, ZMQ_DONTWAIT) : -1;
    free(frame);
    free(payload);
    return rc;
}

static void subscriber_request_replay(subscriber_t *self)
{
    Concerto__Common__V1__ReplayRequest req = CONCERTO__COMMON__V1__REPLAY_REQUEST__INIT;
    req.has_after_sequence = 1;
    req.after_sequence = self->applied;
    req.has_max_events = 1;
    req.max_events = SUBSCRIBER_PAGE;
    req.subscriber = (char *)self->ctx.name;
    /* With ZMQ_IMMEDIATE the send fails while the source is unreachable;
     * the deadline makes the next tick try again either way. */
    self->replay_pending = 1;
    self->replay_deadline_ms = self->ctx.now_ms() + SUBSCRIBER_REPLAY_TIMEOUT_MS;
    if (subscriber_send(self, &req.base, self->replay_id) != 0)
        self->replay_deadline_ms = self->ctx.now_ms() + SUBSCRIBER_RETRY_MS;
}

/* Applies one event inside the open transaction. Returns 0 when the
 * cursor may move past it, -1 when the batch must roll back (a database
 * error: retried from the same cursor later). */
static int subscriber_apply_one(subscriber_t *self, const envelope_t *env, int from_replay)
{
    /* A replay page's events are nested messages that envelope_decode never
     * saw; live ones have passed it already. */
    int err = from_replay ? envelope_check(env) : ENVELOPE_OK;
    if (err != ENVELOPE_OK) {
        log_error("replayed event is not a valid envelope; skipped",
                  "source=%s seq=%llu error=\"%s\"", self->source,
                  (unsigned long long)env->sequence, envelope_error_text(err));
        return 0;
    }
    char why[300] = "";
    int sp = store_savepoint(self->ctx.store);
    int status = sp < 0 ? STATUS_INTERNAL
                        : self->ctx.apply(self->ctx.owner, self->source, env, why, sizeof why);
    /* A savepoint that can be neither released nor rolled back leaves the
     * handler's writes in an unknown state: the whole batch goes. */
    if (status == STATUS_OK)
        return store_release(self->ctx.store, sp) == 0 ? 0 : -1;
    if (status == STATUS_INTERNAL || status == STATUS_UNAVAILABLE ||
        store_rollback_to(self->ctx.store, sp) != 0)
        return -1;
    /* The event is a fact the source already committed; a handler that
     * refuses it cannot change that, so it is logged and passed. */
    log_warn("event refused by handler; skipped",
             "source=%s seq=%llu type=%s status=%s reason=\"%s\"", self->source,
             (unsigned long long)env->sequence, env->type, status_name(status), why);
    return 0;
}

/* Applies the events that continue the cursor, in one transaction.
 * `events` must be in sequence order. Returns -1 if a gap was found before
 * the end, 0 otherwise. */
static int subscriber_apply(subscriber_t *self, envelope_t **events, size_t n, int from_replay)
{
    store_t *store = self->ctx.store;
    if (store_begin(store) != 0)
        return -1;
    uint64_t cursor = self->applied;
    int gap = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = events[i]->sequence;
        if (seq <= cursor)
            continue;
        if (seq != cursor + 1) {
            if (!from_replay || i > 0) {
                gap = 1;
                break;
            }
            /* The first event of a page answering "after cursor" is the
             * oldest the source still has: the ones before were pruned. */
            log_warn("source pruned events this subscriber never saw",
                     "source=%s from=%llu to=%llu", self->source, (unsigned long long)cursor + 1,
                     (unsigned long long)seq - 1);
        }
        if (subscriber_apply_one(self, events[i], from_replay) != 0) {
            store_rollback(store);
            self->ctx.publish(self->ctx.owner, 0);
            return -1;
        }
        cursor = seq;
    }
    if (cursor != self->applied && subscriber_save_cursor(self, cursor) != 0) {
        store_rollback(store);
        self->ctx.publish(self->ctx.owner, 0);
        return -1;
    }
    if (store_commit(store) != 0) {
        self->ctx.publish(self->ctx.owner, 0);
        return -1;
    }
    self->applied = cursor;
    self->ctx.publish(self->ctx.owner, 1);
    return gap ? -1 : 0;
}

void subscriber_on_heartbeat(subscriber_t *self, uint64_t head)
{
    if (head > self->source_head)
        self->source_head = head;
    if (head < self->applied && !self->warned_behind) {
        /* Only a source restored from an older backup can be behind what
         * was applied from it; its next events would reuse sequence
         * numbers this subscriber has already applied. */
        log_error("source is behind this subscriber's cursor; was it restored from a backup?",
                  "source=%s source_head=%llu applied=%llu", self->source, (unsigned long long)head,
                  (unsigned long long)self->applied);
        self->warned_behind = 1;
    }
    if (self->source_head > self->applied && !self->replay_pending)
        subscriber_request_replay(self);
}

void subscriber_on_live(subscriber_t *self, envelope_t **events, size_t n)
{
    /* While a replay is under way it brings these too. */
    if (self->replay_pending)
        return;
    envelope_t **batch = xcalloc(n + 1, sizeof *batch);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!events[i]->has_sequence)
            continue;
        if (events[i]->sequence > self->source_head)
            self->source_head = events[i]->sequence;
        batch[k++] = events[i];
    }
    if (k && subscriber_apply(self, batch, k, 0) != 0 && !self->replay_pending)
        subscriber_request_replay(self);
    free(batch);
}

/* A heartbeat's head, or -1 when the envelope does not hold one. */
static int64_t subscriber_heartbeat_head(const envelope_t *env)
{
    ProtobufCMessage *msg = NULL;
    if (envelope_unpack_payload(env, &concerto__common__v1__heartbeat__descriptor, &msg) !=
        ENVELOPE_OK)
        return -1;
    int64_t head = (int64_t)((const Concerto__Common__V1__Heartbeat *)msg)->head_sequence;
    protobuf_c_message_free_unpacked(msg, NULL);
    return head;
}

/* Returns how many messages it read. */
static int subscriber_drain_sub(subscriber_t *self)
{
    envelope_t **batch = NULL;
    size_t n = 0, cap = 0;
    size_t max_frame = (size_t)self->ctx.topt.max_frame;
    int i = 0;
    for (; i < SUBSCRIBER_DRAIN_MAX; i++) {
        transport_msg_t m;
        if (transport_recv(self->sub, &m, ZMQ_DONTWAIT) != 0)
            break;
        envelope_t *env = NULL;
        if (m.count == 2 && !m.truncated &&
            envelope_decode(transport_frame_data(&m, 1), transport_frame_size(&m, 1), max_frame,
                            &env) == ENVELOPE_OK) {
            if (strcmp(env->type, concerto__common__v1__heartbeat__descriptor.name) == 0) {
                int64_t head = subscriber_heartbeat_head(env);
                if (head >= 0)
                    subscriber_on_heartbeat(self, (uint64_t)head);
                envelope_free(&env);
            } else {
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    batch = xrealloc(batch, cap * sizeof *batch);
                }
                batch[n++] = env;
            }
        } else {
            log_warn("malformed event dropped", "source=%s", self->source);
        }
        transport_msg_close(&m);
    }
    if (n)
        subscriber_on_live(self, batch, n);
    for (size_t k = 0; k < n; k++)
        envelope_free(&batch[k]);
    free(batch);
    return i;
}

/* An empty page below the source's head: every event after the cursor was
 * pruned before this subscriber saw it. As for a page that starts past the
 * cursor, the gap is logged and the cursor moves on. */
static void subscriber_skip_pruned(subscriber_t *self, uint64_t head)
{
    log_warn("source pruned events this subscriber never saw", "source=%s from=%llu to=%llu",
             self->source, (unsigned long long)self->applied + 1, (unsigned long long)head);
    store_t *store = self->ctx.store;
    if (store_begin(store) != 0)
        return;
    if (subscriber_save_cursor(self, head) != 0) {
        store_rollback(store);
        return;
    }
    if (store_commit(store) != 0)
        return;
    self->applied = head;
}

void subscriber_on_page(subscriber_t *self, const Concerto__Common__V1__Reply *reply)
{
    self->replay_pending = 0;
    if ((int)reply->status != STATUS_OK || !reply->result_type ||
        strcmp(reply->result_type, concerto__common__v1__replay_page__descriptor.name) != 0) {
        log_warn("replay refused", "source=%s status=%s message=\"%s\"", self->source,
                 status_name(reply->status), reply->message ? reply->message : "");
        self->replay_pending = 1; /* retried when the deadline passes */
        return;
    }
    Concerto__Common__V1__ReplayPage *page =
        concerto__common__v1__replay_page__unpack(NULL, reply->result.len, reply->result.data);
    if (!page) {
        log_warn("replay page does not decode", "source=%s", self->source);
        self->replay_pending = 1;
        return;
    }
    if (page->head_sequence > self->source_head || page->head_sequence >= self->applied)
        self->source_head = page->head_sequence;
    uint64_t before = self->applied;
    uint64_t head = page->head_sequence;
    if (page->n_events == 0 && head > before)
        subscriber_skip_pruned(self, head);
    else
        subscriber_apply(self, page->events, page->n_events, 1);
    concerto__common__v1__replay_page__free_unpacked(page, NULL);
    if (self->applied >= head) {
        log_debug("caught up", "source=%s applied=%llu", self->source,
                  (unsigned long long)self->applied);
    } else if (self->applied > before) {
        subscriber_request_replay(self);
    } else {
        /* Nothing moved (a database error, or a page of events that do not
         * follow the cursor): asking again at once would spin, so the
         * request waits for its deadline. */
        log_error("replay page made no progress; retrying later",
                  "source=%s applied=%llu head=%llu", self->source, (unsigned long long)before,
                  (unsigned long long)head);
        self->replay_pending = 1;
        self->replay_deadline_ms = self->ctx.now_ms() + SUBSCRIBER_REPLAY_TIMEOUT_MS;
    }
}

/* Returns how many messages it read. */
static int subscriber_drain_dealer(subscriber_t *self)
{
    size_t max_frame = (size_t)self->ctx.topt.max_frame;
    int i = 0;
    for (; i < SUBSCRIBER_DRAIN_MAX; i++) {
        transport_msg_t m;
        if (transport_recv(self->dealer, &m, ZMQ_DONTWAIT) != 0)
            break;
        envelope_t *env = NULL;
        if (m.count == 1 &&
            envelope_decode(transport_frame_data(&m, 0), transport_frame_size(&m, 0), max_frame,
                            &env) == ENVELOPE_OK &&
            self->replay_pending && env->has_correlation_id &&
            memcmp(env->correlation_id.data, self->replay_id, UUID_LEN) == 0) {
            Concerto__Common__V1__Reply *reply = NULL;
            if (envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor,
                                        (ProtobufCMessage **)&reply) == ENVELOPE_OK) {
                subscriber_on_page(self, reply);
                concerto__common__v1__reply__free_unpacked(reply, NULL);
            }
        }
        /* Anything else is an ack's answer or a stale page: dropped. */
        envelope_free(&env);
        transport_msg_close(&m);
    }
    return i;
}

int subscriber_on_readable(subscriber_t *self)
{
    int got = subscriber_drain_sub(self);
    return subscriber_drain_dealer(self) + got > 0;
}

/* Opens the SUB and the DEALER to the source. */
static int subscriber_connect(subscriber_t *self, void *ctx)
{
    self->sub = transport_socket(ctx, ZMQ_SUB, &self->ctx.topt);
    self->dealer = transport_socket(ctx, ZMQ_DEALER, &self->ctx.topt);
    int one = 1;
    if (!self->sub || !self->dealer || zmq_setsockopt(self->sub, ZMQ_SUBSCRIBE, "", 0) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_IMMEDIATE, &one, sizeof one) != 0 ||
        zmq_connect(self->sub, self->pub_ep) != 0 ||
        zmq_connect(self->dealer, self->router_ep) != 0) {
        log_error("cannot subscribe", "source=%s router=%s pub=%s error=\"%s\"", self->source,
                  self->router_ep, self->pub_ep, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

int subscriber_start(subscriber_t *self)
{
    void *ctx = self->ctx.zctx;
    if (ctx && subscriber_connect(self, ctx) != 0)
        return -1;
    self->applied = subscriber_load_cursor(self);
    self->acked = self->applied;
    log_info("subscribed", "source=%s applied=%llu", self->source,
             (unsigned long long)self->applied);
    /* Subscribe first, then catch up (as in the Clone pattern): live events
     * that arrive during the replay are dropped and come with the pages. */
    subscriber_request_replay(self);
    return 0;
}

int subscriber_tick(subscriber_t *self, int64_t now_ms)
{
    int sent = 0;
    if (self->replay_pending && now_ms >= self->replay_deadline_ms) {
        subscriber_request_replay(self);
        sent = 1;
    }
    if (now_ms >= self->next_ack_ms && self->applied != self->acked) {
        Concerto__Common__V1__SubscriberAck ack = CONCERTO__COMMON__V1__SUBSCRIBER_ACK__INIT;
        ack.subscriber = (char *)self->ctx.name;
        ack.has_applied_sequence = 1;
        ack.applied_sequence = self->applied;
        uint8_t id[UUID_LEN];
        if (subscriber_send(self, &ack.base, id) == 0)
            self->acked = self->applied;
        self->next_ack_ms = now_ms + SUBSCRIBER_ACK_INTERVAL_MS;
        sent = 1;
    }
    return sent;
}
