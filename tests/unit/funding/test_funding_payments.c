/* The funding daemon's payments side through the runtime: schedules,
 * installments falling due exactly once (by their timers, the annual
 * report, a resumption), payments with funder scopes and references, the
 * append-only ledger and its reversals, the ledger as JSON and CSV, and
 * the program summary. */
#include "funding_fixture.h"
#include "timers.h"

typedef Concerto__Funding__V1__Allocation alloc_t;
typedef Concerto__Funding__V1__LedgerEntry entry_t;

/* Sets 2025-2026 with a schedule of 50 % on 2025-04-01, 30 % on
 * 2025-10-01 and a 20 % holdback. */
static void schedule_year(int64_t envelope)
{
    program(envelope);
    Concerto__Funding__V1__Installment in[3] = {CONCERTO__FUNDING__V1__INSTALLMENT__INIT,
                                                CONCERTO__FUNDING__V1__INSTALLMENT__INIT,
                                                CONCERTO__FUNDING__V1__INSTALLMENT__INIT};
    in[0].has_share_bp = in[1].has_share_bp = in[2].has_share_bp = 1;
    in[0].share_bp = 5000;
    in[0].due_on = "2025-04-01";
    in[1].share_bp = 3000;
    in[1].due_on = "2025-10-01";
    in[2].share_bp = 2000;
    in[2].has_on_report = in[2].on_report = 1;
    Concerto__Funding__V1__Installment *plan[] = {&in[0], &in[1], &in[2]};
    Concerto__Funding__V1__ProgramYear *y =
        set_year_plan("2025-2026", envelope, plan, 3, STATUS_OK, NULL, NULL);
    assert_int_equal(y->n_schedule, 3);
    assert_int_equal(y->schedule[2]->number, 3);
    assert_true(y->schedule[2]->on_report);
    drop(y);
}

/* An approved allocation of 100,000.01 to tqmn. */
static uint64_t approved(void)
{
    good_table("tqmn");
    alloc_t *a = propose("tqmn", "2025-2026", 10000001, STATUS_OK, NULL, NULL);
    uint64_t id = a->id;
    drop(a);
    drop(approve(id, STATUS_OK, NULL));
    return id;
}

static alloc_t *get(uint64_t id)
{
    Concerto__Funding__V1__GetAllocationRequest req =
        CONCERTO__FUNDING__V1__GET_ALLOCATION_REQUEST__INIT;
    req.has_id = 1;
    req.id = id;
    return expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation__descriptor);
}

/* What the installment's timer does: the request, with no caller. */
static void fire(uint64_t id, uint32_t number)
{
    Concerto__Funding__V1__InstallmentDueRequest req =
        CONCERTO__FUNDING__V1__INSTALLMENT_DUE_REQUEST__INIT;
    req.has_allocation_id = req.has_number = 1;
    req.allocation_id = id;
    req.number = number;
    drop(expect_as(&req.base, CALLER_NONE, STATUS_OK, NULL, NULL, NULL));
}

static int timers_pending(void)
{
    timers_entry_t *entries = NULL;
    int n = timers_list(F.store, "installment:", 100, &entries);
    timers_entries_free(&entries, (size_t)(n > 0 ? n : 0));
    return n;
}

static int64_t dues(void)
{
    return count("SELECT count(*) FROM outbox WHERE type LIKE '%InstallmentDue'");
}

static entry_t *pay(const char *funder, const char *reference, int64_t amount, const sent_t *o,
                    int status, const char *field, const char *text)
{
    Concerto__Funding__V1__RecordPaymentRequest req =
        CONCERTO__FUNDING__V1__RECORD_PAYMENT_REQUEST__INIT;
    req.funder_id = (char *)funder;
    req.table_id = "tqmn";
    req.program_id = "imsdsl";
    req.fiscal_year = "2025-2026";
    req.has_amount_cents = 1;
    req.amount_cents = amount;
    req.reference = (char *)reference;
    req.paid_on = "2025-05-02";
    sent_t op = {AS_OPERATOR, NULL, NULL, NULL};
    return expect_env(&req.base, o ? o : &op, status, field, text,
                      &concerto__funding__v1__ledger_entry__descriptor);
}

