/* Tests for msg_types: the gateway's table of message types by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/common/v1/envelope.pb-c.h"
#include "concerto/test/v1/jsonmap.pb-c.h"
#include "msg_types.h"

static void test_find_returns_descriptor_by_full_name(void **state)
{
    (void)state;
    assert_ptr_equal(msg_types_find("concerto.common.v1.Reply"),
                     &concerto__common__v1__reply__descriptor);
    assert_ptr_equal(msg_types_find("concerto.test.v1.AllKinds"),
                     &concerto__test__v1__all_kinds__descriptor);
    /* generated from every .proto: no list to keep up to date */
    const ProtobufCMessageDescriptor *d =
        msg_types_find("concerto.registry.v1.RecordAttestationRequest");
    assert_non_null(d);
    assert_string_equal(d->short_name, "RecordAttestationRequest");
}

static void test_find_rejects_unknown_and_partial_names(void **state)
{
    (void)state;
    assert_null(msg_types_find("concerto.common.v1.Nope"));
    assert_null(msg_types_find("Reply"));
    assert_null(msg_types_find("concerto.common.v1.Reply "));
    assert_null(msg_types_find(""));
}

static void test_every_entry_is_a_message_descriptor_listed_once(void **state)
{
    (void)state;
    size_t n = msg_types_count();
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const ProtobufCMessageDescriptor *d = msg_types_at(i);
        assert_int_equal(d->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
        assert_ptr_equal(msg_types_find(d->name), d);
        for (size_t k = i + 1; k < n; k++)
            assert_ptr_not_equal(msg_types_at(k), d);
    }
    assert_null(msg_types_at(n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_returns_descriptor_by_full_name),
        cmocka_unit_test(test_find_rejects_unknown_and_partial_names),
        cmocka_unit_test(test_every_entry_is_a_message_descriptor_listed_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
