/* docstream: documents read in parts and streamed (see docstream.h). */
#include "docstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierror.h"
#include "envelope.h"
#include "gateway_internal.h"
#include "log.h"
#include "status.h"
#include "xalloc.h"

#define DOCSTREAM_MAX_HEADERS 8
#define DOCSTREAM_ID_MAX 32

typedef struct docstream {
    gateway_t *gw;                 /* NULL once the gateway has stopped it (docstream_stop_all) */
    struct docstream *prev, *next; /* the gateway's list */
    http_ref_t ref;
    int route;
    int service;
    uint8_t id[DOCSTREAM_ID_MAX];
    size_t id_len;
    uint64_t size;
    uint64_t received; /* bytes of the document arrived so far */
    int asking;        /* a part request is in flight */
    int writing;       /* a chunk is being written */
    int complete;      /* the last part has arrived */
    int started;       /* the head has been sent */
    int over;          /* ended or failed: only waiting for what is under way */
    char *held;        /* a part that arrived while another was being written */
    size_t held_len;
    /* The head, until it is sent. */
    int status;
    char *content_type;
    http_header_t headers[DOCSTREAM_MAX_HEADERS];
    size_t n_headers;
} docstream_t;

/* The gateway's downloads in progress. */
#define DOCSTREAM_LIST(gw) ((docstream_t **)&(gw)->streams)

static void docstream_noop(void *arg, upstream_outcome_t outcome,
                           const Concerto__Common__V1__Reply *reply)
{
    (void)arg;
    (void)outcome;
    (void)reply;
}

void docstream_release(gateway_t *gw, int service, const ProtobufCBinaryData *download_id)
{
    Concerto__Common__V1__DownloadPartRequest req =
        CONCERTO__COMMON__V1__DOWNLOAD_PART_REQUEST__INIT;
    req.has_download_id = 1;
    req.download_id = *download_id;
    req.has_release = req.release = 1;
    size_t len = 0;
    uint8_t *payload = message_pack(&req.base, &len);
    upstream_request_t ureq = {
        .type = req.base.descriptor->name, .payload = payload, .payload_len = len};
    /* Best effort: an unread download also expires on its own. */
    upstream_call(gw->upstreams[service], &ureq, gw->opt.deadline_ms, docstream_noop, NULL, NULL);
    free(payload);
}

static void docstream_unlink(docstream_t *ds)
{
    gateway_t *gw = ds->gw;
    if (!gw)
        return;
    if (ds->prev)
        ds->prev->next = ds->next;
    else
        *DOCSTREAM_LIST(gw) = ds->next;
    if (ds->next)
        ds->next->prev = ds->prev;
    gw->downloads--;
    ds->gw = NULL;
}

static void docstream_free(docstream_t *ds)
{
    docstream_unlink(ds);
    free(ds->held);
    free(ds->content_type);
    for (size_t i = 0; i < ds->n_headers; i++) {
        free((char *)ds->headers[i].name);
        free((char *)ds->headers[i].value);
    }
    free(ds);
}

/* Frees the download once it is over and nothing it started is still
 * under way. */
static void docstream_settle(docstream_t *ds)
{
    if (ds->over && !ds->asking && !ds->writing)
        docstream_free(ds);
}

static void docstream_end(docstream_t *ds)
{
    http_server_stream_end(ds->gw->http, ds->ref);
    ds->over = 1;
}

/* Gives up: an error answer if nothing was sent yet, else a cut-short
 * one; the service forgets the document unless it is stopping. */
