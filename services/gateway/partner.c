/* partner: the CURVE-secured partner ingress and its ZAP handler (see
 * partner.h). */
#include "partner.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "envelope.h"
#include "log.h"
#include "status.h"
#include "textfile.h"
#include "transport.h"
#include "uuid.h"
#include "xalloc.h"
#include "zwatch.h"

#define PARTNER_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define PARTNER_ZAP_DOMAIN "concerto-partner"
#define PARTNER_MAX_IDENTITY 255
#define PARTNER_MAX_EVENT_ID 180
#define PARTNER_ZAP_FRAMES 8

struct partner {
    partner_options_t opt;
    void *router, *zap;
    zwatch_t *router_watch, *zap_watch;
    size_t inflight;
};

typedef struct {
    partner_t *partner;
    uint8_t identity[PARTNER_MAX_IDENTITY];
    size_t identity_len;
    int delimiter; /* the partner framed with an empty delimiter (REQ) */
    uint8_t correlation[UUID_LEN];
    int has_correlation;
    char name[PARTNER_MAX_NAME + 1];
} partner_call_t;

/* Reads a CURVE key file (one line of Z85) into 32 bytes. */
static int partner_read_key(const char *path, uint8_t key[32], char *err, size_t errlen)
{
    char why[256];
    char *text = textfile_read(path, 4096, why, sizeof why);
    if (!text) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    char z85[41];
    int rc = -1;
    if (sscanf(text, " %40s", z85) == 1 && strlen(z85) == 40 && zmq_z85_decode(key, z85))
        rc = 0;
    else
        snprintf(err, errlen, "%s: expected one line of 40 Z85 characters", path);
    sodium_memzero(z85, sizeof z85);
    sodium_memzero(text, strlen(text));
    free(text);
    return rc;
}

/* ------------------------------------------------------------ replies */

/* Sends a Reply envelope to the partner of `call`. */
static void partner_send_reply(partner_t *self, const partner_call_t *call,
                               const Concerto__Common__V1__Reply *reply)
{
    size_t plen = 0;
    uint8_t *payload = message_pack(&reply->base, &plen);
    uint8_t id[UUID_LEN];
    envelope_t env;
    envelope_prepare(&env, id, "gateway", concerto__common__v1__reply__descriptor.name, payload,
                     plen);
    if (call->has_correlation) {
        env.has_correlation_id = 1;
        env.correlation_id.data = (uint8_t *)call->correlation;
        env.correlation_id.len = UUID_LEN;
    }
    size_t len = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    const void *data[3] = {call->identity, "", frame};
    size_t lens[3] = {call->identity_len, 0, len};
    if (!call->delimiter) {
        data[1] = frame;
        lens[1] = len;
    }
    if (transport_send(self->router, data, lens, call->delimiter ? 3 : 2, ZMQ_DONTWAIT) != 0)
        log_warn("partner reply not sent", "partner=%s error=\"%s\"",
                 call->name[0] ? call->name : "-", zmq_strerror(errno));
    zwatch_kick(self->router_watch);
    free(frame);
    free(payload);
}

static void partner_reply_status(partner_t *self, const partner_call_t *call, status_t status,
                                 const char *message)
{
    Concerto__Common__V1__Reply reply;
    concerto__common__v1__reply__init(&reply);
    reply.has_status = 1;
    reply.status = (Concerto__Common__V1__Status)status;
    reply.message = (char *)message;
    partner_send_reply(self, call, &reply);
}

static void partner_reject(partner_t *self, const partner_call_t *call, status_t status,
                           const char *message)
{
    log_info("partner event refused", "partner=%s status=%s reason=\"%s\"",
             call->name[0] ? call->name : "-", status_name(status), message);
    metrics_partner(self->opt.metrics, METRICS_PARTNER_REJECTED);
    partner_reply_status(self, call, status, message);
}

