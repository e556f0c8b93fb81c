/* registry_territory: territories (boroughs, neighbourhoods, on-island
 * municipalities, sectors grouping municipalities): register, update, get,
 * list.
 *
 * A territory may sit inside one parent: a neighbourhood inside a borough
 * or a municipality, a municipality inside a sector. That keeps the
 * hierarchy two levels deep, so it can have no cycles. */
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "registry_fold.h"
#include "registry_validate.h"
#include "xalloc.h"

#define TERRITORY_COLUMNS                                                                          \
    "id, name, kind, parent_id, boundary, population, source_url, notes, created_ms, updated_ms"

static const char territory_by_id[] = "SELECT " TERRITORY_COLUMNS " FROM territory WHERE id = ?";

static ProtobufCMessage *territory_row(sqlite3_stmt *st)
{
    reg_territory_t *t = xmalloc(sizeof *t);
    concerto__registry__v1__territory__init(t);
    t->id = reg_column_text(st, 0);
    t->name = reg_column_text(st, 1);
    t->kind = reg_column_text(st, 2);
    t->parent_id = reg_column_text(st, 3);
    t->boundary = reg_column_text(st, 4);
    if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
        t->has_population = 1;
        t->population = sqlite3_column_int64(st, 5);
    }
    t->source_url = reg_column_text(st, 6);
    t->notes = reg_column_text(st, 7);
    t->has_created_ms = t->has_updated_ms = 1;
    t->created_ms = sqlite3_column_int64(st, 8);
    t->updated_ms = sqlite3_column_int64(st, 9);
    return &t->base;
}

static reg_territory_t *territory_load(reg_ctx_t *ctx, const char *id)
{
    return (reg_territory_t *)reg_load_row(ctx, territory_by_id, id, territory_row);
}

static void territory_check_readonly(reg_ctx_t *ctx, const reg_territory_t *t)
{
    reg_check_absent(ctx, "territory.created_ms", t->has_created_ms);
    reg_check_absent(ctx, "territory.updated_ms", t->has_updated_ms);
}

static void territory_validate(reg_ctx_t *ctx, const reg_territory_t *t)
{
    reg_check_slug(ctx, "territory.id", t->id, 1);
    reg_check_text(ctx, "territory.name", t->name, REGISTRY_MAX_NAME, 1, 0);
    reg_check_code(ctx, "territory.kind", t->kind, registry_territory_kinds, 1);
    reg_check_slug(ctx, "territory.parent_id", t->parent_id, 0);
    reg_check_text(ctx, "territory.boundary", t->boundary, REGISTRY_MAX_TEXT, 0, 1);
    if (t->has_population)
        reg_check_range(ctx, "territory.population", t->population, 0, REGISTRY_MAX_POPULATION);
    reg_check_url(ctx, "territory.source_url", t->source_url);
    reg_check_text(ctx, "territory.notes", t->notes, REGISTRY_MAX_TEXT, 0, 1);
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

static void territory_check_parent(reg_ctx_t *ctx, const reg_territory_t *t)
{
    const char *parent = reg_nonempty(t->parent_id);
    if (!parent)
        return;
    if (strcmp(parent, t->id) == 0) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "territory.parent_id",
                      "cannot be the territory itself");
        return;
    }
    reg_territory_t *p = territory_load(ctx, parent);
    if (!p) {
        reg_violation(ctx, STATUS_NOT_FOUND, "territory.parent_id",
                      "territory %s is not registered", parent);
        return;
    }
    if (!territory_parent_allowed(t->kind, p->kind)) {
        const char *allowed = territory_parent_kinds(t->kind);
        if (allowed)
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, "territory.parent_id",
                          "a %s can only be inside a %s, and %s is a %s", t->kind, allowed, parent,
                          p->kind);
        else
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, "territory.parent_id",
                          "a %s cannot be inside another territory", t->kind);
    }
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

