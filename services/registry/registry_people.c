/* registry_people: the contact people of a Table (coordinator,
 * president, others): add, update, end, list, with their history in the
 * Table's events (PersonAdded, PersonUpdated, PersonEnded). People who
 * leave keep their record with `until`. E-mails and phones are personal:
 * they are shown only to callers with a token, never on public reads
 * (here, in the Table's `people` and in its history). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "entity.h"
#include "field.h"
#include "page.h"
#include "patch.h"
#include "registry.h"
#include "registry_decision.h"
#include "registry_validate.h"
#include "row.h"
#include "xalloc.h"

typedef Concerto__Registry__V1__Person reg_person_t;

static const char *const people_roles[] = {"coordinator", "president", "other", NULL};

/* E-mail and phone for every caller but a public one (ctx_bind's
 * :caller_public). */
#define PERSON_COLUMNS                                                                             \
    "p.id, p.table_id, p.name, p.role, p.title,"                                                   \
    " CASE WHEN NOT :caller_public THEN p.email END AS email,"                                     \
    " CASE WHEN NOT :caller_public THEN p.phone END AS phone,"                                     \
    " p.since, p.until, p.notes, p.created_ms, p.updated_ms"

int registry_caller_sees_contacts(ctx_t *ctx)
{
    return service_call_caller(ctx->call).role != CALLER_PUBLIC;
}

void registry_person_hide_contacts(ctx_t *ctx, reg_person_t *p)
{
    if (!p || registry_caller_sees_contacts(ctx))
        return;
    free(p->email);
    free(p->phone);
    p->email = p->phone = NULL;
}

static void person_validate(ctx_t *ctx, const reg_person_t *p)
{
    field_text(ctx, "person.name", p->name, REGISTRY_MAX_NAME, FIELD_REQUIRED);
    field_word(ctx, "person.role", p->role, people_roles, FIELD_REQUIRED);
    field_text(ctx, "person.title", p->title, REGISTRY_MAX_NAME, 0);
    field_email(ctx, "person.email", p->email, 0);
    field_phone(ctx, "person.phone", p->phone, 0);
    field_past_date(ctx, "person.since", p->since);
    field_text(ctx, "person.notes", p->notes, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
}

/* Fields a request may not set. */
static void person_read_only(ctx_t *ctx, const reg_person_t *p)
{
    if (p->has_id)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "person.id", "is read-only");
    if (p->until)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "person.until",
                      "is set by EndPersonRequest (DELETE /v1/tables/{id}/people/{personId})");
    if (p->has_created_ms || p->has_updated_ms)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "person.created_ms", "is read-only");
    if (p->table_id)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "person.table_id",
                      "is read-only: the Table is the request's table_id");
}

/* Reads the stored person whole, e-mail and phone included, for a change. */
static reg_person_t *person_stored(ctx_t *ctx, const char *table_id, uint64_t id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT p.id, p.table_id, p.name, p.role, p.title, p.email,"
                                     " p.phone, p.since, p.until, p.notes, p.created_ms,"
                                     " p.updated_ms FROM person p"
                                     " WHERE p.id = :id AND p.table_id = :table");
    if (!st)
        return NULL;
    row_bind_int(st, ":id", (int64_t)id);
    row_bind_text(st, ":table", table_id);
    reg_person_t *p = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        p = (void *)row_read(st, &concerto__registry__v1__person__descriptor);
    else if (rc == SQLITE_DONE)
        ctx_violation(ctx, STATUS_NOT_FOUND, "person_id", "Table %s has no person %llu", table_id,
                      (unsigned long long)id);
    else
        ctx_db_error(ctx, rc, "person_id");
    sqlite3_reset(st);
    return p;
}

/* The Table exists and may change. */
static int people_table(ctx_t *ctx, const char *table_id)
{
    if (!ctx_require(ctx, REGISTRY_TABLE_EXISTS, "table_id", "Table", table_id))
        return 0;
    return registry_table_writable(ctx, table_id, "table_id");
}

/* Emits `ev` (PersonAdded, PersonUpdated or PersonEnded: actor, person,
 * then for updates changed_fields) and answers with the person. */
static int person_answer(ctx_t *ctx, ProtobufCMessage *ev, reg_person_t *p)
{
    if (p && ctx_emit(ctx, "table", p->table_id, ev) == STATUS_OK)
        registry_person_hide_contacts(ctx, p);
    return ctx_finish_free(ctx, p ? &p->base : NULL);
}

int registry_handle_add_person(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__AddPersonRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!req->person)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "person", "is required");
    else {
        person_read_only(&ctx, req->person);
        person_validate(&ctx, req->person);
    }
    if (!ctx.problems)
        people_table(&ctx, req->table_id);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : ctx_stmt(&ctx, "INSERT INTO person(table_id, name, role,"
                                                     " title, email, phone, since, notes,"
                                                     " created_ms, updated_ms) VALUES(:table,"
                                                     " :name, :role, :title, :email, :phone,"
                                                     " COALESCE(:since, :today), :notes, :now,"
                                                     " :now)");
    if (!st)
        return ctx_fail(&ctx);
    row_bind(st, &req->person->base);
    row_bind_text(st, ":table", req->table_id);
    ctx_bind(&ctx, st);
    reg_person_t *p = NULL;
    if (ctx_step(&ctx, st, "person") == STATUS_OK)
        p = person_stored(&ctx, req->table_id,
                          (uint64_t)sqlite3_last_insert_rowid(store_db(ctx.store)));
    Concerto__Registry__V1__PersonAdded ev = CONCERTO__REGISTRY__V1__PERSON_ADDED__INIT;
    ev.actor = (char *)ctx.actor;
    ev.person = p;
    return person_answer(&ctx, &ev.base, p);
}

