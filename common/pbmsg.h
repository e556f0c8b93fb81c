/* pbmsg: reading and writing a protobuf-c message's singular fields through
 * its descriptor: where a field is stored, whether it is present, setting
 * and clearing it. What row.h, patch.h and page.h build on. proto2
 * presence: a string or message field is present when its pointer is set,
 * any other optional field when its has_ flag (or its oneof case) says so.
 * Messages are allocated and freed with the system allocator, as
 * protobuf_c_message_free_unpacked(msg, NULL) expects. */
#ifndef CONCERTO_PBMSG_H
#define CONCERTO_PBMSG_H

#include <protobuf-c/protobuf-c.h>

/* The JSON name of proto path `path` ("table.territory_id[2]" ->
 * "table.territoryId[2]": each '_' dropped and the letter after it
 * upper-cased, as protoc's json_name), into `out` (cut to `cap`). A
 * string that is not a proto path (other characters than a-z 0-9 _ . [ ])
 * is copied as it is. */
void pbmsg_json_path(const char *path, char *out, size_t cap);

/* Bytes one value of `type` takes in a message (an element of a repeated
 * field). */
size_t pbmsg_value_size(ProtobufCType type);
/* A new message of type `desc`, all fields absent. */
ProtobufCMessage *pbmsg_new(const ProtobufCMessageDescriptor *desc);
/* Where field `f` of `msg` is stored. */
static inline void *pbmsg_member(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    return (char *)msg + f->offset;
}

/* Strings and messages say their presence by their pointer alone. */
static inline int pbmsg_by_pointer(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;
}

/* 1 when singular field `f` is present in `msg`. */
static inline int pbmsg_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)msg;
    int oneof = (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
    if (oneof && *(const uint32_t *)(base + f->quantifier_offset) != f->id)
        return 0;
    if (pbmsg_by_pointer(f)) {
        const void *p = *(void *const *)(base + f->offset);
        return p != NULL && p != f->default_value;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !oneof)
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
    return 1;
}

/* Marks singular field `f` present (its value already stored, after
 * pbmsg_clear). */
static inline void pbmsg_mark_present(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    char *base = (char *)msg;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)(base + f->quantifier_offset) = f->id;
    else if (!pbmsg_by_pointer(f) && f->label == PROTOBUF_C_LABEL_OPTIONAL)
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
}

/* Frees what singular field `f` holds and makes it absent; in a oneof,
 * whichever member is set (they share their storage). */
void pbmsg_clear(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);
/* Sub-message field `f` of `msg`; created empty when absent and `create`,
 * else NULL when absent. */
ProtobufCMessage *pbmsg_sub(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, int create);

/* The field at proto path `path` ("contact.email") through singular
 * sub-messages, or NULL when the message type has none. *owner gets the
 * message holding it, NULL when a sub-message on the way is absent. */
const ProtobufCFieldDescriptor *pbmsg_path_field(const ProtobufCMessage *msg, const char *path,
                                                 const ProtobufCMessage **owner);
/* The value at `path` as text, for a person: strings as they are,
 * numbers in decimal, bools true/false, enums by name, bytes in base64;
 * a repeated field's values separated by "; ". A new string the caller
 * frees, or NULL when the value is absent (an empty repeated field too)
 * or the path names no scalar field. */
char *pbmsg_path_text(const ProtobufCMessage *msg, const char *path);

#endif
