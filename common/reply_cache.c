/* reply_cache: answers of cacheable queries at one store version (see
 * reply_cache.h). Open addressing on the key's first bytes, which are a
 * digest's and so spread evenly; nothing is ever removed alone (a version
 * change empties the table), so probing needs no tombstones. */
#include "reply_cache.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct {
    uint8_t key[REPLY_CACHE_KEY_LEN];
    uint8_t *bytes; /* NULL: a free slot */
    size_t len;
} reply_cache_entry_t;

struct reply_cache {
    reply_cache_entry_t *slots;
    size_t n_slots; /* a power of two, at least twice max_entries */
    size_t n, max_entries;
    size_t bytes, max_bytes;
    store_version_t version;
    int has_version;
    reply_cache_stats_t stats;
};

reply_cache_t *reply_cache_new(size_t max_entries, size_t max_bytes)
{
    if (!max_entries)
        return NULL;
    reply_cache_t *self = xcalloc(1, sizeof *self);
    self->n_slots = 2;
    while (self->n_slots < 2 * max_entries)
        self->n_slots *= 2;
    self->slots = xcalloc(self->n_slots, sizeof *self->slots);
    self->max_entries = max_entries;
    self->max_bytes = max_bytes;
    return self;
}

static void reply_cache_empty(reply_cache_t *self)
{
    for (size_t i = 0; i < self->n_slots && self->n; i++)
        if (self->slots[i].bytes) {
            free(self->slots[i].bytes);
            self->slots[i].bytes = NULL;
            self->n--;
            self->stats.dropped++;
        }
    self->bytes = 0;
}

void reply_cache_destroy(reply_cache_t **self_p)
{
    reply_cache_t *self = *self_p;
    if (!self)
        return;
    reply_cache_empty(self);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

/* Makes `v` the version of the entries, dropping those of another. */
static void reply_cache_at(reply_cache_t *self, const store_version_t *v)
{
    if (self->has_version && memcmp(&self->version, v, sizeof *v) == 0)
        return;
    reply_cache_empty(self);
    self->version = *v;
    self->has_version = 1;
}

/* The slot holding `key`, or the free slot where it would go. */
static reply_cache_entry_t *reply_cache_slot(reply_cache_t *self,
                                             const uint8_t key[REPLY_CACHE_KEY_LEN])
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    size_t mask = self->n_slots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        reply_cache_entry_t *e = &self->slots[i];
        if (!e->bytes || memcmp(e->key, key, REPLY_CACHE_KEY_LEN) == 0)
            return e;
    }
}

const uint8_t *reply_cache_get(reply_cache_t *self, const store_version_t *v,
                               const uint8_t key[REPLY_CACHE_KEY_LEN], size_t *len)
{
    reply_cache_at(self, v);
    reply_cache_entry_t *e = reply_cache_slot(self, key);
    if (!e->bytes) {
        self->stats.misses++;
        return NULL;
    }
    self->stats.hits++;
    *len = e->len;
    return e->bytes;
}

void reply_cache_put(reply_cache_t *self, const store_version_t *v,
                     const uint8_t key[REPLY_CACHE_KEY_LEN], const uint8_t *reply, size_t len)
{
    reply_cache_at(self, v);
    /* Half the slots stay free, so that a probe always ends. */
    if (self->n >= self->max_entries || len > self->max_bytes / 10 ||
        self->bytes + len > self->max_bytes)
        return;
    reply_cache_entry_t *e = reply_cache_slot(self, key);
    if (e->bytes)
        return;
    memcpy(e->key, key, REPLY_CACHE_KEY_LEN);
    e->bytes = xmalloc(len ? len : 1);
    memcpy(e->bytes, reply, len);
    e->len = len;
    self->n++;
    self->bytes += len;
    self->stats.kept++;
}

reply_cache_stats_t reply_cache_stats(const reply_cache_t *self)
{
    reply_cache_stats_t none = {0};
    return self ? self->stats : none;
}
