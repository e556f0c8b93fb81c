/* funding_installment: an allocation's installments, from its year's
 * schedule: made at approval with a durable timer for each dated one
 * ("installment:<allocation>:<number>", common/timers.h); falling due
 * exactly once (InstallmentDue) by that timer, by the annual report for a
 * holdback, or when the allocation resumes after being held; cancelled
 * when it is closed.
 *
 * What falls due, per funder: the whole cents of the installment's share
 * of the funder's part of the allocation as it is then; the last
 * installment to fall due brings each funder to its whole part (never
 * below zero), so the installments add up to the allocation whatever
 * their order (a holdback released early) and after an amendment. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "funding.h"
#include "money.h"
#include "row.h"
#include "shape.h"
#include "xalloc.h"

#define INSTALLMENT_KEY_LEN 64

static void installment_key(uint64_t allocation_id, uint32_t number, char key[INSTALLMENT_KEY_LEN])
{
    snprintf(key, INSTALLMENT_KEY_LEN, "installment:%" PRIu64 ":%u", allocation_id, number);
}

/* --- reading them into an Allocation */

static fund_part_t *installment_part(const char *funder_id, int64_t amount)
{
    fund_part_t *p = xmalloc(sizeof *p);
    concerto__funding__v1__allocation_part__init(p);
    p->funder_id = xstrdup(funder_id);
    p->has_amount_cents = 1;
    p->amount_cents = amount;
    return p;
}

/* One "number:bp:due_on:on_report:state:amount:due_ms:funder=amount;..."
 * (empty fields for what is absent). */
static fund_alloc_installment_t *installment_read(char *item)
{
    char *f[8];
    if (funding_split(item, ':', f, 8) != 8)
        return NULL;
    fund_alloc_installment_t *in = xmalloc(sizeof *in);
    concerto__funding__v1__allocation_installment__init(in);
    in->has_number = in->has_share_bp = in->has_state = in->has_on_report = 1;
    in->number = (uint32_t)strtoul(f[0], NULL, 10);
    in->share_bp = (uint32_t)strtoul(f[1], NULL, 10);
    in->due_on = *f[2] ? xstrdup(f[2]) : NULL;
    in->on_report = atoi(f[3]) != 0;
    in->state = atoi(f[4]);
    if (*f[5]) {
        in->has_amount_cents = 1;
        in->amount_cents = strtoll(f[5], NULL, 10);
    }
    if (*f[6]) {
        in->has_due_ms = 1;
        in->due_ms = strtoll(f[6], NULL, 10);
    }
    char *parts[FUNDING_MAX_SHARES], *kv[2];
    size_t n = *f[7] ? funding_split(f[7], ';', parts, FUNDING_MAX_SHARES) : 0;
    in->parts = xcalloc(n ? n : 1, sizeof *in->parts);
    for (size_t i = 0; i < n; i++)
        if (funding_split(parts[i], '=', kv, 2) == 2)
            in->parts[in->n_parts++] = installment_part(kv[0], strtoll(kv[1], NULL, 10));
    return in;
}

void funding_installments_complete(fund_allocation_t *a, const char *text)
{
    if (!text || !*text)
        return;
    char *copy = xstrdup(text), *items[FUNDING_MAX_INSTALLMENTS];
    size_t n = funding_split(copy, ' ', items, FUNDING_MAX_INSTALLMENTS);
    a->installments = xcalloc(n, sizeof *a->installments);
    for (size_t i = 0; i < n; i++) {
        fund_alloc_installment_t *in = installment_read(items[i]);
        if (in)
            a->installments[a->n_installments++] = in;
    }
    free(copy);
}

/* --- moving them */

static status_t installment_set(ctx_t *ctx, uint64_t id, uint32_t number, int state)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE allocation_installment SET state = :state"
                                     " WHERE allocation_id = :id AND number = :n");
    if (!st)
        return ctx->last_status;
    row_bind_int(st, ":state", state);
    row_bind_int(st, ":id", (int64_t)id);
    row_bind_int(st, ":n", number);
    return ctx_step(ctx, st, "id");
}