int registry_handle_update_person(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__UpdatePersonRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!req->has_person_id || !req->person_id)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "person_id", "is required");
    if (!req->person)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "person", "is required");
    else
        person_read_only(&ctx, req->person);
    if (!ctx.problems)
        people_table(&ctx, req->table_id);
    reg_person_t *p = ctx.problems ? NULL : person_stored(&ctx, req->table_id, req->person_id);
    if (!p)
        return ctx_fail(&ctx);
    patch_changes_t changes = {0};
    patch_apply(&p->base, &req->person->base, NULL, &changes);
    person_validate(&ctx, p);
    sqlite3_stmt *st =
        ctx.problems || !changes.n
            ? NULL
            : ctx_stmt(&ctx, "UPDATE person SET name = :name, role = :role, title = :title,"
                             " email = :email, phone = :phone, since = :since, notes = :notes,"
                             " updated_ms = :now WHERE id = :id");
    if (st) {
        row_bind(st, &p->base);
        ctx_bind(&ctx, st);
        ctx_step(&ctx, st, "person");
    }
    protobuf_c_message_free_unpacked(&p->base, NULL);
    p = ctx.problems ? NULL : person_stored(&ctx, req->table_id, req->person_id);
    Concerto__Registry__V1__PersonUpdated ev = CONCERTO__REGISTRY__V1__PERSON_UPDATED__INIT;
    ev.actor = (char *)ctx.actor;
    ev.person = p;
    ev.n_changed_fields = changes.n;
    ev.changed_fields = changes.paths;
    int rc;
    if (changes.n) {
        rc = person_answer(&ctx, &ev.base, p);
    } else {
        registry_person_hide_contacts(&ctx, p);
        rc = ctx_finish_free(&ctx, p ? &p->base : NULL);
    }
    patch_changes_clear(&changes);
    return rc;
}

int registry_handle_end_person(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__EndPersonRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    if (!req->has_person_id || !req->person_id)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "person_id", "is required");
    const char *until = field_past_date(&ctx, "until", req->until);
    if (!ctx.problems)
        people_table(&ctx, req->table_id);
    reg_person_t *p = ctx.problems ? NULL : person_stored(&ctx, req->table_id, req->person_id);
    if (p && p->until)
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "person_id",
                      "person %llu is no longer a contact since %s", (unsigned long long)p->id,
                      p->until);
    else if (p && strcmp(until, p->since) < 0)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "until", "must not be before since (%s)",
                      p->since);
    if (p)
        protobuf_c_message_free_unpacked(&p->base, NULL);
    sqlite3_stmt *st = ctx.problems ? NULL
                                    : ctx_stmt(&ctx, "UPDATE person SET until = :until,"
                                                     " updated_ms = :now WHERE id = :id");
    if (!st)
        return ctx_fail(&ctx);
    row_bind_text(st, ":until", until);
    row_bind_int(st, ":id", (int64_t)req->person_id);
    ctx_bind(&ctx, st);
    p = ctx_step(&ctx, st, "person_id") == STATUS_OK
            ? person_stored(&ctx, req->table_id, req->person_id)
            : NULL;
    Concerto__Registry__V1__PersonEnded ev = CONCERTO__REGISTRY__V1__PERSON_ENDED__INIT;
    ev.actor = (char *)ctx.actor;
    ev.person = p;
    return person_answer(&ctx, &ev.base, p);
}

size_t registry_people_of(ctx_t *ctx, const char *table_id, reg_person_t ***out)
{
    *out = NULL;
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT " PERSON_COLUMNS " FROM person p"
                                     " WHERE p.table_id = :table AND p.since <= :today"
                                     " AND (p.until IS NULL OR p.until > :today) ORDER BY p.id");
    if (!st)
        return 0;
    row_bind_text(st, ":table", table_id);
    ctx_bind(ctx, st);
    return ctx_read_all(ctx, st, &concerto__registry__v1__person__descriptor, SIZE_MAX,
                        (ProtobufCMessage ***)out, NULL);
}

static void people_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListPeopleRequest *req = (const void *)msg;
    field_slug(ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_date(ctx, "active_on", req->active_on, 0);
    if (!ctx->problems)
        ctx_require(ctx, REGISTRY_TABLE_EXISTS, "table_id", "Table", req->table_id);
}

const page_list_t registry_people_list = {
    .list = "people",
    .sql = "SELECT " PERSON_COLUMNS " FROM person p WHERE p.table_id = :table_id"
           " AND p.id > :after AND (:active_on IS NULL OR (p.since <= :active_on"
           "  AND (p.until IS NULL OR p.until > :active_on)))"
           " ORDER BY p.id LIMIT :page_limit",
    .answer = &concerto__registry__v1__person_list__descriptor,
    .key_int = 1,
    .check = people_list_check,
};
