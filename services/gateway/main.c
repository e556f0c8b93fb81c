/* concerto-gateway: the HTTP/JSON API and partner ingress in front of the
 * Concerto services. This file turns the environment into options, runs the
 * loop and shuts down on SIGTERM/SIGINT (stop accepting, let answers in
 * progress finish for up to the service deadline plus a second, then
 * close). */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "config.h"
#include "gateway.h"
#include "log.h"
#include "services.h"
#include "xalloc.h"

static const config_var_t main_vars[] = {
    {"CONCERTO_GATEWAY_HTTP", "127.0.0.1:8080", "HTTP listen address, host:port"},
    {"CONCERTO_GATEWAY_DEADLINE_MS", "2000", "deadline of each call to a service (then 504)"},
    {"CONCERTO_GATEWAY_MAX_CONNECTIONS", "1024", "open HTTP connections at most (then 503)"},
    {"CONCERTO_GATEWAY_MAX_BODY", "1048576", "request body bytes at most (then 413)"},
    {"CONCERTO_GATEWAY_MAX_HEADER", "16384", "request line and header bytes at most (then 431)"},
    {"CONCERTO_GATEWAY_MAX_URL", "8192", "request target bytes at most (then 414), up to 65535"},
    {"CONCERTO_GATEWAY_MAX_HEADERS", "100", "header lines at most (then 431)"},
    {"CONCERTO_GATEWAY_REQUEST_TIMEOUT_MS", "10000",
     "time to receive a whole request from its first byte (then 408), and to write an answer"},
    {"CONCERTO_GATEWAY_IDLE_TIMEOUT_MS", "60000", "keep-alive idle time before closing"},
    {"CONCERTO_GATEWAY_TOKENS", "", "bearer tokens file: `<sha256-hex> <role> <name>` lines"},
    {"CONCERTO_GATEWAY_PUBLIC_READS", "1", "1: reader routes need no token"},
    {"CONCERTO_GATEWAY_ROUTES_FILE", "", "extra routes, routes.def columns (tests, operators)"},
    {"CONCERTO_GATEWAY_REQUIRED_SERVICES", "all",
     "services /readyz waits for: all, none, or their names comma-separated"},
    {"CONCERTO_GATEWAY_HEARTBEAT_MISSES", "3", "missed heartbeats before a service is down"},
    {"CONCERTO_GATEWAY_MAX_INFLIGHT", "10000", "calls in flight per service at most (then 503)"},
    {"CONCERTO_GATEWAY_MAX_DOWNLOADS", "8",
     "documents larger than a frame streamed at once at most (then 503)"},
    {"CONCERTO_GATEWAY_ACCESS_LOG", "1", "1: one log line per HTTP request"},
    {"CONCERTO_GATEWAY_PARTNER", "tcp://127.0.0.1:7000", "partner ingress ROUTER endpoint"},
    {"CONCERTO_GATEWAY_CURVE_SECRET", "", "gateway CURVE secret key file (Z85); unset: no ingress"},
    {"CONCERTO_GATEWAY_CURVE_PUBLIC", "", "gateway CURVE public key file (Z85)"},
    {"CONCERTO_GATEWAY_PARTNERS", "", "partner allow-list: `<z85 key> <name> [tables=..|*]`"},
    /* Nothing until the operator lists it: deploy/run.sh and
     * docker-compose.yml list each running daemon's partner commands. */
    {"CONCERTO_GATEWAY_PARTNER_TYPES", "",
     "types partners may send: type[=service],... (owner from the package by default)"},
    {"CONCERTO_HEARTBEAT_MS", "1000", "the services' heartbeat interval"},
    {"CONCERTO_MAX_FRAME", "1048576", "largest ZeroMQ frame accepted, in bytes"},
    {"CONCERTO_MAX_DOCUMENT", "33554432",
     "largest document sent to a client, in bytes (the services use the same variable)"},
    {"CONCERTO_LOG_LEVEL", "info", "debug, info, warn or error"},
/* Each service's endpoints, from the one list. */
#define SERVICE(name, NAME, router_port, pub_port)                                                 \
    {"CONCERTO_" #NAME "_ROUTER", "tcp://127.0.0.1:" #router_port,                                 \
     "the service's ROUTER endpoint"},                                                             \
        {"CONCERTO_" #NAME "_PUB", "tcp://127.0.0.1:" #pub_port,                                   \
         "the service's PUB endpoint (heartbeats)"},
#include "services.def"
#undef SERVICE
};
#define MAIN_N_VARS (sizeof main_vars / sizeof main_vars[0])

