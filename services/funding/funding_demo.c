/* funding_demo: the demo data (services/funding/demo/, docs/funding.md):
 * its funders, program and year loaded at start through the ordinary
 * commands, and, once funding has applied the registry's events, the
 * demo allocations (DemoAllocationsRequest), each marked as demo. */
#include "funding_demo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_file.h"
#include "field.h"
#include "funding_criteria.h"
#include "fiscal_year.h"
#include "log.h"
#include "row.h"
#include "shape.h"
#include "xalloc.h"

#define DEMO_ACTOR "system:demo-data"
#define DEMO_MAX_FILE (64 * 1024)

/* --- loading the files */

/* <dir>/<name>, parsed; NULL (logged) when it cannot be read or parsed. */
static csv_file_t *demo_read(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    csv_file_t *csv = NULL;
    if (!fp) {
        log_error("demo data not loaded", "file=%s error=\"%s\"", path, strerror(errno));
        free(path);
        return NULL;
    }
    char *text = xmalloc(DEMO_MAX_FILE + 1);
    size_t len = fread(text, 1, DEMO_MAX_FILE + 1, fp);
    fclose(fp);
    csv_file_limits_t limits = {500, 20, 2000};
    csv_file_error_t err;
    if (len > DEMO_MAX_FILE)
        log_error("demo data not loaded", "file=%s error=\"larger than %d bytes\"", path,
                  DEMO_MAX_FILE);
    else if (csv_file_parse(text, len, &limits, &csv, &err) != 0)
        log_error("demo data not loaded", "file=%s line=%zu error=\"%s\"", path, err.line,
                  err.message);
    free(text);
    free(path);
    return csv;
}

/* Runs `req` as the demo data's actor; 0 when it was answered OK. */
static int demo_submit(service_t *svc, const ProtobufCMessage *req, const char *what)
{
    Concerto__Common__V1__Reply *reply = service_submit(svc, req, DEMO_ACTOR);
    int ok = reply && reply->status == CONCERTO__COMMON__V1__STATUS__OK;
    if (!ok)
        log_error("demo data refused", "row=\"%s\" status=%s message=\"%s\"", what,
                  reply ? status_name(reply->status) : "none",
                  reply && reply->message ? reply->message : "");
    if (reply)
        concerto__common__v1__reply__free_unpacked(reply, NULL);
    return ok ? 0 : -1;
}

static const char *cell(const csv_file_t *csv, const csv_file_row_t *row, const char *col)
{
    return csv_file_cell(row, csv_file_column(csv, col));
}

static int demo_funders(service_t *svc, const csv_file_t *csv)
{
    for (size_t i = 0; i < csv->n_rows; i++) {
        const csv_file_row_t *row = &csv->rows[i];
        fund_funder_t f = CONCERTO__FUNDING__V1__FUNDER__INIT;
        f.id = (char *)cell(csv, row, "id");
        f.name = (char *)cell(csv, row, "name");
        f.notes = (char *)cell(csv, row, "notes");
        Concerto__Funding__V1__RegisterFunderRequest req =
            CONCERTO__FUNDING__V1__REGISTER_FUNDER_REQUEST__INIT;
        req.funder = &f;
        if (demo_submit(svc, &req.base, f.id ? f.id : "funder") != 0)
            return -1;
    }
    return 0;
}

static int demo_programs(service_t *svc, const csv_file_t *csv)
{
    for (size_t i = 0; i < csv->n_rows; i++) {
        const csv_file_row_t *row = &csv->rows[i];
        fund_program_t p = CONCERTO__FUNDING__V1__PROGRAM__INIT;
        p.id = (char *)cell(csv, row, "id");
        p.name = (char *)cell(csv, row, "name");
        p.notes = (char *)cell(csv, row, "notes");
        const char *core = cell(csv, row, "core");
        p.has_core = 1;
        p.core = core && strcmp(core, "yes") == 0;
        Concerto__Funding__V1__RegisterProgramRequest req =
            CONCERTO__FUNDING__V1__REGISTER_PROGRAM_REQUEST__INIT;
        req.program = &p;
        if (demo_submit(svc, &req.base, p.id ? p.id : "program") != 0)
            return -1;
    }
    return 0;
}

/* "centraide=4661;ville-de-montreal=2730": the shares of a year. */
static size_t demo_shares(const char *text, fund_share_t *shares, fund_share_t **ptrs, char *ids,
                          size_t ids_len)
{
    size_t n = 0, used = 0;
    for (const char *p = text ? text : ""; *p && n < FUNDING_MAX_SHARES;) {
        size_t len = strcspn(p, ";");
        const char *eq = memchr(p, '=', len);
        if (eq && used + (size_t)(eq - p) + 1 <= ids_len) {
            concerto__funding__v1__funder_share__init(&shares[n]);
            memcpy(ids + used, p, (size_t)(eq - p));
            ids[used + (size_t)(eq - p)] = '\0';
            shares[n].funder_id = ids + used;
            used += (size_t)(eq - p) + 1;
            shares[n].has_share_bp = 1;
            shares[n].share_bp = (uint32_t)strtoul(eq + 1, NULL, 10);
            ptrs[n] = &shares[n];
            n++;
        }
        p += len;
        p += strspn(p, ";");
    }
    return n;
}

