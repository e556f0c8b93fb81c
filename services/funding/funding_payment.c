/* funding_payment: the append-only ledger: payments from funders to the
 * Tables' mandataires (recorded by operators, or by a funder's own system
 * through the partner ingress within its `funder=` scope), reversals by an
 * admin, and the ledger read as JSON pages or as one CSV document. Each
 * entry moves its funder's paid_cents in the allocation's part, which the
 * schema keeps between 0 and the part's amount. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_writer.h"
#include "field.h"
#include "funding.h"
#include "money.h"
#include "row.h"
#include "text.h"
#include "xalloc.h"

#define LEDGER_COLUMNS                                                                             \
    "l.id, l.kind, l.allocation_id, l.funder_id, l.table_id, l.program_id, l.fiscal_year,"         \
    " l.mandataire_id, l.amount_cents, l.paid_on, l.reference, l.reverses_id,"                     \
    " (SELECT r.id FROM ledger r WHERE r.reverses_id = l.id) AS reversed_by_id, l.reason,"         \
    " l.notes, l.recorded_by, l.recorded_ms"

static fund_entry_t *entry_load(ctx_t *ctx, uint64_t id)
{
    return (fund_entry_t *)ctx_load_int(
        ctx, "SELECT " LEDGER_COLUMNS " FROM ledger l WHERE l.id = ?", (int64_t)id,
        &concerto__funding__v1__ledger_entry__descriptor, NULL);
}

/* The payment `funder_id` recorded under `reference`, if any. */
static fund_entry_t *entry_by_reference(ctx_t *ctx, const char *funder_id, const char *reference)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT id FROM ledger WHERE funder_id = :funder"
                                     " AND reference = :reference AND kind = 1");
    if (!st)
        return NULL;
    row_bind_text(st, ":funder", funder_id);
    row_bind_text(st, ":reference", reference);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "reference");
    sqlite3_reset(st);
    return id ? entry_load(ctx, (uint64_t)id) : NULL;
}

/* 1 when `r` says what the recorded payment `e` says (a date left out
 * means the one recorded). */
static int payment_same(const fund_entry_t *e, const Concerto__Funding__V1__RecordPaymentRequest *r)
{
    return strcmp(e->table_id, r->table_id) == 0 && strcmp(e->program_id, r->program_id) == 0 &&
           strcmp(e->fiscal_year, r->fiscal_year) == 0 && e->amount_cents == r->amount_cents &&
           (!field_nonempty(r->paid_on) || strcmp(e->paid_on, r->paid_on) == 0);
}

static void payment_validate(ctx_t *ctx, const Concerto__Funding__V1__RecordPaymentRequest *r)
{
    field_slug(ctx, "funder_id", r->funder_id, FIELD_REQUIRED);
    field_slug(ctx, "table_id", r->table_id, FIELD_REQUIRED);
    funding_field_key(ctx, r->program_id, r->fiscal_year);
    if (!r->has_amount_cents)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "amount_cents", "is required");
    else if (r->amount_cents <= 0)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "amount_cents", "must be more than 0 cents");
    field_text(ctx, "reference", r->reference, FUNDING_MAX_REFERENCE, FIELD_REQUIRED);
    if (field_date(ctx, "paid_on", r->paid_on, 0) && field_nonempty(r->paid_on) &&
        strcmp(r->paid_on, ctx->today) > 0)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "paid_on", "must not be in the future");
    field_text(ctx, "notes", r->notes, FUNDING_MAX_TEXT, FIELD_MULTILINE);
}

/* What a payment needs of its allocation: the funder's part of it, read
 * by one indexed join (the whole allocation, with its installments as
 * text, was most of a payment's work). */
typedef struct {
    uint64_t id;
    int state;
    char *mandataire_id;
    int has_part;
    int64_t part_cents, paid_cents;
} payment_target_t;

/* The allocation the payment is for, approved, with a part of the funder's
 * with room for the amount: 0, or -1 after recording why. */
