/* pbmsg: descriptor-driven access to singular fields (see pbmsg.h). */
#include "pbmsg.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
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

const ProtobufCFieldDescriptor *pbmsg_path_field(const ProtobufCMessage *msg, const char *path,
                                                 const ProtobufCMessage **owner)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    *owner = msg;
    for (;;) {
        size_t n = strcspn(path, ".");
        char name[128];
        if (n >= sizeof name)
            return NULL;
        memcpy(name, path, n);
        name[n] = '\0';
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, name);
        if (!f || !path[n])
            return f;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            return NULL;
        if (*owner)
            *owner = pbmsg_present(*owner, f) ? *(ProtobufCMessage *const *)pbmsg_member(*owner, f)
                                              : NULL;
        desc = f->descriptor;
        path += n + 1;
    }
}

/* One value of scalar field `f` stored at `p`, as text. */
static char *pbmsg_value_text(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return xasprintf("%d", *(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return xasprintf("%u", *(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return xasprintf("%lld", (long long)*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return xasprintf("%llu", (unsigned long long)*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return xasprintf("%.9g", (double)*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return xasprintf("%.17g", *(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return xstrdup(*(const protobuf_c_boolean *)p ? "true" : "false");
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
        return v ? xstrdup(v->name) : xasprintf("%d", *(const int *)p);
    }
    case PROTOBUF_C_TYPE_STRING:
        return xstrdup(*(char *const *)p);
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        size_t cap = sodium_base64_ENCODED_LEN(b->len, sodium_base64_VARIANT_ORIGINAL);
        char *out = xmalloc(cap);
        sodium_bin2base64(out, cap, b->data, b->len, sodium_base64_VARIANT_ORIGINAL);
        return out;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        break;
    }
    return NULL;
}

char *pbmsg_path_text(const ProtobufCMessage *msg, const char *path)
{
    const ProtobufCMessage *owner = NULL;
    const ProtobufCFieldDescriptor *f = pbmsg_path_field(msg, path, &owner);
    if (!f || !owner || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return pbmsg_present(owner, f) ? pbmsg_value_text(f, pbmsg_member(owner, f)) : NULL;
    size_t n = *(const size_t *)((const char *)owner + f->quantifier_offset);
    const char *values = *(char *const *)pbmsg_member(owner, f);
    char *out = NULL;
    for (size_t i = 0; i < n; i++) {
        char *v = pbmsg_value_text(f, values + i * pbmsg_value_size(f->type));
        char *joined = out ? xasprintf("%s; %s", out, v) : xstrdup(v);
        free(out);
        free(v);
        out = joined;
    }
    return out;
}
