/* registry_decision: recognition decisions taken now, back-dated or
 * scheduled, their checks, the timer that applies a scheduled one, and
 * their events (see registry_decision.h). */
#include "registry_decision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "registry_facts.h"
#include "registry_recognition.h"
#include "registry_timeline.h"
#include "registry_validate.h"
#include "row.h"
#include "text.h"
#include "xalloc.h"

#define SCHEDULE_KEY_PREFIX "recognition:"

int registry_caller_is_admin(ctx_t *ctx)
{
    caller_role_t role = service_call_caller(ctx->call).role;
    return role == CALLER_ADMIN || role == CALLER_NONE;
}

/* What the checks need of a Table. */
typedef struct {
    char *status;
    char since[CLOCK_DATE_LEN];
    int since_known;
    int64_t decision_id;
    char *mandataire_id;
    char registered_on[CLOCK_DATE_LEN]; /* the day its first status was recorded */
    int imported; /* its first status came from an import: no registration bound */
    char *territory_id;
    char *overlap_justification;
} decision_table_t;

static void decision_table_clear(decision_table_t *t)
{
    free(t->status);
    free(t->mandataire_id);
    free(t->territory_id);
    free(t->overlap_justification);
    memset(t, 0, sizeof *t);
}

/* Reads Table `id`; 0, or -1 when it is not registered (NOT_FOUND on
 * `path`) or on a database error (recorded). */
static int decision_table_load(ctx_t *ctx, const char *id, const char *path, decision_table_t *t)
{
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st = ctx_stmt(
        ctx, "SELECT status, status_since, status_since_known, status_decision_id, mandataire_id,"
             " f.recorded_on, f.origin = 'import', t.territory_id, t.overlap_justification"
             " FROM concertation_table t"
             " JOIN recognition_change f ON f.id = (SELECT min(id) FROM recognition_change c"
             " WHERE c.table_id = t.id) WHERE t.id = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        t->status = row_text(st, 0);
        snprintf(t->since, sizeof t->since, "%s", (const char *)sqlite3_column_text(st, 1));
        t->since_known = sqlite3_column_int(st, 2);
        t->decision_id = sqlite3_column_int64(st, 3);
        t->mandataire_id = row_text(st, 4);
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            snprintf(t->registered_on, sizeof t->registered_on, "%s",
                     (const char *)sqlite3_column_text(st, 5));
        t->imported = sqlite3_column_int(st, 6);
        t->territory_id = row_text(st, 7);
        t->overlap_justification = row_text(st, 8);
    } else if (rc == SQLITE_DONE) {
        ctx_violation(ctx, STATUS_NOT_FOUND, path, "Table %s is not registered", id);
    } else {
        ctx_db_error(ctx, rc, path);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* The FAILED_PRECONDITION answer to an illegal move, naming the state. */
static void decision_illegal_move(ctx_t *ctx, const char *from, const char *to)
{
    const char *targets[8];
    size_t n = registry_recognition_targets(from, targets, 8);
    char allowed[200] = "";
    for (size_t i = 0; i < n; i++) {
        if (i)
            strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
        strncat(allowed, targets[i], sizeof allowed - strlen(allowed) - 1);
    }
    if (n)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table is %s and cannot become %s; from %s it can become: %s", from, to,
                      from, allowed);
    else
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table is %s, which is final; it cannot become %s", from, to);
}

/* A decision naming a dispute: the dispute is this Table's, closed with
 * outcome "reversed", not yet followed by a decision, about the Table's
 * current decision, and the move undoes that decision. */
static void decision_check_reversal(ctx_t *ctx, const decision_table_t *t,
                                    const registry_decision_t *d, const char *table_id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT d.state, d.outcome, d.reversal_decision_id,"
                                     " d.decision_id, c.from_status, c.to_status FROM dispute d"
                                     " JOIN recognition_change c ON c.id = d.decision_id"
                                     " WHERE d.id = :dispute AND d.table_id = :table");
    if (!st)
        return;
    row_bind_int(st, ":dispute", (int64_t)d->dispute_id);
    row_bind_text(st, ":table", table_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            ctx_violation(ctx, STATUS_NOT_FOUND, "dispute_id", "Table %s has no dispute %llu",
                          table_id, (unsigned long long)d->dispute_id);
        else
            ctx_db_error(ctx, rc, "dispute_id");
        sqlite3_reset(st);
        return;
    }
    const char *state = (const char *)sqlite3_column_text(st, 0);
    const char *outcome = (const char *)sqlite3_column_text(st, 1);
    const char *contested_from = (const char *)sqlite3_column_text(st, 4);
    const char *contested = (const char *)sqlite3_column_text(st, 5);
    if (strcmp(state, "closed") != 0 || strcmp(outcome, "reversed") != 0)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "dispute_id",
                      "dispute %llu is %s%s%s: only a dispute closed with outcome reversed is "
                      "followed by a new decision",
                      (unsigned long long)d->dispute_id, state, outcome ? ", " : "",
                      outcome ? outcome : "");
    else if (sqlite3_column_type(st, 2) != SQLITE_NULL)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "dispute_id",
                      "dispute %llu was already followed by decision %lld",
                      (unsigned long long)d->dispute_id, (long long)sqlite3_column_int64(st, 2));
    else if (sqlite3_column_int64(st, 3) != t->decision_id)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "dispute_id",
                      "dispute %llu is about decision %lld, but the Table's status has changed "
                      "since (decision %lld)",
                      (unsigned long long)d->dispute_id, (long long)sqlite3_column_int64(st, 3),
                      (long long)t->decision_id);
    else if (!registry_recognition_reversal_allowed(contested_from, contested, d->status))
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "reversing the decision that made the Table %s sets %s%s, not %s", contested,
                      contested_from ? contested_from : "an earlier status",
                      strcmp(contested, "refused") == 0 ? " or recognized" : "", d->status);
    sqlite3_reset(st);
}

