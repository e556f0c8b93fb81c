/* Backup: names, steps, the rename at the end, refusal to overwrite, and a
 * destination that fails like a full disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup.h"
#include "faultvfs.h"
#include "log.h"

typedef struct {
    char root[64];
    char dir[96];
    sqlite3 *src;
} fixture_t;

static int exists(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static int64_t count_rows(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static int setup(void **state)
{
    log_set_level(LOG_ERROR);
    assert_int_equal(faultvfs_install(), 0);
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/concerto-test-backup-%d", (int)getpid());
    snprintf(f->dir, sizeof f->dir, "%s/backups/unit", f->root);
    char src[128];
    mkdir(f->root, 0700);
    snprintf(src, sizeof src, "%s/src.db", f->root);
    assert_int_equal(sqlite3_open(src, &f->src), SQLITE_OK);
    /* About 300 pages of 4 KiB. */
    assert_int_equal(sqlite3_exec(f->src,
                                  "PRAGMA journal_mode=WAL;"
                                  "CREATE TABLE t(x BLOB);"
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                                  "WHERE i < 300) INSERT INTO t SELECT randomblob(3000) FROM n;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    faultvfs_fail_writes(NULL);
    sqlite3_close(f->src);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->root);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void test_names_are_plain_file_names(void **state)
{
    (void)state;
    const char *good[] = {"registry-2026-11-25.db", "a", "A_b.c-9", ".hidden"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_null(backup_name_problem(good[i]));
    char too_long[BACKUP_MAX_NAME + 2];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    const char *bad[] = {"",    ".",    "..",   "../x.db",   "a/b",    "/etc/passwd",
                         "x y", "é.db", "a\\b", "x.partial", too_long, "tab\t"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_non_null(backup_name_problem(bad[i]));
}

static void test_copy_is_made_in_steps_and_appears_only_when_complete(void **state)
{
    fixture_t *f = *state;
    char err[256];
    backup_t *b = NULL;
    assert_int_equal(backup_start(f->src, f->dir, "b.db", &b, err, sizeof err), 0);
    backup_progress_t p = backup_progress(b);
    assert_int_equal(p.state, BACKUP_RUNNING);
    assert_int_equal(p.pages_done, 0);
    assert_true(p.pages_total > 250);
    assert_int_equal(backup_step(b, 10), BACKUP_RUNNING);
    p = backup_progress(b);
    assert_int_equal(p.pages_done, 10);
    assert_true(p.pages_total > 250);
    assert_false(exists(f->dir, "b.db"));
    assert_true(exists(f->dir, "b.db.partial"));
    /* Writes between steps reach the copy. */
    assert_int_equal(sqlite3_exec(f->src, "INSERT INTO t VALUES(x'01')", NULL, NULL, NULL),
                     SQLITE_OK);
    int steps = 1;
    while (backup_step(b, 10) == BACKUP_RUNNING)
        steps++;
    assert_true(steps > 25);
    p = backup_progress(b);
    assert_int_equal(p.state, BACKUP_DONE);
    assert_int_equal(p.pages_done, p.pages_total);
    assert_true(p.bytes >= 250 * 4096);
    assert_true(exists(f->dir, "b.db"));
    assert_false(exists(f->dir, "b.db.partial"));
    assert_string_equal(backup_path(b) + strlen(backup_path(b)) - strlen("/backups/unit/b.db"),
                        "/backups/unit/b.db");
    assert_int_equal(count_rows(backup_path(b)), 301);
    backup_destroy(&b);
    assert_null(b);
}

static void test_an_existing_file_is_never_overwritten(void **state)
{
    fixture_t *f = *state;
    char err[256];
    backup_t *b = NULL;
    assert_int_equal(backup_start(f->src, f->dir, "b.db", &b, err, sizeof err), 0);
    while (backup_step(b, 100) == BACKUP_RUNNING)
        ;
    backup_destroy(&b);
    assert_int_equal(sqlite3_exec(f->src, "DELETE FROM t", NULL, NULL, NULL), SQLITE_OK);
    backup_t *again = NULL;
    assert_int_equal(backup_start(f->src, f->dir, "b.db", &again, err, sizeof err),
                     BACKUP_ERR_EXISTS);
    assert_null(again);
    assert_non_null(strstr(err, "exists"));
    char path[160];
    snprintf(path, sizeof path, "%s/b.db", f->dir);
    assert_int_equal(count_rows(path), 300);
}

static void test_a_file_that_appears_meanwhile_is_not_overwritten(void **state)
{
    fixture_t *f = *state;
    char err[256];
    backup_t *b = NULL;
    assert_int_equal(backup_start(f->src, f->dir, "late.db", &b, err, sizeof err), 0);
    assert_int_equal(backup_step(b, 10), BACKUP_RUNNING);
    char path[160];
    snprintf(path, sizeof path, "%s/late.db", f->dir);
    FILE *other = fopen(path, "w");
    fputs("someone else's", other);
    fclose(other);
    while (backup_step(b, 100) == BACKUP_RUNNING)
        ;
    backup_progress_t p = backup_progress(b);
    assert_int_equal(p.state, BACKUP_FAILED);
    assert_non_null(strstr(p.error, "exists"));
    assert_false(exists(f->dir, "late.db.partial"));
    other = fopen(path, "r");
    char text[32] = "";
    assert_non_null(fgets(text, sizeof text, other));
    fclose(other);
    assert_string_equal(text, "someone else's");
    backup_destroy(&b);
}

static void test_a_full_disk_fails_the_backup_and_removes_the_partial_file(void **state)
{
    fixture_t *f = *state;
    char err[256];
    backup_t *b = NULL;
    assert_int_equal(backup_start(f->src, f->dir, "full.db", &b, err, sizeof err), 0);
    assert_non_null(b);
    faultvfs_fail_writes(".partial");
    while (backup_step(b, 10) == BACKUP_RUNNING)
        ;
    faultvfs_fail_writes(NULL);
    backup_progress_t p = backup_progress(b);
    assert_int_equal(p.state, BACKUP_FAILED);
    assert_non_null(p.error);
    assert_false(exists(f->dir, "full.db"));
    assert_false(exists(f->dir, "full.db.partial"));
    backup_destroy(&b);
}

static void test_an_abandoned_backup_leaves_nothing(void **state)
{
    fixture_t *f = *state;
    char err[256];
    backup_t *b = NULL;
    assert_int_equal(backup_start(f->src, f->dir, "gone.db", &b, err, sizeof err), 0);
    assert_int_equal(backup_step(b, 10), BACKUP_RUNNING);
    backup_destroy(&b);
    assert_false(exists(f->dir, "gone.db"));
    assert_false(exists(f->dir, "gone.db.partial"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_are_plain_file_names),
        cmocka_unit_test_setup_teardown(test_copy_is_made_in_steps_and_appears_only_when_complete,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_existing_file_is_never_overwritten, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_file_that_appears_meanwhile_is_not_overwritten,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_full_disk_fails_the_backup_and_removes_the_partial_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_abandoned_backup_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
