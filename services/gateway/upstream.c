/* upstream: DEALER requests with a pending table and deadlines, and the
 * SUB that tracks a service's heartbeats (see upstream.h). */
#include "upstream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "envelope.h"
#include "log.h"
#include "transport.h"
#include "uuid.h"
#include "xalloc.h"
#include "zwatch.h"

typedef struct pending {
    uint8_t id[UUID_LEN];
    uint64_t deadline; /* loop time, ms */
    upstream_fn fn;
    void *arg;
    struct pending *prev, *next; /* by deadline */
    struct pending *hnext;       /* hash chain */
} pending_t;

struct upstream {
    uv_loop_t *loop;
    char *name;
    void *dealer, *sub;
    void *monitor; /* PAIR receiving the DEALER's link events */
    zwatch_t *dealer_watch, *sub_watch, *monitor_watch;
    uv_timer_t timer;  /* the earliest deadline */
    uv_timer_t health; /* every heartbeat interval: missed heartbeats */
    int open_handles;
    pending_t *head, *tail;
    pending_t **buckets;
    size_t n_buckets, n_pending, max_inflight;
    int heartbeat_ms, heartbeat_misses;
    int64_t max_frame;
    uint64_t last_heartbeat; /* loop time of the last one; 0: never */
    uint64_t last_reply;     /* loop time of the last reply to a call */
    uint64_t last_link_up;   /* loop time the DEALER's link reopened */
    int link_closed;         /* the monitor saw it close, not reopen yet */
    int up;                  /* as last logged */
    Concerto__Common__V1__Heartbeat *heartbeat;
    uint64_t late_replies;
};

static size_t upstream_bucket(const upstream_t *self, const uint8_t id[UUID_LEN])
{
    /* A UUIDv7's last bytes are random (or a counter within one ms). */
    uint64_t h = 0;
    memcpy(&h, id + 8, sizeof h);
    return (size_t)(h ^ (h >> 29)) & (self->n_buckets - 1);
}

static pending_t *upstream_take(upstream_t *self, const uint8_t id[UUID_LEN])
{
    pending_t **pp = &self->buckets[upstream_bucket(self, id)];
    for (; *pp; pp = &(*pp)->hnext) {
        pending_t *p = *pp;
        if (memcmp(p->id, id, UUID_LEN) != 0)
            continue;
        *pp = p->hnext;
        if (p->prev)
            p->prev->next = p->next;
        else
            self->head = p->next;
        if (p->next)
            p->next->prev = p->prev;
        else
            self->tail = p->prev;
        self->n_pending--;
        return p;
    }
    return NULL;
}

static void upstream_on_timer(uv_timer_t *t);

static void upstream_arm(upstream_t *self)
{
    if (!self->head) {
        uv_timer_stop(&self->timer);
        return;
    }
    uint64_t now = uv_now(self->loop);
    uint64_t due = self->head->deadline > now ? self->head->deadline - now : 0;
    uv_timer_start(&self->timer, upstream_on_timer, due, 0);
}

static void upstream_on_timer(uv_timer_t *t)
{
    upstream_t *self = t->data;
    uint64_t now = uv_now(self->loop);
    while (self->head && self->head->deadline <= now) {
        pending_t *p = upstream_take(self, self->head->id);
        p->fn(p->arg, UPSTREAM_TIMEOUT, NULL);
        free(p);
    }
    upstream_arm(self);
}

static void upstream_insert(upstream_t *self, pending_t *p)
{
    size_t b = upstream_bucket(self, p->id);
    p->hnext = self->buckets[b];
    self->buckets[b] = p;
    /* Deadlines mostly grow with time: walk from the tail. */
    pending_t *after = self->tail;
    while (after && after->deadline > p->deadline)
        after = after->prev;
    p->prev = after;
    p->next = after ? after->next : self->head;
    if (p->next)
        p->next->prev = p;
    else
        self->tail = p;
    if (after)
        after->next = p;
    else
        self->head = p;
    self->n_pending++;
    if (self->head == p)
        upstream_arm(self);
}

/* Ends every call in flight with `outcome`. */
static void upstream_fail_pending(upstream_t *self, upstream_outcome_t outcome)
{
    while (self->head) {
        pending_t *p = upstream_take(self, self->head->id);
        p->fn(p->arg, outcome, NULL);
        free(p);
    }
    upstream_arm(self);
}

