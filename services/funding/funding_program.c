/* funding_program: funders and programs (entities, lists), and a
 * program's fiscal years: the amount per Table, the envelope, the
 * funders' shares, and what the year has committed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "fiscal_year.h"
#include "funding.h"
#include "money.h"
#include "row.h"
#include "shape.h"
#include "xalloc.h"

/* --- funders and programs */

static void funder_validate(ctx_t *ctx, const ProtobufCMessage *m)
{
    const fund_funder_t *f = (const void *)m;
    field_slug(ctx, "funder.id", f->id, FIELD_REQUIRED);
    field_text(ctx, "funder.name", f->name, FUNDING_MAX_NAME, FIELD_REQUIRED);
    field_text(ctx, "funder.notes", f->notes, FUNDING_MAX_TEXT, FIELD_MULTILINE);
}

static void program_validate(ctx_t *ctx, const ProtobufCMessage *m)
{
    const fund_program_t *p = (const void *)m;
    field_slug(ctx, "program.id", p->id, FIELD_REQUIRED);
    field_text(ctx, "program.name", p->name, FUNDING_MAX_NAME, FIELD_REQUIRED);
    field_text(ctx, "program.notes", p->notes, FUNDING_MAX_TEXT, FIELD_MULTILINE);
}

static const entity_read_only_t stamps_read_only[] = {
    {"created_ms", NULL}, {"updated_ms", NULL}, {NULL, NULL}};

const entity_t funding_funder_entity = {
    .kind = "funder",
    .noun = "funder",
    .desc = &concerto__funding__v1__funder__descriptor,
    .select = "SELECT id, name, notes, created_ms, updated_ms FROM funder WHERE id = ?",
    .insert = "INSERT INTO funder(id, name, notes, created_ms, updated_ms)"
              " VALUES(:id, :name, :notes, :now, :now)",
    .update = "UPDATE funder SET name = :name, notes = :notes, updated_ms = :now WHERE id = :id",
    .registered = &concerto__funding__v1__funder_registered__descriptor,
    .updated = &concerto__funding__v1__funder_updated__descriptor,
    .read_only = stamps_read_only,
    .validate = funder_validate,
};

const entity_t funding_program_entity = {
    .kind = "program",
    .noun = "program",
    .desc = &concerto__funding__v1__program__descriptor,
    .select = "SELECT id, name, core, notes, created_ms, updated_ms FROM program WHERE id = ?",
    .insert = "INSERT INTO program(id, name, core, notes, created_ms, updated_ms)"
              " VALUES(:id, :name, COALESCE(:core, 0), :notes, :now, :now)",
    .update = "UPDATE program SET name = :name, core = COALESCE(:core, 0), notes = :notes,"
              " updated_ms = :now WHERE id = :id",
    .registered = &concerto__funding__v1__program_registered__descriptor,
    .updated = &concerto__funding__v1__program_updated__descriptor,
    .read_only = stamps_read_only,
    .validate = program_validate,
};

const page_list_t funding_funder_list = {
    .list = "funders",
    .sql = "SELECT id, name, notes, created_ms, updated_ms FROM funder WHERE id > :after"
           " ORDER BY id LIMIT :page_limit",
    .answer = &concerto__funding__v1__funder_list__descriptor,
};

const page_list_t funding_program_list = {
    .list = "programs",
    .sql = "SELECT id, name, core, notes, created_ms, updated_ms FROM program WHERE id > :after"
           " ORDER BY id LIMIT :page_limit",
    .answer = &concerto__funding__v1__program_list__descriptor,
};

/* --- fiscal years */

int funding_field_year(ctx_t *ctx, const char *path, const char *label, int flags, int *first_year)
{
    if (!field_nonempty(label)) {
        if (flags & FIELD_REQUIRED)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is required");
        return !(flags & FIELD_REQUIRED);
    }
    char err[160];
    int first = 0;
    if (strlen(label) > 16 || fiscal_year_parse(label, &first, err, sizeof err) != 0) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "%s",
                      strlen(label) > 16 ? "is not a fiscal year such as 2025-2026" : err);
        return 0;
    }
    if (first_year)
        *first_year = first;
    return 1;
}

