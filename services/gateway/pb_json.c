/* pb_json: the JSON <-> protobuf mapping, written once against protobuf-c's
 * descriptors (see pb_json.h for the rules).
 *
 * Messages built here are laid out exactly as protobuf_c_message_unpack
 * lays them out with the default allocator: the message, every string,
 * bytes buffer, repeated array and sub-message are separate malloc blocks,
 * strings and bytes still at their declared default point at the
 * descriptor's static default (which free_unpacked skips), and only the
 * selected member of a oneof is set. Every intermediate state is one
 * free_unpacked can release, so an error anywhere just frees the root. */
#include "pb_json.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "text.h"
#include "xalloc.h"

#define MEMBER(msg, offset) ((void *)((char *)(msg) + (offset)))
#define CMEMBER(msg, offset) ((const void *)((const char *)(msg) + (offset)))

/* Reals beyond this are not exact integers, so they cannot fill a 64-bit
 * field faithfully. */
#define MAX_EXACT_REAL 9007199254740992.0 /* 2^53 */

typedef union {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    protobuf_c_boolean b;
    int e;
    char *s;
    ProtobufCBinaryData bd;
    ProtobufCMessage *m;
} value_t;

/* The field path being converted, for error messages. */
typedef struct {
    char path[sizeof(((pb_json_error_t *)0)->field)];
    size_t len;
    pb_json_error_t *err;
} ctx_t;

/* --- names and paths --- */

/* protoc's JSON name: drop each '_' and upper-case the letter after it. */
static int json_name_equals(const char *proto_name, const char *key)
{
    int upper_next = 0;
    for (const char *p = proto_name; *p; p++) {
        if (*p == '_') {
            upper_next = 1;
            continue;
        }
        char c = upper_next ? (char)toupper((unsigned char)*p) : *p;
        upper_next = 0;
        if (*key++ != c)
            return 0;
    }
    return *key == '\0';
}

static size_t json_name_write(const char *proto_name, char *out, size_t cap)
{
    size_t n = 0;
    int upper_next = 0;
    for (const char *p = proto_name; *p; p++) {
        if (*p == '_') {
            upper_next = 1;
            continue;
        }
        if (n + 1 < cap)
            out[n] = upper_next ? (char)toupper((unsigned char)*p) : *p;
        n++;
        upper_next = 0;
    }
    if (cap > 0)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

const ProtobufCFieldDescriptor *pb_json_find_field(const ProtobufCMessageDescriptor *desc,
                                                   const char *name)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (json_name_equals(f->name, name) || strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

/* Appends `n` bytes of client-supplied text to the path, whole UTF-8
 * characters only ('?' for a bad byte or a control character), stopping
 * when full. */
static void path_append(ctx_t *ctx, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = p[i] < 0x20 ? 0 : text_char_len(s + i, n - i);
        const char *src = k ? s + i : "?";
        size_t w = k ? k : 1;
        if (ctx->len + w >= sizeof(ctx->path))
            break;
        memcpy(ctx->path + ctx->len, src, w);
        ctx->len += w;
        i += w;
    }
    ctx->path[ctx->len] = '\0';
}

/* Enters a field; returns the mark path_pop restores. */
static size_t path_push_key(ctx_t *ctx, const char *key, size_t n)
{
    size_t mark = ctx->len;
    if (ctx->len > 0)
        path_append(ctx, ".", 1);
    path_append(ctx, key, n);
    return mark;
}

static size_t path_push_field(ctx_t *ctx, const ProtobufCFieldDescriptor *f)
{
    char name[128];
    size_t n = json_name_write(f->name, name, sizeof(name));
    return path_push_key(ctx, name, n < sizeof(name) ? n : sizeof(name) - 1);
}

static size_t path_push_index(ctx_t *ctx, size_t i)
{
    size_t mark = ctx->len;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "[%zu]", i);
    path_append(ctx, buf, (size_t)n);
    return mark;
}

static void path_pop(ctx_t *ctx, size_t mark)
{
    ctx->len = mark;
    ctx->path[mark] = '\0';
}

