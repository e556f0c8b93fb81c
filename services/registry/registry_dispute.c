/* registry_dispute: disputes (différends) about recognition decisions under
 * the 2024 framework. An operator opens one, for the Table or for the
 * partners, about a refusal, suspension or withdrawal, with its grounds;
 * it moves opened -> in_mediation -> closed (or opened -> closed) with an
 * outcome (upheld, reversed, withdrawn), each step dated and noted. It
 * freezes nothing: a reversal is entered afterwards as a new decision
 * naming the dispute (registry_decision.c). Events DisputeOpened and
 * DisputeMoved are about the Table, so they are in its history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "page.h"
#include "registry.h"
#include "registry_validate.h"
#include "row.h"
#include "xalloc.h"

typedef Concerto__Registry__V1__Dispute reg_dispute_t;

static const char *const dispute_parties[] = {"table", "partners", NULL};
static const char *const dispute_moves[] = {"in_mediation", "closed", NULL};
static const char *const dispute_outcomes[] = {"upheld", "reversed", "withdrawn", NULL};

#define DISPUTE_SELECT                                                                             \
    "SELECT d.id, d.table_id, d.decision_id, c.to_status AS decision_status, d.party,"             \
    " d.grounds, d.state, d.outcome, d.opened_on, d.closed_on, d.reversal_decision_id"             \
    " FROM dispute d JOIN recognition_change c ON c.id = d.decision_id"

/* Fills the dispute's steps, oldest first. */
static void dispute_steps(ctx_t *ctx, reg_dispute_t *d)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT state, on_date AS \"on\", note, outcome, actor,"
                                     " recorded_ms FROM dispute_step WHERE dispute_id = ?"
                                     " ORDER BY id");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, (int64_t)d->id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (d->n_steps == cap) {
            cap = cap ? 2 * cap : 4;
            d->steps = xrealloc(d->steps, cap * sizeof *d->steps);
        }
        d->steps[d->n_steps++] =
            (void *)row_read(st, &concerto__registry__v1__dispute_step__descriptor);
    }
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "dispute_id");
    sqlite3_reset(st);
}

/* The disputes `st` selects, with their steps; a new array in *out. */
static size_t dispute_read_all(ctx_t *ctx, sqlite3_stmt *st, size_t max, reg_dispute_t ***out,
                               int *more)
{
    size_t n = ctx_read_all(ctx, st, &concerto__registry__v1__dispute__descriptor, max,
                            (ProtobufCMessage ***)out, more);
    for (size_t i = 0; i < n; i++)
        dispute_steps(ctx, (*out)[i]);
    return n;
}

size_t registry_disputes_of(ctx_t *ctx, const char *table_id, reg_dispute_t ***out)
{
    *out = NULL;
    sqlite3_stmt *st = ctx_stmt(ctx, DISPUTE_SELECT " WHERE d.table_id = ? ORDER BY d.id");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    int more;
    return dispute_read_all(ctx, st, SIZE_MAX, out, &more);
}

static reg_dispute_t *dispute_load(ctx_t *ctx, const char *table_id, uint64_t id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, DISPUTE_SELECT " WHERE d.id = :id AND d.table_id = :table_id");
    if (!st)
        return NULL;
    row_bind_int(st, ":id", (int64_t)id);
    row_bind_text(st, ":table_id", table_id);
    reg_dispute_t **all = NULL;
    int more;
    size_t n = dispute_read_all(ctx, st, 1, &all, &more);
    reg_dispute_t *d = n ? all[0] : NULL;
    free(all);
    return d;
}

static status_t dispute_step_add(ctx_t *ctx, uint64_t dispute, const char *state, const char *on,
                                 const char *note, const char *outcome)
{
    sqlite3_stmt *st =
        ctx_stmt(ctx, "INSERT INTO dispute_step(dispute_id, state, on_date, note,"
                      " outcome, actor, recorded_ms)"
                      " VALUES(:dispute, :state, :on, :note, :outcome, :actor, :now)");
    if (!st)
        return ctx->last_status;
    row_bind_int(st, ":dispute", (int64_t)dispute);
    row_bind_text(st, ":state", state);
    row_bind_text(st, ":on", on);
    row_bind_text(st, ":note", note);
    row_bind_text(st, ":outcome", outcome);
    ctx_bind(ctx, st);
    return ctx_step(ctx, st, "dispute_id");
}

/* Emits DisputeOpened (from_state NULL) or DisputeMoved about `d`. */
static void dispute_emit(ctx_t *ctx, reg_dispute_t *d, const char *from_state)
{
    if (!from_state) {
        Concerto__Registry__V1__DisputeOpened ev = CONCERTO__REGISTRY__V1__DISPUTE_OPENED__INIT;
        ev.actor = (char *)ctx->actor;
        ev.dispute = d;
        ctx_emit(ctx, "table", d->table_id, &ev.base);
        return;
    }
    Concerto__Registry__V1__DisputeMoved ev = CONCERTO__REGISTRY__V1__DISPUTE_MOVED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.dispute = d;
    ev.from_state = (char *)from_state;
    ctx_emit(ctx, "table", d->table_id, &ev.base);
}

