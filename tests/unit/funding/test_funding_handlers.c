/* The funding daemon's handlers through the runtime (service_dispatch_frame):
 * program years and their shares, eligibility from the registry's events
 * (fed as the subscriber would, through the same handlers), overrides,
 * allocations and their states, the envelope, amendments, suspensions by
 * the registry, compliance, the Table's funding, the demo allocations. */
#include "funding_fixture.h"

/* --- tests */

static void test_a_year_needs_shares_that_make_the_whole(void **state)
{
    (void)state;
    program(310000000);
    Concerto__Funding__V1__ProgramYear *y = set_year("2026-2027", 310000000, STATUS_OK, NULL, NULL);
    assert_string_equal(y->first_day, "2026-04-01");
    assert_string_equal(y->last_day, "2027-03-31");
    assert_int_equal(y->amount_per_table_cents, 10000000);
    assert_int_equal(y->committed_cents, 0);
    assert_int_equal(y->remaining_cents, 310000000);
    assert_int_equal(y->n_shares, 3);
    assert_string_equal(y->shares[0]->funder_id, "centraide");
    drop(y);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE type LIKE '%ProgramYearSet'"), 2);

    Concerto__Funding__V1__FunderShare a = CONCERTO__FUNDING__V1__FUNDER_SHARE__INIT,
                                       b = CONCERTO__FUNDING__V1__FUNDER_SHARE__INIT;
    a.funder_id = "centraide";
    a.has_share_bp = b.has_share_bp = 1;
    a.share_bp = 5000;
    b.funder_id = "nobody";
    b.share_bp = 4999;
    Concerto__Funding__V1__FunderShare *shares[] = {&a, &b};
    Concerto__Funding__V1__SetProgramYearRequest req =
        CONCERTO__FUNDING__V1__SET_PROGRAM_YEAR_REQUEST__INIT;
    req.program_id = "imsdsl";
    req.fiscal_year = "2027-2028";
    req.has_envelope_cents = 1;
    req.envelope_cents = 0;
    req.n_shares = 2;
    req.shares = shares;
    expect(&req, STATUS_INVALID_ARGUMENT, "shares", "9999", NULL);
    b.share_bp = 5000;
    expect(&req, STATUS_NOT_FOUND, "shares[1].funder_id", "nobody", NULL);
    b.funder_id = "centraide";
    expect(&req, STATUS_INVALID_ARGUMENT, "shares[1].funder_id", "repeats", NULL);
    b.funder_id = "drsp";
    b.share_bp = 0;
    expect(&req, STATUS_INVALID_ARGUMENT, "shares[1].share_bp", NULL, NULL);
    b.share_bp = 5000;
    req.fiscal_year = "2027-2029";
    expect(&req, STATUS_INVALID_ARGUMENT, "fiscal_year", "consecutive", NULL);
    req.fiscal_year = "2027-2028";
    req.envelope_cents = -1;
    expect(&req, STATUS_INVALID_ARGUMENT, "envelope_cents", NULL, NULL);
    req.has_envelope_cents = 0;
    expect(&req, STATUS_INVALID_ARGUMENT, "envelope_cents", "required", NULL);
    req.has_envelope_cents = 1;
    req.envelope_cents = 0;
    req.program_id = "pic";
    expect(&req, STATUS_NOT_FOUND, "program_id", NULL, NULL);
    req.program_id = "imsdsl";
    req.has_amount_per_table_cents = 1;
    req.amount_per_table_cents = 0;
    expect(&req, STATUS_INVALID_ARGUMENT, "amount_per_table_cents", NULL, NULL);
    req.amount_per_table_cents = INT64_MAX;
    drop(expect(&req, STATUS_OK, NULL, NULL, NULL));
}

