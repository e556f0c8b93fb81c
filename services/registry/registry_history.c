/* registry_history: a Table's history, read from the outbox (the audit
 * trail) by the subject "table:<id>": registration, updates, recognition
 * changes, memberships and attestations, oldest first, each decoded into
 * its typed field of HistoryEntry. */
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
    if (history_decode(e, env) != 0 && env->has_payload) {
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

int registry_handle_get_table_history(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__GetTableHistoryRequest *req = (const void *)msg;
    ctx_t ctx;
    (void)arg;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    size_t limit = (size_t)page_limit(&ctx, req->limit);
    if (!ctx.problems && !ctx_exists(&ctx, REGISTRY_TABLE_EXISTS, req->table_id))
        ctx_violation(&ctx, STATUS_NOT_FOUND, "table_id", "Table %s is not registered",
                      req->table_id);
    if (ctx.problems)
        return ctx_fail(&ctx);
    Concerto__Registry__V1__TableHistory h = CONCERTO__REGISTRY__V1__TABLE_HISTORY__INIT;
    h.table_id = req->table_id;
    h.entries = xcalloc(limit, sizeof *h.entries);
    history_page_t page = {&h, limit, 0, 0, 0};
    char subject[80];
    snprintf(subject, sizeof subject, "table:%s", req->table_id);
    if (outbox_read_subject(ctx.store, subject, req->after_sequence, limit + 1, history_visit,
                            &page) < 0 ||
        page.failed)
        ctx_problem(&ctx, STATUS_INTERNAL, "cannot read the history");
    if (page.more && h.n_entries) {
        h.has_next_after_sequence = 1;
        h.next_after_sequence = h.entries[h.n_entries - 1]->sequence;
    }
    int rc = ctx_finish(&ctx, &h.base);
    for (size_t i = 0; i < h.n_entries; i++)
        protobuf_c_message_free_unpacked(&h.entries[i]->base, NULL);
    free(h.entries);
    return rc;
}
