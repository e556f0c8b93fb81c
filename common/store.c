/* store: a service's SQLite database (see store.h).
 *
 * Two schema tracks share one file: the service's, versioned by PRAGMA
 * user_version as DESIGN.md says, and the runtime's (outbox, idempotency,
 * cursors), versioned in concerto_meta so that a runtime change never
 * renumbers a service's steps. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "outbox.h"
#include "xalloc.h"

/* Open addressing on the SQL text's address: statements are keyed by
 * string literals, so pointer identity is cheap and exact; a second
 * literal with the same text just gets its own slot. */
#define STORE_STMT_SLOTS 256

struct store {
    sqlite3 *db;
    char *path;
    int depth; /* 0: no transaction; 1: BEGIN; n>1: savepoints */
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } stmts[STORE_STMT_SLOTS];
};

static int store_get_meta_version(store_t *self)
{
    sqlite3_stmt *st =
        store_stmt(self, "SELECT value FROM concerto_meta WHERE key = 'runtime_version'");
    int v = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    if (st)
        sqlite3_reset(st);
    return v;
}

static int store_set_meta_version(store_t *self, int v)
{
    sqlite3_stmt *st = store_stmt(self, "INSERT INTO concerto_meta(key, value) "
                                        "VALUES('runtime_version', ?) "
                                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!st)
        return SQLITE_ERROR;
    sqlite3_bind_int(st, 1, v);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int store_get_user_version(store_t *self)
{
    return store_schema_version(self);
}

static int store_set_user_version(store_t *self, int v)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    return store_exec(self, sql);
}

/* Applies steps[current..n) each in its own transaction. */
static int store_migrate(store_t *self, const char *track, const store_migration_t *steps, size_t n,
                         int (*get)(store_t *), int (*set)(store_t *, int), char *err,
                         size_t errlen)
{
    int current = get(self);
    if (current > (int)n) {
        snprintf(err, errlen,
                 "%s: %s schema version %d is newer than this program's %zu; "
                 "run a newer release or restore a backup",
                 self->path, track, current, n);
        return -1;
    }
    for (size_t i = (size_t)current; i < n; i++) {
        if (store_begin(self) != SQLITE_OK)
            goto fail;
        char *msg = NULL;
        if (sqlite3_exec(self->db, steps[i].sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s migration %zu failed: %s", self->path, track, i + 1,
                     msg ? msg : "?");
            sqlite3_free(msg);
            store_rollback(self);
            return -1;
        }
        if (set(self, (int)i + 1) != SQLITE_OK || store_commit(self) != SQLITE_OK)
            goto fail;
        log_info("schema migrated", "track=%s version=%zu", track, i + 1);
    }
    return 0;
fail:
    snprintf(err, errlen, "%s: %s migration failed: %s", self->path, track,
             sqlite3_errmsg(self->db));
    if (self->depth)
        store_rollback(self);
    return -1;
}