static int payment_target(ctx_t *ctx, const Concerto__Funding__V1__RecordPaymentRequest *r,
                          payment_target_t *t)
{
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st =
        ctx_stmt(ctx, "SELECT a.id, a.state, t.mandataire_id, p.amount_cents,"
                      " p.paid_cents FROM allocation a"
                      " LEFT JOIN reg_table t ON t.id = a.table_id"
                      " LEFT JOIN allocation_part p ON p.allocation_id = a.id"
                      " AND p.funder_id = :funder_id"
                      " WHERE a.program_id = :program_id"
                      " AND a.fiscal_year = :fiscal_year AND a.table_id = :table_id");
    if (!st)
        return -1;
    row_bind(st, &r->base);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        t->id = (uint64_t)sqlite3_column_int64(st, 0);
        t->state = sqlite3_column_int(st, 1);
        t->mandataire_id = row_text(st, 2);
        t->has_part = sqlite3_column_type(st, 3) != SQLITE_NULL;
        t->part_cents = sqlite3_column_int64(st, 3);
        t->paid_cents = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    char left[MONEY_TEXT_LEN], amount[MONEY_TEXT_LEN], whole[MONEY_TEXT_LEN], paid[MONEY_TEXT_LEN];
    if (rc == SQLITE_DONE)
        ctx_violation(ctx, STATUS_NOT_FOUND, "table_id", "Table %s has no allocation of %s %s",
                      r->table_id, r->program_id, r->fiscal_year);
    else if (rc != SQLITE_ROW)
        ctx_db_error(ctx, rc, "table_id");
    else if (t->state != FUNDING_APPROVED)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "table_id",
                      "allocation %" PRIu64
                      " of Table %s is %s; only an approved allocation is paid",
                      t->id, r->table_id, funding_allocation_state_name(t->state));
    else if (!t->has_part)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "funder_id",
                      "funder %s has no part in allocation %" PRIu64, r->funder_id, t->id);
    else if (r->amount_cents > t->part_cents - t->paid_cents)
        ctx_violation(
            ctx, STATUS_FAILED_PRECONDITION, "amount_cents",
            "%s's part of allocation %" PRIu64 " is %s, of which %s is paid: %s remains;"
            " this payment is %s",
            r->funder_id, t->id, money_text(t->part_cents, whole), money_text(t->paid_cents, paid),
            money_text(t->part_cents - t->paid_cents, left), money_text(r->amount_cents, amount));
    return ctx->problems ? -1 : 0;
}

/* Moves the funder's paid amount of allocation `id` by `delta`. */
static status_t payment_move(ctx_t *ctx, uint64_t id, const char *funder_id, int64_t delta)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE allocation_part SET paid_cents = paid_cents + :delta"
                                     " WHERE allocation_id = :id AND funder_id = :funder");
    if (!st)
        return ctx->last_status;
    row_bind_int(st, ":delta", delta);
    row_bind_int(st, ":id", (int64_t)id);
    row_bind_text(st, ":funder", funder_id);
    return ctx_step(ctx, st, "amount_cents");
}

/* Appends the payment; its entry (caller frees), or NULL. */
static fund_entry_t *payment_append(ctx_t *ctx,
                                    const Concerto__Funding__V1__RecordPaymentRequest *r,
                                    const payment_target_t *a)
{
    sqlite3_stmt *st = ctx_stmt(
        ctx, "INSERT INTO ledger(kind, allocation_id, funder_id, table_id, program_id,"
             " fiscal_year, mandataire_id, amount_cents, paid_on, reference, notes, recorded_by,"
             " recorded_ms) VALUES(1, :allocation, :funder_id, :table_id, :program_id,"
             " :fiscal_year, :mandataire, :amount_cents, COALESCE(:paid_on, :today),"
             " :reference, :notes, :actor, :now)");
    if (!st)
        return NULL;
    row_bind(st, &r->base);
    row_bind_int(st, ":allocation", (int64_t)a->id);
    row_bind_text(st, ":mandataire", a->mandataire_id);
    ctx_bind(ctx, st);
    if (ctx_step(ctx, st, "reference") != STATUS_OK ||
        payment_move(ctx, a->id, r->funder_id, r->amount_cents) != STATUS_OK)
        return NULL;
    return entry_load(ctx, (uint64_t)sqlite3_last_insert_rowid(store_db(ctx->store)));
}