static entry_t *reverse(uint64_t id, int role, int status, const char *text)
{
    Concerto__Funding__V1__ReversePaymentRequest req =
        CONCERTO__FUNDING__V1__REVERSE_PAYMENT_REQUEST__INIT;
    req.has_id = 1;
    req.id = id;
    req.reason = "recorded twice by mistake";
    return expect_as(&req.base, role, status, text ? "id" : NULL, text,
                     &concerto__funding__v1__ledger_entry__descriptor);
}

/* --- tests */

static void test_a_schedule_needs_dates_in_order_and_the_whole(void **state)
{
    (void)state;
    schedule_year(310000000);
    Concerto__Funding__V1__Installment a = CONCERTO__FUNDING__V1__INSTALLMENT__INIT,
                                       b = CONCERTO__FUNDING__V1__INSTALLMENT__INIT;
    a.has_share_bp = b.has_share_bp = 1;
    a.share_bp = 6000;
    a.due_on = "2026-06-01";
    b.share_bp = 3000;
    b.due_on = "2026-05-01";
    Concerto__Funding__V1__Installment *plan[] = {&a, &b};
    Concerto__Funding__V1__FunderShare s, *share;
    Concerto__Funding__V1__SetProgramYearRequest req;
    one_share_year(&req, "2026-2027", &s, &share);
    req.n_schedule = 2;
    req.schedule = plan;
    expect(&req, STATUS_INVALID_ARGUMENT, "schedule", "9000", NULL);
    expect(&req, STATUS_INVALID_ARGUMENT, "schedule[1].due_on", "date order", NULL);
    b.share_bp = 4000;
    b.due_on = "2026-03-31";
    expect(&req, STATUS_INVALID_ARGUMENT, "schedule[1].due_on", "2026-04-01", NULL);
    b.due_on = NULL;
    expect(&req, STATUS_INVALID_ARGUMENT, "schedule[1].due_on", "on_report", NULL);
    b.has_on_report = b.on_report = 1;
    b.due_on = "2026-07-01";
    expect(&req, STATUS_INVALID_ARGUMENT, "schedule[1].due_on", "not both", NULL);
    b.due_on = NULL;
    a.has_number = 1;
    a.number = 4;
    expect(&req, STATUS_INVALID_ARGUMENT, "schedule[0].number", "read-only", NULL);
    a.has_number = 0;
    Concerto__Funding__V1__ProgramYear *y =
        expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__program_year__descriptor);
    assert_int_equal(y->n_schedule, 2);
    drop(y);
    /* None given: one payment on the first day. */
    req.n_schedule = 0;
    y = expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__program_year__descriptor);
    assert_int_equal(y->n_schedule, 1);
    assert_string_equal(y->schedule[0]->due_on, "2026-04-01");
    assert_int_equal(y->schedule[0]->share_bp, 10000);
    drop(y);
}

static void test_installments_fall_due_once_by_their_timers(void **state)
{
    (void)state;
    schedule_year(310000000);
    uint64_t id = approved();
    alloc_t *a = get(id);
    assert_int_equal(a->n_installments, 3);
    assert_int_equal(a->installments[0]->state, CONCERTO__FUNDING__V1__INSTALLMENT_STATE__PENDING);
    drop(a);
    /* The two dated ones have timers; the holdback waits for the report. */
    assert_int_equal(timers_pending(), 2);
    fire(id, 1);
    fire(id, 1);
    assert_int_equal(dues(), 1);
    a = get(id);
    const Concerto__Funding__V1__AllocationInstallment *in = a->installments[0];
    assert_int_equal(in->state, CONCERTO__FUNDING__V1__INSTALLMENT_STATE__DUE);
    /* Half of each part, in whole cents: 2,330,500 + 1,304,500 + 1,365,000. */
    assert_int_equal(in->n_parts, 3);
    assert_int_equal(in->parts[0]->amount_cents, 2330500);
    assert_int_equal(in->amount_cents, 2330500 + 1304500 + 1365000);
    assert_true(in->has_due_ms);
    drop(a);
    assert_int_equal(
        count("SELECT count(*) FROM outbox WHERE type LIKE '%InstallmentDue' AND subject = "
              "'table:tqmn'"),
        1);
}

