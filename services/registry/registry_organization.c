/* registry_organization: organizations that take part in Tables (and the
 * mandataires that receive their funding): register, update, get, list,
 * and their dated facts (sectors and network, from the deployment's
 * lists, as versions from a date: organization_fact; before every
 * version's date, the one recorded first holds). The NEQ is optional,
 * but two organizations never share one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "field.h"
#include "page.h"
#include "patch.h"
#include "registry.h"
#include "registry_timeline.h"
#include "registry_validate.h"
#include "registry_vocabulary.h"
#include "row.h"
#include "text.h"
#include "xalloc.h"

#define ORGANIZATION_COLUMNS                                                                       \
    "id, name, sector, network, neq, website, source_url, notes, created_ms, "                     \
    "updated_ms, " REGISTRY_ARCHIVE_COLUMNS("") ", sectors"

#define REGISTRY_MAX_SECTORS 12

/* The sectors, kept as words in the last column. */
static void organization_complete(ProtobufCMessage *m, sqlite3_stmt *st)
{
    reg_organization_t *o = (reg_organization_t *)m;
    o->sectors = text_words((const char *)sqlite3_column_text(st, sqlite3_column_count(st) - 1),
                            &o->n_sectors);
}

/* The sectors: one at least, from the list, each once. */
static void organization_validate_sectors(ctx_t *ctx, const char *path, char *const *sectors,
                                          size_t n)
{
    if (!n)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is required: one sector at least");
    else if (n > REGISTRY_MAX_SECTORS)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "at most %d sectors",
                      REGISTRY_MAX_SECTORS);
    for (size_t i = 0; i < n && n <= REGISTRY_MAX_SECTORS; i++) {
        /* One sector is what `sector` alone says: named so. */
        char item[64];
        if (n == 1)
            snprintf(item, sizeof item, "%.*s", (int)(strlen(path) - 1), path);
        else
            snprintf(item, sizeof item, "%s[%zu]", path, i);
        field_word(ctx, item, sectors[i], registry_sector_codes(), FIELD_REQUIRED);
        for (size_t j = 0; j < i; j++)
            if (strcmp(sectors[i], sectors[j]) == 0)
                ctx_violation(ctx, STATUS_INVALID_ARGUMENT, item, "repeats %s", sectors[i]);
    }
}

static void organization_validate(ctx_t *ctx, const ProtobufCMessage *m)
{
    const reg_organization_t *o = (const reg_organization_t *)m;
    field_slug(ctx, "organization.id", o->id, FIELD_REQUIRED);
    field_text(ctx, "organization.name", o->name, REGISTRY_MAX_NAME, FIELD_REQUIRED);
    organization_validate_sectors(ctx, "organization.sectors", o->sectors, o->n_sectors);
    field_word(ctx, "organization.network", o->network, registry_network_codes(), FIELD_REQUIRED);
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

/* The name's search form; the sectors as words. */
static void organization_bind(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessage *m,
                              const void *extra)
{
    (void)ctx;
    (void)extra;
    const reg_organization_t *o = (const reg_organization_t *)m;
    char *folded = text_fold(o->name);
    char *sectors = text_words_join(o->sectors, o->n_sectors);
    row_bind_text(st, ":name_folded", folded);
    row_bind_text(st, ":sectors", sectors);
    free(folded);
    free(sectors);
}

/* The Tables the organization is or was a member of; a new array of n
 * (text_words_free). */
static char **organization_tables(ctx_t *ctx, const char *org_id, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT DISTINCT table_id FROM membership"
                                     " WHERE organization_id = ? ORDER BY table_id");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, org_id, -1, SQLITE_TRANSIENT);
    char **tables = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tables = xrealloc(tables, (*n + 1) * sizeof *tables);
        tables[(*n)++] = row_text(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "organization_id");
    return tables;
}

/* Evaluates again every Table the organization is or was a member of. */
static status_t organization_refresh_tables(ctx_t *ctx, const char *org_id, const char *cause)
{
    size_t n = 0;
    char **tables = organization_tables(ctx, org_id, &n);
    for (size_t i = 0; i < n && !ctx->problems; i++)
        registry_timeline_refresh(ctx, tables[i], cause, NULL);
    text_words_free(tables, n);
    return ctx->problems ? ctx->last_status : STATUS_OK;
}

#define FACTS_COLUMNS                                                                              \
    "id, organization_id, effective_on, network, recorded_by, recorded_ms, sectors"

