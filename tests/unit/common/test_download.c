/* Tests for download: documents kept for reading in parts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "download.h"

static uint8_t *bytes(size_t n, uint8_t seed)
{
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed + i * 7);
    return b;
}

static void test_reads_in_parts_then_forgets(void **state)
{
    (void)state;
    download_store_t *s = download_store_new(4, 1000, 60000);
    uint8_t *data = bytes(250, 3), *copy = bytes(250, 3);
    uint8_t id[DOWNLOAD_ID_LEN];
    assert_int_equal(download_store_put(s, &data, 250, 0, id), 0);
    assert_null(data);
    assert_int_equal(download_store_count(s), 1);
    assert_int_equal(download_store_bytes(s), 250);
    uint8_t got[250];
    uint64_t off = 0;
    int last = 0;
    while (!last) {
        const uint8_t *part = NULL;
        size_t n = 0;
        assert_int_equal(download_store_read(s, id, sizeof id, off, 100, 10, &part, &n, &last),
                         DOWNLOAD_OK);
        assert_true(n <= 100);
        memcpy(got + off, part, n);
        off += n;
    }
    assert_int_equal(off, 250);
    assert_memory_equal(got, copy, 250);
    /* Read to its end: forgotten. */
    assert_int_equal(download_store_count(s), 0);
    assert_int_equal(download_store_bytes(s), 0);
    const uint8_t *part = NULL;
    size_t n = 0;
    assert_int_equal(download_store_read(s, id, sizeof id, 0, 100, 10, &part, &n, &last),
                     DOWNLOAD_UNKNOWN);
    free(copy);
    download_store_destroy(&s);
    assert_null(s);
}

static void test_bad_ids_and_offsets(void **state)
{
    (void)state;
    download_store_t *s = download_store_new(4, 1000, 60000);
    uint8_t *data = bytes(10, 1);
    uint8_t id[DOWNLOAD_ID_LEN], other[DOWNLOAD_ID_LEN] = {0};
    assert_int_equal(download_store_put(s, &data, 10, 0, id), 0);
    const uint8_t *part = NULL;
    size_t n = 0;
    int last = 0;
    assert_int_equal(download_store_read(s, other, sizeof other, 0, 5, 0, &part, &n, &last),
                     DOWNLOAD_UNKNOWN);
    assert_int_equal(download_store_read(s, id, 8, 0, 5, 0, &part, &n, &last), DOWNLOAD_UNKNOWN);
    assert_int_equal(download_store_read(s, id, sizeof id, 11, 5, 0, &part, &n, &last),
                     DOWNLOAD_BAD_OFFSET);
    assert_int_equal(download_store_read(s, id, sizeof id, 8, 5, 0, &part, &n, &last), DOWNLOAD_OK);
    assert_int_equal(n, 2);
    assert_true(last);
    download_store_destroy(&s);
}

static void test_full_store_refuses(void **state)
{
    (void)state;
    download_store_t *s = download_store_new(2, 100, 60000);
    uint8_t id[DOWNLOAD_ID_LEN], id2[DOWNLOAD_ID_LEN];
    uint8_t *a = bytes(60, 1), *b = bytes(60, 2), *c = bytes(30, 3), *d = bytes(5, 4);
    assert_int_equal(download_store_put(s, &a, 60, 0, id), 0);
    assert_int_equal(download_store_put(s, &b, 60, 0, id2), -1); /* bytes */
    assert_null(b);
    assert_int_equal(download_store_put(s, &c, 30, 0, id2), 0);
    assert_int_equal(download_store_put(s, &d, 5, 0, id2), -1); /* count */
    assert_memory_not_equal(id, id2, DOWNLOAD_ID_LEN);
    download_store_release(s, id, sizeof id);
    uint8_t *e = bytes(60, 5);
    assert_int_equal(download_store_put(s, &e, 60, 0, id), 0);
    assert_int_equal(download_store_bytes(s), 90);
    download_store_destroy(&s);
}

static void test_unread_documents_expire(void **state)
{
    (void)state;
    download_store_t *s = download_store_new(4, 1000, 100);
    uint8_t id[DOWNLOAD_ID_LEN], id2[DOWNLOAD_ID_LEN];
    uint8_t *a = bytes(50, 1), *b = bytes(50, 2);
    assert_int_equal(download_store_put(s, &a, 50, 0, id), 0);
    assert_int_equal(download_store_put(s, &b, 50, 50, id2), 0);
    const uint8_t *part = NULL;
    size_t n = 0;
    int last = 0;
    /* Reading pushes the expiry back. */
    assert_int_equal(download_store_read(s, id, sizeof id, 0, 10, 90, &part, &n, &last),
                     DOWNLOAD_OK);
    assert_int_equal(download_store_expire(s, 149), 0);
    assert_int_equal(download_store_expire(s, 150), 1);
    assert_int_equal(download_store_read(s, id2, sizeof id2, 0, 10, 150, &part, &n, &last),
                     DOWNLOAD_UNKNOWN);
    assert_int_equal(download_store_expire(s, 190), 1);
    assert_int_equal(download_store_count(s), 0);
    download_store_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_in_parts_then_forgets),
        cmocka_unit_test(test_bad_ids_and_offsets),
        cmocka_unit_test(test_full_store_refuses),
        cmocka_unit_test(test_unread_documents_expire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
