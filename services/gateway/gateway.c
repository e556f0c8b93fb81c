/* gateway: routing HTTP requests to one service (the fan-out is fanout.c),
 * and the wiring of every part on the loop (see gateway.h). */
#include "gateway.h"

#include <http_parser.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierror.h"
#include "envelope.h"
#include "docstream.h"
#include "fanout.h"
#include "gateway_internal.h"
#include "gateway_protos.h"
#include "json_text.h"
#include "log.h"
#include "msg_types.h"
#include "negotiate.h"
#include "reply_render.h"
#include "request_build.h"
#include "status.h"
#include "uuid.h"
#include "xalloc.h"

/* ------------------------------------------------------------ answers */

void gateway_respond_json(gateway_t *gw, http_ref_t ref, int status, json_t *doc, int route)
{
    size_t len = 0;
    char *text = json_text(doc, &len);
    json_decref(doc);
    http_server_respond(gw->http, ref, status, NULL, 0, "application/json", &text, len, route);
}

static void gateway_respond_fields(gateway_t *gw, http_ref_t ref, int status, const char *code,
                                   const char *message, const apierror_field_t *fields,
                                   size_t n_fields, const http_header_t *extra, size_t n_extra,
                                   int route)
{
    size_t len = 0;
    char *body = apierror_body(code, message, fields, n_fields, &len);
    http_server_respond(gw->http, ref, status, extra, n_extra, "application/json", &body, len,
                        route);
}

static void gateway_respond_error(gateway_t *gw, http_ref_t ref, int status, const char *message,
                                  int route)
{
    gateway_respond_fields(gw, ref, status, apierror_code_for_http(status), message, NULL, 0, NULL,
                           0, route);
}

/* ------------------------------------------------------------ failures */

int gateway_failure(const gateway_t *gw, upstream_outcome_t outcome, const char *service,
                    char *message, size_t cap)
{
    switch (outcome) {
    case UPSTREAM_TIMEOUT:
        snprintf(message, cap, "%s did not answer within %llu ms", service,
                 (unsigned long long)gw->opt.deadline_ms);
        return 504;
    case UPSTREAM_CANCELLED:
        snprintf(message, cap, "the gateway is shutting down");
        return 503;
    case UPSTREAM_DOWN:
        snprintf(message, cap, "%s went down with the call in flight; retry", service);
        return 503;
    default:
        snprintf(message, cap, "%s answered with a malformed reply", service);
        return 502;
    }
}

const char *gateway_call_error(int rc)
{
    switch (rc) {
    case UPSTREAM_ERR_TOO_LARGE:
        return "cannot take a request this large";
    case UPSTREAM_ERR_DOWN:
        return "is unavailable (down: no recent heartbeat, or its link closed)";
    case UPSTREAM_ERR_BUSY:
        return "is overloaded; retry later";
    default:
        return "could not be reached";
    }
}

/* ------------------------------------------------------------ one service */

typedef struct {
    gateway_t *gw;
    http_ref_t ref;
    int route;
    int ok_status;
    route_target_t service;
    int vary; /* the route offers formats: answers vary with Accept */
    char request_id[UUID_STR_LEN];
} gateway_call_t;

/* A failed call, or a reply that is not OK: the JSON error. */
static void gateway_answer_failure(gateway_call_t *call, upstream_outcome_t outcome,
                                   const Concerto__Common__V1__Reply *reply)
{
    gateway_t *gw = call->gw;
    http_header_t rid = {"X-Request-Id", call->request_id};
    size_t len = 0;
    char *body = NULL;
    int status;
    if (outcome == UPSTREAM_REPLY) {
        int st = reply_render_status(reply);
        status = apierror_http_status(st, call->ok_status);
        body = apierror_text(reply_render_error(reply, st), &len);
    } else {
        char message[160];
        status = gateway_failure(gw, outcome, routes_target_name(call->service), message,
                                 sizeof message);
        body = apierror_body(apierror_code_for_http(status), message, NULL, 0, &len);
    }
    http_server_respond(gw->http, call->ref, status, &rid, 1, "application/json", &body, len,
                        call->route);
}

