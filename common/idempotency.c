/* idempotency: command replies kept under their key (see idempotency.h). */
#include "idempotency.h"

#include <sodium.h>
#include <string.h>

#include "xalloc.h"

void idempotency_hash(const char *type, const uint8_t *payload, size_t len,
                      uint8_t out[IDEMPOTENCY_HASH_LEN])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    /* The NUL separates the type from the payload so no two different
     * (type, payload) pairs hash the same input. */
    crypto_hash_sha256_update(&st, (const unsigned char *)type, strlen(type) + 1);
    crypto_hash_sha256_update(&st, payload, len);
    crypto_hash_sha256_final(&st, out);
}

idempotency_result_t idempotency_lookup(store_t *store, const char *key,
                                        const uint8_t hash[IDEMPOTENCY_HASH_LEN], uint8_t **reply,
                                        size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    sqlite3_stmt *st =
        store_stmt(store, "SELECT request_hash, reply FROM idempotency WHERE key = ?");
    if (!st)
        return IDEMPOTENCY_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    idempotency_result_t result = IDEMPOTENCY_NEW;
    if (rc == SQLITE_ROW) {
        const void *stored = sqlite3_column_blob(st, 0);
        if (sqlite3_column_bytes(st, 0) != IDEMPOTENCY_HASH_LEN ||
            sodium_memcmp(stored, hash, IDEMPOTENCY_HASH_LEN) != 0) {
            result = IDEMPOTENCY_CONFLICT;
        } else {
            size_t n = (size_t)sqlite3_column_bytes(st, 1);
            *reply = xmalloc(n);
            if (n)
                memcpy(*reply, sqlite3_column_blob(st, 1), n);
            *reply_len = n;
            result = IDEMPOTENCY_REPLAY;
        }
    } else if (rc != SQLITE_DONE) {
        result = IDEMPOTENCY_ERROR;
    }
    sqlite3_reset(st);
    return result;
}

int idempotency_record(store_t *store, const char *key, const uint8_t hash[IDEMPOTENCY_HASH_LEN],
                       const uint8_t *reply, size_t reply_len, int64_t now_ms)
{
    sqlite3_stmt *st = store_stmt(store, "INSERT INTO idempotency(key, request_hash, reply, "
                                         "created_ms) VALUES(?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, IDEMPOTENCY_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, reply_len ? reply : (const uint8_t *)"", (int)reply_len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
