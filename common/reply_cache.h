/* reply_cache: the packed answers of the queries a daemon declared
 * cacheable (SERVICE_QUERY_CACHED), kept while its store stays the same.
 *
 * An answer is filed under a digest of everything that can change it but
 * the store (the request, its caller, the business date: service.c makes
 * the digest) and is served again only at the store version it was made
 * at: the first lookup at another version drops every entry, since a
 * write may change any of them. The cache is bounded in entries and in
 * bytes; an answer over a tenth of the bytes is not kept, and when either
 * bound is reached the next answer is simply not kept (the entries go at
 * the next write anyway). Not thread-safe: the loop's thread owns it. */
#ifndef CONCERTO_REPLY_CACHE_H
#define CONCERTO_REPLY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define REPLY_CACHE_KEY_LEN 32

typedef struct reply_cache reply_cache_t;

typedef struct {
    uint64_t hits, misses, kept, dropped; /* dropped: entries gone with a version */
} reply_cache_stats_t;

/* NULL when max_entries is 0: no cache. */
reply_cache_t *reply_cache_new(size_t max_entries, size_t max_bytes);
void reply_cache_destroy(reply_cache_t **self_p);

/* The answer kept under `key` at version `v` (borrowed: valid until the
 * next call on the cache), or NULL. Entries of another version are
 * dropped first. */
const uint8_t *reply_cache_get(reply_cache_t *self, const store_version_t *v,
                               const uint8_t key[REPLY_CACHE_KEY_LEN], size_t *len);
/* Keeps a copy of `reply` under `key`, made at version `v`, if it fits. */
void reply_cache_put(reply_cache_t *self, const store_version_t *v,
                     const uint8_t key[REPLY_CACHE_KEY_LEN], const uint8_t *reply, size_t len);
reply_cache_stats_t reply_cache_stats(const reply_cache_t *self);

#endif
