/* pbmsg: descriptor-driven access to singular fields (see pbmsg.h). */
#include "pbmsg.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void pbmsg_json_path(const char *path, char *out, size_t cap)
{
    if (!cap)
        return;
    int proto = path[strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789_.[]")] == '\0';
    size_t n = 0;
    int upper_next = 0;
    for (const char *p = path; *p && n + 1 < cap; p++) {
        if (proto && *p == '_') {
            upper_next = 1;
            continue;
        }
        out[n++] = upper_next ? (char)toupper((unsigned char)*p) : *p;
        upper_next = 0;
    }
    out[n] = '\0';
}

size_t pbmsg_value_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    assert(!"unknown protobuf-c type");
    return 0;
}

ProtobufCMessage *pbmsg_new(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = xmalloc(desc->sizeof_message);
    protobuf_c_message_init(desc, m);
    return m;
}

static int pbmsg_is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

void pbmsg_clear(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (pbmsg_is_oneof(f)) {
        /* The members share their storage: clear whichever is set. */
        uint32_t which = *(const uint32_t *)((const char *)msg + f->quantifier_offset);
        if (which && which != f->id)
            f = protobuf_c_message_descriptor_get_field(msg->descriptor, which);
        if (!f)
            return;
    }
    if (!pbmsg_present(msg, f))
        return;
    char *base = (char *)msg;
    void *member = base + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        free(*(char **)member);
        *(char **)member = NULL;
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        protobuf_c_message_free_unpacked(*(ProtobufCMessage **)member, NULL);
        *(ProtobufCMessage **)member = NULL;
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = member;
        const ProtobufCBinaryData *def = f->default_value;
        if (!def || b->data != def->data)
            free(b->data);
        b->data = NULL;
        b->len = 0;
        break;
    }
    default:
        break;
    }
    if (pbmsg_is_oneof(f))
        *(uint32_t *)(base + f->quantifier_offset) = 0;
    else if (!pbmsg_by_pointer(f) && f->label == PROTOBUF_C_LABEL_OPTIONAL)
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 0;
}

ProtobufCMessage *pbmsg_sub(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, int create)
{
    ProtobufCMessage **slot = pbmsg_member(msg, f);
    if (pbmsg_present(msg, f))
        return *slot;
    if (!create)
        return NULL;
    *slot = pbmsg_new(f->descriptor);
    pbmsg_mark_present(msg, f);
    return *slot;
}
