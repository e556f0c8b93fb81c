/* registry_membership: organizations' memberships of Tables (start, end,
 * list; history is kept, never deleted) and the attestations behind the
 * networking-and-synergy characteristic (record, list). Partners may send
 * these commands for their own Table: they all carry `table_id`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "registry_validate.h"
#include "xalloc.h"

#define MEMBERSHIP_COLUMNS                                                                         \
    "m.id, m.table_id, m.organization_id, m.role, m.joined_on, m.left_on, m.notes, "               \
    "m.created_ms, m.updated_ms"

static reg_membership_t *membership_from_row(sqlite3_stmt *st)
{
    reg_membership_t *m = xmalloc(sizeof *m);
    concerto__registry__v1__membership__init(m);
    m->has_id = 1;
    m->id = (uint64_t)sqlite3_column_int64(st, 0);
    m->table_id = reg_column_text(st, 1);
    m->organization_id = reg_column_text(st, 2);
    m->role = reg_column_text(st, 3);
    m->joined_on = reg_column_text(st, 4);
    m->left_on = reg_column_text(st, 5);
    m->notes = reg_column_text(st, 6);
    m->has_created_ms = m->has_updated_ms = 1;
    m->created_ms = sqlite3_column_int64(st, 7);
    m->updated_ms = sqlite3_column_int64(st, 8);
    return m;
}

static reg_membership_t *membership_load(reg_ctx_t *ctx, int64_t id)
{
    sqlite3_stmt *st =
        reg_stmt(ctx, "SELECT " MEMBERSHIP_COLUMNS " FROM membership m WHERE m.id = ?");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    reg_membership_t *m = sqlite3_step(st) == SQLITE_ROW ? membership_from_row(st) : NULL;
    sqlite3_reset(st);
    return m;
}

/* NOT_FOUND violations for a Table or organization that is not there. */
static void membership_check_refs(reg_ctx_t *ctx, const char *table_id, const char *org_id)
{
    if (!registry_exists(ctx, REGISTRY_TABLE, table_id))
        reg_violation(ctx, STATUS_NOT_FOUND, "table_id", "Table %s is not registered", table_id);
    if (org_id && !registry_exists(ctx, REGISTRY_ORGANIZATION, org_id))
        reg_violation(ctx, STATUS_NOT_FOUND, "organization_id", "organization %s is not registered",
                      org_id);
}

/* A new membership may not overlap another of the same organization in
 * the same Table. */
static void membership_check_overlap(reg_ctx_t *ctx, const char *table_id, const char *org_id,
                                     const char *joined_on)
{
    sqlite3_stmt *st = reg_stmt(ctx, "SELECT joined_on, left_on FROM membership"
                                     " WHERE table_id = ?1 AND organization_id = ?2"
                                     " AND (left_on IS NULL OR left_on > ?3)"
                                     " ORDER BY left_on IS NULL DESC LIMIT 1");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, org_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, joined_on, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *from = (const char *)sqlite3_column_text(st, 0);
        const char *to = (const char *)sqlite3_column_text(st, 1);
        if (!to)
            reg_violation(ctx, STATUS_CONFLICT, "organization_id",
                          "organization %s is already an active member of %s since %s", org_id,
                          table_id, from);
        else
            reg_violation(ctx, STATUS_CONFLICT, "joined_on",
                          "overlaps the earlier membership of %s in %s from %s to %s", org_id,
                          table_id, from, to);
    }
    sqlite3_reset(st);
}