/* A decision taking effect now or in the past: not before the current
 * status's date (when known) nor the Table's registration (unless the
 * Table came with imported history). */
static void decision_check_dates(ctx_t *ctx, const decision_table_t *t,
                                 const registry_decision_t *d)
{
    if (!t->imported && strcmp(d->effective_on, t->registered_on) < 0)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "effective_on",
                      "must not be before %s, when the Table was registered", t->registered_on);
    else if (t->since_known && strcmp(d->effective_on, t->since) < 0)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "effective_on",
                      "must not be before %s, when the Table became %s", t->since, t->status);
}

/* Recognizing: a mandataire, and the four characteristics met on the date
 * unless an admin justifies it (`admin_needed`: a decision being taken,
 * not a scheduled one coming due, whose justification was checked when it
 * was scheduled). Fills d->unmet. */
static void decision_check_characteristics(ctx_t *ctx, const decision_table_t *t,
                                           registry_decision_t *d, const char *table_id,
                                           int admin_needed)
{
    if (strcmp(d->status, "recognized") != 0) {
        if (d->justification)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "justification",
                          "only waives unmet characteristics when recognizing a Table");
        return;
    }
    if (!t->mandataire_id) {
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table needs a mandataire (%s) before it is recognized",
                      ctx_name(ctx, "mandataire_id"));
        return;
    }
    const registry_config_t *cfg = registry_config();
    registry_thresholds_t th = {cfg->min_sectors, cfg->min_networks, cfg->min_meetings};
    registry_table_facts_t f;
    if (registry_facts_load(ctx, table_id, &f) != 0)
        return;
    registry_unmet_codes(registry_timeline_met_on(&f, &th, d->effective_on), d->unmet,
                         sizeof d->unmet);
    registry_facts_clear(&f);
    registry_coverage_check(
        ctx, table_id, t->territory_id, d->effective_on,
        d->overlap_justification ? d->overlap_justification : t->overlap_justification, "status");
    if (d->unmet[0] && !d->justification)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "justification",
                      "not met on %s: %s; recognizing the Table needs an admin's justification",
                      d->effective_on, d->unmet);
    else if (d->justification && admin_needed && !registry_caller_is_admin(ctx))
        ctx_violation(ctx, STATUS_PERMISSION_DENIED, "justification",
                      "only an admin may justify recognizing a Table whose characteristics are "
                      "not all met");
}

