/* xalloc: allocation that aborts on out-of-memory.
 *
 * A daemon that cannot allocate a few bytes cannot do anything useful, and
 * checking every small allocation hides the real error paths; so, as Redis
 * does, these abort with a message instead of returning NULL. */
#ifndef CONCERTO_XALLOC_H
#define CONCERTO_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
