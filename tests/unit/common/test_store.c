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
    assert_int_equal(store_exec(s, "INSERT INTO a(x) VALUES(42)"), SQLITE_OK);
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
    assert_int_equal(store_begin(s), SQLITE_OK);
    store_exec(s, "INSERT INTO a(x) VALUES(1)");
    int sp = store_savepoint(s);
    assert_true(sp >= 0);
    store_exec(s, "INSERT INTO a(x) VALUES(2)");
    assert_int_equal(store_rollback_to(s, sp), SQLITE_OK);
    sp = store_savepoint(s);
    store_exec(s, "INSERT INTO a(x) VALUES(3)");
    assert_int_equal(store_release(s, sp), SQLITE_OK);
    assert_int_equal(store_commit(s), SQLITE_OK);
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
    assert_int_equal(store_begin(s), SQLITE_OK);
    int sp = -1, first = store_savepoint(s);
    assert_int_equal(first, 1);
    for (int i = 2; i < 8; i++)
        sp = store_savepoint(s);
    assert_int_equal(sp, 7);
    assert_int_equal(store_savepoint(s), -1);
    assert_int_equal(store_release(s, 8), SQLITE_MISUSE);
    assert_int_equal(store_rollback_to(s, -1), SQLITE_MISUSE);
    assert_int_equal(store_rollback_to(s, first), SQLITE_OK);
    assert_int_equal(store_savepoint(s), first);
    assert_int_equal(store_commit(s), SQLITE_OK);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
