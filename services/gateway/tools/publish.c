/* concerto-publish: a partner system's client for the gateway's ingress.
 *
 * Sends one event, given as JSON, to the gateway's partner ingress over a
 * CURVE-encrypted DEALER socket, as an Envelope whose type is the event's
 * full protobuf name and whose idempotency key is the partner's event id.
 * It then waits for the Reply. Until one comes it resends the very same
 * envelope (same envelope id, same event id), so the gateway and the owning
 * service see a retry, not a new event; that is the partner side of the
 * ingress's at-least-once, applied-once contract. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "envelope.h"
#include "log.h"
#include "msg_types.h"
#include "pb_json.h"
#include "status.h"
#include "transport.h"
#include "uuid.h"
#include "xalloc.h"

#define DEFAULT_ENDPOINT "tcp://127.0.0.1:7000"
#define DEFAULT_TIMEOUT_MS 3000
#define DEFAULT_RETRIES 5
#define MAX_JSON_BYTES (1024 * 1024)
#define MAX_EVENT_ID 128
#define MAX_BACKOFF_MS 5000
#define Z85_KEY_LEN 40

enum { EXIT_OK = 0, EXIT_ERROR_REPLY = 1, EXIT_USAGE = 2, EXIT_NO_ANSWER = 3 };

typedef struct {
    const char *endpoint;
    const char *key_base;
    const char *server_key_path;
    const char *type;
    const char *json_text;
    const char *json_file;
    const char *event_id;
    const char *source;
    int64_t timeout_ms;
    int64_t retries;
} options_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: concerto-publish --key BASE --server-key FILE --type NAME\n"
            "                        (--json TEXT | --json-file PATH) [options]\n"
            "\n"
            "Publishes one event to the Concerto gateway's partner ingress and waits\n"
            "for the answer. The event is sent over ZeroMQ CURVE as an Envelope of the\n"
            "given type, keyed by the event id; when no answer comes in time the same\n"
            "envelope is sent again, so a retry is never taken for a new event.\n"
            "\n"
            "Options:\n"
            "  --endpoint URL      the gateway's partner ingress (default %s)\n"
            "  --key BASE          this partner's key pair, as concerto-keygen writes it:\n"
            "                      BASE.key (secret) and BASE.pub (public)\n"
            "  --server-key FILE   the gateway's public CURVE key (Z85 text)\n"
            "  --type NAME         full protobuf name of the event message,\n"
            "                      e.g. concerto.test.v1.AllKinds (see --list-types)\n"
            "  --json TEXT         the event as a JSON object (proto3 JSON names)\n"
            "  --json-file PATH    read the JSON object from PATH ('-' for stdin; at\n"
            "                      most %d bytes)\n"
            "  --event-id ID       the partner's id for this event, the idempotency key\n"
            "                      a retry repeats: 1 to %d printable ASCII characters\n"
            "                      other than space and '/' (default: a fresh UUIDv7)\n"
            "  --source NAME       envelope source (default: the file name of BASE)\n"
            "  --timeout-ms N      how long to wait for an answer before resending\n"
            "                      (default %d)\n"
            "  --retries N         how many times to resend, backing off 200 ms, 400 ms,\n"
            "                      ... up to %d ms between tries (default %d)\n"
            "  --list-types        print the message types this tool knows and exit\n"
            "  --help              show this help\n"
            "\n"
            "Prints the answer's status and message, any field violations, and the\n"
            "result as JSON when its type is known.\n"
            "Exit status: 0 answered OK, 1 answered with an error, 2 usage or input\n"
            "error, 3 no answer after every retry.\n",
            DEFAULT_ENDPOINT, MAX_JSON_BYTES, MAX_EVENT_ID, DEFAULT_TIMEOUT_MS, MAX_BACKOFF_MS,
            DEFAULT_RETRIES);
}

static int parse_int(const char *opt, const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "concerto-publish: %s must be an integer from %" PRId64 " to %" PRId64 "\n",
                opt, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Reads at most `max` bytes of `path` ("-" is stdin) into a new buffer. */