static void test_the_last_installment_brings_each_funder_to_its_part(void **state)
{
    (void)state;
    schedule_year(310000000);
    uint64_t id = approved();
    fire(id, 1);
    /* The report comes before the second date: the holdback falls due,
     * the second installment is still to come. */
    Concerto__Funding__V1__RecordReportReceivedRequest rep =
        CONCERTO__FUNDING__V1__RECORD_REPORT_RECEIVED_REQUEST__INIT;
    rep.table_id = "tqmn";
    rep.fiscal_year = "2025-2026";
    rep.received_on = "2099-01-01";
    expect(&rep, STATUS_INVALID_ARGUMENT, "received_on", "future", NULL);
    rep.received_on = NULL;
    Concerto__Funding__V1__AllocationList *l =
        expect(&rep, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation_list__descriptor);
    assert_int_equal(l->n_allocations, 1);
    drop(l);
    /* Again: nothing more to release. */
    l = expect(&rep, STATUS_OK, NULL, NULL, &concerto__funding__v1__allocation_list__descriptor);
    assert_int_equal(l->n_allocations, 0);
    drop(l);
    fire(id, 2);
    assert_int_equal(dues(), 3);
    alloc_t *a = get(id);
    for (size_t f = 0; f < a->n_parts; f++) {
        int64_t due = 0;
        for (size_t i = 0; i < a->n_installments; i++)
            due += a->installments[i]->parts[f]->amount_cents;
        assert_int_equal(due, a->parts[f]->amount_cents);
    }
    drop(a);
}

static void test_a_suspended_installment_is_held_then_raised_on_resume(void **state)
{
    (void)state;
    schedule_year(310000000);
    uint64_t id = approved();
    drop(change(&concerto__funding__v1__suspend_allocation_request__descriptor, id, STATUS_OK,
                NULL));
    fire(id, 1);
    assert_int_equal(dues(), 0);
    alloc_t *a = get(id);
    assert_int_equal(a->installments[0]->state, CONCERTO__FUNDING__V1__INSTALLMENT_STATE__HELD);
    drop(a);
    a = change(&concerto__funding__v1__resume_allocation_request__descriptor, id, STATUS_OK, NULL);
    assert_int_equal(a->installments[0]->state, CONCERTO__FUNDING__V1__INSTALLMENT_STATE__DUE);
    drop(a);
    assert_int_equal(dues(), 1);
}

static void test_closing_cancels_what_has_not_fallen_due(void **state)
{
    (void)state;
    schedule_year(310000000);
    uint64_t id = approved();
    fire(id, 1);
    drop(change(&concerto__funding__v1__close_allocation_request__descriptor, id, STATUS_OK, NULL));
    assert_int_equal(timers_pending(), 0);
    fire(id, 2);
    alloc_t *a = get(id);
    assert_int_equal(a->installments[0]->state, CONCERTO__FUNDING__V1__INSTALLMENT_STATE__DUE);
    assert_int_equal(a->installments[1]->state,
                     CONCERTO__FUNDING__V1__INSTALLMENT_STATE__CANCELLED);
    assert_int_equal(a->installments[2]->state,
                     CONCERTO__FUNDING__V1__INSTALLMENT_STATE__CANCELLED);
    drop(a);
    assert_int_equal(dues(), 1);
}