/* `current` names the fiscal year the demo starts in, `year`. */
static int demo_years(service_t *svc, const csv_file_t *csv, char *year)
{
    for (size_t i = 0; i < csv->n_rows; i++) {
        const csv_file_row_t *row = &csv->rows[i];
        Concerto__Funding__V1__SetProgramYearRequest req =
            CONCERTO__FUNDING__V1__SET_PROGRAM_YEAR_REQUEST__INIT;
        fund_share_t shares[FUNDING_MAX_SHARES];
        fund_share_t *ptrs[FUNDING_MAX_SHARES];
        char ids[FUNDING_MAX_SHARES * 65];
        const char *label = cell(csv, row, "fiscal_year");
        req.program_id = (char *)cell(csv, row, "program_id");
        req.fiscal_year = label && strcmp(label, "current") == 0 ? year : (char *)label;
        const char *amount = cell(csv, row, "amount_per_table_cents");
        const char *envelope = cell(csv, row, "envelope_cents");
        req.has_amount_per_table_cents = amount != NULL;
        req.amount_per_table_cents = amount ? strtoll(amount, NULL, 10) : 0;
        req.has_envelope_cents = envelope != NULL;
        req.envelope_cents = envelope ? strtoll(envelope, NULL, 10) : 0;
        req.n_shares = demo_shares(cell(csv, row, "shares"), shares, ptrs, ids, sizeof ids);
        req.shares = ptrs;
        req.notes = (char *)cell(csv, row, "notes");
        if (demo_submit(svc, &req.base, req.program_id ? req.program_id : "year") != 0)
            return -1;
    }
    return 0;
}

/* What the demo allocations need once the registry's events are in. */
static struct {
    int pending;
    int waiting_logged;
    char program_id[SHAPE_SLUG_MAX + 1];
    char fiscal_year[FISCAL_YEAR_LABEL_LEN];
} demo;

static int demo_funder_count(service_t *svc)
{
    sqlite3_stmt *st = store_stmt(service_store(svc), "SELECT count(*) FROM funder");
    if (!st)
        return -1;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    return n;
}

/* Submits the demo allocations until they are made (or refused). */
static void demo_tick(service_t *svc, void *arg)
{
    (void)arg;
    if (!demo.pending)
        return;
    Concerto__Funding__V1__DemoAllocationsRequest req =
        CONCERTO__FUNDING__V1__DEMO_ALLOCATIONS_REQUEST__INIT;
    req.program_id = demo.program_id;
    req.fiscal_year = demo.fiscal_year;
    Concerto__Common__V1__Reply *reply = service_submit(svc, &req.base, DEMO_ACTOR);
    int status = reply ? (int)reply->status : STATUS_INTERNAL;
    if (status == STATUS_UNAVAILABLE) {
        if (!demo.waiting_logged)
            log_info("demo allocations wait for the registry's events", "reason=\"%s\"",
                     reply && reply->message ? reply->message : "");
        demo.waiting_logged = 1;
    } else {
        demo.pending = 0;
        if (status == STATUS_OK) {
            Concerto__Funding__V1__AllocationList *list =
                concerto__funding__v1__allocation_list__unpack(NULL, reply->result.len,
                                                               reply->result.data);
            log_info("demo allocations made", "program=%s fiscal_year=%s allocations=%zu",
                     demo.program_id, demo.fiscal_year, list ? list->n_allocations : 0);
            if (list)
                concerto__funding__v1__allocation_list__free_unpacked(list, NULL);
        } else {
            log_error("demo allocations refused", "status=%s message=\"%s\"", status_name(status),
                      reply && reply->message ? reply->message : "");
        }
    }
    if (reply)
        concerto__common__v1__reply__free_unpacked(reply, NULL);
}