static void docstream_fail(docstream_t *ds, int http_status, const char *why, int tell_service)
{
    if (ds->over)
        return;
    ds->over = 1;
    log_warn("download failed", "service=%s bytes=%llu of=%llu reason=\"%s\"",
             routes_target_name((route_target_t)ds->service), (unsigned long long)ds->received,
             (unsigned long long)ds->size, why);
    gateway_t *gw = ds->gw;
    if (!ds->started) {
        size_t len = 0;
        char *body = apierror_body(apierror_code_for_http(http_status), why, NULL, 0, &len);
        /* headers[0] is X-Request-Id. */
        http_server_respond(gw->http, ds->ref, http_status, ds->headers, 1, "application/json",
                            &body, len, ds->route);
    } else if (http_server_stream_abort(gw->http, ds->ref)) {
        ds->writing = 0; /* its completion will not be told */
    }
    if (tell_service && !ds->complete) {
        ProtobufCBinaryData id = {ds->id_len, ds->id};
        docstream_release(gw, ds->service, &id);
    }
}

static void docstream_ask(docstream_t *ds);
static void docstream_write(docstream_t *ds, char *chunk, size_t len);

static void docstream_on_written(void *arg, int status)
{
    docstream_t *ds = arg;
    ds->writing = 0;
    if (status != 0)
        docstream_fail(ds, 0, "the client went away", 1);
    if (!ds->over && ds->held) {
        char *chunk = ds->held;
        ds->held = NULL;
        docstream_write(ds, chunk, ds->held_len);
        if (!ds->over && !ds->complete && !ds->asking)
            docstream_ask(ds);
    } else if (!ds->over && ds->complete) {
        docstream_end(ds);
    }
    docstream_settle(ds);
}

static void docstream_write(docstream_t *ds, char *chunk, size_t len)
{
    ds->writing = 1;
    if (http_server_stream_write(ds->gw->http, ds->ref, &chunk, len, docstream_on_written, ds) !=
        0) {
        ds->writing = 0;
        docstream_fail(ds, 0, "the client went away", 1);
    }
}

/* Checks a part against what came before; returns NULL or why not. */
static const char *docstream_check(const docstream_t *ds,
                                   const Concerto__Common__V1__DownloadPart *part)
{
    if (!part->has_offset || part->offset != ds->received)
        return "the service sent a part out of order";
    if (part->data.len > ds->size - ds->received)
        return "the service sent more than the document's size";
    if (part->last != (ds->received + part->data.len == ds->size))
        return "the service's parts do not add up to the document's size";
    if (!part->last && part->data.len == 0)
        return "the service sent an empty part";
    return NULL;
}

static void docstream_take_part(docstream_t *ds, const Concerto__Common__V1__DownloadPart *part)
{
    gateway_t *gw = ds->gw;
    if (!ds->started) {
        if (http_server_stream_start(gw->http, ds->ref, ds->status, ds->headers, ds->n_headers,
                                     ds->content_type, ds->size, ds->route) != 0) {
            docstream_fail(ds, 0, "the client went away", 1);
            return;
        }
        ds->started = 1;
    }
    ds->received += part->data.len;
    ds->complete = part->last;
    if (part->data.len) {
        char *chunk = xmalloc(part->data.len);
        memcpy(chunk, part->data.data, part->data.len);
        if (ds->writing) {
            ds->held = chunk;
            ds->held_len = part->data.len;
        } else {
            docstream_write(ds, chunk, part->data.len);
        }
    }
    if (ds->over)
        return;
    if (!ds->complete && !ds->held)
        docstream_ask(ds);
    else if (ds->complete && !ds->writing && !ds->held)
        docstream_end(ds);
}

