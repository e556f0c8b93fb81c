/* registry_cli: the import subcommand (see registry_cli.h). It talks to
 * the daemon like any other client (a DEALER, one Envelope), so the import
 * gets the daemon's transaction, idempotency and events; the database file
 * is never opened here. */
#include "registry_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "config.h"
#include "envelope.h"
#include "registry_import.h"
#include "services.h"
#include "status.h"
#include "transport.h"
#include "uuid.h"
#include "xalloc.h"

#define N_CLI_VARS 4

/* The settings, with the registry's endpoint from the list of services. */
static void cli_vars_init(config_var_t vars[N_CLI_VARS])
{
    vars[0] = (config_var_t){"CONCERTO_REGISTRY_ROUTER", services_find("registry")->router,
                             "the registry daemon's ROUTER"};
    vars[1] = (config_var_t){"CONCERTO_REGISTRY_IMPORT_TIMEOUT_MS", "60000",
                             "how long to wait for the answer"};
    vars[2] = (config_var_t){"CONCERTO_ACTOR", "",
                             "who is importing, for the audit trail (default: cli:$USER)"};
    vars[3] = (config_var_t){
        "CONCERTO_REGISTRY_IMPORT_ENCODING", "WINDOWS-1252",
        "files that are not UTF-8 are converted from this character set (what Excel saves as "
        "\"CSV\" on Windows); \"off\" refuses them, naming the line and column of the first bad "
        "byte"};
}

static void cli_usage(FILE *out)
{
    config_var_t cli_vars[N_CLI_VARS];
    cli_vars_init(cli_vars);
    config_print_help(out, "concerto-registry import DIR",
                      "Sends DIR/territories.csv, organizations.csv, tables.csv and "
                      "memberships.csv\n(those that exist) to the running daemon as one "
                      "all-or-nothing import, and\nprints what was imported, or every problem "
                      "as <file>:<line>:<column>.",
                      cli_vars, N_CLI_VARS);
    fprintf(out, "\nExit status: 0 imported, 1 refused (nothing written), 2 usage or connection\n"
                 "error (after a timeout the import may still have been applied).\n");
}

/* Prints the Reply the envelope carries; returns the exit code. */
static int cli_print_reply(const envelope_t *env)
{
    Concerto__Common__V1__Reply *reply = NULL;
    if (envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor,
                                (ProtobufCMessage **)&reply) != ENVELOPE_OK) {
        fprintf(stderr, "import: the daemon's answer is not a Reply\n");
        return 2;
    }
    int code = 1;
    if (reply->status == CONCERTO__COMMON__V1__STATUS__OK) {
        Concerto__Registry__V1__ImportResult *res = concerto__registry__v1__import_result__unpack(
            NULL, reply->result.len, reply->result.data);
        printf("imported %u territories, %u organizations, %u tables, %u memberships\n",
               res ? res->territories : 0, res ? res->organizations : 0, res ? res->tables : 0,
               res ? res->memberships : 0);
        if (res)
            concerto__registry__v1__import_result__free_unpacked(res, NULL);
        code = 0;
    } else {
        fprintf(stderr, "import: %s: %s\n", status_name(reply->status),
                reply->message ? reply->message : "");
        for (size_t i = 0; i < reply->n_fields; i++)
            fprintf(stderr, "%s: %s\n", reply->fields[i]->field, reply->fields[i]->description);
    }
    concerto__common__v1__reply__free_unpacked(reply, NULL);
    return code;
}

static int cli_send(const char *endpoint, int64_t timeout_ms, const uint8_t id[UUID_LEN],
                    const uint8_t *frame, size_t len)
{
    void *zctx = zmq_ctx_new();
    transport_options_t opt;
    transport_options_default(&opt);
    void *dealer = transport_socket(zctx, ZMQ_DEALER, &opt);
    int code = 2;
    if (!dealer || zmq_connect(dealer, endpoint) != 0) {
        fprintf(stderr, "import: cannot connect to %s: %s\n", endpoint, zmq_strerror(errno));
        goto out;
    }
    const void *data[1] = {frame};
    size_t lens[1] = {len};
    if (transport_send(dealer, data, lens, 1, 0) != 0) {
        fprintf(stderr, "import: cannot send to %s: %s\n", endpoint, zmq_strerror(errno));
        goto out;
    }
    envelope_t *reply = NULL;
    int got = transport_await_reply(dealer, id, timeout_ms, &reply);
    if (got < 0) {
        fprintf(stderr, "import: cannot receive: %s\n", zmq_strerror(errno));
    } else if (got == 0) {
        fprintf(stderr,
                "import: no answer from %s within %lld ms; is concerto-registry running? "
                "(if it is, the import may still have been applied)\n",
                endpoint, (long long)timeout_ms);
    } else {
        code = cli_print_reply(reply);
        envelope_free(&reply);
    }
out:
    if (dealer)
        zmq_close(dealer);
    zmq_ctx_term(zctx);
    return code;
}

int registry_cli_import(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_usage(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        cli_usage(stderr);
        return 2;
    }
    char err[512];
    config_var_t cli_vars[N_CLI_VARS];
    cli_vars_init(cli_vars);
    config_t *cfg = config_load(cli_vars, N_CLI_VARS, err, sizeof err);
    int64_t timeout_ms = 0;
    if (!cfg || config_int(cfg, "CONCERTO_REGISTRY_IMPORT_TIMEOUT_MS", 100, 3600000, &timeout_ms,
                           err, sizeof err) != 0) {
        fprintf(stderr, "import: %s\n", err);
        config_destroy(&cfg);
        return 2;
    }
    const char *encoding = config_str(cfg, "CONCERTO_REGISTRY_IMPORT_ENCODING");
    if (strcmp(encoding, "off") == 0)
        encoding = NULL;
    Concerto__Registry__V1__ImportRequest *req =
        registry_import_read_dir(argv[1], encoding, err, sizeof err);
    if (!req) {
        fprintf(stderr, "import: %s\n", err);
        config_destroy(&cfg);
        return 2;
    }
    size_t plen = 0;
    uint8_t *payload = message_pack(&req->base, &plen);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    const char *actor = config_str(cfg, "CONCERTO_ACTOR");
    char *actor_buf = NULL;
    if (!*actor) {
        const char *user = getenv("USER");
        actor = actor_buf = xasprintf("cli:%.64s", user && *user ? user : "unknown");
    }
    uint8_t id[UUID_LEN];
    envelope_t env;
    envelope_prepare(&env, id, "registry-cli",
                     concerto__registry__v1__import_request__descriptor.name, payload, plen);
    env.actor = (char *)actor;
    size_t flen = 0;
    uint8_t *frame = envelope_pack(&env, &flen);
    free(payload);
    int code = cli_send(config_str(cfg, "CONCERTO_REGISTRY_ROUTER"), timeout_ms, id, frame, flen);
    free(frame);
    free(actor_buf);
    config_destroy(&cfg);
    return code;
}