__attribute__((format(printf, 2, 3))) static int fail(ctx_t *ctx, const char *fmt, ...)
{
    pb_json_error_t *err = ctx->err;
    memcpy(err->field, ctx->path, ctx->len + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* --- field layout --- */

static int is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* proto2 optional scalars and bytes carry a has_ flag; strings and
 * messages are present when their pointer is set. */
static int has_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_oneof(f) &&
           f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

static uint32_t oneof_case(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    return *(const uint32_t *)CMEMBER(msg, f->quantifier_offset);
}

static const void *default_bytes_data(const ProtobufCFieldDescriptor *f)
{
    const ProtobufCBinaryData *def = f->default_value;
    return def ? def->data : NULL;
}

/* Frees what a singular field owns, as free_unpacked would; the caller
 * overwrites the field next. */
static void release_value(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    void *p = MEMBER(msg, f->offset);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        char *s = *(char **)p;
        if (s != f->default_value)
            free(s);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = p;
        if (bd->data != default_bytes_data(f))
            free(bd->data);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *m = *(ProtobufCMessage **)p;
        if (m != f->default_value)
            protobuf_c_message_free_unpacked(m, NULL);
        break;
    }
    default:
        break;
    }
}

/* Stores `v` (whose storage the message takes) in singular field f,
 * releasing what was there, or, for a oneof, the member that was set. */
static void store_singular(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                           const value_t *v)
{
    if (is_oneof(f)) {
        uint32_t *which = MEMBER(msg, f->quantifier_offset);
        if (*which != 0) {
            const ProtobufCFieldDescriptor *old =
                protobuf_c_message_descriptor_get_field(msg->descriptor, *which);
            assert(old != NULL);
            release_value(msg, old);
        }
        *which = f->id;
    } else {
        release_value(msg, f);
        if (has_flag(f))
            *(protobuf_c_boolean *)MEMBER(msg, f->quantifier_offset) = 1;
    }
    memcpy(MEMBER(msg, f->offset), v, pbmsg_value_size(f->type));
}

/* Appends `v` to repeated field f (the message takes its storage). */
static void store_append(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const value_t *v)
{
    size_t *n = MEMBER(msg, f->quantifier_offset);
    void **arr = MEMBER(msg, f->offset);
    size_t sz = pbmsg_value_size(f->type);
    *arr = xrealloc(*arr, (*n + 1) * sz);
    memcpy((char *)*arr + *n * sz, v, sz);
    (*n)++;
}

ProtobufCMessage *pb_json_message_new(const ProtobufCMessageDescriptor *desc)
{
    assert(desc != NULL && desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    ProtobufCMessage *msg = xmalloc(desc->sizeof_message);
    protobuf_c_message_init(desc, msg);
    return msg;
}

/* --- JSON -> values --- */

static const char *type_name(ProtobufCType type)
{
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
        [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
        [PROTOBUF_C_TYPE_MESSAGE] = "message",
    };
    return names[type];
}

/* Reads a JSON integer, integral real or decimal string as sign and
 * magnitude. */
static int read_integer(ctx_t *ctx, const ProtobufCFieldDescriptor *f, const json_t *j, int *neg,
                        uint64_t *mag)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        *neg = v < 0;
        *mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        return 0;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (d != trunc(d))
            return fail(ctx, "expected an integer, got a number with a fraction");
        if (fabs(d) > MAX_EXACT_REAL)
            return fail(ctx, "number too large to be exact; send it as a decimal string");
        *neg = d < 0;
        *mag = (uint64_t)fabs(d);
        return 0;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        size_t len = json_string_length(j);
        *neg = s[0] == '-';
        const char *digits = s + *neg;
        size_t nd = len - (size_t)*neg;
        if (nd == 0 || strspn(digits, "0123456789") != nd)
            return fail(ctx, "expected an integer or a decimal string");
        errno = 0;
        *mag = strtoull(digits, NULL, 10);
        if (errno == ERANGE)
            return fail(ctx, "value out of range for %s", type_name(f->type));
        return 0;
    }
    return fail(ctx, "expected an integer");
}

static int read_int(ctx_t *ctx, const ProtobufCFieldDescriptor *f, const json_t *j, value_t *v)
{
    int neg = 0;
    uint64_t mag = 0;
    if (read_integer(ctx, f, j, &neg, &mag) < 0)
        return -1;
    /* Negation in unsigned arithmetic: defined for INT64_MIN too. */
    uint64_t bits = neg ? 0 - mag : mag;
    int ok;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        ok = neg ? mag <= (uint64_t)INT32_MAX + 1 : mag <= INT32_MAX;
        v->i32 = ok ? (int32_t)(int64_t)bits : 0;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        ok = neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= INT64_MAX;
        v->i64 = (int64_t)bits;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        ok = (!neg || mag == 0) && mag <= UINT32_MAX;
        v->u32 = (uint32_t)mag;
        break;
    default:
        ok = !neg || mag == 0;
        v->u64 = mag;
        break;
    }
    if (!ok)
        return fail(ctx, "value out of range for %s", type_name(f->type));
    return 0;
}

