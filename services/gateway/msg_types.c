/* msg_types: the table of message types the gateway knows by name. */
#include "msg_types.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Generated from every protoc-c header by gen_types.cmake, so a message
 * added to proto/ is known here without editing a list. */
extern const ProtobufCMessageDescriptor *const msg_types_table[];
extern const size_t msg_types_table_len;

/* The table sorted by name, built once: every reply the gateway renders
 * looks its result type up, and a linear scan of ~80 names sharing the
 * "concerto." prefix cost microseconds per request. */
static const ProtobufCMessageDescriptor **msg_types_sorted;
static pthread_once_t msg_types_sorted_once = PTHREAD_ONCE_INIT;

static int msg_types_compare(const void *a, const void *b)
{
    const ProtobufCMessageDescriptor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static void msg_types_sort(void)
{
    msg_types_sorted =
        xcalloc(msg_types_table_len ? msg_types_table_len : 1, sizeof *msg_types_sorted);
    memcpy(msg_types_sorted, msg_types_table, msg_types_table_len * sizeof *msg_types_sorted);
    qsort(msg_types_sorted, msg_types_table_len, sizeof *msg_types_sorted, msg_types_compare);
}

static int msg_types_compare_key(const void *key, const void *entry)
{
    const ProtobufCMessageDescriptor *const *d = entry;
    return strcmp(key, (*d)->name);
}

const ProtobufCMessageDescriptor *msg_types_find(const char *full_name)
{
    pthread_once(&msg_types_sorted_once, msg_types_sort);
    const ProtobufCMessageDescriptor **found =
        bsearch(full_name, msg_types_sorted, msg_types_table_len, sizeof *msg_types_sorted,
                msg_types_compare_key);
    return found ? *found : NULL;
}

size_t msg_types_count(void)
{
    return msg_types_table_len;
}

const ProtobufCMessageDescriptor *msg_types_at(size_t i)
{
    return i < msg_types_table_len ? msg_types_table[i] : NULL;
}