status_t registry_membership_add(reg_ctx_t *ctx,
                                 const Concerto__Registry__V1__AddMembershipRequest *req,
                                 reg_membership_t **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    reg_check_slug(ctx, "table_id", req->table_id, 1);
    reg_check_slug(ctx, "organization_id", req->organization_id, 1);
    reg_check_code(ctx, "role", req->role, registry_roles, 0);
    reg_check_date(ctx, "joined_on", req->joined_on, 0);
    reg_check_text(ctx, "notes", req->notes, REGISTRY_MAX_TEXT, 0, 1);
    if (ctx->problems != mark)
        return ctx->last_status;
    const char *role = reg_nonempty(req->role) ? req->role : "member";
    const char *joined = reg_nonempty(req->joined_on) ? req->joined_on : ctx->today;
    membership_check_refs(ctx, req->table_id, req->organization_id);
    if (ctx->problems == mark)
        membership_check_overlap(ctx, req->table_id, req->organization_id, joined);
    if (ctx->problems != mark)
        return ctx->last_status;
    sqlite3_stmt *st = reg_stmt(ctx, "INSERT INTO membership(table_id, organization_id, role, "
                                     "joined_on, notes, created_ms, updated_ms)"
                                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, req->table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->organization_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, joined, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 5, req->notes);
    sqlite3_bind_int64(st, 6, service_call_now_ms(ctx->call));
    if (reg_step_done(ctx, st, "organization_id") != STATUS_OK)
        return ctx->last_status;
    reg_membership_t *m = membership_load(ctx, sqlite3_last_insert_rowid(store_db(ctx->store)));
    if (!m)
        return reg_problem(ctx, STATUS_INTERNAL, "membership vanished after insert");
    Concerto__Registry__V1__MembershipStarted ev = CONCERTO__REGISTRY__V1__MEMBERSHIP_STARTED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.membership = m;
    status_t s = reg_emit(ctx, "table", m->table_id, &ev.base);
    if (s == STATUS_OK && out)
        *out = m;
    else
        protobuf_c_message_free_unpacked(&m->base, NULL);
    return s;
}

status_t registry_membership_end(reg_ctx_t *ctx,
                                 const Concerto__Registry__V1__EndMembershipRequest *req,
                                 reg_membership_t **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    reg_check_slug(ctx, "table_id", req->table_id, 1);
    reg_check_slug(ctx, "organization_id", req->organization_id, 1);
    reg_check_date(ctx, "left_on", req->left_on, 0);
    reg_check_text(ctx, "notes", req->notes, REGISTRY_MAX_TEXT, 0, 1);
    if (ctx->problems != mark)
        return ctx->last_status;
    const char *left = reg_nonempty(req->left_on) ? req->left_on : ctx->today;
    membership_check_refs(ctx, req->table_id, req->organization_id);
    if (ctx->problems != mark)
        return ctx->last_status;
    sqlite3_stmt *st = reg_stmt(ctx, "SELECT id, joined_on FROM membership WHERE table_id = ?1"
                                     " AND organization_id = ?2 AND left_on IS NULL");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, req->table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->organization_id, -1, SQLITE_TRANSIENT);
    int64_t id = 0;
    char joined[11] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(joined, sizeof joined, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    if (!id)
        return reg_violation(ctx, STATUS_NOT_FOUND, "organization_id",
                             "organization %s has no active membership in %s", req->organization_id,
                             req->table_id);
    if (strcmp(left, joined) < 0)
        return reg_violation(ctx, STATUS_INVALID_ARGUMENT, "left_on",
                             "must not be before joined_on (%s)", joined);
    st = reg_stmt(ctx, "UPDATE membership SET left_on = ?1, notes = COALESCE(?2, notes),"
                       " updated_ms = ?3 WHERE id = ?4");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, left, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 2, req->notes);
    sqlite3_bind_int64(st, 3, service_call_now_ms(ctx->call));
    sqlite3_bind_int64(st, 4, id);
    if (reg_step_done(ctx, st, "left_on") != STATUS_OK)
        return ctx->last_status;
    reg_membership_t *m = membership_load(ctx, id);
    if (!m)
        return reg_problem(ctx, STATUS_INTERNAL, "membership vanished after update");
    Concerto__Registry__V1__MembershipEnded ev = CONCERTO__REGISTRY__V1__MEMBERSHIP_ENDED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.membership = m;
    status_t s = reg_emit(ctx, "table", m->table_id, &ev.base);
    if (s == STATUS_OK && out)
        *out = m;
    else
        protobuf_c_message_free_unpacked(&m->base, NULL);
    return s;
}

static int membership_handle_add(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    reg_membership_t *m = NULL;
    registry_membership_add(&ctx, (const void *)msg, &m);
    return reg_finish_free(&ctx, (ProtobufCMessage *)m);
}