void funding_field_key(ctx_t *ctx, const char *program_id, const char *fiscal_year)
{
    field_slug(ctx, "program_id", program_id, FIELD_REQUIRED);
    funding_field_year(ctx, "fiscal_year", fiscal_year, FIELD_REQUIRED, NULL);
}

/* What a year has committed, in SQL over `y` (a program_year row): the
 * amounts of its approved and suspended allocations, and what its closed
 * ones paid (closing frees the rest). */
#define YEAR_COMMITTED                                                                             \
    "(SELECT COALESCE(SUM(CASE WHEN a.state IN (2, 3) THEN a.amount_cents"                         \
    "  WHEN a.state = 4 THEN (SELECT COALESCE(SUM(p.paid_cents), 0) FROM allocation_part p"        \
    "   WHERE p.allocation_id = a.id) ELSE 0 END), 0)"                                             \
    " FROM allocation a WHERE a.program_id = y.program_id AND a.fiscal_year = y.fiscal_year)"

/* A year's columns named after ProgramYear's fields; its shares and its
 * schedule, repeated fields, as text: "funder:bp ..." and
 * "number:bp:due_on ..." (due_on empty for a holdback). */
#define YEAR_COLUMNS                                                                               \
    "y.program_id, y.fiscal_year, y.amount_per_table_cents, y.envelope_cents, y.first_day,"        \
    " y.last_day, y.notes, y.updated_ms, " YEAR_COMMITTED " AS committed_cents,"                   \
    " y.envelope_cents - " YEAR_COMMITTED " AS remaining_cents,"                                   \
    " (SELECT count(*) FROM allocation a WHERE a.program_id = y.program_id"                        \
    "  AND a.fiscal_year = y.fiscal_year) AS allocations,"                                         \
    " (SELECT group_concat(funder_id || ':' || share_bp, ' ') FROM (SELECT funder_id, share_bp"    \
    "  FROM funder_share s WHERE s.program_id = y.program_id AND s.fiscal_year = y.fiscal_year"    \
    "  ORDER BY funder_id)) AS shares_text,"                                                       \
    " (SELECT group_concat(number || ':' || share_bp || ':' || COALESCE(due_on, ''), ' ')"         \
    "  FROM (SELECT * FROM installment_plan i WHERE i.program_id = y.program_id"                   \
    "  AND i.fiscal_year = y.fiscal_year ORDER BY number)) AS schedule_text"

static fund_share_t *share_new(const char *funder_id, uint32_t bp)
{
    fund_share_t *s = xmalloc(sizeof *s);
    concerto__funding__v1__funder_share__init(s);
    s->funder_id = xstrdup(funder_id);
    s->has_share_bp = 1;
    s->share_bp = bp;
    return s;
}

static fund_installment_t *installment_new(uint32_t number, uint32_t bp, const char *due_on)
{
    fund_installment_t *i = xmalloc(sizeof *i);
    concerto__funding__v1__installment__init(i);
    i->has_number = i->has_share_bp = 1;
    i->number = number;
    i->share_bp = bp;
    if (*due_on)
        i->due_on = xstrdup(due_on);
    else
        i->has_on_report = i->on_report = 1;
    return i;
}

/* The text column `name` of the current row, split at spaces: a copy the
 * caller frees, with *n items in `items`. */
static char *year_items(sqlite3_stmt *st, const char *name, char **items, size_t max, size_t *n)
{
    int col = row_column(st, name);
    const char *text = col >= 0 ? (const char *)sqlite3_column_text(st, col) : NULL;
    char *copy = xstrdup(text ? text : "");
    *n = *copy ? funding_split(copy, ' ', items, max) : 0;
    return copy;
}

