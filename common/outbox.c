/* outbox: a service's numbered event log (see outbox.h), and the runtime's
 * other tables, which live beside it in every service database. */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timers.h"
#include "xalloc.h"

const store_migration_t outbox_migrations[] = {
    {"CREATE TABLE outbox("
     " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
     " id BLOB NOT NULL,"
     " type TEXT NOT NULL,"
     " subject TEXT,"
     " actor TEXT,"
     " created_ms INTEGER NOT NULL,"
     " envelope BLOB NOT NULL);"
     "CREATE INDEX outbox_by_subject ON outbox(subject, seq) WHERE subject IS NOT NULL;"
     /* A command's reply, kept under its idempotency key. */
     "CREATE TABLE idempotency("
     " key TEXT PRIMARY KEY,"
     " request_hash BLOB NOT NULL,"
     " reply BLOB NOT NULL,"
     " created_ms INTEGER NOT NULL) STRICT;"
     /* Last event applied from each source this service subscribes to. */
     "CREATE TABLE cursors("
     " source TEXT PRIMARY KEY,"
     " applied_seq INTEGER NOT NULL) STRICT;"
     /* How far each subscriber of this service has applied. */
     "CREATE TABLE subscriber_acks("
     " subscriber TEXT PRIMARY KEY,"
     " applied_seq INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL) STRICT;"},
    {timers_schema_sql},
};
const size_t outbox_migration_count = sizeof outbox_migrations / sizeof outbox_migrations[0];

int outbox_append(store_t *store, const char *source, const char *actor, const char *subject,
                  const ProtobufCMessage *event, outbox_event_t *out)
{
    memset(out, 0, sizeof *out);
    /* The sequence is assigned by the insert, but it belongs inside the
     * envelope too; so insert, then store the envelope that carries it. */
    sqlite3_stmt *ins = store_stmt(store, "INSERT INTO outbox(id, type, subject, actor, "
                                          "created_ms, envelope) VALUES(?, ?, ?, ?, ?, x'')");
    if (!ins)
        return -1;
    size_t payload_len = 0;
    uint8_t *payload = message_pack(event, &payload_len);
    uint8_t id[16];
    envelope_t env;
    envelope_prepare(&env, id, source, event->descriptor->name, payload, payload_len);
    if (actor && *actor)
        env.actor = (char *)actor;
    sqlite3_bind_blob(ins, 1, id, sizeof id, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, env.type, -1, SQLITE_STATIC);
    if (subject)
        sqlite3_bind_text(ins, 3, subject, -1, SQLITE_STATIC);
    if (actor)
        sqlite3_bind_text(ins, 4, actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 5, env.timestamp_ms);
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) {
        log_error("outbox append failed", "error=\"%s\"", sqlite3_errmsg(store_db(store)));
        free(payload);
        return -1;
    }
    env.has_sequence = 1;
    env.sequence = (uint64_t)sqlite3_last_insert_rowid(store_db(store));
    size_t len = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    free(payload);

    sqlite3_stmt *upd = store_stmt(store, "UPDATE outbox SET envelope = ? WHERE seq = ?");
    if (!upd) {
        free(frame);
        return -1;
    }
    sqlite3_bind_blob(upd, 1, frame, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(upd, 2, (sqlite3_int64)env.sequence);
    rc = sqlite3_step(upd);
    sqlite3_reset(upd);
    if (rc != SQLITE_DONE) {
        log_error("outbox append failed", "error=\"%s\"", sqlite3_errmsg(store_db(store)));
        free(frame);
        return -1;
    }
    out->seq = env.sequence;
    out->frame = frame;
    out->len = len;
    out->type = xstrdup(env.type);
    return 0;
}

void outbox_event_clear(outbox_event_t *ev)
{
    free(ev->frame);
    free(ev->type);
    memset(ev, 0, sizeof *ev);
}

uint64_t outbox_head(store_t *store)
{
    /* sqlite_sequence keeps the AUTOINCREMENT high-water mark even when
     * every row has been pruned. */
    sqlite3_stmt *st = store_stmt(store, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'");
    uint64_t head = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        head = (uint64_t)sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return head;
}

/* A read that ends on an SQLite error returns -1, never the count so far:
 * a short page would look like the end of the outbox. */
static int outbox_visit(store_t *store, sqlite3_stmt *st, size_t max, size_t max_bytes,
                        outbox_visit_fn fn, void *arg)
{
    int count = 0;
    size_t bytes = 0;
    int rc = SQLITE_DONE;
    while ((size_t)count < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *frame = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (count > 0 && bytes + len > max_bytes)
            break;
        bytes += len;
        if (fn((uint64_t)sqlite3_column_int64(st, 0), frame, len, arg) != 0)
            break;
        count++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("outbox read failed", "rc=%d error=\"%s\" events_read=%d", rc,
                  sqlite3_errmsg(store_db(store)), count);
        count = -1;
    }
    sqlite3_reset(st);
    return count;
}

int outbox_read_after(store_t *store, uint64_t after, size_t max, size_t max_bytes,
                      outbox_visit_fn fn, void *arg)
{
    sqlite3_stmt *st =
        store_stmt(store, "SELECT seq, envelope FROM outbox WHERE seq > ? ORDER BY seq");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    return outbox_visit(store, st, max, max_bytes, fn, arg);
}

int outbox_read_subject(store_t *store, const char *subject, uint64_t after, size_t max,
                        outbox_visit_fn fn, void *arg)
{
    sqlite3_stmt *st = store_stmt(store, "SELECT seq, envelope FROM outbox "
                                         "WHERE subject = ? AND seq > ? ORDER BY seq");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
    return outbox_visit(store, st, max, SIZE_MAX, fn, arg);
}

int outbox_record_ack(store_t *store, const char *subscriber, uint64_t seq, int64_t now_ms)
{
    sqlite3_stmt *st =
        store_stmt(store, "INSERT INTO subscriber_acks(subscriber, applied_seq, updated_ms) "
                          "VALUES(?, ?, ?) "
                          "ON CONFLICT(subscriber) DO UPDATE SET "
                          "applied_seq = max(applied_seq, excluded.applied_seq), "
                          "updated_ms = excluded.updated_ms");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, subscriber, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int outbox_prune(store_t *store, uint64_t up_to, uint64_t *pruned_to, uint64_t *deleted)
{
    sqlite3_stmt *st = store_stmt(store, "SELECT min(applied_seq) FROM subscriber_acks");
    if (!st)
        return -1;
    uint64_t bound = up_to;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        uint64_t slowest = (uint64_t)sqlite3_column_int64(st, 0);
        if (slowest < bound)
            bound = slowest;
    }
    sqlite3_reset(st);
    sqlite3_stmt *del = store_stmt(store, "DELETE FROM outbox WHERE seq <= ?");
    if (!del)
        return -1;
    sqlite3_bind_int64(del, 1, (sqlite3_int64)bound);
    int rc = sqlite3_step(del);
    sqlite3_reset(del);
    if (rc != SQLITE_DONE)
        return -1;
    *pruned_to = bound;
    *deleted = (uint64_t)sqlite3_changes(store_db(store));
    return 0;
}
