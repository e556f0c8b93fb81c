/* envelope: packing and checked unpacking of the wire Envelope (see
 * envelope.h). */
#include "envelope.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "caller.h"
#include "text.h"
#include "uuid.h"
#include "xalloc.h"

const char *envelope_error_text(int err)
{
    switch (err) {
    case ENVELOPE_OK:
        return "ok";
    case ENVELOPE_TOO_LARGE:
        return "frame larger than the maximum";
    case ENVELOPE_MALFORMED:
        return "frame is not a protobuf Envelope";
    case ENVELOPE_BAD_ID:
        return "envelope id missing or not 16 bytes";
    case ENVELOPE_BAD_TYPE:
        return "envelope type missing or not a message type name";
    case ENVELOPE_BAD_FIELD:
        return "envelope correlation id, source, actor, idempotency key, caller, format or "
               "entity tags out of bounds";
    case ENVELOPE_WRONG_TYPE:
        return "payload is not of the expected type";
    case ENVELOPE_BAD_PAYLOAD:
        return "payload does not decode as its type";
    default:
        return "unknown envelope error";
    }
}

/* A full protobuf name: dot-separated identifiers. */
static int envelope_type_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > ENVELOPE_MAX_TYPE_LEN || t[0] == '.' || t[n - 1] == '.')
        return 0;
    for (const char *p = t; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (c == '.' && p[1] != '.');
        if (!ok)
            return 0;
    }
    return 1;
}

/* Bounded and valid UTF-8 (protobuf-c does not check proto2 strings). */
static int envelope_text_valid(const char *s)
{
    if (!s)
        return 1;
    size_t n = strlen(s);
    return n <= ENVELOPE_MAX_TEXT_LEN && text_valid(s, n);
}

/* protobuf-c keeps an unknown field numbered 0, which no encoder can
 * produce and which would not survive re-packing; other unknown fields are
 * kept, as schema evolution needs. */
static int envelope_unknown_fields_valid(const envelope_t *env)
{
    for (unsigned i = 0; i < env->base.n_unknown_fields; i++)
        if (env->base.unknown_fields[i].tag == 0)
            return 0;
    return 1;
}

int envelope_check(const envelope_t *env)
{
    if (!envelope_unknown_fields_valid(env))
        return ENVELOPE_MALFORMED;
    if (!env->has_id || env->id.len != UUID_LEN)
        return ENVELOPE_BAD_ID;
    if (!env->type || !envelope_type_valid(env->type))
        return ENVELOPE_BAD_TYPE;
    if ((env->has_correlation_id && env->correlation_id.len != UUID_LEN) ||
        !envelope_text_valid(env->source) || !envelope_text_valid(env->actor) ||
        !envelope_text_valid(env->idempotency_key) || !envelope_text_valid(env->format) ||
        (env->caller && !caller_check(env->caller, envelope_text_valid)) ||
        env->n_if_none_match > ENVELOPE_MAX_TAGS)
        return ENVELOPE_BAD_FIELD;
    for (size_t i = 0; i < env->n_if_none_match; i++)
        if (!envelope_text_valid(env->if_none_match[i]))
            return ENVELOPE_BAD_FIELD;
    return ENVELOPE_OK;
}

int envelope_decode(const void *frame, size_t len, size_t max_frame, envelope_t **out)
{
    *out = NULL;
    if (len > max_frame)
        return ENVELOPE_TOO_LARGE;
    envelope_t *env = concerto__common__v1__envelope__unpack(NULL, len, frame);
    if (!env)
        return ENVELOPE_MALFORMED;
    int err = envelope_check(env);
    if (err != ENVELOPE_OK) {
        envelope_free(&env);
        return err;
    }
    *out = env;
    return ENVELOPE_OK;
}

void envelope_free(envelope_t **self_p)
{
    if (!*self_p)
        return;
    concerto__common__v1__envelope__free_unpacked(*self_p, NULL);
    *self_p = NULL;
}

static int64_t envelope_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void envelope_prepare(envelope_t *env, uint8_t id_storage[16], const char *source, const char *type,
                      const uint8_t *payload, size_t payload_len)
{
    concerto__common__v1__envelope__init(env);
    uuid7_generate(id_storage);
    env->has_id = 1;
    env->id.data = id_storage;
    env->id.len = UUID_LEN;
    env->source = (char *)source;
    env->has_timestamp_ms = 1;
    env->timestamp_ms = envelope_now_ms();
    env->type = (char *)type;
    env->has_payload = 1;
    env->payload.data = (uint8_t *)payload;
    env->payload.len = payload_len;
}

uint8_t *message_pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = xmalloc(*len);
    protobuf_c_message_pack(msg, buf);
    return buf;
}

uint8_t *envelope_pack(const envelope_t *env, size_t *len)
{
    return message_pack(&env->base, len);
}

int envelope_unpack_payload(const envelope_t *env, const ProtobufCMessageDescriptor *desc,
                            ProtobufCMessage **out)
{
    *out = NULL;
    if (!env->type || strcmp(env->type, desc->name) != 0)
        return ENVELOPE_WRONG_TYPE;
    ProtobufCMessage *msg = protobuf_c_message_unpack(
        desc, NULL, env->has_payload ? env->payload.len : 0, env->payload.data);
    if (!msg)
        return ENVELOPE_BAD_PAYLOAD;
    *out = msg;
    return ENVELOPE_OK;
}

void envelope_id_hex(const envelope_t *env, char out[33])
{
    static const char digits[] = "0123456789abcdef";
    size_t n = env->has_id ? env->id.len : 0;
    if (n > 16)
        n = 16;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[env->id.data[i] >> 4];
        out[2 * i + 1] = digits[env->id.data[i] & 15];
    }
    out[2 * n] = '\0';
}