/* What falls due now for one funder whose part is `part`: the whole
 * cents of the installment's share of it, or, for the last installment
 * still to fall due, what remains of the part (never below zero). */
static int64_t installment_amount(ctx_t *ctx, const fund_allocation_t *a, uint32_t number,
                                  const fund_part_t *part)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT (SELECT share_bp FROM allocation_installment"
                                     "  WHERE allocation_id = :id AND number = :n),"
                                     " (SELECT count(*) FROM allocation_installment"
                                     "  WHERE allocation_id = :id AND number <> :n"
                                     "  AND state IN (1, 3)),"
                                     " (SELECT COALESCE(SUM(amount_cents), 0)"
                                     "  FROM installment_part WHERE allocation_id = :id"
                                     "  AND funder_id = :funder)");
    if (!st)
        return 0;
    row_bind_int(st, ":id", (int64_t)a->id);
    row_bind_int(st, ":n", number);
    row_bind_text(st, ":funder", part->funder_id);
    int64_t amount = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t bp = sqlite3_column_int64(st, 0), left = sqlite3_column_int64(st, 1);
        int64_t already = sqlite3_column_int64(st, 2);
        amount =
            left ? money_portion(part->amount_cents, (uint32_t)bp) : part->amount_cents - already;
        if (amount > part->amount_cents - already)
            amount = part->amount_cents - already;
    } else {
        ctx_db_error(ctx, rc, "id");
    }
    sqlite3_reset(st);
    return amount > 0 ? amount : 0;
}

/* Installment `number` of approved allocation `a` falls due: its amounts
 * per funder, its state, and InstallmentDue. */
static status_t installment_fall_due(ctx_t *ctx, const fund_allocation_t *a, uint32_t number)
{
    int64_t total = 0;
    for (size_t i = 0; i < a->n_parts && !ctx->problems; i++) {
        int64_t amount = installment_amount(ctx, a, number, a->parts[i]);
        sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO installment_part(allocation_id, number,"
                                         " funder_id, amount_cents) VALUES(:id, :n, :funder,"
                                         " :amount)");
        if (!st)
            break;
        row_bind_int(st, ":id", (int64_t)a->id);
        row_bind_int(st, ":n", number);
        row_bind_text(st, ":funder", a->parts[i]->funder_id);
        row_bind_int(st, ":amount", amount);
        ctx_step(ctx, st, "id");
        total += amount;
    }
    sqlite3_stmt *st = ctx->problems ? NULL
                                     : ctx_stmt(ctx, "UPDATE allocation_installment SET state = 2,"
                                                     " amount_cents = :total, due_ms = :now"
                                                     " WHERE allocation_id = :id AND number = :n");
    if (!st)
        return ctx->last_status;
    row_bind_int(st, ":total", total);
    row_bind_int(st, ":id", (int64_t)a->id);
    row_bind_int(st, ":n", number);
    ctx_bind(ctx, st);
    if (ctx_step(ctx, st, "id") != STATUS_OK)
        return ctx->last_status;
    fund_allocation_t *now = funding_allocation_load(ctx, a->id, "id");
    fund_alloc_installment_t *in = NULL;
    for (size_t i = 0; now && i < now->n_installments; i++)
        if (now->installments[i]->number == number)
            in = now->installments[i];
    status_t s = ctx->last_status;
    if (in) {
        Concerto__Funding__V1__InstallmentDue ev = CONCERTO__FUNDING__V1__INSTALLMENT_DUE__INIT;
        ev.actor = (char *)ctx->actor;
        ev.has_allocation_id = 1;
        ev.allocation_id = a->id;
        ev.table_id = now->table_id;
        ev.program_id = now->program_id;
        ev.fiscal_year = now->fiscal_year;
        ev.mandataire_id = now->mandataire_id;
        ev.installment = in;
        s = ctx_emit(ctx, "table", now->table_id, &ev.base);
    }
    if (now)
        protobuf_c_message_free_unpacked(&now->base, NULL);
    return s;
}

/* An installment whose moment has come: due when the allocation is
 * approved, held while it is suspended, cancelled once it is closed. */
