/* registry_governance: a Table's governance facts (incorporated, bylaws,
 * board seats, meetings a year, paid staff) as dated versions
 * (governance_fact): each holds from its date until the next, and before
 * every version's date the one recorded first holds. Registering a Table records its first
 * version; a change of its governance (an update) is a version from
 * today; RecordGovernanceRequest records one from a past date. The
 * Table's own columns follow its latest version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "page.h"
#include "registry.h"
#include "registry_decision.h"
#include "registry_timeline.h"
#include "registry_validate.h"
#include "row.h"
#include "xalloc.h"

#define GOVERNANCE_COLUMNS                                                                         \
    "id, table_id, effective_on, incorporated AS governance__incorporated,"                        \
    " bylaws_adopted_on AS governance__bylaws_adopted_on,"                                         \
    " board_seats AS governance__board_seats,"                                                     \
    " meetings_per_year AS governance__meetings_per_year,"                                         \
    " paid_staff AS governance__paid_staff, recorded_by, recorded_ms"

typedef Concerto__Registry__V1__GovernanceFacts reg_governance_facts_t;

void registry_governance_validate(ctx_t *ctx, const char *prefix, const reg_governance_t *g)
{
    if (!g)
        return;
    char path[64];
    snprintf(path, sizeof path, "%s.bylaws_adopted_on", prefix);
    field_date(ctx, path, g->bylaws_adopted_on, 0);
    snprintf(path, sizeof path, "%s.board_seats", prefix);
    if (g->has_board_seats)
        field_range(ctx, path, g->board_seats, 0, REGISTRY_MAX_BOARD_SEATS);
    snprintf(path, sizeof path, "%s.meetings_per_year", prefix);
    if (g->has_meetings_per_year)
        field_range(ctx, path, g->meetings_per_year, 0, REGISTRY_MAX_MEETINGS);
    snprintf(path, sizeof path, "%s.paid_staff", prefix);
    if (g->has_paid_staff)
        field_range(ctx, path, g->paid_staff, 0, REGISTRY_MAX_STAFF);
}

int64_t registry_governance_add(ctx_t *ctx, const char *table_id, const char *on,
                                const reg_governance_t *g)
{
    reg_governance_t none = CONCERTO__REGISTRY__V1__GOVERNANCE__INIT;
    reg_governance_facts_t f = CONCERTO__REGISTRY__V1__GOVERNANCE_FACTS__INIT;
    f.governance = (reg_governance_t *)(g ? g : &none);
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO governance_fact(table_id, effective_on,"
                                     " incorporated, bylaws_adopted_on, board_seats,"
                                     " meetings_per_year, paid_staff, recorded_by, recorded_ms)"
                                     " VALUES(:table, :on, :governance__incorporated,"
                                     " :governance__bylaws_adopted_on, :governance__board_seats,"
                                     " :governance__meetings_per_year, :governance__paid_staff,"
                                     " :actor, :now)");
    if (!st)
        return 0;
    row_bind(st, &f.base);
    row_bind_text(st, ":table", table_id);
    row_bind_text(st, ":on", on);
    ctx_bind(ctx, st);
    return ctx_step(ctx, st, "table_id") == STATUS_OK
               ? sqlite3_last_insert_rowid(store_db(ctx->store))
               : 0;
}

/* The version in force on `on` (else the one recorded first), or NULL. */
static reg_governance_facts_t *governance_at(ctx_t *ctx, const char *table_id, const char *on)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT " GOVERNANCE_COLUMNS " FROM governance_fact"
                                     " WHERE table_id = :table"
                                     " ORDER BY effective_on <= :on DESC,"
                                     " CASE WHEN effective_on <= :on THEN effective_on END DESC,"
                                     " CASE WHEN effective_on <= :on THEN -id ELSE id END"
                                     " LIMIT 1");
    if (!st)
        return NULL;
    row_bind_text(st, ":table", table_id);
    row_bind_text(st, ":on", on);
    reg_governance_facts_t *f = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        f = (void *)row_read(st, &concerto__registry__v1__governance_facts__descriptor);
    else if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    sqlite3_reset(st);
    return f;
}

