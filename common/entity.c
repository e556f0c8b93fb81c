/* entity: register, update and get, written once (see entity.h). */
#include "entity.h"

#include "concerto/common/v1/change.pb-c.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "field.h"
#include "pbmsg.h"
#include "row.h"
#include "xalloc.h"

/* Ids never change: an update names the entity, it does not rename it. */
static const char *const entity_fixed[] = {"id", NULL};

static const char *entity_id(const ProtobufCMessage *e)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(e->descriptor, "id");
    assert(f && f->type == PROTOBUF_C_TYPE_STRING && "an entity has a string id");
    return *(char *const *)pbmsg_member(e, f);
}

int entity_is_archived(const ProtobufCMessage *e)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(e->descriptor, "archived");
    return f && pbmsg_present(e, f);
}

ProtobufCMessage *entity_load(ctx_t *ctx, const entity_t *type, const char *id)
{
    return ctx_load(ctx, type->select, id, type->desc, type->complete);
}

static void entity_check_read_only(ctx_t *ctx, const entity_t *type, const ProtobufCMessage *in)
{
    for (const entity_read_only_t *r = type->read_only; r && r->field; r++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(type->desc, r->field);
        assert(f && "a read-only field the entity has");
        if (!pbmsg_present(in, f))
            continue;
        char path[128];
        snprintf(path, sizeof path, "%s.%s", type->kind, r->field);
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "%s", r->why ? r->why : "is read-only");
    }
}

/* Writes `e` with `sql` (insert or update). */
static status_t entity_write(ctx_t *ctx, const entity_t *type, const char *sql,
                             const ProtobufCMessage *e, const void *extra)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (!st)
        return ctx->last_status;
    row_bind(st, e);
    if (type->bind)
        type->bind(ctx, st, e, extra);
    ctx_bind(ctx, st);
    char path[128];
    snprintf(path, sizeof path, "%s.id", type->kind);
    return ctx_step(ctx, st, path);
}

/* The field of event type `d` that holds an entity of type `desc`. */
static const ProtobufCFieldDescriptor *entity_field_of(const ProtobufCMessageDescriptor *d,
                                                       const ProtobufCMessageDescriptor *desc)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE && d->fields[i].descriptor == desc)
            return &d->fields[i];
    return NULL;
}

/* The FieldChange list of `changes`, `before` -> `after`, for an
 * event's `changes` field; the caller frees it with entity_free_changes. */
static Concerto__Common__V1__FieldChange **entity_field_changes(const ProtobufCMessage *before,
                                                                const ProtobufCMessage *after,
                                                                const patch_changes_t *changes)
{
    Concerto__Common__V1__FieldChange **out = xcalloc(changes->n + 1, sizeof *out);
    for (size_t i = 0; i < changes->n; i++) {
        out[i] = xmalloc(sizeof *out[i]);
        concerto__common__v1__field_change__init(out[i]);
        out[i]->field = xstrdup(changes->paths[i]);
        out[i]->old_value = before ? pbmsg_path_text(before, changes->paths[i]) : NULL;
        out[i]->new_value = pbmsg_path_text(after, changes->paths[i]);
    }
    return out;
}

static void entity_free_changes(Concerto__Common__V1__FieldChange **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        concerto__common__v1__field_change__free_unpacked(list[i], NULL);
    free(list);
}

static status_t entity_emit(ctx_t *ctx, const entity_t *type, const ProtobufCMessage *e,
                            const ProtobufCMessage *before, const patch_changes_t *changes)
{
    const ProtobufCMessageDescriptor *d = changes ? type->updated : type->registered;
    const ProtobufCFieldDescriptor *actor =
        protobuf_c_message_descriptor_get_field_by_name(d, "actor");
    const ProtobufCFieldDescriptor *entity = entity_field_of(d, type->desc);
    const ProtobufCFieldDescriptor *changed =
        changes ? protobuf_c_message_descriptor_get_field_by_name(d, "changed_fields") : NULL;
    const ProtobufCFieldDescriptor *values =
        changes ? protobuf_c_message_descriptor_get_field_by_name(d, "changes") : NULL;
    assert(actor && entity && (!changes || changed) && "an event of the entity's shape");
    assert((!values || values->descriptor == &concerto__common__v1__field_change__descriptor) &&
           "an event's changes are FieldChanges");
    /* The event borrows the actor, the entity and the paths, and gives
     * them back before it is freed. */
    ProtobufCMessage *ev = pbmsg_new(d);
    *(const char **)pbmsg_member(ev, actor) = ctx->actor;
    *(const ProtobufCMessage **)pbmsg_member(ev, entity) = e;
    if (changed) {
        *(size_t *)((char *)ev + changed->quantifier_offset) = changes->n;
        *(char ***)pbmsg_member(ev, changed) = changes->paths;
    }
    Concerto__Common__V1__FieldChange **list =
        values ? entity_field_changes(before, e, changes) : NULL;
    if (values) {
        *(size_t *)((char *)ev + values->quantifier_offset) = changes->n;
        *(Concerto__Common__V1__FieldChange ***)pbmsg_member(ev, values) = list;
    }
    status_t s = ctx_emit(ctx, type->kind, entity_id(e), ev);
    if (values) {
        *(size_t *)((char *)ev + values->quantifier_offset) = 0;
        *(Concerto__Common__V1__FieldChange ***)pbmsg_member(ev, values) = NULL;
        entity_free_changes(list, changes->n);
    }
    *(const char **)pbmsg_member(ev, actor) = NULL;
    *(const ProtobufCMessage **)pbmsg_member(ev, entity) = NULL;
    if (changed) {
        *(size_t *)((char *)ev + changed->quantifier_offset) = 0;
        *(char ***)pbmsg_member(ev, changed) = NULL;
    }
    protobuf_c_message_free_unpacked(ev, NULL);
    return s;
}

