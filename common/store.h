/* store: a service's SQLite database.
 *
 * Opens with WAL, synchronous=FULL, foreign_keys=ON and a busy timeout;
 * migrates the service's schema by PRAGMA user_version (and the runtime's
 * own tables by a separate version kept in concerto_meta, so neither
 * renumbers the other); caches prepared statements by their SQL text; and
 * wraps transactions and savepoints. One store is used by one thread.
 *
 * Every int-returning store_* function returns 0 on success and -1 on
 * failure, after logging SQLite's message (sqlite3_extended_errcode on
 * store_db still has the code); store_savepoint returns a depth token. */
#ifndef CONCERTO_STORE_H
#define CONCERTO_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* One schema step. Steps are applied in order; step i brings the schema
 * from version i to version i + 1, in its own transaction. */
typedef struct {
    const char *sql;
} store_migration_t;

typedef struct store store_t;

typedef struct {
    const char *path;        /* file, or ":memory:" */
    const char *synchronous; /* "FULL" (default) or "NORMAL" */
    int busy_timeout_ms;     /* default 5000 */
} store_options_t;

/* Statements, migrations included, may call fold(text): the search form
 * of text (text.h's text_fold), so that a migration can recompute stored
 * search forms when folding changes. */

/* Opens (creating if needed) and migrates. Returns NULL and a message in
 * `err` on failure, including a database whose schema is newer than
 * `steps` knows ("database schema version 5 is newer than this program's
 * 3"). */
store_t *store_open(const store_options_t *opt, const store_migration_t *steps, size_t n_steps,
                    char *err, size_t errlen);
void store_destroy(store_t **self_p);

sqlite3 *store_db(store_t *self);
const char *store_path(store_t *self);
/* PRAGMA user_version: the service schema's version (0 if unreadable). */
int store_schema_version(store_t *self);

/* Distinct statements the cache holds at most: SQL built at run time with
 * values inside (instead of bound parameters) would otherwise grow it
 * without bound. */
#define STORE_MAX_STATEMENTS 1024

/* A prepared statement for `sql`, reset and with bindings cleared, owned by
 * the store. The cache is keyed by the text, so any string will do (a
 * literal, or one built at run time). Returns NULL (and logs) when the SQL
 * does not compile, holds more than one statement, or the cache is full. */
sqlite3_stmt *store_stmt(store_t *self, const char *sql);

/* Runs SQL without results. */
int store_exec(store_t *self, const char *sql);

/* Transactions. begin is a deferred BEGIN: reads share one snapshot and
 * the write lock is taken at the first write. Each service is its database's
 * only writer, so that upgrade does not meet another writer; a stray one
 * that wrote after the transaction's first read makes the write fail with
 * SQLITE_BUSY at once (SQLite calls no busy handler when it upgrades a read
 * transaction); the busy timeout covers only a transaction whose first
 * statement writes. */
int store_begin(store_t *self);
/* A failed COMMIT logs one line and leaves no transaction open: what SQLite
 * did not roll back itself (a full disk may make it) is rolled back here. */
int store_commit(store_t *self);
/* Ends the transaction if one is open; nothing to end is not an error. */
int store_rollback(store_t *self);
/* Nested savepoints: save returns a depth token (>= 0) for release and
 * rollback_to, or -1. A failed release or rollback_to leaves the
 * savepoint's writes in an unknown state: the caller must roll back the
 * whole transaction. */
int store_savepoint(store_t *self);
int store_release(store_t *self, int token);
int store_rollback_to(store_t *self, int token);
int store_in_transaction(store_t *self);

/* What a read of the store may depend on: rows written on this connection
 * (sqlite3_total_changes64, which a rollback does not take back), the
 * rollbacks here, and commits by other connections to the file (PRAGMA
 * data_version). Two equal versions promise the same reads. */
typedef struct {
    int64_t changes, rollbacks, data_version;
} store_version_t;
/* 0, or -1 when the file's version cannot be read (then nothing may be
 * assumed). */
int store_version(store_t *self, store_version_t *out);

#endif