/* The Table's columns follow its latest version. */
static status_t governance_follow_latest(ctx_t *ctx, const char *table_id)
{
    sqlite3_stmt *st =
        ctx_stmt(ctx, "UPDATE concertation_table SET (incorporated, bylaws_adopted_on, board_seats,"
                      " meetings_per_year, paid_staff, updated_ms) = (SELECT g.incorporated,"
                      " g.bylaws_adopted_on, g.board_seats, g.meetings_per_year, g.paid_staff, :now"
                      " FROM governance_fact g WHERE g.table_id = concertation_table.id"
                      " ORDER BY g.effective_on DESC, g.id DESC LIMIT 1) WHERE id = :table");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":table", table_id);
    ctx_bind(ctx, st);
    return ctx_step(ctx, st, "table_id");
}

/* `base` with the fields `g` gives. */
static void governance_merge(reg_governance_t *base, const reg_governance_t *g)
{
    if (g->has_incorporated) {
        base->has_incorporated = 1;
        base->incorporated = g->incorporated;
    }
    if (g->bylaws_adopted_on) {
        free(base->bylaws_adopted_on);
        base->bylaws_adopted_on = *g->bylaws_adopted_on ? xstrdup(g->bylaws_adopted_on) : NULL;
    }
    if (g->has_board_seats) {
        base->has_board_seats = 1;
        base->board_seats = g->board_seats;
    }
    if (g->has_meetings_per_year) {
        base->has_meetings_per_year = 1;
        base->meetings_per_year = g->meetings_per_year;
    }
    if (g->has_paid_staff) {
        base->has_paid_staff = 1;
        base->paid_staff = g->paid_staff;
    }
}

static reg_governance_facts_t *governance_load(ctx_t *ctx, int64_t id)
{
    return (void *)ctx_load_int(ctx,
                                "SELECT " GOVERNANCE_COLUMNS " FROM governance_fact WHERE id = ?",
                                id, &concerto__registry__v1__governance_facts__descriptor, NULL);
}

int registry_handle_record_governance(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__RecordGovernanceRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    const char *on = field_past_date(&ctx, "effective_on", req->effective_on);
    if (!req->governance)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "governance", "is required");
    registry_governance_validate(&ctx, "governance", req->governance);
    if (!ctx.problems)
        ctx_require(&ctx, REGISTRY_TABLE_EXISTS, "table_id", "Table", req->table_id);
    if (!ctx.problems)
        registry_table_writable(&ctx, req->table_id, "table_id");
    reg_governance_facts_t *base = ctx.problems ? NULL : governance_at(&ctx, req->table_id, on);
    reg_governance_t empty = CONCERTO__REGISTRY__V1__GOVERNANCE__INIT;
    reg_governance_t *g = base && base->governance ? base->governance : &empty;
    if (!ctx.problems)
        governance_merge(g, req->governance);
    int64_t id = ctx.problems ? 0 : registry_governance_add(&ctx, req->table_id, on, g);
    if (g == &empty)
        free(empty.bylaws_adopted_on);
    if (base)
        protobuf_c_message_free_unpacked(&base->base, NULL);
    reg_governance_facts_t *f = id && governance_follow_latest(&ctx, req->table_id) == STATUS_OK
                                    ? governance_load(&ctx, id)
                                    : NULL;
    if (f) {
        Concerto__Registry__V1__GovernanceRecorded ev =
            CONCERTO__REGISTRY__V1__GOVERNANCE_RECORDED__INIT;
        ev.actor = (char *)ctx.actor;
        ev.facts = f;
        if (ctx_emit(&ctx, "table", req->table_id, &ev.base) == STATUS_OK)
            registry_timeline_refresh(&ctx, req->table_id, "fact_recorded", NULL);
    }
    return ctx_finish_free(&ctx, f ? &f->base : NULL);
}

static void governance_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListGovernanceRequest *req = (const void *)msg;
    field_slug(ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!ctx->problems)
        ctx_require(ctx, REGISTRY_TABLE_EXISTS, "table_id", "Table", req->table_id);
}

/* Every version, in the order recorded. */
const page_list_t registry_governance_list = {
    .list = "governance",
    .sql = "SELECT " GOVERNANCE_COLUMNS " FROM governance_fact WHERE table_id = :table_id"
           " AND id > :after ORDER BY id LIMIT :page_limit",
    .answer = &concerto__registry__v1__governance_list__descriptor,
    .key_int = 1,
    .check = governance_list_check,
};
