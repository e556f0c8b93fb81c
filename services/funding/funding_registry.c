/* funding_registry: what funding keeps of the registry's and reporting's
 * events (the reg_* tables and compliance), applied exactly once by the
 * runtime's subscriber in the transaction that moves the cursor, and what
 * those facts change here: eligibility judged again, allocations
 * suspended by the registry's suspensions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concerto/registry/v1/registry.pb-c.h"
#include "concerto/reporting/v1/reporting.pb-c.h"
#include "field.h"
#include "funding.h"
#include "row.h"
#include "xalloc.h"

/* "registry RecognitionChanged 42": the event that made a decision. */
static void event_cause(service_call_t *call, char *out, size_t len)
{
    const envelope_t *env = service_call_envelope(call);
    const char *type = env->type ? strrchr(env->type, '.') : NULL;
    snprintf(out, len, "%s %s %llu", env->source ? env->source : "?", type ? type + 1 : "event",
             (unsigned long long)env->sequence);
}

static int territory_keep(service_call_t *call, const Concerto__Registry__V1__Territory *t)
{
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!t || !t->id)
        return ctx_finish(&ctx, NULL);
    sqlite3_stmt *st = ctx_stmt(&ctx, "INSERT INTO reg_territory(id, name, kind, parent_id)"
                                      " VALUES(:id, :name, :kind, :parent_id)"
                                      " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                                      " kind = excluded.kind, parent_id = excluded.parent_id");
    if (st) {
        row_bind(st, &t->base);
        ctx_step(&ctx, st, "territory");
    }
    return ctx_finish(&ctx, NULL);
}

int funding_on_territory_registered(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    return territory_keep(call,
                          ((const Concerto__Registry__V1__TerritoryRegistered *)msg)->territory);
}

int funding_on_territory_updated(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    return territory_keep(call, ((const Concerto__Registry__V1__TerritoryUpdated *)msg)->territory);
}

/* Keeps the Table's name, territory and mandataire (its status moves with
 * RecognitionChanged). */
static status_t table_keep(ctx_t *ctx, const Concerto__Registry__V1__Table *t)
{
    sqlite3_stmt *st =
        ctx_stmt(ctx, "INSERT INTO reg_table(id, name, territory_id, mandataire_id, status)"
                      " VALUES(:id, :name, :territory_id, :mandataire_id,"
                      " COALESCE(:recognition__status, 'requested'))"
                      " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                      " territory_id = excluded.territory_id,"
                      " mandataire_id = excluded.mandataire_id");
    if (!st)
        return ctx->last_status;
    row_bind(st, &t->base);
    return ctx_step(ctx, st, "table");
}

/* One recognition status from `effective_on` (NULL: the registry does not
 * know when; it then counts as the earliest), recorded on `recorded_on`. */
static status_t recognition_keep(ctx_t *ctx, const char *table_id, const char *status,
                                 const char *effective_on, const char *recorded_on,
                                 const char *reason)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO reg_recognition(table_id, status, effective_on,"
                                     " recorded_on, reason) VALUES(:table_id, :status,"
                                     " :effective_on, :recorded_on, :reason)");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":status", status);
    row_bind_text(st, ":effective_on", field_nonempty(effective_on));
    row_bind_text(st, ":recorded_on", field_nonempty(recorded_on));
    row_bind_text(st, ":reason", field_nonempty(reason));
    if (ctx_step(ctx, st, "table") != STATUS_OK)
        return ctx->last_status;
    st = ctx_stmt(ctx, "UPDATE reg_table SET status = :status WHERE id = :table_id");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":status", status);
    return ctx_step(ctx, st, "table");
}

int funding_on_table_registered(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__Table *t =
        ((const Concerto__Registry__V1__TableRegistered *)msg)->table;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!t || !t->id)
        return ctx_finish(&ctx, NULL);
    const Concerto__Registry__V1__Recognition *r = t->recognition;
    /* A date the registry says it does not know is absent, whatever
     * `since` holds. */
    if (table_keep(&ctx, t) == STATUS_OK && r && r->status)
        recognition_keep(&ctx, t->id, r->status,
                         r->has_since_known && !r->since_known ? NULL : r->since, r->recorded_on,
                         r->reason);
    return ctx_finish(&ctx, NULL);
}

int funding_on_table_updated(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__Table *t =
        ((const Concerto__Registry__V1__TableUpdated *)msg)->table;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (t && t->id)
        table_keep(&ctx, t);
    return ctx_finish(&ctx, NULL);
}

int funding_on_recognition_changed(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__RecognitionChanged *ev = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!ev->table_id || !ev->to_status)
        return ctx_finish(&ctx, NULL);
    char cause[128];
    event_cause(call, cause, sizeof cause);
    const char *effective_on =
        ev->has_since_known && !ev->since_known ? NULL : field_nonempty(ev->effective_on);
    if (recognition_keep(&ctx, ev->table_id, ev->to_status, effective_on, ev->recorded_on,
                         ev->reason) != STATUS_OK)
        return ctx_fail(&ctx);
    if (strcmp(ev->to_status, "suspended") == 0 || strcmp(ev->to_status, "withdrawn") == 0) {
        char why[1200];
        snprintf(why, sizeof why, "the registry %s the Table%s%s: %s",
                 ev->to_status[0] == 's' ? "suspended" : "withdrew", effective_on ? " on " : "",
                 effective_on ? effective_on : "", ev->reason ? ev->reason : "");
        funding_allocation_registry_suspend(&ctx, ev->table_id, effective_on, why);
    }
    if (!ctx.problems)
        funding_eligibility_revisit(&ctx, ev->table_id, cause);
    return ctx_finish(&ctx, NULL);
}

