/* funding_eligibility: eligibility decisions: the facts funding keeps
 * from the registry and reporting, judged by funding_criteria.c, recorded
 * as revisions (the current one in `eligibility`, every one in
 * `eligibility_revision`), overridden by an admin, judged again when an
 * event changes a fact, listed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concerto/registry/v1/registry.pb-c.h"
#include "field.h"
#include "fiscal_year.h"
#include "funding.h"
#include "funding_criteria.h"
#include "row.h"
#include "xalloc.h"

/* --- the facts */

/* What eligibility_judge reads, freed by facts_free. */
typedef struct {
    char *status, *since, *recorded_on, *starts_on, *met, *unmet, *summary;
    Concerto__Registry__V1__TableCharacteristics *eval;
} facts_store_t;

static void facts_free(facts_store_t *s)
{
    free(s->status);
    free(s->since);
    free(s->recorded_on);
    free(s->starts_on);
    free(s->met);
    free(s->unmet);
    free(s->summary);
    if (s->eval)
        concerto__registry__v1__table_characteristics__free_unpacked(s->eval, NULL);
}

/* The Table's recognition status on `as_of` and the day it took it. */
static void facts_recognition(ctx_t *ctx, const char *table_id, funding_facts_t *f,
                              facts_store_t *s)
{
    /* An unknown date (NULL) counts as the earliest. */
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT status, effective_on, recorded_on"
                                     " FROM reg_recognition WHERE table_id = :table_id"
                                     " AND (effective_on IS NULL OR effective_on <= :as_of)"
                                     " ORDER BY COALESCE(effective_on, '') DESC, id DESC LIMIT 1");
    if (!st)
        return;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":as_of", f->as_of);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        f->status = s->status = row_text(st, 0);
        f->status_since = s->since = row_text(st, 1);
        f->status_recorded_on = s->recorded_on = row_text(st, 2);
    } else if (rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "table_id");
    }
    sqlite3_reset(st);
}

/* The summary the registry's full evaluation gives `code`, if it has one. */
static const char *facts_summary(const Concerto__Registry__V1__TableCharacteristics *eval,
                                 const char *code)
{
    for (size_t i = 0; eval && i < eval->n_characteristics; i++)
        if (eval->characteristics[i]->code && strcmp(eval->characteristics[i]->code, code) == 0)
            return eval->characteristics[i]->summary;
    return NULL;
}

/* Adds the codes of `list` ("a b c") to the facts as met or not. */
static void facts_codes(funding_facts_t *f, char *list, int met,
                        const Concerto__Registry__V1__TableCharacteristics *eval)
{
    char *save = NULL;
    for (char *code = strtok_r(list, " ", &save);
         code && f->n_characteristics < FUNDING_MAX_CHARACTERISTICS;
         code = strtok_r(NULL, " ", &save))
        f->characteristics[f->n_characteristics++] =
            (funding_characteristic_t){code, met, facts_summary(eval, code)};
}

/* The registry's period of the characteristics covering `as_of`. */
static void facts_characteristics(ctx_t *ctx, const char *table_id, funding_facts_t *f,
                                  facts_store_t *s)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT starts_on, met, unmet, evaluation, all_met"
                                     " FROM reg_characteristics WHERE table_id = :table_id"
                                     " AND starts_on <= :as_of"
                                     " AND (until IS NULL OR until > :as_of)"
                                     " ORDER BY starts_on DESC, id DESC LIMIT 1");
    if (!st)
        return;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":as_of", f->as_of);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        f->evaluated = 1;
        f->all_met = sqlite3_column_int(st, 4);
        f->holds_from = s->starts_on = row_text(st, 0);
        s->met = row_text(st, 1);
        s->unmet = row_text(st, 2);
        if (sqlite3_column_type(st, 3) == SQLITE_BLOB)
            s->eval = concerto__registry__v1__table_characteristics__unpack(
                NULL, (size_t)sqlite3_column_bytes(st, 3), sqlite3_column_blob(st, 3));
    } else if (rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "table_id");
    }
    sqlite3_reset(st);
    if (s->met)
        facts_codes(f, s->met, 1, s->eval);
    if (s->unmet)
        facts_codes(f, s->unmet, 0, s->eval);
}

/* Whether the Table had an allocation of the program in `year` that went
 * beyond a proposal, and reporting's compliance for that year. */