int funding_handle_record_payment(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__RecordPaymentRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    payment_validate(&ctx, r);
    if (ctx.problems)
        return ctx_fail(&ctx);
    /* A funder's system records only its own funder's payments. */
    if (!service_call_scope_allows(call, "funder", r->funder_id)) {
        ctx_violation(&ctx, STATUS_PERMISSION_DENIED, "funder_id",
                      "this partner may record only its own funder's payments, not %s's",
                      r->funder_id);
        return ctx_fail(&ctx);
    }
    fund_entry_t *e = entry_by_reference(&ctx, r->funder_id, r->reference);
    if (e && !payment_same(e, r)) {
        char amount[MONEY_TEXT_LEN];
        ctx_violation(&ctx, STATUS_CONFLICT, "reference",
                      "%s's payment %s is already recorded with other content (entry %" PRIu64
                      ": %s to %s for %s %s on %s)",
                      r->funder_id, r->reference, e->id, money_text(e->amount_cents, amount),
                      e->table_id, e->program_id, e->fiscal_year, e->paid_on);
        protobuf_c_message_free_unpacked(&e->base, NULL);
        return ctx_fail(&ctx);
    }
    if (e) /* the same payment again: its first answer */
        return ctx_finish_free(&ctx, &e->base);
    payment_target_t target = {0};
    int found = !ctx.problems && payment_target(&ctx, r, &target) == 0;
    e = found ? payment_append(&ctx, r, &target) : NULL;
    if (e) {
        Concerto__Funding__V1__PaymentRecorded ev = CONCERTO__FUNDING__V1__PAYMENT_RECORDED__INIT;
        ev.actor = (char *)ctx.actor;
        ev.entry = e;
        ctx_emit(&ctx, "table", e->table_id, &ev.base);
    }
    free(target.mandataire_id);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)e);
}

int funding_handle_reverse_payment(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__ReversePaymentRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!r->has_id || r->id == 0)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "id", "is required");
    field_text(&ctx, "reason", r->reason, FUNDING_MAX_REASON, FIELD_REQUIRED | FIELD_MULTILINE);
    if (ctx.problems || !funding_require_admin(&ctx, "reverse a payment"))
        return ctx_fail(&ctx);
    fund_entry_t *p = entry_load(&ctx, r->id), *rev = NULL;
    if (!p && !ctx.problems)
        ctx_violation(&ctx, STATUS_NOT_FOUND, "id", "ledger entry %" PRIu64 " does not exist",
                      r->id);
    else if (p && (int)p->kind != FUNDING_PAYMENT)
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "id",
                      "entry %" PRIu64 " is a reversal; only a payment is reversed", p->id);
    else if (p && p->has_reversed_by_id)
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "id",
                      "payment %" PRIu64 " is already reversed by entry %" PRIu64, p->id,
                      p->reversed_by_id);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : ctx_stmt(&ctx, "INSERT INTO ledger(kind, allocation_id,"
                                                     " funder_id, table_id, program_id,"
                                                     " fiscal_year, mandataire_id, amount_cents,"
                                                     " paid_on, reference, reverses_id, reason,"
                                                     " recorded_by, recorded_ms)"
                                                     " SELECT 2, allocation_id, funder_id,"
                                                     " table_id, program_id, fiscal_year,"
                                                     " mandataire_id, -amount_cents, :today,"
                                                     " reference, id, :reason, :actor, :now"
                                                     " FROM ledger WHERE id = :id");
    if (st) {
        row_bind(st, msg);
        ctx_bind(&ctx, st);
        if (ctx_step(&ctx, st, "id") == STATUS_OK &&
            payment_move(&ctx, p->allocation_id, p->funder_id, -p->amount_cents) == STATUS_OK)
            rev = entry_load(&ctx, (uint64_t)sqlite3_last_insert_rowid(store_db(ctx.store)));
    }
    fund_entry_t *now = rev ? entry_load(&ctx, p->id) : NULL;
    if (rev && now) {
        Concerto__Funding__V1__PaymentReversed ev = CONCERTO__FUNDING__V1__PAYMENT_REVERSED__INIT;
        ev.actor = (char *)ctx.actor;
        ev.entry = rev;
        ev.payment = now;
        ctx_emit(&ctx, "table", rev->table_id, &ev.base);
    }
    if (p)
        protobuf_c_message_free_unpacked(&p->base, NULL);
    if (now)
        protobuf_c_message_free_unpacked(&now->base, NULL);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)rev);
}

/* --- the ledger read */

#define LEDGER_FILTERS                                                                             \
    " (:fiscal_year IS NULL OR l.fiscal_year = :fiscal_year)"                                      \
    " AND (:funder_id IS NULL OR l.funder_id = :funder_id)"                                        \
    " AND (:table_id IS NULL OR l.table_id = :table_id)"                                           \
    " AND (:program_id IS NULL OR l.program_id = :program_id)"

static void ledger_check(ctx_t *ctx, const Concerto__Funding__V1__ListLedgerRequest *r)
{
    funding_field_year(ctx, "fiscal_year", r->fiscal_year, 0, NULL);
    field_slug(ctx, "funder_id", r->funder_id, 0);
    field_slug(ctx, "table_id", r->table_id, 0);
    field_slug(ctx, "program_id", r->program_id, 0);
}