static void test_eligibility_follows_the_registry_events(void **state)
{
    (void)state;
    program(310000000);
    territory("montreal-nord", "borough", NULL);
    good_table("tqmn");
    Concerto__Funding__V1__EligibilityDecision *d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_true(d->eligible);
    assert_true(d->criteria_met);
    assert_int_equal(d->revision, 1);
    assert_string_equal(d->as_of, "2025-04-01");
    drop(d);
    /* Nothing changed: the same decision, no new revision. */
    d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_int_equal(d->revision, 1);
    drop(d);
    /* A back-dated suspension before the year's first day: judged again at
     * once, and it says what changed. */
    recognition("tqmn", "suspended", "2025-03-01");
    d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_int_equal(d->revision, 2);
    assert_false(d->eligible);
    assert_int_equal(criterion(d, "recognized")->verdict, FUNDING_NOT_MET);
    assert_true(d->n_changes >= 1);
    assert_non_null(strstr(d->changes[0], "recognized: MET -> NOT_MET"));
    drop(d);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE type LIKE '%EligibilityDecided'"), 2);
    assert_int_equal(count("SELECT count(*) FROM eligibility_revision"), 2);
    /* A suspension after the first day changes nothing for that year. */
    recognition("tqmn", "recognized", "2025-03-15");
    recognition("tqmn", "suspended", "2025-09-01");
    d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_true(d->eligible);
    assert_int_equal(d->revision, 3);
    drop(d);
    /* A characteristic lost back to 2025-02-01 makes it ineligible. */
    characteristics("tqmn", "2025-02-01", 0);
    d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_false(d->eligible);
    assert_int_equal(criterion(d, "characteristics")->verdict, FUNDING_NOT_MET);
    drop(d);
    decide("nobody", "2025-2026", STATUS_NOT_FOUND);
    decide("tqmn", "2030-2031", STATUS_NOT_FOUND);
}

static void test_an_unknown_recognition_date_counts_up_to_its_recording(void **state)
{
    (void)state;
    program(310000000);
    table("tqmn", "montreal-nord", "recognized", NULL);
    characteristics("tqmn", "2020-01-01", 1);
    Concerto__Funding__V1__EligibilityDecision *d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_true(d->eligible);
    const Concerto__Funding__V1__Criterion *c = criterion(d, "recognized");
    assert_non_null(strstr(c->summary, "unknown"));
    drop(d);
}

static void test_an_override_needs_an_admin_and_a_justification(void **state)
{
    (void)state;
    program(310000000);
    table("tqmn", "montreal-nord", "recognized", "2020-01-01");
    drop(propose("tqmn", "2025-2026", 0, STATUS_FAILED_PRECONDITION, "table_id", "not eligible"));
    Concerto__Funding__V1__OverrideEligibilityRequest req =
        CONCERTO__FUNDING__V1__OVERRIDE_ELIGIBILITY_REQUEST__INIT;
    req.program_id = "imsdsl";
    req.fiscal_year = "2025-2026";
    req.table_id = "tqmn";
    req.justification = "The steering committee confirmed its characteristics on site.";
    expect_as(&req.base, AS_OPERATOR, STATUS_PERMISSION_DENIED, NULL, "only an admin", NULL);
    expect_as(&req.base, AS_READER, STATUS_PERMISSION_DENIED, NULL, NULL, NULL);
    req.justification = NULL;
    expect_as(&req.base, AS_ADMIN, STATUS_INVALID_ARGUMENT, "justification", "required", NULL);
    req.justification = "The steering committee confirmed its characteristics on site.";
    Concerto__Funding__V1__EligibilityDecision *d =
        expect_as(&req.base, AS_ADMIN, STATUS_OK, NULL, NULL,
                  &concerto__funding__v1__eligibility_decision__descriptor);
    assert_true(d->eligible);
    assert_false(d->criteria_met);
    assert_true(d->overridden);
    assert_string_equal(d->overridden_by, "ada");
    assert_string_equal(d->justification, req.justification);
    drop(d);
    Concerto__Funding__V1__Allocation *a = propose("tqmn", "2025-2026", 0, STATUS_OK, NULL, NULL);
    assert_true(a->overridden);
    drop(a);
    /* The override stays through a later judgement. */
    recognition("tqmn", "suspended", "2025-01-01");
    d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_true(d->eligible);
    assert_true(d->overridden);
    drop(d);
}