static void test_a_payment_is_recorded_once_and_never_beyond_the_part(void **state)
{
    (void)state;
    schedule_year(310000000);
    uint64_t id = approved();
    entry_t *e = pay("centraide", "CHQ-001", 2000000, NULL, STATUS_OK, NULL, NULL);
    assert_int_equal(e->kind, CONCERTO__FUNDING__V1__LEDGER_KIND__PAYMENT);
    assert_int_equal(e->allocation_id, id);
    assert_string_equal(e->mandataire_id, "tqmn");
    assert_string_equal(e->paid_on, "2025-05-02");
    uint64_t first = e->id;
    drop(e);
    /* The same reference and content: the first answer, nothing new. */
    e = pay("centraide", "CHQ-001", 2000000, NULL, STATUS_OK, NULL, NULL);
    assert_int_equal(e->id, first);
    drop(e);
    drop(pay("centraide", "CHQ-001", 2000001, NULL, STATUS_CONFLICT, "reference", "other content"));
    assert_int_equal(count("SELECT count(*) FROM ledger"), 1);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE type LIKE '%PaymentRecorded'"), 1);
    /* Centraide's part is 4,661,001 cents: 2,661,001 remain. */
    drop(pay("centraide", "CHQ-002", 2661002, NULL, STATUS_FAILED_PRECONDITION, "amount_cents",
             "26,610.01 remains"));
    assert_int_equal(count("SELECT count(*) FROM ledger"), 1);
    drop(pay("centraide", "CHQ-002", 2661001, NULL, STATUS_OK, NULL, NULL));
    assert_int_equal(count("SELECT paid_cents FROM allocation_part WHERE funder_id = 'centraide'"),
                     4661001);
    drop(pay("nobody", "X-1", 5, NULL, STATUS_FAILED_PRECONDITION, "funder_id", "no part"));
    drop(pay("drsp", "", 5, NULL, STATUS_INVALID_ARGUMENT, "reference", "required"));
    drop(pay("drsp", "D-1", 0, NULL, STATUS_INVALID_ARGUMENT, "amount_cents", NULL));
    /* A suspended allocation is not paid. */
    drop(change(&concerto__funding__v1__suspend_allocation_request__descriptor, id, STATUS_OK,
                NULL));
    drop(pay("drsp", "D-1", 5, NULL, STATUS_FAILED_PRECONDITION, "table_id", "SUSPENDED"));
}

static void test_a_funders_system_pays_only_for_its_funder(void **state)
{
    (void)state;
    schedule_year(310000000);
    approved();
    sent_t partner = {CALLER_PARTNER, NULL, "ville", NULL};
    drop(pay("centraide", "CHQ-9", 100, &partner, STATUS_PERMISSION_DENIED, "funder_id",
             "its own funder"));
    entry_t *e = pay("ville", "VIR-9", 100, &partner, STATUS_OK, NULL, NULL);
    assert_string_equal(e->recorded_by, "funder-system");
    drop(e);
    sent_t any = {CALLER_PARTNER, NULL, "*", NULL};
    drop(pay("centraide", "CHQ-9", 100, &any, STATUS_OK, NULL, NULL));
    sent_t none = {CALLER_PARTNER, NULL, NULL, NULL};
    drop(pay("drsp", "D-9", 100, &none, STATUS_PERMISSION_DENIED, "funder_id", NULL));
}