/* Every rule of decision `d` on Table `t`; `immediate`: it takes effect
 * now or in the past. */
static void decision_check(ctx_t *ctx, const decision_table_t *t, registry_decision_t *d,
                           const char *table_id, int immediate, int admin_needed)
{
    size_t mark = ctx->problems;
    if (d->dispute_id)
        decision_check_reversal(ctx, t, d, table_id);
    else if (!registry_recognition_allowed(t->status, d->status))
        decision_illegal_move(ctx, t->status, d->status);
    if (ctx->problems == mark && immediate)
        decision_check_dates(ctx, t, d);
    if (ctx->problems == mark)
        decision_check_characteristics(ctx, t, d, table_id, admin_needed);
}

/* The Table's columns that hold its current decision, and the values they
 * take from decision :id (recognition_change). */
#define DECISION_CURRENT                                                                           \
    "status_since, status_since_known, status_reason, status_by, status_recorded_on, "             \
    "status_decision_id, status_origin, status_unmet, status_justification, status_exemption, "    \
    "status_dispute_id"
#define DECISION_OF_ROW                                                                            \
    "effective_on, effective_known, reason, NULLIF(actor, ''), recorded_on, id, origin, unmet, "   \
    "justification, exemption, dispute_id FROM recognition_change WHERE id = :id"
#define DECISION_WHERE " updated_ms = :now WHERE id = :table"

/* Writes decision `d` (from status `from`, NULL for a first status) and
 * makes it the Table's current one; returns its id, 0 on failure. */
static int64_t decision_record(ctx_t *ctx, const char *table_id, const char *from,
                               const registry_decision_t *d)
{
    sqlite3_stmt *st = ctx_stmt(
        ctx, "INSERT INTO recognition_change(table_id, from_status, to_status, effective_on,"
             " effective_known, reason, actor, recorded_ms, recorded_on, origin, schedule_id,"
             " dispute_id, unmet, justification, exemption) VALUES(:table, :from, :to, :on,"
             " :known, :reason, :actor, :now, :today, :origin, :schedule, :dispute, :unmet,"
             " :justification, :exemption)");
    if (!st)
        return 0;
    row_bind_text(st, ":table", table_id);
    row_bind_text(st, ":from", from);
    row_bind_text(st, ":to", d->status);
    row_bind_text(st, ":on", d->effective_on);
    row_bind_int(st, ":known", d->effective_known);
    row_bind_text(st, ":reason", d->reason);
    row_bind_text(st, ":origin", d->origin);
    row_bind_text(st, ":unmet", field_nonempty(d->unmet));
    row_bind_text(st, ":justification", d->justification);
    row_bind_text(st, ":exemption", d->exemption);
    if (d->schedule_id)
        row_bind_int(st, ":schedule", (int64_t)d->schedule_id);
    if (d->dispute_id)
        row_bind_int(st, ":dispute", (int64_t)d->dispute_id);
    ctx_bind(ctx, st);
    if (ctx_step(ctx, st, "table_id") != STATUS_OK)
        return 0;
    int64_t id = sqlite3_last_insert_rowid(store_db(ctx->store));
    /* A first status is the one the Table was inserted with: setting it
     * again would rewrite the indexes on status for nothing. */
    st = ctx_stmt(ctx, from ? "UPDATE concertation_table SET (status, " DECISION_CURRENT
                              ") = (SELECT to_status, " DECISION_OF_ROW ")," DECISION_WHERE
                            : "UPDATE concertation_table SET (" DECISION_CURRENT
                              ") = (SELECT " DECISION_OF_ROW ")," DECISION_WHERE);
    if (!st)
        return 0;
    row_bind_int(st, ":id", id);
    row_bind_text(st, ":table", table_id);
    ctx_bind(ctx, st);
    if (ctx_step(ctx, st, "table_id") != STATUS_OK)
        return 0;
    if (d->dispute_id) {
        st = ctx_stmt(ctx, "UPDATE dispute SET reversal_decision_id = :id, updated_ms = :now"
                           " WHERE id = :dispute");
        if (!st)
            return 0;
        row_bind_int(st, ":id", id);
        row_bind_int(st, ":dispute", (int64_t)d->dispute_id);
        ctx_bind(ctx, st);
        if (ctx_step(ctx, st, "dispute_id") != STATUS_OK)
            return 0;
    }
    return id;
}

