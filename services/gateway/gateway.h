/* gateway: concerto-gateway's application — the route table, auth, the
 * upstream services, the HTTP server and the partner ingress wired together
 * on one libuv loop. main.c turns the environment into gateway_options_t. */
#ifndef CONCERTO_GW_GATEWAY_H
#define CONCERTO_GW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http_server.h"
#include "routes.h"

typedef struct gateway gateway_t;

typedef struct {
    const char *http_address; /* "127.0.0.1:8080" */
    http_server_options_t http;
    uint64_t deadline_ms; /* per call to a service */
    const char *router[ROUTE_N_SERVICES];
    const char *pub[ROUTE_N_SERVICES];
    int required[ROUTE_N_SERVICES]; /* needed for /readyz */
    int heartbeat_ms;
    int heartbeat_misses;
    size_t max_inflight; /* per service */
    int64_t max_frame;
    int64_t max_document;    /* the largest document sent, in bytes */
    size_t max_downloads;    /* documents streamed at once at most (then 503) */
    const char *tokens_file; /* "" for none */
    int public_reads;
    const char *routes_file; /* "" for none */
    /* Partner ingress; off when curve_secret is "". */
    const char *partner_endpoint;
    const char *curve_secret_file;
    const char *curve_public_file;
    const char *partners_file;
    const char *partner_types;
} gateway_options_t;

/* Builds everything and starts listening. NULL with a message in `err` on
 * bad configuration or a bind failure. */
gateway_t *gateway_new(uv_loop_t *loop, void *zctx, const gateway_options_t *opt, char *err,
                       size_t errlen);

/* Stops accepting and lets answers in progress finish. */
void gateway_drain(gateway_t *self);
/* Whether anything is still in progress (connections, calls). */
int gateway_busy(const gateway_t *self);
/* Closes everything; memory goes in the loop's close callbacks, so run the
 * loop until it ends before terminating the ZeroMQ context. */
void gateway_destroy(gateway_t **self_p);

#endif
