/* uuid: UUIDv7 (RFC 9562) from libsodium's CSPRNG (see uuid.h). */
#include "uuid.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic within a process: when the clock has not moved (or moved back)
 * since the last id, the previous id's random part plus one is used, per
 * RFC 9562 §6.2 method 2, so ids from one process always sort. */
static uint8_t uuid_last[UUID_LEN];
static int64_t uuid_last_ms = -1;

static int64_t uuid_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds one to the 74-bit random field (rand_a: low nibble of byte 6 and
 * byte 7; rand_b: low 6 bits of byte 8 and bytes 9..15), leaving the
 * version and variant bits alone. Returns 1 on overflow of the field. */
static int uuid_increment_random(uint8_t id[UUID_LEN])
{
    for (int i = UUID_LEN - 1; i >= 9; i--)
        if (++id[i] != 0)
            return 0;
    if ((id[8] & 0x3f) != 0x3f) {
        id[8]++;
        return 0;
    }
    id[8] &= 0xc0;
    if (++id[7] != 0)
        return 0;
    if ((id[6] & 0x0f) != 0x0f) {
        id[6]++;
        return 0;
    }
    id[6] &= 0xf0;
    return 1;
}

/* Random bytes from a pool refilled 256 bytes at a time: one getrandom
 * call then serves 25 ids, where one call an id was a system call on every
 * request and reply made in a new millisecond. */
static void uuid_random(uint8_t *out, size_t n)
{
    static uint8_t pool[256];
    static size_t left;
    if (left < n) {
        randombytes_buf(pool, sizeof pool);
        left = sizeof pool;
    }
    memcpy(out, pool + sizeof pool - left, n);
    left -= n;
}

void uuid7_generate(uint8_t out[UUID_LEN])
{
    /* Idempotent and cheap after the first call; makes the CSPRNG safe to
     * use from any entry point. */
    if (sodium_init() < 0)
        abort();
    int64_t ms = uuid_now_ms();
    if (uuid_last_ms >= 0 && ms <= uuid_last_ms) {
        memcpy(out, uuid_last, UUID_LEN);
        ms = uuid_last_ms;
        if (uuid_increment_random(out))
            ms++; /* 2^74 ids in one millisecond: borrow the next one */
        for (int i = 0; i < 6; i++)
            out[i] = (uint8_t)(ms >> (40 - 8 * i));
    } else {
        uuid_random(out + 6, UUID_LEN - 6);
        for (int i = 0; i < 6; i++)
            out[i] = (uint8_t)(ms >> (40 - 8 * i));
    }
    out[6] = (uint8_t)(0x70 | (out[6] & 0x0f)); /* version 7 */
    out[8] = (uint8_t)(0x80 | (out[8] & 0x3f)); /* variant 10 */
    memcpy(uuid_last, out, UUID_LEN);
    uuid_last_ms = ms;
}

/* Hex by libsodium, group by group: snprintf with sixteen conversions was
 * a visible share of the gateway's work per request (X-Request-Id). */
void uuid_format(const uint8_t id[UUID_LEN], char out[UUID_STR_LEN])
{
    static const size_t groups[] = {4, 2, 2, 2, 6};
    char *o = out;
    const uint8_t *in = id;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (g)
            *o++ = '-';
        sodium_bin2hex(o, 2 * groups[g] + 1, in, groups[g]);
        o += 2 * groups[g];
        in += groups[g];
    }
}

int uuid_parse(const char *text, uint8_t out[UUID_LEN])
{
    if (strlen(text) != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
        text[23] != '-')
        return -1;
    char hex[33];
    size_t n = 0;
    for (size_t i = 0; i < 36; i++)
        if (text[i] != '-')
            hex[n++] = text[i];
    hex[n] = '\0';
    size_t bin_len = 0;
    const char *end = NULL;
    if (n != 32 || sodium_hex2bin(out, UUID_LEN, hex, n, NULL, &bin_len, &end) != 0 ||
        bin_len != UUID_LEN || *end)
        return -1;
    return 0;
}

int64_t uuid7_timestamp_ms(const uint8_t id[UUID_LEN])
{
    int64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = (ms << 8) | id[i];
    return ms;
}