/* Sets the repeated `unmet` strings of `msg` from a column of codes. */
static void decision_unmet(char ***field, size_t *n, sqlite3_stmt *st, int col)
{
    *field = text_words((const char *)sqlite3_column_text(st, col), n);
}

status_t registry_decision_emit_current(ctx_t *ctx, const char *table_id)
{
    sqlite3_stmt *st = ctx_stmt(
        ctx, "SELECT c.actor, c.table_id, c.from_status, c.to_status,"
             " CASE WHEN c.effective_known THEN c.effective_on END AS effective_on, c.reason,"
             " c.effective_known AS since_known, c.recorded_on, c.id AS decision_id, c.origin,"
             " c.schedule_id, c.dispute_id, c.justification, c.exemption,"
             " " REGISTRY_LOCATION_COLUMNS(
                 "t", "tp") ", c.unmet"
                            " FROM concertation_table t JOIN recognition_change c ON c.id = "
                            "t.status_decision_id"
                            " JOIN territory_place tp ON tp.id = t.territory_id WHERE t.id = ?");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE
                   ? ctx_problem(ctx, STATUS_INTERNAL, "Table %s has no decision", table_id)
                   : ctx_db_error(ctx, rc, "table_id");
    }
    Concerto__Registry__V1__RecognitionChanged *ev =
        (void *)row_read(st, &concerto__registry__v1__recognition_changed__descriptor);
    decision_unmet(&ev->unmet_characteristics, &ev->n_unmet_characteristics, st,
                   sqlite3_column_count(st) - 1);
    sqlite3_reset(st);
    status_t s = ctx_emit(ctx, "table", table_id, &ev->base);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    return s;
}

status_t registry_decision_first(ctx_t *ctx, const char *table_id, registry_decision_t *d)
{
    return decision_record(ctx, table_id, NULL, d) ? STATUS_OK : ctx->last_status;
}

#define SCHEDULE_COLUMNS                                                                           \
    "id, status, effective_on, reason, justification, dispute_id, scheduled_by, scheduled_ms, "    \
    "unmet"

static reg_scheduled_t *schedule_read(sqlite3_stmt *st)
{
    reg_scheduled_t *s =
        (void *)row_read(st, &concerto__registry__v1__scheduled_recognition__descriptor);
    decision_unmet(&s->unmet_characteristics, &s->n_unmet_characteristics, st, 8);
    return s;
}

/* The schedule `sql` selects with `key`; NULL when none (or on a database
 * error, recorded). */
static reg_scheduled_t *schedule_load(ctx_t *ctx, const char *sql, const char *key, int64_t id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (!st)
        return NULL;
    if (key)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, 1, id);
    reg_scheduled_t *s = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s = schedule_read(st);
    else if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    sqlite3_reset(st);
    return s;
}

reg_scheduled_t *registry_schedule_pending(ctx_t *ctx, const char *table_id)
{
    return schedule_load(ctx,
                         "SELECT " SCHEDULE_COLUMNS " FROM recognition_schedule"
                         " WHERE table_id = ? AND state = 'pending'",
                         table_id, 0);
}

int registry_table_writable(ctx_t *ctx, const char *table_id, const char *path)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT status_since, status_since_known FROM"
                                     " concertation_table WHERE id = ? AND status = 'withdrawn'");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, path,
                      "Table %s is withdrawn%s%s, which is final: it is read-only", table_id,
                      sqlite3_column_int(st, 1) ? " since " : "",
                      sqlite3_column_int(st, 1) ? (const char *)sqlite3_column_text(st, 0) : "");
    else if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, path);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

/* The CONFLICT answer to a decision while one is scheduled. */
static void decision_conflict(ctx_t *ctx, const char *table_id, const reg_scheduled_t *s)
{
    ctx_violation(ctx, STATUS_CONFLICT, "table_id",
                  "decision %llu (%s on %s) is scheduled for Table %s: one scheduled decision "
                  "at a time; cancel it first (DELETE /v1/tables/%s/recognition/scheduled)",
                  (unsigned long long)s->id, s->status, s->effective_on, table_id, table_id);
}