static void test_a_reversal_corrects_a_payment_once_and_the_ledger_only_grows(void **state)
{
    (void)state;
    schedule_year(310000000);
    approved();
    entry_t *e = pay("centraide", "CHQ-001", 2000000, NULL, STATUS_OK, NULL, NULL);
    uint64_t id = e->id;
    drop(e);
    drop(reverse(id, AS_OPERATOR, STATUS_PERMISSION_DENIED, NULL));
    entry_t *r = reverse(id, AS_ADMIN, STATUS_OK, NULL);
    assert_int_equal(r->kind, CONCERTO__FUNDING__V1__LEDGER_KIND__REVERSAL);
    assert_int_equal(r->amount_cents, -2000000);
    assert_int_equal(r->reverses_id, id);
    assert_string_equal(r->reason, "recorded twice by mistake");
    drop(reverse(id, AS_ADMIN, STATUS_FAILED_PRECONDITION, "already reversed"));
    drop(reverse(r->id, AS_ADMIN, STATUS_FAILED_PRECONDITION, "is a reversal"));
    drop(reverse(999, AS_ADMIN, STATUS_NOT_FOUND, "999"));
    drop(r);
    assert_int_equal(count("SELECT paid_cents FROM allocation_part WHERE funder_id = 'centraide'"),
                     0);
    assert_int_equal(count("SELECT SUM(amount_cents) FROM ledger"), 0);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE type LIKE '%PaymentReversed'"), 1);
    /* The database itself refuses to change or drop an entry. */
    assert_int_equal(store_exec(F.store, "UPDATE ledger SET amount_cents = 1"), -1);
    assert_int_equal(store_exec(F.store, "DELETE FROM ledger"), -1);
    assert_int_equal(count("SELECT count(*) FROM ledger"), 2);
    /* The same reference paid again after its reversal is the reversed
     * payment: its first answer. */
    e = pay("centraide", "CHQ-001", 2000000, NULL, STATUS_OK, NULL, NULL);
    assert_int_equal(e->id, id);
    assert_true(e->has_reversed_by_id);
    drop(e);
}

static void test_the_ledger_reads_as_json_pages_and_one_csv_document(void **state)
{
    (void)state;
    schedule_year(310000000);
    approved();
    drop(pay("centraide", "CHQ-1", 100000, NULL, STATUS_OK, NULL, NULL));
    drop(pay("drsp", "D-1, \"urgent\"", 50000, NULL, STATUS_OK, NULL, NULL));
    drop(pay("ville", "V-1", 25, NULL, STATUS_OK, NULL, NULL));
    Concerto__Funding__V1__ListLedgerRequest req = CONCERTO__FUNDING__V1__LIST_LEDGER_REQUEST__INIT;
    req.has_limit = 1;
    req.limit = 2;
    Concerto__Funding__V1__LedgerList *l =
        expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__ledger_list__descriptor);
    assert_int_equal(l->n_entries, 2);
    assert_int_equal(l->count, 3);
    assert_int_equal(l->total_cents, 150025);
    assert_non_null(l->next_cursor);
    req.cursor = l->next_cursor;
    Concerto__Funding__V1__LedgerList *rest =
        expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__ledger_list__descriptor);
    assert_int_equal(rest->n_entries, 1);
    assert_string_equal(rest->entries[0]->funder_id, "ville");
    drop(rest);
    drop(l);
    req.cursor = NULL;
    req.funder_id = "drsp";
    l = expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__ledger_list__descriptor);
    assert_int_equal(l->count, 1);
    drop(l);
    /* As CSV: every entry that matches, one document. */
    req.funder_id = NULL;
    sent_t csv = {AS_READER, NULL, NULL, "csv"};
    reply_t *r = send_env(&req.base, &csv);
    assert_int_equal(r->status, STATUS_OK);
    assert_string_equal(r->content_type, "text/csv; charset=utf-8");
    assert_string_equal(r->file_name, "ledger.csv");
    char *doc = strndup((const char *)r->document.data, r->document.len);
    assert_memory_equal(doc, "\xEF\xBB\xBF\"id\",\"kind\",\"paid_on\"", 24);
    assert_non_null(strstr(doc, "\"PAYMENT\",\"2025-05-02\",\"2025-2026\",\"imsdsl\",\"tqmn\","
                                "\"tqmn\",\"drsp\",\"50000\",\"D-1, \"\"urgent\"\"\""));
    assert_non_null(strstr(doc, "\"ville\",\"25\",\"V-1\""));
    size_t rows = 0;
    for (const char *p = doc; (p = strstr(p, "\r\n")); p += 2)
        rows++;
    assert_int_equal(rows, 4);
    free(doc);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    req.fiscal_year = "2025";
    expect(&req, STATUS_INVALID_ARGUMENT, "fiscal_year", NULL, NULL);
}