static void facts_previous(ctx_t *ctx, const char *table_id, const char *program_id,
                           funding_facts_t *f, facts_store_t *s)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT EXISTS(SELECT 1 FROM allocation WHERE"
                                     " table_id = :table_id AND program_id = :program_id"
                                     " AND fiscal_year = :year AND state <> 1),"
                                     " (SELECT compliant FROM compliance WHERE"
                                     "  table_id = :table_id AND fiscal_year = :year),"
                                     " (SELECT summary FROM compliance WHERE"
                                     "  table_id = :table_id AND fiscal_year = :year)");
    if (!st)
        return;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":program_id", program_id);
    row_bind_text(st, ":year", f->previous_year);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        f->renewal = sqlite3_column_int(st, 0);
        f->compliance_known = sqlite3_column_type(st, 1) != SQLITE_NULL;
        f->compliant = sqlite3_column_int(st, 1);
        f->compliance_summary = s->summary = row_text(st, 2);
    } else {
        ctx_db_error(ctx, rc, "table_id");
    }
    sqlite3_reset(st);
}

/* A new decision judged from what funding knows now (caller frees), or
 * NULL after recording a problem. */
static fund_decision_t *eligibility_judge(ctx_t *ctx, const char *table_id, const char *program_id,
                                          const char *fiscal_year)
{
    int first_year = 0;
    char err[160], as_of[CLOCK_DATE_LEN], previous[FISCAL_YEAR_LABEL_LEN];
    if (fiscal_year_parse(fiscal_year, &first_year, err, sizeof err) != 0) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "fiscal_year", "%s", err);
        return NULL;
    }
    fiscal_year_first_day(first_year, as_of);
    fiscal_year_label(first_year > CLOCK_MIN_YEAR ? first_year - 1 : first_year, previous);
    funding_facts_t f = {.as_of = as_of, .previous_year = previous};
    facts_store_t store = {0};
    size_t mark = ctx->problems;
    facts_recognition(ctx, table_id, &f, &store);
    facts_characteristics(ctx, table_id, &f, &store);
    facts_previous(ctx, table_id, program_id, &f, &store);
    fund_decision_t *d = NULL;
    if (ctx->problems == mark) {
        d = xmalloc(sizeof *d);
        concerto__funding__v1__eligibility_decision__init(d);
        d->table_id = xstrdup(table_id);
        d->program_id = xstrdup(program_id);
        d->fiscal_year = xstrdup(fiscal_year);
        d->has_renewal = 1;
        d->renewal = f.renewal;
        funding_criteria_judge(&f, d);
    }
    facts_free(&store);
    return d;
}

/* --- recorded decisions */

static fund_decision_t *decision_unpack(sqlite3_stmt *st, int col)
{
    return concerto__funding__v1__eligibility_decision__unpack(
        NULL, (size_t)sqlite3_column_bytes(st, col), sqlite3_column_blob(st, col));
}

fund_decision_t *funding_eligibility_load(ctx_t *ctx, const char *table_id, const char *program_id,
                                          const char *fiscal_year)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT decision FROM eligibility WHERE table_id = :table_id"
                                     " AND program_id = :program_id"
                                     " AND fiscal_year = :fiscal_year");
    if (!st)
        return NULL;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":program_id", program_id);
    row_bind_text(st, ":fiscal_year", fiscal_year);
    fund_decision_t *d = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        d = decision_unpack(st, 0);
    else if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    sqlite3_reset(st);
    return d;
}

/* Records `d` (its revision set) as the current decision and as a
 * revision, and emits EligibilityDecided. */
static status_t decision_record(ctx_t *ctx, fund_decision_t *d, const char *cause)
{
    d->decided_by = xstrdup(ctx->actor);
    d->has_decided_ms = 1;
    d->decided_ms = service_call_now_ms(ctx->call);
    d->has_eligible = 1;
    d->eligible = d->criteria_met || d->overridden;
    size_t len = 0;
    uint8_t *blob = message_pack(&d->base, &len);
    sqlite3_stmt *st = ctx_stmt(
        ctx, "INSERT INTO eligibility(table_id, program_id, fiscal_year, revision, eligible,"
             " decision) VALUES(:table_id, :program_id, :fiscal_year, :revision, :eligible, :blob)"
             " ON CONFLICT(table_id, program_id, fiscal_year) DO UPDATE SET"
             " revision = excluded.revision, eligible = excluded.eligible,"
             " decision = excluded.decision");
    status_t s = ctx->last_status;
    if (st) {
        row_bind(st, &d->base);
        sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, ":blob"), blob, (int)len,
                          SQLITE_STATIC);
        s = ctx_step(ctx, st, "table_id");
    }
    st = s == STATUS_OK ? ctx_stmt(ctx, "INSERT INTO eligibility_revision(eligibility_id,"
                                        " revision, decision) SELECT id, :revision, :blob"
                                        " FROM eligibility WHERE table_id = :table_id"
                                        " AND program_id = :program_id"
                                        " AND fiscal_year = :fiscal_year")
                        : NULL;
    if (st) {
        row_bind(st, &d->base);
        sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, ":blob"), blob, (int)len,
                          SQLITE_STATIC);
        s = ctx_step(ctx, st, "table_id");
    }
    free(blob);
    if (s != STATUS_OK || !st)
        return ctx->last_status;
    Concerto__Funding__V1__EligibilityDecided ev = CONCERTO__FUNDING__V1__ELIGIBILITY_DECIDED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.decision = d;
    ev.cause = (char *)cause;
    return ctx_emit(ctx, "table", d->table_id, &ev.base);
}

