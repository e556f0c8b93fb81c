/* row: messages to and from SQLite rows by name (see row.h). */
#include "row.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "xalloc.h"

#define ROW_MAX_NODES 16 /* the message and the sub-messages one statement reaches */
#define ROW_NAME_MAX 128
#define ROW_CACHE_SLOTS 64

/* A message a statement's names reach: the root (node 0), or a
 * sub-message field of an earlier node. */
typedef struct {
    int parent;
    const ProtobufCFieldDescriptor *field;
} row_node_t;

/* Where one column (or parameter) goes: a field of a node; node -1 when
 * it names no field. */
typedef struct {
    int node;
    const ProtobufCFieldDescriptor *field;
    int again; /* an earlier column sets the same field, or one of its oneof */
} row_slot_t;

typedef struct {
    const ProtobufCMessageDescriptor *desc;
    char *sql;
    int n;
    row_slot_t *slots;
    int n_nodes;
    row_node_t nodes[ROW_MAX_NODES];
} row_plan_t;

/* Plans for reading [0] and binding [1]. Handlers run on one thread; the
 * cache is per thread so that nothing else has to be. */
static _Thread_local row_plan_t *row_cache[2][ROW_CACHE_SLOTS];

/* The node for sub-message field `f` of node `parent`, added when new; -1
 * when the plan has no room. */
static int row_node(row_plan_t *p, int parent, const ProtobufCFieldDescriptor *f)
{
    for (int j = 1; j < p->n_nodes; j++)
        if (p->nodes[j].parent == parent && p->nodes[j].field == f)
            return j;
    if (p->n_nodes == ROW_MAX_NODES)
        return -1;
    p->nodes[p->n_nodes] = (row_node_t){parent, f};
    return p->n_nodes++;
}

/* Fills `slot` for `name`: fields joined by "__", each singular, the last
 * not a message. */
static void row_resolve(row_plan_t *p, const char *name, row_slot_t *slot)
{
    const ProtobufCMessageDescriptor *desc = p->desc;
    int node = 0;
    slot->node = -1;
    for (;;) {
        const char *sep = strstr(name, "__");
        size_t n = sep ? (size_t)(sep - name) : strlen(name);
        char seg[ROW_NAME_MAX];
        if (n == 0 || n >= sizeof seg)
            return;
        memcpy(seg, name, n);
        seg[n] = '\0';
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, seg);
        if (!f || f->label == PROTOBUF_C_LABEL_REPEATED ||
            (f->type == PROTOBUF_C_TYPE_MESSAGE) != (sep != NULL))
            return;
        if (!sep) {
            slot->node = node;
            slot->field = f;
            return;
        }
        if ((node = row_node(p, node, f)) < 0)
            return;
        desc = f->descriptor;
        name = sep + 2;
    }
}

/* Whether the column of slot `i` sets a field an earlier column set (or a
 * member of the same oneof), whose value must be freed first. */
static int row_again(const row_plan_t *p, int i)
{
    const row_slot_t *s = &p->slots[i];
    for (int j = 0; j < i; j++) {
        const row_slot_t *o = &p->slots[j];
        if (o->node != s->node)
            continue;
        if (o->field == s->field || ((s->field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                                     o->field->quantifier_offset == s->field->quantifier_offset))
            return 1;
    }
    return 0;
}

static row_plan_t *row_plan_build(sqlite3_stmt *st, const ProtobufCMessageDescriptor *desc,
                                  int bind)
{
    row_plan_t *p = xcalloc(1, sizeof *p);
    p->desc = desc;
    p->sql = xstrdup(sqlite3_sql(st));
    p->n = bind ? sqlite3_bind_parameter_count(st) : sqlite3_column_count(st);
    p->slots = xcalloc((size_t)p->n + 1, sizeof *p->slots);
    p->nodes[0] = (row_node_t){-1, NULL};
    p->n_nodes = 1;
    for (int i = 0; i < p->n; i++) {
        const char *name =
            bind ? sqlite3_bind_parameter_name(st, i + 1) : sqlite3_column_name(st, i);
        p->slots[i].node = -1;
        /* Parameters keep their prefix; "?" and "?NNN" ones have no name. */
        if (bind && name && name[0] != '?')
            name++;
        else if (bind)
            name = NULL;
        if (name)
            row_resolve(p, name, &p->slots[i]);
        if (p->slots[i].node >= 0)
            p->slots[i].again = row_again(p, i);
    }
    return p;
}

static void row_plan_free(row_plan_t *p)
{
    if (!p)
        return;
    free(p->sql);
    free(p->slots);
    free(p);
}

/* The plan of `st` for `desc`, from the cache when its SQL is the same
 * (a statement's address alone proves nothing: it may be a new one). */
static const row_plan_t *row_plan(sqlite3_stmt *st, const ProtobufCMessageDescriptor *desc,
                                  int bind)
{
    const char *sql = sqlite3_sql(st);
    size_t h = (((uintptr_t)st >> 4) ^ ((uintptr_t)desc >> 3)) % ROW_CACHE_SLOTS;
    row_plan_t **slot = &row_cache[bind][h];
    if (*slot && (*slot)->desc == desc && strcmp((*slot)->sql, sql) == 0)
        return *slot;
    row_plan_free(*slot);
    *slot = row_plan_build(st, desc, bind);
    return *slot;
}

/* Stores column `i` (not NULL) into field `f` of `m`; a string's text
 * is already read. */
static void row_store(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, sqlite3_stmt *st,
                      int i, const char *text)
{
    void *p = pbmsg_member(m, f);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        *(int32_t *)p = (int32_t)sqlite3_column_int64(st, i);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)p = (uint32_t)sqlite3_column_int64(st, i);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)p = sqlite3_column_int64(st, i);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)p = (uint64_t)sqlite3_column_int64(st, i);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)p = (float)sqlite3_column_double(st, i);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)p = sqlite3_column_double(st, i);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = sqlite3_column_int64(st, i) != 0;
        break;
    case PROTOBUF_C_TYPE_STRING:
        *(char **)p = xstrdup(text);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const void *blob = sqlite3_column_blob(st, i);
        ProtobufCBinaryData *b = p;
        b->len = (size_t)sqlite3_column_bytes(st, i);
        b->data = xmalloc(b->len ? b->len : 1);
        if (b->len)
            memcpy(b->data, blob, b->len);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        assert(!"a column never maps to a whole message");
        return;
    }
    pbmsg_mark_present(m, f);
}

