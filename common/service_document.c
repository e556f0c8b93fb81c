/* service_document: what the runtime adds to a call for document routes
 * (see service.h, "documents and conditional answers"): the format the
 * gateway chose, version tags and "not modified", document answers, the
 * download store that keeps documents larger than a frame, and its
 * built-in DownloadPartRequest handler. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "download.h"
#include "log.h"
#include "service_internal.h"
#include "xalloc.h"

#define DOCUMENT_MAX_LABEL 200 /* content type, file name */
#define DOCUMENT_TAG_BYTES 16
#define DOWNLOAD_TTL_MS 60000
#define DOWNLOAD_MAX_ENTRIES 8

struct service_document {
    char *content_type;
    char *file_name;
    uint8_t *data; /* inline bytes; NULL once kept in the download store */
    size_t len;
    uint8_t download_id[DOWNLOAD_ID_LEN];
    int has_download;
    char tag[2 * DOCUMENT_TAG_BYTES + 1]; /* "" until service_call_version */
    int not_modified;
};

static struct service_document *service_document_of(service_call_t *call)
{
    if (!call->doc)
        call->doc = xcalloc(1, sizeof *call->doc);
    return call->doc;
}

void service_document_free(struct service_document **doc_p)
{
    struct service_document *doc = *doc_p;
    if (!doc)
        return;
    free(doc->content_type);
    free(doc->file_name);
    free(doc->data);
    free(doc);
    *doc_p = NULL;
}

const char *service_call_format(service_call_t *call)
{
    return call->env && call->env->format ? call->env->format : "";
}

/* The tag of `version` in `format`: hex of a 16-byte BLAKE2b, so that any
 * version text makes a valid ETag and each format has its own. */
static void service_document_tag(const char *format, const char *version, char *out)
{
    crypto_generichash_state st;
    uint8_t hash[DOCUMENT_TAG_BYTES];
    crypto_generichash_init(&st, NULL, 0, sizeof hash);
    crypto_generichash_update(&st, (const uint8_t *)format, strlen(format) + 1);
    crypto_generichash_update(&st, (const uint8_t *)version, strlen(version));
    crypto_generichash_final(&st, hash, sizeof hash);
    sodium_bin2hex(out, 2 * DOCUMENT_TAG_BYTES + 1, hash, sizeof hash);
}

int service_call_version(service_call_t *call, const char *version)
{
    struct service_document *doc = service_document_of(call);
    service_document_tag(service_call_format(call), version, doc->tag);
    const envelope_t *env = call->env;
    for (size_t i = 0; env && i < env->n_if_none_match; i++) {
        const char *t = env->if_none_match[i];
        if (strcmp(t, "*") == 0 || strcmp(t, doc->tag) == 0) {
            doc->not_modified = 1;
            call->status = STATUS_OK;
            return 1;
        }
    }
    return 0;
}

/* A content type or file name: printable ASCII without quotes or
 * backslashes (they go into HTTP headers as they are). */
