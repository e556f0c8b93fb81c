/* Envelope decoding: every class of malformed input gets its own error,
 * never a crash or a leak (this suite also runs under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "uuid.h"

static uint8_t *pack_with(void (*tweak)(envelope_t *), size_t *len)
{
    static uint8_t id[16];
    static const uint8_t payload[] = {0x08, 0x01};
    envelope_t env;
    envelope_prepare(&env, id, "test", "concerto.common.v1.StatusRequest", payload, sizeof payload);
    if (tweak)
        tweak(&env);
    return envelope_pack(&env, len);
}

static void test_decode_round_trips_a_prepared_envelope(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *frame = pack_with(NULL, &len);
    envelope_t *env = NULL;
    assert_int_equal(envelope_decode(frame, len, ENVELOPE_DEFAULT_MAX_FRAME, &env), ENVELOPE_OK);
    assert_string_equal(env->source, "test");
    assert_string_equal(env->type, "concerto.common.v1.StatusRequest");
    assert_int_equal(env->id.len, 16);
    assert_int_equal(env->id.data[6] >> 4, 7);
    assert_true(env->has_timestamp_ms && env->timestamp_ms > 1700000000000LL);
    envelope_free(&env);
    assert_null(env);
    free(frame);
}

static void test_decode_rejects_frame_over_the_limit(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *frame = pack_with(NULL, &len);
    envelope_t *env = NULL;
    assert_int_equal(envelope_decode(frame, len, len - 1, &env), ENVELOPE_TOO_LARGE);
    assert_null(env);
    free(frame);
}

static void test_decode_rejects_garbage_and_truncation(void **state)
{
    (void)state;
    envelope_t *env = NULL;
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(envelope_decode(garbage, sizeof garbage, 1024, &env), ENVELOPE_MALFORMED);
    size_t len = 0;
    uint8_t *frame = pack_with(NULL, &len);
    /* A strict prefix never decodes into the whole envelope: it fails, or
     * it lacks the payload, which is packed last. */
    for (size_t cut = 1; cut < len; cut++) {
        int rc = envelope_decode(frame, cut, 1024, &env);
        assert_true(rc != ENVELOPE_OK || !env->has_payload || env->payload.len < 2);
        envelope_free(&env);
    }
    free(frame);
}

static void no_id(envelope_t *e)
{
    e->has_id = 0;
}
static void short_id(envelope_t *e)
{
    e->id.len = 5;
}
static void no_type(envelope_t *e)
{
    e->type = NULL;
}
static void bad_type(envelope_t *e)
{
    e->type = "has space";
}
static void dotted_type(envelope_t *e)
{
    e->type = "a..b";
}
static void long_source(envelope_t *e)
{
    static char s[ENVELOPE_MAX_TEXT_LEN + 2];
    memset(s, 'a', sizeof s - 1);
    e->source = s;
}
static void bad_utf8_actor(envelope_t *e)
{
    e->actor = "caf\xc3";
}
static void bad_correlation(envelope_t *e)
{
    e->has_correlation_id = 1;
    e->correlation_id.data = (uint8_t *)"abc";
    e->correlation_id.len = 3;
}

static void expect_error(void (*tweak)(envelope_t *), int expected)
{
    size_t len = 0;
    uint8_t *frame = pack_with(tweak, &len);
    envelope_t *env = NULL;
    assert_int_equal(envelope_decode(frame, len, 1024, &env), expected);
    assert_null(env);
    free(frame);
}

static void test_decode_names_each_bad_field(void **state)
{
    (void)state;
    expect_error(no_id, ENVELOPE_BAD_ID);
    expect_error(short_id, ENVELOPE_BAD_ID);
    expect_error(no_type, ENVELOPE_BAD_TYPE);
    expect_error(bad_type, ENVELOPE_BAD_TYPE);
    expect_error(dotted_type, ENVELOPE_BAD_TYPE);
    expect_error(long_source, ENVELOPE_BAD_FIELD);
    expect_error(bad_correlation, ENVELOPE_BAD_FIELD);
    expect_error(bad_utf8_actor, ENVELOPE_BAD_FIELD);
    assert_string_equal(envelope_error_text(ENVELOPE_BAD_ID),
                        "envelope id missing or not 16 bytes");
}