typedef struct {
    uv_loop_t *loop;
    gateway_t *gw;
    uv_signal_t sigterm, sigint;
    uv_timer_t drain_timer;
    uint64_t drain_ms; /* how long answers in progress may take at shutdown */
    uint64_t drain_deadline;
    int stopping;
} main_state_t;

static int main_required(const char *list, int required[ROUTE_N_SERVICES], char *err, size_t errlen)
{
    int all = strcmp(list, "all") == 0;
    for (int s = 0; s < ROUTE_N_SERVICES; s++)
        required[s] = all;
    if (all || strcmp(list, "none") == 0)
        return 0;
    char *copy = xstrdup(list);
    char *save = NULL;
    int rc = 0;
    for (char *p = strtok_r(copy, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        int s = routes_service_parse(p);
        if (s < 0) {
            snprintf(err, errlen, "CONCERTO_GATEWAY_REQUIRED_SERVICES: unknown service '%s'", p);
            rc = -1;
            break;
        }
        required[s] = 1;
    }
    free(copy);
    return rc;
}

static int main_options(const config_t *cfg, gateway_options_t *o, char *err, size_t errlen)
{
    int64_t deadline, max_conn, max_body, max_header, max_url, max_headers, req_to, idle_to,
        public_reads, misses, inflight, access, hb, frame, max_document, downloads;
    if (config_int(cfg, "CONCERTO_GATEWAY_DEADLINE_MS", 1, 600000, &deadline, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_MAX_CONNECTIONS", 1, 1000000, &max_conn, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_MAX_BODY", 0, 64 << 20, &max_body, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_MAX_HEADER", 1024, 1 << 20, &max_header, err, errlen) ||
        /* http-parser keeps URL offsets in 16 bits. */
        config_int(cfg, "CONCERTO_GATEWAY_MAX_URL", 64, 65535, &max_url, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_MAX_HEADERS", 1, 10000, &max_headers, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_REQUEST_TIMEOUT_MS", 10, 3600000, &req_to, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_IDLE_TIMEOUT_MS", 10, 3600000, &idle_to, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_PUBLIC_READS", 0, 1, &public_reads, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_HEARTBEAT_MISSES", 1, 1000, &misses, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_MAX_INFLIGHT", 1, 1000000, &inflight, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_ACCESS_LOG", 0, 1, &access, err, errlen) ||
        config_int(cfg, "CONCERTO_HEARTBEAT_MS", 50, 60000, &hb, err, errlen) ||
        config_int(cfg, "CONCERTO_MAX_FRAME", 1024, 64 << 20, &frame, err, errlen) ||
        config_int(cfg, "CONCERTO_MAX_DOCUMENT", 1024, 1 << 30, &max_document, err, errlen) ||
        config_int(cfg, "CONCERTO_GATEWAY_MAX_DOWNLOADS", 1, 10000, &downloads, err, errlen))
        return -1;
    if (max_url >= max_header) {
        snprintf(err, errlen, "CONCERTO_GATEWAY_MAX_URL must be below CONCERTO_GATEWAY_MAX_HEADER");
        return -1;
    }
    memset(o, 0, sizeof *o);
    o->http_address = config_str(cfg, "CONCERTO_GATEWAY_HTTP");
    o->http.limits.max_url = (size_t)max_url;
    o->http.limits.max_header_bytes = (size_t)max_header;
    o->http.limits.max_headers = (size_t)max_headers;
    o->http.limits.max_body = (size_t)max_body;
    o->http.max_connections = (size_t)max_conn;
    o->http.request_timeout_ms = (uint64_t)req_to;
    o->http.idle_timeout_ms = (uint64_t)idle_to;
    o->http.access_log = (int)access;
    o->deadline_ms = (uint64_t)deadline;
    for (int s = 0; s < ROUTE_N_SERVICES; s++) {
        char var[64];
        snprintf(var, sizeof var, "CONCERTO_%s_ROUTER", services_list[s].prefix);
        o->router[s] = config_str(cfg, var);
        snprintf(var, sizeof var, "CONCERTO_%s_PUB", services_list[s].prefix);
        o->pub[s] = config_str(cfg, var);
    }
    if (main_required(config_str(cfg, "CONCERTO_GATEWAY_REQUIRED_SERVICES"), o->required, err,
                      errlen) != 0)
        return -1;
    o->heartbeat_ms = (int)hb;
    o->heartbeat_misses = (int)misses;
    o->max_inflight = (size_t)inflight;
    o->max_frame = frame;
    o->max_document = max_document;
    o->max_downloads = (size_t)downloads;
    o->tokens_file = config_str(cfg, "CONCERTO_GATEWAY_TOKENS");
    o->public_reads = (int)public_reads;
    o->routes_file = config_str(cfg, "CONCERTO_GATEWAY_ROUTES_FILE");
    o->partner_endpoint = config_str(cfg, "CONCERTO_GATEWAY_PARTNER");
    o->curve_secret_file = config_str(cfg, "CONCERTO_GATEWAY_CURVE_SECRET");
    o->curve_public_file = config_str(cfg, "CONCERTO_GATEWAY_CURVE_PUBLIC");
    o->partners_file = config_str(cfg, "CONCERTO_GATEWAY_PARTNERS");
    o->partner_types = config_str(cfg, "CONCERTO_GATEWAY_PARTNER_TYPES");
    return 0;
}

static void main_on_drain_tick(uv_timer_t *t)
{
    main_state_t *st = t->data;
    if (gateway_busy(st->gw) && uv_now(st->loop) < st->drain_deadline)
        return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)&st->drain_timer, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
    uv_close((uv_handle_t *)&st->sigint, NULL);
    gateway_destroy(&st->gw);
}

static void main_on_signal(uv_signal_t *h, int signum)
{
    main_state_t *st = h->data;
    if (st->stopping)
        return;
    st->stopping = 1;
    log_info("stopping", "signal=%d", signum);
    gateway_drain(st->gw);
    st->drain_deadline = uv_now(st->loop) + st->drain_ms;
    uv_timer_start(&st->drain_timer, main_on_drain_tick, 0, 20);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_print_help(stdout, "concerto-gateway",
                              "HTTP/JSON API and partner ingress in front of the Concerto "
                              "services (docs/gateway.md).",
                              main_vars, MAIN_N_VARS);
            return 0;
        }
        fprintf(stderr, "concerto-gateway: unknown argument '%s' (try --help)\n", argv[i]);
        return 2;
    }
    char err[768];
    config_t *cfg = config_load(main_vars, MAIN_N_VARS, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "concerto-gateway: %s\n", err);
        return 1;
    }
    if (log_init("gateway", config_str(cfg, "CONCERTO_LOG_LEVEL")) != 0) {
        fprintf(stderr, "concerto-gateway: CONCERTO_LOG_LEVEL: unknown level\n");
        config_destroy(&cfg);
        return 1;
    }
    /* The loop must never wait for stderr (DESIGN.md). */
    if (log_start() != 0)
        log_warn("no log writer thread; logging blocks", "reason=\"pthread_create failed\"");
    gateway_options_t opt;
    if (sodium_init() < 0 || main_options(cfg, &opt, err, sizeof err) != 0) {
        log_error("bad configuration", "error=\"%s\"", err);
        config_destroy(&cfg);
        return 1;
    }
    /* A write to a connection the client reset must fail with EPIPE, not
     * kill the process. */
    signal(SIGPIPE, SIG_IGN);
    main_state_t st;
    memset(&st, 0, sizeof st);
    st.loop = uv_default_loop();
    void *zctx = zmq_ctx_new();
    st.gw = gateway_new(st.loop, zctx, &opt, err, sizeof err);
    int code = 0;
    if (!st.gw) {
        log_error("cannot start", "error=\"%s\"", err);
        code = 1;
    } else {
        uv_signal_init(st.loop, &st.sigterm);
        uv_signal_init(st.loop, &st.sigint);
        uv_timer_init(st.loop, &st.drain_timer);
        st.sigterm.data = st.sigint.data = st.drain_timer.data = &st;
        uv_signal_start(&st.sigterm, main_on_signal, SIGTERM);
        uv_signal_start(&st.sigint, main_on_signal, SIGINT);
        st.drain_ms = opt.deadline_ms + 1000;
        uv_run(st.loop, UV_RUN_DEFAULT);
    }
    /* Runs the close callbacks of whatever a failed start left. */
    uv_run(st.loop, UV_RUN_DEFAULT);
    uv_loop_close(st.loop);
    zmq_ctx_term(zctx);
    config_destroy(&cfg);
    log_info("stopped", "code=%d", code);
    return code;
}