static void test_an_allocation_is_split_to_the_cent_and_moves_through_its_states(void **state)
{
    (void)state;
    program(310000000);
    good_table("tqmn");
    Concerto__Funding__V1__Allocation *a =
        propose("tqmn", "2025-2026", 10000001, STATUS_OK, NULL, NULL);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__PROPOSED);
    assert_int_equal(a->n_parts, 3);
    assert_string_equal(a->parts[0]->funder_id, "centraide");
    assert_int_equal(a->parts[0]->amount_cents, 4661001);
    assert_int_equal(a->parts[1]->amount_cents, 2609000);
    assert_int_equal(a->parts[2]->amount_cents, 2730000);
    assert_int_equal(part_sum(a), 10000001);
    assert_string_equal(a->mandataire_id, "tqmn");
    uint64_t id = a->id;
    drop(a);
    drop(propose("tqmn", "2025-2026", 0, STATUS_CONFLICT, "table_id", "already has"));
    drop(propose("tqmn", "2025-2026", -5, STATUS_INVALID_ARGUMENT, "amount_cents", NULL));

    drop(change(&concerto__funding__v1__suspend_allocation_request__descriptor, id,
                STATUS_FAILED_PRECONDITION, "PROPOSED"));
    a = approve(id, STATUS_OK, NULL);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__APPROVED);
    assert_string_equal(a->state_changed_by, "olga");
    drop(a);
    drop(approve(id, STATUS_FAILED_PRECONDITION, "APPROVED"));
    a = change(&concerto__funding__v1__suspend_allocation_request__descriptor, id, STATUS_OK, NULL);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__SUSPENDED);
    assert_false(a->suspended_by_registry);
    drop(a);
    a = change(&concerto__funding__v1__resume_allocation_request__descriptor, id, STATUS_OK, NULL);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__APPROVED);
    drop(a);
    assert_int_equal(count("SELECT y.envelope_cents - (SELECT sum(amount_cents) FROM allocation"
                           " WHERE state IN (2, 3)) FROM program_year y"),
                     310000000 - 10000001);
    a = change(&concerto__funding__v1__close_allocation_request__descriptor, id, STATUS_OK, NULL);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__CLOSED);
    drop(a);
    drop(change(&concerto__funding__v1__resume_allocation_request__descriptor, id,
                STATUS_FAILED_PRECONDITION, "CLOSED"));
    drop(change(&concerto__funding__v1__close_allocation_request__descriptor, id,
                STATUS_FAILED_PRECONDITION, "stays closed"));
    drop(approve(999, STATUS_NOT_FOUND, "999"));
    /* Proposed, approved, suspended, resumed, closed. */
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE subject = 'table:tqmn' AND"
                           " type LIKE 'concerto.funding.v1.Allocation%'"),
                     5);
}

static void test_the_envelope_holds_only_what_it_has(void **state)
{
    (void)state;
    program(15000000);
    good_table("tqmn");
    good_table("tqhm");
    Concerto__Funding__V1__Allocation *a = propose("tqmn", "2025-2026", 0, STATUS_OK, NULL, NULL),
                                      *b = propose("tqhm", "2025-2026", 0, STATUS_OK, NULL, NULL);
    drop(approve(a->id, STATUS_OK, NULL));
    drop(approve(b->id, STATUS_FAILED_PRECONDITION, "50,000.00 left"));
    Concerto__Funding__V1__ProgramYear *y =
        set_year("2025-2026", 9999999, STATUS_FAILED_PRECONDITION, "envelope_cents", "100,000.00");
    drop(y);
    /* Shares are fixed once the year has allocations. */
    Concerto__Funding__V1__FunderShare s, *share;
    Concerto__Funding__V1__SetProgramYearRequest req;
    one_share_year(&req, "2025-2026", &s, &share);
    req.envelope_cents = 20000000;
    expect(&req, STATUS_FAILED_PRECONDITION, "shares", "fixed", NULL);
    /* More room: the second fits. */
    drop(set_year("2025-2026", 20000000, STATUS_OK, NULL, NULL));
    drop(approve(b->id, STATUS_OK, NULL));
    drop(a);
    drop(b);
}

