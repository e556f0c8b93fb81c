/* bench-partner: a partner system sending events to the gateway's ingress
 * as fast as the acknowledgements come back, for benchmarks.
 *
 * Opens --conns CURVE DEALER connections (the partner's key pair, the
 * gateway's public key), keeps --window events in flight on each, and for
 * --duration seconds sends events of --type built from a JSON template: in
 * every top-level string field, "%N" becomes the event's number, so that
 * each event is new (a payment's reference, an attestation's author). Each
 * event has its own event id (--prefix and its number). An event counts
 * when its Reply comes back; the time from send to Reply is its latency.
 * Prints one line: "events N ok K failed F per_s R p50_ms A p99_ms B" and
 * the failures by status. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "envelope.h"
#include "msg_types.h"
#include "pb_json.h"
#include "pbmsg.h"
#include "status.h"
#include "xalloc.h"

#define MAX_CONNS 64
#define MAX_WINDOW 256
#define MAX_FIELDS 8
#define Z85_KEY_LEN 40

typedef struct {
    const char *endpoint, *key_base, *server_key, *type, *json, *prefix;
    int duration_s, conns, window;
} options_t;

typedef struct {
    void *sock;
    double sent_at[MAX_WINDOW]; /* by slot; 0 when free */
    int in_flight;
} conn_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_key(const char *path, char out[Z85_KEY_LEN + 1])
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    int ok = fscanf(fp, "%40s", out) == 1 && strlen(out) == Z85_KEY_LEN;
    fclose(fp);
    return ok ? 0 : -1;
}

static void *connect_partner(void *zctx, const options_t *o)
{
    char path[1024], secret[Z85_KEY_LEN + 1], public_key[Z85_KEY_LEN + 1],
        server[Z85_KEY_LEN + 1];
    snprintf(path, sizeof path, "%s.key", o->key_base);
    if (read_key(path, secret) != 0)
        return NULL;
    snprintf(path, sizeof path, "%s.pub", o->key_base);
    if (read_key(path, public_key) != 0 || read_key(o->server_key, server) != 0)
        return NULL;
    void *sock = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0, hwm = 100000;
    if (!sock || zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, public_key, Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_connect(sock, o->endpoint) != 0)
        return NULL;
    return sock;
}

/* The template message and its string fields that hold "%N". */
typedef struct {
    const ProtobufCMessageDescriptor *desc;
    ProtobufCMessage *msg;
    const ProtobufCFieldDescriptor *fields[MAX_FIELDS];
    char *originals[MAX_FIELDS];
    size_t n_fields;
} template_t;

static int template_load(template_t *t, const options_t *o)
{
    t->desc = msg_types_find(o->type);
    json_error_t jerr;
    json_t *json = t->desc ? json_loads(o->json, 0, &jerr) : NULL;
    pb_json_error_t err;
    if (!json || pb_json_to_message(json, t->desc, &t->msg, &err) < 0) {
        fprintf(stderr, "bench-partner: the JSON is not a %s\n", o->type);
        json_decref(json);
        return -1;
    }
    json_decref(json);
    for (unsigned i = 0; i < t->desc->n_fields && t->n_fields < MAX_FIELDS; i++) {
        const ProtobufCFieldDescriptor *f = &t->desc->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        char *s = *(char **)pbmsg_member(t->msg, f);
        if (s && strstr(s, "%N")) {
            t->fields[t->n_fields] = f;
            t->originals[t->n_fields++] = s;
        }
    }
    return 0;
}

/* The packed envelope of event `n`: the template with "%N" as n. */
static uint8_t *event_frame(template_t *t, const options_t *o, uint64_t n, uint16_t conn,
                            uint16_t slot, size_t *len)
{
    char number[24], *values[MAX_FIELDS];
    snprintf(number, sizeof number, "%" PRIu64, n);
    for (size_t i = 0; i < t->n_fields; i++) {
        const char *at = strstr(t->originals[i], "%N");
        values[i] = xasprintf("%.*s%s%s", (int)(at - t->originals[i]), t->originals[i], number,
                              at + 2);
        *(char **)pbmsg_member(t->msg, t->fields[i]) = values[i];
    }
    size_t plen = 0;
    uint8_t *payload = message_pack(t->msg, &plen);
    for (size_t i = 0; i < t->n_fields; i++) {
        *(char **)pbmsg_member(t->msg, t->fields[i]) = t->originals[i];
        free(values[i]);
    }
    /* The id says which connection and slot, for the answer's latency. */
    uint8_t id[16] = {0};
    memcpy(id, &conn, 2);
    memcpy(id + 2, &slot, 2);
    memcpy(id + 4, &n, 8);
    envelope_t env;
    uint8_t fresh[16];
    envelope_prepare(&env, fresh, "bench-partner", t->desc->name, payload, plen);
    memcpy(fresh, id, 16);
    char key[128];
    snprintf(key, sizeof key, "%s-%" PRIu64, o->prefix, n);
    env.idempotency_key = key;
    uint8_t *frame = envelope_pack(&env, len);
    free(payload);
    return frame;
}

