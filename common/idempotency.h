/* idempotency: the replies of commands, kept under their idempotency key.
 *
 * The record is written in the same transaction as the command's effect,
 * so either both exist or neither does: a retry after a crash either finds
 * the first reply or runs the command for the first time. */
#ifndef CONCERTO_IDEMPOTENCY_H
#define CONCERTO_IDEMPOTENCY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define IDEMPOTENCY_HASH_LEN 32

typedef enum {
    IDEMPOTENCY_NEW = 0,      /* never seen: run the command */
    IDEMPOTENCY_REPLAY = 1,   /* same key, same request: *reply is the first answer */
    IDEMPOTENCY_CONFLICT = 2, /* same key, different request */
    IDEMPOTENCY_ERROR = -1,   /* database error */
} idempotency_result_t;

/* SHA-256 of the request type and payload: what "the same request" means. */
void idempotency_hash(const char *type, const uint8_t *payload, size_t len,
                      uint8_t out[IDEMPOTENCY_HASH_LEN]);

/* On IDEMPOTENCY_REPLAY, *reply is a new buffer (the packed Reply) the
 * caller frees. */
idempotency_result_t idempotency_lookup(store_t *store, const char *key,
                                        const uint8_t hash[IDEMPOTENCY_HASH_LEN], uint8_t **reply,
                                        size_t *reply_len);

int idempotency_record(store_t *store, const char *key, const uint8_t hash[IDEMPOTENCY_HASH_LEN],
                       const uint8_t *reply, size_t reply_len, int64_t now_ms);

#endif
