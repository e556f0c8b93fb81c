/* json_text: compact JSON text in one allocation (see json_text.h). */
#include "json_text.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Larger than nearly every answer, small enough for the loop's stack. */
#define JSON_TEXT_STACK 8192

char *json_text(const json_t *doc, size_t *len)
{
    char buf[JSON_TEXT_STACK];
    size_t n = json_dumpb(doc, buf, sizeof buf, JSON_COMPACT);
    if (n == 0)
        abort(); /* a NULL document, or out of memory inside jansson */
    char *out = xmalloc(n + 1);
    if (n <= sizeof buf)
        memcpy(out, buf, n);
    else if (json_dumpb(doc, out, n, JSON_COMPACT) != n)
        abort();
    out[n] = '\0';
    *len = n;
    return out;
}