status_t entity_register(ctx_t *ctx, const entity_t *type, const ProtobufCMessage *in,
                         const void *extra, ProtobufCMessage **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    entity_check_read_only(ctx, type, in);
    type->validate(ctx, in);
    if (ctx->problems != mark)
        return ctx->last_status;
    const char *id = entity_id(in);
    ProtobufCMessage *old = entity_load(ctx, type, id);
    if (old) {
        char path[128];
        snprintf(path, sizeof path, "%s.id", type->kind);
        int archived = entity_is_archived(old);
        protobuf_c_message_free_unpacked(old, NULL);
        if (archived)
            return ctx_violation(ctx, STATUS_CONFLICT, path,
                                 "%s %s was archived, and an archived id is never reused",
                                 type->noun, id);
        return ctx_violation(ctx, STATUS_CONFLICT, path, "%s %s is already registered", type->noun,
                             id);
    }
    if (type->check)
        type->check(ctx, in, NULL);
    if (ctx->problems != mark || entity_write(ctx, type, type->insert, in, extra) != STATUS_OK ||
        (type->inserted && type->inserted(ctx, in, extra) != STATUS_OK))
        return ctx->last_status;
    ProtobufCMessage *e = entity_load(ctx, type, id);
    if (!e)
        return ctx_problem(ctx, STATUS_INTERNAL, "%s vanished after insert", type->noun);
    status_t s = entity_emit(ctx, type, e, NULL, NULL);
    if (s == STATUS_OK && type->emitted)
        s = type->emitted(ctx, NULL, e, NULL, extra);
    if (s == STATUS_OK && out)
        *out = e;
    else
        protobuf_c_message_free_unpacked(e, NULL);
    return s;
}

/* The field of `msg` holding an entity of type `desc` (NULL when absent). */
static const ProtobufCMessage *entity_in(const ProtobufCMessage *msg,
                                         const ProtobufCMessageDescriptor *desc)
{
    const ProtobufCFieldDescriptor *f = entity_field_of(msg->descriptor, desc);
    assert(f && "a request with a field of the entity's type");
    return *(ProtobufCMessage *const *)pbmsg_member(msg, f);
}

int entity_on_register(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const entity_t *type = arg;
    const ProtobufCMessage *in = entity_in(msg, type->desc);
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!in) {
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, type->kind, "is required");
        return ctx_fail(&ctx);
    }
    ProtobufCMessage *e = NULL;
    entity_register(&ctx, type, in, NULL, &e);
    return ctx_finish_free(&ctx, e);
}

