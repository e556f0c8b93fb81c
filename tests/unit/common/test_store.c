/* Store: pragmas, migrations by user_version, statements, savepoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "faultvfs.h"
#include "log.h"
#include "store.h"

static const store_migration_t steps[] = {
    {"CREATE TABLE a(x INTEGER PRIMARY KEY)"},
    {"ALTER TABLE a ADD COLUMN y TEXT"},
    {"CREATE TABLE b(z INTEGER REFERENCES a(x))"},
};

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/concerto-test-store-%d.db", (int)getpid());
    unlink(path);
    log_set_level(LOG_ERROR);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[80];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

static int64_t pragma(store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_fresh_store_is_fully_migrated_with_safe_pragmas(void **state)
{
    (void)state;
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, 3, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_schema_version(s), 3);
    assert_int_equal(pragma(s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(pragma(s, "PRAGMA synchronous"), 2); /* FULL */
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(s), "PRAGMA journal_mode", -1, &st, NULL);
    sqlite3_step(st);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    /* the runtime's tables exist beside the service's */
    assert_int_equal(pragma(s, "SELECT count(*) FROM outbox"), 0);
    store_destroy(&s);
    assert_null(s);
}

static void test_store_at_version_1_is_upgraded_to_3(void **state)
{
    (void)state;
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, 1, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_schema_version(s), 1);
    assert_int_equal(store_exec(s, "INSERT INTO a(x) VALUES(42)"), 0);
    store_destroy(&s);
    s = store_open(&opt, steps, 3, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_schema_version(s), 3);
    assert_int_equal(pragma(s, "SELECT x FROM a WHERE y IS NULL"), 42);
    store_destroy(&s);
}

static void test_store_newer_than_program_is_refused_clearly(void **state)
{
    (void)state;
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, 3, err, sizeof err);
    store_destroy(&s);
    s = store_open(&opt, steps, 2, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "schema version 3 is newer than this program's 2"));
}

static void test_failed_migration_leaves_previous_version(void **state)
{
    (void)state;
    static const store_migration_t bad[] = {
        {"CREATE TABLE a(x INTEGER)"},
        {"CREATE TABLE c(x); THIS IS NOT SQL"},
    };
    char err[256];
    store_options_t opt = {path, NULL, 0};
    assert_null(store_open(&opt, bad, 2, err, sizeof err));
    assert_non_null(strstr(err, "migration 2 failed"));
    store_t *s = store_open(&opt, bad, 1, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_schema_version(s), 1);
    assert_int_equal(pragma(s, "SELECT count(*) FROM sqlite_master WHERE name = 'c'"), 0);
    store_destroy(&s);
}

static void test_savepoint_rollback_keeps_outer_work(void **state)
{
    (void)state;
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, 3, err, sizeof err);
    assert_int_equal(store_begin(s), 0);
    store_exec(s, "INSERT INTO a(x) VALUES(1)");
    int sp = store_savepoint(s);
    assert_true(sp >= 0);
    store_exec(s, "INSERT INTO a(x) VALUES(2)");
    assert_int_equal(store_rollback_to(s, sp), 0);
    sp = store_savepoint(s);
    store_exec(s, "INSERT INTO a(x) VALUES(3)");
    assert_int_equal(store_release(s, sp), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(pragma(s, "SELECT group_concat(x) FROM a"), 1);
    assert_int_equal(pragma(s, "SELECT sum(x) FROM a"), 4);
    store_destroy(&s);
}

static void test_savepoints_past_the_limit_are_refused(void **state)
{
    (void)state;
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, 3, err, sizeof err);
    assert_int_equal(store_begin(s), 0);
    int sp = -1, first = store_savepoint(s);
    assert_int_equal(first, 1);
    for (int i = 2; i < 8; i++)
        sp = store_savepoint(s);
    assert_int_equal(sp, 7);
    assert_int_equal(store_savepoint(s), -1);
    assert_int_equal(store_release(s, 8), -1);
    assert_int_equal(store_rollback_to(s, -1), -1);
    assert_int_equal(store_rollback_to(s, first), 0);
    assert_int_equal(store_savepoint(s), first);
    assert_int_equal(store_commit(s), 0);
    store_destroy(&s);
}