static int parse_args(int argc, char **argv, options_t *o)
{
    *o = (options_t){"tcp://127.0.0.1:7000", NULL, NULL, NULL, NULL, "bench", 10, 4, 16};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--endpoint") == 0)
            o->endpoint = v;
        else if (strcmp(k, "--key") == 0)
            o->key_base = v;
        else if (strcmp(k, "--server-key") == 0)
            o->server_key = v;
        else if (strcmp(k, "--type") == 0)
            o->type = v;
        else if (strcmp(k, "--json") == 0)
            o->json = v;
        else if (strcmp(k, "--prefix") == 0)
            o->prefix = v;
        else if (strcmp(k, "--duration") == 0)
            o->duration_s = atoi(v);
        else if (strcmp(k, "--conns") == 0)
            o->conns = atoi(v);
        else if (strcmp(k, "--window") == 0)
            o->window = atoi(v);
        else
            return -1;
    }
    return o->key_base && o->server_key && o->type && o->json && o->duration_s > 0 &&
                   o->conns > 0 && o->conns <= MAX_CONNS && o->window > 0 &&
                   o->window <= MAX_WINDOW
               ? 0
               : -1;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Results of the run. */
typedef struct {
    double *latencies;
    size_t n, cap;
    uint64_t ok, failed, by_status[16];
} results_t;

static void on_reply(conn_t *c, const uint8_t *frame, size_t len, double now, results_t *res)
{
    envelope_t *env = NULL;
    if (envelope_decode(frame, len, 4 << 20, &env) != ENVELOPE_OK)
        return;
    ProtobufCMessage *m = NULL;
    uint16_t slot = 0;
    if (env->correlation_id.len == 16)
        memcpy(&slot, env->correlation_id.data + 2, 2);
    if (slot < MAX_WINDOW && c->sent_at[slot] > 0 &&
        envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor, &m) ==
            ENVELOPE_OK) {
        const Concerto__Common__V1__Reply *r = (const void *)m;
        int status = r->has_status ? (int)r->status : STATUS_OK;
        if (res->n == res->cap) {
            res->cap = res->cap ? 2 * res->cap : 65536;
            res->latencies = xrealloc(res->latencies, res->cap * sizeof *res->latencies);
        }
        res->latencies[res->n++] = now - c->sent_at[slot];
        c->sent_at[slot] = 0;
        c->in_flight--;
        if (status == STATUS_OK)
            res->ok++;
        else
            res->failed++;
        res->by_status[status & 15]++;
        protobuf_c_message_free_unpacked(m, NULL);
    }
    envelope_free(&env);
}

int main(int argc, char **argv)
{
    options_t o;
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-partner --key BASE --server-key FILE --type NAME --json "
                        "TEMPLATE [--endpoint E] [--prefix P] [--duration S] [--conns C] "
                        "[--window W]\n");
        return 2;
    }
    template_t t = {0};
    if (template_load(&t, &o) != 0)
        return 2;
    void *zctx = zmq_ctx_new();
    conn_t conns[MAX_CONNS];
    zmq_pollitem_t items[MAX_CONNS];
    for (int i = 0; i < o.conns; i++) {
        memset(&conns[i], 0, sizeof conns[i]);
        conns[i].sock = connect_partner(zctx, &o);
        if (!conns[i].sock) {
            fprintf(stderr, "bench-partner: cannot connect with %s\n", o.key_base);
            return 2;
        }
        items[i] = (zmq_pollitem_t){conns[i].sock, 0, ZMQ_POLLIN, 0};
    }
    results_t res = {0};
    uint64_t next = 1;
    double start = now_s(), stop = start + o.duration_s, drain = stop + 10;
    for (;;) {
        double now = now_s();
        int sending = now < stop, busy = 0;
        for (int i = 0; i < o.conns; i++) {
            conn_t *c = &conns[i];
            for (int s = 0; sending && s < o.window && c->in_flight < o.window; s++) {
                if (c->sent_at[s] > 0)
                    continue;
                size_t len = 0;
                uint8_t *frame = event_frame(&t, &o, next++, (uint16_t)i, (uint16_t)s, &len);
                if (zmq_send(c->sock, frame, len, 0) == (int)len) {
                    c->sent_at[s] = now_s();
                    c->in_flight++;
                }
                free(frame);
            }
            busy |= c->in_flight > 0;
        }
        if ((!sending && !busy) || now > drain)
            break;
        if (zmq_poll(items, o.conns, 100) <= 0)
            continue;
        for (int i = 0; i < o.conns; i++) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            while (zmq_msg_recv(&msg, conns[i].sock, ZMQ_DONTWAIT) >= 0) {
                on_reply(&conns[i], zmq_msg_data(&msg), zmq_msg_size(&msg), now_s(), &res);
                zmq_msg_close(&msg);
                zmq_msg_init(&msg);
            }
            zmq_msg_close(&msg);
        }
    }
    double elapsed = now_s() - start;
    qsort(res.latencies, res.n, sizeof *res.latencies, compare);
    double p50 = res.n ? res.latencies[res.n / 2] : 0;
    double p99 = res.n ? res.latencies[(size_t)((double)res.n * 0.99)] : 0;
    printf("events %zu ok %" PRIu64 " failed %" PRIu64 " per_s %.0f p50_ms %.2f p99_ms %.2f\n",
           res.n, res.ok, res.failed, (double)res.ok / (elapsed < o.duration_s ? o.duration_s : elapsed),
           p50 * 1000, p99 * 1000);
    for (int s = 1; s < 16; s++)
        if (res.by_status[s])
            printf("  %s: %" PRIu64 "\n", status_name(s), res.by_status[s]);
    for (int i = 0; i < o.conns; i++)
        zmq_close(conns[i].sock);
    zmq_ctx_term(zctx);
    free(res.latencies);
    protobuf_c_message_free_unpacked(t.msg, NULL);
    return res.failed ? 1 : 0;
}