/* "a b c" from a list of codes. */
static char *codes_text(char **codes, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(codes[i]) + 1;
    char *out = xmalloc(len), *p = out;
    *p = '\0';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%s", i ? " " : "", codes[i]);
    return out;
}

/* Cuts the Table's periods at `from`: those that start on or after it go,
 * one that runs across it ends there. */
static status_t periods_cut(ctx_t *ctx, const char *table_id, const char *from)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "DELETE FROM reg_characteristics WHERE table_id = :table_id"
                                     " AND starts_on >= :from");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":from", from);
    if (ctx_step(ctx, st, "table_id") != STATUS_OK)
        return ctx->last_status;
    st = ctx_stmt(ctx, "UPDATE reg_characteristics SET until = :from WHERE table_id = :table_id"
                       " AND (until IS NULL OR until > :from)");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":from", from);
    return ctx_step(ctx, st, "table_id");
}

static status_t period_keep(ctx_t *ctx, const char *table_id,
                            const Concerto__Registry__V1__CharacteristicsPeriod *p,
                            const uint8_t *blob, size_t blob_len)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO reg_characteristics(table_id, starts_on, until,"
                                     " all_met, met, unmet, evaluation) VALUES(:table_id,"
                                     " :starts_on, :until, COALESCE(:all_met, 0), :met_text,"
                                     " :unmet_text, :blob)");
    if (!st)
        return ctx->last_status;
    char *met = codes_text(p->met, p->n_met), *unmet = codes_text(p->unmet, p->n_unmet);
    row_bind(st, &p->base);
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":met_text", met);
    row_bind_text(st, ":unmet_text", unmet);
    if (blob)
        sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, ":blob"), blob, (int)blob_len,
                          SQLITE_TRANSIENT);
    free(met);
    free(unmet);
    return ctx_step(ctx, st, "periods");
}

int funding_on_characteristics_changed(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__CharacteristicsChanged *ev = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!ev->table_id || !field_nonempty(ev->effective_on))
        return ctx_finish(&ctx, NULL);
    /* The full evaluation holds on effective_on: it goes with the period
     * that starts then. */
    size_t len = 0;
    uint8_t *blob = ev->characteristics ? message_pack(&ev->characteristics->base, &len) : NULL;
    if (periods_cut(&ctx, ev->table_id, ev->effective_on) == STATUS_OK)
        for (size_t i = 0; i < ev->n_periods && !ctx.problems; i++) {
            const Concerto__Registry__V1__CharacteristicsPeriod *p = ev->periods[i];
            if (!field_nonempty(p->starts_on))
                continue;
            int first = strcmp(p->starts_on, ev->effective_on) == 0;
            period_keep(&ctx, ev->table_id, p, first ? blob : NULL, len);
        }
    free(blob);
    char cause[128];
    event_cause(call, cause, sizeof cause);
    if (!ctx.problems)
        funding_eligibility_revisit(&ctx, ev->table_id, cause);
    return ctx_finish(&ctx, NULL);
}

int funding_on_mandataire_changed(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__MandataireChanged *ev = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    sqlite3_stmt *st = ev->table_id
                           ? ctx_stmt(&ctx, "UPDATE reg_table SET mandataire_id = :to_mandataire_id"
                                            " WHERE id = :table_id")
                           : NULL;
    if (st) {
        row_bind(st, &ev->base);
        ctx_step(&ctx, st, "table_id");
    }
    return ctx_finish(&ctx, NULL);
}

int funding_on_compliance_evaluated(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Reporting__V1__ComplianceEvaluated *ev = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!ev->table_id || !ev->fiscal_year || !ev->has_compliant)
        return ctx_finish(&ctx, NULL);
    sqlite3_stmt *st = ctx_stmt(&ctx, "INSERT INTO compliance(table_id, fiscal_year, compliant,"
                                      " summary, evaluated_on) VALUES(:table_id, :fiscal_year,"
                                      " :compliant, :summary, :evaluated_on)"
                                      " ON CONFLICT(table_id, fiscal_year) DO UPDATE SET"
                                      " compliant = excluded.compliant,"
                                      " summary = excluded.summary,"
                                      " evaluated_on = excluded.evaluated_on");
    char cause[128];
    event_cause(call, cause, sizeof cause);
    if (st) {
        row_bind(st, &ev->base);
        if (ctx_step(&ctx, st, "table_id") == STATUS_OK)
            funding_eligibility_revisit(&ctx, ev->table_id, cause);
    }
    return ctx_finish(&ctx, NULL);
}
