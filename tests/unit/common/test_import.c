/* import: the all-or-nothing CSV frame: request checks, headers, rows
 * applied in kind order with each problem placed in its cell, the problem
 * limit, and reading a folder. */
#include "toolkit_fixture.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import.h"

static const char schema[] = "CREATE TABLE parent(id TEXT PRIMARY KEY, note TEXT);"
                             "CREATE TABLE child(id TEXT PRIMARY KEY,"
                             " parent TEXT NOT NULL REFERENCES parent(id), n INTEGER, ok INTEGER)";

static int setup(void **state)
{
    return fixture_setup(state, schema);
}

static int apply_parent(ctx_t *ctx, const import_row_t *row, void *arg)
{
    (void)arg;
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO parent VALUES(?, ?)");
    sqlite3_bind_text(st, 1, import_cell(row, "id"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, import_cell(row, "note"), -1, SQLITE_TRANSIENT);
    return ctx_step(ctx, st, "id") == STATUS_OK;
}

static int apply_child(ctx_t *ctx, const import_row_t *row, void *arg)
{
    (void)arg;
    int64_t n = 0;
    protobuf_c_boolean ok = 0;
    int has_n = import_cell_int(ctx, row, "n", &n);
    int has_ok = import_cell_bool(ctx, row, "ok", &ok);
    if (has_n < 0 || has_ok < 0)
        return 0;
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO child VALUES(?, ?, ?, ?)");
    sqlite3_bind_text(st, 1, import_cell(row, "id"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, import_cell(row, "parent"), -1, SQLITE_TRANSIENT);
    if (has_n)
        sqlite3_bind_int64(st, 3, n);
    if (has_ok)
        sqlite3_bind_int(st, 4, ok);
    return ctx_step(ctx, st, "parent") == STATUS_OK;
}

static const char *const parent_required[] = {"id", NULL};
static const char *const parent_optional[] = {"note", NULL};
static const char *const child_required[] = {"id", "parent", NULL};
static const char *const child_optional[] = {"n", "ok", NULL};
static const import_kind_t kinds[] = {
    {"parents", parent_required, parent_optional, apply_parent},
    {"children", child_required, child_optional, apply_child},
};

static import_file_t files[4];
static size_t n_files;
static unsigned counts[2];

static int run_import(ctx_t *ctx)
{
    if (import_run(ctx, kinds, 2, files, n_files, NULL, counts) != 0)
        return import_fail(ctx);
    return 0;
}

static Concerto__Common__V1__Reply *import(fixture_t *f, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        files[i].kind = va_arg(ap, const char *);
        files[i].name = NULL;
        files[i].content = va_arg(ap, const char *);
    }
    va_end(ap);
    n_files = n;
    return fixture_run(f, run_import);
}

static void test_kinds_apply_in_their_order_and_are_counted(void **state)
{
    /* The children's file comes first but is applied after the parents'. */
    Concerto__Common__V1__Reply *r =
        import(*state, 2, "children", "id,parent,n,ok\nc1,p1,3,oui\nc2,p2,,no\n", "parents",
               "\xEF\xBB\xBFid,note\np1,\"a, b\"\np2,\n");
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 2);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    assert_int_equal(fixture_count(*state, "SELECT count(*) FROM child WHERE ok = 1 AND n = 3"), 1);
}

