/* registry_cursor: opaque page cursors.
 *
 * A cursor names the list it belongs to and the last key of the page
 * before; clients pass it back untouched. The text is hex so that it needs
 * no escaping in a URL. */
#ifndef CONCERTO_REGISTRY_CURSOR_H
#define CONCERTO_REGISTRY_CURSOR_H

#include <stddef.h>

#define REGISTRY_CURSOR_MAX_KEY 64

/* A new string the caller frees: the cursor after `key` in list `list`. */
char *registry_cursor_encode(const char *list, const char *key);
/* Decodes a cursor of list `list` into `key` (NUL-terminated, at most
 * REGISTRY_CURSOR_MAX_KEY bytes). Returns 0, or -1 if the text is not such
 * a cursor. */
int registry_cursor_decode(const char *list, const char *cursor,
                           char key[REGISTRY_CURSOR_MAX_KEY + 1]);

#endif
