/* request_build: HTTP request -> request message (see request_build.h). */
#include "request_build.h"

#include <http_parser.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int request_build_fail(request_build_error_t *e, int status, const char *message,
                              const pb_json_error_t *field)
{
    e->status = status;
    /* The message names the field as `fields` does, so that a client
     * reading either sees the same name. */
    if (field && field->field[0])
        snprintf(e->message, sizeof e->message, "%.40s: %.80s: %.120s", message, field->field,
                 field->message);
    else if (field && field->message[0])
        snprintf(e->message, sizeof e->message, "%.40s: %.200s", message, field->message);
    else
        snprintf(e->message, sizeof e->message, "%s", message);
    if (field)
        e->field = *field;
    return -1;
}

static int request_is_json(const char *content_type)
{
    if (!content_type)
        return 0;
    while (*content_type == ' ')
        content_type++;
    size_t n = strlen("application/json");
    if (strncasecmp(content_type, "application/json", n) != 0)
        return 0;
    char next = content_type[n];
    return next == '\0' || next == ';' || next == ' ';
}

/* Places `sub` (taken) in the message field `f` of `msg`. */
static void request_set_submessage(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                                   ProtobufCMessage *sub)
{
    ProtobufCMessage **slot = (ProtobufCMessage **)((char *)msg + f->offset);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)((char *)msg + f->quantifier_offset) = f->id;
    if (*slot)
        protobuf_c_message_free_unpacked(*slot, NULL);
    *slot = sub;
}

/* The message the JSON body makes: the whole request, or the route's
 * body field inside a new request. */
static int request_from_body(const route_t *route, const http_request_t *req,
                             ProtobufCMessage **out, request_build_error_t *e)
{
    if (!request_is_json(req->content_type))
        return request_build_fail(e, 415, "the body must be application/json", NULL);
    json_error_t jerr;
    /* NUL in a string is then pb_json's to refuse, naming the field, rather
     * than jansson's, whose message names its own flag. */
    json_t *doc =
        json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!doc) {
        char why[256];
        snprintf(why, sizeof why, "invalid JSON at line %d column %d: %.160s", jerr.line,
                 jerr.column, jerr.text);
        return request_build_fail(e, 400, why, NULL);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return request_build_fail(e, 400, "the body must be a JSON object", NULL);
    }
    const ProtobufCMessageDescriptor *desc =
        route->body_field ? route->body_field->descriptor : route->request;
    ProtobufCMessage *body = NULL;
    pb_json_error_t perr;
    memset(&perr, 0, sizeof perr);
    int rc = pb_json_to_message(doc, desc, &body, &perr);
    json_decref(doc);
    if (rc != 0)
        return request_build_fail(e, 400, "the body does not fit the request", &perr);
    if (route->body_field) {
        *out = pb_json_message_new(route->request);
        request_set_submessage(*out, route->body_field, body);
    } else {
        *out = body;
    }
    return 0;
}

/* Sets every query-string parameter on `msg`; a document route's
 * `format` chose the format and is no field. */
static int request_apply_query(const route_t *route, ProtobufCMessage *msg,
                               const http_request_t *req, request_build_error_t *e)
{
    size_t pos = 0;
    int count = 0;
    for (;;) {
        char *key = NULL, *value = NULL;
        int rc = req->query ? routes_query_next(req->query, req->query_len, &pos, &key, &value) : 0;
        if (rc == 0)
            return 0;
        pb_json_error_t perr;
        memset(&perr, 0, sizeof perr);
        const char *why = NULL;
        if (rc < 0)
            why = "malformed query string";
        else if (++count > REQUEST_BUILD_MAX_QUERY_PARAMS)
            why = "too many query parameters";
        else if (!(route->n_formats && strcmp(key, "format") == 0) &&
                 pb_json_set_field_from_string(msg, key, value, &perr) != 0)
            why = "invalid query parameter";
        free(key);
        free(value);
        if (why)
            return request_build_fail(e, 400, why, rc < 0 ? NULL : &perr);
    }
}

int request_build(const route_t *route, const route_match_t *m, const http_request_t *req,
                  ProtobufCMessage **out, request_build_error_t *e)
{
    *out = NULL;
    memset(e, 0, sizeof *e);
    ProtobufCMessage *msg = NULL;
    int takes_body = req->method == HTTP_POST || req->method == HTTP_PUT ||
                     req->method == HTTP_PATCH || req->method == HTTP_DELETE;
    if (takes_body && req->body_len > 0) {
        if (request_from_body(route, req, &msg, e) != 0)
            return -1;
    } else {
        msg = pb_json_message_new(route->request);
    }
    for (int i = 0; i < m->n_params; i++) {
        pb_json_error_t perr;
        memset(&perr, 0, sizeof perr);
        if (pb_json_set_field_from_string(msg, m->params[i].name, m->params[i].value, &perr)) {
            protobuf_c_message_free_unpacked(msg, NULL);
            return request_build_fail(e, 400, "invalid path parameter", &perr);
        }
    }
    if (request_apply_query(route, msg, req, e) != 0) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return -1;
    }
    *out = msg;
    return 0;
}

int request_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > REQUEST_BUILD_MAX_IDEMPOTENCY_KEY || strncmp(key, "partner/", 8) == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] < ' ' || key[i] > '~')
            return 0;
    return 1;
}

int request_format_param(const http_request_t *req, char **value)
{
    *value = NULL;
    size_t pos = 0;
    int rc;
    char *key = NULL, *v = NULL;
    while (req->query &&
           (rc = routes_query_next(req->query, req->query_len, &pos, &key, &v)) != 0) {
        int twice = rc > 0 && strcmp(key, "format") == 0 && *value;
        if (rc > 0 && strcmp(key, "format") == 0 && !twice) {
            *value = v;
            v = NULL;
        }
        free(key);
        free(v);
        if (rc < 0 || twice) {
            free(*value);
            *value = NULL;
            return -1;
        }
    }
    return *value ? 1 : 0;
}