static void test_statement_cache_returns_reset_statement(void **state)
{
    (void)state;
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, 3, err, sizeof err);
    store_exec(s, "INSERT INTO a(x) VALUES(5), (6)");
    static const char *sql = "SELECT x FROM a ORDER BY x";
    sqlite3_stmt *st = store_stmt(s, sql);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 5);
    sqlite3_stmt *again = store_stmt(s, sql);
    assert_ptr_equal(st, again);
    assert_int_equal(sqlite3_step(again), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(again, 0), 5);
    assert_null(store_stmt(s, "SELECT nonsense FROM nowhere"));
    store_destroy(&s);
}

/* stderr goes to a file between capture_begin and capture_end, which
 * returns what was written (static buffer). */
static int saved_stderr = -1;
static FILE *captured;

static void capture_begin(void)
{
    fflush(stderr);
    captured = tmpfile();
    assert_non_null(captured);
    saved_stderr = dup(2);
    dup2(fileno(captured), 2);
}

static const char *capture_end(void)
{
    static char text[8192];
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    rewind(captured);
    size_t n = fread(text, 1, sizeof text - 1, captured);
    text[n] = '\0';
    fclose(captured);
    return text;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static store_t *open_test_store(void)
{
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, 3, err, sizeof err);
    assert_non_null(s);
    return s;
}

static int64_t select_int(store_t *s, const char *sql)
{
    sqlite3_stmt *st = store_stmt(s, sql);
    assert_non_null(st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

static void test_statement_cache_keys_by_sql_text_not_address(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    char sql[64];
    /* One buffer, three texts: each must get its own statement. */
    for (int i = 1; i <= 3; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i * 10);
        assert_int_equal(select_int(s, sql), i * 10);
    }
    /* The same text from another address finds the same statement. */
    char *copy = strdup("SELECT 20");
    snprintf(sql, sizeof sql, "SELECT 20");
    assert_ptr_equal(store_stmt(s, copy), store_stmt(s, sql));
    free(copy);
    store_destroy(&s);
}

/* A cached statement whose LIKE compares with a parameter must stay
 * compiled when the parameter is bound again: SQLite would otherwise
 * recompile it on the next step (to try the LIKE optimization with the new
 * value), which cost the registry's lists ten times their work. */
static void test_statement_with_a_like_parameter_is_not_recompiled_when_rebound(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    assert_int_equal(store_exec(s, "INSERT INTO a(x, y) VALUES(1, 'saint-leonard'), "
                                   "(2, 'cote-des-neiges')"),
                     0);
    static const char sql[] = "SELECT count(*) FROM a WHERE y LIKE :p";
    const char *patterns[] = {"%leonard%", "%neiges%", "%e%", "%nowhere%"};
    const int counts[] = {1, 1, 2, 0};
    for (int i = 0; i < 4; i++) {
        sqlite3_stmt *st = store_stmt(s, sql);
        assert_non_null(st);
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":p"), patterns[i], -1,
                          SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), counts[i]);
        assert_int_equal(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0), 0);
        sqlite3_reset(st);
    }
    store_destroy(&s);
}

static void test_statement_cache_grows_past_256_statements(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    enum { N = 600 };
    char *texts[N];
    for (int i = 0; i < N; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + 0", i);
        texts[i] = strdup(sql);
        assert_int_equal(select_int(s, texts[i]), i);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(select_int(s, texts[i]), i);
        free(texts[i]);
    }
    store_destroy(&s);
}

static void test_statement_cache_limit_is_a_checked_error(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    char sql[64];
    int cached = 0;
    for (int i = 0; i < STORE_MAX_STATEMENTS + 10; i++) {
        snprintf(sql, sizeof sql, "SELECT %d - 0", i);
        if (store_stmt(s, sql))
            cached++;
    }
    /* A few slots went to the runtime's own statements at open. */
    assert_true(cached > STORE_MAX_STATEMENTS - 20 && cached < STORE_MAX_STATEMENTS);
    snprintf(sql, sizeof sql, "SELECT %d - 0", STORE_MAX_STATEMENTS + 5);
    assert_null(store_stmt(s, sql));
    /* Statements already cached are still served. */
    assert_int_equal(select_int(s, "SELECT 1 - 0"), 1);
    store_destroy(&s);
}

static void test_sql_holding_two_statements_is_refused(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    assert_null(store_stmt(s, "SELECT 1; SELECT 2"));
    assert_non_null(store_stmt(s, "SELECT 1;  "));
    store_destroy(&s);
}