static int read_real(ctx_t *ctx, const ProtobufCFieldDescriptor *f, const json_t *j, value_t *v)
{
    double d;
    if (json_is_integer(j)) {
        d = (double)json_integer_value(j);
    } else if (json_is_real(j)) {
        d = json_real_value(j);
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        size_t len = json_string_length(j);
        if (strlen(s) != len)
            return fail(ctx, "expected a number");
        if (strcmp(s, "NaN") == 0) {
            d = NAN;
        } else if (strcmp(s, "Infinity") == 0) {
            d = INFINITY;
        } else if (strcmp(s, "-Infinity") == 0) {
            d = -INFINITY;
        } else {
            /* Plain decimal text only: strtod would also take hex, "inf"
             * and leading spaces. */
            char *end;
            if (len == 0 || strspn(s, "0123456789+-.eE") != len)
                return fail(ctx, "expected a number");
            errno = 0;
            d = strtod(s, &end);
            if (*end != '\0')
                return fail(ctx, "expected a number");
            if (errno == ERANGE && isinf(d))
                return fail(ctx, "value out of range for %s", type_name(f->type));
        }
    } else {
        return fail(ctx, "expected a number");
    }
    if (f->type == PROTOBUF_C_TYPE_FLOAT) {
        if (isfinite(d) && fabs(d) > FLT_MAX)
            return fail(ctx, "value out of range for float");
        v->f = (float)d;
    } else {
        v->d = d;
    }
    return 0;
}

/* The enum's value prefix, as in Color -> "COLOR_": upper snake case of the
 * enum's short name. */
static void enum_prefix(const ProtobufCEnumDescriptor *ed, char *out, size_t cap)
{
    size_t n = 0;
    const char *s = ed->short_name;
    for (size_t i = 0; s[i] && n + 2 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i > 0 && isupper(c) && !isupper((unsigned char)s[i - 1]))
            out[n++] = '_';
        if (n + 2 < cap)
            out[n++] = (char)toupper(c);
    }
    out[n++] = '_';
    out[n] = '\0';
}

static int read_enum(ctx_t *ctx, const ProtobufCFieldDescriptor *f, const json_t *j, value_t *v)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    if (!json_is_string(j))
        return fail(ctx, "expected the name of a %s value", ed->name);
    const char *s = json_string_value(j);
    const ProtobufCEnumValue *ev = NULL;
    if (strlen(s) == json_string_length(j)) {
        ev = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
        if (ev == NULL) {
            char full[256];
            enum_prefix(ed, full, sizeof(full));
            size_t plen = strlen(full);
            if (plen + strlen(s) < sizeof(full)) {
                memcpy(full + plen, s, strlen(s) + 1);
                ev = protobuf_c_enum_descriptor_get_value_by_name(ed, full);
            }
        }
    }
    if (ev == NULL)
        return fail(ctx, "not a value of %s", ed->name);
    v->e = ev->value;
    return 0;
}

static int read_string(ctx_t *ctx, const json_t *j, value_t *v)
{
    if (!json_is_string(j))
        return fail(ctx, "expected a string");
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (memchr(s, '\0', len) != NULL)
        return fail(ctx, "must not contain NUL characters");
    if (!text_valid(s, len))
        return fail(ctx, "is not valid UTF-8");
    v->s = xstrndup(s, len);
    return 0;
}

static int read_bytes(ctx_t *ctx, const json_t *j, value_t *v)
{
    static const int variants[] = {
        sodium_base64_VARIANT_ORIGINAL,
        sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE,
        sodium_base64_VARIANT_URLSAFE_NO_PADDING,
    };
    if (!json_is_string(j))
        return fail(ctx, "expected a base64 string");
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (len == 0) {
        v->bd.len = 0;
        v->bd.data = NULL; /* as protobuf-c's unpacker leaves empty bytes */
        return 0;
    }
    size_t cap = len / 4 * 3 + 3;
    unsigned char *bin = xmalloc(cap);
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        size_t n;
        if (sodium_base642bin(bin, cap, s, len, NULL, &n, NULL, variants[i]) == 0) {
            if (n == 0) {
                free(bin);
                bin = NULL;
            }
            v->bd.len = n;
            v->bd.data = bin;
            return 0;
        }
    }
    free(bin);
    return fail(ctx, "expected a base64 string");
}

