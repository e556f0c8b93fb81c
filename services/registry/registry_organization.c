/* registry_organization: organizations that take part in Tables (and the
 * mandataires that receive their funding): register, update, get, list.
 * The NEQ is optional, but two organizations never share one. */
#include <stdlib.h>

#include "entity.h"
#include "field.h"
#include "page.h"
#include "patch.h"
#include "registry.h"
#include "registry_timeline.h"
#include "registry_validate.h"
#include "row.h"
#include "text.h"
#include "xalloc.h"

#define ORGANIZATION_COLUMNS                                                                       \
    "id, name, sector, network, neq, website, source_url, notes, created_ms, "                     \
    "updated_ms, " REGISTRY_ARCHIVE_COLUMNS("")

static void organization_validate(ctx_t *ctx, const ProtobufCMessage *m)
{
    const reg_organization_t *o = (const reg_organization_t *)m;
    field_slug(ctx, "organization.id", o->id, FIELD_REQUIRED);
    field_text(ctx, "organization.name", o->name, REGISTRY_MAX_NAME, FIELD_REQUIRED);
    field_word(ctx, "organization.sector", o->sector, registry_sectors, FIELD_REQUIRED);
    field_word(ctx, "organization.network", o->network, registry_networks, FIELD_REQUIRED);
    if (field_nonempty(o->neq) && !registry_valid_neq(o->neq))
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "organization.neq",
                      "must be a Québec enterprise number: exactly 10 digits");
    field_url(ctx, "organization.website", o->website, 0);
    field_url(ctx, "organization.source_url", o->source_url, 0);
    field_text(ctx, "organization.notes", o->notes, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
}

/* Another organization already holding the NEQ is a conflict. */
static void organization_check(ctx_t *ctx, const ProtobufCMessage *m,
                               const patch_changes_t *changes)
{
    (void)changes;
    const reg_organization_t *o = (const reg_organization_t *)m;
    if (!field_nonempty(o->neq))
        return;
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT id FROM organization WHERE neq = :neq AND id <> :id");
    if (!st)
        return;
    row_bind(st, &o->base);
    if (sqlite3_step(st) == SQLITE_ROW)
        ctx_violation(ctx, STATUS_CONFLICT, "organization.neq",
                      "NEQ %s is already registered to organization %s", o->neq,
                      (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
}

/* The name's search form. */
static void organization_bind(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessage *m,
                              const void *extra)
{
    (void)ctx;
    (void)extra;
    char *folded = text_fold(((const reg_organization_t *)m)->name);
    row_bind_text(st, ":name_folded", folded);
    free(folded);
}

/* A change of sector or network re-evaluates every Table the organization
 * is or was a member of. */
static status_t organization_emitted(ctx_t *ctx, const ProtobufCMessage *before,
                                     const ProtobufCMessage *after, const patch_changes_t *changes,
                                     const void *extra)
{
    (void)before;
    (void)extra;
    if (!changes || (!patch_changed(changes, "sector") && !patch_changed(changes, "network")))
        return STATUS_OK;
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT DISTINCT table_id FROM membership"
                                     " WHERE organization_id = ? ORDER BY table_id");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, ((const reg_organization_t *)after)->id, -1, SQLITE_TRANSIENT);
    char **tables = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tables = xrealloc(tables, (n + 1) * sizeof *tables);
        tables[n++] = row_text(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "organization.id");
    for (size_t i = 0; i < n; i++) {
        if (!ctx->problems)
            registry_timeline_refresh(ctx, tables[i], "organization_updated", NULL);
        free(tables[i]);
    }
    free(tables);
    return ctx->problems ? ctx->last_status : STATUS_OK;
}

static const entity_read_only_t organization_read_only[] = {
    {"created_ms", NULL},
    {"updated_ms", NULL},
    {"archived", "is read-only: an admin archives with DELETE /v1/organizations/{id}"},
    {NULL, NULL}};

/* No Table that is not archived may still depend on the organization. */
static void organization_may_archive(ctx_t *ctx, const ProtobufCMessage *m)
{
    const char *id = ((const reg_organization_t *)m)->id;
    if (ctx_exists(
            ctx, "SELECT 1 FROM concertation_table WHERE mandataire_id = ? AND archived_ms IS NULL",
            id))
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "id",
                      "organization %s is the mandataire of a Table that is not archived", id);
    if (ctx_exists(ctx,
                   "SELECT 1 FROM membership m JOIN concertation_table t ON t.id = m.table_id"
                   " WHERE m.organization_id = ? AND m.left_on IS NULL AND t.archived_ms IS NULL",
                   id))
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "id",
                      "organization %s is an active member of a Table that is not archived", id);
}

const entity_t registry_organization_entity = {
    .kind = "organization",
    .noun = "organization",
    .desc = &concerto__registry__v1__organization__descriptor,
    .select = "SELECT " ORGANIZATION_COLUMNS " FROM organization WHERE id = ?",
    .insert = "INSERT INTO organization(id, name, name_folded, sector, network, neq, website, "
              "source_url, notes, created_ms, updated_ms) VALUES(:id, :name, :name_folded, "
              ":sector, :network, :neq, :website, :source_url, :notes, :now, :now)",
    .update = "UPDATE organization SET name = :name, name_folded = :name_folded, "
              "sector = :sector, network = :network, neq = :neq, website = :website, "
              "source_url = :source_url, notes = :notes, updated_ms = :now WHERE id = :id",
    .registered = &concerto__registry__v1__organization_registered__descriptor,
    .updated = &concerto__registry__v1__organization_updated__descriptor,
    .read_only = organization_read_only,
    .validate = organization_validate,
    .check = organization_check,
    .bind = organization_bind,
    .emitted = organization_emitted,
    .archive = "UPDATE organization SET archived_ms = :now, archived_by = :actor, "
               "archived_reason = :reason WHERE id = :id",
    .archived = &concerto__registry__v1__organization_archived__descriptor,
    .may_archive = organization_may_archive,
};

status_t registry_organization_register(ctx_t *ctx, const reg_organization_t *in,
                                        reg_organization_t **out)
{
    return entity_register(ctx, &registry_organization_entity, &in->base, NULL,
                           (ProtobufCMessage **)out);
}

static void organization_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListOrganizationsRequest *req = (const void *)msg;
    field_word(ctx, "sector", req->sector, registry_sectors, 0);
    field_word(ctx, "network", req->network, registry_networks, 0);
}

/* The columns of the import's organizations.csv. */
static const csv_column_t organization_csv[] = {
    {"id", "id"},   {"name", "name"},       {"sector", "sector"},         {"network", "network"},
    {"neq", "neq"}, {"website", "website"}, {"source_url", "source_url"}, {"notes", "notes"},
    {NULL, NULL},
};

const page_list_t registry_organization_list = {
    .list = "organizations",
    .sql = "SELECT " ORGANIZATION_COLUMNS " FROM organization WHERE id > :after"
           " AND archived_ms IS NULL"
           " AND (:sector IS NULL OR sector = :sector)"
           " AND (:network IS NULL OR network = :network)"
           " AND (:pattern IS NULL OR name_folded LIKE :pattern)"
           " ORDER BY id LIMIT :page_limit",
    .answer = &concerto__registry__v1__organization_list__descriptor,
    .search_max = REGISTRY_MAX_NAME,
    .check = organization_list_check,
    .csv = organization_csv,
    .csv_name = "organizations.csv",
};
