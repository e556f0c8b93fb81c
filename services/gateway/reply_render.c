/* reply_render: Reply -> JSON (see reply_render.h). */
#include "reply_render.h"

#include "apierror.h"
#include "msg_types.h"
#include "pb_json.h"
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
        pb_json_field_path(f->field ? f->field : "", path, sizeof path);
        apierror_add_field(err, path, f->description ? f->description : "");
    }
    return err;
}