static void test_store_functions_return_zero_or_minus_one(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    assert_int_equal(store_exec(s, "INSERT INTO a(x) VALUES(1)"), 0);
    assert_int_equal(store_exec(s, "INSERT INTO nowhere VALUES(1)"), -1);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_begin(s), -1);
    assert_int_equal(store_release(s, 3), -1); /* no such savepoint */
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_commit(s), -1);
    store_destroy(&s);
}

static void test_rollback_without_a_transaction_is_quiet(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    log_set_level(LOG_DEBUG);
    capture_begin();
    int rc = store_rollback(s);
    const char *text = capture_end();
    log_set_level(LOG_ERROR);
    assert_int_equal(rc, 0);
    assert_string_equal(text, "");
    store_destroy(&s);
}

/* A commit that fails as on a full disk: one clear error line, the
 * transaction is over (nothing to roll back, no "cannot rollback" line),
 * nothing of it is kept, and the store works again once there is room. */
static void test_failed_commit_logs_one_line_and_ends_the_transaction(void **state)
{
    (void)state;
    assert_int_equal(faultvfs_install(), 0);
    store_t *s = open_test_store();
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_exec(s, "INSERT INTO a(x) VALUES(7)"), 0);
    faultvfs_fail_writes("-wal");
    capture_begin();
    int rc = store_commit(s);
    if (store_in_transaction(s))
        store_rollback(s);
    const char *text = capture_end();
    faultvfs_fail_writes(NULL);
    assert_int_equal(rc, -1);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "level=error"));
    assert_non_null(strstr(text, "commit failed"));
    assert_null(strstr(text, "cannot rollback"));
    assert_false(store_in_transaction(s));
    assert_int_equal(select_int(s, "SELECT count(*) FROM a"), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_exec(s, "INSERT INTO a(x) VALUES(8)"), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(select_int(s, "SELECT count(*) FROM a"), 1);
    store_destroy(&s);
}

/* Whatever may change a read changes the version: a write, a write rolled
 * back (the count of changes does not go back), a savepoint rolled back,
 * a commit by another connection; a read does not. */
static void test_version_moves_with_every_write_and_rollback(void **state)
{
    (void)state;
    store_t *s = open_test_store();
    store_version_t a, b;
    assert_int_equal(store_version(s, &a), 0);
    select_int(s, "SELECT count(*) FROM a");
    assert_int_equal(store_version(s, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);

    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_exec(s, "INSERT INTO a(x) VALUES(1)"), 0);
    assert_int_equal(store_rollback(s), 0);
    assert_int_equal(store_version(s, &b), 0);
    assert_memory_not_equal(&a, &b, sizeof a);

    assert_int_equal(store_begin(s), 0);
    int sp = store_savepoint(s);
    assert_int_equal(store_version(s, &a), 0);
    assert_int_equal(store_rollback_to(s, sp), 0);
    assert_int_equal(store_version(s, &b), 0);
    assert_memory_not_equal(&a, &b, sizeof a);
    assert_int_equal(store_commit(s), 0);

    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(store_version(s, &a), 0);
    assert_int_equal(sqlite3_exec(other, "INSERT INTO a(x) VALUES(2)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(store_version(s, &b), 0);
    assert_memory_not_equal(&a, &b, sizeof a);
    store_destroy(&s);
}

static void test_bad_synchronous_setting_is_refused(void **state)
{
    (void)state;
    char err[256];
    store_options_t opt = {path, "OFF", 0};
    assert_null(store_open(&opt, steps, 3, err, sizeof err));
    assert_non_null(strstr(err, "FULL or NORMAL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_store_is_fully_migrated_with_safe_pragmas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_at_version_1_is_upgraded_to_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_newer_than_program_is_refused_clearly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_leaves_previous_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_savepoint_rollback_keeps_outer_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_savepoints_past_the_limit_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_returns_reset_statement, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_synchronous_setting_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_keys_by_sql_text_not_address, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_grows_past_256_statements, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_statement_with_a_like_parameter_is_not_recompiled_when_rebound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_limit_is_a_checked_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sql_holding_two_statements_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_functions_return_zero_or_minus_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_without_a_transaction_is_quiet, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_logs_one_line_and_ends_the_transaction,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_moves_with_every_write_and_rollback, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
