/* timers: a service's durable timers (see timers.h). */
#include "timers.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

const char timers_schema_sql[] = "CREATE TABLE timers("
                                 " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                 " key TEXT NOT NULL UNIQUE,"
                                 " due_ms INTEGER NOT NULL,"
                                 " type TEXT NOT NULL,"
                                 " payload BLOB NOT NULL,"
                                 " actor TEXT,"
                                 " created_ms INTEGER NOT NULL) STRICT;"
                                 "CREATE INDEX timers_by_due ON timers(due_ms, id);";

static int timers_done(store_t *store, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    log_error("timers: database error", "op=%s error=\"%s\"", what,
              sqlite3_errmsg(store_db(store)));
    return -1;
}

int timers_schedule(store_t *store, const char *key, int64_t due_ms,
                    const ProtobufCMessage *request, const char *actor, int64_t now_ms, int64_t *id)
{
    size_t key_len = key ? strlen(key) : 0;
    if (key_len == 0 || key_len > TIMERS_MAX_KEY) {
        log_error("timers: bad key", "length=%zu max=%d", key_len, TIMERS_MAX_KEY);
        return -1;
    }
    if (timers_cancel(store, key) < 0)
        return -1;
    sqlite3_stmt *st = store_stmt(store, "INSERT INTO timers(key, due_ms, type, payload, actor, "
                                         "created_ms) VALUES(?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    size_t len = 0;
    uint8_t *payload = message_pack(request, &len);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, due_ms);
    sqlite3_bind_text(st, 3, request->descriptor->name, -1, SQLITE_STATIC);
    /* A zero-length blob, not NULL, for an empty message. */
    sqlite3_bind_blob(st, 4, len ? payload : (const void *)"", (int)len, SQLITE_STATIC);
    if (actor && *actor)
        sqlite3_bind_text(st, 5, actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now_ms);
    int rc = timers_done(store, st, "schedule");
    free(payload);
    if (rc == 0 && id)
        *id = sqlite3_last_insert_rowid(store_db(store));
    return rc;
}

int timers_cancel(store_t *store, const char *key)
{
    sqlite3_stmt *st = store_stmt(store, "DELETE FROM timers WHERE key = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (timers_done(store, st, "cancel") != 0)
        return -1;
    return sqlite3_changes(store_db(store)) > 0;
}

int timers_remove(store_t *store, int64_t id)
{
    sqlite3_stmt *st = store_stmt(store, "DELETE FROM timers WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return timers_done(store, st, "remove");
}

int timers_next_due(store_t *store, int64_t *due_ms)
{
    sqlite3_stmt *st = store_stmt(store, "SELECT due_ms FROM timers ORDER BY due_ms, id LIMIT 1");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *due_ms = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : -1;
}

static char *timers_column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

/* Reads the rows of `st` (columns as in the SELECTs below) into *out. */
static int timers_read(store_t *store, sqlite3_stmt *st, size_t max, timers_entry_t **out)
{
    *out = NULL;
    size_t n = 0, cap = 0;
    int rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        timers_entry_t *e = &(*out)[n++];
        e->id = sqlite3_column_int64(st, 0);
        e->key = timers_column_text(st, 1);
        e->due_ms = sqlite3_column_int64(st, 2);
        e->type = timers_column_text(st, 3);
        e->payload_len = (size_t)sqlite3_column_bytes(st, 4);
        e->payload = xmalloc(e->payload_len + 1);
        if (e->payload_len)
            memcpy(e->payload, sqlite3_column_blob(st, 4), e->payload_len);
        e->actor = timers_column_text(st, 5);
        e->created_ms = sqlite3_column_int64(st, 6);
    }
    if (n < max && rc != SQLITE_DONE) {
        log_error("timers: database error", "op=read error=\"%s\"",
                  sqlite3_errmsg(store_db(store)));
        sqlite3_reset(st);
        timers_entries_free(out, n);
        return -1;
    }
    sqlite3_reset(st);
    return (int)n;
}

int timers_read_due(store_t *store, int64_t now_ms, size_t max, timers_entry_t **out)
{
    sqlite3_stmt *st =
        store_stmt(store, "SELECT id, key, due_ms, type, payload, actor, created_ms FROM timers "
                          "WHERE due_ms <= ? ORDER BY due_ms, id");
    *out = NULL;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    return timers_read(store, st, max, out);
}

int timers_list(store_t *store, const char *key_prefix, size_t max, timers_entry_t **out)
{
    sqlite3_stmt *st =
        store_stmt(store, "SELECT id, key, due_ms, type, payload, actor, created_ms FROM timers "
                          "WHERE substr(key, 1, length(?1)) = ?1 ORDER BY due_ms, id");
    *out = NULL;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key_prefix ? key_prefix : "", -1, SQLITE_STATIC);
    return timers_read(store, st, max, out);
}

void timers_entries_free(timers_entry_t **entries, size_t n)
{
    timers_entry_t *e = *entries;
    if (!e)
        return;
    for (size_t i = 0; i < n; i++) {
        free(e[i].key);
        free(e[i].type);
        free(e[i].payload);
        free(e[i].actor);
    }
    free(e);
    *entries = NULL;
}
