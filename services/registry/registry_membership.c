/* registry_membership: organizations' memberships of Tables (start, end,
 * list; history is kept, never deleted) and the attestations behind the
 * networking-and-synergy characteristic (record, list). Partners may send
 * these commands for their own Table: they all carry `table_id`. A
 * withdrawn Table takes neither; each change re-evaluates the Table's
 * characteristics (registry_timeline.c). */
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

#define MEMBERSHIP_DESC (&concerto__registry__v1__membership__descriptor)
#define ATTESTATION_DESC (&concerto__registry__v1__attestation__descriptor)
#define MEMBERSHIP_COLUMNS                                                                         \
    "m.id, m.table_id, m.organization_id, m.role, m.joined_on, m.left_on, m.notes, "               \
    "m.created_ms, m.updated_ms"
#define ATTESTATION_COLUMNS                                                                        \
    "id, table_id, attested_on, author, statement, source_url, recorded_by, recorded_ms"

static reg_membership_t *membership_load(ctx_t *ctx, int64_t id)
{
    return (reg_membership_t *)ctx_load_int(
        ctx, "SELECT " MEMBERSHIP_COLUMNS " FROM membership m WHERE m.id = ?", id, MEMBERSHIP_DESC,
        NULL);
}

/* NOT_FOUND violations for a Table or organization that is not there. */
static void membership_check_refs(ctx_t *ctx, const char *table_id, const char *org_id)
{
    ctx_require(ctx, REGISTRY_TABLE_EXISTS, "table_id", "Table", table_id);
    if (org_id)
        ctx_require(ctx, REGISTRY_ORGANIZATION_EXISTS, "organization_id", "organization", org_id);
}

/* A new membership may not overlap another of the same organization in
 * the same Table. */
static void membership_check_overlap(ctx_t *ctx,
                                     const Concerto__Registry__V1__AddMembershipRequest *req,
                                     const char *joined_on)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT joined_on, left_on FROM membership"
                                     " WHERE table_id = :table_id"
                                     " AND organization_id = :organization_id"
                                     " AND (left_on IS NULL OR left_on > :joined)"
                                     " ORDER BY left_on IS NULL DESC LIMIT 1");
    if (!st)
        return;
    row_bind(st, &req->base);
    row_bind_text(st, ":joined", joined_on);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *from = (const char *)sqlite3_column_text(st, 0);
        const char *to = (const char *)sqlite3_column_text(st, 1);
        if (!to)
            ctx_violation(ctx, STATUS_CONFLICT, "organization_id",
                          "organization %s is already an active member of %s since %s",
                          req->organization_id, req->table_id, from);
        else
            ctx_violation(ctx, STATUS_CONFLICT, "joined_on",
                          "overlaps the earlier membership of %s in %s from %s to %s",
                          req->organization_id, req->table_id, from, to);
    }
    sqlite3_reset(st);
}

/* Emits `ev` about membership `m` (whose ownership the caller keeps unless
 * `out` takes it). */
static status_t membership_emit(ctx_t *ctx, reg_membership_t *m, const ProtobufCMessage *ev,
                                reg_membership_t **out)
{
    status_t s = ctx_emit(ctx, "table", m->table_id, ev);
    if (s == STATUS_OK && out)
        *out = m;
    else
        protobuf_c_message_free_unpacked(&m->base, NULL);
    return s;
}