static status_t installment_arrive(ctx_t *ctx, const fund_allocation_t *a, uint32_t number)
{
    switch (a->state) {
    case FUNDING_APPROVED:
        return installment_fall_due(ctx, a, number);
    case FUNDING_SUSPENDED:
        return installment_set(ctx, a->id, number, FUNDING_HELD);
    default:
        return installment_set(ctx, a->id, number, FUNDING_CANCELLED);
    }
}

/* Whether the Table's annual report for the allocation's year is in. */
static int installment_report_in(ctx_t *ctx, const fund_allocation_t *a)
{
    char key[2 * SHAPE_SLUG_MAX + 2];
    snprintf(key, sizeof key, "%s/%s", a->table_id, a->fiscal_year);
    return ctx_exists(ctx, "SELECT 1 FROM report_received WHERE table_id || '/' || fiscal_year = ?",
                      key);
}

status_t funding_installments_begin(ctx_t *ctx, const fund_allocation_t *a)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO allocation_installment(allocation_id, number,"
                                     " share_bp, due_on, on_report) SELECT :id, number, share_bp,"
                                     " due_on, on_report FROM installment_plan"
                                     " WHERE program_id = :program_id"
                                     " AND fiscal_year = :fiscal_year ORDER BY number");
    if (!st)
        return ctx->last_status;
    row_bind_int(st, ":id", (int64_t)a->id);
    row_bind_text(st, ":program_id", a->program_id);
    row_bind_text(st, ":fiscal_year", a->fiscal_year);
    if (ctx_step(ctx, st, "id") != STATUS_OK)
        return ctx->last_status;
    fund_allocation_t *now = funding_allocation_load(ctx, a->id, "id");
    int report = now && installment_report_in(ctx, now);
    for (size_t i = 0; now && i < now->n_installments && !ctx->problems; i++) {
        const fund_alloc_installment_t *in = now->installments[i];
        int64_t due_ms = service_call_now_ms(ctx->call);
        if (in->due_on && clock_day_start_ms(in->due_on, &due_ms) != 0)
            continue;
        if (!in->due_on && !report)
            continue; /* a holdback waits for the report */
        Concerto__Funding__V1__InstallmentDueRequest req =
            CONCERTO__FUNDING__V1__INSTALLMENT_DUE_REQUEST__INIT;
        req.has_allocation_id = req.has_number = 1;
        req.allocation_id = a->id;
        req.number = in->number;
        char key[INSTALLMENT_KEY_LEN];
        installment_key(a->id, in->number, key);
        if (service_call_schedule(ctx->call, key, due_ms, &req.base) != 0)
            ctx_problem(ctx, STATUS_INTERNAL, "cannot schedule installment %u", in->number);
    }
    if (now)
        protobuf_c_message_free_unpacked(&now->base, NULL);
    return ctx->problems ? ctx->status : STATUS_OK;
}

status_t funding_installments_resume(ctx_t *ctx, const fund_allocation_t *a)
{
    for (size_t i = 0; i < a->n_installments && !ctx->problems; i++)
        if ((int)a->installments[i]->state == FUNDING_HELD)
            installment_fall_due(ctx, a, a->installments[i]->number);
    return ctx->problems ? ctx->status : STATUS_OK;
}

status_t funding_installments_cancel(ctx_t *ctx, const fund_allocation_t *a)
{
    for (size_t i = 0; i < a->n_installments && !ctx->problems; i++) {
        const fund_alloc_installment_t *in = a->installments[i];
        char key[INSTALLMENT_KEY_LEN];
        installment_key(a->id, in->number, key);
        /* Whatever its state: a timer already fired is simply not there. */
        if (service_call_cancel_timer(ctx->call, key) < 0)
            ctx_problem(ctx, STATUS_INTERNAL, "cannot cancel installment %u", in->number);
        else if ((int)in->state == FUNDING_PENDING || (int)in->state == FUNDING_HELD)
            installment_set(ctx, a->id, in->number, FUNDING_CANCELLED);
    }
    return ctx->problems ? ctx->status : STATUS_OK;
}

/* --- handlers */