static void gateway_answer_bad_gateway(gateway_call_t *call, int status, const char *why)
{
    http_header_t rid = {"X-Request-Id", call->request_id};
    size_t len = 0;
    char *body = apierror_body(apierror_code_for_http(status), why, NULL, 0, &len);
    http_server_respond(call->gw->http, call->ref, status, &rid, 1, "application/json", &body, len,
                        call->route);
}

/* A document larger than a frame: checked against the gateway's limits
 * before anything is sent, then streamed. */
static void gateway_answer_download(gateway_call_t *call, const Concerto__Common__V1__Reply *reply,
                                    const http_header_t *headers, size_t n_headers)
{
    gateway_t *gw = call->gw;
    char why[200];
    int status = 0;
    if (reply->document_size > (uint64_t)gw->opt.max_document) {
        status = 500;
        snprintf(why, sizeof why,
                 "the document is %llu bytes, over the gateway's limit of %lld "
                 "(CONCERTO_MAX_DOCUMENT)",
                 (unsigned long long)reply->document_size, (long long)gw->opt.max_document);
    } else if (gw->downloads >= gw->opt.max_downloads) {
        status = 503;
        snprintf(why, sizeof why, "%zu large documents are being downloaded already; retry later",
                 gw->downloads);
    }
    if (status) {
        docstream_release(gw, call->service, &reply->download_id);
        gateway_answer_bad_gateway(call, status, why);
        return;
    }
    docstream_head_t head = {call->ok_status, headers, n_headers, reply->content_type};
    docstream_start(gw, call->ref, call->route, call->service, reply, &head);
}

/* An OK reply: 304, a document, or the result as JSON, with the
 * version as ETag. */
static void gateway_answer_ok(gateway_call_t *call, const Concerto__Common__V1__Reply *reply)
{
    gateway_t *gw = call->gw;
    char etag[REPLY_RENDER_ETAG_MAX], disposition[REPLY_RENDER_DISPOSITION_MAX];
    const char *why = NULL;
    if (reply_render_headers(reply, etag, disposition, &why) != 0) {
        if (reply->has_download_id)
            docstream_release(gw, call->service, &reply->download_id);
        gateway_answer_bad_gateway(call, 502, why);
        return;
    }
    http_header_t headers[4] = {{"X-Request-Id", call->request_id}};
    size_t n = 1;
    if (etag[0])
        headers[n++] = (http_header_t){"ETag", etag};
    if (call->vary)
        headers[n++] = (http_header_t){"Vary", "Accept"};
    if (disposition[0])
        headers[n++] = (http_header_t){"Content-Disposition", disposition};
    size_t len = 0;
    char *body = NULL;
    if (reply->not_modified) {
        http_server_respond(gw->http, call->ref, 304, headers, n, NULL, &body, 0, call->route);
        return;
    }
    if (reply->content_type && reply->has_download_id) {
        gateway_answer_download(call, reply, headers, n);
        return;
    }
    if (reply->content_type) {
        len = reply->document.len;
        body = xmalloc(len ? len : 1);
        memcpy(body, reply->document.data, len);
        http_server_respond(gw->http, call->ref, call->ok_status, headers, n, reply->content_type,
                            &body, len, call->route);
        return;
    }
    json_t *doc = reply_render_result(reply, &why);
    if (!doc) {
        gateway_answer_bad_gateway(call, 502, why);
        return;
    }
    body = json_text(doc, &len);
    json_decref(doc);
    http_server_respond(gw->http, call->ref, call->ok_status, headers, n, "application/json", &body,
                        len, call->route);
}

static void gateway_on_reply(void *arg, upstream_outcome_t outcome,
                             const Concerto__Common__V1__Reply *reply)
{
    gateway_call_t *call = arg;
    call->gw->calls_in_progress--;
    if (outcome == UPSTREAM_REPLY && reply_render_status(reply) == STATUS_OK)
        gateway_answer_ok(call, reply);
    else
        gateway_answer_failure(call, outcome, reply);
    free(call);
}