static void test_the_summary_adds_up_by_funder_and_borough(void **state)
{
    (void)state;
    schedule_year(30000000);
    territory("sud-ouest", "borough", NULL);
    territory("pointe-saint-charles", "neighbourhood", "sud-ouest");
    table("action-gardien", "pointe-saint-charles", "recognized", "2000-01-01");
    characteristics("action-gardien", "2000-01-01", 1);
    uint64_t id = approved();
    alloc_t *b = propose("action-gardien", "2025-2026", 0, STATUS_OK, NULL, NULL);
    drop(approve(b->id, STATUS_OK, NULL));
    drop(b);
    drop(pay("centraide", "CHQ-1", 1000000, NULL, STATUS_OK, NULL, NULL));
    drop(change(&concerto__funding__v1__close_allocation_request__descriptor, id, STATUS_OK, NULL));
    Concerto__Funding__V1__GetProgramSummaryRequest req =
        CONCERTO__FUNDING__V1__GET_PROGRAM_SUMMARY_REQUEST__INIT;
    req.program_id = "imsdsl";
    req.fiscal_year = "2025-2026";
    Concerto__Funding__V1__ProgramSummary *s =
        expect(&req, STATUS_OK, NULL, NULL, &concerto__funding__v1__program_summary__descriptor);
    /* tqmn closed after 10,000.00 paid: committed 10,000.00; action-gardien
     * 100,000.00 approved, nothing paid. */
    assert_int_equal(s->committed_cents, 1000000 + 10000000);
    assert_int_equal(s->paid_cents, 1000000);
    assert_int_equal(s->remaining_cents, 30000000 - 11000000);
    assert_int_equal(s->to_pay_cents, 10000000);
    assert_int_equal(s->allocations, 2);
    assert_int_equal(s->n_funders, 3);
    assert_string_equal(s->funders[0]->funder_id, "centraide");
    assert_int_equal(s->funders[0]->committed_cents, 1000000 + 4661000);
    assert_int_equal(s->funders[0]->paid_cents, 1000000);
    int64_t sum = 0;
    for (size_t i = 0; i < s->n_funders; i++)
        sum += s->funders[i]->committed_cents;
    assert_int_equal(sum, s->committed_cents);
    assert_int_equal(s->n_boroughs, 2);
    /* tqmn's territory was never announced: "unknown". */
    assert_string_equal(s->boroughs[0]->borough_id, "sud-ouest");
    assert_int_equal(s->boroughs[0]->committed_cents, 10000000);
    assert_int_equal(s->boroughs[0]->tables, 1);
    assert_string_equal(s->boroughs[1]->borough_id, "unknown");
    drop(s);
    req.fiscal_year = "2030-2031";
    expect(&req, STATUS_NOT_FOUND, "fiscal_year", NULL, NULL);
}

static void test_an_amendment_keeps_what_was_paid(void **state)
{
    (void)state;
    schedule_year(310000000);
    uint64_t id = approved();
    drop(pay("centraide", "CHQ-1", 4000000, NULL, STATUS_OK, NULL, NULL));
    drop(amend(id, 8000000, AS_ADMIN, STATUS_FAILED_PRECONDITION, "amount_cents",
               "below the 40,000.00"));
    alloc_t *a = amend(id, 9000000, AS_ADMIN, STATUS_OK, NULL, NULL);
    assert_int_equal(part_sum(a), 9000000);
    assert_int_equal(a->paid_cents, 4000000);
    drop(a);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_schedule_needs_dates_in_order_and_the_whole),
        T(test_installments_fall_due_once_by_their_timers),
        T(test_the_last_installment_brings_each_funder_to_its_part),
        T(test_a_suspended_installment_is_held_then_raised_on_resume),
        T(test_closing_cancels_what_has_not_fallen_due),
        T(test_a_payment_is_recorded_once_and_never_beyond_the_part),
        T(test_a_funders_system_pays_only_for_its_funder),
        T(test_a_reversal_corrects_a_payment_once_and_the_ledger_only_grows),
        T(test_the_ledger_reads_as_json_pages_and_one_csv_document),
        T(test_the_summary_adds_up_by_funder_and_borough),
        T(test_an_amendment_keeps_what_was_paid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