static void test_an_amendment_is_an_admins_and_never_undoes_a_payment(void **state)
{
    (void)state;
    program(30000000);
    good_table("tqmn");
    Concerto__Funding__V1__Allocation *a = propose("tqmn", "2025-2026", 0, STATUS_OK, NULL, NULL);
    uint64_t id = a->id;
    drop(a);
    drop(amend(id, 5000000, AS_ADMIN, STATUS_FAILED_PRECONDITION, "id", "PROPOSED"));
    drop(approve(id, STATUS_OK, NULL));
    drop(amend(id, 5000000, AS_OPERATOR, STATUS_PERMISSION_DENIED, NULL, "only an admin"));
    drop(amend(id, 0, AS_ADMIN, STATUS_INVALID_ARGUMENT, "amount_cents", NULL));
    drop(amend(id, 30000001, AS_ADMIN, STATUS_FAILED_PRECONDITION, "id", "envelope"));
    a = amend(id, 7, AS_ADMIN, STATUS_OK, NULL, NULL);
    assert_int_equal(a->amount_cents, 7);
    assert_int_equal(part_sum(a), 7);
    drop(a);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE type LIKE '%AllocationAmended'"), 1);
    drop(amend(id, 10000000, AS_ADMIN, STATUS_OK, NULL, NULL));
    /* What a funder has paid (part 2's payments write paid_cents) is a
     * floor. */
    assert_int_equal(store_exec(F.store, "UPDATE allocation_part SET paid_cents = 4000000"
                                         " WHERE funder_id = 'centraide'"),
                     0);
    drop(amend(id, 8000000, AS_ADMIN, STATUS_FAILED_PRECONDITION, "amount_cents",
               "centraide's part 37,288.00, below the 40,000.00"));
    a = amend(id, 9000000, AS_ADMIN, STATUS_OK, NULL, NULL);
    assert_int_equal(a->parts[0]->amount_cents, 4194900);
    assert_int_equal(part_sum(a), 9000000);
    drop(a);
}

static void test_a_registry_suspension_suspends_the_allocation(void **state)
{
    (void)state;
    program(310000000);
    good_table("tqmn");
    Concerto__Funding__V1__Allocation *a = propose("tqmn", "2025-2026", 0, STATUS_OK, NULL, NULL);
    uint64_t id = a->id;
    drop(a);
    drop(approve(id, STATUS_OK, NULL));
    recognition("tqmn", "suspended", "2025-10-01");
    Concerto__Funding__V1__GetAllocationRequest get =
        CONCERTO__FUNDING__V1__GET_ALLOCATION_REQUEST__INIT;
    get.has_id = 1;
    get.id = id;
    a = expect(&get, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation__descriptor);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__SUSPENDED);
    assert_true(a->suspended_by_registry);
    assert_non_null(strstr(a->state_reason, "the registry suspended the Table on 2025-10-01"));
    drop(a);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE type LIKE '%AllocationSuspended'"),
                     1);
    /* Only an operator lifts it, and only once the registry recognizes
     * the Table again. */
    drop(change(&concerto__funding__v1__resume_allocation_request__descriptor, id,
                STATUS_FAILED_PRECONDITION, "suspended"));
    recognition("tqmn", "recognized", "2025-11-01");
    a = expect(&get, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation__descriptor);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__SUSPENDED);
    drop(a);
    a = change(&concerto__funding__v1__resume_allocation_request__descriptor, id, STATUS_OK, NULL);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__APPROVED);
    assert_false(a->suspended_by_registry);
    drop(a);
    /* A suspension after the year's end leaves that year alone. */
    recognition("tqmn", "suspended", "2026-05-01");
    a = expect(&get, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation__descriptor);
    assert_int_equal(a->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__APPROVED);
    drop(a);
}

static void test_a_renewal_waits_for_reporting_without_blocking(void **state)
{
    (void)state;
    program(310000000);
    drop(set_year("2024-2025", 310000000, STATUS_OK, NULL, NULL));
    good_table("tqmn");
    Concerto__Funding__V1__Allocation *a = propose("tqmn", "2024-2025", 0, STATUS_OK, NULL, NULL);
    drop(approve(a->id, STATUS_OK, NULL));
    drop(a);
    Concerto__Funding__V1__EligibilityDecision *d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_true(d->renewal);
    assert_true(d->eligible);
    assert_int_equal(criterion(d, "previous_compliance")->verdict, FUNDING_NO_REPORT);
    drop(d);
    Concerto__Reporting__V1__ComplianceEvaluated ev =
        CONCERTO__REPORTING__V1__COMPLIANCE_EVALUATED__INIT;
    ev.table_id = "tqmn";
    ev.fiscal_year = "2024-2025";
    ev.has_compliant = 1;
    ev.compliant = 0;
    ev.summary = "no action plan adopted";
    feed(&ev.base);
    d = decide("tqmn", "2025-2026", STATUS_OK);
    assert_false(d->eligible);
    assert_int_equal(d->revision, 2);
    assert_non_null(strstr(criterion(d, "previous_compliance")->summary, "no action plan"));
    drop(d);
}