static int service_document_label_valid(const char *s, int need_slash)
{
    size_t n = strlen(s);
    if (n == 0 || n > DOCUMENT_MAX_LABEL || (need_slash && !strchr(s, '/')))
        return 0;
    for (; *s; s++)
        if (*s < ' ' || *s > '~' || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

/* The largest document sent inline: a reply frame less room for the
 * reply's other fields. */
static size_t service_document_inline_max(service_t *svc)
{
    size_t limit = service_reply_limit(svc);
    return limit > 4 * DOCUMENT_MAX_LABEL + 1024 ? limit - 4 * DOCUMENT_MAX_LABEL - 1024 : 0;
}

static int service_document_keep(service_call_t *call, struct service_document *doc)
{
    service_t *svc = call->svc;
    if (!svc->downloads)
        svc->downloads = download_store_new(DOWNLOAD_MAX_ENTRIES, 4 * (size_t)svc->max_document,
                                            DOWNLOAD_TTL_MS);
    if (download_store_put(svc->downloads, &doc->data, doc->len, service_now_ms(),
                           doc->download_id) != 0)
        return service_call_fail(call, STATUS_UNAVAILABLE,
                                 "too many documents are being downloaded; retry later");
    doc->has_download = 1;
    return STATUS_OK;
}

int service_call_reply_document(service_call_t *call, const char *content_type,
                                const char *file_name, uint8_t **data, size_t len)
{
    struct service_document *doc = service_document_of(call);
    uint8_t *bytes = *data;
    *data = NULL;
    free(doc->data);
    doc->data = NULL;
    if (!service_document_label_valid(content_type, 1) ||
        (file_name && !service_document_label_valid(file_name, 0))) {
        free(bytes);
        return service_call_fail(call, STATUS_INTERNAL,
                                 "the document's content type or file name is not valid");
    }
    if (len > (size_t)call->svc->max_document) {
        free(bytes);
        return service_call_fail(call, STATUS_INTERNAL,
                                 "the document is %zu bytes, over the limit of %lld "
                                 "(CONCERTO_MAX_DOCUMENT)",
                                 len, (long long)call->svc->max_document);
    }
    free(doc->content_type);
    free(doc->file_name);
    doc->content_type = xstrdup(content_type);
    doc->file_name = file_name ? xstrdup(file_name) : NULL;
    doc->data = bytes;
    doc->len = len;
    call->status = STATUS_OK;
    if (len <= service_document_inline_max(call->svc))
        return STATUS_OK;
    if (call->command) {
        /* A command's answer is kept for its retries; a download id in it
         * would outlive the download. */
        return service_call_fail(call, STATUS_INTERNAL,
                                 "a command's document must fit in one frame (%zu bytes)",
                                 service_document_inline_max(call->svc));
    }
    return service_document_keep(call, doc);
}

void service_document_pack(service_call_t *call, Concerto__Common__V1__Reply *reply)
{
    struct service_document *doc = call->doc;
    if (!doc || call->status != STATUS_OK)
        return;
    if (doc->tag[0])
        reply->version = doc->tag;
    if (doc->not_modified) {
        reply->has_not_modified = reply->not_modified = 1;
        reply->has_result = 0;
        reply->result_type = NULL;
        return;
    }
    if (!doc->content_type)
        return;
    reply->content_type = doc->content_type;
    reply->file_name = doc->file_name;
    reply->has_document_size = 1;
    reply->document_size = doc->len;
    if (doc->has_download) {
        reply->has_download_id = 1;
        reply->download_id.data = doc->download_id;
        reply->download_id.len = DOWNLOAD_ID_LEN;
    } else {
        reply->has_document = 1;
        reply->document.data = doc->data;
        reply->document.len = doc->len;
    }
    reply->has_result = 0;
    reply->result_type = NULL;
}

/* DownloadPartRequest: the next part of a kept document. */
static int service_handle_download_part(service_call_t *call, const ProtobufCMessage *msg,
                                        void *arg)
{
    (void)arg;
    const Concerto__Common__V1__DownloadPartRequest *req = (const void *)msg;
    service_t *svc = call->svc;
    const uint8_t *id = req->has_download_id ? req->download_id.data : NULL;
    size_t id_len = req->has_download_id ? req->download_id.len : 0;
    if (!svc->downloads)
        svc->downloads = download_store_new(DOWNLOAD_MAX_ENTRIES, 4 * (size_t)svc->max_document,
                                            DOWNLOAD_TTL_MS);
    if (req->release) {
        download_store_release(svc->downloads, id, id_len);
        return service_call_reply(call, NULL);
    }
    /* Room for the part's own fields within a reply frame. */
    size_t max = service_reply_limit(svc) - 256;
    if (req->max_bytes && req->max_bytes < max)
        max = req->max_bytes;
    Concerto__Common__V1__DownloadPart part = CONCERTO__COMMON__V1__DOWNLOAD_PART__INIT;
    const uint8_t *data = NULL;
    int last = 0;
    switch (download_store_read(svc->downloads, id, id_len, req->offset, max, service_now_ms(),
                                &data, &part.data.len, &last)) {
    case DOWNLOAD_UNKNOWN:
        return service_call_fail(call, STATUS_NOT_FOUND,
                                 "no such download: read to its end, released, or unread for "
                                 "%d s",
                                 DOWNLOAD_TTL_MS / 1000);
    case DOWNLOAD_BAD_OFFSET:
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "offset past the end");
    case DOWNLOAD_OK:
        break;
    }
    part.has_offset = part.has_data = part.has_last = 1;
    part.offset = req->offset;
    part.data.data = (uint8_t *)data;
    part.last = last;
    return service_call_reply(call, &part.base);
}

static void service_expire_downloads(service_t *svc, void *arg)
{
    (void)arg;
    size_t gone = svc->downloads ? download_store_expire(svc->downloads, service_now_ms()) : 0;
    if (gone)
        log_info("downloads expired", "count=%zu", gone);
}

void service_document_setup(service_t *svc)
{
    static const service_handler_spec_t handlers[] = {
        {&concerto__common__v1__download_part_request__descriptor, SERVICE_QUERY,
         service_handle_download_part, NULL},
    };
    service_handle(svc, handlers, 1, NULL);
    service_every(svc, 1000, service_expire_downloads, NULL);
}