/* Carries the override of `was` over to `now` and numbers `now` after it. */
static void decision_follow(const fund_decision_t *was, fund_decision_t *now)
{
    now->has_revision = 1;
    now->revision = was ? was->revision + 1 : 1;
    if (!was || !was->overridden)
        return;
    now->has_overridden = 1;
    now->overridden = 1;
    now->justification = xstrdup(was->justification);
    now->overridden_by = xstrdup(was->overridden_by);
    now->has_demo = was->has_demo;
    now->demo = was->demo;
}

/* Judges again; records a new revision only when a verdict changed (or
 * there was none). Returns the current decision (caller frees). */
static fund_decision_t *eligibility_update(ctx_t *ctx, const char *table_id, const char *program_id,
                                           const char *fiscal_year, const char *cause)
{
    fund_decision_t *was = funding_eligibility_load(ctx, table_id, program_id, fiscal_year);
    fund_decision_t *now =
        ctx->problems ? NULL : eligibility_judge(ctx, table_id, program_id, fiscal_year);
    if (!now) {
        if (was)
            protobuf_c_message_free_unpacked(&was->base, NULL);
        return NULL;
    }
    decision_follow(was, now);
    if (was && funding_criteria_changes(was, now, now) == 0) {
        protobuf_c_message_free_unpacked(&now->base, NULL);
        return was;
    }
    int was_eligible = was && was->eligible;
    if (was && was_eligible != (now->criteria_met || now->overridden))
        funding_decision_note(now, "eligible: %s -> %s", was_eligible ? "yes" : "no",
                              was_eligible ? "no" : "yes");
    if (was)
        protobuf_c_message_free_unpacked(&was->base, NULL);
    if (decision_record(ctx, now, cause) != STATUS_OK) {
        protobuf_c_message_free_unpacked(&now->base, NULL);
        return NULL;
    }
    return now;
}

/* NOT_FOUND unless the registry announced the Table. */
static int eligibility_table_known(ctx_t *ctx, const char *table_id)
{
    if (ctx_exists(ctx, "SELECT 1 FROM reg_table WHERE id = ?", table_id))
        return 1;
    if (!ctx->problems)
        ctx_violation(ctx, STATUS_NOT_FOUND, "table_id",
                      "Table %s is not known to funding (the registry has not announced it)",
                      table_id);
    return 0;
}

fund_decision_t *funding_eligibility_decide(ctx_t *ctx, const char *table_id,
                                            const char *program_id, const char *fiscal_year,
                                            const char *cause)
{
    fund_year_t *y = funding_year_require(ctx, program_id, fiscal_year, "fiscal_year");
    if (y)
        protobuf_c_message_free_unpacked(&y->base, NULL);
    if (!eligibility_table_known(ctx, table_id) || !y)
        return NULL;
    return eligibility_update(ctx, table_id, program_id, fiscal_year, cause);
}