/* Writes `t` (validated) as a new row or over the existing one. */
static status_t territory_write(reg_ctx_t *ctx, const reg_territory_t *t, int insert)
{
    sqlite3_stmt *st =
        insert ? reg_stmt(ctx, "INSERT INTO territory(name, name_folded, kind, parent_id, "
                               "boundary, population, source_url, notes, updated_ms, created_ms, "
                               "id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)")
               : reg_stmt(ctx, "UPDATE territory SET name = ?1, name_folded = ?2, kind = ?3, "
                               "parent_id = ?4, boundary = ?5, population = ?6, source_url = ?7, "
                               "notes = ?8, updated_ms = ?9 WHERE id = ?10");
    if (!st)
        return ctx->last_status;
    char *folded = registry_fold(t->name);
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, folded, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, t->kind, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 4, t->parent_id);
    reg_bind_text(st, 5, t->boundary);
    reg_bind_opt_int(st, 6, t->has_population, t->population);
    reg_bind_text(st, 7, t->source_url);
    reg_bind_text(st, 8, t->notes);
    sqlite3_bind_int64(st, 9, service_call_now_ms(ctx->call));
    sqlite3_bind_text(st, 10, t->id, -1, SQLITE_TRANSIENT);
    free(folded);
    return reg_step_done(ctx, st, "territory.id");
}

status_t registry_territory_register(reg_ctx_t *ctx, const reg_territory_t *in,
                                     reg_territory_t **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    territory_check_readonly(ctx, in);
    territory_validate(ctx, in);
    if (ctx->problems != mark)
        return ctx->last_status;
    if (registry_exists(ctx, REGISTRY_TERRITORY, in->id))
        return reg_violation(ctx, STATUS_CONFLICT, "territory.id",
                             "territory %s is already registered", in->id);
    territory_check_parent(ctx, in);
    if (ctx->problems != mark || territory_write(ctx, in, 1) != STATUS_OK)
        return ctx->last_status;
    reg_territory_t *t = territory_load(ctx, in->id);
    if (!t)
        return reg_problem(ctx, STATUS_INTERNAL, "territory vanished after insert");
    Concerto__Registry__V1__TerritoryRegistered ev =
        CONCERTO__REGISTRY__V1__TERRITORY_REGISTERED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.territory = t;
    status_t s = reg_emit(ctx, "territory", t->id, &ev.base);
    if (s == STATUS_OK && out)
        *out = t;
    else
        protobuf_c_message_free_unpacked(&t->base, NULL);
    return s;
}

static int territory_handle_register(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__RegisterTerritoryRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    if (!req->territory) {
        reg_violation(&ctx, STATUS_INVALID_ARGUMENT, "territory", "is required");
        return reg_fail(&ctx);
    }
    reg_territory_t *t = NULL;
    registry_territory_register(&ctx, req->territory, &t);
    return reg_finish_free(&ctx, (ProtobufCMessage *)t);
}

