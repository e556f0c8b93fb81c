/* pb_json: the gateway's one translation between JSON and protobuf messages.
 *
 * Generic, driven by protobuf-c's descriptors; no per-message code. The
 * mapping follows proto3's JSON conventions, with these choices:
 * - Names: output uses lowerCamelCase of the proto field name
 *   (founding_year -> foundingYear); input accepts that and the proto name.
 * - Integers: JSON integers; decimal strings are accepted too. Numbers with
 *   a fraction, out-of-range values and (for 64-bit fields) reals beyond
 *   2^53 are rejected. uint64 values above INT64_MAX are emitted as decimal
 *   strings (and must be sent as strings: JSON parsers stop at int64).
 * - float/double: JSON numbers, or the strings "NaN", "Infinity",
 *   "-Infinity" (which is also how non-finite values are emitted).
 * - bool: only true and false.
 * - Enums: the value's name, or the name without the enum's prefix
 *   (Color.COLOR_RED accepts "COLOR_RED" and "RED"); numbers are rejected.
 *   Output is the full name, or the number for a value the schema does not
 *   know (a newer peer).
 * - bytes: standard base64 with padding on output; input also accepts it
 *   unpadded and the URL-safe alphabet.
 * - Strings must be UTF-8 without NUL. Invalid UTF-8 in a message from a
 *   service is emitted with U+FFFD in place of each bad byte.
 * - null for a field means absent; absent fields (no has_ flag, NULL, or a
 *   string still pointing at its declared default) are omitted. Repeated
 *   fields are always written, an empty one as [] ({"tables": []}, never
 *   {}), so that a client never has to test for their absence. Only one
 *   member of a oneof may be given.
 * - Unknown JSON fields are rejected. Messages nest at most PB_JSON_MAX_DEPTH
 *   deep and arrays hold at most PB_JSON_MAX_ARRAY elements.
 */
#ifndef CONCERTO_PB_JSON_H
#define CONCERTO_PB_JSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#define PB_JSON_MAX_DEPTH 32
#define PB_JSON_MAX_ARRAY 10000

/* Why a conversion failed, for the gateway's
 * {"error": {..., "fields": [{"field": .., "description": ..}]}}. Both
 * strings are valid UTF-8 (user input is sanitized), NUL-terminated, and may
 * be truncated. */
typedef struct {
    /* lowerCamelCase path of the offending field: "contact.email",
     * "contacts[2].address.postalCode"; "" for the document itself. An
     * unknown field is named as the client spelled it. */
    char field[256];
    char message[200]; /* "expected a string", "unknown field", ... */
} pb_json_error_t;

/* Builds a message of type `desc` from a JSON object. On success returns 0
 * and *out is a new message the caller frees with
 * protobuf_c_message_free_unpacked(msg, NULL). On failure returns -1, sets
 * *out to NULL and fills *err (which may be NULL). Load the JSON with
 * JSON_REJECT_DUPLICATES: otherwise jansson silently keeps the last of two
 * equal keys. */
int pb_json_to_message(const json_t *json, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **out, pb_json_error_t *err);

/* The JSON object for `msg`; the caller owns the reference. NULL only if
 * `msg` nests deeper than PB_JSON_MAX_DEPTH. */
json_t *pb_json_from_message(const ProtobufCMessage *msg);

/* An empty message of type `desc` (defaults applied), allocated like
 * protobuf-c's unpacker so that pb_json_set_field_from_string can fill it
 * and protobuf_c_message_free_unpacked(msg, NULL) frees it. */
ProtobufCMessage *pb_json_message_new(const ProtobufCMessageDescriptor *desc);

/* Sets one field of `msg` from text, as from a URL path parameter or query
 * string (GET /v1/tables?borough=x&limit=10). `name` is a JSON field name
 * (or proto name), or a dotted path into singular sub-messages
 * ("near.postalCode"), which are created as needed. The text is read as the
 * field's type: decimal numbers, true/false, enum names, base64 for bytes,
 * anything for strings. A repeated field gets the value appended; a
 * singular field is replaced (and setting a oneof member clears the
 * others). Message fields themselves cannot be set from text.
 * `msg` must be allocated as protobuf-c's unpacker does (from
 * pb_json_message_new, pb_json_to_message or protobuf_c_message_unpack
 * with the default allocator). Returns 0, or -1 with *err filled and `msg`
 * unchanged. */
int pb_json_set_field_from_string(ProtobufCMessage *msg, const char *name, const char *value,
                                  pb_json_error_t *err);

/* A JSON string of `len` bytes of text from a service, with U+FFFD in
 * place of each byte that is not part of well-formed UTF-8, and of each
 * NUL; the caller owns the reference. */
json_t *pb_json_text(const char *s, size_t len);

/* The field of `desc` whose JSON name or proto name is `name`, or NULL. */
const ProtobufCFieldDescriptor *pb_json_find_field(const ProtobufCMessageDescriptor *desc,
                                                   const char *name);

#endif