static void organization_facts_complete(ProtobufCMessage *m, sqlite3_stmt *st)
{
    Concerto__Registry__V1__OrganizationFacts *f = (void *)m;
    f->sectors = text_words((const char *)sqlite3_column_text(st, sqlite3_column_count(st) - 1),
                            &f->n_sectors);
}

/* Records a version of the organization's facts from `on` and returns its
 * id (0 on failure, recorded). */
static int64_t organization_fact_add(ctx_t *ctx, const char *org_id, const char *on,
                                     char *const *sectors, size_t n_sectors, const char *network)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO organization_fact(organization_id,"
                                     " effective_on, sectors, network, recorded_by, recorded_ms)"
                                     " VALUES(:org, :on, :sectors, :network, :actor, :now)");
    if (!st)
        return 0;
    char *words = text_words_join(sectors, n_sectors);
    row_bind_text(st, ":org", org_id);
    row_bind_text(st, ":on", on);
    row_bind_text(st, ":sectors", words);
    row_bind_text(st, ":network", network);
    ctx_bind(ctx, st);
    free(words);
    return ctx_step(ctx, st, "organization_id") == STATUS_OK
               ? sqlite3_last_insert_rowid(store_db(ctx->store))
               : 0;
}

/* A new organization's facts hold from today; a change of its sectors or
 * network is a new version from today (past evaluations keep theirs) and
 * re-evaluates every Table it is or was a member of. */
static status_t organization_emitted(ctx_t *ctx, const ProtobufCMessage *before,
                                     const ProtobufCMessage *after, const patch_changes_t *changes,
                                     const void *extra)
{
    (void)before;
    (void)extra;
    const reg_organization_t *o = (const reg_organization_t *)after;
    if (changes && !patch_changed(changes, "sector") && !patch_changed(changes, "sectors") &&
        !patch_changed(changes, "network"))
        return STATUS_OK;
    if (!organization_fact_add(ctx, o->id, ctx->today, o->sectors, o->n_sectors, o->network))
        return ctx->last_status;
    return changes ? organization_refresh_tables(ctx, o->id, "organization_updated") : STATUS_OK;
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
    .insert = "INSERT INTO organization(id, name, name_folded, sector, sectors, network, neq, "
              "website, source_url, notes, created_ms, updated_ms) VALUES(:id, :name, "
              ":name_folded, :sector, :sectors, :network, :neq, :website, :source_url, :notes, "
              ":now, :now)",
    .update = "UPDATE organization SET name = :name, name_folded = :name_folded, "
              "sector = :sector, sectors = :sectors, network = :network, neq = :neq, "
              "website = :website, "
              "source_url = :source_url, notes = :notes, updated_ms = :now WHERE id = :id",
    .registered = &concerto__registry__v1__organization_registered__descriptor,
    .updated = &concerto__registry__v1__organization_updated__descriptor,
    .read_only = organization_read_only,
    .validate = organization_validate,
    .check = organization_check,
    .bind = organization_bind,
    .complete = organization_complete,
    .emitted = organization_emitted,
    .archive = "UPDATE organization SET archived_ms = :now, archived_by = :actor, "
               "archived_reason = :reason WHERE id = :id",
    .archived = &concerto__registry__v1__organization_archived__descriptor,
    .may_archive = organization_may_archive,
};

/* `in` with `sector` and `sectors` agreeing: `sectors` when given (its
 * first is the sector), else `sector` alone. Borrows from `in`; `one`
 * holds the single sector. */
static reg_organization_t organization_sectors_agree(const reg_organization_t *in, char **one)
{
    reg_organization_t o = *in;
    if (in->n_sectors) {
        o.sector = in->sectors[0];
    } else if (in->sector) {
        *one = in->sector;
        o.sectors = one;
        o.n_sectors = 1;
    }
    return o;
}

status_t registry_organization_register(ctx_t *ctx, const reg_organization_t *in,
                                        reg_organization_t **out)
{
    char *one = NULL;
    reg_organization_t o = organization_sectors_agree(in, &one);
    return entity_register(ctx, &registry_organization_entity, &o.base, NULL,
                           (ProtobufCMessage **)out);
}

int registry_handle_register_organization(service_call_t *call, const ProtobufCMessage *msg,
                                          void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__RegisterOrganizationRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!req->organization) {
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "organization", "is required");
        return ctx_fail(&ctx);
    }
    reg_organization_t *o = NULL;
    registry_organization_register(&ctx, req->organization, &o);
    return ctx_finish_free(&ctx, o ? &o->base : NULL);
}

