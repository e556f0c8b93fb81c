/* ops: the gateway's own routes — liveness, readiness, service status,
 * Prometheus metrics and the OpenAPI document. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierror.h"
#include "gateway_internal.h"
#include "log.h"
#include "pb_json.h"
#include "xalloc.h"

/* docs/openapi.json, embedded at build time (embed.cmake). */
extern const char gateway_openapi_json[];
extern const size_t gateway_openapi_json_len;

void ops_healthz(gateway_t *gw, http_ref_t ref, int route)
{
    /* Answering at all shows the loop is alive. */
    gateway_respond_json(gw, ref, 200, json_pack("{s:s}", "status", "ok"), route);
}

void ops_readyz(gateway_t *gw, http_ref_t ref, int route)
{
    apierror_field_t down[ROUTE_N_SERVICES];
    char why[ROUTE_N_SERVICES][96];
    size_t n_down = 0;
    json_t *services = json_object();
    for (int s = 0; s < ROUTE_N_SERVICES; s++) {
        const char *name = routes_target_name((route_target_t)s);
        int up = upstream_is_up(gw->upstreams[s]);
        json_object_set_new(services, name, json_string(up ? "up" : "down"));
        if (up || !gw->opt.required[s])
            continue;
        int64_t age = upstream_heartbeat_age_ms(gw->upstreams[s]);
        if (age < 0)
            snprintf(why[n_down], sizeof why[n_down], "no heartbeat received yet");
        else
            snprintf(why[n_down], sizeof why[n_down], "last heartbeat %lld ms ago", (long long)age);
        down[n_down].field = name;
        down[n_down].description = why[n_down];
        n_down++;
    }
    if (n_down == 0) {
        gateway_respond_json(
            gw, ref, 200, json_pack("{s:s, s:o}", "status", "ready", "services", services), route);
        return;
    }
    json_decref(services);
    size_t len = 0;
    char *body = apierror_body("UNAVAILABLE", "required services are down", down, n_down, &len);
    http_server_respond(gw->http, ref, 503, NULL, 0, "application/json", &body, len, route);
}

static json_t *ops_service_status(gateway_t *gw, int s)
{
    upstream_t *u = gw->upstreams[s];
    const Concerto__Common__V1__Heartbeat *hb = upstream_heartbeat(u);
    int64_t age = upstream_heartbeat_age_ms(u);
    json_t *doc = json_pack("{s:b, s:b, s:I}", "up", upstream_is_up(u), "required",
                            gw->opt.required[s], "inFlight", (json_int_t)upstream_inflight(u));
    json_object_set_new(doc, "heartbeatAgeMs", age >= 0 ? json_integer(age) : json_null());
    if (!hb)
        return doc;
    if (hb->has_head_sequence)
        json_object_set_new(doc, "headSequence", json_integer((json_int_t)hb->head_sequence));
    if (hb->has_started_ms)
        json_object_set_new(doc, "startedMs", json_integer(hb->started_ms));
    json_object_set_new(doc, "logLinesDropped", json_integer((json_int_t)hb->log_lines_dropped));
    if (hb->backup)
        json_object_set_new(doc, "backup", pb_json_from_message(&hb->backup->base));
    json_t *cursors = json_array();
    for (size_t i = 0; i < hb->n_cursors; i++) {
        const Concerto__Common__V1__SubscriberCursor *c = hb->cursors[i];
        uint64_t applied = c->has_applied_sequence ? c->applied_sequence : 0;
        uint64_t head = c->has_source_head ? c->source_head : 0;
        /* The source's own heartbeat may know a newer head than the
         * subscriber has seen. */
        int src = c->source ? routes_service_parse(c->source) : -1;
        const Concerto__Common__V1__Heartbeat *shb =
            src >= 0 ? upstream_heartbeat(gw->upstreams[src]) : NULL;
        if (shb && shb->has_head_sequence && shb->head_sequence > head)
            head = shb->head_sequence;
        json_array_append_new(cursors,
                              json_pack("{s:s, s:I, s:I, s:I}", "source",
                                        c->source ? c->source : "", "appliedSequence",
                                        (json_int_t)applied, "sourceHead", (json_int_t)head, "lag",
                                        (json_int_t)(head > applied ? head - applied : 0)));
    }
    json_object_set_new(doc, "cursors", cursors);
    return doc;
}

/* What partners may send, and to which service (empty when the ingress
 * is off). */
