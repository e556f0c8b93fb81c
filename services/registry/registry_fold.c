/* registry_fold: folds names for accent- and case-insensitive search (see
 * registry_fold.h). */
#include "registry_fold.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "xalloc.h"

static int registry_fold_keeps(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

char *registry_fold(const char *s)
{
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, 0, &mapped,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |
                         UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    if (n < 0)
        return NULL;
    /* Folding only removes or keeps code points, so the output is never
     * longer than the mapped text. */
    char *out = xmalloc((size_t)n + 1);
    size_t o = 0;
    int pending_space = 0;
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(mapped + i, n - i, &cp);
        if (k <= 0)
            break;
        if (registry_fold_keeps(cp)) {
            if (pending_space && o > 0)
                out[o++] = ' ';
            pending_space = 0;
            memcpy(out + o, mapped + i, (size_t)k);
            o += (size_t)k;
        } else {
            pending_space = 1;
        }
        i += k;
    }
    out[o] = '\0';
    free(mapped);
    return out;
}