static void test_a_tables_funding_and_its_fan_out_answer(void **state)
{
    (void)state;
    char today[CLOCK_DATE_LEN], year[FISCAL_YEAR_LABEL_LEN];
    int first = 0;
    clock_today(today);
    fiscal_year_of(today, &first);
    fiscal_year_label(first, year);
    program(310000000);
    drop(set_year(year, 310000000, STATUS_OK, NULL, NULL));
    territory("sud-ouest", "borough", NULL);
    territory("pointe-saint-charles", "neighbourhood", "sud-ouest");
    table("action-gardien", "pointe-saint-charles", "recognized", "2000-01-01");
    characteristics("action-gardien", "2000-01-01", 1);
    drop(propose("action-gardien", year, 0, STATUS_OK, NULL, NULL));
    drop(propose("action-gardien", "2025-2026", 0, STATUS_OK, NULL, NULL));

    Concerto__Common__V1__TableStatusRequest status =
        CONCERTO__COMMON__V1__TABLE_STATUS_REQUEST__INIT;
    status.table_id = "action-gardien";
    Concerto__Funding__V1__TableFunding *tf =
        expect(&status, STATUS_OK, NULL, NULL, &concerto__funding__v1__table_funding__descriptor);
    assert_true(tf->known);
    assert_string_equal(tf->borough_id, "sud-ouest");
    assert_string_equal(tf->fiscal_year, year);
    assert_int_equal(tf->n_allocations, 1);
    assert_string_equal(tf->allocations[0]->fiscal_year, year);
    assert_int_equal(tf->n_decisions, 1);
    drop(tf);
    Concerto__Funding__V1__GetTableFundingRequest all =
        CONCERTO__FUNDING__V1__GET_TABLE_FUNDING_REQUEST__INIT;
    all.table_id = "action-gardien";
    tf = expect(&all, STATUS_OK, NULL, NULL, &concerto__funding__v1__table_funding__descriptor);
    assert_int_equal(tf->n_allocations, 2);
    assert_int_equal(tf->n_decisions, 2);
    drop(tf);
    /* A Table funding knows nothing of: OK, empty. */
    status.table_id = "tqmn";
    tf = expect(&status, STATUS_OK, NULL, NULL, &concerto__funding__v1__table_funding__descriptor);
    assert_false(tf->known);
    assert_int_equal(tf->n_allocations, 0);
    drop(tf);
    status.table_id = "Not A Slug";
    expect(&status, STATUS_INVALID_ARGUMENT, "table_id", NULL, NULL);
}

static void test_lists_page_with_cursors_bound_to_their_filters(void **state)
{
    (void)state;
    program(310000000);
    good_table("tqmn");
    good_table("tqhm");
    good_table("cdsv");
    drop(propose("tqmn", "2025-2026", 0, STATUS_OK, NULL, NULL));
    drop(propose("tqhm", "2025-2026", 0, STATUS_OK, NULL, NULL));
    drop(propose("cdsv", "2025-2026", 0, STATUS_OK, NULL, NULL));
    Concerto__Funding__V1__ListAllocationsRequest req =
        CONCERTO__FUNDING__V1__LIST_ALLOCATIONS_REQUEST__INIT;
    req.has_limit = 1;
    req.limit = 2;
    Concerto__Funding__V1__AllocationList *l =
        expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation_list__descriptor);
    assert_int_equal(l->n_allocations, 2);
    assert_non_null(l->next_cursor);
    req.cursor = l->next_cursor;
    Concerto__Funding__V1__AllocationList *next =
        expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation_list__descriptor);
    assert_int_equal(next->n_allocations, 1);
    assert_string_equal(next->allocations[0]->table_id, "cdsv");
    assert_null(next->next_cursor);
    drop(next);
    req.has_state = 1;
    req.state = CONCERTO__FUNDING__V1__ALLOCATION_STATE__APPROVED;
    expect(&req, STATUS_INVALID_ARGUMENT, "cursor", "other filters", NULL);
    drop(l);
    Concerto__Funding__V1__ListEligibilityRequest el =
        CONCERTO__FUNDING__V1__LIST_ELIGIBILITY_REQUEST__INIT;
    el.has_limit = 1;
    el.limit = 2;
    Concerto__Funding__V1__EligibilityList *e =
        expect(&el, STATUS_OK, NULL, NULL, &concerto__funding__v1__eligibility_list__descriptor);
    assert_int_equal(e->n_decisions, 2);
    assert_non_null(e->next_cursor);
    el.cursor = e->next_cursor;
    Concerto__Funding__V1__EligibilityList *e2 =
        expect(&el, STATUS_OK, NULL, NULL, &concerto__funding__v1__eligibility_list__descriptor);
    assert_int_equal(e2->n_decisions, 1);
    assert_null(e2->next_cursor);
    drop(e2);
    drop(e);
    Concerto__Funding__V1__ListProgramYearsRequest yl =
        CONCERTO__FUNDING__V1__LIST_PROGRAM_YEARS_REQUEST__INIT;
    expect(&yl, STATUS_INVALID_ARGUMENT, "program_id", "required", NULL);
    yl.program_id = "pic";
    expect(&yl, STATUS_NOT_FOUND, "program_id", NULL, NULL);
}

