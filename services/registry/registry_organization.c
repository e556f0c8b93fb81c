/* registry_organization: organizations that take part in Tables (and the
 * mandataires that receive their funding): register, update, get, list.
 * The NEQ is optional, but two organizations never share one. */
#include <stdlib.h>

#include "registry.h"
#include "registry_fold.h"
#include "registry_validate.h"
#include "xalloc.h"

#define ORGANIZATION_COLUMNS                                                                       \
    "id, name, sector, network, neq, website, source_url, notes, created_ms, updated_ms"

static const char organization_by_id[] =
    "SELECT " ORGANIZATION_COLUMNS " FROM organization WHERE id = ?";

static ProtobufCMessage *organization_row(sqlite3_stmt *st)
{
    reg_organization_t *o = xmalloc(sizeof *o);
    concerto__registry__v1__organization__init(o);
    o->id = reg_column_text(st, 0);
    o->name = reg_column_text(st, 1);
    o->sector = reg_column_text(st, 2);
    o->network = reg_column_text(st, 3);
    o->neq = reg_column_text(st, 4);
    o->website = reg_column_text(st, 5);
    o->source_url = reg_column_text(st, 6);
    o->notes = reg_column_text(st, 7);
    o->has_created_ms = o->has_updated_ms = 1;
    o->created_ms = sqlite3_column_int64(st, 8);
    o->updated_ms = sqlite3_column_int64(st, 9);
    return &o->base;
}

static reg_organization_t *organization_load(reg_ctx_t *ctx, const char *id)
{
    return (reg_organization_t *)reg_load_row(ctx, organization_by_id, id, organization_row);
}

static void organization_check_readonly(reg_ctx_t *ctx, const reg_organization_t *o)
{
    reg_check_absent(ctx, "organization.created_ms", o->has_created_ms);
    reg_check_absent(ctx, "organization.updated_ms", o->has_updated_ms);
}

static void organization_validate(reg_ctx_t *ctx, const reg_organization_t *o)
{
    reg_check_slug(ctx, "organization.id", o->id, 1);
    reg_check_text(ctx, "organization.name", o->name, REGISTRY_MAX_NAME, 1, 0);
    reg_check_code(ctx, "organization.sector", o->sector, registry_sectors, 1);
    reg_check_code(ctx, "organization.network", o->network, registry_networks, 1);
    if (o->neq && *o->neq && !registry_valid_neq(o->neq))
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "organization.neq",
                      "must be a Québec enterprise number: exactly 10 digits");
    reg_check_url(ctx, "organization.website", o->website);
    reg_check_url(ctx, "organization.source_url", o->source_url);
    reg_check_text(ctx, "organization.notes", o->notes, REGISTRY_MAX_TEXT, 0, 1);
}

