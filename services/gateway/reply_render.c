/* reply_render: Reply -> JSON (see reply_render.h). */
#include "reply_render.h"

#include <stdio.h>
#include <string.h>

#include "apierror.h"
#include "msg_types.h"
#include "pb_json.h"
#include "pbmsg.h"
#include "status.h"

int reply_render_status(const Concerto__Common__V1__Reply *reply)
{
    return reply->has_status ? (int)reply->status : STATUS_OK;
}

json_t *reply_render_result(const Concerto__Common__V1__Reply *reply, const char **why)
{
    if (!reply->has_result || !reply->result_type || !*reply->result_type)
        return json_object();
    const ProtobufCMessageDescriptor *desc = msg_types_find(reply->result_type);
    if (!desc) {
        *why = "the service answered with a result type the gateway does not know";
        return NULL;
    }
    ProtobufCMessage *msg =
        protobuf_c_message_unpack(desc, NULL, reply->result.len, reply->result.data);
    if (!msg) {
        *why = "the service's result does not decode as its type";
        return NULL;
    }
    json_t *doc = pb_json_from_message(msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (!doc)
        *why = "the service's result nests too deeply";
    return doc;
}

/* Fields go in one at a time: a reply may carry very many of them. */
json_t *reply_render_error(const Concerto__Common__V1__Reply *reply, int status)
{
    json_t *err = apierror_json(status_name(status), reply->message ? reply->message : "", NULL, 0);
    for (size_t i = 0; i < reply->n_fields; i++) {
        const Concerto__Common__V1__FieldViolation *f = reply->fields[i];
        char path[256];
        /* A daemon that named it by its proto path: the client's name. */
        pbmsg_json_path(f->field ? f->field : "", path, sizeof path);
        apierror_add_field(err, path, f->description ? f->description : "");
    }
    return err;
}

/* Printable ASCII without quotes or backslashes, 1 to `max` characters. */
static int reply_render_header_safe(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (; *s; s++)
        if (*s < ' ' || *s > '~' || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

int reply_render_headers(const Concerto__Common__V1__Reply *reply, char etag[REPLY_RENDER_ETAG_MAX],
                         char disposition[REPLY_RENDER_DISPOSITION_MAX], const char **why)
{
    etag[0] = disposition[0] = '\0';
    if (reply->version) {
        /* An entity tag holds no spaces either. */
        if (!reply_render_header_safe(reply->version, REPLY_RENDER_ETAG_MAX - 3) ||
            strchr(reply->version, ' ')) {
            *why = "the service's version tag cannot be an ETag";
            return -1;
        }
        snprintf(etag, REPLY_RENDER_ETAG_MAX, "\"%s\"", reply->version);
    }
    if (reply->content_type && !reply_render_header_safe(reply->content_type, 200)) {
        *why = "the service's document content type is not valid";
        return -1;
    }
    if (reply->file_name) {
        if (!reply_render_header_safe(reply->file_name, 200)) {
            *why = "the service's document file name is not valid";
            return -1;
        }
        snprintf(disposition, REPLY_RENDER_DISPOSITION_MAX, "attachment; filename=\"%s\"",
                 reply->file_name);
    }
    return 0;
}
