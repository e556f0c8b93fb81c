/* registry_characteristics: the rules of the four characteristics at
 * their thresholds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry_characteristics.h"

static const registry_thresholds_t th = {3, 3, 4};

static registry_facts_t facts(void)
{
    registry_facts_t f = {.as_of = "2025-06-30",
                          .n_sectors = 3,
                          .n_networks = 3,
                          .incorporated = 1,
                          .bylaws_adopted_on = NULL,
                          .board_seats = 7,
                          .board_members = 0,
                          .meetings_per_year = 4,
                          .attestation_on = "2025-01-15"};
    return f;
}

static void test_all_met_at_the_thresholds(void **state)
{
    (void)state;
    registry_facts_t f = facts();
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, &th, v);
    for (int i = 0; i < REGISTRY_CHAR_COUNT; i++)
        assert_true(v[i].met);
    assert_string_equal(registry_characteristic_codes[REGISTRY_CHAR_STRUCTURED],
                        "structured_permanent");
}

static void test_intersectoral_needs_min_sectors(void **state)
{
    (void)state;
    registry_facts_t f = facts();
    f.n_sectors = 2;
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_INTERSECTORAL].met);
    assert_true(v[REGISTRY_CHAR_MULTI_NETWORK].met);
    assert_non_null(strstr(v[REGISTRY_CHAR_INTERSECTORAL].summary, "2 distinct sectors"));
    registry_thresholds_t lower = {2, 3, 4};
    registry_evaluate(&f, &lower, v);
    assert_true(v[REGISTRY_CHAR_INTERSECTORAL].met);
}

static void test_multi_network_needs_min_networks(void **state)
{
    (void)state;
    registry_facts_t f = facts();
    f.n_networks = 1;
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_MULTI_NETWORK].met);
}

static void test_structured_accepts_bylaws_instead_of_incorporation(void **state)
{
    (void)state;
    registry_facts_t f = facts();
    f.incorporated = 0;
    f.bylaws_adopted_on = "2020-05-01";
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, &th, v);
    assert_true(v[REGISTRY_CHAR_STRUCTURED].met);
    /* Bylaws adopted after the date do not count yet. */
    f.bylaws_adopted_on = "2025-07-01";
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_STRUCTURED].met);
    assert_non_null(strstr(v[REGISTRY_CHAR_STRUCTURED].summary, "incorporation"));
}

static void test_structured_accepts_board_members_instead_of_seats(void **state)
{
    (void)state;
    registry_facts_t f = facts();
    f.board_seats = -1;
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_STRUCTURED].met);
    assert_non_null(strstr(v[REGISTRY_CHAR_STRUCTURED].summary, "a board"));
    f.board_members = 2;
    registry_evaluate(&f, &th, v);
    assert_true(v[REGISTRY_CHAR_STRUCTURED].met);
}

static void test_structured_needs_min_meetings_known(void **state)
{
    (void)state;
    registry_facts_t f = facts();
    f.meetings_per_year = 3;
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_STRUCTURED].met);
    f.meetings_per_year = -1;
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_STRUCTURED].met);
    assert_non_null(strstr(v[REGISTRY_CHAR_STRUCTURED].summary, "meetings"));
}

static void test_synergy_needs_an_attestation_less_than_a_year_old(void **state)
{
    (void)state;
    registry_facts_t f = facts();
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    f.attestation_on = "2024-06-30"; /* 365 days before */
    registry_evaluate(&f, &th, v);
    assert_true(v[REGISTRY_CHAR_SYNERGY].met);
    f.attestation_on = "2024-06-29";
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_SYNERGY].met);
    f.attestation_on = NULL;
    registry_evaluate(&f, &th, v);
    assert_false(v[REGISTRY_CHAR_SYNERGY].met);
    assert_non_null(strstr(v[REGISTRY_CHAR_SYNERGY].summary, "no attestation"));
}

/* The met bits an evaluation over time uses say what the verdicts say,
 * on each side of every threshold. */
static void test_met_bits_agree_with_the_verdicts(void **state)
{
    (void)state;
    const char *attested[] = {NULL, "2024-06-29", "2024-06-30", "2025-06-30", "2025-07-01"};
    const char *bylaws[] = {NULL, "2025-06-30", "2025-07-01"};
    int checked = 0;
    for (size_t a = 0; a < sizeof attested / sizeof *attested; a++)
        for (size_t b = 0; b < sizeof bylaws / sizeof *bylaws; b++)
            for (int n = 2; n <= 3; n++)
                for (int inc = -1; inc <= 1; inc++)
                    for (int seats = -1; seats <= 1; seats++)
                        for (int meetings = -1; meetings <= 4; meetings += 5) {
                            registry_facts_t f = facts();
                            f.attestation_on = attested[a];
                            f.bylaws_adopted_on = bylaws[b];
                            f.n_sectors = (size_t)n;
                            f.n_networks = (size_t)n;
                            f.incorporated = inc;
                            f.board_seats = seats;
                            f.meetings_per_year = meetings;
                            registry_verdict_t v[REGISTRY_CHAR_COUNT];
                            registry_evaluate(&f, &th, v);
                            unsigned met = registry_evaluate_met(&f, &th);
                            for (int i = 0; i < REGISTRY_CHAR_COUNT; i++)
                                assert_int_equal(!!(met & (1u << i)), v[i].met);
                            checked += met == (1u << REGISTRY_CHAR_COUNT) - 1;
                        }
    assert_true(checked > 0); /* all four met in some of them */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_met_at_the_thresholds),
        cmocka_unit_test(test_intersectoral_needs_min_sectors),
        cmocka_unit_test(test_multi_network_needs_min_networks),
        cmocka_unit_test(test_structured_accepts_bylaws_instead_of_incorporation),
        cmocka_unit_test(test_structured_accepts_board_members_instead_of_seats),
        cmocka_unit_test(test_structured_needs_min_meetings_known),
        cmocka_unit_test(test_synergy_needs_an_attestation_less_than_a_year_old),
        cmocka_unit_test(test_met_bits_agree_with_the_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