/* The decision a dispute is opened about: the request's, else the Table's
 * current one; it must be this Table's refusal, suspension or withdrawal,
 * dated (when known) on or before `opened_on`. Returns its id, 0 after
 * recording why not. */
static int64_t dispute_decision(ctx_t *ctx, const Concerto__Registry__V1__OpenDisputeRequest *req,
                                const char *opened_on)
{
    sqlite3_stmt *st = ctx_stmt(
        ctx, "SELECT c.id, c.to_status, c.effective_on, c.effective_known"
             " FROM concertation_table t JOIN recognition_change c ON c.table_id = t.id"
             " AND c.id = COALESCE(:decision, t.status_decision_id) WHERE t.id = :table_id");
    if (!st)
        return 0;
    if (req->has_decision_id)
        row_bind_int(st, ":decision", (int64_t)req->decision_id);
    row_bind_text(st, ":table_id", req->table_id);
    int64_t id = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 1);
        const char *on = (const char *)sqlite3_column_text(st, 2);
        if (strcmp(status, "refused") && strcmp(status, "suspended") && strcmp(status, "withdrawn"))
            ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "decision_id",
                          "decision %lld made the Table %s: only a refusal, suspension or "
                          "withdrawal can be disputed",
                          (long long)sqlite3_column_int64(st, 0), status);
        else if (sqlite3_column_int(st, 3) && strcmp(opened_on, on) < 0)
            ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "opened_on",
                          "must not be before %s, the date of the decision it disputes", on);
        else
            id = sqlite3_column_int64(st, 0);
    } else if (rc == SQLITE_DONE) {
        if (req->has_decision_id && ctx_exists(ctx, REGISTRY_TABLE_EXISTS, req->table_id))
            ctx_violation(ctx, STATUS_NOT_FOUND, "decision_id", "Table %s has no decision %llu",
                          req->table_id, (unsigned long long)req->decision_id);
        else if (!ctx->problems)
            ctx_violation(ctx, STATUS_NOT_FOUND, "table_id", "Table %s is not registered",
                          req->table_id);
    } else {
        ctx_db_error(ctx, rc, "decision_id");
    }
    sqlite3_reset(st);
    return id;
}

/* One dispute open at a time for a decision and a party. */
static void dispute_check_open(ctx_t *ctx, int64_t decision, const char *party)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT id FROM dispute WHERE decision_id = ?"
                                     " AND party = ? AND state <> 'closed'");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, decision);
    sqlite3_bind_text(st, 2, party, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        ctx_violation(ctx, STATUS_CONFLICT, "party",
                      "dispute %lld by the %s about decision %lld is still open",
                      (long long)sqlite3_column_int64(st, 0), party, (long long)decision);
    sqlite3_reset(st);
}

int registry_handle_open_dispute(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__OpenDisputeRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_word(&ctx, "party", req->party, dispute_parties, FIELD_REQUIRED);
    field_text(&ctx, "grounds", req->grounds, REGISTRY_MAX_TEXT, FIELD_REQUIRED | FIELD_MULTILINE);
    const char *opened_on = field_past_date(&ctx, "opened_on", req->opened_on);
    if (ctx.problems)
        return ctx_fail(&ctx);
    int64_t decision = dispute_decision(&ctx, req, opened_on);
    if (decision)
        dispute_check_open(&ctx, decision, req->party);
    sqlite3_stmt *st =
        ctx.problems ? NULL
                     : ctx_stmt(&ctx, "INSERT INTO dispute(table_id, decision_id, party, grounds,"
                                      " state, opened_on, created_ms, updated_ms)"
                                      " VALUES(:table_id, :decision, :party, :grounds, 'opened',"
                                      " :opened, :now, :now)");
    if (!st)
        return ctx_fail(&ctx);
    row_bind(st, msg);
    row_bind_int(st, ":decision", decision);
    row_bind_text(st, ":opened", opened_on);
    ctx_bind(&ctx, st);
    uint64_t id = 0;
    if (ctx_step(&ctx, st, "table_id") == STATUS_OK) {
        id = (uint64_t)sqlite3_last_insert_rowid(store_db(ctx.store));
        dispute_step_add(&ctx, id, "opened", opened_on, req->grounds, NULL);
    }
    reg_dispute_t *d = ctx.problems ? NULL : dispute_load(&ctx, req->table_id, id);
    if (d)
        dispute_emit(&ctx, d, NULL);
    return ctx_finish_free(&ctx, d ? &d->base : NULL);
}

