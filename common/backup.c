/* backup: a stepwise online copy of a database (see backup.h). */
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "xalloc.h"

struct backup {
    sqlite3 *dest;
    sqlite3_backup *copy;
    char *path, *partial, *dir;
    backup_state_t state;
    int pages_done, pages_total;
    int64_t bytes;
    char *error;
};

static const char backup_partial_suffix[] = ".partial";

const char *backup_name_problem(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > BACKUP_MAX_NAME)
        return "must be 1 to 128 characters";
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return "may hold only letters, digits, '.', '_' and '-' (a file name, no folder)";
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return "must not be '.' or '..'";
    size_t k = sizeof backup_partial_suffix - 1;
    if (n >= k && strcmp(name + n - k, backup_partial_suffix) == 0)
        return "must not end in '.partial', which marks copies under way";
    return NULL;
}

/* The partial file and what SQLite may have left beside it. */
static void backup_remove_partial(const backup_t *self)
{
    char *journal = xasprintf("%s-journal", self->partial);
    unlink(self->partial);
    unlink(journal);
    free(journal);
}

static void backup_fail(backup_t *self, const char *fmt, const char *detail)
{
    self->error = xasprintf(fmt, detail); /* before `detail` may go with dest */
    if (self->copy)
        sqlite3_backup_finish(self->copy);
    self->copy = NULL;
    sqlite3_close(self->dest);
    self->dest = NULL;
    backup_remove_partial(self);
    self->state = BACKUP_FAILED;
}

/* The source's size until the first step says it (the backup API tells
 * only after a step). */
static int backup_page_count(sqlite3 *src)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(src, "PRAGMA main.page_count", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

int backup_start(sqlite3 *src, const char *dir, const char *name, backup_t **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    struct stat st;
    backup_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    self->path = xasprintf("%s/%s", dir, name);
    self->partial = xasprintf("%s%s", self->path, backup_partial_suffix);
    self->state = BACKUP_FAILED; /* until the copy has begun */
    int rc = BACKUP_ERR;
    if (dirs_make(dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    } else if (lstat(self->path, &st) == 0) {
        snprintf(err, errlen, "%s exists; a backup never overwrites a file", self->path);
        rc = BACKUP_ERR_EXISTS;
    } else {
        /* A partial file can only be left by a daemon that died while
         * copying: one backup runs at a time, and this folder is ours. */
        backup_remove_partial(self);
        if (sqlite3_open_v2(self->partial, &self->dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            NULL) == SQLITE_OK &&
            (self->copy = sqlite3_backup_init(self->dest, "main", src, "main")) != NULL) {
            self->state = BACKUP_RUNNING;
            self->pages_total = backup_page_count(src);
            *out = self;
            return 0;
        }
        snprintf(err, errlen, "cannot write %s: %s", self->partial,
                 self->dest ? sqlite3_errmsg(self->dest) : "out of memory");
        sqlite3_close(self->dest);
        self->dest = NULL;
        backup_remove_partial(self);
    }
    backup_destroy(&self);
    return rc;
}

/* Makes a finished copy durable under its name, without replacing a file
 * that appeared there meanwhile (link fails where rename would replace). */
static void backup_finish(backup_t *self)
{
    int rc = sqlite3_backup_finish(self->copy);
    self->copy = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_close(self->dest);
    if (rc != SQLITE_OK) {
        backup_fail(self, "cannot finish the copy: %s", sqlite3_errstr(rc));
        return;
    }
    self->dest = NULL;
    if (link(self->partial, self->path) != 0) {
        int e = errno;
        backup_fail(self,
                    e == EEXIST ? "%s exists; a backup never overwrites a file"
                                : "cannot name the copy: %s",
                    e == EEXIST ? self->path : strerror(e));
        return;
    }
    unlink(self->partial);
    int fd = open(self->dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    struct stat st;
    self->bytes = stat(self->path, &st) == 0 ? (int64_t)st.st_size : 0;
    self->state = BACKUP_DONE;
}

backup_state_t backup_step(backup_t *self, int pages)
{
    if (self->state != BACKUP_RUNNING)
        return self->state;
    int rc = sqlite3_backup_step(self->copy, pages);
    self->pages_total = sqlite3_backup_pagecount(self->copy);
    self->pages_done = self->pages_total - sqlite3_backup_remaining(self->copy);
    if (rc == SQLITE_DONE)
        backup_finish(self);
    else if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        backup_fail(self, "copy failed: %s", sqlite3_errmsg(self->dest));
    return self->state;
}

backup_progress_t backup_progress(const backup_t *self)
{
    return (backup_progress_t){self->state, self->pages_done, self->pages_total, self->bytes,
                               self->error};
}

const char *backup_path(const backup_t *self)
{
    return self->path;
}

void backup_destroy(backup_t **self_p)
{
    backup_t *self = *self_p;
    if (!self)
        return;
    if (self->state == BACKUP_RUNNING) {
        sqlite3_backup_finish(self->copy);
        sqlite3_close(self->dest);
        backup_remove_partial(self);
    }
    free(self->dir);
    free(self->path);
    free(self->partial);
    free(self->error);
    free(self);
    *self_p = NULL;
}
