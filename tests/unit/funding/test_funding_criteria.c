/* Eligibility's rules (funding_criteria.c): each criterion's verdicts and
 * facts, which verdicts block, and what a change of verdict says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "funding_criteria.h"

typedef Concerto__Funding__V1__EligibilityDecision decision_t;
typedef Concerto__Funding__V1__Criterion criterion_t;

/* A Table that meets everything on 2025-04-01, a first request. */
static funding_facts_t eligible_facts(void)
{
    funding_facts_t f = {.as_of = "2025-04-01", .previous_year = "2024-2025"};
    f.status = "recognized";
    f.status_since = "2019-06-01";
    f.evaluated = 1;
    f.all_met = 1;
    f.holds_from = "2025-01-15";
    static const char *codes[] = {"intersectoral", "multi_network", "structured_permanent",
                                  "networking_synergy"};
    for (size_t i = 0; i < 4; i++)
        f.characteristics[f.n_characteristics++] = (funding_characteristic_t){codes[i], 1, NULL};
    return f;
}

static decision_t *judge(const funding_facts_t *f)
{
    decision_t *d = calloc(1, sizeof *d);
    concerto__funding__v1__eligibility_decision__init(d);
    funding_criteria_judge(f, d);
    return d;
}

static void drop(decision_t *d)
{
    protobuf_c_message_free_unpacked(&d->base, NULL);
}

static const criterion_t *criterion(const decision_t *d, const char *code)
{
    for (size_t i = 0; i < d->n_criteria; i++)
        if (strcmp(d->criteria[i]->code, code) == 0)
            return d->criteria[i];
    fail_msg("no criterion %s", code);
    return NULL;
}

static const char *fact(const criterion_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_facts; i++)
        if (strcmp(c->facts[i]->name, name) == 0)
            return c->facts[i]->value;
    return NULL;
}

static void test_a_recognized_table_meeting_everything_is_eligible(void **state)
{
    (void)state;
    funding_facts_t f = eligible_facts();
    decision_t *d = judge(&f);
    assert_int_equal(d->n_criteria, 3);
    assert_true(d->criteria_met);
    assert_string_equal(d->as_of, "2025-04-01");
    assert_int_equal(criterion(d, "recognized")->verdict, FUNDING_MET);
    assert_string_equal(fact(criterion(d, "recognized"), "since"), "2019-06-01");
    assert_int_equal(criterion(d, "characteristics")->verdict, FUNDING_MET);
    assert_string_equal(fact(criterion(d, "characteristics"), "evaluated_from"), "2025-01-15");
    assert_string_equal(fact(criterion(d, "characteristics"), "intersectoral"), "met");
    assert_int_equal(criterion(d, "previous_compliance")->verdict, FUNDING_NOT_APPLICABLE);
    drop(d);
}

static void test_not_recognized_on_the_first_day_blocks(void **state)
{
    (void)state;
    funding_facts_t f = eligible_facts();
    f.status = "suspended";
    f.status_since = "2025-02-01";
    decision_t *d = judge(&f);
    assert_false(d->criteria_met);
    const criterion_t *c = criterion(d, "recognized");
    assert_int_equal(c->verdict, FUNDING_NOT_MET);
    assert_non_null(strstr(c->summary, "suspended on 2025-04-01"));
    drop(d);
    /* Never announced by the registry: not met either. */
    f.status = NULL;
    d = judge(&f);
    assert_int_equal(criterion(d, "recognized")->verdict, FUNDING_NOT_MET);
    assert_string_equal(fact(criterion(d, "recognized"), "status"), "unknown");
    drop(d);
}

static void test_an_unknown_recognition_date_counts_and_is_flagged(void **state)
{
    (void)state;
    funding_facts_t f = eligible_facts();
    f.status_since = NULL;
    f.status_recorded_on = "2026-11-20";
    decision_t *d = judge(&f);
    const criterion_t *c = criterion(d, "recognized");
    assert_int_equal(c->verdict, FUNDING_MET);
    assert_true(d->criteria_met);
    assert_string_equal(fact(c, "since"), "unknown");
    assert_string_equal(fact(c, "recorded_on"), "2026-11-20");
    assert_non_null(strstr(c->summary, "unknown"));
    drop(d);
}

