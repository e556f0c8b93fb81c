/* download: documents larger than a frame, kept by a daemon's runtime
 * until the gateway has read them in parts (DownloadPartRequest).
 *
 * A handler answers with the whole document (service_call_reply_document);
 * when it does not fit in one reply frame, the runtime keeps the bytes here
 * under a random 16-byte id and answers with the id and the size instead.
 * The gateway then reads the parts in order and streams them to its
 * client. A document is forgotten once its last byte has been read, when
 * released, or `ttl_ms` after it was last read (an abandoned download).
 * The store is bounded in count and in bytes; beyond either, a new
 * document is refused (the caller answers UNAVAILABLE: retry later). */
#ifndef CONCERTO_DOWNLOAD_H
#define CONCERTO_DOWNLOAD_H

#include <stddef.h>
#include <stdint.h>

#define DOWNLOAD_ID_LEN 16

typedef struct download_store download_store_t;

download_store_t *download_store_new(size_t max_entries, size_t max_bytes, int64_t ttl_ms);
/* Frees every document still kept. */
void download_store_destroy(download_store_t **self_p);

/* Keeps `*data` (taken: freed with free, and *data set to NULL, whatever
 * the outcome) of `len` bytes, under a new id written to `id`. Returns 0,
 * or -1 when the store is full. */
int download_store_put(download_store_t *self, uint8_t **data, size_t len, int64_t now_ms,
                       uint8_t id[DOWNLOAD_ID_LEN]);

typedef enum {
    DOWNLOAD_OK = 0,
    DOWNLOAD_UNKNOWN = -1,    /* no such id: never kept, expired, read or released */
    DOWNLOAD_BAD_OFFSET = -2, /* past the end of the document */
} download_result_t;

/* Reads up to `max` bytes from `offset`: *data (borrowed until the next
 * call on the store) and *n, *last when they end the document, after which
 * the document is forgotten (the bytes stay valid until the next call).
 * Reading pushes the expiry back. */
download_result_t download_store_read(download_store_t *self, const uint8_t *id, size_t id_len,
                                      uint64_t offset, size_t max, int64_t now_ms,
                                      const uint8_t **data, size_t *n, int *last);

/* Forgets a document now; unknown ids are ignored. */
void download_store_release(download_store_t *self, const uint8_t *id, size_t id_len);

/* Forgets the documents not read for ttl_ms; returns how many. */
size_t download_store_expire(download_store_t *self, int64_t now_ms);

size_t download_store_count(const download_store_t *self);
size_t download_store_bytes(const download_store_t *self);

#endif
