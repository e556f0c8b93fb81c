/* registry_history: the history of a Table, a territory or an
 * organization, read from the outbox (the audit trail) by the subject
 * "<kind>:<id>": registration, updates (each change with its old and new
 * value), recognition changes, memberships, attestations, archiving,
 * oldest first, each decoded into its typed field of HistoryEntry. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "field.h"
#include "outbox.h"
#include "page.h"
#include "pbmsg.h"
#include "registry.h"
#include "xalloc.h"

typedef struct {
    ctx_t *ctx;
    Concerto__Registry__V1__TableHistory *h;
    size_t limit;
    size_t bytes;
    int more;
    int failed;
} history_page_t;

/* Unpacks the event into the entry's field of the event's type (each of a
 * Table's events has one); returns -1 for a type it has none for. */
static int history_decode(Concerto__Registry__V1__HistoryEntry *e, const envelope_t *env)
{
    const ProtobufCMessageDescriptor *d = e->base.descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const ProtobufCMessageDescriptor *type = f->descriptor;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || strcmp(type->name, env->type) != 0)
            continue;
        ProtobufCMessage *m = NULL;
        if (envelope_unpack_payload(env, type, &m) != ENVELOPE_OK)
            return -1;
        *(ProtobufCMessage **)pbmsg_member(&e->base, f) = m;
        return 0;
    }
    return -1;
}

/* A contact person's e-mail and phone only for callers who may see them. */
static void history_hide_contacts(ctx_t *ctx, Concerto__Registry__V1__HistoryEntry *e)
{
    if (e->person_added)
        registry_person_hide_contacts(ctx, e->person_added->person);
    if (e->person_updated)
        registry_person_hide_contacts(ctx, e->person_updated->person);
    if (e->person_ended)
        registry_person_hide_contacts(ctx, e->person_ended->person);
}

static int history_visit(uint64_t seq, const uint8_t *frame, size_t len, void *arg)
{
    history_page_t *p = arg;
    Concerto__Registry__V1__TableHistory *h = p->h;
    if (h->n_entries == p->limit || (h->n_entries && p->bytes + len > REGISTRY_HISTORY_MAX_BYTES)) {
        p->more = 1;
        return 1;
    }
    envelope_t *env = concerto__common__v1__envelope__unpack(NULL, len, frame);
    if (!env || !env->type) {
        log_error("outbox row does not decode", "seq=%llu", (unsigned long long)seq);
        if (env)
            concerto__common__v1__envelope__free_unpacked(env, NULL);
        p->failed = 1;
        return 1;
    }
    Concerto__Registry__V1__HistoryEntry *e = xmalloc(sizeof *e);
    concerto__registry__v1__history_entry__init(e);
    e->has_sequence = 1;
    e->sequence = seq;
    e->type = xstrdup(env->type);
    e->has_timestamp_ms = env->has_timestamp_ms;
    e->timestamp_ms = env->timestamp_ms;
    e->actor = env->actor ? xstrdup(env->actor) : NULL;
    if (history_decode(e, env) == 0)
        history_hide_contacts(p->ctx, e);
    else if (env->has_payload) {
        e->has_payload = 1;
        e->payload.len = env->payload.len;
        e->payload.data = xmalloc(env->payload.len);
        memcpy(e->payload.data, env->payload.data, env->payload.len);
    }
    concerto__common__v1__envelope__free_unpacked(env, NULL);
    h->entries[h->n_entries++] = e;
    p->bytes += len;
    return 0;
}

/* An entity's history: the request names it in its first field (a
 * string) and has after_sequence and limit; the answer holds its id in its
 * first field, the entries and next_after_sequence. */
int registry_handle_get_history(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const registry_history_t *kind = arg;
    const ProtobufCMessageDescriptor *rd = msg->descriptor, *ad = kind->answer;
    const ProtobufCFieldDescriptor *id_f = &rd->fields[0];
    const ProtobufCFieldDescriptor *after_f =
        protobuf_c_message_descriptor_get_field_by_name(rd, "after_sequence");
    const ProtobufCFieldDescriptor *limit_f =
        protobuf_c_message_descriptor_get_field_by_name(rd, "limit");
    const ProtobufCFieldDescriptor *entries_f =
        protobuf_c_message_descriptor_get_field_by_name(ad, "entries");
    const ProtobufCFieldDescriptor *next_f =
        protobuf_c_message_descriptor_get_field_by_name(ad, "next_after_sequence");
    assert(id_f->type == PROTOBUF_C_TYPE_STRING && after_f && limit_f && entries_f && next_f &&
           ad->fields[0].type == PROTOBUF_C_TYPE_STRING && "a history request and answer");
    const char *id = *(char *const *)pbmsg_member(msg, id_f);
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, id_f->name, id, FIELD_REQUIRED);
    size_t limit = (size_t)page_limit(&ctx, *(const uint32_t *)pbmsg_member(msg, limit_f));
    /* Archived records keep their history. */
    if (!ctx.problems)
        ctx_require(&ctx, kind->known, id_f->name, kind->noun, id);
    if (ctx.problems)
        return ctx_fail(&ctx);
    Concerto__Registry__V1__TableHistory h = CONCERTO__REGISTRY__V1__TABLE_HISTORY__INIT;
    h.entries = xcalloc(limit, sizeof *h.entries);
    history_page_t page = {&ctx, &h, limit, 0, 0, 0};
    char subject[80];
    snprintf(subject, sizeof subject, "%s:%s", kind->kind, id);
    if (outbox_read_subject(ctx.store, subject, *(const uint64_t *)pbmsg_member(msg, after_f),
                            limit + 1, history_visit, &page) < 0 ||
        page.failed)
        ctx_problem(&ctx, STATUS_INTERNAL, "cannot read the history");
    /* The answer borrows the id and the entries. */
    ProtobufCMessage *answer = pbmsg_new(ad);
    *(const char **)pbmsg_member(answer, &ad->fields[0]) = id;
    *(size_t *)((char *)answer + entries_f->quantifier_offset) = h.n_entries;
    *(void **)pbmsg_member(answer, entries_f) = h.entries;
    if (page.more && h.n_entries) {
        *(uint64_t *)pbmsg_member(answer, next_f) = h.entries[h.n_entries - 1]->sequence;
        pbmsg_mark_present(answer, next_f);
    }
    int rc = ctx_finish(&ctx, answer);
    *(const char **)pbmsg_member(answer, &ad->fields[0]) = NULL;
    *(size_t *)((char *)answer + entries_f->quantifier_offset) = 0;
    *(void **)pbmsg_member(answer, entries_f) = NULL;
    protobuf_c_message_free_unpacked(answer, NULL);
    for (size_t i = 0; i < h.n_entries; i++)
        protobuf_c_message_free_unpacked(&h.entries[i]->base, NULL);
    free(h.entries);
    return rc;
}

const registry_history_t registry_table_history = {
    "table", "Table", "SELECT 1 FROM concertation_table WHERE id = ?",
    &concerto__registry__v1__table_history__descriptor};
const registry_history_t registry_territory_history = {
    "territory", "territory", "SELECT 1 FROM territory WHERE id = ?",
    &concerto__registry__v1__territory_history__descriptor};
const registry_history_t registry_organization_history = {
    "organization", "organization", "SELECT 1 FROM organization WHERE id = ?",
    &concerto__registry__v1__organization_history__descriptor};
