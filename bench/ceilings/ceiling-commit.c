/* ceiling-commit: how many durable commits a second SQLite allows here,
 * the ceiling for any command that must be on disk before it is answered.
 *
 * Inserts rows into a WAL database: one row per transaction with
 * synchronous=FULL, then NORMAL, then 1,000 rows per transaction with FULL
 * (what group commit approaches). Prints one line each: label, rows/s.
 *
 * Usage: ceiling-commit DIR [ROWS]   (default ROWS 2000) */
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <time.h>

#define MAX_ROWS 1000000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Rows per second inserting `rows` rows, `per_txn` per transaction. */
static double measure(const char *path, const char *sync, int rows, int per_txn)
{
    sqlite3 *db = NULL;
    char sql[128];
    remove(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
             "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
             sync);
    sqlite3_stmt *ins = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES('a row of about forty bytes of text')", -1,
                           &ins, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    double start = now_s();
    for (int i = 0; i < rows; i += per_txn) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int k = 0; k < per_txn && i + k < rows; k++) {
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double rate = rows / (now_s() - start);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return rate;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [ROWS]\n", argv[0]);
        return 2;
    }
    /* The later runs insert 50 times ROWS: the bound keeps that an int. */
    char *end = NULL;
    long rows = argc > 2 ? strtol(argv[2], &end, 10) : 2000;
    if (rows <= 0 || rows > MAX_ROWS || (end && *end)) {
        fprintf(stderr, "%s: ROWS must be an integer from 1 to %d\n", argv[0], MAX_ROWS);
        return 2;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "%s/ceiling-commit.db", argv[1]) >= (int)sizeof path) {
        fprintf(stderr, "%s: DIR is too long\n", argv[0]);
        return 2;
    }
    printf("sqlite insert, 1 row/txn, synchronous=FULL\t%.0f rows/s\n",
           measure(path, "FULL", (int)rows, 1));
    printf("sqlite insert, 1 row/txn, synchronous=NORMAL\t%.0f rows/s\n",
           measure(path, "NORMAL", (int)rows * 5, 1));
    printf("sqlite insert, 1000 rows/txn, synchronous=FULL\t%.0f rows/s\n",
           measure(path, "FULL", (int)rows * 50, 1000));
    return 0;
}