static void test_unmet_characteristics_block_and_are_named(void **state)
{
    (void)state;
    funding_facts_t f = eligible_facts();
    f.all_met = 0;
    f.characteristics[2].met = 0;
    f.characteristics[2].summary = "no board";
    decision_t *d = judge(&f);
    const criterion_t *c = criterion(d, "characteristics");
    assert_int_equal(c->verdict, FUNDING_NOT_MET);
    assert_false(d->criteria_met);
    assert_non_null(strstr(c->summary, "structured_permanent"));
    assert_string_equal(fact(c, "structured_permanent"), "not met: no board");
    drop(d);
    /* No evaluation covering the day: the registry's baseline, nothing
     * met. */
    f = eligible_facts();
    f.evaluated = 0;
    f.n_characteristics = 0;
    d = judge(&f);
    assert_int_equal(criterion(d, "characteristics")->verdict, FUNDING_NOT_MET);
    drop(d);
}

static void test_the_registry_verdict_is_taken_as_it_is(void **state)
{
    (void)state;
    /* all_met is the registry's: funding does not recount the codes. */
    funding_facts_t f = eligible_facts();
    f.all_met = 0;
    decision_t *d = judge(&f);
    assert_int_equal(criterion(d, "characteristics")->verdict, FUNDING_NOT_MET);
    drop(d);
}

static void test_a_renewal_without_a_report_does_not_block(void **state)
{
    (void)state;
    funding_facts_t f = eligible_facts();
    f.renewal = 1;
    decision_t *d = judge(&f);
    const criterion_t *c = criterion(d, "previous_compliance");
    assert_int_equal(c->verdict, FUNDING_NO_REPORT);
    assert_non_null(strstr(c->summary, "no report yet"));
    assert_string_equal(fact(c, "previous_year"), "2024-2025");
    assert_true(d->criteria_met);
    drop(d);
}

static void test_a_renewal_follows_the_previous_years_compliance(void **state)
{
    (void)state;
    funding_facts_t f = eligible_facts();
    f.renewal = 1;
    f.compliance_known = 1;
    f.compliant = 1;
    decision_t *d = judge(&f);
    assert_int_equal(criterion(d, "previous_compliance")->verdict, FUNDING_MET);
    assert_true(d->criteria_met);
    drop(d);
    f.compliant = 0;
    f.compliance_summary = "no action plan";
    d = judge(&f);
    assert_int_equal(criterion(d, "previous_compliance")->verdict, FUNDING_NOT_MET);
    assert_non_null(strstr(criterion(d, "previous_compliance")->summary, "no action plan"));
    assert_false(d->criteria_met);
    drop(d);
}

static void test_changes_name_each_verdict_that_moved(void **state)
{
    (void)state;
    funding_facts_t f = eligible_facts();
    decision_t *before = judge(&f);
    f.status = "suspended";
    decision_t *after = judge(&f);
    decision_t *same = judge(&f);
    assert_int_equal(funding_criteria_changes(after, same, same), 0);
    assert_int_equal(same->n_changes, 0);
    assert_int_equal(funding_criteria_changes(before, after, after), 1);
    assert_int_equal(after->n_changes, 1);
    assert_non_null(strstr(after->changes[0], "recognized: MET -> NOT_MET"));
    drop(before);
    drop(after);
    drop(same);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_recognized_table_meeting_everything_is_eligible),
        cmocka_unit_test(test_not_recognized_on_the_first_day_blocks),
        cmocka_unit_test(test_an_unknown_recognition_date_counts_and_is_flagged),
        cmocka_unit_test(test_unmet_characteristics_block_and_are_named),
        cmocka_unit_test(test_the_registry_verdict_is_taken_as_it_is),
        cmocka_unit_test(test_a_renewal_without_a_report_does_not_block),
        cmocka_unit_test(test_a_renewal_follows_the_previous_years_compliance),
        cmocka_unit_test(test_changes_name_each_verdict_that_moved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
