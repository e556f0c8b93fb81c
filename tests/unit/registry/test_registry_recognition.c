/* registry_recognition: the recognition state machine, every pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry_recognition.h"
#include "registry_validate.h"

static void test_allows_exactly_the_framework_moves(void **state)
{
    (void)state;
    static const char *const allowed[][2] = {
        {"requested", "under_review"}, {"under_review", "recognized"}, {"under_review", "refused"},
        {"refused", "requested"},      {"recognized", "suspended"},    {"suspended", "recognized"},
        {"requested", "withdrawn"},    {"under_review", "withdrawn"},  {"recognized", "withdrawn"},
        {"refused", "withdrawn"},      {"suspended", "withdrawn"},
    };
    size_t n_allowed = sizeof allowed / sizeof allowed[0];
    size_t seen = 0;
    for (size_t i = 0; registry_statuses[i]; i++) {
        for (size_t j = 0; registry_statuses[j]; j++) {
            const char *from = registry_statuses[i], *to = registry_statuses[j];
            int expect = 0;
            for (size_t k = 0; k < n_allowed; k++)
                if (strcmp(allowed[k][0], from) == 0 && strcmp(allowed[k][1], to) == 0)
                    expect = 1;
            seen += (size_t)expect;
            assert_int_equal(registry_recognition_allowed(from, to), expect);
        }
    }
    assert_int_equal(seen, n_allowed);
}

static void test_withdrawn_is_final(void **state)
{
    (void)state;
    const char *targets[8];
    assert_int_equal(registry_recognition_targets("withdrawn", targets, 8), 0);
    assert_false(registry_recognition_allowed("withdrawn", "withdrawn"));
    assert_false(registry_recognition_allowed("withdrawn", "requested"));
}

static void test_staying_in_a_state_is_not_a_move(void **state)
{
    (void)state;
    assert_false(registry_recognition_allowed("recognized", "recognized"));
    assert_false(registry_recognition_allowed("requested", "requested"));
}

static void test_refused_leads_to_a_new_application_or_withdrawal(void **state)
{
    (void)state;
    const char *targets[8];
    assert_int_equal(registry_recognition_targets("refused", targets, 8), 2);
    assert_string_equal(targets[0], "requested");
    assert_string_equal(targets[1], "withdrawn");
}

static void test_a_reversal_undoes_the_contested_decision(void **state)
{
    (void)state;
    /* A refusal reversed: recognized, or back under review. */
    assert_true(registry_recognition_reversal_allowed("under_review", "refused", "recognized"));
    assert_true(registry_recognition_reversal_allowed("under_review", "refused", "under_review"));
    assert_false(registry_recognition_reversal_allowed("under_review", "refused", "requested"));
    assert_false(registry_recognition_reversal_allowed("under_review", "refused", "withdrawn"));
    /* A suspension reversed: recognized again. */
    assert_true(registry_recognition_reversal_allowed("recognized", "suspended", "recognized"));
    /* A withdrawal reversed: only the status it replaced. */
    assert_true(registry_recognition_reversal_allowed("suspended", "withdrawn", "suspended"));
    assert_false(registry_recognition_reversal_allowed("suspended", "withdrawn", "recognized"));
    assert_false(registry_recognition_reversal_allowed("suspended", "withdrawn", "withdrawn"));
    assert_false(registry_recognition_reversal_allowed("recognized", "suspended", "approved"));
}

static void test_targets_list_next_states_in_order(void **state)
{
    (void)state;
    const char *targets[8];
    assert_int_equal(registry_recognition_targets("under_review", targets, 8), 3);
    assert_string_equal(targets[0], "recognized");
    assert_string_equal(targets[1], "refused");
    assert_string_equal(targets[2], "withdrawn");
}

static void test_unknown_states_are_never_allowed(void **state)
{
    (void)state;
    assert_false(registry_recognition_known("approved"));
    assert_false(registry_recognition_known(NULL));
    assert_false(registry_recognition_allowed("requested", "approved"));
    assert_false(registry_recognition_allowed("approved", "withdrawn"));
    assert_true(registry_recognition_known(REGISTRY_STATUS_INITIAL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allows_exactly_the_framework_moves),
        cmocka_unit_test(test_withdrawn_is_final),
        cmocka_unit_test(test_staying_in_a_state_is_not_a_move),
        cmocka_unit_test(test_refused_leads_to_a_new_application_or_withdrawal),
        cmocka_unit_test(test_a_reversal_undoes_the_contested_decision),
        cmocka_unit_test(test_targets_list_next_states_in_order),
        cmocka_unit_test(test_unknown_states_are_never_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