/* Fills the shares and the schedule from their text columns. */
static void year_complete(ProtobufCMessage *m, sqlite3_stmt *st)
{
    fund_year_t *y = (fund_year_t *)m;
    char *items[FUNDING_MAX_SHARES + FUNDING_MAX_INSTALLMENTS], *f[3];
    size_t n = 0;
    char *copy = year_items(st, "shares_text", items, FUNDING_MAX_SHARES, &n);
    y->shares = xcalloc(n ? n : 1, sizeof *y->shares);
    for (size_t i = 0; i < n; i++)
        if (funding_split(items[i], ':', f, 2) == 2)
            y->shares[y->n_shares++] = share_new(f[0], (uint32_t)strtoul(f[1], NULL, 10));
    free(copy);
    copy = year_items(st, "schedule_text", items, FUNDING_MAX_INSTALLMENTS, &n);
    y->schedule = xcalloc(n ? n : 1, sizeof *y->schedule);
    for (size_t i = 0; i < n; i++)
        if (funding_split(items[i], ':', f, 3) == 3)
            y->schedule[y->n_schedule++] = installment_new((uint32_t)strtoul(f[0], NULL, 10),
                                                           (uint32_t)strtoul(f[1], NULL, 10), f[2]);
    free(copy);
}

size_t funding_split(char *s, char sep, char **out, size_t max)
{
    size_t n = 0;
    while (n < max) {
        out[n++] = s;
        char *next = strchr(s, sep);
        if (!next)
            break;
        *next = '\0';
        s = next + 1;
    }
    return n;
}

/* The year, or NULL when there is none (or on a recorded database
 * error). */
static fund_year_t *year_load(ctx_t *ctx, const char *program_id, const char *fiscal_year)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT " YEAR_COLUMNS " FROM program_year y"
                                     " WHERE y.program_id = :program_id"
                                     " AND y.fiscal_year = :fiscal_year");
    if (!st)
        return NULL;
    row_bind_text(st, ":program_id", program_id);
    row_bind_text(st, ":fiscal_year", fiscal_year);
    fund_year_t *y = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        y = (fund_year_t *)row_read(st, &concerto__funding__v1__program_year__descriptor);
        year_complete(&y->base, st);
    } else if (rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "fiscal_year");
    }
    sqlite3_reset(st);
    return y;
}

fund_year_t *funding_year_require(ctx_t *ctx, const char *program_id, const char *fiscal_year,
                                  const char *field)
{
    size_t mark = ctx->problems;
    fund_year_t *y = year_load(ctx, program_id, fiscal_year);
    if (!y && ctx->problems == mark)
        ctx_violation(ctx, STATUS_NOT_FOUND, field, "program %s has no fiscal year %s", program_id,
                      fiscal_year);
    return y;
}

int64_t funding_year_committed(ctx_t *ctx, const char *program_id, const char *fiscal_year)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT " YEAR_COMMITTED " FROM program_year y"
                                     " WHERE y.program_id = :program_id"
                                     " AND y.fiscal_year = :fiscal_year");
    if (!st)
        return -1;
    row_bind_text(st, ":program_id", program_id);
    row_bind_text(st, ":fiscal_year", fiscal_year);
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "fiscal_year");
        v = -1;
    }
    sqlite3_reset(st);
    return v;
}

static void year_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Funding__V1__ListProgramYearsRequest *req = (const void *)msg;
    if (field_slug(ctx, "program_id", req->program_id, FIELD_REQUIRED))
        ctx_require(ctx, "SELECT 1 FROM program WHERE id = ?", "program_id", "program",
                    req->program_id);
}

const page_list_t funding_year_list = {
    .list = "program-years",
    .sql = "SELECT y.fiscal_year AS k, " YEAR_COLUMNS " FROM program_year y"
           " WHERE y.program_id = :program_id AND y.fiscal_year > :after"
           " ORDER BY y.fiscal_year LIMIT :page_limit",
    .answer = &concerto__funding__v1__program_year_list__descriptor,
    .check = year_list_check,
    .complete = year_complete,
};

/* The shares' shapes: one to FUNDING_MAX_SHARES funders, each once, each
 * 1-10,000 basis points, together exactly 10,000. */