/* Logs a change of up or down, and ends the calls in flight when the
 * service went down: nothing will answer them on this link (a restarted
 * service knows nothing of them), so waiting for their deadlines would
 * only delay the 503. */
static void upstream_update(upstream_t *self)
{
    int up = upstream_is_up(self);
    if (up == self->up)
        return;
    self->up = up;
    if (up) {
        log_info("service up", "service=%s", self->name);
        return;
    }
    char why[64];
    if (self->link_closed)
        snprintf(why, sizeof why, "link closed");
    else
        snprintf(why, sizeof why, "no heartbeat for %lld ms",
                 (long long)upstream_heartbeat_age_ms(self));
    log_warn("service down", "service=%s reason=\"%s\" in_flight=%zu", self->name, why,
             self->n_pending);
    upstream_fail_pending(self, UPSTREAM_DOWN);
}

static void upstream_on_health(uv_timer_t *t)
{
    upstream_update(t->data);
}

/* The DEALER's monitor: a closed link means the service is gone (its
 * process died, or the connection broke); a new handshake after that means
 * it is back and listening, even before its PUB link brings a heartbeat. */
static int upstream_on_monitor(void *sock, void *arg)
{
    upstream_t *self = arg;
    transport_msg_t msg;
    if (transport_recv(sock, &msg, ZMQ_DONTWAIT) != 0)
        return 0;
    uint16_t event = 0;
    if (msg.count >= 1 && transport_frame_size(&msg, 0) >= sizeof event)
        memcpy(&event, transport_frame_data(&msg, 0), sizeof event);
    transport_msg_close(&msg);
    if (event == ZMQ_EVENT_DISCONNECTED) {
        self->link_closed = 1;
        upstream_update(self);
    } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && self->link_closed) {
        self->link_closed = 0;
        self->last_link_up = uv_now(self->loop);
        upstream_update(self);
    }
    return 1;
}

static int upstream_on_reply(void *sock, void *arg)
{
    upstream_t *self = arg;
    transport_msg_t msg;
    if (transport_recv(sock, &msg, ZMQ_DONTWAIT) != 0)
        return 0;
    /* One frame, or an empty delimiter and the frame (REQ-style peers). */
    int last = msg.count - 1;
    envelope_t *env = NULL;
    int err = msg.truncated || last < 0 ? ENVELOPE_MALFORMED
                                        : envelope_decode(transport_frame_data(&msg, last),
                                                          transport_frame_size(&msg, last),
                                                          (size_t)self->max_frame, &env);
    transport_msg_close(&msg);
    if (err != ENVELOPE_OK) {
        log_warn("bad reply frame", "service=%s error=\"%s\"", self->name,
                 envelope_error_text(err));
        return 1;
    }
    pending_t *p = NULL;
    if (env->has_correlation_id && env->correlation_id.len == UUID_LEN)
        p = upstream_take(self, env->correlation_id.data);
    if (!p) {
        self->late_replies++;
        log_debug("late reply dropped", "service=%s type=%s", self->name, env->type);
        envelope_free(&env);
        return 1;
    }
    self->last_reply = uv_now(self->loop);
    ProtobufCMessage *reply = NULL;
    if (envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor, &reply) ==
        ENVELOPE_OK) {
        p->fn(p->arg, UPSTREAM_REPLY, (const Concerto__Common__V1__Reply *)reply);
        protobuf_c_message_free_unpacked(reply, NULL);
    } else {
        log_warn("reply is not a Reply", "service=%s type=%s", self->name, env->type);
        p->fn(p->arg, UPSTREAM_BAD_REPLY, NULL);
    }
    free(p);
    envelope_free(&env);
    return 1;
}