/* Stores decision `d` for its future date, arms its timer and emits
 * RecognitionScheduled. */
static void decision_schedule(ctx_t *ctx, const char *table_id, const decision_table_t *t,
                              const registry_decision_t *d)
{
    sqlite3_stmt *st = ctx_stmt(
        ctx, "INSERT INTO recognition_schedule(table_id, from_status, status, effective_on,"
             " reason, justification, dispute_id, unmet, scheduled_by, scheduled_ms)"
             " VALUES(:table, :from, :to, :on, :reason, :justification, :dispute, :unmet,"
             " :actor, :now)");
    if (!st)
        return;
    row_bind_text(st, ":table", table_id);
    row_bind_text(st, ":from", t->status);
    row_bind_text(st, ":to", d->status);
    row_bind_text(st, ":on", d->effective_on);
    row_bind_text(st, ":reason", d->reason);
    row_bind_text(st, ":justification", d->justification);
    row_bind_text(st, ":unmet", field_nonempty(d->unmet));
    if (d->dispute_id)
        row_bind_int(st, ":dispute", (int64_t)d->dispute_id);
    ctx_bind(ctx, st);
    if (ctx_step(ctx, st, "table_id") != STATUS_OK)
        return;
    int64_t id = sqlite3_last_insert_rowid(store_db(ctx->store));
    Concerto__Registry__V1__ApplyScheduledRecognitionRequest fire =
        CONCERTO__REGISTRY__V1__APPLY_SCHEDULED_RECOGNITION_REQUEST__INIT;
    fire.table_id = (char *)table_id;
    fire.has_schedule_id = 1;
    fire.schedule_id = (uint64_t)id;
    int64_t due;
    char key[sizeof SCHEDULE_KEY_PREFIX + 80];
    snprintf(key, sizeof key, SCHEDULE_KEY_PREFIX "%s", table_id);
    if (clock_day_start_ms(d->effective_on, &due) != 0 ||
        service_call_schedule(ctx->call, key, due, &fire.base) != 0) {
        ctx_problem(ctx, STATUS_INTERNAL, "cannot schedule the decision");
        return;
    }
    Concerto__Registry__V1__RecognitionScheduled ev =
        CONCERTO__REGISTRY__V1__RECOGNITION_SCHEDULED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.table_id = (char *)table_id;
    ev.from_status = t->status;
    ev.scheduled = schedule_load(ctx,
                                 "SELECT " SCHEDULE_COLUMNS " FROM recognition_schedule"
                                 " WHERE id = ?",
                                 NULL, id);
    if (ev.scheduled)
        ctx_emit(ctx, "table", table_id, &ev.base);
    if (ev.scheduled)
        protobuf_c_message_free_unpacked(&ev.scheduled->base, NULL);
}

/* An overlap justification given with a decision is the Table's from then
 * on (a scheduled one reads it when it comes due). */
static void decision_keep_overlap_justification(ctx_t *ctx, const char *table_id,
                                                const char *justification)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE concertation_table SET overlap_justification ="
                                     " :justification, updated_ms = :now WHERE id = :id");
    if (!st)
        return;
    row_bind_text(st, ":justification", justification);
    row_bind_text(st, ":id", table_id);
    ctx_bind(ctx, st);
    ctx_step(ctx, st, "overlap_justification");
}

/* Answers with the Table as stored, its scheduled decision and disputes. */
static int decision_answer(ctx_t *ctx, const char *table_id)
{
    reg_table_t *t = ctx->problems ? NULL : registry_table_load(ctx, "table_id", table_id);
    return ctx_finish_free(ctx, t ? &t->base : NULL);
}