static void docstream_on_part(void *arg, upstream_outcome_t outcome,
                              const Concerto__Common__V1__Reply *reply)
{
    docstream_t *ds = arg;
    ds->asking = 0;
    if (ds->over) {
        docstream_settle(ds);
        return;
    }
    char message[160];
    const char *name = routes_target_name((route_target_t)ds->service);
    if (outcome != UPSTREAM_REPLY) {
        int status = gateway_failure(ds->gw, outcome, name, message, sizeof message);
        docstream_fail(ds, status, message, outcome != UPSTREAM_CANCELLED);
        docstream_settle(ds);
        return;
    }
    Concerto__Common__V1__DownloadPart *part = NULL;
    if (reply->has_status && reply->status != CONCERTO__COMMON__V1__STATUS__OK) {
        snprintf(message, sizeof message, "%s could not give the document: %s", name,
                 reply->message ? reply->message : status_name((int)reply->status));
        docstream_fail(ds, 502, message, 1);
    } else if (!reply->result_type ||
               strcmp(reply->result_type, concerto__common__v1__download_part__descriptor.name) !=
                   0 ||
               !(part = concerto__common__v1__download_part__unpack(NULL, reply->result.len,
                                                                    reply->result.data))) {
        docstream_fail(ds, 502, "the service answered a part request with something else", 1);
    } else {
        const char *why = docstream_check(ds, part);
        if (why)
            docstream_fail(ds, 502, why, 1);
        else
            docstream_take_part(ds, part);
        concerto__common__v1__download_part__free_unpacked(part, NULL);
    }
    docstream_settle(ds);
}

static void docstream_ask(docstream_t *ds)
{
    gateway_t *gw = ds->gw;
    Concerto__Common__V1__DownloadPartRequest req =
        CONCERTO__COMMON__V1__DOWNLOAD_PART_REQUEST__INIT;
    req.has_download_id = req.has_offset = req.has_max_bytes = 1;
    req.download_id.data = ds->id;
    req.download_id.len = ds->id_len;
    req.offset = ds->received;
    /* Half a frame: the part and its reply's own fields always fit. */
    req.max_bytes = (uint32_t)(gw->opt.max_frame / 2);
    size_t len = 0;
    uint8_t *payload = message_pack(&req.base, &len);
    upstream_request_t ureq = {
        .type = req.base.descriptor->name, .payload = payload, .payload_len = len};
    int rc = upstream_call(gw->upstreams[ds->service], &ureq, gw->opt.deadline_ms,
                           docstream_on_part, ds, NULL);
    free(payload);
    if (rc != 0) {
        char message[160];
        snprintf(message, sizeof message, "%s %s", routes_target_name((route_target_t)ds->service),
                 gateway_call_error(rc));
        docstream_fail(ds, 503, message, 0);
        return;
    }
    ds->asking = 1;
}

void docstream_start(gateway_t *gw, http_ref_t ref, int route, int service,
                     const Concerto__Common__V1__Reply *reply, const docstream_head_t *head)
{
    docstream_t *ds = xcalloc(1, sizeof *ds);
    ds->gw = gw;
    ds->ref = ref;
    ds->route = route;
    ds->service = service;
    ds->id_len =
        reply->download_id.len < DOCSTREAM_ID_MAX ? reply->download_id.len : DOCSTREAM_ID_MAX;
    memcpy(ds->id, reply->download_id.data, ds->id_len);
    ds->size = reply->document_size;
    ds->status = head->status;
    ds->content_type = xstrdup(head->content_type);
    for (size_t i = 0; i < head->n_headers && i < DOCSTREAM_MAX_HEADERS; i++) {
        ds->headers[i].name = xstrdup(head->headers[i].name);
        ds->headers[i].value = xstrdup(head->headers[i].value);
    }
    ds->n_headers =
        head->n_headers < DOCSTREAM_MAX_HEADERS ? head->n_headers : DOCSTREAM_MAX_HEADERS;
    ds->next = *DOCSTREAM_LIST(gw);
    if (ds->next)
        ds->next->prev = ds;
    *DOCSTREAM_LIST(gw) = ds;
    gw->downloads++;
    if (reply->download_id.len != ds->id_len)
        docstream_fail(ds, 502, "the service's download id is too long", 0);
    else
        docstream_ask(ds);
    docstream_settle(ds);
}

void docstream_stop_all(gateway_t *gw)
{
    while (*DOCSTREAM_LIST(gw)) {
        docstream_t *ds = *DOCSTREAM_LIST(gw);
        docstream_fail(ds, 503, "the gateway is stopping", 0);
        /* What is still under way reports to the download alone. */
        docstream_unlink(ds);
        docstream_settle(ds);
    }
}
