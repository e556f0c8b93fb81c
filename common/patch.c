/* patch: partial updates by descriptor (see patch.h). */
#include "patch.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "xalloc.h"

static void patch_note(patch_changes_t *ch, const char *prefix, const char *name)
{
    ch->paths = xrealloc(ch->paths, (ch->n + 1) * sizeof *ch->paths);
    ch->paths[ch->n++] = xasprintf("%s%s", prefix, name);
}

int patch_changed(const patch_changes_t *ch, const char *path)
{
    for (size_t i = 0; i < ch->n; i++)
        if (strcmp(ch->paths[i], path) == 0)
            return 1;
    return 0;
}

void patch_changes_clear(patch_changes_t *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        free(ch->paths[i]);
    free(ch->paths);
    ch->paths = NULL;
    ch->n = 0;
}

/* 1 when the values at `a` and `b` of field type `type` are equal. */
static int patch_same(ProtobufCType type, const void *a, const void *b)
{
    switch (type) {
    case PROTOBUF_C_TYPE_STRING:
        return strcmp(*(char *const *)a, *(char *const *)b) == 0;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *x = a, *y = b;
        return x->len == y->len && (!x->len || memcmp(x->data, y->data, x->len) == 0);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)a == !*(const protobuf_c_boolean *)b;
    default:
        return memcmp(a, b, pbmsg_value_size(type)) == 0;
    }
}

/* Stores a copy of the value at `src` in field `f` of `m`. */
static void patch_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const void *src)
{
    pbmsg_clear(m, f);
    void *dst = pbmsg_member(m, f);
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        *(char **)dst = xstrdup(*(char *const *)src);
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        const ProtobufCBinaryData *b = src;
        ProtobufCBinaryData *d = dst;
        d->len = b->len;
        d->data = xmalloc(b->len ? b->len : 1);
        if (b->len)
            memcpy(d->data, b->data, b->len);
    } else {
        memcpy(dst, src, pbmsg_value_size(f->type));
    }
    pbmsg_mark_present(m, f);
}

static void patch_singular(ProtobufCMessage *stored, const ProtobufCMessage *update,
                           const ProtobufCFieldDescriptor *f, const char *prefix,
                           patch_changes_t *ch)
{
    const void *src = pbmsg_member(update, f);
    if (f->type == PROTOBUF_C_TYPE_STRING && **(char *const *)src == '\0') {
        /* An empty string clears. */
        if (pbmsg_present(stored, f)) {
            pbmsg_clear(stored, f);
            patch_note(ch, prefix, f->name);
        }
        return;
    }
    if (pbmsg_present(stored, f) && patch_same(f->type, pbmsg_member(stored, f), src))
        return;
    patch_set(stored, f, src);
    patch_note(ch, prefix, f->name);
}

static int patch_same_array(const ProtobufCFieldDescriptor *f, const void *a, size_t na,
                            const void *b, size_t nb)
{
    size_t size = pbmsg_value_size(f->type);
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!patch_same(f->type, (const char *)a + i * size, (const char *)b + i * size))
            return 0;
    return 1;
}

static void patch_free_array(const ProtobufCFieldDescriptor *f, void *array, size_t n)
{
    size_t size = pbmsg_value_size(f->type);
    for (size_t i = 0; i < n; i++) {
        char *el = (char *)array + i * size;
        if (f->type == PROTOBUF_C_TYPE_STRING)
            free(*(char **)el);
        else if (f->type == PROTOBUF_C_TYPE_BYTES)
            free(((ProtobufCBinaryData *)el)->data);
    }
    free(array);
}

static void patch_repeated(ProtobufCMessage *stored, const ProtobufCMessage *update,
                           const ProtobufCFieldDescriptor *f, const char *prefix,
                           patch_changes_t *ch)
{
    size_t n = *(const size_t *)((const char *)update + f->quantifier_offset);
    size_t *n_stored = (size_t *)((char *)stored + f->quantifier_offset);
    void *const *src = pbmsg_member(update, f);
    void **dst = pbmsg_member(stored, f);
    if (!n || f->type == PROTOBUF_C_TYPE_MESSAGE || patch_same_array(f, *dst, *n_stored, *src, n))
        return;
    patch_free_array(f, *dst, *n_stored);
    size_t size = pbmsg_value_size(f->type);
    char *copy = xcalloc(n, size);
    for (size_t i = 0; i < n; i++) {
        const char *el = (const char *)*src + i * size;
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            *(char **)(copy + i * size) = xstrdup(*(char *const *)el);
        } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
            const ProtobufCBinaryData *b = (const void *)el;
            ProtobufCBinaryData *d = (void *)(copy + i * size);
            d->len = b->len;
            d->data = xmalloc(b->len ? b->len : 1);
            if (b->len)
                memcpy(d->data, b->data, b->len);
        } else {
            memcpy(copy + i * size, el, size);
        }
    }
    *dst = copy;
    *n_stored = n;
    patch_note(ch, prefix, f->name);
}

static int patch_is_fixed(const char *const *fixed, const char *name)
{
    for (size_t i = 0; fixed && fixed[i]; i++)
        if (strcmp(fixed[i], name) == 0)
            return 1;
    return 0;
}

static void patch_message(ProtobufCMessage *stored, const ProtobufCMessage *update,
                          const char *const *fixed, const char *prefix, patch_changes_t *ch)
{
    const ProtobufCMessageDescriptor *desc = stored->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (patch_is_fixed(fixed, f->name)) {
            continue;
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            patch_repeated(stored, update, f, prefix, ch);
        } else if (!pbmsg_present(update, f)) {
            continue;
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            char *inner = xasprintf("%s%s.", prefix, f->name);
            patch_message(pbmsg_sub(stored, f, 1),
                          *(ProtobufCMessage *const *)pbmsg_member(update, f), NULL, inner, ch);
            free(inner);
        } else {
            patch_singular(stored, update, f, prefix, ch);
        }
    }
}

void patch_apply(ProtobufCMessage *stored, const ProtobufCMessage *update, const char *const *fixed,
                 patch_changes_t *changes)
{
    assert(stored->descriptor == update->descriptor);
    patch_message(stored, update, fixed, "", changes);
}
