/* concerto-ping: asks one daemon for its status over its ROUTER.
 *
 * Sends a concerto.common.v1.StatusRequest envelope from a DEALER and waits
 * for the Reply; prints the service name, head sequence and subscriber
 * cursors. Exit 0 when the daemon answered OK in time, 1 otherwise, so it
 * serves as the docker-compose healthcheck and the launcher's readiness
 * probe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/envelope.h"
#include "common/log.h"
#include "common/status.h"
#include "common/transport.h"
#include "common/uuid.h"

#define STATUS_REQUEST_TYPE "concerto.common.v1.StatusRequest"
#define HEARTBEAT_TYPE "concerto.common.v1.Heartbeat"
#define DEFAULT_TIMEOUT_MS 2000
#define MAX_TIMEOUT_MS 600000

static void ping_usage(FILE *out)
{
    fprintf(out,
            "usage: concerto-ping [--timeout-ms N] ENDPOINT\n"
            "Asks the Concerto daemon whose ROUTER is at ENDPOINT (e.g.\n"
            "tcp://127.0.0.1:7101) for its status. Prints the service name and\n"
            "head sequence; exits 0 if it answered OK within the timeout\n"
            "(default %d ms), else 1.\n",
            DEFAULT_TIMEOUT_MS);
}

/* Checks the Reply envelope; prints the heartbeat. Returns 0 for OK, 1 for
 * any other answer. */
static int ping_report(const envelope_t *env, const char *endpoint)
{
    ProtobufCMessage *msg = NULL;
    int err = envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor, &msg);
    if (err != ENVELOPE_OK) {
        fprintf(stderr, "concerto-ping: %s: bad reply: %s\n", endpoint, envelope_error_text(err));
        return 1;
    }
    Concerto__Common__V1__Reply *reply = (Concerto__Common__V1__Reply *)msg;
    int status = reply->has_status ? (int)reply->status : STATUS_OK;
    int rc = 1;
    if (status != STATUS_OK) {
        fprintf(stderr, "concerto-ping: %s: %s: %s\n", endpoint, status_name(status),
                reply->message ? reply->message : "");
    } else if (!reply->result_type || strcmp(reply->result_type, HEARTBEAT_TYPE) != 0 ||
               !reply->has_result) {
        fprintf(stderr, "concerto-ping: %s: OK but the result is not a Heartbeat\n", endpoint);
    } else {
        Concerto__Common__V1__Heartbeat *hb =
            concerto__common__v1__heartbeat__unpack(NULL, reply->result.len, reply->result.data);
        if (!hb) {
            fprintf(stderr, "concerto-ping: %s: the Heartbeat does not decode\n", endpoint);
        } else {
            printf("%s OK head_sequence=%llu\n", hb->service ? hb->service : "?",
                   (unsigned long long)hb->head_sequence);
            for (size_t i = 0; i < hb->n_cursors; i++) {
                const Concerto__Common__V1__SubscriberCursor *c = hb->cursors[i];
                printf("  cursor source=%s applied=%llu source_head=%llu\n",
                       c->source ? c->source : "?", (unsigned long long)c->applied_sequence,
                       (unsigned long long)c->source_head);
            }
            concerto__common__v1__heartbeat__free_unpacked(hb, NULL);
            rc = 0;
        }
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    return rc;
}

/* Sends the request and waits for its reply until the deadline. */
static int ping_run(void *dealer, const char *endpoint, int timeout_ms)
{
    Concerto__Common__V1__StatusRequest req = CONCERTO__COMMON__V1__STATUS_REQUEST__INIT;
    size_t payload_len = 0;
    uint8_t *payload = message_pack(&req.base, &payload_len);
    uint8_t id[UUID_LEN];
    envelope_t env;
    envelope_prepare(&env, id, "ping", STATUS_REQUEST_TYPE, payload, payload_len);
    size_t frame_len = 0;
    uint8_t *frame = envelope_pack(&env, &frame_len);
    const void *data[1] = {frame};
    int sent = transport_send(dealer, data, &frame_len, 1, 0);
    free(frame);
    free(payload);
    if (sent != 0) {
        fprintf(stderr, "concerto-ping: %s: send failed: %s\n", endpoint, zmq_strerror(errno));
        return 1;
    }

    envelope_t *reply = NULL;
    int got = transport_await_reply(dealer, id, timeout_ms, &reply);
    if (got == 0)
        fprintf(stderr, "concerto-ping: %s: no reply within %d ms\n", endpoint, timeout_ms);
    else if (got < 0)
        fprintf(stderr, "concerto-ping: %s: receive failed: %s\n", endpoint, zmq_strerror(errno));
    if (got != 1)
        return 1;
    int rc = ping_report(reply, endpoint);
    envelope_free(&reply);
    return rc;
}

int main(int argc, char **argv)
{
    int timeout_ms = DEFAULT_TIMEOUT_MS;
    const char *endpoint = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ping_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || end == argv[i] || *end || v < 1 || v > MAX_TIMEOUT_MS) {
                fprintf(stderr, "concerto-ping: --timeout-ms must be 1..%d\n", MAX_TIMEOUT_MS);
                return 1;
            }
            timeout_ms = (int)v;
        } else if (argv[i][0] != '-' && !endpoint) {
            endpoint = argv[i];
        } else {
            ping_usage(stderr);
            return 1;
        }
    }
    if (!endpoint) {
        ping_usage(stderr);
        return 1;
    }
    log_init("ping", "warn");

    void *ctx = zmq_ctx_new();
    transport_options_t opt;
    transport_options_default(&opt);
    opt.heartbeat_ms = 0;
    void *dealer = transport_socket(ctx, ZMQ_DEALER, &opt);
    int rc = 1;
    if (!dealer) {
        fprintf(stderr, "concerto-ping: cannot create socket: %s\n", zmq_strerror(errno));
    } else if (zmq_setsockopt(dealer, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms) != 0 ||
               zmq_connect(dealer, endpoint) != 0) {
        fprintf(stderr, "concerto-ping: %s: %s\n", endpoint, zmq_strerror(errno));
    } else {
        rc = ping_run(dealer, endpoint, timeout_ms);
    }
    if (dealer)
        zmq_close(dealer);
    zmq_ctx_term(ctx);
    return rc;
}