/* Reads one non-message value of field f's type. On success the caller
 * owns v's storage (strings, bytes). */
static int read_value(ctx_t *ctx, const ProtobufCFieldDescriptor *f, const json_t *j, value_t *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return read_real(ctx, f, j, v);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(j))
            return fail(ctx, "expected true or false");
        v->b = json_is_true(j);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return read_enum(ctx, f, j, v);
    case PROTOBUF_C_TYPE_STRING:
        return read_string(ctx, j, v);
    case PROTOBUF_C_TYPE_BYTES:
        return read_bytes(ctx, j, v);
    case PROTOBUF_C_TYPE_MESSAGE:
        assert(!"messages are read by read_message");
        return -1;
    default:
        return read_int(ctx, f, j, v);
    }
}

static int read_message(ctx_t *ctx, const json_t *j, const ProtobufCMessageDescriptor *desc,
                        int depth, ProtobufCMessage **out);

/* Reads a field's element: a value or, for message fields, a message. */
static int read_element(ctx_t *ctx, const ProtobufCFieldDescriptor *f, const json_t *j, int depth,
                        value_t *v)
{
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return read_message(ctx, j, f->descriptor, depth + 1, &v->m);
    return read_value(ctx, f, j, v);
}

static int read_repeated(ctx_t *ctx, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                         const json_t *j, int depth)
{
    if (!json_is_array(j))
        return fail(ctx, "expected an array of %s", type_name(f->type));
    size_t n = json_array_size(j);
    if (n > PB_JSON_MAX_ARRAY)
        return fail(ctx, "more than %d elements", PB_JSON_MAX_ARRAY);
    if (n == 0)
        return 0;
    /* Sized once, filled in place: the count only ever covers elements
     * that are complete, so an error leaves a freeable message. */
    size_t sz = pbmsg_value_size(f->type);
    size_t *count = MEMBER(msg, f->quantifier_offset);
    char *arr = xcalloc(n, sz);
    *(void **)MEMBER(msg, f->offset) = arr;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t mark = path_push_index(ctx, i);
        const json_t *e = json_array_get(j, i);
        value_t v;
        if (json_is_null(e))
            return fail(ctx, "null is not allowed in an array");
        if (read_element(ctx, f, e, depth, &v) < 0)
            return -1;
        memcpy(arr + i * sz, &v, sz);
        (*count)++;
        path_pop(ctx, mark);
    }
    return 0;
}

/* Fills `msg` from the members of object `j`. */
static int read_fields(ctx_t *ctx, ProtobufCMessage *msg, const json_t *j, int depth)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    unsigned char seen_small[64];
    unsigned char *seen =
        desc->n_fields <= sizeof(seen_small) ? seen_small : xmalloc(desc->n_fields);
    memset(seen, 0, desc->n_fields);
    int rc = 0;
    const char *key;
    size_t key_len;
    json_t *val;

    json_object_keylen_foreach((json_t *)j, key, key_len, val)
    {
        const ProtobufCFieldDescriptor *f =
            strlen(key) == key_len ? pb_json_find_field(desc, key) : NULL;
        size_t mark = f ? path_push_field(ctx, f) : path_push_key(ctx, key, key_len);
        if (f == NULL) {
            rc = fail(ctx, "unknown field");
            break;
        }
        size_t idx = (size_t)(f - desc->fields);
        if (seen[idx]) {
            rc = fail(ctx, "given twice (as JSON name and proto name)");
            break;
        }
        seen[idx] = 1;
        if (json_is_null(val)) {
            path_pop(ctx, mark);
            continue;
        }
        if (is_oneof(f) && oneof_case(msg, f) != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(desc, oneof_case(msg, f));
            char other_name[128];
            json_name_write(other->name, other_name, sizeof(other_name));
            rc = fail(ctx, "only one of a oneof may be set, and %s is set already", other_name);
            break;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            rc = read_repeated(ctx, msg, f, val, depth);
        } else {
            value_t v;
            rc = read_element(ctx, f, val, depth, &v);
            if (rc == 0)
                store_singular(msg, f, &v);
        }
        if (rc < 0)
            break;
        path_pop(ctx, mark);
    }
    if (seen != seen_small)
        free(seen);
    return rc;
}