static char *read_limited(const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "concerto-publish: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = xmalloc(max + 1);
    size_t n = fread(buf, 1, max + 1, f);
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad || n > max) {
        fprintf(stderr, "concerto-publish: %s: %s\n", path, bad ? "read error" : "file too large");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Reads a Z85 CURVE key (40 characters, optional trailing whitespace). */
static int read_key(const char *path, char out[Z85_KEY_LEN + 1])
{
    size_t len;
    char *text = read_limited(path, 256, &len);
    if (text == NULL)
        return -1;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = '\0';
    uint8_t bin[32];
    int ok = len == Z85_KEY_LEN && zmq_z85_decode(bin, text) != NULL;
    if (ok)
        memcpy(out, text, Z85_KEY_LEN + 1);
    else
        fprintf(stderr, "concerto-publish: %s: not a Z85 CURVE key\n", path);
    sodium_memzero(text, len);
    sodium_memzero(bin, sizeof(bin));
    free(text);
    return ok ? 0 : -1;
}

static int valid_event_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MAX_EVENT_ID)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] > '~' || id[i] == '/')
            return 0;
    return 1;
}

static int parse_args(int argc, char **argv, options_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(EXIT_OK);
        }
        if (strcmp(arg, "--list-types") == 0) {
            for (size_t k = 0; k < msg_types_count(); k++)
                printf("%s\n", msg_types_at(k)->name);
            exit(EXIT_OK);
        }
        /* Every other option takes a value: "--opt VALUE" or "--opt=VALUE". */
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        char name[32];
        if (strncmp(arg, "--", 2) != 0 || name_len >= sizeof(name)) {
            fprintf(stderr, "concerto-publish: unexpected argument '%s'\n", arg);
            return -1;
        }
        memcpy(name, arg, name_len);
        name[name_len] = '\0';
        if (val == NULL) {
            fprintf(stderr, "concerto-publish: %s needs a value\n", name);
            return -1;
        }
        if (eq == NULL)
            i++;
        if (strcmp(name, "--endpoint") == 0) {
            o->endpoint = val;
        } else if (strcmp(name, "--key") == 0) {
            o->key_base = val;
        } else if (strcmp(name, "--server-key") == 0) {
            o->server_key_path = val;
        } else if (strcmp(name, "--type") == 0) {
            o->type = val;
        } else if (strcmp(name, "--json") == 0) {
            o->json_text = val;
        } else if (strcmp(name, "--json-file") == 0) {
            o->json_file = val;
        } else if (strcmp(name, "--event-id") == 0) {
            o->event_id = val;
        } else if (strcmp(name, "--source") == 0) {
            o->source = val;
        } else if (strcmp(name, "--timeout-ms") == 0) {
            if (parse_int(name, val, 1, 600000, &o->timeout_ms) < 0)
                return -1;
        } else if (strcmp(name, "--retries") == 0) {
            if (parse_int(name, val, 0, 1000, &o->retries) < 0)
                return -1;
        } else {
            fprintf(stderr, "concerto-publish: unknown option '%s'\n", name);
            return -1;
        }
    }
    const char *missing = !o->key_base          ? "--key"
                          : !o->server_key_path ? "--server-key"
                          : !o->type            ? "--type"
                                                : NULL;
    if (missing) {
        fprintf(stderr, "concerto-publish: %s is required\n", missing);
        return -1;
    }
    if ((o->json_text != NULL) == (o->json_file != NULL)) {
        fprintf(stderr, "concerto-publish: give exactly one of --json and --json-file\n");
        return -1;
    }
    if (o->event_id && !valid_event_id(o->event_id)) {
        fprintf(stderr,
                "concerto-publish: --event-id must be 1 to %d printable ASCII "
                "characters other than space and '/'\n",
                MAX_EVENT_ID);
        return -1;
    }
    if (o->source && (o->source[0] == '\0' || strlen(o->source) > ENVELOPE_MAX_TEXT_LEN)) {
        fprintf(stderr, "concerto-publish: --source must be 1 to %d bytes\n",
                ENVELOPE_MAX_TEXT_LEN);
        return -1;
    }
    return 0;
}

