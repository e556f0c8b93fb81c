/* money: splits to the cent by largest remainder (shares that do not
 * divide evenly, one cent, zero, the largest int64 amount), checked sums,
 * amounts as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "money.h"

static int64_t sum(const int64_t *parts, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(money_add(s, parts[i], &s), 0);
    return s;
}

static void test_even_shares_split_exactly(void **state)
{
    (void)state;
    uint32_t shares[] = {5000, 2500, 2500};
    int64_t parts[3];
    assert_int_equal(money_split(10000000, shares, 3, parts), 0);
    assert_int_equal(parts[0], 5000000);
    assert_int_equal(parts[1], 2500000);
    assert_int_equal(parts[2], 2500000);
}

static void test_thirds_give_the_left_over_cent_to_the_larger_share(void **state)
{
    (void)state;
    uint32_t shares[] = {3333, 3334, 3333};
    int64_t parts[3];
    assert_int_equal(money_split(100, shares, 3, parts), 0);
    /* 33.33, 33.34, 33.33: one cent left, the 3334 share takes it. */
    assert_int_equal(parts[0], 33);
    assert_int_equal(parts[1], 34);
    assert_int_equal(parts[2], 33);
    assert_int_equal(sum(parts, 3), 100);
}

static void test_largest_remainders_win_over_larger_shares(void **state)
{
    (void)state;
    /* The 2006-07 split (domain.md 2.1) of 100,000.00, 4661/2730/2609 bp:
     * 4,661,000 + 2,730,000 + 2,609,000 exactly. Of 100,000.01 the cuts are
     * .4661, .2730, .2609 of a cent: the largest remainder takes it. */
    uint32_t shares[] = {4661, 2730, 2609};
    int64_t parts[3];
    assert_int_equal(money_split(10000000, shares, 3, parts), 0);
    assert_int_equal(parts[0], 4661000);
    assert_int_equal(parts[1], 2730000);
    assert_int_equal(parts[2], 2609000);
    assert_int_equal(money_split(10000001, shares, 3, parts), 0);
    assert_int_equal(parts[0], 4661001);
    assert_int_equal(parts[1], 2730000);
    assert_int_equal(parts[2], 2609000);
    assert_int_equal(sum(parts, 3), 10000001);
    /* 7 cents: 3.2627, 1.911, 1.8263 -> 3, 1, 1 and two cents left: to
     * the remainders .911 and .8263, not to the largest share. */
    assert_int_equal(money_split(7, shares, 3, parts), 0);
    assert_int_equal(parts[0], 3);
    assert_int_equal(parts[1], 2);
    assert_int_equal(parts[2], 2);
}

static void test_ties_go_to_the_larger_share_then_the_earlier_part(void **state)
{
    (void)state;
    /* Four equal shares of 3 cents: 0.75 each, three cents for four parts
     * with the same remainder and share: the first three. */
    uint32_t equal[] = {2500, 2500, 2500, 2500};
    int64_t parts[4];
    assert_int_equal(money_split(3, equal, 4, parts), 0);
    assert_int_equal(parts[0], 1);
    assert_int_equal(parts[1], 1);
    assert_int_equal(parts[2], 1);
    assert_int_equal(parts[3], 0);
    /* 2000, 6000, 2000 of 2 cents: .4, 1.2, .4: one cent left; the two .4
     * tie on remainder and share: the earlier. */
    uint32_t uneven[] = {2000, 6000, 2000};
    assert_int_equal(money_split(2, uneven, 3, parts), 0);
    assert_int_equal(parts[0], 1);
    assert_int_equal(parts[1], 1);
    assert_int_equal(parts[2], 0);
    /* 5000, 2500, 2500 of 3 cents: 1.5, .75, .75: two cents left, to the
     * two largest remainders (.75), not to the largest share. */
    uint32_t half[] = {5000, 2500, 2500};
    assert_int_equal(money_split(3, half, 3, parts), 0);
    assert_int_equal(parts[0], 1);
    assert_int_equal(parts[1], 1);
    assert_int_equal(parts[2], 1);
    /* 1 cent between 5000 and 5000: a tie on everything: the first. */
    uint32_t two[] = {5000, 5000};
    assert_int_equal(money_split(1, two, 2, parts), 0);
    assert_int_equal(parts[0], 1);
    assert_int_equal(parts[1], 0);
}

static void test_one_cent_goes_to_one_part(void **state)
{
    (void)state;
    uint32_t shares[] = {4661, 2730, 2609};
    int64_t parts[3];
    assert_int_equal(money_split(1, shares, 3, parts), 0);
    assert_int_equal(parts[0], 1);
    assert_int_equal(parts[1], 0);
    assert_int_equal(parts[2], 0);
}