static int membership_handle_end(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    reg_membership_t *m = NULL;
    registry_membership_end(&ctx, (const void *)msg, &m);
    return reg_finish_free(&ctx, (ProtobufCMessage *)m);
}

/* Decodes an integer-keyed cursor into *after (0 when absent). */
static int membership_int_cursor(reg_ctx_t *ctx, const char *list, const char *cursor,
                                 uint32_t limit, int64_t *after, int *limit_out)
{
    char key[65];
    if (reg_page(ctx, list, cursor, limit, key, limit_out) != 0)
        return -1;
    *after = 0;
    if (!key[0])
        return 0;
    char *end = NULL;
    long long v = strtoll(key, &end, 10);
    if (*end || v < 0) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "cursor", "is not a cursor of this list");
        return -1;
    }
    *after = v;
    return 0;
}

/* A membership with its organization's id, name, sector and network
 * (columns 9 to 12). */
static ProtobufCMessage *membership_list_row(sqlite3_stmt *st)
{
    reg_membership_t *m = membership_from_row(st);
    reg_organization_t *o = m->organization = xmalloc(sizeof *o);
    concerto__registry__v1__organization__init(o);
    o->id = reg_column_text(st, 9);
    o->name = reg_column_text(st, 10);
    o->sector = reg_column_text(st, 11);
    o->network = reg_column_text(st, 12);
    return &m->base;
}

static int membership_handle_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ListMembershipsRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    int64_t after = 0;
    int limit;
    membership_int_cursor(&ctx, "memberships", req->cursor, req->limit, &after, &limit);
    reg_check_slug(&ctx, "table_id", req->table_id, 1);
    reg_check_date(&ctx, "active_on", req->active_on, 0);
    if (!ctx.problems)
        membership_check_refs(&ctx, req->table_id, NULL);
    sqlite3_stmt *st =
        ctx.problems
            ? NULL
            : reg_stmt(&ctx, "SELECT " MEMBERSHIP_COLUMNS ", o.id, o.name, o.sector, o.network"
                             " FROM membership m JOIN organization o ON o.id = m.organization_id"
                             " WHERE m.table_id = ?1 AND m.id > ?2"
                             " AND (?3 IS NULL OR (m.joined_on <= ?3"
                             "  AND (m.left_on IS NULL OR m.left_on > ?3)))"
                             " ORDER BY m.id LIMIT ?4");
    if (!st)
        return reg_fail(&ctx);
    sqlite3_bind_text(st, 1, req->table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, after);
    reg_bind_text(st, 3, req->active_on);
    sqlite3_bind_int(st, 4, limit + 1);
    Concerto__Registry__V1__MembershipList *list = xmalloc(sizeof *list);
    concerto__registry__v1__membership_list__init(list);
    list->memberships =
        (reg_membership_t **)reg_read_page(&ctx, st, "memberships", limit, membership_list_row,
                                           &list->n_memberships, &list->next_cursor);
    return reg_finish_free(&ctx, &list->base);
}

/* ----------------------------------------------------------- attestations */

#define ATTESTATION_COLUMNS                                                                        \
    "id, table_id, attested_on, author, statement, source_url, recorded_by, recorded_ms"

static ProtobufCMessage *attestation_row(sqlite3_stmt *st)
{
    reg_attestation_t *a = xmalloc(sizeof *a);
    concerto__registry__v1__attestation__init(a);
    a->has_id = 1;
    a->id = (uint64_t)sqlite3_column_int64(st, 0);
    a->table_id = reg_column_text(st, 1);
    a->attested_on = reg_column_text(st, 2);
    a->author = reg_column_text(st, 3);
    a->statement = reg_column_text(st, 4);
    a->source_url = reg_column_text(st, 5);
    a->recorded_by = reg_column_text(st, 6);
    a->has_recorded_ms = 1;
    a->recorded_ms = sqlite3_column_int64(st, 7);
    return &a->base;
}