int registry_handle_update_organization(service_call_t *call, const ProtobufCMessage *msg,
                                        void *arg)
{
    (void)arg;
    Concerto__Registry__V1__UpdateOrganizationRequest req =
        *(const Concerto__Registry__V1__UpdateOrganizationRequest *)msg;
    char *one = NULL;
    reg_organization_t o;
    if (req.organization) {
        o = organization_sectors_agree(req.organization, &one);
        req.organization = &o;
    }
    return entity_on_update(call, &req.base, (void *)&registry_organization_entity);
}

static void organization_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListOrganizationsRequest *req = (const void *)msg;
    field_word(ctx, "sector", req->sector, registry_sector_codes(), 0);
    field_word(ctx, "network", req->network, registry_network_codes(), 0);
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
           " AND (:sector IS NULL OR ' ' || sectors || ' ' LIKE '% ' || :sector || ' %')"
           " AND (:network IS NULL OR network = :network)"
           " AND (:pattern IS NULL OR name_folded LIKE :pattern)"
           " ORDER BY id LIMIT :page_limit",
    .answer = &concerto__registry__v1__organization_list__descriptor,
    .search_max = REGISTRY_MAX_NAME,
    .check = organization_list_check,
    .csv = organization_csv,
    .csv_name = "organizations.csv",
    .complete = organization_complete,
};

/* The version of the organization's facts in force on `on` (else the
 * one recorded first): its sectors (words) and network, new strings; 0, or -1 when it
 * has none (or on a database error, recorded). */
static int organization_fact_at(ctx_t *ctx, const char *org_id, const char *on, char **sectors,
                                char **network)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT sectors, network FROM organization_fact"
                                     " WHERE organization_id = :org"
                                     " ORDER BY effective_on <= :on DESC,"
                                     " CASE WHEN effective_on <= :on THEN effective_on END DESC,"
                                     " CASE WHEN effective_on <= :on THEN -id ELSE id END"
                                     " LIMIT 1");
    if (!st)
        return -1;
    row_bind_text(st, ":org", org_id);
    row_bind_text(st, ":on", on);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *sectors = row_text(st, 0);
        *network = row_text(st, 1);
    } else if (rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "organization_id");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* The organization row follows its latest version. */
static status_t organization_follow_latest(ctx_t *ctx, const char *org_id)
{
    sqlite3_stmt *st = ctx_stmt(
        ctx, "UPDATE organization SET (sectors, network, sector, updated_ms) = (SELECT"
             " f.sectors, f.network, substr(f.sectors || ' ', 1, instr(f.sectors || ' ', ' ') - 1),"
             " :now FROM organization_fact f WHERE f.organization_id = organization.id"
             " ORDER BY f.effective_on DESC, f.id DESC LIMIT 1) WHERE id = :org");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":org", org_id);
    ctx_bind(ctx, st);
    return ctx_step(ctx, st, "organization_id");
}

int registry_handle_record_organization_facts(service_call_t *call, const ProtobufCMessage *msg,
                                              void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__RecordOrganizationFactsRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "organization_id", req->organization_id, FIELD_REQUIRED);
    const char *on = field_past_date(&ctx, "effective_on", req->effective_on);
    if (req->n_sectors)
        organization_validate_sectors(&ctx, "sectors", req->sectors, req->n_sectors);
    field_word(&ctx, "network", req->network, registry_network_codes(), 0);
    if (!req->n_sectors && !field_nonempty(req->network))
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "sectors", "or network is required");
    if (!ctx.problems)
        ctx_require(&ctx, REGISTRY_ORGANIZATION_EXISTS, "organization_id", "organization",
                    req->organization_id);
    char *sectors = NULL, *network = NULL;
    if (!ctx.problems)
        organization_fact_at(&ctx, req->organization_id, on, &sectors, &network);
    size_t n_base = 0;
    char **base = text_words(sectors, &n_base);
    int64_t id = ctx.problems
                     ? 0
                     : organization_fact_add(&ctx, req->organization_id, on,
                                             req->n_sectors ? req->sectors : base,
                                             req->n_sectors ? req->n_sectors : n_base,
                                             field_nonempty(req->network) ? req->network : network);
    text_words_free(base, n_base);
    free(sectors);
    free(network);
    Concerto__Registry__V1__OrganizationFacts *f =
        id && organization_follow_latest(&ctx, req->organization_id) == STATUS_OK
            ? (void *)ctx_load_int(&ctx,
                                   "SELECT " FACTS_COLUMNS " FROM organization_fact WHERE id = ?",
                                   id, &concerto__registry__v1__organization_facts__descriptor,
                                   organization_facts_complete)
            : NULL;
    if (f) {
        Concerto__Registry__V1__OrganizationFactsRecorded ev =
            CONCERTO__REGISTRY__V1__ORGANIZATION_FACTS_RECORDED__INIT;
        ev.actor = (char *)ctx.actor;
        ev.facts = f;
        if (ctx_emit(&ctx, "organization", req->organization_id, &ev.base) == STATUS_OK)
            organization_refresh_tables(&ctx, req->organization_id, "fact_recorded");
    }
    return ctx_finish_free(&ctx, f ? &f->base : NULL);
}

