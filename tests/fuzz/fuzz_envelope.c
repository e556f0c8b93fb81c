/* libFuzzer target for envelope_decode: every frame a socket delivers goes
 * through it. A frame it accepts must have the fields peers rely on and
 * must pack and decode again to the same envelope. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "uuid.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    envelope_t *env = (envelope_t *)&env;
    int rc = envelope_decode(data, size, 4096, &env);
    CHECK(envelope_error_text(rc) != NULL);
    if (rc != ENVELOPE_OK) {
        CHECK(rc < 0 && env == NULL);
        return 0;
    }
    CHECK(env != NULL && env->has_id && env->id.len == UUID_LEN && env->type != NULL);
    CHECK(strlen(env->type) <= ENVELOPE_MAX_TYPE_LEN);
    char hex[33];
    envelope_id_hex(env, hex);
    CHECK(strlen(hex) == 32);

    /* Re-packing is only checked without unknown fields: protobuf-c 1.4
     * keeps some it should have refused (field number 0) and then writes
     * bytes its own unpacker rejects. */
    if (env->base.n_unknown_fields == 0) {
        size_t len, len2;
        uint8_t *packed = envelope_pack(env, &len);
        envelope_t *again = NULL;
        CHECK(envelope_decode(packed, len, len, &again) == ENVELOPE_OK);
        uint8_t *packed2 = envelope_pack(again, &len2);
        CHECK(len2 == len && memcmp(packed, packed2, len) == 0);
        free(packed2);
        free(packed);
        envelope_free(&again);
    }

    ProtobufCMessage *reply = NULL;
    rc = envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor, &reply);
    CHECK((rc == ENVELOPE_OK) == (reply != NULL));
    protobuf_c_message_free_unpacked(reply, NULL);

    envelope_free(&env);
    CHECK(env == NULL);
    return 0;
}