int entity_on_update(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const entity_t *type = arg;
    const ProtobufCMessage *in = entity_in(msg, type->desc);
    ctx_t ctx;
    ctx_init(&ctx, call);
    const char *id =
        field_update_id(&ctx, type->kind, in != NULL, entity_id(msg), in ? entity_id(in) : NULL);
    if (ctx.problems)
        return ctx_fail(&ctx);
    entity_check_read_only(&ctx, type, in);
    ProtobufCMessage *e = entity_require(&ctx, type, "id", id);
    if (!e)
        return ctx_fail(&ctx);
    if (entity_is_archived(e)) {
        protobuf_c_message_free_unpacked(e, NULL);
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "id", "%s %s is archived", type->noun, id);
        return ctx_fail(&ctx);
    }
    ProtobufCMessage *before = entity_load(&ctx, type, id);
    patch_changes_t changes = {0};
    patch_apply(e, in, entity_fixed, &changes);
    type->validate(&ctx, e);
    if (!ctx.problems && type->check)
        type->check(&ctx, e, &changes);
    if (!ctx.problems && changes.n)
        entity_write(&ctx, type, type->update, e, NULL);
    protobuf_c_message_free_unpacked(e, NULL);
    /* Answer with the row as stored: the new updated_ms, and none of the
     * empty sub-messages the patch may have added. */
    e = ctx.problems ? NULL : entity_load(&ctx, type, id);
    if (e && changes.n && entity_emit(&ctx, type, e, before, &changes) == STATUS_OK &&
        type->emitted && type->emitted(&ctx, before, e, &changes, NULL) != STATUS_OK) {
        protobuf_c_message_free_unpacked(e, NULL);
        e = NULL;
    }
    patch_changes_clear(&changes);
    if (before)
        protobuf_c_message_free_unpacked(before, NULL);
    return ctx_finish_free(&ctx, e);
}

ProtobufCMessage *entity_require(ctx_t *ctx, const entity_t *type, const char *field,
                                 const char *id)
{
    ProtobufCMessage *e = entity_load(ctx, type, id);
    if (!e && !ctx->problems)
        ctx_violation(ctx, STATUS_NOT_FOUND, field, "%s %s is not registered", type->noun, id);
    return e;
}

int entity_on_get(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const entity_t *type = arg;
    const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
    assert(f->type == PROTOBUF_C_TYPE_STRING && "a get request names the id first");
    const char *id = *(char *const *)pbmsg_member(msg, f);
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!field_slug(&ctx, f->name, id, FIELD_REQUIRED))
        return ctx_fail(&ctx);
    return ctx_finish_free(&ctx, entity_require(&ctx, type, f->name, id));
}

/* Emits {actor, <entity>, reason} about the archived entity. */
static status_t entity_emit_archived(ctx_t *ctx, const entity_t *type, const ProtobufCMessage *e,
                                     const char *reason)
{
    const ProtobufCMessageDescriptor *d = type->archived;
    const ProtobufCFieldDescriptor *actor =
        protobuf_c_message_descriptor_get_field_by_name(d, "actor");
    const ProtobufCFieldDescriptor *why =
        protobuf_c_message_descriptor_get_field_by_name(d, "reason");
    const ProtobufCFieldDescriptor *entity = entity_field_of(d, type->desc);
    assert(actor && why && entity && "an Archived event of the entity's shape");
    ProtobufCMessage *ev = pbmsg_new(d);
    *(const char **)pbmsg_member(ev, actor) = ctx->actor;
    *(const char **)pbmsg_member(ev, why) = reason;
    *(const ProtobufCMessage **)pbmsg_member(ev, entity) = e;
    status_t s = ctx_emit(ctx, type->kind, entity_id(e), ev);
    *(const char **)pbmsg_member(ev, actor) = NULL;
    *(const char **)pbmsg_member(ev, why) = NULL;
    *(const ProtobufCMessage **)pbmsg_member(ev, entity) = NULL;
    protobuf_c_message_free_unpacked(ev, NULL);
    return s;
}

int entity_on_archive(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const entity_t *type = arg;
    assert(type->archive && type->archived && "an entity that can be archived");
    const ProtobufCFieldDescriptor *reason_f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "reason");
    assert(reason_f && "an archive request has a reason");
    const char *id = entity_id(msg);
    const char *reason = *(char *const *)pbmsg_member(msg, reason_f);
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "id", id, FIELD_REQUIRED);
    field_text(&ctx, "reason", reason, ENTITY_MAX_REASON, FIELD_REQUIRED | FIELD_MULTILINE);
    if (ctx.problems)
        return ctx_fail(&ctx);
    ProtobufCMessage *e = entity_require(&ctx, type, "id", id);
    if (!e)
        return ctx_fail(&ctx);
    if (entity_is_archived(e))
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "id", "%s %s is already archived",
                      type->noun, id);
    else if (type->may_archive)
        type->may_archive(&ctx, e);
    protobuf_c_message_free_unpacked(e, NULL);
    if (ctx.problems)
        return ctx_fail(&ctx);
    sqlite3_stmt *st = ctx_stmt(&ctx, type->archive);
    if (st) {
        row_bind_text(st, ":id", id);
        row_bind_text(st, ":reason", reason);
        ctx_bind(&ctx, st);
        ctx_step(&ctx, st, "id");
    }
    e = ctx.problems ? NULL : entity_load(&ctx, type, id);
    if (e)
        entity_emit_archived(&ctx, type, e, reason);
    return ctx_finish_free(&ctx, e);
}