static json_t *ops_partner_types(gateway_t *gw)
{
    json_t *types = json_array();
    for (size_t i = 0; gw->partner && i < partner_policy_type_count(gw->policy); i++) {
        const char *type = partner_policy_type_name(gw->policy, i);
        int s = partner_policy_type_service(gw->policy, type);
        json_array_append_new(types, json_pack("{s:s, s:s}", "type", type, "service",
                                               routes_target_name((route_target_t)s)));
    }
    return types;
}

void ops_status(gateway_t *gw, http_ref_t ref, int route)
{
    json_t *services = json_object();
    for (int s = 0; s < ROUTE_N_SERVICES; s++)
        json_object_set_new(services, routes_target_name((route_target_t)s),
                            ops_service_status(gw, s));
    json_t *gateway = json_pack("{s:I, s:I, s:I}", "uptimeMs",
                                (json_int_t)(uv_now(gw->loop) - gw->started_loop_ms), "connections",
                                (json_int_t)http_server_connections(gw->http), "partnerInFlight",
                                (json_int_t)(gw->partner ? partner_inflight(gw->partner) : 0));
    json_object_set_new(gateway, "partnerTypes", ops_partner_types(gw));
    json_object_set_new(gateway, "logLinesDropped", json_integer((json_int_t)log_dropped()));
    gateway_respond_json(gw, ref, 200,
                         json_pack("{s:o, s:o}", "gateway", gateway, "services", services), route);
}

void ops_metrics(gateway_t *gw, http_ref_t ref, int route)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        abort();
    metrics_render(gw->metrics, out);
    metrics_sample(out, "concerto_gateway_http_connections", "gauge", "Open HTTP connections.",
                   NULL, NULL, (double)http_server_connections(gw->http));
    static const char *const help[] = {
        "Requests waiting for each service's answer.",
        "1 when the service's heartbeat is recent.",
        "Milliseconds since the service's last heartbeat (-1: never).",
        "Service replies that came after their deadline, dropped.",
        "Last outbox sequence the service reported.",
        "Log lines the service dropped because its stderr was too slow.",
    };
    static const char *const names[] = {
        "concerto_gateway_service_in_flight",        "concerto_gateway_service_up",
        "concerto_gateway_service_heartbeat_age_ms", "concerto_gateway_late_replies_dropped_total",
        "concerto_gateway_service_head_sequence",    "concerto_gateway_service_log_lines_dropped",
    };
    for (int k = 0; k < 6; k++) {
        for (int s = 0; s < ROUTE_N_SERVICES; s++) {
            upstream_t *u = gw->upstreams[s];
            const Concerto__Common__V1__Heartbeat *hb = upstream_heartbeat(u);
            double v;
            switch (k) {
            case 0:
                v = (double)upstream_inflight(u);
                break;
            case 1:
                v = upstream_is_up(u);
                break;
            case 2:
                v = (double)upstream_heartbeat_age_ms(u);
                break;
            case 3:
                v = (double)upstream_late_replies(u);
                break;
            case 4:
                v = hb && hb->has_head_sequence ? (double)hb->head_sequence : 0;
                break;
            default:
                v = hb ? (double)hb->log_lines_dropped : 0;
                break;
            }
            metrics_sample(out, names[k], k == 3 || k == 5 ? "counter" : "gauge",
                           s == 0 ? help[k] : NULL, "service",
                           routes_target_name((route_target_t)s), v);
        }
    }
    metrics_sample(out, "concerto_gateway_log_lines_dropped_total", "counter",
                   "Log lines the gateway dropped because its stderr was too slow.", NULL, NULL,
                   (double)log_dropped());
    metrics_sample(out, "concerto_gateway_partner_in_flight", "gauge",
                   "Partner events waiting for their service's answer.", NULL, NULL,
                   (double)(gw->partner ? partner_inflight(gw->partner) : 0));
    fclose(out);
    http_server_respond(gw->http, ref, 200, NULL, 0, "text/plain; version=0.0.4; charset=utf-8",
                        &text, len, route);
}

void ops_openapi(gateway_t *gw, http_ref_t ref, int route)
{
    char *body = xmalloc(gateway_openapi_json_len + 1);
    memcpy(body, gateway_openapi_json, gateway_openapi_json_len);
    http_server_respond(gw->http, ref, 200, NULL, 0, "application/json", &body,
                        gateway_openapi_json_len, route);
}