static int upstream_on_heartbeat(void *sock, void *arg)
{
    upstream_t *self = arg;
    transport_msg_t msg;
    if (transport_recv(sock, &msg, ZMQ_DONTWAIT) != 0)
        return 0;
    envelope_t *env = NULL;
    int err = msg.count != 2 || msg.truncated
                  ? ENVELOPE_MALFORMED
                  : envelope_decode(transport_frame_data(&msg, 1), transport_frame_size(&msg, 1),
                                    (size_t)self->max_frame, &env);
    transport_msg_close(&msg);
    if (err != ENVELOPE_OK) {
        log_warn("bad heartbeat", "service=%s error=\"%s\"", self->name, envelope_error_text(err));
        return 1;
    }
    ProtobufCMessage *hb = NULL;
    if (envelope_unpack_payload(env, &concerto__common__v1__heartbeat__descriptor, &hb) ==
        ENVELOPE_OK) {
        if (self->heartbeat)
            protobuf_c_message_free_unpacked(&self->heartbeat->base, NULL);
        self->heartbeat = (Concerto__Common__V1__Heartbeat *)hb;
        self->last_heartbeat = uv_now(self->loop);
        if (!self->last_heartbeat)
            self->last_heartbeat = 1;
        upstream_update(self);
    }
    envelope_free(&env);
    return 1;
}