static void partner_on_service(void *arg, upstream_outcome_t outcome,
                               const Concerto__Common__V1__Reply *reply)
{
    partner_call_t *call = arg;
    partner_t *self = call->partner;
    self->inflight--;
    switch (outcome) {
    case UPSTREAM_REPLY: {
        int ok = !reply->has_status || reply->status == CONCERTO__COMMON__V1__STATUS__OK;
        metrics_partner(self->opt.metrics, ok ? METRICS_PARTNER_ACCEPTED : METRICS_PARTNER_FAILED);
        partner_send_reply(self, call, reply);
        break;
    }
    case UPSTREAM_TIMEOUT:
        metrics_partner(self->opt.metrics, METRICS_PARTNER_FAILED);
        partner_reply_status(self, call, STATUS_DEADLINE_EXCEEDED,
                             "the service did not answer in time; retry with the same event id");
        break;
    case UPSTREAM_CANCELLED:
        metrics_partner(self->opt.metrics, METRICS_PARTNER_FAILED);
        partner_reply_status(self, call, STATUS_UNAVAILABLE,
                             "the gateway is shutting down; retry with the same event id");
        break;
    case UPSTREAM_DOWN:
        metrics_partner(self->opt.metrics, METRICS_PARTNER_FAILED);
        partner_reply_status(self, call, STATUS_UNAVAILABLE,
                             "the service went down; retry with the same event id");
        break;
    case UPSTREAM_BAD_REPLY:
        metrics_partner(self->opt.metrics, METRICS_PARTNER_FAILED);
        partner_reply_status(self, call, STATUS_INTERNAL, "the service's answer was malformed");
        break;
    }
    free(call);
}

/* ------------------------------------------------------------ events */

static int partner_event_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > PARTNER_MAX_EVENT_ID)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

/* The request's top-level `table_id`, "" when the type has that field but
 * it is unset, NULL when the type has no such field. */
static const char *partner_table_id(const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "table_id");
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    const char *v = *(char *const *)((const char *)msg + f->offset);
    return v ? v : "";
}

/* The caller the service is told of: the partner, its name and every
 * scope of its allow-list line (borrowed from `who`; `scopes` is storage). */
static void partner_caller(const partner_entry_t *who, Concerto__Common__V1__Caller *caller,
                           Concerto__Common__V1__Scope scopes[PARTNER_MAX_SCOPES],
                           Concerto__Common__V1__Scope *ptrs[PARTNER_MAX_SCOPES])
{
    concerto__common__v1__caller__init(caller);
    caller->has_role = 1;
    caller->role = CONCERTO__COMMON__V1__ROLE__ROLE_PARTNER;
    caller->name = (char *)who->name;
    for (size_t i = 0; i < who->n_scopes; i++) {
        concerto__common__v1__scope__init(&scopes[i]);
        scopes[i].name = who->scopes[i].name;
        scopes[i].n_values = who->scopes[i].n_values;
        scopes[i].values = who->scopes[i].values;
        ptrs[i] = &scopes[i];
    }
    caller->n_scopes = who->n_scopes;
    caller->scopes = ptrs;
}

/* Checks and forwards one decoded event; answers it when it cannot go on. */
static void partner_handle(partner_t *self, partner_call_t *call, const envelope_t *env)
{
    const partner_entry_t *who = partner_policy_find_name(self->opt.policy, call->name);
    if (!who) {
        partner_reject(self, call, STATUS_PERMISSION_DENIED, "unknown partner");
        return;
    }
    int svc = partner_policy_type_service(self->opt.policy, env->type);
    if (svc < 0) {
        partner_reject(self, call, STATUS_PERMISSION_DENIED,
                       "this message type is not accepted from partners");
        return;
    }
    if (!partner_event_id_valid(env->idempotency_key)) {
        partner_reject(self, call, STATUS_INVALID_ARGUMENT,
                       "idempotency_key must hold the event id: 1-180 printable characters");
        return;
    }
    const ProtobufCMessageDescriptor *desc = self->opt.lookup(env->type);
    ProtobufCMessage *msg = NULL;
    if (!desc || envelope_unpack_payload(env, desc, &msg) != ENVELOPE_OK) {
        partner_reject(self, call, STATUS_INVALID_ARGUMENT,
                       "the payload does not decode as its type");
        return;
    }
    const char *table = partner_table_id(msg);
    int allowed = !table || partner_policy_allows_table(who, table);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (!allowed) {
        partner_reject(self, call, STATUS_PERMISSION_DENIED,
                       "this partner may not speak for that Table");
        return;
    }
    char key[ENVELOPE_MAX_TEXT_LEN + 1], actor[PARTNER_MAX_NAME + 16];
    snprintf(key, sizeof key, "partner/%s/%s", who->name, env->idempotency_key);
    snprintf(actor, sizeof actor, "partner:%s", who->name);
    Concerto__Common__V1__Caller caller;
    Concerto__Common__V1__Scope scopes[PARTNER_MAX_SCOPES], *scope_ptrs[PARTNER_MAX_SCOPES];
    partner_caller(who, &caller, scopes, scope_ptrs);
    upstream_request_t req = {.type = env->type,
                              .payload = env->payload.data,
                              .payload_len = env->has_payload ? env->payload.len : 0,
                              .actor = actor,
                              .idempotency_key = key,
                              .caller = &caller};
    partner_call_t *pending = xmalloc(sizeof *pending);
    *pending = *call;
    int rc = upstream_call(self->opt.upstreams[svc], &req, self->opt.deadline_ms,
                           partner_on_service, pending, NULL);
    if (rc != 0) {
        free(pending);
        metrics_partner(self->opt.metrics, METRICS_PARTNER_FAILED);
        if (rc == UPSTREAM_ERR_TOO_LARGE)
            partner_reply_status(self, call, STATUS_INVALID_ARGUMENT,
                                 "the event is too large to forward");
        else
            partner_reply_status(self, call, STATUS_UNAVAILABLE,
                                 rc == UPSTREAM_ERR_DOWN
                                     ? "the service is unavailable; retry with the same event id"
                                     : "the service is busy; retry with the same event id");
        return;
    }
    self->inflight++;
}

