/* registry_territory: territories (boroughs, neighbourhoods, on-island
 * municipalities, sectors grouping municipalities): register, update, get,
 * list.
 *
 * A territory may sit inside one parent: a neighbourhood inside a borough
 * or a municipality, a municipality inside a sector. That keeps the
 * hierarchy two levels deep, so it can have no cycles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "field.h"
#include "page.h"
#include "patch.h"
#include "registry.h"
#include "registry_validate.h"
#include "row.h"
#include "text.h"
#include "xalloc.h"

/* Columns named after the Territory's fields (row.h); the aliases, a
 * repeated field the mapping leaves alone, come last, one a line. */
#define TERRITORY_COLUMNS                                                                          \
    "id, name, kind, parent_id, boundary, population, source_url, notes, created_ms, "             \
    "updated_ms, " REGISTRY_ARCHIVE_COLUMNS("") ", aliases"

/* Fills the aliases from the last column. */
static void territory_complete(ProtobufCMessage *m, sqlite3_stmt *st)
{
    reg_territory_t *t = (reg_territory_t *)m;
    const char *text = (const char *)sqlite3_column_text(st, sqlite3_column_count(st) - 1);
    if (!text || !*text)
        return;
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    t->aliases = xcalloc(n, sizeof *t->aliases);
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        if (len)
            t->aliases[t->n_aliases++] = xstrndup(p, len);
        p += len + (p[len] == '\n');
    }
}

/* The aliases one a line, and their search forms likewise: a new string
 * each. */
static void territory_aliases_text(const reg_territory_t *t, char **text, char **folded)
{
    *text = xstrdup("");
    *folded = xstrdup("");
    for (size_t i = 0; i < t->n_aliases; i++) {
        char *f = text_fold(t->aliases[i]);
        char *a = xasprintf("%s%s%s", *text, i ? "\n" : "", t->aliases[i]);
        char *b = xasprintf("%s%s%s", *folded, i ? "\n" : "", f ? f : "");
        free(f);
        free(*text);
        free(*folded);
        *text = a;
        *folded = b;
    }
}

static void territory_validate_aliases(ctx_t *ctx, const reg_territory_t *t)
{
    if (t->n_aliases > REGISTRY_MAX_ALIASES) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "territory.aliases", "at most %d aliases",
                      REGISTRY_MAX_ALIASES);
        return;
    }
    for (size_t i = 0; i < t->n_aliases; i++) {
        char path[48];
        snprintf(path, sizeof path, "territory.aliases[%zu]", i);
        field_text(ctx, path, t->aliases[i], REGISTRY_MAX_NAME, FIELD_REQUIRED);
    }
}

static void territory_validate(ctx_t *ctx, const ProtobufCMessage *m)
{
    const reg_territory_t *t = (const reg_territory_t *)m;
    field_slug(ctx, "territory.id", t->id, FIELD_REQUIRED);
    field_text(ctx, "territory.name", t->name, REGISTRY_MAX_NAME, FIELD_REQUIRED);
    field_word(ctx, "territory.kind", t->kind, registry_territory_kinds, FIELD_REQUIRED);
    field_slug(ctx, "territory.parent_id", t->parent_id, 0);
    field_text(ctx, "territory.boundary", t->boundary, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
    if (t->has_population)
        field_range(ctx, "territory.population", t->population, 0, REGISTRY_MAX_POPULATION);
    field_url(ctx, "territory.source_url", t->source_url, 0);
    field_text(ctx, "territory.notes", t->notes, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
    territory_validate_aliases(ctx, t);
}

/* Which kinds of territory may contain a territory of `kind`. */
static const char *territory_parent_kinds(const char *kind)
{
    if (strcmp(kind, "neighbourhood") == 0)
        return "borough or municipality";
    if (strcmp(kind, "municipality") == 0)
        return "sector";
    return NULL;
}

static int territory_parent_allowed(const char *kind, const char *parent_kind)
{
    if (strcmp(kind, "neighbourhood") == 0)
        return strcmp(parent_kind, "borough") == 0 || strcmp(parent_kind, "municipality") == 0;
    if (strcmp(kind, "municipality") == 0)
        return strcmp(parent_kind, "sector") == 0;
    return 0;
}

/* The search forms of the name and aliases, and the aliases. */
static void territory_bind(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessage *m,
                           const void *extra)
{
    (void)ctx;
    (void)extra;
    const reg_territory_t *t = (const reg_territory_t *)m;
    char *folded = text_fold(t->name);
    char *aliases, *aliases_folded;
    territory_aliases_text(t, &aliases, &aliases_folded);
    row_bind_text(st, ":name_folded", folded);
    row_bind_text(st, ":aliases", aliases);
    row_bind_text(st, ":aliases_folded", aliases_folded);
    free(folded);
    free(aliases);
    free(aliases_folded);
}

static void territory_check(ctx_t *ctx, const ProtobufCMessage *m, const patch_changes_t *changes);

static const entity_read_only_t territory_read_only[] = {
    {"created_ms", NULL},
    {"updated_ms", NULL},
    {"archived", "is read-only: an admin archives with DELETE /v1/territories/{id}"},
    {NULL, NULL}};

/* Nothing that is not archived may still sit in the territory. */
static void territory_may_archive(ctx_t *ctx, const ProtobufCMessage *m)
{
    const char *id = ((const reg_territory_t *)m)->id;
    if (ctx_exists(ctx, "SELECT 1 FROM territory WHERE parent_id = ? AND archived_ms IS NULL", id))
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "id",
                      "territory %s still holds territories that are not archived", id);
    if (ctx_exists(
            ctx, "SELECT 1 FROM concertation_table WHERE territory_id = ? AND archived_ms IS NULL",
            id))
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "id",
                      "territory %s is still the territory of Tables that are not archived", id);
}

