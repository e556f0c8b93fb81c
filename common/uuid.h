/* uuid: UUIDv7 identifiers (RFC 9562): 48-bit Unix milliseconds, version
 * and variant bits, and 74 random bits from libsodium's CSPRNG. Ids made in
 * the same millisecond by one process stay ordered (the random part is
 * incremented), so they sort by creation time. */
#ifndef CONCERTO_UUID_H
#define CONCERTO_UUID_H

#include <stddef.h>
#include <stdint.h>

#define UUID_LEN 16
#define UUID_STR_LEN 37 /* 36 characters and the NUL */

void uuid7_generate(uint8_t out[UUID_LEN]);
/* Canonical lower-case 8-4-4-4-12 text. */
void uuid_format(const uint8_t id[UUID_LEN], char out[UUID_STR_LEN]);
/* Parses canonical text; returns -1 if it is not a UUID. */
int uuid_parse(const char *text, uint8_t out[UUID_LEN]);
/* Milliseconds since the epoch encoded in a UUIDv7. */
int64_t uuid7_timestamp_ms(const uint8_t id[UUID_LEN]);

#endif