static void test_zero_splits_into_zeros(void **state)
{
    (void)state;
    uint32_t shares[] = {4661, 2730, 2609};
    int64_t parts[3] = {7, 7, 7};
    assert_int_equal(money_split(0, shares, 3, parts), 0);
    assert_int_equal(parts[0], 0);
    assert_int_equal(parts[1], 0);
    assert_int_equal(parts[2], 0);
}

static void test_the_largest_amount_splits_without_overflow(void **state)
{
    (void)state;
    uint32_t shares[] = {4661, 2730, 2609};
    int64_t parts[3];
    assert_int_equal(money_split(INT64_MAX, shares, 3, parts), 0);
    assert_int_equal(sum(parts, 3), INT64_MAX);
    /* Exact values (Python's integers): floors 4299013706378011003,
     * 2517980566061353795, 2406377764415411008 with remainders .6427,
     * .3110, .0463: the one cent left goes to the first. */
    assert_int_equal(parts[0], 4299013706378011004);
    assert_int_equal(parts[1], 2517980566061353795);
    assert_int_equal(parts[2], 2406377764415411008);
    uint32_t whole[] = {10000};
    assert_int_equal(money_split(INT64_MAX, whole, 1, parts), 0);
    assert_int_equal(parts[0], INT64_MAX);
    uint32_t tiny[] = {1, 9999};
    assert_int_equal(money_split(INT64_MAX, tiny, 2, parts), 0);
    assert_int_equal(sum(parts, 2), INT64_MAX);
}

static void test_bad_splits_are_refused(void **state)
{
    (void)state;
    uint32_t short_of_whole[] = {5000, 4999};
    uint32_t over[] = {10001};
    uint32_t wraps[] = {4294967295u, 10001};
    int64_t parts[2] = {5, 5};
    assert_int_equal(money_split(100, short_of_whole, 2, parts), -1);
    assert_int_equal(money_split(100, over, 1, parts), -1);
    assert_int_equal(money_split(100, wraps, 2, parts), -1);
    assert_int_equal(money_split(-1, over, 0, parts), -1);
    uint32_t whole[] = {10000};
    assert_int_equal(money_split(-1, whole, 1, parts), -1);
    assert_int_equal(money_split(100, whole, 0, parts), -1);
    assert_int_equal(parts[0], 5);
}

static void test_a_portion_is_the_whole_cents_of_a_share(void **state)
{
    (void)state;
    assert_int_equal(money_portion(10000000, 4661), 4661000);
    assert_int_equal(money_portion(7, 4661), 3);
    assert_int_equal(money_portion(0, 10000), 0);
    assert_int_equal(money_portion(1, 9999), 0);
    assert_int_equal(money_portion(INT64_MAX, 10000), INT64_MAX);
    assert_int_equal(money_portion(INT64_MAX, 4661), 4299013706378011003);
}

static void test_sums_that_leave_int64_are_refused(void **state)
{
    (void)state;
    int64_t s = 42;
    assert_int_equal(money_add(INT64_MAX - 1, 1, &s), 0);
    assert_int_equal(s, INT64_MAX);
    assert_int_equal(money_add(INT64_MAX, 1, &s), -1);
    assert_int_equal(money_add(INT64_MIN, -1, &s), -1);
    assert_int_equal(s, INT64_MAX);
}

static void test_amounts_read_as_dollars(void **state)
{
    (void)state;
    char buf[MONEY_TEXT_LEN];
    assert_string_equal(money_text(0, buf), "0.00");
    assert_string_equal(money_text(1, buf), "0.01");
    assert_string_equal(money_text(10000000, buf), "100,000.00");
    assert_string_equal(money_text(-123456, buf), "-1,234.56");
    assert_string_equal(money_text(INT64_MAX, buf), "92,233,720,368,547,758.07");
    assert_string_equal(money_text(INT64_MIN, buf), "-92,233,720,368,547,758.08");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_even_shares_split_exactly),
        cmocka_unit_test(test_thirds_give_the_left_over_cent_to_the_larger_share),
        cmocka_unit_test(test_largest_remainders_win_over_larger_shares),
        cmocka_unit_test(test_ties_go_to_the_larger_share_then_the_earlier_part),
        cmocka_unit_test(test_one_cent_goes_to_one_part),
        cmocka_unit_test(test_zero_splits_into_zeros),
        cmocka_unit_test(test_the_largest_amount_splits_without_overflow),
        cmocka_unit_test(test_bad_splits_are_refused),
        cmocka_unit_test(test_a_portion_is_the_whole_cents_of_a_share),
        cmocka_unit_test(test_sums_that_leave_int64_are_refused),
        cmocka_unit_test(test_amounts_read_as_dollars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