static void gateway_single(gateway_t *gw, http_ref_t ref, const route_t *route, int index,
                           const upstream_request_t *ureq)
{
    gateway_call_t *call = xcalloc(1, sizeof *call);
    call->gw = gw;
    call->ref = ref;
    call->route = index;
    call->ok_status = route->ok_status;
    call->service = route->target;
    call->vary = route->n_formats > 0;
    uint8_t id[UUID_LEN];
    int rc = upstream_call(gw->upstreams[route->target], ureq, gw->opt.deadline_ms,
                           gateway_on_reply, call, id);
    if (rc != 0) {
        free(call);
        char message[160];
        snprintf(message, sizeof message, "%s %s", routes_target_name(route->target),
                 gateway_call_error(rc));
        gateway_respond_error(gw, ref, rc == UPSTREAM_ERR_TOO_LARGE ? 413 : 503, message, index);
        return;
    }
    uuid_format(id, call->request_id);
    gw->calls_in_progress++;
}

/* ------------------------------------------------------------ the request */

/* The wire role of an HTTP caller: its token's, or public without one. */
static Concerto__Common__V1__Role gateway_role(const auth_token_t *who)
{
    switch (who ? who->role : AUTH_PUBLIC) {
    case AUTH_READER:
        return CONCERTO__COMMON__V1__ROLE__ROLE_READER;
    case AUTH_OPERATOR:
        return CONCERTO__COMMON__V1__ROLE__ROLE_OPERATOR;
    case AUTH_ADMIN:
        return CONCERTO__COMMON__V1__ROLE__ROLE_ADMIN;
    default:
        return CONCERTO__COMMON__V1__ROLE__ROLE_PUBLIC;
    }
}

/* What the request asks beyond its message: the format of a document
 * route, and the versions a GET already holds. Returns 0, or answers the
 * client (400, 406) and returns -1. */
static int gateway_negotiate(gateway_t *gw, http_ref_t ref, const route_t *route, int index,
                             const http_request_t *req, int *format, negotiate_tags_t *tags)
{
    *format = -1;
    if (route->n_formats) {
        char *asked = NULL;
        if (request_format_param(req, &asked) < 0) {
            gateway_respond_error(gw, ref, 400, "malformed query string, or format given twice",
                                  index);
            return -1;
        }
        *format = negotiate_format(route->formats, route->n_formats, asked, req->accept);
        free(asked);
        if (*format < 0) {
            char message[160];
            int n = snprintf(message, sizeof message, "this resource is offered as");
            for (int i = 0; i < route->n_formats; i++)
                n += snprintf(message + n, sizeof message - (size_t)n, "%s %s (%s)", i ? "," : "",
                              format_name((format_t)route->formats[i]),
                              format_media_type((format_t)route->formats[i]));
            gateway_respond_error(gw, ref, 406, message, index);
            return -1;
        }
    }
    if (req->method == HTTP_GET && req->if_none_match &&
        negotiate_if_none_match(req->if_none_match, tags) != 0) {
        apierror_field_t f = {"If-None-Match", "\"tag\", W/\"tag\" or *; at most 32 tags of "
                                               "at most 128 characters"};
        gateway_respond_fields(gw, ref, 400, "INVALID_ARGUMENT", "invalid If-None-Match", &f, 1,
                               NULL, 0, index);
        return -1;
    }
    return 0;
}

/* Builds the request message and sends it, with the caller, to its
 * service or to every service. */