int registry_handle_change_recognition(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__ChangeRecognitionRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_word(&ctx, "status", req->status, registry_statuses, FIELD_REQUIRED);
    field_date(&ctx, "effective_on", req->effective_on, 0);
    field_text(&ctx, "reason", req->reason, REGISTRY_MAX_REASON, FIELD_REQUIRED | FIELD_MULTILINE);
    field_text(&ctx, "justification", req->justification, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
    field_text(&ctx, "overlap_justification", req->overlap_justification, REGISTRY_MAX_TEXT,
               FIELD_MULTILINE);
    if (field_nonempty(req->overlap_justification) && !registry_caller_is_admin(&ctx))
        ctx_violation(&ctx, STATUS_PERMISSION_DENIED, "overlap_justification",
                      "only an admin may justify a Table's overlapping coverage");
    if (ctx.problems)
        return ctx_fail(&ctx);
    decision_table_t t;
    if (decision_table_load(&ctx, req->table_id, "table_id", &t) != 0)
        return ctx_fail(&ctx);
    registry_decision_t d = {
        .status = req->status,
        .effective_on = field_nonempty(req->effective_on) ? req->effective_on : ctx.today,
        .effective_known = 1,
        .reason = req->reason,
        .justification = field_nonempty(req->justification),
        .dispute_id = req->has_dispute_id ? req->dispute_id : 0,
        .origin = "decision",
        .overlap_justification = field_nonempty(req->overlap_justification),
    };
    int immediate = strcmp(d.effective_on, ctx.today) <= 0;
    reg_scheduled_t *pending = registry_schedule_pending(&ctx, req->table_id);
    if (pending) {
        decision_conflict(&ctx, req->table_id, pending);
        protobuf_c_message_free_unpacked(&pending->base, NULL);
    }
    if (!ctx.problems)
        decision_check(&ctx, &t, &d, req->table_id, immediate, 1);
    if (!ctx.problems && d.overlap_justification)
        decision_keep_overlap_justification(&ctx, req->table_id, d.overlap_justification);
    if (!ctx.problems && !immediate)
        decision_schedule(&ctx, req->table_id, &t, &d);
    else if (!ctx.problems && decision_record(&ctx, req->table_id, t.status, &d))
        registry_decision_emit_current(&ctx, req->table_id);
    decision_table_clear(&t);
    return decision_answer(&ctx, req->table_id);
}

/* Marks schedule `id` settled: applied (with its decision), cancelled or
 * failed (with `note`). */
static status_t schedule_settle(ctx_t *ctx, uint64_t id, const char *state, const char *note,
                                int64_t decision_id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE recognition_schedule SET state = :state,"
                                     " settled_note = :note, settled_by = :actor,"
                                     " settled_ms = :now, decision_id = :decision WHERE id = :id");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":state", state);
    row_bind_text(st, ":note", note);
    if (decision_id)
        row_bind_int(st, ":decision", decision_id);
    row_bind_int(st, ":id", (int64_t)id);
    ctx_bind(ctx, st);
    return ctx_step(ctx, st, "schedule_id");
}

/* The scheduled decision could not apply: recorded, and emitted. */
static void schedule_failed(ctx_t *ctx, const char *table_id, reg_scheduled_t *s,
                            const char *status, const char *problem)
{
    if (schedule_settle(ctx, s->id, "failed", problem, 0) != STATUS_OK)
        return;
    Concerto__Registry__V1__RecognitionScheduleFailed ev =
        CONCERTO__REGISTRY__V1__RECOGNITION_SCHEDULE_FAILED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.table_id = (char *)table_id;
    ev.scheduled = s;
    ev.status = (char *)status;
    ev.problem = (char *)problem;
    ctx_emit(ctx, "table", table_id, &ev.base);
}

/* The scheduled decision `s` comes due: checked again and applied, or its
 * failure recorded (the answer is OK either way, so that the failure and
 * its event are kept). */
static void schedule_fire(ctx_t *ctx, const char *table_id, reg_scheduled_t *s)
{
    decision_table_t t;
    if (decision_table_load(ctx, table_id, "table_id", &t) != 0)
        return;
    registry_decision_t d = {
        .status = s->status,
        .effective_on = s->effective_on,
        .effective_known = 1,
        .reason = s->reason,
        .justification = field_nonempty(s->justification),
        .dispute_id = s->has_dispute_id ? s->dispute_id : 0,
        .origin = "scheduled",
        .schedule_id = s->id,
    };
    ctx_t check;
    ctx_init(&check, ctx->call);
    check.quiet = 1;
    decision_check(&check, &t, &d, table_id, 1, 0);
    if (check.status == STATUS_INTERNAL || check.status == STATUS_UNAVAILABLE)
        ctx_problem(ctx, check.status, "%s", check.message);
    else if (check.problems)
        schedule_failed(ctx, table_id, s, t.status, check.message);
    else {
        int64_t id = decision_record(ctx, table_id, t.status, &d);
        if (id && schedule_settle(ctx, s->id, "applied", NULL, id) == STATUS_OK)
            registry_decision_emit_current(ctx, table_id);
    }
    decision_table_clear(&t);
}

