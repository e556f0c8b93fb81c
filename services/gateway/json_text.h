/* json_text: the compact text of a jansson document in one allocation of
 * its size.
 *
 * json_dumps grows its buffer by doubling from 16 bytes and then copies it:
 * for a document of a few KiB, a dozen allocations on every answer, some
 * past malloc's small sizes (each of which makes glibc consolidate its fast
 * bins). Here the text goes to a stack buffer first. */
#ifndef CONCERTO_GW_JSON_TEXT_H
#define CONCERTO_GW_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* A new NUL-terminated string the caller frees; *len gets its length.
 * Aborts on a NULL document (a programmer error) or out of memory. */
char *json_text(const json_t *doc, size_t *len);

#endif