upstream_t *upstream_new(uv_loop_t *loop, void *zctx, const upstream_options_t *opt)
{
    transport_options_t topt;
    transport_options_default(&topt);
    topt.max_frame = opt->max_frame;
    upstream_t *self = xcalloc(1, sizeof *self);
    self->loop = loop;
    self->name = xstrdup(opt->name);
    self->heartbeat_ms = opt->heartbeat_ms;
    self->heartbeat_misses = opt->heartbeat_misses;
    self->max_inflight = opt->max_inflight;
    self->max_frame = opt->max_frame;
    self->n_buckets = 1024;
    while (self->n_buckets < opt->max_inflight && self->n_buckets < 65536)
        self->n_buckets *= 2;
    self->buckets = xcalloc(self->n_buckets, sizeof *self->buckets);
    self->dealer = transport_socket(zctx, ZMQ_DEALER, &topt);
    self->sub = transport_socket(zctx, ZMQ_SUB, &topt);
    int one = 1;
    const char *topic = concerto__common__v1__heartbeat__descriptor.name;
    if (!self->dealer || !self->sub ||
        /* No queueing for a peer that is not connected: EAGAIN, then 503. */
        zmq_setsockopt(self->dealer, ZMQ_IMMEDIATE, &one, sizeof one) != 0 ||
        zmq_setsockopt(self->sub, ZMQ_SUBSCRIBE, topic, strlen(topic)) != 0 ||
        zmq_connect(self->dealer, opt->router) != 0 || zmq_connect(self->sub, opt->pub) != 0) {
        log_error("cannot connect", "service=%s router=%s pub=%s error=\"%s\"", opt->name,
                  opt->router, opt->pub, zmq_strerror(errno));
        goto fail;
    }
    char monitor_ep[96];
    snprintf(monitor_ep, sizeof monitor_ep, "inproc://concerto-upstream-monitor-%p", (void *)self);
    if (zmq_socket_monitor(self->dealer, monitor_ep,
                           ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 ||
        !(self->monitor = zmq_socket(zctx, ZMQ_PAIR)) ||
        zmq_connect(self->monitor, monitor_ep) != 0) {
        log_error("cannot monitor", "service=%s error=\"%s\"", opt->name, zmq_strerror(errno));
        goto fail;
    }
    self->dealer_watch = zwatch_new(loop, self->dealer, upstream_on_reply, self);
    self->sub_watch = zwatch_new(loop, self->sub, upstream_on_heartbeat, self);
    self->monitor_watch = zwatch_new(loop, self->monitor, upstream_on_monitor, self);
    if (!self->dealer_watch || !self->sub_watch || !self->monitor_watch)
        goto fail;
    uv_timer_init(loop, &self->timer);
    uv_timer_init(loop, &self->health);
    self->timer.data = self->health.data = self;
    self->open_handles = 2;
    uv_timer_start(&self->health, upstream_on_health, (uint64_t)self->heartbeat_ms,
                   (uint64_t)self->heartbeat_ms);
    return self;
fail:
    zwatch_destroy(&self->dealer_watch, 0);
    zwatch_destroy(&self->sub_watch, 0);
    zwatch_destroy(&self->monitor_watch, 0);
    if (self->dealer) {
        zmq_socket_monitor(self->dealer, NULL, 0);
        zmq_close(self->dealer);
    }
    if (self->monitor)
        zmq_close(self->monitor);
    if (self->sub)
        zmq_close(self->sub);
    free(self->buckets);
    free(self->name);
    free(self);
    return NULL;
}

static void upstream_on_close(uv_handle_t *h)
{
    upstream_t *self = h->data;
    if (--self->open_handles > 0)
        return;
    if (self->heartbeat)
        protobuf_c_message_free_unpacked(&self->heartbeat->base, NULL);
    free(self->buckets);
    free(self->name);
    free(self);
}

void upstream_destroy(upstream_t **self_p)
{
    upstream_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    upstream_fail_pending(self, UPSTREAM_CANCELLED);
    zmq_socket_monitor(self->dealer, NULL, 0);
    zwatch_destroy(&self->monitor_watch, 1);
    zwatch_destroy(&self->dealer_watch, 1);
    zwatch_destroy(&self->sub_watch, 1);
    uv_close((uv_handle_t *)&self->timer, upstream_on_close);
    uv_close((uv_handle_t *)&self->health, upstream_on_close);
}

int upstream_call(upstream_t *self, const upstream_request_t *req, uint64_t deadline_ms,
                  upstream_fn fn, void *arg, uint8_t id_out[16])
{
    if (!upstream_is_up(self))
        return UPSTREAM_ERR_DOWN;
    if (self->n_pending >= self->max_inflight)
        return UPSTREAM_ERR_BUSY;
    pending_t *p = xcalloc(1, sizeof *p);
    envelope_t env;
    envelope_prepare(&env, p->id, "gateway", req->type, req->payload, req->payload_len);
    env.actor = (char *)req->actor;
    env.idempotency_key = (char *)req->idempotency_key;
    env.caller = (Concerto__Common__V1__Caller *)req->caller;
    env.format = (char *)req->format;
    env.has_json_names = req->json_names;
    env.json_names = req->json_names;
    env.n_if_none_match = req->n_if_none_match;
    env.if_none_match = (char **)req->if_none_match;
    size_t len = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    if (len > (size_t)self->max_frame) {
        free(frame);
        free(p);
        return UPSTREAM_ERR_TOO_LARGE;
    }
    int rc = zmq_send(self->dealer, frame, len, ZMQ_DONTWAIT);
    int saved = errno;
    free(frame);
    zwatch_kick(self->dealer_watch);
    if (rc < 0) {
        free(p);
        if (saved == EAGAIN)
            return UPSTREAM_ERR_BUSY;
        log_warn("send failed", "service=%s error=\"%s\"", self->name, zmq_strerror(saved));
        return UPSTREAM_ERR_INTERNAL;
    }
    /* The loop's time was cached when this turn began and is truncated to
     * the millisecond: a deadline counted from it could end before the
     * caller's full time has passed. Count from the clock itself, rounded
     * up. */
    p->deadline = uv_hrtime() / 1000000 + 1 + deadline_ms;
    p->fn = fn;
    p->arg = arg;
    if (id_out)
        memcpy(id_out, p->id, UUID_LEN);
    upstream_insert(self, p);
    return 0;
}

int64_t upstream_heartbeat_age_ms(const upstream_t *self)
{
    if (!self->last_heartbeat)
        return -1;
    return (int64_t)(uv_now(self->loop) - self->last_heartbeat);
}

/* Up once heard, while heartbeats or replies keep coming and the DEALER's
 * link is open: a restarted service answers on its DEALER link before its
 * PUB link has reconnected, and must not be called down meanwhile; the link
 * reopening counts as hearing it. */
int upstream_is_up(const upstream_t *self)
{
    if (!self->last_heartbeat || self->link_closed)
        return 0;
    uint64_t seen =
        self->last_reply > self->last_heartbeat ? self->last_reply : self->last_heartbeat;
    if (self->last_link_up > seen)
        seen = self->last_link_up;
    return uv_now(self->loop) - seen <= (uint64_t)self->heartbeat_ms * self->heartbeat_misses;
}

const Concerto__Common__V1__Heartbeat *upstream_heartbeat(const upstream_t *self)
{
    return self->heartbeat;
}

size_t upstream_inflight(const upstream_t *self)
{
    return self->n_pending;
}

uint64_t upstream_late_replies(const upstream_t *self)
{
    return self->late_replies;
}
