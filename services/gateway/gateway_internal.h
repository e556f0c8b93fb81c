/* gateway_internal: the gateway's state, shared by gateway.c (proxied
 * routes), fanout.c, ops.c (the gateway's own routes) and nothing else. */
#ifndef CONCERTO_GW_GATEWAY_INTERNAL_H
#define CONCERTO_GW_GATEWAY_INTERNAL_H

#include <jansson.h>

#include "auth.h"
#include "gateway.h"
#include "metrics.h"
#include "partner.h"
#include "partner_policy.h"
#include "routes.h"
#include "upstream.h"

struct gateway {
    uv_loop_t *loop;
    gateway_options_t opt;
    routes_t *routes;
    auth_t *auth;
    partner_policy_t *policy;
    upstream_t *upstreams[ROUTE_N_SERVICES];
    http_server_t *http;
    partner_t *partner;
    metrics_t *metrics;
    uint64_t started_loop_ms;
    size_t calls_in_progress;  /* HTTP requests waiting on services */
    size_t downloads;          /* documents being streamed (docstream.c) */
    struct docstream *streams; /* their list, owned by docstream.c */
};

/* A gateway-answered route (ROUTE_LOCAL in routes.def). */
typedef void (*gateway_local_fn)(gateway_t *gw, http_ref_t ref, int route);

/* Answers with a JSON document (taken) and `status`. */
void gateway_respond_json(gateway_t *gw, http_ref_t ref, int status, json_t *doc, int route);

/* The HTTP status and message for a call that got no Reply to read. */
int gateway_failure(const gateway_t *gw, upstream_outcome_t outcome, const char *service,
                    char *message, size_t cap);
/* Why upstream_call refused a call (an upstream_error_t), after the
 * service's name: "is unavailable (no recent heartbeat)". */
const char *gateway_call_error(int rc);

/* The gateway's own routes (ops.c). */
void ops_healthz(gateway_t *gw, http_ref_t ref, int route);
void ops_readyz(gateway_t *gw, http_ref_t ref, int route);
void ops_status(gateway_t *gw, http_ref_t ref, int route);
void ops_metrics(gateway_t *gw, http_ref_t ref, int route);
void ops_openapi(gateway_t *gw, http_ref_t ref, int route);

#endif
