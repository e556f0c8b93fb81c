/* envelope: packing and checked unpacking of the wire Envelope.
 *
 * Everything read from a socket goes through envelope_decode, which bounds
 * the size and checks the fields every peer relies on, so that handlers only
 * ever see well-formed envelopes. Decoded envelopes belong to the caller and
 * are freed with envelope_free. */
#ifndef CONCERTO_ENVELOPE_H
#define CONCERTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "concerto/common/v1/envelope.pb-c.h"

typedef Concerto__Common__V1__Envelope envelope_t;

#define ENVELOPE_DEFAULT_MAX_FRAME (1024 * 1024)
#define ENVELOPE_MAX_TYPE_LEN 200
#define ENVELOPE_MAX_TEXT_LEN 256 /* source, actor, key, caller, scopes, format, tags */
#define ENVELOPE_MAX_TAGS 32      /* entity tags of If-None-Match */

typedef enum {
    ENVELOPE_OK = 0,
    ENVELOPE_TOO_LARGE = -1,   /* frame over the configured maximum */
    ENVELOPE_MALFORMED = -2,   /* not a protobuf Envelope */
    ENVELOPE_BAD_ID = -3,      /* id missing or not 16 bytes */
    ENVELOPE_BAD_TYPE = -4,    /* type missing, too long or not a type name */
    ENVELOPE_BAD_FIELD = -5,   /* correlation id, source, actor, key, caller... out of bounds */
    ENVELOPE_WRONG_TYPE = -6,  /* payload is not of the expected message type */
    ENVELOPE_BAD_PAYLOAD = -7, /* payload bytes do not decode as their type */
} envelope_error_t;

const char *envelope_error_text(int err);

/* Decodes and validates one frame. On success *out is a new envelope the
 * caller frees; on failure *out is NULL and the result says why. */
int envelope_decode(const void *frame, size_t len, size_t max_frame, envelope_t **out);
void envelope_free(envelope_t **self_p);

/* The checks of envelope_decode, for an envelope that was unpacked as part
 * of another message (a replay page's events): ENVELOPE_OK or why not. */
int envelope_check(const envelope_t *env);

/* Initialises `env` on the caller's storage with a fresh UUIDv7 written to
 * `id_storage`, the current time, and borrowed pointers to `source` and the
 * payload. Nothing is allocated; `env` lives as long as what it points to. */
void envelope_prepare(envelope_t *env, uint8_t id_storage[16], const char *source, const char *type,
                      const uint8_t *payload, size_t payload_len);

/* Packs `env` into a new buffer the caller frees; sets *len. */
uint8_t *envelope_pack(const envelope_t *env, size_t *len);

/* Packs `msg` into a new buffer the caller frees; sets *len. */
uint8_t *message_pack(const ProtobufCMessage *msg, size_t *len);

/* Unpacks the payload as `desc`, checking the envelope's type name first.
 * Returns ENVELOPE_OK and a message the caller frees with
 * protobuf_c_message_free_unpacked, or an error and NULL. */
int envelope_unpack_payload(const envelope_t *env, const ProtobufCMessageDescriptor *desc,
                            ProtobufCMessage **out);

/* Lower-case hex of the envelope id, the default idempotency key. */
void envelope_id_hex(const envelope_t *env, char out[33]);

#endif