/* The CSV export's columns: headers and the entry's proto paths. */
static const csv_column_t ledger_columns[] = {
    {"id", "id"},
    {"kind", "kind"},
    {"paid_on", "paid_on"},
    {"fiscal_year", "fiscal_year"},
    {"program_id", "program_id"},
    {"table_id", "table_id"},
    {"mandataire_id", "mandataire_id"},
    {"funder_id", "funder_id"},
    {"amount_cents", "amount_cents"},
    {"reference", "reference"},
    {"reverses_id", "reverses_id"},
    {"reversed_by_id", "reversed_by_id"},
    {"reason", "reason"},
    {"notes", "notes"},
    {"recorded_by", "recorded_by"},
    {NULL, NULL},
};

/* Every entry that matches, as one CSV document (UTF-8 with a BOM). */
static int ledger_csv(ctx_t *ctx, const ProtobufCMessage *req)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT " LEDGER_COLUMNS " FROM ledger l WHERE" LEDGER_FILTERS
                                     " ORDER BY l.id");
    if (!st)
        return ctx_fail(ctx);
    row_bind(st, req);
    csv_writer_t *w = csv_writer_new();
    csv_writer_header(w, ledger_columns);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ProtobufCMessage *e = row_read(st, &concerto__funding__v1__ledger_entry__descriptor);
        csv_writer_message(w, e, ledger_columns);
        protobuf_c_message_free_unpacked(e, NULL);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        csv_writer_destroy(&w);
        ctx_db_error(ctx, rc, "ledger");
        return ctx_fail(ctx);
    }
    size_t len = 0;
    uint8_t *bytes = csv_writer_finish(&w, &len);
    return service_call_reply_document(ctx->call, "text/csv; charset=utf-8", "ledger.csv", &bytes,
                                       len);
}

/* The total and count of every entry that matches. */
static void ledger_totals(ctx_t *ctx, const ProtobufCMessage *req,
                          Concerto__Funding__V1__LedgerList *list)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT COALESCE(SUM(l.amount_cents), 0), count(*)"
                                     " FROM ledger l WHERE" LEDGER_FILTERS);
    if (!st)
        return;
    row_bind(st, req);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        list->has_total_cents = list->has_count = 1;
        list->total_cents = sqlite3_column_int64(st, 0);
        list->count = (uint64_t)sqlite3_column_int64(st, 1);
    } else {
        ctx_db_error(ctx, rc, "ledger");
    }
    sqlite3_reset(st);
}

/* The ledger's last entry names everything an answer is built from: the
 * ledger only grows. */
static int ledger_version(ctx_t *ctx)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT COALESCE(MAX(id), 0) FROM ledger");
    if (!st)
        return 0;
    int64_t last = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    char version[32];
    snprintf(version, sizeof version, "ledger-%" PRId64, last);
    return service_call_version(ctx->call, version);
}

int funding_handle_list_ledger(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    page_t page;
    page_begin_int(&ctx, &page, "ledger", msg);
    ledger_check(&ctx, (const void *)msg);
    if (ctx.problems)
        return ctx_fail(&ctx);
    if (ledger_version(&ctx))
        return STATUS_OK;
    if (strcmp(service_call_format(call), "csv") == 0)
        return ledger_csv(&ctx, msg);
    sqlite3_stmt *st = ctx_stmt(&ctx, "SELECT " LEDGER_COLUMNS " FROM ledger l WHERE l.id > :after"
                                      " AND" LEDGER_FILTERS " ORDER BY l.id LIMIT :page_limit");
    if (!st)
        return ctx_fail(&ctx);
    row_bind(st, msg);
    row_bind_int(st, ":after", page.after_int);
    row_bind_int(st, ":page_limit", page.limit + 1);
    Concerto__Funding__V1__LedgerList *list = xmalloc(sizeof *list);
    concerto__funding__v1__ledger_list__init(list);
    list->entries = xcalloc((size_t)page.limit, sizeof *list->entries);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (list->n_entries == (size_t)page.limit) {
            char key[24];
            snprintf(key, sizeof key, "%" PRIu64, list->entries[list->n_entries - 1]->id);
            list->next_cursor = page_cursor_encode(page.list, page.filters, key);
            rc = SQLITE_DONE;
            break;
        }
        list->entries[list->n_entries++] =
            (fund_entry_t *)row_read(st, &concerto__funding__v1__ledger_entry__descriptor);
    }
    if (rc != SQLITE_DONE)
        ctx_db_error(&ctx, rc, "ledger");
    sqlite3_reset(st);
    ledger_totals(&ctx, msg, list);
    return ctx_finish_free(&ctx, &list->base);
}
