/* funding_table: what funding knows of one Table (GET
 * /v1/tables/{id}/funding), and its part of the gateway's fan-out status:
 * the current fiscal year's allocations and eligibility. A Table funding
 * has not heard of is answered OK with an empty summary and how far the
 * registry's events are applied (docs/gateway.md, the fan-out contract). */
#include <stdlib.h>

#include "concerto/common/v1/table_status.pb-c.h"
#include "field.h"
#include "fiscal_year.h"
#include "funding.h"
#include "row.h"
#include "xalloc.h"

/* The Table's row as TableFunding's fields, with its territory's top-level
 * borough or sector (territories nest at most two deep). */
static Concerto__Funding__V1__TableFunding *table_summary(ctx_t *ctx, const char *table_id)
{
    Concerto__Funding__V1__TableFunding *tf =
        (void *)ctx_load(ctx,
                         "SELECT t.id AS table_id, 1 AS known, t.name, t.territory_id,"
                         " COALESCE(g.id, p.id, r.id) AS borough_id, t.mandataire_id,"
                         " t.status AS recognition_status"
                         " FROM reg_table t LEFT JOIN reg_territory r ON r.id = t.territory_id"
                         " LEFT JOIN reg_territory p ON p.id = r.parent_id"
                         " LEFT JOIN reg_territory g ON g.id = p.parent_id WHERE t.id = ?",
                         table_id, &concerto__funding__v1__table_funding__descriptor, NULL);
    if (!tf && !ctx->problems) {
        tf = xmalloc(sizeof *tf);
        concerto__funding__v1__table_funding__init(tf);
        tf->table_id = xstrdup(table_id);
        tf->has_known = 1;
    }
    return tf;
}

/* The Table's allocations (of `fiscal_year` unless NULL). */
static void table_allocations(ctx_t *ctx, Concerto__Funding__V1__TableFunding *tf,
                              const char *fiscal_year)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT id FROM allocation WHERE table_id = :table_id"
                                     " AND (:fiscal_year IS NULL OR fiscal_year = :fiscal_year)"
                                     " ORDER BY fiscal_year, program_id");
    if (!st)
        return;
    row_bind_text(st, ":table_id", tf->table_id);
    row_bind_text(st, ":fiscal_year", fiscal_year);
    int64_t ids[FUNDING_MAX_TABLE_ALLOCATIONS];
    size_t n = funding_ids(ctx, st, ids, FUNDING_MAX_TABLE_ALLOCATIONS);
    tf->allocations = xcalloc(n ? n : 1, sizeof *tf->allocations);
    for (size_t i = 0; i < n; i++) {
        fund_allocation_t *a = funding_allocation_load(ctx, (uint64_t)ids[i], NULL);
        if (a)
            tf->allocations[tf->n_allocations++] = a;
    }
}

/* The Table's current decisions (of `fiscal_year` unless NULL). */
static void table_decisions(ctx_t *ctx, Concerto__Funding__V1__TableFunding *tf,
                            const char *fiscal_year)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT decision FROM eligibility WHERE table_id = :table_id"
                                     " AND (:fiscal_year IS NULL OR fiscal_year = :fiscal_year)"
                                     " ORDER BY fiscal_year, program_id");
    if (!st)
        return;
    row_bind_text(st, ":table_id", tf->table_id);
    row_bind_text(st, ":fiscal_year", fiscal_year);
    tf->decisions = xcalloc(FUNDING_MAX_TABLE_ALLOCATIONS, sizeof *tf->decisions);
    int rc = SQLITE_DONE;
    while (tf->n_decisions < FUNDING_MAX_TABLE_ALLOCATIONS &&
           (rc = sqlite3_step(st)) == SQLITE_ROW) {
        fund_decision_t *d = concerto__funding__v1__eligibility_decision__unpack(
            NULL, (size_t)sqlite3_column_bytes(st, 0), sqlite3_column_blob(st, 0));
        if (d)
            tf->decisions[tf->n_decisions++] = d;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ctx_db_error(ctx, rc, "table_id");
    sqlite3_reset(st);
}

/* Answers everything funding knows of `table_id` (for `fiscal_year`
 * unless NULL), with the registry's cursor. */
static int table_answer(ctx_t *ctx, const char *table_id, const char *fiscal_year)
{
    Concerto__Funding__V1__TableFunding *tf = table_summary(ctx, table_id);
    if (!tf)
        return ctx_fail(ctx);
    tf->fiscal_year = fiscal_year ? xstrdup(fiscal_year) : NULL;
    table_allocations(ctx, tf, fiscal_year);
    table_decisions(ctx, tf, fiscal_year);
    Concerto__Common__V1__SubscriberCursor cursor = CONCERTO__COMMON__V1__SUBSCRIBER_CURSOR__INIT;
    if (service_call_cursor(ctx->call, "registry", &cursor) == 0)
        tf->registry = &cursor;
    int rc = ctx_finish(ctx, &tf->base);
    /* The cursor lives on the stack and borrows its source. */
    tf->registry = NULL;
    protobuf_c_message_free_unpacked(&tf->base, NULL);
    return rc;
}

int funding_handle_table_funding(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__GetTableFundingRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", r->table_id, FIELD_REQUIRED);
    funding_field_year(&ctx, "fiscal_year", r->fiscal_year, 0, NULL);
    if (ctx.problems)
        return ctx_fail(&ctx);
    return table_answer(&ctx, r->table_id, field_nonempty(r->fiscal_year));
}

int funding_handle_table_status(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Common__V1__TableStatusRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    int first_year = 0;
    if (!field_slug(&ctx, "table_id", r->table_id, FIELD_REQUIRED) ||
        fiscal_year_of(ctx.today, &first_year) != 0)
        return ctx_fail(&ctx);
    char label[FISCAL_YEAR_LABEL_LEN];
    fiscal_year_label(first_year, label);
    return table_answer(&ctx, r->table_id, label);
}
