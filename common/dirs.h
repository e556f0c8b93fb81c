/* dirs: folders the daemons make for their files (the data folder, the
 * backup folders). */
#ifndef CONCERTO_DIRS_H
#define CONCERTO_DIRS_H

/* Makes `path` and any missing parent (mode 0750). Returns 0 when it
 * exists afterwards, -1 with errno set otherwise. */
int dirs_make(const char *path);

#endif