static void test_the_demo_allocates_to_recognized_tables_marked_as_demo(void **state)
{
    (void)state;
    assert_int_equal(funding_demo_setup(F.svc, FUNDING_DEMO_DIR), 0);
    table("tqmn", "montreal-nord", "recognized", NULL);
    table("petite-patrie", "rosemont", "under_review", NULL);
    char today[CLOCK_DATE_LEN], year[FISCAL_YEAR_LABEL_LEN];
    int first = 0;
    clock_today(today);
    fiscal_year_of(today, &first);
    fiscal_year_label(first, year);
    Concerto__Funding__V1__DemoAllocationsRequest req =
        CONCERTO__FUNDING__V1__DEMO_ALLOCATIONS_REQUEST__INIT;
    req.program_id = "imsdsl";
    req.fiscal_year = year;
    expect_as(&req.base, AS_OPERATOR, STATUS_PERMISSION_DENIED, NULL, NULL, NULL);
    Concerto__Funding__V1__AllocationList *l =
        expect_as(&req.base, AS_ADMIN, STATUS_OK, NULL, NULL,
                  &concerto__funding__v1__allocation_list__descriptor);
    assert_int_equal(l->n_allocations, 1);
    assert_string_equal(l->allocations[0]->table_id, "tqmn");
    assert_true(l->allocations[0]->demo);
    assert_true(l->allocations[0]->overridden);
    assert_int_equal(l->allocations[0]->state, CONCERTO__FUNDING__V1__ALLOCATION_STATE__APPROVED);
    assert_int_equal(part_sum(l->allocations[0]), 10000000);
    drop(l);
    /* Once made, never again. */
    l = expect_as(&req.base, AS_ADMIN, STATUS_OK, NULL, NULL,
                  &concerto__funding__v1__allocation_list__descriptor);
    assert_int_equal(l->n_allocations, 0);
    drop(l);
    Concerto__Funding__V1__GetEligibilityRequest get =
        CONCERTO__FUNDING__V1__GET_ELIGIBILITY_REQUEST__INIT;
    get.program_id = "imsdsl";
    get.fiscal_year = year;
    get.table_id = "tqmn";
    Concerto__Funding__V1__EligibilityDecision *d = expect(
        &get, STATUS_OK, NULL, NULL, &concerto__funding__v1__eligibility_decision__descriptor);
    assert_true(d->demo);
    assert_non_null(strstr(d->justification, "DEMO DATA"));
    drop(d);
    assert_int_equal(count("SELECT count(*) FROM funder"), 3);
    /* A second start finds funders and loads nothing. */
    assert_int_equal(funding_demo_setup(F.svc, FUNDING_DEMO_DIR), 0);
    assert_int_equal(count("SELECT count(*) FROM program"), 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_year_needs_shares_that_make_the_whole),
        T(test_eligibility_follows_the_registry_events),
        T(test_an_unknown_recognition_date_counts_up_to_its_recording),
        T(test_an_override_needs_an_admin_and_a_justification),
        T(test_an_allocation_is_split_to_the_cent_and_moves_through_its_states),
        T(test_the_envelope_holds_only_what_it_has),
        T(test_an_amendment_is_an_admins_and_never_undoes_a_payment),
        T(test_a_registry_suspension_suspends_the_allocation),
        T(test_a_renewal_waits_for_reporting_without_blocking),
        T(test_a_tables_funding_and_its_fan_out_answer),
        T(test_lists_page_with_cursors_bound_to_their_filters),
        T(test_the_demo_allocates_to_recognized_tables_marked_as_demo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
