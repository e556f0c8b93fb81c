/* UUIDv7: layout, ordering and text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "uuid.h"

static void test_generate_sets_version_variant_and_time(void **state)
{
    (void)state;
    uint8_t id[UUID_LEN];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t before = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    uuid7_generate(id);
    assert_int_equal(id[6] >> 4, 7);
    assert_int_equal(id[8] >> 6, 2);
    int64_t ms = uuid7_timestamp_ms(id);
    assert_true(ms >= before && ms < before + 1000);
}

static void test_ids_from_one_process_sort_in_creation_order(void **state)
{
    (void)state;
    uint8_t prev[UUID_LEN], next[UUID_LEN];
    uuid7_generate(prev);
    for (int i = 0; i < 100000; i++) {
        uuid7_generate(next);
        assert_true(memcmp(prev, next, UUID_LEN) < 0);
        memcpy(prev, next, UUID_LEN);
    }
}

static void test_format_and_parse_round_trip(void **state)
{
    (void)state;
    uint8_t id[UUID_LEN], back[UUID_LEN];
    char text[UUID_STR_LEN];
    uuid7_generate(id);
    uuid_format(id, text);
    assert_int_equal(strlen(text), 36);
    assert_int_equal(uuid_parse(text, back), 0);
    assert_memory_equal(id, back, UUID_LEN);
}

static void test_parse_rejects_non_uuids(void **state)
{
    (void)state;
    uint8_t out[UUID_LEN];
    assert_int_equal(uuid_parse("", out), -1);
    assert_int_equal(uuid_parse("0190a6f2-7b1c-7d2e-8f3a-4b5c6d7e8f9", out), -1);
    assert_int_equal(uuid_parse("0190a6f2x7b1c-7d2e-8f3a-4b5c6d7e8f90", out), -1);
    assert_int_equal(uuid_parse("zz90a6f2-7b1c-7d2e-8f3a-4b5c6d7e8f90", out), -1);
    assert_int_equal(uuid_parse("0190a6f2-7b1c-7d2e-8f3a-4b5c6d7e8f90", out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_sets_version_variant_and_time),
        cmocka_unit_test(test_ids_from_one_process_sort_in_creation_order),
        cmocka_unit_test(test_format_and_parse_round_trip),
        cmocka_unit_test(test_parse_rejects_non_uuids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