int funding_handle_installment_due(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__InstallmentDueRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!r->has_allocation_id || !r->has_number)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "allocation_id", "and number are required");
    if (ctx.problems || !funding_require_admin(&ctx, "make an installment fall due"))
        return ctx_fail(&ctx);
    fund_allocation_t *a = funding_allocation_load(&ctx, r->allocation_id, "allocation_id");
    const fund_alloc_installment_t *in = NULL;
    for (size_t i = 0; a && i < a->n_installments; i++)
        if (a->installments[i]->number == r->number)
            in = a->installments[i];
    if (a && !in)
        ctx_violation(&ctx, STATUS_NOT_FOUND, "number",
                      "allocation %" PRIu64 " has no installment %u", a->id, r->number);
    /* Only a pending installment arrives: a timer fires once, and a
     * holdback's report may have come first. */
    if (in && (int)in->state == FUNDING_PENDING)
        installment_arrive(&ctx, a, r->number);
    fund_allocation_t *now = ctx.problems || !a ? NULL : funding_allocation_load(&ctx, a->id, "id");
    if (a)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)now);
}

/* Records the report and releases each allocation's pending holdbacks of
 * that year (held instead while it is suspended). */
static void report_release(ctx_t *ctx, const char *table_id, const char *fiscal_year,
                           Concerto__Funding__V1__AllocationList *out)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT DISTINCT a.id FROM allocation a"
                                     " JOIN allocation_installment i ON i.allocation_id = a.id"
                                     " WHERE a.table_id = :table_id"
                                     " AND a.fiscal_year = :fiscal_year AND i.on_report = 1"
                                     " AND i.state = 1 ORDER BY a.id");
    if (!st)
        return;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":fiscal_year", fiscal_year);
    int64_t ids[FUNDING_MAX_TABLE_ALLOCATIONS];
    size_t n = funding_ids(ctx, st, ids, FUNDING_MAX_TABLE_ALLOCATIONS);
    out->allocations = xcalloc(n ? n : 1, sizeof *out->allocations);
    for (size_t i = 0; i < n && !ctx->problems; i++) {
        fund_allocation_t *a = funding_allocation_load(ctx, (uint64_t)ids[i], "id");
        for (size_t j = 0; a && j < a->n_installments && !ctx->problems; j++)
            if (a->installments[j]->on_report && (int)a->installments[j]->state == FUNDING_PENDING)
                installment_arrive(ctx, a, a->installments[j]->number);
        if (a)
            protobuf_c_message_free_unpacked(&a->base, NULL);
        fund_allocation_t *now = ctx->problems ? NULL : funding_allocation_load(ctx, ids[i], "id");
        if (now)
            out->allocations[out->n_allocations++] = now;
    }
}

int funding_handle_report_received(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__RecordReportReceivedRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", r->table_id, FIELD_REQUIRED);
    funding_field_year(&ctx, "fiscal_year", r->fiscal_year, FIELD_REQUIRED, NULL);
    if (field_date(&ctx, "received_on", r->received_on, 0) && field_nonempty(r->received_on) &&
        strcmp(r->received_on, ctx.today) > 0)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "received_on", "must not be in the future");
    if (ctx.problems)
        return ctx_fail(&ctx);
    if (!ctx_exists(&ctx, "SELECT 1 FROM reg_table WHERE id = ?", r->table_id) && !ctx.problems)
        ctx_violation(&ctx, STATUS_NOT_FOUND, "table_id", "Table %s is not known to funding",
                      r->table_id);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : ctx_stmt(&ctx, "INSERT INTO report_received(table_id,"
                                                     " fiscal_year, received_on, recorded_by,"
                                                     " recorded_ms) VALUES(:table_id,"
                                                     " :fiscal_year, COALESCE(:received_on,"
                                                     " :today), :actor, :now)"
                                                     " ON CONFLICT DO NOTHING");
    Concerto__Funding__V1__AllocationList *list = xmalloc(sizeof *list);
    concerto__funding__v1__allocation_list__init(list);
    if (st) {
        row_bind(st, msg);
        ctx_bind(&ctx, st);
        if (ctx_step(&ctx, st, "table_id") == STATUS_OK)
            report_release(&ctx, r->table_id, r->fiscal_year, list);
    }
    return ctx_finish_free(&ctx, &list->base);
}