static int attestation_handle_record(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__RecordAttestationRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    reg_check_slug(&ctx, "table_id", req->table_id, 1);
    if (reg_check_date(&ctx, "attested_on", req->attested_on, 0) &&
        reg_nonempty(req->attested_on) && strcmp(req->attested_on, ctx.today) > 0)
        reg_violation(&ctx, STATUS_INVALID_ARGUMENT, "attested_on",
                      "must not be in the future (today is %s)", ctx.today);
    reg_check_text(&ctx, "author", req->author, REGISTRY_MAX_AUTHOR, 1, 0);
    reg_check_text(&ctx, "statement", req->statement, REGISTRY_MAX_TEXT, 0, 1);
    reg_check_url(&ctx, "source_url", req->source_url);
    if (!ctx.problems)
        membership_check_refs(&ctx, req->table_id, NULL);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : reg_stmt(&ctx, "INSERT INTO attestation(table_id, "
                                                     "attested_on, author, statement, source_url, "
                                                     "recorded_by, recorded_ms)"
                                                     " VALUES(?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return reg_fail(&ctx);
    sqlite3_bind_text(st, 1, req->table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, reg_nonempty(req->attested_on) ? req->attested_on : ctx.today, -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, req->author, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 4, req->statement);
    reg_bind_text(st, 5, req->source_url);
    sqlite3_bind_text(st, 6, ctx.actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, service_call_now_ms(call));
    if (reg_step_done(&ctx, st, "table_id") != STATUS_OK)
        return reg_fail(&ctx);
    st = reg_stmt(&ctx, "SELECT " ATTESTATION_COLUMNS " FROM attestation WHERE id = ?");
    if (!st)
        return reg_fail(&ctx);
    sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(store_db(ctx.store)));
    reg_attestation_t *a =
        sqlite3_step(st) == SQLITE_ROW ? (reg_attestation_t *)attestation_row(st) : NULL;
    sqlite3_reset(st);
    if (!a) {
        reg_problem(&ctx, STATUS_INTERNAL, "attestation vanished after insert");
        return reg_fail(&ctx);
    }
    Concerto__Registry__V1__AttestationRecorded ev =
        CONCERTO__REGISTRY__V1__ATTESTATION_RECORDED__INIT;
    ev.actor = (char *)ctx.actor;
    ev.attestation = a;
    reg_emit(&ctx, "table", a->table_id, &ev.base);
    return reg_finish_free(&ctx, &a->base);
}

static int attestation_handle_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ListAttestationsRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    int64_t after = 0;
    int limit;
    membership_int_cursor(&ctx, "attestations", req->cursor, req->limit, &after, &limit);
    reg_check_slug(&ctx, "table_id", req->table_id, 1);
    if (!ctx.problems)
        membership_check_refs(&ctx, req->table_id, NULL);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : reg_stmt(&ctx, "SELECT " ATTESTATION_COLUMNS
                                                     " FROM attestation WHERE table_id = ?1"
                                                     " AND id > ?2 ORDER BY id LIMIT ?3");
    if (!st)
        return reg_fail(&ctx);
    sqlite3_bind_text(st, 1, req->table_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, limit + 1);
    Concerto__Registry__V1__AttestationList *list = xmalloc(sizeof *list);
    concerto__registry__v1__attestation_list__init(list);
    list->attestations =
        (reg_attestation_t **)reg_read_page(&ctx, st, "attestations", limit, attestation_row,
                                            &list->n_attestations, &list->next_cursor);
    return reg_finish_free(&ctx, &list->base);
}

int registry_membership_setup(service_t *svc, const registry_config_t *cfg)
{
    void *arg = (void *)cfg;
    int rc = 0;
    rc |= service_on(svc, &concerto__registry__v1__add_membership_request__descriptor,
                     SERVICE_COMMAND, membership_handle_add, arg);
    rc |= service_on(svc, &concerto__registry__v1__end_membership_request__descriptor,
                     SERVICE_COMMAND, membership_handle_end, arg);
    rc |= service_on(svc, &concerto__registry__v1__list_memberships_request__descriptor,
                     SERVICE_QUERY, membership_handle_list, arg);
    rc |= service_on(svc, &concerto__registry__v1__record_attestation_request__descriptor,
                     SERVICE_COMMAND, attestation_handle_record, arg);
    rc |= service_on(svc, &concerto__registry__v1__list_attestations_request__descriptor,
                     SERVICE_QUERY, attestation_handle_list, arg);
    return rc ? -1 : 0;
}