status_t funding_eligibility_revisit(ctx_t *ctx, const char *table_id, const char *cause)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT program_id, fiscal_year FROM eligibility"
                                     " WHERE table_id = ? ORDER BY id");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    /* Read the keys first: recording decisions reuses the statements. */
    char **keys = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        keys = xrealloc(keys, (n + 2) * sizeof *keys);
        keys[n++] = row_text(st, 0);
        keys[n++] = row_text(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    for (size_t i = 0; i + 1 < n && !ctx->problems; i += 2) {
        fund_decision_t *d = eligibility_update(ctx, table_id, keys[i], keys[i + 1], cause);
        if (d)
            protobuf_c_message_free_unpacked(&d->base, NULL);
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    return ctx->problems ? ctx->status : STATUS_OK;
}

fund_decision_t *funding_eligibility_override(ctx_t *ctx, const char *table_id,
                                              const char *program_id, const char *fiscal_year,
                                              const char *justification, int demo)
{
    fund_year_t *y = funding_year_require(ctx, program_id, fiscal_year, "fiscal_year");
    if (y)
        protobuf_c_message_free_unpacked(&y->base, NULL);
    if (!eligibility_table_known(ctx, table_id) || !y)
        return NULL;
    fund_decision_t *was = funding_eligibility_load(ctx, table_id, program_id, fiscal_year);
    fund_decision_t *now =
        ctx->problems ? NULL : eligibility_judge(ctx, table_id, program_id, fiscal_year);
    if (now) {
        decision_follow(was, now);
        if (was)
            funding_criteria_changes(was, now, now);
        now->has_overridden = now->overridden = 1;
        free(now->justification);
        free(now->overridden_by);
        now->justification = xstrdup(justification);
        now->overridden_by = xstrdup(ctx->actor);
        now->has_demo = now->demo = demo != 0;
        funding_decision_note(now, "overridden by %s: %s", *ctx->actor ? ctx->actor : "an admin",
                              justification);
        if (decision_record(ctx, now, "override") != STATUS_OK) {
            protobuf_c_message_free_unpacked(&now->base, NULL);
            now = NULL;
        }
    }
    if (was)
        protobuf_c_message_free_unpacked(&was->base, NULL);
    return now;
}

/* --- handlers */

static void eligibility_key_check(ctx_t *ctx, const char *program_id, const char *fiscal_year,
                                  const char *table_id)
{
    funding_field_key(ctx, program_id, fiscal_year);
    field_slug(ctx, "table_id", table_id, FIELD_REQUIRED);
}

int funding_handle_decide(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__DecideEligibilityRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    eligibility_key_check(&ctx, r->program_id, r->fiscal_year, r->table_id);
    if (ctx.problems)
        return ctx_fail(&ctx);
    fund_decision_t *d =
        funding_eligibility_decide(&ctx, r->table_id, r->program_id, r->fiscal_year, "requested");
    return ctx_finish_free(&ctx, (ProtobufCMessage *)d);
}

int funding_handle_override(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__OverrideEligibilityRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    eligibility_key_check(&ctx, r->program_id, r->fiscal_year, r->table_id);
    field_text(&ctx, "justification", r->justification, FUNDING_MAX_TEXT,
               FIELD_REQUIRED | FIELD_MULTILINE);
    if (ctx.problems || !funding_require_admin(&ctx, "override an eligibility decision"))
        return ctx_fail(&ctx);
    fund_decision_t *d = funding_eligibility_override(&ctx, r->table_id, r->program_id,
                                                      r->fiscal_year, r->justification, 0);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)d);
}

int funding_handle_get_eligibility(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__GetEligibilityRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    eligibility_key_check(&ctx, r->program_id, r->fiscal_year, r->table_id);
    if (ctx.problems)
        return ctx_fail(&ctx);
    fund_decision_t *d = funding_eligibility_load(&ctx, r->table_id, r->program_id, r->fiscal_year);
    if (!d && !ctx.problems)
        ctx_violation(&ctx, STATUS_NOT_FOUND, "table_id",
                      "no eligibility of Table %s for %s %s has been decided", r->table_id,
                      r->program_id, r->fiscal_year);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)d);
}

int funding_handle_list_eligibility(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__ListEligibilityRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    page_t page;
    page_begin_int(&ctx, &page, "eligibility", msg);
    field_slug(&ctx, "program_id", r->program_id, 0);
    funding_field_year(&ctx, "fiscal_year", r->fiscal_year, 0, NULL);
    field_slug(&ctx, "table_id", r->table_id, 0);
    if (ctx.problems)
        return ctx_fail(&ctx);
    sqlite3_stmt *st = ctx_stmt(&ctx, "SELECT id, decision FROM eligibility WHERE id > :after"
                                      " AND (:program_id IS NULL OR program_id = :program_id)"
                                      " AND (:fiscal_year IS NULL OR fiscal_year = :fiscal_year)"
                                      " AND (:table_id IS NULL OR table_id = :table_id)"
                                      " AND (:eligible IS NULL OR eligible = :eligible)"
                                      " ORDER BY id LIMIT :page_limit");
    if (!st)
        return ctx_fail(&ctx);
    row_bind(st, msg);
    row_bind_int(st, ":after", page.after_int);
    row_bind_int(st, ":page_limit", page.limit + 1);
    Concerto__Funding__V1__EligibilityList *list = xmalloc(sizeof *list);
    concerto__funding__v1__eligibility_list__init(list);
    list->decisions = xcalloc((size_t)page.limit, sizeof *list->decisions);
    int64_t last = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (list->n_decisions == (size_t)page.limit) {
            /* One row more than a page: the next page starts after the
             * last one kept. */
            char key[24];
            snprintf(key, sizeof key, "%lld", (long long)last);
            list->next_cursor = page_cursor_encode(page.list, page.filters, key);
            rc = SQLITE_DONE;
            break;
        }
        last = sqlite3_column_int64(st, 0);
        fund_decision_t *d = decision_unpack(st, 1);
        if (d)
            list->decisions[list->n_decisions++] = d;
    }
    if (rc != SQLITE_DONE)
        ctx_db_error(&ctx, rc, "eligibility");
    sqlite3_reset(st);
    return ctx_finish_free(&ctx, &list->base);
}
