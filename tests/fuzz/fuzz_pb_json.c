/* libFuzzer target for pb_json: bytes -> json_loadb -> pb_json_to_message
 * (for a message with every field kind, a recursive one and a request
 * built from query strings) -> back to JSON.
 *
 * Beyond "no crash, no leak, no UB", it checks what the gateway relies on:
 * a message once converted converts back to the same JSON, survives
 * protobuf packing unchanged, and error paths name the field in valid
 * UTF-8 (the gateway puts them in its error bodies). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "concerto/test/v1/jsonmap.pb-c.h"
#include "pb_json.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static void check_error_text(const pb_json_error_t *err)
{
    json_t *a = json_string(err->field);
    json_t *b = json_string(err->message);
    CHECK(a != NULL && b != NULL && err->message[0] != '\0');
    json_decref(a);
    json_decref(b);
}

/* The message's JSON, which must convert to an equal message again. */
static void check_round_trip(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *out = pb_json_from_message(msg);
    CHECK(out != NULL);

    ProtobufCMessage *again = NULL;
    pb_json_error_t err;
    CHECK(pb_json_to_message(out, desc, &again, &err) == 0);
    json_t *out2 = pb_json_from_message(again);
    CHECK(out2 != NULL && json_equal(out, out2));

    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    CHECK(protobuf_c_message_pack(msg, buf) == len);
    ProtobufCMessage *unpacked = protobuf_c_message_unpack(desc, NULL, len, buf);
    CHECK(unpacked != NULL);
    json_t *out3 = pb_json_from_message(unpacked);
    CHECK(out3 != NULL && json_equal(out, out3));

    json_decref(out3);
    protobuf_c_message_free_unpacked(unpacked, NULL);
    free(buf);
    json_decref(out2);
    protobuf_c_message_free_unpacked(again, NULL);
    json_decref(out);
}

static void fuzz_document(const json_t *json, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = NULL;
    pb_json_error_t err;
    if (pb_json_to_message(json, desc, &msg, &err) == 0) {
        check_round_trip(msg);
        protobuf_c_message_free_unpacked(msg, NULL);
    } else {
        CHECK(msg == NULL);
        check_error_text(&err);
    }
}

/* Each string member as a query parameter name=value. */
static void fuzz_query(const json_t *json, const ProtobufCMessageDescriptor *desc)
{
    if (!json_is_object(json))
        return;
    ProtobufCMessage *msg = pb_json_message_new(desc);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)json, key, val)
    {
        if (!json_is_string(val))
            continue;
        pb_json_error_t err;
        if (pb_json_set_field_from_string(msg, key, json_string_value(val), &err) < 0)
            check_error_text(&err);
    }
    check_round_trip(msg);
    protobuf_c_message_free_unpacked(msg, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *json = json_loadb((const char *)data, size,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (json == NULL)
        return 0;
    fuzz_document(json, &concerto__test__v1__all_kinds__descriptor);
    fuzz_document(json, &concerto__test__v1__node__descriptor);
    fuzz_document(json, &concerto__test__v1__list_request__descriptor);
    fuzz_query(json, &concerto__test__v1__list_request__descriptor);
    fuzz_query(json, &concerto__test__v1__all_kinds__descriptor);
    json_decref(json);
    return 0;
}
