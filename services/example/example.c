/* example: the smallest daemon on the toolkit (docs/new-service.md): a
 * schema, an entity (notes) with its register/update/get and events, a
 * list, and one subscription (the registry's Tables, which notes must
 * name). Everything else is the runtime's. */
#include "example.h"

#include <stdlib.h>

#include "concerto/example/v1/example.pb-c.h"
#include "concerto/registry/v1/registry.pb-c.h"
#include "entity.h"
#include "field.h"
#include "page.h"
#include "row.h"
#include "text.h"

#define EXAMPLE_MAX_TEXT 500

static const store_migration_t example_schema[] = {
    {"CREATE TABLE known_table(id TEXT PRIMARY KEY, name TEXT NOT NULL) STRICT;"
     "CREATE TABLE note("
     " id TEXT PRIMARY KEY,"
     " table_id TEXT NOT NULL REFERENCES known_table(id),"
     " text TEXT NOT NULL,"
     " text_folded TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"
     "CREATE INDEX note_by_table ON note(table_id, id);"},
};

/* --- the rules of a note */

static void note_validate(ctx_t *ctx, const ProtobufCMessage *m)
{
    const Concerto__Example__V1__Note *n = (const void *)m;
    field_slug(ctx, "note.id", n->id, FIELD_REQUIRED);
    field_slug(ctx, "note.table_id", n->table_id, FIELD_REQUIRED);
    field_text(ctx, "note.text", n->text, EXAMPLE_MAX_TEXT, FIELD_REQUIRED | FIELD_MULTILINE);
}

static void note_check(ctx_t *ctx, const ProtobufCMessage *m, const patch_changes_t *changes)
{
    (void)changes;
    const Concerto__Example__V1__Note *n = (const void *)m;
    if (!ctx_exists(ctx, "SELECT 1 FROM known_table WHERE id = ?", n->table_id))
        ctx_violation(ctx, STATUS_NOT_FOUND, "note.table_id", "Table %s is not known", n->table_id);
}

/* The text's search form. */
static void note_bind(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessage *m, const void *extra)
{
    (void)ctx;
    (void)extra;
    char *folded = text_fold(((const Concerto__Example__V1__Note *)m)->text);
    row_bind_text(st, ":text_folded", folded);
    free(folded);
}

static const entity_read_only_t note_read_only[] = {
    {"created_ms", NULL}, {"updated_ms", NULL}, {NULL, NULL}};

static const entity_t example_notes = {
    .kind = "note",
    .noun = "note",
    .desc = &concerto__example__v1__note__descriptor,
    .select = "SELECT id, table_id, text, created_ms, updated_ms FROM note WHERE id = ?",
    .insert = "INSERT INTO note(id, table_id, text, text_folded, created_ms, updated_ms)"
              " VALUES(:id, :table_id, :text, :text_folded, :now, :now)",
    .update = "UPDATE note SET table_id = :table_id, text = :text, text_folded = :text_folded,"
              " updated_ms = :now WHERE id = :id",
    .registered = &concerto__example__v1__note_registered__descriptor,
    .updated = &concerto__example__v1__note_updated__descriptor,
    .read_only = note_read_only,
    .validate = note_validate,
    .check = note_check,
    .bind = note_bind,
};

static void note_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Example__V1__ListNotesRequest *req = (const void *)msg;
    field_slug(ctx, "table_id", req->table_id, 0);
}

static const page_list_t example_note_list = {
    .list = "notes",
    .sql = "SELECT id, table_id, text, created_ms, updated_ms FROM note WHERE id > :after"
           " AND (:table_id IS NULL OR table_id = :table_id)"
           " AND (:pattern IS NULL OR text_folded LIKE :pattern)"
           " ORDER BY id LIMIT :page_limit",
    .answer = &concerto__example__v1__note_list__descriptor,
    .search_max = 100,
    .check = note_list_check,
};

/* --- what it learns from the registry */

static int example_on_table_registered(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__TableRegistered *ev = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    sqlite3_stmt *st = ctx_stmt(&ctx, "INSERT OR IGNORE INTO known_table(id, name)"
                                      " VALUES(:id, :name)");
    if (st && ev->table) {
        row_bind(st, &ev->table->base);
        ctx_step(&ctx, st, "table");
    }
    return ctx_finish(&ctx, NULL);
}

#define NOTE(name) (&concerto__example__v1__##name##__descriptor)

static const service_handler_spec_t example_handlers[] = {
    {NOTE(register_note_request), SERVICE_COMMAND, entity_on_register, &example_notes},
    {NOTE(update_note_request), SERVICE_COMMAND, entity_on_update, &example_notes},
    {NOTE(get_note_request), SERVICE_QUERY, entity_on_get, &example_notes},
    {NOTE(list_notes_request), SERVICE_QUERY, page_on_list, &example_note_list},
};

static const service_event_spec_t example_events[] = {
    {"registry", &concerto__registry__v1__table_registered__descriptor, example_on_table_registered,
     NULL},
};

const service_spec_t example_spec = {
    .name = "example",
    .summary = "Example daemon (docs/new-service.md): notes about the registry's Tables.",
    .migrations = example_schema,
    .n_migrations = sizeof example_schema / sizeof example_schema[0],
    .handlers = example_handlers,
    .n_handlers = sizeof example_handlers / sizeof example_handlers[0],
    .events = example_events,
    .n_events = sizeof example_events / sizeof example_events[0],
};
