/* faultvfs: an SQLite VFS for tests that behaves like the default one until
 * told to fail writes, as a full disk would. Registered as the default VFS,
 * so every database opened afterwards goes through it. */
#ifndef CONCERTO_TEST_FAULTVFS_H
#define CONCERTO_TEST_FAULTVFS_H

/* Registers the VFS (once) as the default. Returns 0 or -1. */
int faultvfs_install(void);

/* From now on, writes to files whose name ends with `suffix` ("-wal",
 * ".db", ...) fail with SQLITE_FULL; NULL lets every write through again. */
void faultvfs_fail_writes(const char *suffix);

#endif