static void year_validate_shares(ctx_t *ctx, const Concerto__Funding__V1__SetProgramYearRequest *r)
{
    if (r->n_shares == 0 || r->n_shares > FUNDING_MAX_SHARES) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "shares", "must name 1 to %d funders",
                      FUNDING_MAX_SHARES);
        return;
    }
    uint32_t total = 0;
    int shaped = 1;
    for (size_t i = 0; i < r->n_shares; i++) {
        char path[64];
        const fund_share_t *s = r->shares[i];
        snprintf(path, sizeof path, "shares[%zu].funder_id", i);
        shaped &= field_slug(ctx, path, s->funder_id, FIELD_REQUIRED);
        for (size_t j = 0; j < i && s->funder_id; j++)
            if (r->shares[j]->funder_id && strcmp(s->funder_id, r->shares[j]->funder_id) == 0) {
                ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "repeats funder %s",
                              s->funder_id);
                shaped = 0;
            }
        snprintf(path, sizeof path, "shares[%zu].share_bp", i);
        if (!s->has_share_bp || s->share_bp < 1 || s->share_bp > MONEY_BP_WHOLE) {
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "must be 1 to 10000 basis points (10000 is the whole)");
            shaped = 0;
        } else {
            total += s->share_bp;
        }
    }
    if (shaped && total != MONEY_BP_WHOLE)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "shares",
                      "add up to %u basis points; they must make 10000 (the whole)", total);
}

/* The schedule's shapes: at most FUNDING_MAX_INSTALLMENTS, each 1-10,000
 * basis points (10,000 in all), a date on or after `first_day` or a
 * holdback (on_report), dated ones in date order, holdbacks last. */
static void year_validate_schedule(ctx_t *ctx,
                                   const Concerto__Funding__V1__SetProgramYearRequest *r,
                                   const char *first_day)
{
    if (r->n_schedule > FUNDING_MAX_INSTALLMENTS) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "schedule", "has at most %d installments",
                      FUNDING_MAX_INSTALLMENTS);
        return;
    }
    uint32_t total = 0;
    const char *last = NULL;
    int holdback = 0, shaped = 1;
    for (size_t i = 0; i < r->n_schedule; i++) {
        const fund_installment_t *in = r->schedule[i];
        char path[64];
        snprintf(path, sizeof path, "schedule[%zu].number", i);
        field_absent(ctx, path, in->has_number);
        snprintf(path, sizeof path, "schedule[%zu].share_bp", i);
        if (!in->has_share_bp || in->share_bp < 1 || in->share_bp > MONEY_BP_WHOLE) {
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "must be 1 to 10000 basis points of each allocation");
            shaped = 0;
        } else {
            total += in->share_bp;
        }
        snprintf(path, sizeof path, "schedule[%zu].due_on", i);
        int report = in->has_on_report && in->on_report;
        if (report == (field_nonempty(in->due_on) != NULL))
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "give a date, or on_report for a holdback, not both");
        else if (report)
            holdback = 1;
        else if (field_date(ctx, path, in->due_on, 0) && first_day &&
                 strcmp(in->due_on, first_day) < 0)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "must not be before the fiscal year's first day, %s", first_day);
        else if (holdback || (last && strcmp(in->due_on, last) < 0))
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "dated installments come in date order, holdbacks after them");
        else
            last = in->due_on;
    }
    if (shaped && r->n_schedule && total != MONEY_BP_WHOLE)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "schedule",
                      "shares add up to %u basis points; they must make 10000 (the whole)", total);
}

static void year_validate(ctx_t *ctx, const Concerto__Funding__V1__SetProgramYearRequest *r)
{
    funding_field_key(ctx, r->program_id, r->fiscal_year);
    if (r->has_amount_per_table_cents && r->amount_per_table_cents <= 0)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "amount_per_table_cents",
                      "must be more than 0 cents");
    if (!r->has_envelope_cents)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "envelope_cents", "is required");
    else if (r->envelope_cents < 0)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "envelope_cents", "must not be negative");
    year_validate_shares(ctx, r);
    field_text(ctx, "notes", r->notes, FUNDING_MAX_TEXT, FIELD_MULTILINE);
    int first_year = 0;
    char first_day[CLOCK_DATE_LEN], err[160];
    int known = field_nonempty(r->fiscal_year) &&
                fiscal_year_parse(r->fiscal_year, &first_year, err, sizeof err) == 0;
    if (known)
        fiscal_year_first_day(first_year, first_day);
    year_validate_schedule(ctx, r, known ? first_day : NULL);
}

/* 1 when `r` asks for another schedule than the year's `y` (none asks for
 * the default: one payment on the first day). */
