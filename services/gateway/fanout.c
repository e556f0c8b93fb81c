/* fanout: the merged answer of every service (see fanout.h). */
#include "fanout.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "apierror.h"
#include "gateway_internal.h"
#include "pb_json.h"
#include "reply_render.h"
#include "status.h"
#include "xalloc.h"

typedef struct fanout fanout_t;

typedef struct {
    fanout_t *fan;
    route_target_t service;
} fanout_part_t;

struct fanout {
    gateway_t *gw;
    http_ref_t ref;
    int route;
    int outstanding;
    json_t *doc;       /* the request's own fields, then "services" */
    json_t *services;  /* borrowed from doc */
    json_t *not_found; /* the registry's error when it knows no such Table */
    fanout_part_t parts[ROUTE_N_SERVICES];
};

/* One service's entry: {"status": state, "error": {...}} (error) or
 * {"status": "ok", "result": {...}, "resultType": ...}. */
static json_t *fanout_entry(const char *state, json_t *error)
{
    json_t *entry = json_object();
    json_object_set_new_nocheck(entry, "status", json_string_nocheck(state));
    if (error)
        json_object_set_new_nocheck(entry, "error", error);
    return entry;
}

static json_t *fanout_error(const char *state, const char *code, const char *message)
{
    return fanout_entry(state, apierror_json(code, message, NULL, 0));
}

/* Answers once every service has: 404 with the registry's error when
 * the registry, which owns the Tables, knows no such Table; the merged
 * document otherwise. */
static void fanout_finish(fanout_t *fan)
{
    if (--fan->outstanding > 0)
        return;
    if (fan->not_found) {
        json_decref(fan->doc);
        size_t len = 0;
        char *body = apierror_text(fan->not_found, &len);
        http_server_respond(fan->gw->http, fan->ref, 404, NULL, 0, "application/json", &body, len,
                            fan->route);
    } else {
        gateway_respond_json(fan->gw, fan->ref, 200, fan->doc, fan->route);
    }
    free(fan);
}

/* The entry for a Reply the service gave. */
static json_t *fanout_reply_entry(const Concerto__Common__V1__Reply *reply)
{
    int st = reply_render_status(reply);
    if (st != STATUS_OK) {
        char state[32];
        snprintf(state, sizeof state, "%s", status_name(st));
        for (char *p = state; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        return fanout_entry(state, reply_render_error(reply, st));
    }
    const char *why = NULL;
    json_t *result = reply_render_result(reply, &why);
    if (!result)
        return fanout_error("error", APIERROR_BAD_GATEWAY, why);
    json_t *entry = fanout_entry("ok", NULL);
    json_object_set_new_nocheck(entry, "result", result);
    if (reply->result_type && *reply->result_type)
        json_object_set_new_nocheck(entry, "resultType", json_string(reply->result_type));
    return entry;
}

static void fanout_on_reply(void *arg, upstream_outcome_t outcome,
                            const Concerto__Common__V1__Reply *reply)
{
    fanout_part_t *part = arg;
    fanout_t *fan = part->fan;
    gateway_t *gw = fan->gw;
    gw->calls_in_progress--;
    const char *name = routes_target_name(part->service);
    json_t *entry = NULL;
    if (outcome == UPSTREAM_REPLY) {
        entry = fanout_reply_entry(reply);
        if (part->service == ROUTE_REGISTRY && reply_render_status(reply) == STATUS_NOT_FOUND)
            fan->not_found = json_incref(json_object_get(entry, "error"));
    } else {
        char message[160];
        int status = gateway_failure(gw, outcome, name, message, sizeof message);
        entry = fanout_error(status == 502 ? "error" : "unavailable",
                             apierror_code_for_http(status), message);
    }
    json_object_set_new_nocheck(fan->services, name, entry);
    fanout_finish(fan);
}

void fanout_start(gateway_t *gw, http_ref_t ref, int route, const ProtobufCMessage *msg,
                  const upstream_request_t *ureq)
{
    fanout_t *fan = xcalloc(1, sizeof *fan);
    fan->gw = gw;
    fan->ref = ref;
    fan->route = route;
    fan->doc = pb_json_from_message(msg);
    if (!fan->doc)
        fan->doc = json_object();
    fan->services = json_object();
    json_object_set_new(fan->doc, "services", fan->services);
    /* Placeholders keep the services in one order whatever answers first. */
    for (int s = 0; s < ROUTE_N_SERVICES; s++)
        json_object_set_new_nocheck(fan->services, routes_target_name((route_target_t)s),
                                    json_null());
    /* One extra count so the answer waits until every call is made. */
    fan->outstanding = ROUTE_N_SERVICES + 1;
    for (int s = 0; s < ROUTE_N_SERVICES; s++) {
        fan->parts[s].fan = fan;
        fan->parts[s].service = (route_target_t)s;
        int rc = upstream_call(gw->upstreams[s], ureq, gw->opt.deadline_ms, fanout_on_reply,
                               &fan->parts[s], NULL);
        if (rc == 0) {
            gw->calls_in_progress++;
            continue;
        }
        char message[160];
        const char *name = routes_target_name((route_target_t)s);
        snprintf(message, sizeof message, "%s %s", name, gateway_call_error(rc));
        json_object_set_new(fan->services, name,
                            fanout_error("unavailable", "UNAVAILABLE", message));
        fan->outstanding--;
    }
    fanout_finish(fan);
}