static void test_check_applies_decode_rules_to_a_nested_envelope(void **state)
{
    (void)state;
    static uint8_t id[16];
    envelope_t env;
    envelope_prepare(&env, id, "test", "concerto.common.v1.StatusRequest", NULL, 0);
    assert_int_equal(envelope_check(&env), ENVELOPE_OK);
    env.type = NULL;
    assert_int_equal(envelope_check(&env), ENVELOPE_BAD_TYPE);
    env.type = "concerto.common.v1.StatusRequest";
    bad_utf8_actor(&env);
    assert_int_equal(envelope_check(&env), ENVELOPE_BAD_FIELD);
    no_id(&env);
    assert_int_equal(envelope_check(&env), ENVELOPE_BAD_ID);
}

static void test_unpack_payload_checks_type_and_bytes(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *frame = pack_with(NULL, &len);
    envelope_t *env = NULL;
    assert_int_equal(envelope_decode(frame, len, 1024, &env), ENVELOPE_OK);
    ProtobufCMessage *msg = NULL;
    assert_int_equal(envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor, &msg),
                     ENVELOPE_WRONG_TYPE);
    assert_null(msg);
    /* 0x08 0x01 is field 1 varint: StatusRequest has no field 1, which is an
     * unknown field, kept and ignored. */
    assert_int_equal(
        envelope_unpack_payload(env, &concerto__common__v1__status_request__descriptor, &msg),
        ENVELOPE_OK);
    protobuf_c_message_free_unpacked(msg, NULL);
    env->payload.data[0] = 0xff; /* now a truncated varint tag */
    env->payload.len = 1;
    assert_int_equal(
        envelope_unpack_payload(env, &concerto__common__v1__status_request__descriptor, &msg),
        ENVELOPE_BAD_PAYLOAD);
    envelope_free(&env);
    free(frame);
}

static void test_decode_rejects_unknown_field_zero_but_keeps_others(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *frame = pack_with(NULL, &len);
    uint8_t *more = malloc(len + 2);
    memcpy(more, frame, len);
    envelope_t *env = NULL;
    more[len] = 0x78; /* field 15 = 1: unknown to this schema, kept */
    more[len + 1] = 0x01;
    assert_int_equal(envelope_decode(more, len + 2, 1024, &env), ENVELOPE_OK);
    assert_int_equal(env->base.n_unknown_fields, 1);
    envelope_free(&env);
    more[len] = 0x00; /* field 0: not valid protobuf */
    int rc = envelope_decode(more, len + 2, 1024, &env);
    assert_int_equal(rc, ENVELOPE_MALFORMED);
    assert_null(env);
    free(more);
    free(frame);
}

static void test_id_hex_is_32_lowercase_digits(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *frame = pack_with(NULL, &len);
    envelope_t *env = NULL;
    envelope_decode(frame, len, 1024, &env);
    char hex[33];
    envelope_id_hex(env, hex);
    assert_int_equal(strlen(hex), 32);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 32);
    envelope_free(&env);
    free(frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_round_trips_a_prepared_envelope),
        cmocka_unit_test(test_decode_rejects_frame_over_the_limit),
        cmocka_unit_test(test_decode_rejects_garbage_and_truncation),
        cmocka_unit_test(test_decode_names_each_bad_field),
        cmocka_unit_test(test_check_applies_decode_rules_to_a_nested_envelope),
        cmocka_unit_test(test_unpack_payload_checks_type_and_bytes),
        cmocka_unit_test(test_decode_rejects_unknown_field_zero_but_keeps_others),
        cmocka_unit_test(test_id_hex_is_32_lowercase_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