status_t registry_membership_add(ctx_t *ctx,
                                 const Concerto__Registry__V1__AddMembershipRequest *req,
                                 reg_membership_t **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    field_slug(ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_slug(ctx, "organization_id", req->organization_id, FIELD_REQUIRED);
    field_word(ctx, "role", req->role, registry_roles, 0);
    field_date(ctx, "joined_on", req->joined_on, 0);
    field_text(ctx, "notes", req->notes, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
    if (ctx->problems != mark)
        return ctx->last_status;
    const char *joined = field_nonempty(req->joined_on) ? req->joined_on : ctx->today;
    membership_check_refs(ctx, req->table_id, req->organization_id);
    if (ctx->problems == mark)
        registry_table_writable(ctx, req->table_id, "table_id");
    if (ctx->problems == mark)
        membership_check_overlap(ctx, req, joined);
    if (ctx->problems != mark)
        return ctx->last_status;
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO membership(table_id, organization_id, role, "
                                     "joined_on, notes, created_ms, updated_ms)"
                                     " VALUES(:table_id, :organization_id,"
                                     " COALESCE(:role, 'member'), :joined, :notes, :now, :now)");
    if (!st)
        return ctx->last_status;
    row_bind(st, &req->base);
    row_bind_text(st, ":joined", joined);
    row_bind_int(st, ":now", service_call_now_ms(ctx->call));
    if (ctx_step(ctx, st, "organization_id") != STATUS_OK)
        return ctx->last_status;
    reg_membership_t *m = membership_load(ctx, sqlite3_last_insert_rowid(store_db(ctx->store)));
    if (!m)
        return ctx_problem(ctx, STATUS_INTERNAL, "membership vanished after insert");
    Concerto__Registry__V1__MembershipStarted ev = CONCERTO__REGISTRY__V1__MEMBERSHIP_STARTED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.membership = m;
    return membership_emit(ctx, m, &ev.base, out);
}

/* The id and start of the organization's active membership of the Table
 * (id 0 when there is none). */
static int64_t membership_active(ctx_t *ctx,
                                 const Concerto__Registry__V1__EndMembershipRequest *req,
                                 char joined[CLOCK_DATE_LEN])
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT id, joined_on FROM membership"
                                     " WHERE table_id = :table_id"
                                     " AND organization_id = :organization_id AND left_on IS NULL");
    if (!st)
        return 0;
    row_bind(st, &req->base);
    int64_t id = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(joined, CLOCK_DATE_LEN, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    return id;
}

status_t registry_membership_end(ctx_t *ctx,
                                 const Concerto__Registry__V1__EndMembershipRequest *req,
                                 reg_membership_t **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    field_slug(ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_slug(ctx, "organization_id", req->organization_id, FIELD_REQUIRED);
    field_date(ctx, "left_on", req->left_on, 0);
    field_text(ctx, "notes", req->notes, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
    if (ctx->problems != mark)
        return ctx->last_status;
    const char *left = field_nonempty(req->left_on) ? req->left_on : ctx->today;
    membership_check_refs(ctx, req->table_id, req->organization_id);
    if (ctx->problems == mark)
        registry_table_writable(ctx, req->table_id, "table_id");
    if (ctx->problems != mark)
        return ctx->last_status;
    char joined[CLOCK_DATE_LEN] = "";
    int64_t id = membership_active(ctx, req, joined);
    if (ctx->problems != mark)
        return ctx->last_status;
    if (!id)
        return ctx_violation(ctx, STATUS_NOT_FOUND, "organization_id",
                             "organization %s has no active membership in %s", req->organization_id,
                             req->table_id);
    if (strcmp(left, joined) < 0)
        return ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "left_on", "must not be before %s (%s)",
                             ctx_name(ctx, "joined_on"), joined);
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE membership SET left_on = :left,"
                                     " notes = COALESCE(:notes, notes), updated_ms = :now"
                                     " WHERE id = :membership");
    if (!st)
        return ctx->last_status;
    row_bind(st, &req->base);
    row_bind_text(st, ":left", left);
    row_bind_int(st, ":now", service_call_now_ms(ctx->call));
    row_bind_int(st, ":membership", id);
    if (ctx_step(ctx, st, "left_on") != STATUS_OK)
        return ctx->last_status;
    reg_membership_t *m = membership_load(ctx, id);
    if (!m)
        return ctx_problem(ctx, STATUS_INTERNAL, "membership vanished after update");
    Concerto__Registry__V1__MembershipEnded ev = CONCERTO__REGISTRY__V1__MEMBERSHIP_ENDED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.membership = m;
    return membership_emit(ctx, m, &ev.base, out);
}

int registry_handle_add_membership(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    reg_membership_t *m = NULL;
    if (registry_membership_add(&ctx, (const void *)msg, &m) == STATUS_OK)
        registry_timeline_refresh(&ctx, m->table_id, "membership_started", NULL);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)m);
}

int registry_handle_end_membership(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    reg_membership_t *m = NULL;
    if (registry_membership_end(&ctx, (const void *)msg, &m) == STATUS_OK)
        registry_timeline_refresh(&ctx, m->table_id, "membership_ended", NULL);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)m);
}

