/* entity: the commands and queries every kept entity has, written once:
 * register, partial update, get by id, and the events they emit.
 *
 * An entity is a message with a string `id` stored in one row (row.h maps
 * it); its events follow one shape, `<Entity>Registered {actor, entity}`
 * and `<Entity>Updated {actor, entity, changed_fields}`, about the subject
 * "<kind>:<id>". A daemon describes the entity once, with its rules as
 * hooks, and its handlers are rows of its handler table:
 *
 *     static const entity_t territory = {
 *         .kind = "territory", .noun = "territory",
 *         .desc = &concerto__registry__v1__territory__descriptor,
 *         .select = "SELECT id, name, ... FROM territory WHERE id = ?",
 *         .insert = "INSERT INTO territory(id, name, ...) VALUES(:id, :name, ..., :now, :now)",
 *         .update = "UPDATE territory SET name = :name, ..., updated_ms = :now WHERE id = :id",
 *         .registered = &concerto__registry__v1__territory_registered__descriptor,
 *         .updated = &concerto__registry__v1__territory_updated__descriptor,
 *         .read_only = territory_read_only,
 *         .validate = territory_validate, .check = territory_check, .bind = territory_bind,
 *     };
 *     and in the handler table:
 *     {&concerto__registry__v1__update_territory_request__descriptor, SERVICE_COMMAND,
 *      entity_on_update, &territory},
 *
 * Register: the read-only fields are absent, validate, the id is free
 * (CONFLICT), check, insert, emit Registered with the row as stored, then
 * `emitted`.
 * Update: the request names the id (its `id`, or the entity's own, which
 * must agree), the entity exists (NOT_FOUND), the present fields are
 * patched onto it (patch.h), validate, check, update and emit Updated
 * listing the changed fields, then `emitted`, unless nothing changed (then
 * OK, no event).
 * Both answer with the row as stored. Statements get the entity's fields
 * by name (row.h) and the call's :now, :today, :actor (ctx_bind); `bind`
 * adds what derives from the fields. When the Updated event has a
 * `changes` field (concerto.common.v1.FieldChange), each changed field is
 * listed there with its old and new value.
 * Archive (an entity whose message has an `archived` sub-message, and
 * `archive` and `archived` below): the entity exists and is not archived
 * yet (FAILED_PRECONDITION), a reason is given, `may_archive` agrees,
 * `archive` writes, and Archived {actor, <entity>, reason} is emitted. An
 * archived entity is refused by update (FAILED_PRECONDITION) and its id by
 * register (CONFLICT: ids are never reused). */
#ifndef CONCERTO_ENTITY_H
#define CONCERTO_ENTITY_H

#include "ctx.h"
#include "patch.h"
#include "row.h"

/* A field requests may not set: "is read-only", or `why`. */
typedef struct {
    const char *field;
    const char *why;
} entity_read_only_t;

typedef struct {
    const char *kind; /* "table": the subject prefix, and the request field holding it */
    const char *noun; /* "Table": "Table tqmn is not registered" */
    const ProtobufCMessageDescriptor *desc;
    const char *select; /* the row of one entity; one parameter: its id */
    const char *insert;
    const char *update;
    const ProtobufCMessageDescriptor *registered; /* {actor, <entity>} */
    const ProtobufCMessageDescriptor *updated;    /* {actor, <entity>, changed_fields} */
    const entity_read_only_t *read_only;          /* ends with {NULL} */
    /* The rules, each recording violations in ctx. validate: the entity's
     * own fields (paths "<kind>.<field>"). check (may be NULL): against
     * the database, once validate found nothing; `changes` is NULL for a
     * new entity. */
    void (*validate)(ctx_t *ctx, const ProtobufCMessage *e);
    void (*check)(ctx_t *ctx, const ProtobufCMessage *e, const patch_changes_t *changes);
    /* Optional: binds what row_bind leaves (derived columns) to insert or
     * update, with the `extra` entity_register was given (NULL for an
     * update); writes what else a new entity needs once it is inserted;
     * completes what row_read leaves (repeated fields). */
    void (*bind)(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessage *e, const void *extra);
    status_t (*inserted)(ctx_t *ctx, const ProtobufCMessage *e, const void *extra);
    row_complete_fn complete;
    /* Optional: what else a change needs once its Registered or Updated
     * event is emitted (events that follow from it, say): `before` is the
     * entity as it was (NULL for a new one), `after` as stored, `changes`
     * NULL for a new one, `extra` as entity_register was given (NULL for
     * an update). Not called for an update that changes nothing. */
    status_t (*emitted)(ctx_t *ctx, const ProtobufCMessage *before, const ProtobufCMessage *after,
                        const patch_changes_t *changes, const void *extra);
    /* Optional, archiving: the statement (parameters :id, :reason and the
     * call's :now, :actor), the event {actor, <entity>, reason}, and the
     * rule that may refuse it (recording violations). */
    const char *archive;
    const ProtobufCMessageDescriptor *archived;
    void (*may_archive)(ctx_t *ctx, const ProtobufCMessage *e);
} entity_t;

/* The longest reason an archive takes, in characters. */
#define ENTITY_MAX_REASON 1000

/* 1 when entity `e` has an `archived` sub-message that is set. */
int entity_is_archived(const ProtobufCMessage *e);
/* The entity `id` as stored, or NULL (a database error is recorded). */
ProtobufCMessage *entity_load(ctx_t *ctx, const entity_t *type, const char *id);
/* Registers `in` (`extra`: what the insert needs beyond it, for the
 * hooks; may be NULL); returns the status recorded and, on success, the
 * stored entity in *out (unless out is NULL; the caller frees it). */
status_t entity_register(ctx_t *ctx, const entity_t *type, const ProtobufCMessage *in,
                         const void *extra, ProtobufCMessage **out);

/* entity_load, or NULL after recording NOT_FOUND on request field
 * `field`: "<noun> <id> is not registered". */
ProtobufCMessage *entity_require(ctx_t *ctx, const entity_t *type, const char *field,
                                 const char *id);

/* Handlers (service_handler_fn) whose `arg` is the entity_t, for the rows
 * of a handler table:
 *   entity_on_register: the request's field of the entity's type is
 *     registered ("is required" when absent);
 *   entity_on_update: its `id` and its field of the entity's type are an
 *     update;
 *   entity_on_get: its first field (a string) is the id to answer. */
int entity_on_register(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int entity_on_update(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int entity_on_get(service_call_t *call, const ProtobufCMessage *msg, void *arg);
/*   entity_on_archive: its `id` and `reason` archive the entity. */
int entity_on_archive(service_call_t *call, const ProtobufCMessage *msg, void *arg);

#endif
