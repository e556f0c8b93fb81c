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

#include "log.h"
#include "outbox.h"
#include "text.h"
#include "xalloc.h"

/* The statement cache: open addressing on a hash of the SQL text, grown
 * by doubling (kept at most half full), up to STORE_MAX_STATEMENTS. */
typedef struct {
    char *sql; /* owned copy of the key; NULL: empty slot */
    size_t hash;
    sqlite3_stmt *stmt;
} store_slot_t;

/* SQL that is a literal comes back at the same address: a direct-mapped
 * memo of address -> slot spares hashing its text on every fetch. The text
 * is still compared (a vectorized strcmp, much cheaper than the hash), so
 * a buffer reused for other SQL is never taken for what it held before. */
#define STORE_MEMO 256

/* Savepoint journals (each command runs in a savepoint: service.c) stay in
 * memory up to this size. At SQLite's 64 KiB default a busy batch's
 * journal spilled to a temporary file, written and closed at every commit:
 * a third of a funder's payment's time. */
#define STORE_SUBJOURNAL_SPILL (8 * 1024 * 1024)

struct store {
    sqlite3 *db;
    char *path;
    int depth;         /* 0: no transaction; 1: BEGIN; n>1: savepoints */
    int64_t rollbacks; /* ROLLBACK and ROLLBACK TO run, for store_version */
    store_slot_t *slots;
    size_t n_slots; /* a power of two */
    size_t n_stmts;
    struct {
        const char *sql;
        size_t slot;
    } memo[STORE_MEMO];
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
        return -1;
    sqlite3_bind_int(st, 1, v);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
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
        if (store_begin(self) != 0)
            goto fail;
        char *msg = NULL;
        if (sqlite3_exec(self->db, steps[i].sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s migration %zu failed: %s", self->path, track, i + 1,
                     msg ? msg : "?");
            sqlite3_free(msg);
            store_rollback(self);
            return -1;
        }
        if (set(self, (int)i + 1) != 0 || store_commit(self) != 0)
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

/* fold(text): text_fold's search form, NULL for NULL (or for text that
 * is not UTF-8). */
static void store_sql_fold(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    char *folded = s ? text_fold(s) : NULL;
    if (folded)
        sqlite3_result_text(c, folded, -1, free);
    else
        sqlite3_result_null(c);
}

store_t *store_open(const store_options_t *opt, const store_migration_t *steps, size_t n_steps,
                    char *err, size_t errlen)
{
    /* Each store is used by one thread, and nothing reads SQLite's memory
     * statistics: without them its allocator takes no global mutex. Both
     * settings are only possible before SQLite's first use in the process
     * (else MISUSE, harmless: the defaults stay). */
    static int configured;
    if (!configured++) {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_SUBJOURNAL_SPILL);
    }
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
    /* Statements are prepared once and cached (store_stmt). Without the
     * planner's stability guarantee SQLite recompiles a statement on the
     * step after any new binding of a parameter that a LIKE compares with
     * (in case the value allows the LIKE optimization, which our patterns
     * never do): the registry's lists recompiled two large statements
     * every request. */
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_ENABLE_QPSG, 1, (int *)NULL);
    sqlite3_create_function(self->db, "fold", 1,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                            store_sql_fold, NULL, NULL);
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
    for (size_t i = 0; i < self->n_slots; i++) {
        sqlite3_finalize(self->slots[i].stmt);
        free(self->slots[i].sql);
    }
    free(self->slots);
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

/* FNV-1a: SQL texts are short, and this runs on every statement fetch. */
static size_t store_hash(const char *sql)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)h;
}

/* The slot holding `sql`, or the empty slot where it belongs. */
static store_slot_t *store_find_slot(store_slot_t *slots, size_t n_slots, const char *sql,
                                     size_t hash)
{
    for (size_t i = hash & (n_slots - 1);; i = (i + 1) & (n_slots - 1))
        if (!slots[i].sql || (slots[i].hash == hash && strcmp(slots[i].sql, sql) == 0))
            return &slots[i];
}

static void store_grow_cache(store_t *self)
{
    size_t n = self->n_slots ? self->n_slots * 2 : 64;
    store_slot_t *slots = xcalloc(n, sizeof *slots);
    for (size_t i = 0; i < self->n_slots; i++)
        if (self->slots[i].sql)
            *store_find_slot(slots, n, self->slots[i].sql, self->slots[i].hash) = self->slots[i];
    free(self->slots);
    self->slots = slots;
    self->n_slots = n;
    memset(self->memo, 0, sizeof self->memo); /* the slots have moved */
}