store_t *store_open(const store_options_t *opt, const store_migration_t *steps, size_t n_steps,
                    char *err, size_t errlen)
{
    store_t *self = xcalloc(1, sizeof *self);
    self->path = xstrdup(opt->path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(opt->path, &self->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", opt->path,
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        store_destroy(&self);
        return NULL;
    }
    sqlite3_extended_result_codes(self->db, 1);
    sqlite3_busy_timeout(self->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000);

    const char *sync = opt->synchronous ? opt->synchronous : "FULL";
    if (strcmp(sync, "FULL") != 0 && strcmp(sync, "NORMAL") != 0) {
        snprintf(err, errlen, "synchronous must be FULL or NORMAL, not %s", sync);
        store_destroy(&self);
        return NULL;
    }
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;", sync);
    char *msg = NULL;
    if (sqlite3_exec(self->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(self->db,
                     "CREATE TABLE IF NOT EXISTS concerto_meta("
                     "key TEXT PRIMARY KEY, value ANY) STRICT",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", opt->path, msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        store_destroy(&self);
        return NULL;
    }
    if (store_migrate(self, "runtime", outbox_migrations, outbox_migration_count,
                      store_get_meta_version, store_set_meta_version, err, errlen) != 0 ||
        store_migrate(self, "service", steps, n_steps, store_get_user_version,
                      store_set_user_version, err, errlen) != 0) {
        store_destroy(&self);
        return NULL;
    }
    return self;
}

void store_destroy(store_t **self_p)
{
    store_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < STORE_STMT_SLOTS; i++)
        sqlite3_finalize(self->stmts[i].stmt);
    sqlite3_close(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

sqlite3 *store_db(store_t *self)
{
    return self->db;
}

const char *store_path(store_t *self)
{
    return self->path;
}

int store_schema_version(store_t *self)
{
    sqlite3_stmt *st = store_stmt(self, "PRAGMA user_version");
    int v = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    if (st)
        sqlite3_reset(st);
    return v;
}

sqlite3_stmt *store_stmt(store_t *self, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) % STORE_STMT_SLOTS;
    for (size_t probe = 0; probe < STORE_STMT_SLOTS; probe++) {
        size_t i = (h + probe) % STORE_STMT_SLOTS;
        if (self->stmts[i].sql == sql) {
            sqlite3_stmt *st = self->stmts[i].stmt;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
        if (!self->stmts[i].sql) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
                SQLITE_OK) {
                log_error("sql does not compile", "error=\"%s\"", sqlite3_errmsg(self->db));
                return NULL;
            }
            self->stmts[i].sql = sql;
            self->stmts[i].stmt = st;
            return st;
        }
    }
    /* More distinct statements than slots: a programmer error. */
    log_error("statement cache full", "slots=%d", STORE_STMT_SLOTS);
    abort();
}

int store_exec(store_t *self, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(self->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("sql failed", "rc=%d error=\"%s\"", rc, msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
    }
    return rc;
}

/* Runs a statement from the cache: transaction control is on every
 * request's path, and compiling it each time costs more than the work. */
static int store_step_cached(store_t *self, const char *sql)
{
    sqlite3_stmt *st = store_stmt(self, sql);
    if (!st)
        return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return SQLITE_OK;
    log_error("sql failed", "rc=%d sql=\"%s\" error=\"%s\"", rc, sql, sqlite3_errmsg(self->db));
    return rc;
}

int store_begin(store_t *self)
{
    int rc = store_step_cached(self, "BEGIN");
    if (rc == SQLITE_OK)
        self->depth = 1;
    return rc;
}

int store_commit(store_t *self)
{
    int rc = store_step_cached(self, "COMMIT");
    if (rc == SQLITE_OK)
        self->depth = 0;
    return rc;
}

int store_rollback(store_t *self)
{
    int rc = store_step_cached(self, "ROLLBACK");
    self->depth = 0; /* a failed ROLLBACK means SQLite already ended it */
    return rc;
}

/* Savepoint statements by depth, as literals so that they are cached. */
#define STORE_MAX_DEPTH 8
#define STORE_SP(op) op "0", op "1", op "2", op "3", op "4", op "5", op "6", op "7"
static const char *const store_sp_save[STORE_MAX_DEPTH] = {STORE_SP("SAVEPOINT sp")};
static const char *const store_sp_release[STORE_MAX_DEPTH] = {STORE_SP("RELEASE sp")};
static const char *const store_sp_rollback[STORE_MAX_DEPTH] = {STORE_SP("ROLLBACK TO sp")};

/* A checked bound, not an assert: release builds must not index past the
 * tables. */
static int store_sp_valid(int token)
{
    if (token >= 0 && token < STORE_MAX_DEPTH)
        return 1;
    log_error("savepoints nested too deep", "depth=%d max=%d", token, STORE_MAX_DEPTH);
    return 0;
}

int store_savepoint(store_t *self)
{
    if (!store_sp_valid(self->depth) ||
        store_step_cached(self, store_sp_save[self->depth]) != SQLITE_OK)
        return -1;
    return self->depth++;
}

int store_release(store_t *self, int token)
{
    if (!store_sp_valid(token))
        return SQLITE_MISUSE;
    int rc = store_step_cached(self, store_sp_release[token]);
    if (rc == SQLITE_OK)
        self->depth = token;
    return rc;
}

int store_rollback_to(store_t *self, int token)
{
    if (!store_sp_valid(token))
        return SQLITE_MISUSE;
    int rc = store_step_cached(self, store_sp_rollback[token]);
    if (rc == SQLITE_OK)
        rc = store_step_cached(self, store_sp_release[token]);
    if (rc == SQLITE_OK)
        self->depth = token;
    return rc;
}

int store_in_transaction(store_t *self)
{
    return !sqlite3_get_autocommit(self->db);
}

int store_backup(store_t *self, const char *dest_path, int64_t *bytes)
{
    sqlite3 *dest = NULL;
    int rc = sqlite3_open(dest_path, &dest);
    if (rc == SQLITE_OK) {
        sqlite3_backup *b = sqlite3_backup_init(dest, "main", self->db, "main");
        if (b) {
            /* Whole copy in one step: the service loop is single-threaded,
             * so nothing writes meanwhile. */
            sqlite3_backup_step(b, -1);
            rc = sqlite3_backup_finish(b);
        } else {
            rc = sqlite3_errcode(dest);
        }
    }
    if (rc != SQLITE_OK)
        log_error("backup failed", "path=%s error=\"%s\"", dest_path,
                  dest ? sqlite3_errmsg(dest) : "?");
    sqlite3_close(dest);
    struct stat st;
    *bytes = (rc == SQLITE_OK && stat(dest_path, &st) == 0) ? (int64_t)st.st_size : 0;
    return rc;
}