static void membership_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListMembershipsRequest *req = (const void *)msg;
    field_slug(ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_date(ctx, "active_on", req->active_on, 0);
    if (!ctx->problems)
        membership_check_refs(ctx, req->table_id, NULL);
}

/* Each membership with its organization's id, name, sector and network. */
const page_list_t registry_membership_list = {
    .list = "memberships",
    .sql = "SELECT " MEMBERSHIP_COLUMNS ", o.id AS organization__id,"
           " o.name AS organization__name, o.sector AS organization__sector,"
           " o.network AS organization__network"
           " FROM membership m JOIN organization o ON o.id = m.organization_id"
           " WHERE m.table_id = :table_id AND m.id > :after"
           " AND (:active_on IS NULL OR (m.joined_on <= :active_on"
           "  AND (m.left_on IS NULL OR m.left_on > :active_on)))"
           " ORDER BY m.id LIMIT :page_limit",
    .answer = &concerto__registry__v1__membership_list__descriptor,
    .key_int = 1,
    .check = membership_list_check,
};

/* ----------------------------------------------------------- attestations */

/* 1 when the Table already has an attestation on `day`: only the days
 * count (registry_characteristics.h), so another one that day cannot
 * change the Table's evaluation. */
static int attestation_day_known(ctx_t *ctx, const char *table_id, const char *day)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT 1 FROM attestation WHERE table_id = ?"
                                     " AND attested_on = ? LIMIT 1");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "attested_on");
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

int registry_handle_record_attestation(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__RecordAttestationRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    const char *day = field_past_date(&ctx, "attested_on", req->attested_on);
    field_text(&ctx, "author", req->author, REGISTRY_MAX_AUTHOR, FIELD_REQUIRED);
    field_text(&ctx, "statement", req->statement, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
    field_url(&ctx, "source_url", req->source_url, 0);
    if (!ctx.problems)
        membership_check_refs(&ctx, req->table_id, NULL);
    if (!ctx.problems)
        registry_table_writable(&ctx, req->table_id, "table_id");
    int day_known = !ctx.problems && attestation_day_known(&ctx, req->table_id, day);
    sqlite3_stmt *st =
        ctx.problems ? NULL
                     : ctx_stmt(&ctx, "INSERT INTO attestation(table_id, attested_on, author,"
                                      " statement, source_url, recorded_by, recorded_ms)"
                                      " VALUES(:table_id, COALESCE(:attested_on, :today), :author,"
                                      " :statement, :source_url, :actor, :now)");
    if (!st)
        return ctx_fail(&ctx);
    row_bind(st, msg);
    row_bind_text(st, ":today", ctx.today);
    row_bind_text(st, ":actor", ctx.actor);
    row_bind_int(st, ":now", service_call_now_ms(call));
    if (ctx_step(&ctx, st, "table_id") != STATUS_OK)
        return ctx_fail(&ctx);
    reg_attestation_t *a = (reg_attestation_t *)ctx_load_int(
        &ctx, "SELECT " ATTESTATION_COLUMNS " FROM attestation WHERE id = ?",
        sqlite3_last_insert_rowid(store_db(ctx.store)), ATTESTATION_DESC, NULL);
    if (!a) {
        ctx_problem(&ctx, STATUS_INTERNAL, "attestation vanished after insert");
        return ctx_fail(&ctx);
    }
    Concerto__Registry__V1__AttestationRecorded ev =
        CONCERTO__REGISTRY__V1__ATTESTATION_RECORDED__INIT;
    ev.actor = (char *)ctx.actor;
    ev.attestation = a;
    if (ctx_emit(&ctx, "table", a->table_id, &ev.base) == STATUS_OK && !day_known)
        registry_timeline_refresh(&ctx, a->table_id, "attestation_recorded", NULL);
    return ctx_finish_free(&ctx, &a->base);
}

static void attestation_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListAttestationsRequest *req = (const void *)msg;
    field_slug(ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!ctx->problems)
        membership_check_refs(ctx, req->table_id, NULL);
}

const page_list_t registry_attestation_list = {
    .list = "attestations",
    .sql = "SELECT " ATTESTATION_COLUMNS " FROM attestation WHERE table_id = :table_id"
           " AND id > :after ORDER BY id LIMIT :page_limit",
    .answer = &concerto__registry__v1__attestation_list__descriptor,
    .key_int = 1,
    .check = attestation_list_check,
};