static int read_message(ctx_t *ctx, const json_t *j, const ProtobufCMessageDescriptor *desc,
                        int depth, ProtobufCMessage **out)
{
    *out = NULL;
    if (depth > PB_JSON_MAX_DEPTH)
        return fail(ctx, "messages nested more than %d deep", PB_JSON_MAX_DEPTH);
    if (!json_is_object(j))
        return fail(ctx, "expected an object (%s)", desc->name);
    ProtobufCMessage *msg = pb_json_message_new(desc);
    if (read_fields(ctx, msg, j, depth) < 0) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return -1;
    }
    *out = msg;
    return 0;
}

int pb_json_to_message(const json_t *json, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **out, pb_json_error_t *err)
{
    assert(desc != NULL && out != NULL);
    pb_json_error_t scratch;
    ctx_t ctx = {.len = 0, .err = err ? err : &scratch};
    ctx.path[0] = '\0';
    if (json == NULL) {
        *out = NULL;
        return fail(&ctx, "expected an object (%s)", desc->name);
    }
    return read_message(&ctx, json, desc, 1, out);
}

/* --- from text --- */

int pb_json_set_field_from_string(ProtobufCMessage *msg, const char *name, const char *value,
                                  pb_json_error_t *err)
{
    assert(msg != NULL && name != NULL && value != NULL);
    pb_json_error_t scratch;
    ctx_t ctx = {.len = 0, .err = err ? err : &scratch};
    ctx.path[0] = '\0';
    const ProtobufCFieldDescriptor *chain[PB_JSON_MAX_DEPTH];
    size_t depth = 0;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    /* Resolve the whole path and read the value before touching msg, so a
     * failure leaves it as it was. */
    for (const char *seg = name;;) {
        size_t n = strcspn(seg, ".");
        char part[128];
        const ProtobufCFieldDescriptor *f = NULL;
        if (n < sizeof(part)) {
            memcpy(part, seg, n);
            part[n] = '\0';
            f = pb_json_find_field(desc, part);
        }
        if (f == NULL) {
            path_push_key(&ctx, seg, n);
            return fail(&ctx, "unknown field");
        }
        path_push_field(&ctx, f);
        if (depth == PB_JSON_MAX_DEPTH)
            return fail(&ctx, "messages nested more than %d deep", PB_JSON_MAX_DEPTH);
        chain[depth++] = f;
        if (seg[n] == '\0')
            break;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            return fail(&ctx, "has no fields: not a singular message");
        desc = f->descriptor;
        seg += n + 1;
    }
    const ProtobufCFieldDescriptor *f = chain[depth - 1];
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return fail(&ctx, "a message cannot be set from text");

    json_t *j;
    if (f->type == PROTOBUF_C_TYPE_BOOL) {
        int t = strcmp(value, "true") == 0;
        if (!t && strcmp(value, "false") != 0)
            return fail(&ctx, "expected true or false");
        j = json_boolean(t);
    } else {
        /* Unchecked: read_value validates UTF-8 itself, with a clearer
         * message than a NULL from json_string. */
        j = json_stringn_nocheck(value, strlen(value));
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t parent_n = 0;
        const ProtobufCMessage *m = msg;
        for (size_t i = 0; i + 1 < depth && m != NULL; i++) {
            const ProtobufCFieldDescriptor *c = chain[i];
            int selected = !is_oneof(c) || oneof_case(m, c) == c->id;
            m = selected ? *(ProtobufCMessage *const *)CMEMBER(m, c->offset) : NULL;
        }
        if (m != NULL)
            parent_n = *(const size_t *)CMEMBER(m, f->quantifier_offset);
        if (parent_n >= PB_JSON_MAX_ARRAY) {
            json_decref(j);
            return fail(&ctx, "more than %d elements", PB_JSON_MAX_ARRAY);
        }
    }
    value_t v;
    int rc = read_value(&ctx, f, j, &v);
    json_decref(j);
    if (rc < 0)
        return -1;

    for (size_t i = 0; i + 1 < depth; i++) {
        const ProtobufCFieldDescriptor *c = chain[i];
        ProtobufCMessage *sub = *(ProtobufCMessage **)MEMBER(msg, c->offset);
        if ((is_oneof(c) && oneof_case(msg, c) != c->id) || sub == NULL) {
            value_t mv = {.m = pb_json_message_new(c->descriptor)};
            store_singular(msg, c, &mv);
            sub = mv.m;
        }
        msg = sub;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        store_append(msg, f, &v);
    else
        store_singular(msg, f, &v);
    return 0;
}

/* --- message -> JSON --- */

json_t *pb_json_text(const char *s, size_t len)
{
    if (text_valid(s, len))
        return json_stringn_nocheck(s, len); /* checked just above */
    char *buf = xmalloc(len * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = text_char_len(s + i, len - i);
        if (k == 0) {
            memcpy(buf + n, "\xEF\xBF\xBD", 3);
            n += 3;
            i++;
        } else {
            memcpy(buf + n, s + i, k);
            n += k;
            i += k;
        }
    }
    json_t *j = json_stringn_nocheck(buf, n); /* repaired above */
    free(buf);
    return j;
}

static json_t *real_to_json(double d, int is_float)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    if (is_float) {
        /* The shortest decimal that reads back as the same float, so 0.1f
         * is 0.1 rather than 0.10000000149011612. */
        char buf[32];
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, sizeof(buf), "%.*g", prec, d);
            if (strtof(buf, NULL) == (float)d)
                break;
        }
        d = strtod(buf, NULL);
    }
    return json_real(d);
}