/* A territory given another parent or another kind moves the Tables on
 * it and inside it to another borough, municipality or sector. */
static status_t territory_emitted(ctx_t *ctx, const ProtobufCMessage *before,
                                  const ProtobufCMessage *after, const patch_changes_t *changes,
                                  const void *extra)
{
    (void)before;
    (void)extra;
    if (!changes || (!patch_changed(changes, "parent_id") && !patch_changed(changes, "kind")))
        return STATUS_OK;
    return registry_table_emit_moved(ctx, ((const reg_territory_t *)after)->id);
}

const entity_t registry_territory_entity = {
    .kind = "territory",
    .noun = "territory",
    .desc = &concerto__registry__v1__territory__descriptor,
    .select = "SELECT " TERRITORY_COLUMNS " FROM territory WHERE id = ?",
    .insert = "INSERT INTO territory(id, name, name_folded, kind, parent_id, boundary, "
              "population, source_url, notes, aliases, aliases_folded, created_ms, updated_ms) "
              "VALUES(:id, :name, :name_folded, :kind, :parent_id, :boundary, :population, "
              ":source_url, :notes, :aliases, :aliases_folded, :now, :now)",
    .update = "UPDATE territory SET name = :name, name_folded = :name_folded, kind = :kind, "
              "parent_id = :parent_id, boundary = :boundary, population = :population, "
              "source_url = :source_url, notes = :notes, aliases = :aliases, "
              "aliases_folded = :aliases_folded, updated_ms = :now WHERE id = :id",
    .registered = &concerto__registry__v1__territory_registered__descriptor,
    .updated = &concerto__registry__v1__territory_updated__descriptor,
    .read_only = territory_read_only,
    .validate = territory_validate,
    .check = territory_check,
    .bind = territory_bind,
    .complete = territory_complete,
    .emitted = territory_emitted,
    .archive = "UPDATE territory SET archived_ms = :now, archived_by = :actor, "
               "archived_reason = :reason WHERE id = :id",
    .archived = &concerto__registry__v1__territory_archived__descriptor,
    .may_archive = territory_may_archive,
};

/* A territory whose kind changes may not contain others, and its parent
 * must exist and be of a kind that may contain it. */
static void territory_check(ctx_t *ctx, const ProtobufCMessage *m, const patch_changes_t *changes)
{
    const reg_territory_t *t = (const reg_territory_t *)m;
    if (changes && patch_changed(changes, "kind") &&
        ctx_exists(ctx, "SELECT 1 FROM territory WHERE parent_id = ? LIMIT 1", t->id)) {
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "territory.kind",
                      "cannot change while other territories are inside %s", t->id);
        return;
    }
    const char *parent = field_nonempty(t->parent_id);
    if (!parent)
        return;
    if (strcmp(parent, t->id) == 0) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "territory.parent_id",
                      "cannot be the territory itself");
        return;
    }
    reg_territory_t *p = (reg_territory_t *)entity_load(ctx, &registry_territory_entity, parent);
    if (p && entity_is_archived(&p->base)) {
        ctx_violation(ctx, STATUS_NOT_FOUND, "territory.parent_id", "territory %s is archived",
                      parent);
        protobuf_c_message_free_unpacked(&p->base, NULL);
        return;
    }
    if (!p) {
        ctx_violation(ctx, STATUS_NOT_FOUND, "territory.parent_id",
                      "territory %s is not registered", parent);
        return;
    }
    if (!territory_parent_allowed(t->kind, p->kind)) {
        const char *allowed = territory_parent_kinds(t->kind);
        if (allowed)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "territory.parent_id",
                          "a %s can only be inside a %s, and %s is a %s", t->kind, allowed, parent,
                          p->kind);
        else
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "territory.parent_id",
                          "a %s cannot be inside another territory", t->kind);
    }
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

status_t registry_territory_register(ctx_t *ctx, const reg_territory_t *in, reg_territory_t **out)
{
    return entity_register(ctx, &registry_territory_entity, &in->base, NULL,
                           (ProtobufCMessage **)out);
}

static void territory_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListTerritoriesRequest *req = (const void *)msg;
    field_word(ctx, "kind", req->kind, registry_territory_kinds, 0);
    field_slug(ctx, "parent_id", req->parent_id, 0);
}

static const page_ref_t territory_list_refs[] = {
    {"parent_id", "territory", REGISTRY_TERRITORY_EXISTS},
    {NULL, NULL, NULL},
};

/* The columns of the import's territories.csv. */
static const csv_column_t territory_csv[] = {
    {"id", "id"},
    {"name", "name"},
    {"kind", "kind"},
    {"parent_id", "parent_id"},
    {"population", "population"},
    {"boundary", "boundary"},
    {"source_url", "source_url"},
    {"notes", "notes"},
    {NULL, NULL},
};

const page_list_t registry_territory_list = {
    .list = "territories",
    .sql = "SELECT " TERRITORY_COLUMNS " FROM territory WHERE id > :after"
           " AND archived_ms IS NULL"
           " AND (:kind IS NULL OR kind = :kind)"
           " AND (:parent_id IS NULL OR parent_id = :parent_id)"
           " AND (:pattern IS NULL OR name_folded LIKE :pattern"
           "  OR aliases_folded LIKE :pattern)"
           " ORDER BY id LIMIT :page_limit",
    .answer = &concerto__registry__v1__territory_list__descriptor,
    .search_max = REGISTRY_MAX_NAME,
    .check = territory_list_check,
    .complete = territory_complete,
    .refs = territory_list_refs,
    .csv = territory_csv,
    .csv_name = "territories.csv",
};
