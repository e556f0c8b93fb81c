/* download: documents kept for reading in parts (see download.h). */
#include "download.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct {
    uint8_t id[DOWNLOAD_ID_LEN];
    uint8_t *data;
    size_t len;
    int64_t expires_ms;
} download_t;

struct download_store {
    download_t *entries;
    size_t n, max_entries, bytes, max_bytes;
    int64_t ttl_ms;
    /* The last part of a document outlives it until the next call, so
     * that the caller can still send it. */
    uint8_t *finished;
};

download_store_t *download_store_new(size_t max_entries, size_t max_bytes, int64_t ttl_ms)
{
    download_store_t *self = xcalloc(1, sizeof *self);
    self->entries = xcalloc(max_entries ? max_entries : 1, sizeof *self->entries);
    self->max_entries = max_entries;
    self->max_bytes = max_bytes;
    self->ttl_ms = ttl_ms;
    return self;
}

static void download_drop_finished(download_store_t *self)
{
    free(self->finished);
    self->finished = NULL;
}

/* Removes entry i; its bytes are freed, or kept as `finished`. */
static void download_remove(download_store_t *self, size_t i, int keep_bytes)
{
    download_t *d = &self->entries[i];
    self->bytes -= d->len;
    if (keep_bytes)
        self->finished = d->data;
    else
        free(d->data);
    self->entries[i] = self->entries[--self->n];
}

void download_store_destroy(download_store_t **self_p)
{
    download_store_t *self = *self_p;
    if (!self)
        return;
    while (self->n)
        download_remove(self, 0, 0);
    download_drop_finished(self);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

int download_store_put(download_store_t *self, uint8_t **data, size_t len, int64_t now_ms,
                       uint8_t id[DOWNLOAD_ID_LEN])
{
    download_drop_finished(self);
    download_store_expire(self, now_ms);
    if (self->n == self->max_entries || len > self->max_bytes - self->bytes) {
        free(*data);
        *data = NULL;
        return -1;
    }
    download_t *d = &self->entries[self->n++];
    /* Random, not a UUIDv7: an id must not be guessable from another. */
    randombytes_buf(d->id, DOWNLOAD_ID_LEN);
    d->data = *data;
    d->len = len;
    d->expires_ms = now_ms + self->ttl_ms;
    *data = NULL;
    self->bytes += len;
    memcpy(id, d->id, DOWNLOAD_ID_LEN);
    return 0;
}

static long download_find(const download_store_t *self, const uint8_t *id, size_t id_len)
{
    if (id_len != DOWNLOAD_ID_LEN)
        return -1;
    for (size_t i = 0; i < self->n; i++)
        if (sodium_memcmp(self->entries[i].id, id, DOWNLOAD_ID_LEN) == 0)
            return (long)i;
    return -1;
}

download_result_t download_store_read(download_store_t *self, const uint8_t *id, size_t id_len,
                                      uint64_t offset, size_t max, int64_t now_ms,
                                      const uint8_t **data, size_t *n, int *last)
{
    download_drop_finished(self);
    download_store_expire(self, now_ms);
    *data = NULL;
    *n = 0;
    *last = 0;
    long i = download_find(self, id, id_len);
    if (i < 0)
        return DOWNLOAD_UNKNOWN;
    download_t *d = &self->entries[i];
    if (offset > d->len)
        return DOWNLOAD_BAD_OFFSET;
    size_t left = d->len - (size_t)offset;
    *n = left < max ? left : max;
    *data = d->data + offset;
    *last = *n == left;
    d->expires_ms = now_ms + self->ttl_ms;
    if (*last)
        download_remove(self, (size_t)i, 1);
    return DOWNLOAD_OK;
}

void download_store_release(download_store_t *self, const uint8_t *id, size_t id_len)
{
    long i = download_find(self, id, id_len);
    if (i >= 0)
        download_remove(self, (size_t)i, 0);
}

size_t download_store_expire(download_store_t *self, int64_t now_ms)
{
    size_t gone = 0;
    for (size_t i = 0; i < self->n;) {
        if (self->entries[i].expires_ms <= now_ms) {
            download_remove(self, i, 0);
            gone++;
        } else {
            i++;
        }
    }
    return gone;
}

size_t download_store_count(const download_store_t *self)
{
    return self->n;
}

size_t download_store_bytes(const download_store_t *self)
{
    return self->bytes;
}
