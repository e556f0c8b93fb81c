/* page: cursors round-trip, and are refused for another list, other
 * filters, or text that is not a cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "page.h"

static void test_cursor_round_trips(void **state)
{
    (void)state;
    char key[PAGE_MAX_KEY + 1];
    char *c = page_cursor_encode("tables", "0123456789abcdef", "tqmn");
    assert_int_equal(page_cursor_decode("tables", "0123456789abcdef", c, key), 0);
    assert_string_equal(key, "tqmn");
    free(c);
    c = page_cursor_encode("memberships", "0123456789abcdef", "42");
    assert_int_equal(page_cursor_decode("memberships", "0123456789abcdef", c, key), 0);
    assert_string_equal(key, "42");
    free(c);
}

static void test_cursor_belongs_to_its_list_and_filters(void **state)
{
    (void)state;
    char key[PAGE_MAX_KEY + 1];
    char *c = page_cursor_encode("tables", "0123456789abcdef", "tqmn");
    assert_int_equal(page_cursor_decode("organizations", "0123456789abcdef", c, key), -1);
    assert_int_equal(page_cursor_decode("table", "0123456789abcdef", c, key), -1);
    assert_int_equal(page_cursor_decode("tables", "fedcba9876543210", c, key), -2);
    free(c);
}

static void test_cursor_refuses_what_is_not_one(void **state)
{
    (void)state;
    char key[PAGE_MAX_KEY + 1];
    const char *f = "0123456789abcdef";
    assert_int_equal(page_cursor_decode("tables", f, "zz", key), -1);
    assert_int_equal(page_cursor_decode("tables", f, "616", key), -1);
    assert_int_equal(page_cursor_decode("tables", f, "", key), -1);
    assert_int_equal(page_cursor_decode("tables", f, "not-a-cursor", key), -1);
    /* "tables:" and a NUL byte inside. */
    assert_int_equal(page_cursor_decode("tables", f, "7461626c65733a00", key), -1);
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(page_cursor_decode("tables", f, big, key), -1);
    /* A key longer than a cursor may hold. */
    char long_key[PAGE_MAX_KEY + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    char *c = page_cursor_encode("t", f, long_key);
    assert_int_equal(page_cursor_decode("t", f, c, key), -1);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_round_trips),
        cmocka_unit_test(test_cursor_belongs_to_its_list_and_filters),
        cmocka_unit_test(test_cursor_refuses_what_is_not_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