int funding_demo_setup(service_t *svc, const char *dir)
{
    int n = demo_funder_count(svc);
    if (n < 0)
        return -1;
    csv_file_t *programs = demo_read(dir, "programs.csv");
    if (!programs)
        return -1;
    /* The allocations go to the first program the demo marks as core, in
     * the fiscal year the daemon starts in. */
    char today[CLOCK_DATE_LEN];
    int first = 0;
    clock_today(today);
    fiscal_year_of(today, &first);
    fiscal_year_label(first, demo.fiscal_year);
    int rc = 0;
    if (n == 0) {
        csv_file_t *funders = demo_read(dir, "funders.csv");
        csv_file_t *years = demo_read(dir, "program_years.csv");
        rc = funders && years && demo_funders(svc, funders) == 0 &&
                     demo_programs(svc, programs) == 0 &&
                     demo_years(svc, years, demo.fiscal_year) == 0
                 ? 0
                 : -1;
        csv_file_destroy(&funders);
        csv_file_destroy(&years);
        if (rc == 0)
            log_info("demo data loaded", "dir=%s fiscal_year=%s", dir, demo.fiscal_year);
    } else {
        log_info("demo data skipped", "reason=\"funders are already registered\" funders=%d", n);
    }
    for (size_t i = 0; i < programs->n_rows; i++) {
        const char *core = cell(programs, &programs->rows[i], "core");
        const char *id = cell(programs, &programs->rows[i], "id");
        if (core && strcmp(core, "yes") == 0 && id && !demo.program_id[0])
            snprintf(demo.program_id, sizeof demo.program_id, "%s", id);
    }
    csv_file_destroy(&programs);
    demo.pending = rc == 0 && demo.program_id[0];
    if (rc == 0 && service_every(svc, 1000, demo_tick, NULL) != 0)
        rc = -1;
    return rc;
}

/* --- the demo allocations */

/* UNAVAILABLE until funding has applied every event the registry has. */
static int demo_caught_up(ctx_t *ctx)
{
    Concerto__Common__V1__SubscriberCursor cursor;
    if (service_call_cursor(ctx->call, "registry", &cursor) != 0)
        return 1; /* not subscribed (tests): what is there is all */
    if (cursor.applied_sequence > 0 && cursor.lag == 0)
        return 1;
    ctx_problem(ctx, STATUS_UNAVAILABLE, "funding has applied %llu of the registry's %llu events",
                (unsigned long long)cursor.applied_sequence,
                (unsigned long long)cursor.source_head);
    return 0;
}

/* The Tables the registry has recognized, by id (caller frees). */
static char **demo_tables(ctx_t *ctx, size_t *n)
{
    sqlite3_stmt *st =
        ctx_stmt(ctx, "SELECT id FROM reg_table WHERE status = 'recognized' ORDER BY id");
    char **ids = NULL;
    *n = 0;
    if (!st)
        return NULL;
    while (sqlite3_step(st) == SQLITE_ROW && *n < 1000) {
        ids = xrealloc(ids, (*n + 1) * sizeof *ids);
        ids[(*n)++] = row_text(st, 0);
    }
    sqlite3_reset(st);
    return ids;
}

/* Allocates to one Table: decided, overridden as demo when a criterion is
 * not met, proposed and approved. */
static fund_allocation_t *demo_allocate(ctx_t *ctx, const char *program_id, const char *year,
                                        const char *table_id)
{
    fund_decision_t *d = funding_eligibility_decide(ctx, table_id, program_id, year, "demo data");
    if (d && !d->eligible) {
        char unmet[600] = "";
        for (size_t i = 0; i < d->n_criteria; i++)
            if ((int)d->criteria[i]->verdict == FUNDING_NOT_MET)
                snprintf(unmet + strlen(unmet), sizeof unmet - strlen(unmet), "%s%s",
                         *unmet ? "; " : "", d->criteria[i]->summary);
        char *why = xasprintf("DEMO DATA, not a real decision: the demo facts leave a criterion "
                              "unmet (%s); allocated for the demonstration only",
                              unmet);
        fund_decision_t *o = funding_eligibility_override(ctx, table_id, program_id, year, why, 1);
        if (o)
            protobuf_c_message_free_unpacked(&o->base, NULL);
        free(why);
    }
    if (d)
        protobuf_c_message_free_unpacked(&d->base, NULL);
    fund_allocation_t *a = NULL, *now = NULL;
    if (!ctx->problems &&
        funding_allocation_propose(ctx, program_id, year, table_id, 0, 1, &a) == STATUS_OK && a)
        funding_allocation_approve(ctx, a->id, &now);
    if (a)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return now;
}

int funding_handle_demo_allocations(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__DemoAllocationsRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    funding_field_key(&ctx, r->program_id, r->fiscal_year);
    if (ctx.problems || !funding_require_admin(&ctx, "make the demo allocations") ||
        !demo_caught_up(&ctx))
        return ctx_fail(&ctx);
    fund_year_t *y = funding_year_require(&ctx, r->program_id, r->fiscal_year, "fiscal_year");
    Concerto__Funding__V1__AllocationList *list = xmalloc(sizeof *list);
    concerto__funding__v1__allocation_list__init(list);
    size_t n = 0;
    char **tables = y && y->allocations == 0 ? demo_tables(&ctx, &n) : NULL;
    list->allocations = xcalloc(n ? n : 1, sizeof *list->allocations);
    for (size_t i = 0; i < n; i++) {
        fund_allocation_t *a =
            ctx.problems ? NULL : demo_allocate(&ctx, r->program_id, r->fiscal_year, tables[i]);
        if (a)
            list->allocations[list->n_allocations++] = a;
        free(tables[i]);
    }
    free(tables);
    if (y)
        protobuf_c_message_free_unpacked(&y->base, NULL);
    return ctx_finish_free(&ctx, &list->base);
}