/* Another organization already holding the NEQ is a conflict. */
static void organization_check_neq(reg_ctx_t *ctx, const reg_organization_t *o)
{
    if (!o->neq || !*o->neq)
        return;
    sqlite3_stmt *st = reg_stmt(ctx, "SELECT id FROM organization WHERE neq = ?1 AND id <> ?2");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, o->neq, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, o->id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        reg_violation(ctx, STATUS_CONFLICT, "organization.neq",
                      "NEQ %s is already registered to organization %s", o->neq,
                      (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
}

static status_t organization_write(reg_ctx_t *ctx, const reg_organization_t *o, int insert)
{
    sqlite3_stmt *st =
        insert ? reg_stmt(ctx, "INSERT INTO organization(name, name_folded, sector, network, "
                               "neq, website, source_url, notes, updated_ms, created_ms, id) "
                               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)")
               : reg_stmt(ctx, "UPDATE organization SET name = ?1, name_folded = ?2, sector = ?3, "
                               "network = ?4, neq = ?5, website = ?6, source_url = ?7, "
                               "notes = ?8, updated_ms = ?9 WHERE id = ?10");
    if (!st)
        return ctx->last_status;
    char *folded = registry_fold(o->name);
    sqlite3_bind_text(st, 1, o->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, folded, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, o->sector, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, o->network, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 5, o->neq);
    reg_bind_text(st, 6, o->website);
    reg_bind_text(st, 7, o->source_url);
    reg_bind_text(st, 8, o->notes);
    sqlite3_bind_int64(st, 9, service_call_now_ms(ctx->call));
    sqlite3_bind_text(st, 10, o->id, -1, SQLITE_TRANSIENT);
    free(folded);
    return reg_step_done(ctx, st, "organization.id");
}

static status_t organization_emit(reg_ctx_t *ctx, reg_organization_t *o, const reg_changes_t *ch)
{
    if (!ch) {
        Concerto__Registry__V1__OrganizationRegistered ev =
            CONCERTO__REGISTRY__V1__ORGANIZATION_REGISTERED__INIT;
        ev.actor = (char *)ctx->actor;
        ev.organization = o;
        return reg_emit(ctx, "organization", o->id, &ev.base);
    }
    Concerto__Registry__V1__OrganizationUpdated ev =
        CONCERTO__REGISTRY__V1__ORGANIZATION_UPDATED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.organization = o;
    ev.n_changed_fields = ch->n;
    ev.changed_fields = (char **)ch->names;
    return reg_emit(ctx, "organization", o->id, &ev.base);
}

status_t registry_organization_register(reg_ctx_t *ctx, const reg_organization_t *in,
                                        reg_organization_t **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    organization_check_readonly(ctx, in);
    organization_validate(ctx, in);
    if (ctx->problems != mark)
        return ctx->last_status;
    if (registry_exists(ctx, REGISTRY_ORGANIZATION, in->id))
        return reg_violation(ctx, STATUS_CONFLICT, "organization.id",
                             "organization %s is already registered", in->id);
    organization_check_neq(ctx, in);
    if (ctx->problems != mark || organization_write(ctx, in, 1) != STATUS_OK)
        return ctx->last_status;
    reg_organization_t *o = organization_load(ctx, in->id);
    if (!o)
        return reg_problem(ctx, STATUS_INTERNAL, "organization vanished after insert");
    status_t s = organization_emit(ctx, o, NULL);
    if (s == STATUS_OK && out)
        *out = o;
    else
        protobuf_c_message_free_unpacked(&o->base, NULL);
    return s;
}

static int organization_handle_register(service_call_t *call, const ProtobufCMessage *msg,
                                        void *arg)
{
    const Concerto__Registry__V1__RegisterOrganizationRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    if (!req->organization) {
        reg_violation(&ctx, STATUS_INVALID_ARGUMENT, "organization", "is required");
        return reg_fail(&ctx);
    }
    reg_organization_t *o = NULL;
    registry_organization_register(&ctx, req->organization, &o);
    return reg_finish_free(&ctx, (ProtobufCMessage *)o);
}

static int organization_handle_update(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__UpdateOrganizationRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    const reg_organization_t *in = req->organization;
    const char *id = reg_update_id(&ctx, "organization", in != NULL, req->id, in ? in->id : NULL);
    if (ctx.problems)
        return reg_fail(&ctx);
    organization_check_readonly(&ctx, in);
    reg_organization_t *o = organization_load(&ctx, id);
    if (!o) {
        reg_violation(&ctx, STATUS_NOT_FOUND, "id", "organization %s is not registered", id);
        return reg_fail(&ctx);
    }
    reg_changes_t ch = {0};
    reg_merge_str(&o->name, in->name, "name", &ch);
    reg_merge_str(&o->sector, in->sector, "sector", &ch);
    reg_merge_str(&o->network, in->network, "network", &ch);
    reg_merge_str(&o->neq, in->neq, "neq", &ch);
    reg_merge_str(&o->website, in->website, "website", &ch);
    reg_merge_str(&o->source_url, in->source_url, "source_url", &ch);
    reg_merge_str(&o->notes, in->notes, "notes", &ch);
    organization_validate(&ctx, o);
    if (!ctx.problems)
        organization_check_neq(&ctx, o);
    if (!ctx.problems && ch.n)
        organization_write(&ctx, o, 0);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* Answer with the row as stored, which has the new updated_ms. */
    o = ctx.problems ? NULL : organization_load(&ctx, id);
    if (o && ch.n)
        organization_emit(&ctx, o, &ch);
    return reg_finish_free(&ctx, (ProtobufCMessage *)o);
}

static int organization_handle_get(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__GetOrganizationRequest *req = (const void *)msg;
    return reg_answer_entity(call, arg, "id", req->id, "organization", organization_by_id,
                             organization_row);
}

static int organization_handle_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ListOrganizationsRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    char after[65];
    int limit;
    reg_page(&ctx, "organizations", req->cursor, req->limit, after, &limit);
    reg_check_code(&ctx, "sector", req->sector, registry_sectors, 0);
    reg_check_code(&ctx, "network", req->network, registry_networks, 0);
    char *pattern = reg_search_pattern(&ctx, "search", req->search);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : reg_stmt(&ctx, "SELECT " ORGANIZATION_COLUMNS
                                                     " FROM organization WHERE id > ?1"
                                                     " AND (?2 IS NULL OR sector = ?2)"
                                                     " AND (?3 IS NULL OR network = ?3)"
                                                     " AND (?4 IS NULL OR name_folded LIKE ?4)"
                                                     " ORDER BY id LIMIT ?5");
    if (!st) {
        free(pattern);
        return reg_fail(&ctx);
    }
    sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 2, req->sector);
    reg_bind_text(st, 3, req->network);
    reg_bind_text(st, 4, pattern);
    sqlite3_bind_int(st, 5, limit + 1);
    free(pattern);
    Concerto__Registry__V1__OrganizationList *list = xmalloc(sizeof *list);
    concerto__registry__v1__organization_list__init(list);
    list->organizations =
        (reg_organization_t **)reg_read_page(&ctx, st, "organizations", limit, organization_row,
                                             &list->n_organizations, &list->next_cursor);
    return reg_finish_free(&ctx, &list->base);
}

int registry_organization_setup(service_t *svc, const registry_config_t *cfg)
{
    void *arg = (void *)cfg;
    int rc = 0;
    rc |= service_on(svc, &concerto__registry__v1__register_organization_request__descriptor,
                     SERVICE_COMMAND, organization_handle_register, arg);
    rc |= service_on(svc, &concerto__registry__v1__update_organization_request__descriptor,
                     SERVICE_COMMAND, organization_handle_update, arg);
    rc |= service_on(svc, &concerto__registry__v1__get_organization_request__descriptor,
                     SERVICE_QUERY, organization_handle_get, arg);
    rc |= service_on(svc, &concerto__registry__v1__list_organizations_request__descriptor,
                     SERVICE_QUERY, organization_handle_list, arg);
    return rc ? -1 : 0;
}