static int territory_has_children(reg_ctx_t *ctx, const char *id)
{
    sqlite3_stmt *st = reg_stmt(ctx, "SELECT 1 FROM territory WHERE parent_id = ? LIMIT 1");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

static int territory_handle_update(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__UpdateTerritoryRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    const reg_territory_t *in = req->territory;
    const char *id = reg_update_id(&ctx, "territory", in != NULL, req->id, in ? in->id : NULL);
    if (ctx.problems)
        return reg_fail(&ctx);
    territory_check_readonly(&ctx, in);
    reg_territory_t *t = territory_load(&ctx, id);
    if (!t) {
        reg_violation(&ctx, STATUS_NOT_FOUND, "id", "territory %s is not registered", id);
        return reg_fail(&ctx);
    }
    reg_changes_t ch = {0};
    reg_merge_str(&t->name, in->name, "name", &ch);
    size_t before_kind = ch.n;
    reg_merge_str(&t->kind, in->kind, "kind", &ch);
    int kind_changed = ch.n != before_kind;
    reg_merge_str(&t->parent_id, in->parent_id, "parent_id", &ch);
    reg_merge_str(&t->boundary, in->boundary, "boundary", &ch);
    reg_merge_int(&t->has_population, &t->population, in->has_population, in->population,
                  "population", &ch);
    reg_merge_str(&t->source_url, in->source_url, "source_url", &ch);
    reg_merge_str(&t->notes, in->notes, "notes", &ch);
    territory_validate(&ctx, t);
    if (!ctx.problems && kind_changed && territory_has_children(&ctx, id))
        reg_violation(&ctx, STATUS_FAILED_PRECONDITION, "territory.kind",
                      "cannot change while other territories are inside %s", id);
    if (!ctx.problems)
        territory_check_parent(&ctx, t);
    if (!ctx.problems && ch.n)
        territory_write(&ctx, t, 0);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    /* Answer with the row as stored, which has the new updated_ms. */
    t = ctx.problems ? NULL : territory_load(&ctx, id);
    if (t && ch.n) {
        Concerto__Registry__V1__TerritoryUpdated ev =
            CONCERTO__REGISTRY__V1__TERRITORY_UPDATED__INIT;
        ev.actor = (char *)ctx.actor;
        ev.territory = t;
        ev.n_changed_fields = ch.n;
        ev.changed_fields = (char **)ch.names;
        reg_emit(&ctx, "territory", id, &ev.base);
    }
    return reg_finish_free(&ctx, (ProtobufCMessage *)t);
}

static int territory_handle_get(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__GetTerritoryRequest *req = (const void *)msg;
    return reg_answer_entity(call, arg, "id", req->id, "territory", territory_by_id, territory_row);
}

static int territory_handle_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ListTerritoriesRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    char after[65];
    int limit;
    reg_page(&ctx, "territories", req->cursor, req->limit, after, &limit);
    reg_check_code(&ctx, "kind", req->kind, registry_territory_kinds, 0);
    reg_check_slug(&ctx, "parent_id", req->parent_id, 0);
    char *pattern = reg_search_pattern(&ctx, "search", req->search);
    if (ctx.problems) {
        free(pattern);
        return reg_fail(&ctx);
    }
    sqlite3_stmt *st = reg_stmt(&ctx, "SELECT " TERRITORY_COLUMNS " FROM territory"
                                      " WHERE id > ?1 AND (?2 IS NULL OR kind = ?2)"
                                      " AND (?3 IS NULL OR parent_id = ?3)"
                                      " AND (?4 IS NULL OR name_folded LIKE ?4)"
                                      " ORDER BY id LIMIT ?5");
    if (!st) {
        free(pattern);
        return reg_fail(&ctx);
    }
    sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 2, req->kind);
    reg_bind_text(st, 3, req->parent_id);
    reg_bind_text(st, 4, pattern);
    sqlite3_bind_int(st, 5, limit + 1);
    free(pattern);
    Concerto__Registry__V1__TerritoryList *list = xmalloc(sizeof *list);
    concerto__registry__v1__territory_list__init(list);
    list->territories = (reg_territory_t **)reg_read_page(
        &ctx, st, "territories", limit, territory_row, &list->n_territories, &list->next_cursor);
    return reg_finish_free(&ctx, &list->base);
}

int registry_territory_setup(service_t *svc, const registry_config_t *cfg)
{
    void *arg = (void *)cfg;
    int rc = 0;
    rc |= service_on(svc, &concerto__registry__v1__register_territory_request__descriptor,
                     SERVICE_COMMAND, territory_handle_register, arg);
    rc |= service_on(svc, &concerto__registry__v1__update_territory_request__descriptor,
                     SERVICE_COMMAND, territory_handle_update, arg);
    rc |= service_on(svc, &concerto__registry__v1__get_territory_request__descriptor, SERVICE_QUERY,
                     territory_handle_get, arg);
    rc |= service_on(svc, &concerto__registry__v1__list_territories_request__descriptor,
                     SERVICE_QUERY, territory_handle_list, arg);
    return rc ? -1 : 0;
}
