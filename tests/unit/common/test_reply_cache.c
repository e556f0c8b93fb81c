/* reply_cache: answers kept at one store version, bounded in entries and
 * bytes, gone at the next version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reply_cache.h"

static const store_version_t v1 = {10, 0, 1}, v2 = {11, 0, 1};

static void key_of(uint8_t key[REPLY_CACHE_KEY_LEN], int n)
{
    memset(key, 0, REPLY_CACHE_KEY_LEN);
    memcpy(key, &n, sizeof n);
}

static void test_an_answer_is_served_again_at_its_version_only(void **state)
{
    (void)state;
    reply_cache_t *c = reply_cache_new(4, 1024);
    uint8_t k[REPLY_CACHE_KEY_LEN];
    key_of(k, 1);
    size_t len = 0;
    assert_null(reply_cache_get(c, &v1, k, &len));
    reply_cache_put(c, &v1, k, (const uint8_t *)"answer", 6);
    const uint8_t *got = reply_cache_get(c, &v1, k, &len);
    assert_non_null(got);
    assert_int_equal(len, 6);
    assert_memory_equal(got, "answer", 6);
    /* Another version: the entry is gone, and stays gone. */
    assert_null(reply_cache_get(c, &v2, k, &len));
    assert_null(reply_cache_get(c, &v1, k, &len));
    reply_cache_stats_t s = reply_cache_stats(c);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 3);
    assert_int_equal(s.kept, 1);
    assert_int_equal(s.dropped, 1);
    reply_cache_destroy(&c);
    assert_null(c);
}

static void test_rollbacks_and_other_connections_make_other_versions(void **state)
{
    (void)state;
    reply_cache_t *c = reply_cache_new(4, 1024);
    uint8_t k[REPLY_CACHE_KEY_LEN];
    key_of(k, 1);
    size_t len;
    const store_version_t rolled_back = {10, 1, 1}, other_commit = {10, 0, 2};
    reply_cache_put(c, &v1, k, (const uint8_t *)"a", 1);
    assert_null(reply_cache_get(c, &rolled_back, k, &len));
    reply_cache_put(c, &rolled_back, k, (const uint8_t *)"a", 1);
    assert_null(reply_cache_get(c, &other_commit, k, &len));
    reply_cache_destroy(&c);
}

static void test_entries_and_bytes_are_bounded(void **state)
{
    (void)state;
    reply_cache_t *c = reply_cache_new(2, 100);
    uint8_t k[REPLY_CACHE_KEY_LEN];
    size_t len;
    uint8_t big[20] = {0};
    /* Over a tenth of the bytes: never kept. */
    key_of(k, 1);
    reply_cache_put(c, &v1, k, big, 11);
    assert_null(reply_cache_get(c, &v1, k, &len));
    for (int i = 2; i <= 4; i++) {
        key_of(k, i);
        reply_cache_put(c, &v1, k, big, 10);
    }
    /* Two entries at most: the third was not kept. */
    key_of(k, 2);
    assert_non_null(reply_cache_get(c, &v1, k, &len));
    key_of(k, 3);
    assert_non_null(reply_cache_get(c, &v1, k, &len));
    key_of(k, 4);
    assert_null(reply_cache_get(c, &v1, k, &len));
    assert_int_equal(reply_cache_stats(c).kept, 2);
    reply_cache_destroy(&c);

    /* The bytes bound alone. */
    c = reply_cache_new(100, 100);
    for (int i = 1; i <= 11; i++) {
        key_of(k, i);
        reply_cache_put(c, &v1, k, big, 10);
    }
    assert_int_equal(reply_cache_stats(c).kept, 10);
    reply_cache_destroy(&c);
}

static void test_no_entries_means_no_cache(void **state)
{
    (void)state;
    reply_cache_t *c = reply_cache_new(0, 100);
    assert_null(c);
    reply_cache_destroy(&c);
    assert_int_equal(reply_cache_stats(NULL).hits, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_answer_is_served_again_at_its_version_only),
        cmocka_unit_test(test_rollbacks_and_other_connections_make_other_versions),
        cmocka_unit_test(test_entries_and_bytes_are_bounded),
        cmocka_unit_test(test_no_entries_means_no_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