/* The move from `from` to `to` is a step the dispute may take. */
static int dispute_move_allowed(const char *from, const char *to)
{
    return strcmp(from, "closed") != 0 && strcmp(from, to) != 0;
}

static void dispute_check_move(ctx_t *ctx, const Concerto__Registry__V1__MoveDisputeRequest *req)
{
    field_slug(ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!req->has_dispute_id || !req->dispute_id)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "dispute_id", "is required");
    field_word(ctx, "state", req->state, dispute_moves, FIELD_REQUIRED);
    field_word(ctx, "outcome", req->outcome, dispute_outcomes, 0);
    field_text(ctx, "note", req->note, REGISTRY_MAX_TEXT, FIELD_REQUIRED | FIELD_MULTILINE);
    int closing = req->state && strcmp(req->state, "closed") == 0;
    if (closing && !field_nonempty(req->outcome))
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "outcome",
                      "is required to close a dispute: upheld, reversed or withdrawn");
    else if (!closing && field_nonempty(req->outcome))
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "outcome", "is given only when closing");
}

int registry_handle_move_dispute(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__MoveDisputeRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    dispute_check_move(&ctx, req);
    const char *on = field_past_date(&ctx, "on", req->on);
    if (ctx.problems)
        return ctx_fail(&ctx);
    reg_dispute_t *d = dispute_load(&ctx, req->table_id, req->dispute_id);
    if (!d) {
        if (!ctx.problems)
            ctx_violation(&ctx, STATUS_NOT_FOUND, "dispute_id", "Table %s has no dispute %llu",
                          req->table_id, (unsigned long long)req->dispute_id);
        return ctx_fail(&ctx);
    }
    const char *last_on = d->n_steps ? d->steps[d->n_steps - 1]->on : d->opened_on;
    if (!dispute_move_allowed(d->state, req->state))
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "state",
                      "dispute %llu is %s; it moves opened -> in_mediation -> closed",
                      (unsigned long long)d->id, d->state);
    else if (strcmp(on, last_on) < 0)
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "on",
                      "must not be before %s, the dispute's last step", last_on);
    int closing = strcmp(req->state, "closed") == 0;
    sqlite3_stmt *st =
        ctx.problems ? NULL
                     : ctx_stmt(&ctx, "UPDATE dispute SET state = :state, outcome = :outcome,"
                                      " closed_on = :closed, updated_ms = :now WHERE id = :id");
    char *from = xstrdup(d->state);
    protobuf_c_message_free_unpacked(&d->base, NULL);
    d = NULL;
    if (st) {
        row_bind_text(st, ":state", req->state);
        row_bind_text(st, ":outcome", field_nonempty(req->outcome));
        row_bind_text(st, ":closed", closing ? on : NULL);
        row_bind_int(st, ":id", (int64_t)req->dispute_id);
        ctx_bind(&ctx, st);
        if (ctx_step(&ctx, st, "dispute_id") == STATUS_OK &&
            dispute_step_add(&ctx, req->dispute_id, req->state, on, req->note,
                             field_nonempty(req->outcome)) == STATUS_OK)
            d = dispute_load(&ctx, req->table_id, req->dispute_id);
    }
    if (d)
        dispute_emit(&ctx, d, from);
    free(from);
    return ctx_finish_free(&ctx, d ? &d->base : NULL);
}

int registry_handle_list_disputes(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__ListDisputesRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    page_t page;
    page_begin_int(&ctx, &page, "disputes", msg);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!ctx.problems)
        ctx_require(&ctx, REGISTRY_TABLE_EXISTS, "table_id", "Table", req->table_id);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : ctx_stmt(&ctx, DISPUTE_SELECT " WHERE d.table_id = :table_id"
                                                                    " AND d.id > :after"
                                                                    " ORDER BY d.id");
    if (!st)
        return ctx_fail(&ctx);
    row_bind_text(st, ":table_id", req->table_id);
    row_bind_int(st, ":after", page.after_int);
    Concerto__Registry__V1__DisputeList list = CONCERTO__REGISTRY__V1__DISPUTE_LIST__INIT;
    int more;
    list.n_disputes = dispute_read_all(&ctx, st, (size_t)page.limit, &list.disputes, &more);
    if (more && list.n_disputes) {
        char key[24];
        snprintf(key, sizeof key, "%llu",
                 (unsigned long long)list.disputes[list.n_disputes - 1]->id);
        list.next_cursor = page_cursor_encode(page.list, page.filters, key);
    }
    int rc = ctx_finish(&ctx, &list.base);
    for (size_t i = 0; i < list.n_disputes; i++)
        protobuf_c_message_free_unpacked(&list.disputes[i]->base, NULL);
    free(list.disputes);
    free(list.next_cursor);
    return rc;
}