int registry_handle_apply_scheduled_recognition(service_call_t *call, const ProtobufCMessage *msg,
                                                void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__ApplyScheduledRecognitionRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!req->has_schedule_id || !req->schedule_id)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "schedule_id", "is required");
    if (ctx.problems)
        return ctx_fail(&ctx);
    sqlite3_stmt *st = ctx_stmt(&ctx, "SELECT " SCHEDULE_COLUMNS ", state FROM"
                                      " recognition_schedule WHERE id = :id AND table_id = :table");
    if (!st)
        return ctx_fail(&ctx);
    row_bind_int(st, ":id", (int64_t)req->schedule_id);
    row_bind_text(st, ":table", req->table_id);
    reg_scheduled_t *s = NULL;
    int pending = 0, rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s = schedule_read(st);
        pending = strcmp((const char *)sqlite3_column_text(st, 9), "pending") == 0;
    } else if (rc == SQLITE_DONE) {
        ctx_violation(&ctx, STATUS_NOT_FOUND, "schedule_id",
                      "Table %s has no scheduled decision %llu", req->table_id,
                      (unsigned long long)req->schedule_id);
    } else {
        ctx_db_error(&ctx, rc, "schedule_id");
    }
    sqlite3_reset(st);
    /* Settled already (cancelled, say): nothing to do. Not yet due: a
     * request that did not come from its timer. */
    if (s && pending && strcmp(s->effective_on, ctx.today) > 0)
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "schedule_id",
                      "decision %llu is not due until %s", (unsigned long long)s->id,
                      s->effective_on);
    else if (s && pending)
        schedule_fire(&ctx, req->table_id, s);
    if (s)
        protobuf_c_message_free_unpacked(&s->base, NULL);
    return decision_answer(&ctx, req->table_id);
}

int registry_handle_cancel_scheduled_recognition(service_call_t *call, const ProtobufCMessage *msg,
                                                 void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__CancelScheduledRecognitionRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_text(&ctx, "reason", req->reason, REGISTRY_MAX_REASON, FIELD_REQUIRED | FIELD_MULTILINE);
    if (ctx.problems)
        return ctx_fail(&ctx);
    if (!ctx_require(&ctx, REGISTRY_TABLE_EXISTS, "table_id", "Table", req->table_id))
        return ctx_fail(&ctx);
    reg_scheduled_t *s = registry_schedule_pending(&ctx, req->table_id);
    if (!s) {
        if (!ctx.problems)
            ctx_violation(&ctx, STATUS_NOT_FOUND, "table_id", "Table %s has no scheduled decision",
                          req->table_id);
        return ctx_fail(&ctx);
    }
    char key[sizeof SCHEDULE_KEY_PREFIX + 80];
    snprintf(key, sizeof key, SCHEDULE_KEY_PREFIX "%s", req->table_id);
    if (schedule_settle(&ctx, s->id, "cancelled", req->reason, 0) == STATUS_OK) {
        if (service_call_cancel_timer(call, key) < 0)
            ctx_problem(&ctx, STATUS_INTERNAL, "cannot cancel the decision's timer");
        Concerto__Registry__V1__RecognitionScheduleCancelled ev =
            CONCERTO__REGISTRY__V1__RECOGNITION_SCHEDULE_CANCELLED__INIT;
        ev.actor = (char *)ctx.actor;
        ev.table_id = req->table_id;
        ev.scheduled = s;
        ev.reason = req->reason;
        if (!ctx.problems)
            ctx_emit(&ctx, "table", req->table_id, &ev.base);
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return decision_answer(&ctx, req->table_id);
}