static json_t *bytes_to_json(const ProtobufCBinaryData *bd)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    size_t cap = sodium_base64_ENCODED_LEN(bd->len, variant);
    char *b64 = xmalloc(cap);
    sodium_bin2base64(b64, cap, bd->data, bd->len, variant);
    json_t *j = json_string(b64);
    free(b64);
    return j;
}

static json_t *message_to_json(const ProtobufCMessage *msg, int depth);

static json_t *value_to_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t u = *(const uint64_t *)p;
        if (u <= INT64_MAX)
            return json_integer((json_int_t)u);
        char buf[24];
        snprintf(buf, sizeof(buf), "%" PRIu64, u);
        return json_string(buf);
    }
    case PROTOBUF_C_TYPE_FLOAT:
        return real_to_json(*(const float *)p, 1);
    case PROTOBUF_C_TYPE_DOUBLE:
        return real_to_json(*(const double *)p, 0);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int e = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, e);
        return ev ? json_string(ev->name) : json_integer(e);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return s ? pb_json_text(s, strlen(s)) : json_string_nocheck("");
    }
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_to_json(p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
        return m ? message_to_json(m, depth + 1) : json_object();
    }
    }
    return NULL;
}

static int is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const void *p = CMEMBER(msg, f->offset);
    if (is_oneof(f))
        return oneof_case(msg, f) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return 1; /* an empty list is [], so a client never tests for absence */
    if (has_flag(f))
        return *(const protobuf_c_boolean *)CMEMBER(msg, f->quantifier_offset);
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(const char *const *)p;
        if (s == NULL || s == f->default_value)
            return 0;
        return f->label != PROTOBUF_C_LABEL_NONE || s[0] != '\0';
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(const void *const *)p != NULL;
    if (f->label == PROTOBUF_C_LABEL_NONE) {
        /* proto3 without presence: emitted when not the zero value. */
        static const unsigned char zero[sizeof(ProtobufCBinaryData)];
        if (f->type == PROTOBUF_C_TYPE_BYTES)
            return ((const ProtobufCBinaryData *)p)->len > 0;
        return memcmp(p, zero, pbmsg_value_size(f->type)) != 0;
    }
    return 1;
}

static json_t *message_to_json(const ProtobufCMessage *msg, int depth)
{
    if (depth > PB_JSON_MAX_DEPTH)
        return NULL;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *obj = json_object();
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (!is_present(msg, f))
            continue;
        json_t *v;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)CMEMBER(msg, f->quantifier_offset);
            const char *arr = *(const char *const *)CMEMBER(msg, f->offset);
            size_t sz = pbmsg_value_size(f->type);
            v = json_array();
            for (size_t k = 0; k < n && v != NULL; k++) {
                json_t *e = value_to_json(f, arr + k * sz, depth);
                if (e == NULL || json_array_append_new(v, e) < 0) {
                    json_decref(v);
                    v = NULL;
                }
            }
        } else {
            v = value_to_json(f, CMEMBER(msg, f->offset), depth);
        }
        char small[128];
        size_t n = json_name_write(f->name, small, sizeof(small));
        char *key = small;
        if (n >= sizeof(small)) {
            key = xmalloc(n + 1);
            json_name_write(f->name, key, n + 1);
        }
        /* Keys are field names made lowerCamelCase: ASCII. */
        int rc = v ? json_object_set_new_nocheck(obj, key, v) : -1;
        if (key != small)
            free(key);
        if (rc < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *pb_json_from_message(const ProtobufCMessage *msg)
{
    assert(msg != NULL && msg->descriptor != NULL);
    return message_to_json(msg, 1);
}