static int year_schedule_differs(const fund_year_t *y,
                                 const Concerto__Funding__V1__SetProgramYearRequest *r)
{
    if (r->n_schedule == 0)
        return y->n_schedule != 1 || y->schedule[0]->share_bp != MONEY_BP_WHOLE ||
               !y->schedule[0]->due_on || strcmp(y->schedule[0]->due_on, y->first_day) != 0;
    if (y->n_schedule != r->n_schedule)
        return 1;
    for (size_t i = 0; i < r->n_schedule; i++) {
        const fund_installment_t *a = y->schedule[i], *b = r->schedule[i];
        if (a->share_bp != b->share_bp || !a->due_on != !field_nonempty(b->due_on) ||
            (a->due_on && strcmp(a->due_on, b->due_on) != 0))
            return 1;
    }
    return 0;
}

/* 1 when `r` asks for other shares than the year's `y`. */
static int year_shares_differ(const fund_year_t *y,
                              const Concerto__Funding__V1__SetProgramYearRequest *r)
{
    if (y->n_shares != r->n_shares)
        return 1;
    for (size_t i = 0; i < r->n_shares; i++) {
        int found = 0;
        for (size_t j = 0; j < y->n_shares; j++)
            found |= strcmp(y->shares[j]->funder_id, r->shares[i]->funder_id) == 0 &&
                     y->shares[j]->share_bp == r->shares[i]->share_bp;
        if (!found)
            return 1;
    }
    return 0;
}

/* The program and the funders exist; an existing year `y` (NULL: a new
 * one) keeps its envelope above what it committed, and its shares once it
 * has allocations. */
static void year_check(ctx_t *ctx, const Concerto__Funding__V1__SetProgramYearRequest *r,
                       const fund_year_t *y)
{
    ctx_require(ctx, "SELECT 1 FROM program WHERE id = ?", "program_id", "program", r->program_id);
    for (size_t i = 0; i < r->n_shares; i++) {
        char path[64];
        snprintf(path, sizeof path, "shares[%zu].funder_id", i);
        ctx_require(ctx, "SELECT 1 FROM funder WHERE id = ?", path, "funder",
                    r->shares[i]->funder_id);
    }
    if (!y)
        return;
    char committed[MONEY_TEXT_LEN];
    if (r->envelope_cents < y->committed_cents)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "envelope_cents",
                      "must not be below the %s the year has committed",
                      money_text(y->committed_cents, committed));
    if (y->allocations && year_shares_differ(y, r))
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "shares",
                      "are fixed once the year has allocations (it has %u)", y->allocations);
    char key[SHAPE_SLUG_MAX + FISCAL_YEAR_LABEL_LEN + 2];
    snprintf(key, sizeof key, "%s/%s", r->program_id, r->fiscal_year);
    if (year_schedule_differs(y, r) &&
        ctx_exists(ctx,
                   "SELECT 1 FROM allocation_installment i JOIN allocation a"
                   " ON a.id = i.allocation_id WHERE a.program_id || '/' || a.fiscal_year = ?",
                   key))
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "schedule",
                      "is fixed once the year has an approved allocation");
}

/* Writes the year's schedule: the request's, or one payment on the first
 * day. */
static void year_write_schedule(ctx_t *ctx, const Concerto__Funding__V1__SetProgramYearRequest *r,
                                const char *first_day)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "DELETE FROM installment_plan WHERE program_id = :program_id"
                                     " AND fiscal_year = :fiscal_year");
    if (!st)
        return;
    row_bind(st, &r->base);
    if (ctx_step(ctx, st, "schedule") != STATUS_OK)
        return;
    fund_installment_t one = CONCERTO__FUNDING__V1__INSTALLMENT__INIT;
    one.has_share_bp = 1;
    one.share_bp = MONEY_BP_WHOLE;
    one.due_on = (char *)first_day;
    fund_installment_t *ones[] = {&one};
    fund_installment_t *const *plan = r->n_schedule ? r->schedule : ones;
    size_t n = r->n_schedule ? r->n_schedule : 1;
    for (size_t i = 0; i < n; i++) {
        st = ctx_stmt(ctx, "INSERT INTO installment_plan(program_id, fiscal_year, number,"
                           " share_bp, due_on, on_report) VALUES(:pid, :year, :n, :share_bp,"
                           " :due_on, :report)");
        if (!st)
            return;
        row_bind_text(st, ":pid", r->program_id);
        row_bind_text(st, ":year", r->fiscal_year);
        row_bind_int(st, ":n", (int64_t)i + 1);
        row_bind_int(st, ":report", !field_nonempty(plan[i]->due_on));
        row_bind(st, &plan[i]->base);
        if (ctx_step(ctx, st, "schedule") != STATUS_OK)
            return;
    }
}