static void gateway_forward(gateway_t *gw, http_ref_t ref, const route_t *route, int index,
                            const route_match_t *m, const http_request_t *req,
                            const auth_token_t *who)
{
    if (req->idempotency_key && !request_key_valid(req->idempotency_key)) {
        apierror_field_t f = {"Idempotency-Key", "1-200 printable characters, not starting "
                                                 "with partner/"};
        gateway_respond_fields(gw, ref, 400, "INVALID_ARGUMENT", "invalid Idempotency-Key", &f, 1,
                               NULL, 0, index);
        return;
    }
    int format = -1;
    negotiate_tags_t tags = {{0}, 0};
    if (gateway_negotiate(gw, ref, route, index, req, &format, &tags) != 0)
        return;
    ProtobufCMessage *msg = NULL;
    request_build_error_t e;
    if (request_build(route, m, req, &msg, &e) != 0) {
        negotiate_tags_clear(&tags);
        apierror_field_t f = {e.field.field, e.field.message};
        int has_field = e.field.field[0] || e.field.message[0];
        gateway_respond_fields(gw, ref, e.status, apierror_code_for_http(e.status), e.message, &f,
                               has_field ? 1 : 0, NULL, 0, index);
        return;
    }
    Concerto__Common__V1__Caller caller = CONCERTO__COMMON__V1__CALLER__INIT;
    caller.has_role = 1;
    caller.role = gateway_role(who);
    caller.name = who ? (char *)who->name : NULL;
    size_t len = 0;
    uint8_t *payload = message_pack(msg, &len);
    upstream_request_t ureq = {.type = route->request->name,
                               .payload = payload,
                               .payload_len = len,
                               .actor = who ? who->name : NULL,
                               .idempotency_key = req->idempotency_key,
                               .caller = &caller,
                               .format = format >= 0 ? format_name((format_t)format) : NULL,
                               .if_none_match = tags.tags,
                               .n_if_none_match = tags.n,
                               .json_names = 1};
    if (route->target == ROUTE_ALL) {
        ureq.n_if_none_match = 0; /* a merged answer has no one version */
        fanout_start(gw, ref, index, msg, &ureq);
    } else {
        gateway_single(gw, ref, route, index, &ureq);
    }
    free(payload);
    negotiate_tags_clear(&tags);
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* ------------------------------------------------------------ dispatch */

#define ROUTE_LOCAL(METHOD, PATTERN, HANDLER, ROLE) ops_##HANDLER,
#define ROUTE(METHOD, PATTERN, SERVICE, DESC, ROLE, BODY, STATUS)
static const gateway_local_fn gateway_locals[] = {
#include "routes.def"
};
#undef ROUTE
#undef ROUTE_LOCAL

static void gateway_on_request(void *arg, http_ref_t ref, const http_request_t *req)
{
    gateway_t *gw = arg;
    route_match_t m;
    char allow[64];
    routes_result_t found =
        routes_match(gw->routes, req->method, req->path, req->path_len, &m, allow, sizeof allow);
    if (found == ROUTES_NOT_FOUND) {
        gateway_respond_error(gw, ref, 404, "no such resource", -1);
        return;
    }
    if (found == ROUTES_METHOD_NOT_ALLOWED) {
        http_header_t h = {"Allow", allow};
        char message[128];
        snprintf(message, sizeof message, "this resource allows %s", allow);
        gateway_respond_fields(gw, ref, 405, APIERROR_METHOD_NOT_ALLOWED, message, NULL, 0, &h, 1,
                               -1);
        return;
    }
    if (found == ROUTES_BAD_PATH) {
        gateway_respond_error(gw, ref, 400, "malformed percent-encoding in the path", -1);
        return;
    }
    const route_t *route = m.route;
    int index = m.index;
    const auth_token_t *who = NULL;
    auth_result_t ar =
        auth_authorize(gw->auth, req->authorization, route->role, gw->opt.public_reads, &who);
    if (ar == AUTH_MISSING || ar == AUTH_INVALID) {
        http_header_t h = {"WWW-Authenticate", ar == AUTH_MISSING ? "Bearer realm=\"concerto\""
                                                                  : "Bearer realm=\"concerto\", "
                                                                    "error=\"invalid_token\""};
        gateway_respond_fields(gw, ref, 401, "UNAUTHENTICATED",
                               ar == AUTH_MISSING ? "this route needs a bearer token"
                                                  : "invalid bearer token",
                               NULL, 0, &h, 1, index);
        route_match_clear(&m);
        return;
    }
    if (ar == AUTH_FORBIDDEN) {
        char message[128];
        snprintf(message, sizeof message, "this route needs the %s role",
                 auth_role_name(route->role));
        gateway_respond_error(gw, ref, 403, message, index);
        route_match_clear(&m);
        return;
    }
    if (route->target == ROUTE_LOCAL) {
        route_match_clear(&m);
        gateway_locals[route->local](gw, ref, index);
        return;
    }
    gateway_forward(gw, ref, route, index, &m, req, who);
    route_match_clear(&m);
}

static void gateway_on_done(void *arg, int route, int status, uint64_t duration_us)
{
    gateway_t *gw = arg;
    metrics_request(gw->metrics, route, status, duration_us);
}

static void gateway_on_refused(void *arg)
{
    gateway_t *gw = arg;
    metrics_connection_refused(gw->metrics);
}

/* ------------------------------------------------------------ setup */

#define ROUTE(METHOD, PATTERN, SERVICE, DESC, ROLE, BODY, STATUS)                                  \
    {HTTP_##METHOD, PATTERN, ROUTE_##SERVICE, &DESC, AUTH_##ROLE, BODY, STATUS, NULL},
#define ROUTE_DOC(METHOD, PATTERN, SERVICE, DESC, ROLE, FORMATS, STATUS)                           \
    {HTTP_##METHOD, PATTERN, ROUTE_##SERVICE, &DESC, AUTH_##ROLE, NULL, STATUS, FORMATS},
#define ROUTE_LOCAL(METHOD, PATTERN, HANDLER, ROLE)                                                \
    {HTTP_##METHOD, PATTERN, ROUTE_LOCAL, NULL, AUTH_##ROLE, NULL, 200, NULL},
typedef struct {
    int method;
    const char *pattern;
    route_target_t target;
    const ProtobufCMessageDescriptor *request;
    auth_role_t role;
    const char *body_field;
    int ok_status;
    const char *formats; /* NULL: a plain JSON route */
} gateway_builtin_route_t;
static const gateway_builtin_route_t gateway_builtin_routes[] = {
#include "routes.def"
};
#undef ROUTE
#undef ROUTE_DOC
#undef ROUTE_LOCAL

static int gateway_load_routes(gateway_t *gw, char *err, size_t errlen)
{
    gw->routes = routes_new();
    int local = 0;
    size_t n = sizeof gateway_builtin_routes / sizeof gateway_builtin_routes[0];
    for (size_t i = 0; i < n; i++) {
        const gateway_builtin_route_t *r = &gateway_builtin_routes[i];
        int is_local = r->target == ROUTE_LOCAL;
        int index =
            routes_add(gw->routes, r->method, r->pattern, r->target, r->request, r->body_field,
                       r->role, r->ok_status, is_local ? local : -1, err, errlen);
        if (index < 0 ||
            (r->formats && routes_set_formats(gw->routes, index, r->formats, err, errlen) != 0))
            return -1;
        if (is_local)
            local++;
    }
    if (*gw->opt.routes_file &&
        routes_load_file(gw->routes, gw->opt.routes_file, msg_types_find, err, errlen) != 0)
        return -1;
    return 0;
}

static int gateway_start_partner(gateway_t *gw, uv_loop_t *loop, void *zctx, char *err,
                                 size_t errlen)
{
    const gateway_options_t *o = &gw->opt;
    gw->policy = partner_policy_new();
    if (!*o->curve_secret_file) {
        log_info("partner ingress off", "reason=\"CONCERTO_GATEWAY_CURVE_SECRET is not set\"");
        return 0;
    }
    if (!*o->curve_public_file || !*o->partners_file) {
        snprintf(err, errlen,
                 "the partner ingress needs CONCERTO_GATEWAY_CURVE_PUBLIC and "
                 "CONCERTO_GATEWAY_PARTNERS");
        return -1;
    }
    if (partner_policy_load_file(gw->policy, o->partners_file, err, errlen) != 0 ||
        partner_policy_set_types(gw->policy, o->partner_types, routes_service_parse,
                                 routes_service_for_type, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < partner_policy_type_count(gw->policy); i++) {
        const char *t = partner_policy_type_name(gw->policy, i);
        if (!msg_types_find(t)) {
            snprintf(err, errlen, "partner type %s is not a message type the gateway knows", t);
            return -1;
        }
    }
    partner_options_t popt = {o->partner_endpoint, o->curve_secret_file, o->curve_public_file,
                              gw->policy,          gw->upstreams,        o->deadline_ms,
                              o->max_frame,        gw->metrics,          msg_types_find};
    gw->partner = partner_new(loop, zctx, &popt, err, errlen);
    if (!gw->partner)
        return -1;
    log_info("partner ingress", "endpoint=%s partners=%zu types=%zu", o->partner_endpoint,
             partner_policy_count(gw->policy), partner_policy_type_count(gw->policy));
    return 0;
}

gateway_t *gateway_new(uv_loop_t *loop, void *zctx, const gateway_options_t *opt, char *err,
                       size_t errlen)
{
    gateway_t *gw = xcalloc(1, sizeof *gw);
    gw->loop = loop;
    gw->opt = *opt;
    gw->started_loop_ms = uv_now(loop);
    gw->auth = auth_new();
    if (gateway_load_routes(gw, err, errlen) != 0)
        goto fail;
    if (*opt->tokens_file && auth_load_file(gw->auth, opt->tokens_file, err, errlen) != 0)
        goto fail;
    size_t n_routes = routes_count(gw->routes);
    const char **labels = xcalloc(n_routes ? n_routes : 1, sizeof *labels);
    for (size_t i = 0; i < n_routes; i++)
        labels[i] = routes_at(gw->routes, i)->label;
    gw->metrics = metrics_new(labels, n_routes);
    free(labels);
    for (int s = 0; s < ROUTE_N_SERVICES; s++) {
        upstream_options_t uopt = {routes_target_name((route_target_t)s),
                                   opt->router[s],
                                   opt->pub[s],
                                   opt->heartbeat_ms,
                                   opt->heartbeat_misses,
                                   opt->max_inflight,
                                   opt->max_frame};
        gw->upstreams[s] = upstream_new(loop, zctx, &uopt);
        if (!gw->upstreams[s]) {
            snprintf(err, errlen, "cannot connect to %s (%s, %s)", uopt.name, uopt.router,
                     uopt.pub);
            goto fail;
        }
    }
    if (gateway_start_partner(gw, loop, zctx, err, errlen) != 0)
        goto fail;
    http_request_set_global_limit(opt->http.limits.max_header_bytes);
    http_server_callbacks_t cb = {gateway_on_request, gateway_on_done, gateway_on_refused, gw};
    gw->http = http_server_new(loop, &opt->http, &cb);
    if (http_server_listen(gw->http, opt->http_address, err, errlen) != 0)
        goto fail;
    log_info("listening", "http=%s port=%d routes=%zu tokens=%zu public_reads=%d deadline_ms=%llu",
             opt->http_address, http_server_port(gw->http), n_routes, auth_count(gw->auth),
             opt->public_reads, (unsigned long long)opt->deadline_ms);
    return gw;
fail:
    gateway_destroy(&gw);
    return NULL;
}

void gateway_drain(gateway_t *self)
{
    if (self->http)
        http_server_drain(self->http);
}

int gateway_busy(const gateway_t *self)
{
    return (self->http && http_server_connections(self->http) > 0) || self->calls_in_progress > 0 ||
           self->downloads > 0 || (self->partner && partner_inflight(self->partner) > 0);
}

void gateway_destroy(gateway_t **self_p)
{
    gateway_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    /* Downloads, then upstreams: their cancelled calls answer HTTP clients
     * and partners, which must still exist. */
    docstream_stop_all(self);
    for (int s = 0; s < ROUTE_N_SERVICES; s++)
        upstream_destroy(&self->upstreams[s]);
    partner_destroy(&self->partner);
    http_server_destroy(&self->http);
    partner_policy_destroy(&self->policy);
    metrics_destroy(&self->metrics);
    auth_destroy(&self->auth);
    routes_destroy(&self->routes);
    free(self);
}