/* The event's payload: the JSON converted to `desc` and packed. */
static uint8_t *build_payload(const options_t *o, const ProtobufCMessageDescriptor *desc,
                              size_t *len)
{
    json_error_t jerr;
    json_t *json;
    if (o->json_text) {
        json = json_loads(o->json_text, JSON_REJECT_DUPLICATES, &jerr);
    } else {
        size_t n;
        char *text = read_limited(o->json_file, MAX_JSON_BYTES, &n);
        if (text == NULL)
            return NULL;
        json = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr);
        free(text);
    }
    if (json == NULL) {
        fprintf(stderr, "concerto-publish: invalid JSON at line %d column %d: %s\n", jerr.line,
                jerr.column, jerr.text);
        return NULL;
    }
    ProtobufCMessage *msg;
    pb_json_error_t err;
    int rc = pb_json_to_message(json, desc, &msg, &err);
    json_decref(json);
    if (rc < 0) {
        fprintf(stderr, "concerto-publish: the JSON is not a %s: %s%s%s\n", desc->name, err.field,
                err.field[0] ? ": " : "", err.message);
        return NULL;
    }
    uint8_t *payload = message_pack(msg, len);
    protobuf_c_message_free_unpacked(msg, NULL);
    return payload;
}

/* Prints the Reply in `env`; returns the exit status it means. */
static int print_reply(const envelope_t *env)
{
    ProtobufCMessage *m;
    int rc = envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor, &m);
    if (rc != ENVELOPE_OK) {
        fprintf(stderr, "concerto-publish: the answer is not a Reply: %s\n",
                envelope_error_text(rc));
        return EXIT_ERROR_REPLY;
    }
    const Concerto__Common__V1__Reply *r = (const Concerto__Common__V1__Reply *)m;
    int status = r->has_status ? (int)r->status : STATUS_OK;
    printf("status: %s\n", status_name(status));
    if (r->message && r->message[0])
        printf("message: %s\n", r->message);
    for (size_t i = 0; i < r->n_fields; i++)
        printf("field %s: %s\n", r->fields[i]->field ? r->fields[i]->field : "",
               r->fields[i]->description ? r->fields[i]->description : "");
    if (r->has_result && r->result_type) {
        const ProtobufCMessageDescriptor *d = msg_types_find(r->result_type);
        ProtobufCMessage *res =
            d ? protobuf_c_message_unpack(d, NULL, r->result.len, r->result.data) : NULL;
        json_t *j = res ? pb_json_from_message(res) : NULL;
        char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
        if (text)
            printf("result (%s):\n%s\n", r->result_type, text);
        else
            printf("result: %zu bytes of %s\n", r->result.len, r->result_type);
        free(text);
        json_decref(j);
        protobuf_c_message_free_unpacked(res, NULL);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return status == STATUS_OK ? EXIT_OK : EXIT_ERROR_REPLY;
}

/* Connects a DEALER to the ingress with this partner's CURVE keys. */
static void *connect_dealer(void *ctx, const options_t *o)
{
    char secret[Z85_KEY_LEN + 1], public_key[Z85_KEY_LEN + 1], derived[Z85_KEY_LEN + 1];
    char server[Z85_KEY_LEN + 1];
    char path[PATH_MAX];
    void *sock = NULL;

    /* ".key" and ".pub" are as long, so one check covers both names. */
    if (snprintf(path, sizeof(path), "%s.key", o->key_base) >= (int)sizeof(path)) {
        fprintf(stderr, "concerto-publish: --key: path too long\n");
        return NULL;
    }
    if (read_key(path, secret) < 0)
        return NULL;
    snprintf(path, sizeof(path), "%s.pub", o->key_base);
    if (read_key(path, public_key) < 0 || read_key(o->server_key_path, server) < 0)
        goto done;
    if (zmq_curve_public(derived, secret) != 0 || strcmp(derived, public_key) != 0) {
        fprintf(stderr, "concerto-publish: %s.key and %s.pub are not one key pair\n", o->key_base,
                o->key_base);
        goto done;
    }
    transport_options_t topt;
    transport_options_default(&topt);
    sock = transport_socket(ctx, ZMQ_DEALER, &topt);
    if (sock == NULL || zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, public_key, Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, Z85_KEY_LEN) != 0 ||
        zmq_connect(sock, o->endpoint) != 0) {
        fprintf(stderr, "concerto-publish: %s: %s\n", o->endpoint, zmq_strerror(errno));
        if (sock)
            zmq_close(sock);
        sock = NULL;
    }