/* Node `j` of the message being read, created (with its parents) when
 * it is first needed. */
static ProtobufCMessage *row_node_get(const row_plan_t *p, ProtobufCMessage **nodes, int j)
{
    if (!nodes[j])
        nodes[j] = pbmsg_sub(row_node_get(p, nodes, p->nodes[j].parent), p->nodes[j].field, 1);
    return nodes[j];
}

ProtobufCMessage *row_read(sqlite3_stmt *st, const ProtobufCMessageDescriptor *desc)
{
    const row_plan_t *plan = row_plan(st, desc, 0);
    ProtobufCMessage *nodes[ROW_MAX_NODES] = {pbmsg_new(desc)};
    for (int i = 0; i < plan->n; i++) {
        const row_slot_t *s = &plan->slots[i];
        if (s->node < 0)
            continue;
        /* One call for text, which is NULL for NULL (text ends at its
         * first NUL, as the message's strings do). */
        const char *text = NULL;
        if (s->field->type == PROTOBUF_C_TYPE_STRING) {
            if (!(text = (const char *)sqlite3_column_text(st, i)))
                continue;
        } else if (sqlite3_column_type(st, i) == SQLITE_NULL) {
            continue;
        }
        ProtobufCMessage *m = row_node_get(plan, nodes, s->node);
        if (s->again)
            pbmsg_clear(m, s->field);
        row_store(m, s->field, st, i, text);
    }
    return nodes[0];
}

/* Binds field `f` of `m` (NULL when its sub-message is absent) to
 * parameter `i`. */
static void row_bind_field(sqlite3_stmt *st, int i, const ProtobufCMessage *m,
                           const ProtobufCFieldDescriptor *f)
{
    if (!m || !pbmsg_present(m, f)) {
        sqlite3_bind_null(st, i);
        return;
    }
    const void *p = pbmsg_member(m, f);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        sqlite3_bind_int64(st, i, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        sqlite3_bind_int64(st, i, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        sqlite3_bind_int64(st, i, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        sqlite3_bind_int64(st, i, (sqlite3_int64) * (const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        sqlite3_bind_double(st, i, *(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        sqlite3_bind_double(st, i, *(const double *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        sqlite3_bind_int(st, i, *(const protobuf_c_boolean *)p ? 1 : 0);
        break;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        if (*s)
            sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, i);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        sqlite3_bind_blob(st, i, b->data, (int)b->len, SQLITE_TRANSIENT);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        sqlite3_bind_null(st, i);
        break;
    }
}

void row_bind(sqlite3_stmt *st, const ProtobufCMessage *msg)
{
    const row_plan_t *plan = row_plan(st, msg->descriptor, 1);
    /* Parents come before their children: each node is its parent's
     * sub-message, or NULL when that is absent. */
    const ProtobufCMessage *nodes[ROW_MAX_NODES] = {msg};
    for (int j = 1; j < plan->n_nodes; j++) {
        const ProtobufCMessage *parent = nodes[plan->nodes[j].parent];
        const ProtobufCFieldDescriptor *f = plan->nodes[j].field;
        nodes[j] = parent && pbmsg_present(parent, f)
                       ? *(ProtobufCMessage *const *)pbmsg_member(parent, f)
                       : NULL;
    }
    for (int i = 0; i < plan->n; i++) {
        const row_slot_t *s = &plan->slots[i];
        if (s->node >= 0)
            row_bind_field(st, i + 1, nodes[s->node], s->field);
    }
}

static int row_param(sqlite3_stmt *st, const char *name)
{
    int i = sqlite3_bind_parameter_index(st, name);
    assert(i > 0 && "no such parameter");
    return i;
}

void row_bind_text(sqlite3_stmt *st, const char *name, const char *s)
{
    if (s)
        sqlite3_bind_text(st, row_param(st, name), s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, row_param(st, name));
}

void row_bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    sqlite3_bind_int64(st, row_param(st, name), v);
}

char *row_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

int row_column(sqlite3_stmt *st, const char *name)
{
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++)
        if (strcmp(sqlite3_column_name(st, i), name) == 0)
            return i;
    return -1;
}
