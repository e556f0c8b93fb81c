/* registry_cursor: opaque page cursors (see registry_cursor.h). */
#include "registry_cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

char *registry_cursor_encode(const char *list, const char *key)
{
    char *plain = xasprintf("%s:%s", list, key);
    size_t n = strlen(plain);
    char *out = xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned char)plain[i]);
    out[2 * n] = '\0';
    free(plain);
    return out;
}

static int registry_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int registry_cursor_decode(const char *list, const char *cursor,
                           char key[REGISTRY_CURSOR_MAX_KEY + 1])
{
    size_t n = strlen(cursor), prefix = strlen(list) + 1;
    char plain[REGISTRY_CURSOR_MAX_KEY + 64];
    if (n % 2 || n / 2 >= sizeof plain || n / 2 <= prefix)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = registry_hex_value(cursor[2 * i]), lo = registry_hex_value(cursor[2 * i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        plain[i] = (char)(hi * 16 + lo);
    }
    plain[n / 2] = '\0';
    if (strncmp(plain, list, prefix - 1) != 0 || plain[prefix - 1] != ':')
        return -1;
    size_t klen = n / 2 - prefix;
    if (klen > REGISTRY_CURSOR_MAX_KEY)
        return -1;
    memcpy(key, plain + prefix, klen + 1);
    return 0;
}
