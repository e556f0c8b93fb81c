/* ceiling-store: the service half of the hop ceiling.
 *
 * A ROUTER that answers each request with one SQLite primary-key SELECT on
 * a prepared statement, over a table of 1,000 rows made at start. Requests
 * are [identity][tag: 8 bytes, key: 4-byte int]; replies are
 * [identity][tag, name], the name empty when the key is not found.
 *
 * Usage: ceiling-store ENDPOINT [DB_PATH]   (default DB_PATH :memory:) */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define ROWS 1000
#define MAX_FRAMES 2
#define BATCH 256 /* requests per poll turn, so a stop is seen promptly */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int db_setup(sqlite3 *db)
{
    char sql[128];
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL;"
                     "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                     "DELETE FROM items; BEGIN;",
                     NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    for (int i = 1; i <= ROWS; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO items VALUES(%d, 'item-%04d');", i, i);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    return sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Reads one whole message (pitfall 4: every frame, even of a bad message)
 * and answers it if it has the expected shape. Returns -1 when nothing was
 * waiting. */
static int serve_one(void *router, sqlite3_stmt *select)
{
    zmq_msg_t frames[MAX_FRAMES];
    int count = 0, more = 1, bad = 0;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, router, count == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&part);
            for (int i = 0; i < count; i++)
                zmq_msg_close(&frames[i]);
            return -1;
        }
        more = zmq_msg_more(&part);
        if (count < MAX_FRAMES)
            frames[count++] = part;
        else {
            bad = 1;
            zmq_msg_close(&part);
        }
    }
    if (!bad && count == 2 && zmq_msg_size(&frames[1]) == 12) {
        char reply[8 + 128];
        size_t len = 8;
        int32_t key;
        memcpy(reply, zmq_msg_data(&frames[1]), 8);
        memcpy(&key, (char *)zmq_msg_data(&frames[1]) + 8, sizeof key);
        sqlite3_bind_int(select, 1, key);
        if (sqlite3_step(select) == SQLITE_ROW) {
            const unsigned char *name = sqlite3_column_text(select, 0);
            int n = sqlite3_column_bytes(select, 0);
            if (n > 128)
                n = 128;
            memcpy(reply + 8, name, (size_t)n);
            len += (size_t)n;
        }
        sqlite3_reset(select);
        zmq_send(router, zmq_msg_data(&frames[0]), zmq_msg_size(&frames[0]),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(router, reply, len, ZMQ_DONTWAIT);
    }
    for (int i = 0; i < count; i++)
        zmq_msg_close(&frames[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s ENDPOINT [DB_PATH]\n", argv[0]);
        return 2;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *select = NULL;
    if (sqlite3_open(argc == 3 ? argv[2] : ":memory:", &db) != SQLITE_OK || db_setup(db) != 0 ||
        sqlite3_prepare_v2(db, "SELECT name FROM items WHERE id = ?", -1, &select, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "ceiling-store: database: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(router, argv[1]) != 0) {
        fprintf(stderr, "ceiling-store: cannot bind %s: %s\n", argv[1], zmq_strerror(errno));
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "ceiling-store: serving %d rows on %s\n", ROWS, argv[1]);

    /* zmq_poll with a timeout, not a blocking recv, so a signal is never
     * slept through (pitfall 7). */
    while (!stopping) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 500) <= 0)
            continue;
        for (int i = 0; i < BATCH && serve_one(router, select) == 0; i++)
            ;
    }
    zmq_close(router);
    zmq_ctx_term(ctx);
    sqlite3_finalize(select);
    sqlite3_close(db);
    return 0;
}