static void organization_facts_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListOrganizationFactsRequest *req = (const void *)msg;
    field_slug(ctx, "organization_id", req->organization_id, FIELD_REQUIRED);
    if (!ctx->problems)
        ctx_require(ctx, REGISTRY_ORGANIZATION_EXISTS, "organization_id", "organization",
                    req->organization_id);
}

/* Every version, in the order recorded. */
const page_list_t registry_organization_facts_list = {
    .list = "organization-facts",
    .sql = "SELECT " FACTS_COLUMNS " FROM organization_fact"
           " WHERE organization_id = :organization_id AND id > :after ORDER BY id"
           " LIMIT :page_limit",
    .answer = &concerto__registry__v1__organization_facts_list__descriptor,
    .key_int = 1,
    .check = organization_facts_list_check,
    .complete = organization_facts_complete,
};

/* The rows `sql` selects (?1 the organization, ?2 the date) as messages
 * of type `desc`; a new array of n in *out. */
static size_t organization_read(ctx_t *ctx, const char *sql, const char *org_id, const char *on,
                                const ProtobufCMessageDescriptor *desc, ProtobufCMessage ***out)
{
    *out = NULL;
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, org_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, on, -1, SQLITE_TRANSIENT);
    return ctx_read_all(ctx, st, desc, SIZE_MAX, out, NULL);
}

int registry_handle_get_organization_tables(service_call_t *call, const ProtobufCMessage *msg,
                                            void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__GetOrganizationTablesRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "organization_id", req->organization_id, FIELD_REQUIRED);
    field_date(&ctx, "active_on", req->active_on, 0);
    if (!ctx.problems)
        ctx_require(&ctx, REGISTRY_ORGANIZATION_EXISTS, "organization_id", "organization",
                    req->organization_id);
    if (ctx.problems)
        return ctx_fail(&ctx);
    Concerto__Registry__V1__OrganizationTables res =
        CONCERTO__REGISTRY__V1__ORGANIZATION_TABLES__INIT;
    res.organization_id = req->organization_id;
    res.active_on = field_nonempty(req->active_on) ? req->active_on : ctx.today;
    res.n_seats = organization_read(
        &ctx,
        "SELECT m.table_id, t.name AS table_name, m.role, m.joined_on, m.left_on, t.status"
        " FROM membership m JOIN concertation_table t ON t.id = m.table_id"
        " WHERE m.organization_id = ?1 AND m.joined_on <= ?2 AND t.archived_ms IS NULL"
        " AND (m.left_on IS NULL OR m.left_on > ?2) ORDER BY m.table_id",
        req->organization_id, res.active_on, &concerto__registry__v1__seat__descriptor,
        (ProtobufCMessage ***)&res.seats);
    res.n_mandates = organization_read(
        &ctx,
        "SELECT id AS table_id, name, territory_id, status FROM concertation_table"
        " WHERE mandataire_id = ?1 AND ?2 IS NOT NULL AND archived_ms IS NULL ORDER BY id",
        req->organization_id, res.active_on, &concerto__registry__v1__covering_table__descriptor,
        (ProtobufCMessage ***)&res.mandates);
    int rc = ctx_finish(&ctx, &res.base);
    for (size_t i = 0; i < res.n_seats; i++)
        protobuf_c_message_free_unpacked(&res.seats[i]->base, NULL);
    for (size_t i = 0; i < res.n_mandates; i++)
        protobuf_c_message_free_unpacked(&res.mandates[i]->base, NULL);
    free(res.seats);
    free(res.mandates);
    return rc;
}
