/* funding_summary: a program's fiscal year in figures: what is committed,
 * paid and left in the envelope, per funder and per top-level borough or
 * sector (a Table counts under its territory's; territories nest at most
 * two deep). Committed: approved and suspended allocations, and what the
 * closed ones paid; paid: what the allocations' parts say is paid, which
 * every ledger entry moves in its own transaction (so it is the ledger's
 * total, read in the time of a few rows however long the ledger). */
#include <stdlib.h>

#include "field.h"
#include "funding.h"
#include "row.h"
#include "xalloc.h"

/* A funder part's committed amount, in SQL over allocation `a` and its
 * part `p`: all of it while approved or suspended, what was paid once
 * closed. */
#define PART_COMMITTED                                                                             \
    "CASE WHEN a.state IN (2, 3) THEN p.amount_cents WHEN a.state = 4 THEN p.paid_cents"           \
    " ELSE 0 END"

static const char summary_totals_sql[] =
    "SELECT y.envelope_cents,"
    " (SELECT COALESCE(SUM(" PART_COMMITTED "), 0) FROM allocation a"
    "  JOIN allocation_part p ON p.allocation_id = a.id"
    "  WHERE a.program_id = y.program_id AND a.fiscal_year = y.fiscal_year),"
    " (SELECT COALESCE(SUM(p.paid_cents), 0) FROM allocation a"
    "  JOIN allocation_part p ON p.allocation_id = a.id"
    "  WHERE a.program_id = y.program_id AND a.fiscal_year = y.fiscal_year),"
    " (SELECT COALESCE(SUM(p.amount_cents - p.paid_cents), 0) FROM allocation a"
    "  JOIN allocation_part p ON p.allocation_id = a.id WHERE a.state IN (2, 3)"
    "  AND a.program_id = y.program_id AND a.fiscal_year = y.fiscal_year),"
    " (SELECT count(*) FROM allocation a"
    "  WHERE a.program_id = y.program_id AND a.fiscal_year = y.fiscal_year)"
    " FROM program_year y WHERE y.program_id = :program_id AND y.fiscal_year = :fiscal_year";

static void summary_totals(ctx_t *ctx, Concerto__Funding__V1__ProgramSummary *s)
{
    sqlite3_stmt *st = ctx_stmt(ctx, summary_totals_sql);
    if (!st)
        return;
    row_bind_text(st, ":program_id", s->program_id);
    row_bind_text(st, ":fiscal_year", s->fiscal_year);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s->has_envelope_cents = s->has_committed_cents = s->has_paid_cents = 1;
        s->has_remaining_cents = s->has_to_pay_cents = s->has_allocations = 1;
        s->envelope_cents = sqlite3_column_int64(st, 0);
        s->committed_cents = sqlite3_column_int64(st, 1);
        s->paid_cents = sqlite3_column_int64(st, 2);
        s->to_pay_cents = sqlite3_column_int64(st, 3);
        s->allocations = (uint32_t)sqlite3_column_int64(st, 4);
        s->remaining_cents = s->envelope_cents - s->committed_cents;
    } else if (rc == SQLITE_DONE) {
        ctx_violation(ctx, STATUS_NOT_FOUND, "fiscal_year", "program %s has no fiscal year %s",
                      s->program_id, s->fiscal_year);
    } else {
        ctx_db_error(ctx, rc, "fiscal_year");
    }
    sqlite3_reset(st);
}

static const char summary_funders_sql[] =
    "SELECT f.funder_id, COALESCE(SUM(" PART_COMMITTED "), 0) AS committed_cents,"
    " COALESCE(SUM(p.paid_cents), 0) AS paid_cents,"
    " COALESCE(SUM(CASE WHEN a.state IN (2, 3) THEN p.amount_cents - p.paid_cents ELSE 0 END),"
    " 0) AS to_pay_cents"
    " FROM funder_share f LEFT JOIN allocation a ON a.program_id = f.program_id"
    " AND a.fiscal_year = f.fiscal_year LEFT JOIN allocation_part p"
    " ON p.allocation_id = a.id AND p.funder_id = f.funder_id"
    " WHERE f.program_id = :program_id AND f.fiscal_year = :fiscal_year"
    " GROUP BY f.funder_id ORDER BY f.funder_id";

static const char summary_boroughs_sql[] =
    "SELECT COALESCE(g.id, q.id, r.id, 'unknown') AS borough_id,"
    " COALESCE(g.name, q.name, r.name) AS name, count(DISTINCT a.table_id) AS tables,"
    " SUM((SELECT SUM(" PART_COMMITTED ") FROM allocation_part p"
    "  WHERE p.allocation_id = a.id)) AS committed_cents,"
    " SUM((SELECT SUM(p.paid_cents) FROM allocation_part p"
    "  WHERE p.allocation_id = a.id)) AS paid_cents"
    " FROM allocation a LEFT JOIN reg_table t ON t.id = a.table_id"
    " LEFT JOIN reg_territory r ON r.id = t.territory_id"
    " LEFT JOIN reg_territory q ON q.id = r.parent_id"
    " LEFT JOIN reg_territory g ON g.id = q.parent_id"
    " WHERE a.program_id = :program_id AND a.fiscal_year = :fiscal_year"
    " AND a.state <> 1 GROUP BY 1 ORDER BY 1 LIMIT 500";

static void summary_funders(ctx_t *ctx, Concerto__Funding__V1__ProgramSummary *s)
{
    sqlite3_stmt *st = ctx_stmt(ctx, summary_funders_sql);
    if (!st)
        return;
    row_bind_text(st, ":program_id", s->program_id);
    row_bind_text(st, ":fiscal_year", s->fiscal_year);
    s->funders = xcalloc(FUNDING_MAX_SHARES, sizeof *s->funders);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && s->n_funders < FUNDING_MAX_SHARES)
        s->funders[s->n_funders++] = (Concerto__Funding__V1__FunderFigures *)row_read(
            st, &concerto__funding__v1__funder_figures__descriptor);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ctx_db_error(ctx, rc, "fiscal_year");
    sqlite3_reset(st);
}

static void summary_boroughs(ctx_t *ctx, Concerto__Funding__V1__ProgramSummary *s)
{
    sqlite3_stmt *st = ctx_stmt(ctx, summary_boroughs_sql);
    if (!st)
        return;
    row_bind_text(st, ":program_id", s->program_id);
    row_bind_text(st, ":fiscal_year", s->fiscal_year);
    s->boroughs = xcalloc(500, sizeof *s->boroughs);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        s->boroughs[s->n_boroughs++] = (Concerto__Funding__V1__BoroughFigures *)row_read(
            st, &concerto__funding__v1__borough_figures__descriptor);
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "fiscal_year");
    sqlite3_reset(st);
}

int funding_handle_summary(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__GetProgramSummaryRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    funding_field_key(&ctx, r->program_id, r->fiscal_year);
    if (ctx.problems)
        return ctx_fail(&ctx);
    Concerto__Funding__V1__ProgramSummary *s = xmalloc(sizeof *s);
    concerto__funding__v1__program_summary__init(s);
    s->program_id = xstrdup(r->program_id);
    s->fiscal_year = xstrdup(r->fiscal_year);
    summary_totals(&ctx, s);
    if (!ctx.problems)
        summary_funders(&ctx, s);
    if (!ctx.problems)
        summary_boroughs(&ctx, s);
    return ctx_finish_free(&ctx, &s->base);
}
