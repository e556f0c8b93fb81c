/* bench-row: the registry's Table mapping, by hand (table_by_hand.c, as
 * the registry had it) against the descriptor-driven common/row.c, in one
 * run on the same rows, with the registry's own statements for the
 * latter. Prints ns per Table read by id (bind, step, map, free; and the
 * statement alone) and ns per message bound. Both readers must give the
 * same bytes for every Table, or it stops.
 *
 *   bench-row [ROWS [ROUNDS]]   (default 500 rows, 40 rounds) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "registry.h"
#include "registry_schema.h"
#include "row.h"
#include "store.h"
#include "table_by_hand.h"
#include "xalloc.h"

typedef Concerto__Registry__V1__Table table_t;
#define TABLE_DESC (&concerto__registry__v1__table__descriptor)

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what, sqlite3 *db)
{
    fprintf(stderr, "bench-row: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

/* Fills the store with one territory, one organization and `n` Tables
 * with every field set (every third without its optional parts). Columns
 * are named, so that columns the schema adds later keep their defaults. */
static void fill(store_t *store, int n)
{
    sqlite3 *db = store_db(store);
    if (sqlite3_exec(db,
                     "INSERT INTO territory(id, name, name_folded, kind, population, created_ms,"
                     " updated_ms) VALUES('t1', 'Montréal-Nord', 'montreal nord', 'borough',"
                     " 84234, 0, 0);"
                     "INSERT INTO organization(id, name, name_folded, created_ms, updated_ms)"
                     " VALUES('o1', 'TQMN', 'tqmn', 0, 0);",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("fill", db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO concertation_table(id, name, name_folded, acronym, acronym_folded,"
            " territory_id, founding_year, mandataire_id, email, phone, website, address,"
            " languages, incorporated, bylaws_adopted_on, board_seats, meetings_per_year,"
            " paid_staff, status, status_since, status_reason, status_by, source_url, notes,"
            " uncertain, created_ms, updated_ms) VALUES(printf('table-%05d', ?1),"
            " 'Table de quartier de Côte-des-Neiges ' || ?1, 'table de quartier', "
            " CASE WHEN ?1 % 3 THEN 'TQ' END, CASE WHEN ?1 % 3 THEN 'tq' END, 't1', 1990 + ?1 % 30,"
            " 'o1', CASE WHEN ?1 % 3 THEN 'info@tq.ca' END, CASE WHEN ?1 % 3 THEN '514-555-0123' "
            "END, 'https://tq.ca', '1 rue Principale, Montréal', 'fr en', ?1 % 2,"
            " CASE WHEN ?1 % 3 THEN '2001-05-01' END, 9, 10, 2, 'recognized', '2024-01-01',"
            " 'meets the framework', 'operator:alice', 'https://source.example', "
            " 'Notes about the Table, a line or two.', ?1 % 2, 1700000000000, 1700000000000)",
            -1, &st, NULL) != SQLITE_OK)
        die("prepare fill", db);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int(st, 1, i);
        if (sqlite3_step(st) != SQLITE_DONE)
            die("insert", db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

/* The hand copy's columns named for common/row.c, so that both mappings
 * read the same fields (the registry's own read has grown since: its
 * location, decision and archive; the last line measures it whole). */
#define TABLE_BY_ROW_SELECT                                                                        \
    "SELECT t.id, t.name, t.acronym, t.territory_id, t.founding_year, t.mandataire_id,"            \
    " t.email AS contact__email, t.phone AS contact__phone, t.website AS contact__website,"        \
    " t.address AS contact__address, t.languages,"                                                 \
    " t.incorporated AS governance__incorporated,"                                                 \
    " t.bylaws_adopted_on AS governance__bylaws_adopted_on,"                                       \
    " t.board_seats AS governance__board_seats,"                                                   \
    " t.meetings_per_year AS governance__meetings_per_year,"                                       \
    " t.paid_staff AS governance__paid_staff, t.status AS recognition__status,"                    \
    " t.status_since AS recognition__since, t.status_reason AS recognition__reason,"               \
    " t.status_by AS recognition__changed_by, t.source_url, t.notes,"                              \
    " NULLIF(t.uncertain, 0) AS uncertain, t.created_ms, t.updated_ms, NULL AS status_unmet"       \
    " FROM concertation_table t WHERE t.id = ?"

enum { HAND, ROW, STEP };

/* Reads each Table by id with `how`, as the registry answers
 * GetTableRequest; returns ns per row. */
static double read_all(sqlite3_stmt *st, table_t **ids, int how, int n)
{
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, ids[i]->id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            die("read", NULL);
        table_t *t = NULL;
        if (how == HAND) {
            t = table_by_hand_read(st);
        } else if (how == ROW) {
            t = (table_t *)row_read(st, TABLE_DESC);
            registry_table_entity.complete(&t->base, st);
        }
        if (t)
            protobuf_c_message_free_unpacked(&t->base, NULL);
        sqlite3_reset(st);
    }
    return (now_ns() - t0) / n;
}

/* Binds every message with `how`, without stepping; ns per message. */
static double bind_all(sqlite3_stmt *st, table_t **msgs, int how, int n)
{
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if (how == HAND)
            table_by_hand_bind(st, msgs[i]);
        else
            row_bind(st, &msgs[i]->base);
        sqlite3_clear_bindings(st);
    }
    return (now_ns() - t0) / n;
}

static uint8_t *packed(const table_t *t, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(&t->base);
    uint8_t *out = xmalloc(*len + 1);
    protobuf_c_message_pack(&t->base, out);
    return out;
}

/* Both readers give the same message for every Table; returns the
 * messages (for the bind rounds, and their ids for the reads). */
static table_t **check_same(sqlite3_stmt *all, sqlite3_stmt *hand, sqlite3_stmt *row, int n)
{
    table_t **msgs = xcalloc((size_t)n, sizeof *msgs);
    for (int i = 0; i < n; i++) {
        if (sqlite3_step(all) != SQLITE_ROW)
            die("fewer Tables than filled", NULL);
        const char *id = (const char *)sqlite3_column_text(all, 0);
        sqlite3_bind_text(hand, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(row, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(hand) != SQLITE_ROW || sqlite3_step(row) != SQLITE_ROW)
            die("a Table is missing", NULL);
        table_t *a = table_by_hand_read(hand);
        table_t *b = (table_t *)row_read(row, TABLE_DESC);
        registry_table_entity.complete(&b->base, row);
        size_t la, lb;
        uint8_t *pa = packed(a, &la), *pb = packed(b, &lb);
        if (la != lb || memcmp(pa, pb, la) != 0) {
            fprintf(stderr, "bench-row: %s: the mappings disagree\n", a->id);
            exit(1);
        }
        free(pa);
        free(pb);
        protobuf_c_message_free_unpacked(&b->base, NULL);
        msgs[i] = a;
        sqlite3_reset(hand);
        sqlite3_reset(row);
    }
    sqlite3_reset(all);
    return msgs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500;
    int rounds = argc > 2 ? atoi(argv[2]) : 40;
    if (n < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench-row [ROWS [ROUNDS]]\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    char err[256];
    store_options_t opt = {":memory:", NULL, 0};
    store_t *store =
        store_open(&opt, registry_migrations, registry_migration_count, err, sizeof err);
    if (!store) {
        fprintf(stderr, "bench-row: %s\n", err);
        return 1;
    }
    fill(store, n);
    sqlite3_stmt *all = store_stmt(store, "SELECT id FROM concertation_table ORDER BY id");
    sqlite3_stmt *sel_hand = store_stmt(store, "SELECT " TABLE_BY_HAND_COLUMNS
                                               " FROM concertation_table t WHERE t.id = ?");
    sqlite3_stmt *sel_row = store_stmt(store, TABLE_BY_ROW_SELECT);
    sqlite3_stmt *sel_whole = store_stmt(store, registry_table_entity.select);
    sqlite3_stmt *upd_hand = store_stmt(store, TABLE_BY_HAND_UPDATE);
    sqlite3_stmt *upd_row = store_stmt(store, registry_table_entity.update);
    if (!all || !sel_hand || !sel_row || !sel_whole || !upd_hand || !upd_row)
        die("prepare", store_db(store));
    table_t **msgs = check_same(all, sel_hand, sel_row, n);

    double *r_hand = xcalloc((size_t)rounds, sizeof(double));
    double *r_row = xcalloc((size_t)rounds, sizeof(double));
    double *r_step = xcalloc((size_t)rounds, sizeof(double));
    double *r_step_hand = xcalloc((size_t)rounds, sizeof(double));
    double *r_whole = xcalloc((size_t)rounds, sizeof(double));
    double *b_hand = xcalloc((size_t)rounds, sizeof(double));
    double *b_row = xcalloc((size_t)rounds, sizeof(double));
    /* Interleaved rounds, so that both meet the same machine. */
    for (int r = 0; r < rounds; r++) {
        r_hand[r] = read_all(sel_hand, msgs, HAND, n);
        r_row[r] = read_all(sel_row, msgs, ROW, n);
        r_step[r] = read_all(sel_row, msgs, STEP, n);
        r_step_hand[r] = read_all(sel_hand, msgs, STEP, n);
        r_whole[r] = read_all(sel_whole, msgs, ROW, n);
        b_hand[r] = bind_all(upd_hand, msgs, HAND, n);
        b_row[r] = bind_all(upd_row, msgs, ROW, n);
    }
    double rh = median(r_hand, rounds), rr = median(r_row, rounds), rs = median(r_step, rounds);
    double rsh = median(r_step_hand, rounds), rw = median(r_whole, rounds);
    double bh = median(b_hand, rounds), br = median(b_row, rounds);
    printf("bench-row: %d Tables, %d rounds, medians (the same rows and messages for both)\n", n,
           rounds);
    printf("  read by id (bind, step, map, free)  by hand %7.0f ns/row   descriptors %7.0f ns/row  "
           "(%+.0f%%)\n",
           rh, rr, 100.0 * (rr - rh) / rh);
    printf("  read: mapping alone                 by hand %7.0f ns/row   descriptors %7.0f ns/row  "
           "(%+.0f%%; the steps alone: %.0f and %.0f ns)\n",
           rh - rsh, rr - rs, 100.0 * ((rr - rs) - (rh - rsh)) / (rh - rsh), rsh, rs);
    printf("  bind (19 fields)                    by hand %7.0f ns/msg   descriptors %7.0f ns/msg  "
           "(%+.0f%%)\n",
           bh, br, 100.0 * (br - bh) / bh);
    printf("  the registry's whole Table row (its location join, decision, archive): %.0f ns/row\n",
           rw);
    for (int i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&msgs[i]->base, NULL);
    free(msgs);
    free(r_hand);
    free(r_row);
    free(r_step);
    free(r_step_hand);
    free(r_whole);
    free(b_hand);
    free(b_row);
    store_destroy(&store);
    return 0;
}