/* Writes the year and its shares. */
static void year_write(ctx_t *ctx, const Concerto__Funding__V1__SetProgramYearRequest *r,
                       int first_year)
{
    char first[CLOCK_DATE_LEN], last[CLOCK_DATE_LEN];
    fiscal_year_first_day(first_year, first);
    fiscal_year_last_day(first_year, last);
    sqlite3_stmt *st = ctx_stmt(
        ctx, "INSERT INTO program_year(program_id, fiscal_year, first_day, last_day,"
             " amount_per_table_cents, envelope_cents, notes, updated_ms)"
             " VALUES(:program_id, :fiscal_year, :first_day, :last_day,"
             " COALESCE(:amount_per_table_cents, :default_amount), :envelope_cents, :notes, :now)"
             " ON CONFLICT(program_id, fiscal_year) DO UPDATE SET"
             " amount_per_table_cents = excluded.amount_per_table_cents,"
             " envelope_cents = excluded.envelope_cents, notes = excluded.notes,"
             " updated_ms = excluded.updated_ms");
    if (!st)
        return;
    row_bind(st, &r->base);
    row_bind_text(st, ":first_day", first);
    row_bind_text(st, ":last_day", last);
    row_bind_int(st, ":default_amount", FUNDING_DEFAULT_AMOUNT_CENTS);
    ctx_bind(ctx, st);
    if (ctx_step(ctx, st, "fiscal_year") != STATUS_OK)
        return;
    st = ctx_stmt(ctx, "DELETE FROM funder_share WHERE program_id = :program_id"
                       " AND fiscal_year = :fiscal_year");
    if (!st)
        return;
    row_bind(st, &r->base);
    if (ctx_step(ctx, st, "shares") != STATUS_OK)
        return;
    for (size_t i = 0; i < r->n_shares; i++) {
        st = ctx_stmt(ctx, "INSERT INTO funder_share(program_id, fiscal_year, funder_id, share_bp)"
                           " VALUES(:program_id, :fiscal_year, :funder_id, :share_bp)");
        if (!st)
            return;
        row_bind_text(st, ":program_id", r->program_id);
        row_bind_text(st, ":fiscal_year", r->fiscal_year);
        row_bind(st, &r->shares[i]->base);
        if (ctx_step(ctx, st, "shares") != STATUS_OK)
            return;
    }
    year_write_schedule(ctx, r, first);
}

int funding_handle_set_year(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__SetProgramYearRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    year_validate(&ctx, r);
    if (ctx.problems)
        return ctx_fail(&ctx);
    int first_year = 0;
    funding_field_year(&ctx, "fiscal_year", r->fiscal_year, FIELD_REQUIRED, &first_year);
    fund_year_t *y = year_load(&ctx, r->program_id, r->fiscal_year);
    year_check(&ctx, r, y);
    if (y)
        protobuf_c_message_free_unpacked(&y->base, NULL);
    if (ctx.problems)
        return ctx_fail(&ctx);
    year_write(&ctx, r, first_year);
    y = ctx.problems ? NULL
                     : funding_year_require(&ctx, r->program_id, r->fiscal_year, "fiscal_year");
    if (y) {
        Concerto__Funding__V1__ProgramYearSet ev = CONCERTO__FUNDING__V1__PROGRAM_YEAR_SET__INIT;
        ev.actor = (char *)ctx.actor;
        ev.year = y;
        ctx_emit(&ctx, "program", y->program_id, &ev.base);
    }
    return ctx_finish_free(&ctx, (ProtobufCMessage *)y);
}

int funding_handle_get_year(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__GetProgramYearRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    funding_field_key(&ctx, r->program_id, r->fiscal_year);
    if (ctx.problems)
        return ctx_fail(&ctx);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)funding_year_require(
                                     &ctx, r->program_id, r->fiscal_year, "fiscal_year"));
}