done:
    sodium_memzero(secret, sizeof(secret));
    return sock;
}

int main(int argc, char **argv)
{
    options_t o = {
        .endpoint = DEFAULT_ENDPOINT,
        .timeout_ms = DEFAULT_TIMEOUT_MS,
        .retries = DEFAULT_RETRIES,
    };
    log_init("publish", "warn");
    if (parse_args(argc, argv, &o) < 0) {
        fprintf(stderr, "Try 'concerto-publish --help'.\n");
        return EXIT_USAGE;
    }
    const ProtobufCMessageDescriptor *desc = msg_types_find(o.type);
    if (desc == NULL) {
        fprintf(stderr, "concerto-publish: unknown type '%s' (see --list-types)\n", o.type);
        return EXIT_USAGE;
    }
    size_t payload_len;
    uint8_t *payload = build_payload(&o, desc, &payload_len);
    if (payload == NULL)
        return EXIT_USAGE;

    char default_event_id[UUID_STR_LEN];
    if (o.event_id == NULL) {
        uint8_t eid[UUID_LEN];
        uuid7_generate(eid);
        uuid_format(eid, default_event_id);
        o.event_id = default_event_id;
    }
    char *key_copy = xstrdup(o.key_base);
    char *source = xstrdup(o.source ? o.source : basename(key_copy));
    free(key_copy);

    /* One envelope, packed once: every retry sends these same bytes. */
    envelope_t env;
    uint8_t id[UUID_LEN];
    envelope_prepare(&env, id, source, desc->name, payload, payload_len);
    env.idempotency_key = (char *)o.event_id;
    /* The gateway would refuse it; say so here (a long or non-UTF-8 name). */
    int bad = envelope_check(&env);
    if (bad != ENVELOPE_OK) {
        fprintf(stderr, "concerto-publish: %s (source '%s'; see --source)\n",
                envelope_error_text(bad), source);
        free(source);
        free(payload);
        return EXIT_USAGE;
    }
    size_t frame_len;
    uint8_t *frame = envelope_pack(&env, &frame_len);
    char id_text[UUID_STR_LEN];
    uuid_format(id, id_text);

    int rc = EXIT_USAGE;
    void *ctx = zmq_ctx_new();
    void *sock = connect_dealer(ctx, &o);
    if (sock != NULL) {
        fprintf(stderr, "concerto-publish: event %s as envelope %s to %s\n", o.event_id, id_text,
                o.endpoint);
        envelope_t *reply = NULL;
        int got = 0;
        int64_t backoff = 200;
        for (int64_t attempt = 0; attempt <= o.retries && got == 0; attempt++) {
            if (attempt > 0) {
                fprintf(stderr,
                        "concerto-publish: no answer after %" PRId64 " ms; resending "
                        "(retry %" PRId64 " of %" PRId64 ")\n",
                        o.timeout_ms, attempt, o.retries);
                /* Back off, still taking a late answer to an earlier try. */
                got = transport_await_reply(sock, id, backoff, &reply);
                backoff = backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2;
                if (got != 0)
                    break;
            }
            /* Not sent when the queue is full (no connection yet): this try
             * then just waits, and the next one sends. */
            if (zmq_send(sock, frame, frame_len, ZMQ_DONTWAIT) < 0 && errno != EAGAIN) {
                got = -1;
                break;
            }
            got = transport_await_reply(sock, id, o.timeout_ms, &reply);
        }
        if (got < 0) /* errno is the failed send's or receive's */
            fprintf(stderr, "concerto-publish: %s: %s\n", o.endpoint, zmq_strerror(errno));
        if (got == 1) {
            rc = print_reply(reply);
            envelope_free(&reply);
        } else {
            if (got == 0)
                fprintf(stderr,
                        "concerto-publish: no answer from %s after %" PRId64 " tries; check "
                        "the endpoint, the server key, and that this partner's public key is "
                        "on the gateway's allow-list\n",
                        o.endpoint, o.retries + 1);
            rc = EXIT_NO_ANSWER;
        }
        zmq_close(sock);
    }
    zmq_ctx_term(ctx);
    free(frame);
    free(source);
    free(payload);
    return rc;
}