static void test_request_checks_name_the_file(void **state)
{
    files[0] = (import_file_t){"parents", "a:b.csv", "id\n"};
    files[1] = (import_file_t){"strangers", NULL, "id\n"};
    n_files = 2;
    Concerto__Common__V1__Reply *r = fixture_run(*state, run_import);
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(fixture_violation(r, "files[0].name"), "without ':'"));
    assert_string_equal(fixture_violation(r, "files[1].kind"), "must be one of: parents, children");
    assert_non_null(strstr(r->message, "nothing was written: 2 problems"));
    concerto__common__v1__reply__free_unpacked(r, NULL);
    r = import(*state, 2, "parents", "id\n", "parents", "id\n");
    assert_string_equal(fixture_violation(r, "files[1].kind"), "parents appears twice");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    r = import(*state, 3, "parents", "id\n", "children", "id\n", "parents", "id\n");
    assert_string_equal(fixture_violation(r, "files"), "must hold 1 to 2 files");
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_headers_and_cells_are_placed(void **state)
{
    Concerto__Common__V1__Reply *r = import(*state, 2, "parents", "id,colour\np1,red\n", "children",
                                            "id,parent,n\n\"c\n1\",p1,x\n");
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_string_equal(fixture_violation(r, "parents.csv:1:colour"),
                        "is not a column of parents files");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    /* Lines are physical: a quoted line break moves the rows after it. */
    r = import(*state, 2, "parents", "id\np1\n", "children",
               "id,parent,n\nc1,p1,\"x\ny\"\nc2,p1,z\n");
    assert_string_equal(fixture_violation(r, "children.csv:2:n"), "must be a whole number");
    assert_string_equal(fixture_violation(r, "children.csv:4:n"), "must be a whole number");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    r = import(*state, 1, "children", "id,n\nc1,1\n");
    assert_string_equal(fixture_violation(r, "children.csv:1:parent"),
                        "column is missing from the header");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    r = import(*state, 1, "parents", "id\n\"p1\n");
    assert_non_null(strstr(fixture_violation(r, "parents.csv:2"), "malformed CSV"));
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_a_failed_import_writes_nothing_and_stops_at_the_limit(void **state)
{
    /* Rows whose parent is unknown: each is a problem, up to the limit. */
    char *text = malloc(64 * 200 + 64);
    strcpy(text, "id,parent\n");
    for (int i = 0; i < 150; i++)
        sprintf(text + strlen(text), "c%d,nobody\n", i);
    Concerto__Common__V1__Reply *r = import(*state, 2, "parents", "id\np1\n", "children", text);
    /* 100 rows refused, then the stop: a reply lists 100 violations and
     * counts the rest. */
    assert_int_equal(r->status, STATUS_NOT_FOUND);
    assert_non_null(strstr(r->message, "nothing was written: 101 problems"));
    assert_int_equal(r->n_fields, IMPORT_MAX_PROBLEMS + 1);
    assert_non_null(fixture_violation(r, "children.csv:101:parent"));
    assert_string_equal(fixture_violation(r, ""), "and 1 more problem, not listed");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    free(text);
    assert_int_equal(fixture_count(*state, "SELECT count(*) FROM parent"), 0);
}

static void test_a_folder_gives_the_files_it_has(void **state)
{
    (void)state;
    char dir[] = "/tmp/concerto-import-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256], *contents[2];
    assert_int_equal(import_read_dir(dir, kinds, 2, NULL, contents, err, sizeof err), -1);
    assert_non_null(strstr(err, "holds none of parents.csv, children.csv"));
    snprintf(path, sizeof path, "%s/children.csv", dir);
    FILE *fp = fopen(path, "w");
    fputs("id,parent\n", fp);
    fclose(fp);
    assert_int_equal(import_read_dir(dir, kinds, 2, NULL, contents, err, sizeof err), 1);
    assert_null(contents[0]);
    assert_string_equal(contents[1], "id,parent\n");
    free(contents[1]);
    fp = fopen(path, "w");
    fwrite("id\0x\n", 1, 5, fp);
    fclose(fp);
    assert_int_equal(import_read_dir(dir, kinds, 2, NULL, contents, err, sizeof err), -1);
    assert_non_null(strstr(err, "NUL byte"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kinds_apply_in_their_order_and_are_counted, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_request_checks_name_the_file, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_headers_and_cells_are_placed, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_import_writes_nothing_and_stops_at_the_limit,
                                        setup, fixture_teardown),
        cmocka_unit_test(test_a_folder_gives_the_files_it_has),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
