/* backup: one online copy of a service's database, made a step at a time.
 *
 * SQLite's backup API copies `pages` pages per backup_step, so the loop
 * that steps it goes on answering in between; writes made meanwhile through
 * the source connection reach the copy (and only committed pages are read,
 * as long as no transaction is open when it steps). The copy is written to
 * "<dir>/<name>.partial" and linked to "<dir>/<name>" only once complete,
 * never over an existing file; a backup that fails or is abandoned removes
 * its partial file. */
#ifndef CONCERTO_BACKUP_H
#define CONCERTO_BACKUP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_MAX_NAME 128

typedef struct backup backup_t;

typedef enum { BACKUP_RUNNING, BACKUP_DONE, BACKUP_FAILED } backup_state_t;

typedef enum {
    BACKUP_ERR = -1,        /* could not start (err says why) */
    BACKUP_ERR_EXISTS = -2, /* a file of that name is already there */
} backup_error_t;

typedef struct {
    backup_state_t state;
    int pages_done, pages_total;
    int64_t bytes;     /* the finished file's size */
    const char *error; /* why it failed (borrowed from the backup), or NULL */
} backup_progress_t;

/* NULL when `name` may name a backup: 1 to BACKUP_MAX_NAME characters of
 * [A-Za-z0-9._-], not "." or "..", not ending in ".partial" (which marks
 * copies under way); else why not. */
const char *backup_name_problem(const char *name);

/* Starts copying `src` (borrowed; it must outlive the backup) to
 * dir/name, creating `dir` as needed. Returns 0 and *out (owned by the
 * caller), or a backup_error_t with the reason in `err`. */
int backup_start(sqlite3 *src, const char *dir, const char *name, backup_t **out, char *err,
                 size_t errlen);

/* Copies up to `pages` more pages; on the last one finishes the file.
 * Returns the state after the step (a finished backup stays as it is). */
backup_state_t backup_step(backup_t *self, int pages);

backup_progress_t backup_progress(const backup_t *self);
/* The file the backup writes (dir/name). */
const char *backup_path(const backup_t *self);

/* An unfinished backup is abandoned: its partial file is removed. */
void backup_destroy(backup_t **self_p);

#endif