static int partner_on_message(void *sock, void *arg)
{
    partner_t *self = arg;
    transport_msg_t msg;
    if (transport_recv(sock, &msg, ZMQ_DONTWAIT) != 0)
        return 0;
    partner_call_t call;
    memset(&call, 0, sizeof call);
    call.partner = self;
    size_t id_len = msg.count ? transport_frame_size(&msg, 0) : 0;
    if (id_len == 0 || id_len > PARTNER_MAX_IDENTITY) {
        transport_msg_close(&msg);
        return 1;
    }
    memcpy(call.identity, transport_frame_data(&msg, 0), id_len);
    call.identity_len = id_len;
    int body = 1;
    if (msg.count == 3 && transport_frame_size(&msg, 1) == 0) {
        call.delimiter = 1;
        body = 2;
    }
    /* ZAP's user id (the partner's name) rides on the frames the peer sent,
     * not on the identity frame the ROUTER adds. */
    const char *user = msg.count > 1 ? zmq_msg_gets(&msg.frames[msg.count - 1], "User-Id") : NULL;
    snprintf(call.name, sizeof call.name, "%s", user ? user : "");
    if (msg.truncated || msg.count != body + 1) {
        transport_msg_close(&msg);
        partner_reject(self, &call, STATUS_INVALID_ARGUMENT,
                       "expected one frame: a packed concerto.common.v1.Envelope");
        return 1;
    }
    const void *data = transport_frame_data(&msg, body);
    size_t len = transport_frame_size(&msg, body);
    envelope_t *env = NULL;
    int err = envelope_decode(data, len, (size_t)self->opt.max_frame, &env);
    if (err != ENVELOPE_OK) {
        /* Answer with the id if the frame has a usable one. */
        envelope_t *raw = len <= (size_t)self->opt.max_frame
                              ? concerto__common__v1__envelope__unpack(NULL, len, data)
                              : NULL;
        if (raw && raw->has_id && raw->id.len == UUID_LEN) {
            memcpy(call.correlation, raw->id.data, UUID_LEN);
            call.has_correlation = 1;
        }
        if (raw)
            concerto__common__v1__envelope__free_unpacked(raw, NULL);
        transport_msg_close(&msg);
        partner_reject(self, &call, STATUS_INVALID_ARGUMENT, envelope_error_text(err));
        return 1;
    }
    transport_msg_close(&msg);
    memcpy(call.correlation, env->id.data, UUID_LEN);
    call.has_correlation = 1;
    partner_handle(self, &call, env);
    envelope_free(&env);
    return 1;
}

/* ------------------------------------------------------------ ZAP */