static sqlite3_stmt *store_prepare(store_t *self, const char *sql)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail) != SQLITE_OK) {
        log_error("sql does not compile", "error=\"%s\"", sqlite3_errmsg(self->db));
        return NULL;
    }
    tail += strspn(tail, " \t\r\n;");
    if (!st || *tail) {
        /* Only the first statement would run: the rest would be lost. */
        log_error("sql must hold exactly one statement", "sql=\"%.80s\"", sql);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static sqlite3_stmt *store_fetched(store_slot_t *slot)
{
    sqlite3_reset(slot->stmt);
    sqlite3_clear_bindings(slot->stmt);
    return slot->stmt;
}

sqlite3_stmt *store_stmt(store_t *self, const char *sql)
{
    size_t m = ((uintptr_t)sql >> 3) % STORE_MEMO;
    if (self->memo[m].sql == sql && strcmp(self->slots[self->memo[m].slot].sql, sql) == 0)
        return store_fetched(&self->slots[self->memo[m].slot]);
    size_t hash = store_hash(sql);
    store_slot_t *slot =
        self->n_slots ? store_find_slot(self->slots, self->n_slots, sql, hash) : NULL;
    if (slot && slot->sql) {
        self->memo[m].sql = sql;
        self->memo[m].slot = (size_t)(slot - self->slots);
        return store_fetched(slot);
    }
    if (self->n_stmts >= STORE_MAX_STATEMENTS) {
        log_error("statement cache full", "statements=%d sql=\"%.80s\"", STORE_MAX_STATEMENTS, sql);
        return NULL;
    }
    sqlite3_stmt *st = store_prepare(self, sql);
    if (!st)
        return NULL;
    if (2 * (self->n_stmts + 1) > self->n_slots) {
        store_grow_cache(self);
        slot = store_find_slot(self->slots, self->n_slots, sql, hash);
    }
    *slot = (store_slot_t){xstrdup(sql), hash, st};
    self->n_stmts++;
    return st;
}

int store_exec(store_t *self, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(self->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    log_error("sql failed", "rc=%d error=\"%s\"", rc, msg ? msg : sqlite3_errmsg(self->db));
    sqlite3_free(msg);
    return -1;
}

/* Runs a statement from the cache (transaction control is on every
 * request's path, and compiling it each time costs more than the work)
 * and returns SQLite's code; `quiet` leaves the logging to the caller. */
static int store_step_cached(store_t *self, const char *sql, int quiet)
{
    sqlite3_stmt *st = store_stmt(self, sql);
    if (!st)
        return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && !quiet)
        log_error("sql failed", "rc=%d sql=\"%s\" error=\"%s\"", rc, sql, sqlite3_errmsg(self->db));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int store_begin(store_t *self)
{
    if (store_step_cached(self, "BEGIN", 0) != SQLITE_OK)
        return -1;
    self->depth = 1;
    return 0;
}

int store_commit(store_t *self)
{
    sqlite3_stmt *st = store_stmt(self, "COMMIT");
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        self->depth = 0;
        return 0;
    }
    char why[256];
    snprintf(why, sizeof why, "%s", sqlite3_errmsg(self->db));
    if (st)
        sqlite3_reset(st);
    /* SQLite rolls back by itself after some failures (a full disk, an I/O
     * error) and not after others (a deferred constraint): either way the
     * caller gets no open transaction, and one line says what happened. */
    const char *outcome = "rolled back by SQLite";
    self->rollbacks++;
    if (store_in_transaction(self))
        outcome =
            store_step_cached(self, "ROLLBACK", 1) == SQLITE_OK ? "rolled back" : "rollback failed";
    else if (!self->depth)
        outcome = "none was open";
    self->depth = 0;
    log_error("commit failed", "rc=%d error=\"%s\" transaction=\"%s\"", rc, why, outcome);
    return -1;
}

int store_rollback(store_t *self)
{
    self->depth = 0;
    if (!store_in_transaction(self))
        return 0;
    self->rollbacks++;
    return store_step_cached(self, "ROLLBACK", 0) == SQLITE_OK ? 0 : -1;
}

/* Savepoint statements by depth, made once rather than formatted on every
 * command. */
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
    log_error("savepoint out of range", "token=%d max=%d", token, STORE_MAX_DEPTH - 1);
    return 0;
}

int store_savepoint(store_t *self)
{
    if (!store_sp_valid(self->depth) ||
        store_step_cached(self, store_sp_save[self->depth], 0) != SQLITE_OK)
        return -1;
    return self->depth++;
}

int store_release(store_t *self, int token)
{
    if (!store_sp_valid(token) || store_step_cached(self, store_sp_release[token], 0) != SQLITE_OK)
        return -1;
    self->depth = token;
    return 0;
}

/* ROLLBACK TO keeps the savepoint open; RELEASE then closes it. */
int store_rollback_to(store_t *self, int token)
{
    self->rollbacks++;
    if (!store_sp_valid(token) ||
        store_step_cached(self, store_sp_rollback[token], 0) != SQLITE_OK ||
        store_step_cached(self, store_sp_release[token], 0) != SQLITE_OK)
        return -1;
    self->depth = token;
    return 0;
}

int store_in_transaction(store_t *self)
{
    return !sqlite3_get_autocommit(self->db);
}

int store_version(store_t *self, store_version_t *out)
{
    out->changes = sqlite3_total_changes64(self->db);
    out->rollbacks = self->rollbacks;
    sqlite3_stmt *st = store_stmt(self, "PRAGMA data_version");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    out->data_version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}