static int partner_on_zap(void *sock, void *arg)
{
    partner_t *self = arg;
    zmq_msg_t frames[PARTNER_ZAP_FRAMES];
    int n = 0, more = 1, extra = 0;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, n == 0 && !extra ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&part);
            for (int i = 0; i < n; i++)
                zmq_msg_close(&frames[i]);
            return n > 0; /* nothing waiting, unless a frame was lost mid-message */
        }
        more = zmq_msg_more(&part);
        if (n < PARTNER_ZAP_FRAMES) {
            frames[n++] = part;
        } else {
            extra = 1;
            zmq_msg_close(&part);
        }
    }
    /* RFC 27: version, request id, domain, address, identity, mechanism,
     * credentials (for CURVE: the client's 32-byte public key). */
    const char *code = "400", *text = "denied";
    const char *user = "";
    const partner_entry_t *who = NULL;
    if (n == 7 && !extra && zmq_msg_size(&frames[0]) == 3 &&
        memcmp(zmq_msg_data(&frames[0]), "1.0", 3) == 0 && zmq_msg_size(&frames[5]) == 5 &&
        memcmp(zmq_msg_data(&frames[5]), "CURVE", 5) == 0 && zmq_msg_size(&frames[6]) == 32)
        who = partner_policy_find_key(self->opt.policy, zmq_msg_data(&frames[6]));
    if (who) {
        code = "200";
        text = "OK";
        user = who->name;
    } else {
        char addr[64] = "-";
        if (n >= 4) {
            size_t al = zmq_msg_size(&frames[3]);
            if (al >= sizeof addr)
                al = sizeof addr - 1;
            memcpy(addr, zmq_msg_data(&frames[3]), al);
            addr[al] = '\0';
        }
        log_warn("partner refused", "address=%s reason=\"key not on the allow-list\"", addr);
    }
    if (n >= 2) {
        const void *data[6] = {"1.0", zmq_msg_data(&frames[1]), code, text, user, ""};
        size_t lens[6] = {3, zmq_msg_size(&frames[1]), 3, strlen(text), strlen(user), 0};
        transport_send(sock, data, lens, 6, 0);
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
    return 1;
}

/* ------------------------------------------------------------ lifecycle */

partner_t *partner_new(uv_loop_t *loop, void *zctx, const partner_options_t *opt, char *err,
                       size_t errlen)
{
    uint8_t secret[32], public_key[32], derived[32];
    char z85_secret[41], z85_derived[41];
    if (partner_read_key(opt->secret_file, secret, err, errlen) != 0 ||
        partner_read_key(opt->public_file, public_key, err, errlen) != 0)
        return NULL;
    zmq_z85_encode(z85_secret, secret, 32);
    int match = zmq_curve_public(z85_derived, z85_secret) == 0 &&
                zmq_z85_decode(derived, z85_derived) && memcmp(derived, public_key, 32) == 0;
    sodium_memzero(z85_secret, sizeof z85_secret);
    if (!match) {
        sodium_memzero(secret, sizeof secret);
        snprintf(err, errlen, "%s is not the public key of %s", opt->public_file, opt->secret_file);
        return NULL;
    }
    partner_t *self = xcalloc(1, sizeof *self);
    self->opt = *opt;
    transport_options_t topt;
    transport_options_default(&topt);
    topt.max_frame = opt->max_frame;
    /* The ZAP handler first: libzmq admits every CURVE client when no
     * handler is bound. */
    self->zap = zmq_socket(zctx, ZMQ_REP);
    int zero = 0, one = 1;
    if (!self->zap || zmq_setsockopt(self->zap, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(self->zap, PARTNER_ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(errno));
        goto fail;
    }
    self->router = transport_socket(zctx, ZMQ_ROUTER, &topt);
    if (!self->router || zmq_setsockopt(self->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(self->router, ZMQ_CURVE_SECRETKEY, secret, 32) != 0 ||
        zmq_setsockopt(self->router, ZMQ_ZAP_DOMAIN, PARTNER_ZAP_DOMAIN,
                       strlen(PARTNER_ZAP_DOMAIN)) != 0 ||
        zmq_bind(self->router, opt->endpoint) != 0) {
        snprintf(err, errlen, "partner ingress %s: %s", opt->endpoint, zmq_strerror(errno));
        goto fail;
    }
    sodium_memzero(secret, sizeof secret);
    self->zap_watch = zwatch_new(loop, self->zap, partner_on_zap, self);
    self->router_watch = zwatch_new(loop, self->router, partner_on_message, self);
    if (!self->zap_watch || !self->router_watch) {
        snprintf(err, errlen, "cannot watch the partner sockets");
        goto fail;
    }
    return self;
fail:
    sodium_memzero(secret, sizeof secret);
    zwatch_destroy(&self->router_watch, 0);
    zwatch_destroy(&self->zap_watch, 0);
    if (self->router)
        zmq_close(self->router);
    if (self->zap)
        zmq_close(self->zap);
    free(self);
    return NULL;
}

void partner_destroy(partner_t **self_p)
{
    partner_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    zwatch_destroy(&self->router_watch, 1);
    zwatch_destroy(&self->zap_watch, 1);
    free(self);
}

size_t partner_inflight(const partner_t *self)
{
    return self->inflight;
}
