/* ctx: problems and how they are answered, violation names (proto paths,
 * CSV cells), database errors translated, the call's own values. */
#include "toolkit_fixture.h"

static const char schema[] = "CREATE TABLE parent(id TEXT PRIMARY KEY);"
                             "CREATE TABLE child(id TEXT PRIMARY KEY,"
                             " parent TEXT REFERENCES parent(id), n INTEGER CHECK(n >= 0));"
                             "INSERT INTO parent VALUES('p1');";

static int setup(void **state)
{
    return fixture_setup(state, schema);
}

static int two_problems(ctx_t *ctx)
{
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "table.name", "is %s", "bad");
    ctx_violation(ctx, STATUS_NOT_FOUND, "table.territory_id", "is not registered");
    assert_int_equal(ctx->problems, 2);
    assert_int_equal(ctx->last_status, STATUS_NOT_FOUND);
    return 0;
}

static void test_first_problem_sets_the_answer_and_every_one_is_listed(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, two_problems);
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_string_equal(r->message, "table.name: is bad (and 1 more problem)");
    assert_int_equal(r->n_fields, 2);
    assert_string_equal(fixture_violation(r, "table.territory_id"), "is not registered");
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

/* A quiet second context records its problem for the handler alone. */
static int quiet_check(ctx_t *ctx)
{
    ctx_t check;
    ctx_init(&check, ctx->call);
    check.quiet = 1;
    ctx_violation(&check, STATUS_FAILED_PRECONDITION, "status", "is not allowed now");
    assert_int_equal(check.problems, 1);
    assert_int_equal(check.status, STATUS_FAILED_PRECONDITION);
    assert_string_equal(check.message, "status: is not allowed now");
    return 0;
}

static void test_a_quiet_context_adds_no_violation_to_the_answer(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, quiet_check);
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(r->n_fields, 0);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static int naming_other_fields(ctx_t *ctx)
{
    ctx_violation(ctx, STATUS_NOT_FOUND, "table.territory_id", "must be set before %s and %s",
                  ctx_name(ctx, "mandataire_id"), ctx_name(ctx, "founding_year"));
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "table.languages[1]", "is bad");
    return 0;
}

static void test_over_http_fields_and_message_use_json_names(void **state)
{
    fixture_json_names = 1;
    Concerto__Common__V1__Reply *r = fixture_run(*state, naming_other_fields);
    assert_string_equal(r->message, "table.territoryId: must be set before mandataireId and "
                                    "foundingYear (and 1 more problem)");
    assert_non_null(fixture_violation(r, "table.territoryId"));
    assert_non_null(fixture_violation(r, "table.languages[1]"));
    concerto__common__v1__reply__free_unpacked(r, NULL);
    r = fixture_run(*state, naming_other_fields);
    assert_string_equal(r->message, "table.territory_id: must be set before mandataire_id and "
                                    "founding_year (and 1 more problem)");
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static int in_a_csv_cell(ctx_t *ctx)
{
    ctx->file = "tables.csv";
    ctx->line = 12;
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "table.contact.email", "is bad");
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "table.languages[1]", "is bad");
    ctx_problem(ctx, STATUS_INVALID_ARGUMENT, "a whole line is wrong");
    return 0;
}

static void test_during_an_import_violations_name_the_cell(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, in_a_csv_cell);
    assert_non_null(fixture_violation(r, "tables.csv:12:email"));
    assert_non_null(fixture_violation(r, "tables.csv:12:languages"));
    assert_string_equal(fixture_violation(r, "tables.csv:12"), "a whole line is wrong");
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static status_t insert_child(ctx_t *ctx, const char *id, const char *parent, int n)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO child VALUES(?, ?, ?)");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, n);
    return ctx_step(ctx, st, "child.id");
}

static int constraint_failures(ctx_t *ctx)
{
    assert_int_equal(insert_child(ctx, "c1", "p1", 1), STATUS_OK);
    assert_int_equal(insert_child(ctx, "c1", "p1", 1), STATUS_CONFLICT);
    assert_int_equal(insert_child(ctx, "c2", "nobody", 1), STATUS_NOT_FOUND);
    assert_int_equal(insert_child(ctx, "c3", "p1", -1), STATUS_INVALID_ARGUMENT);
    assert_true(ctx_exists(ctx, "SELECT 1 FROM child WHERE id = ?", "c1"));
    assert_false(ctx_exists(ctx, "SELECT 1 FROM child WHERE id = ?", "c2"));
    return 0;
}

static void test_constraint_failures_become_statuses(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, constraint_failures);
    assert_int_equal(r->status, STATUS_CONFLICT);
    assert_string_equal(r->message, "child.id: is already registered (and 2 more problems)");
    assert_int_equal(r->n_fields, 3);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    /* The failed command left nothing behind. */
    assert_int_equal(fixture_count(*state, "SELECT count(*) FROM child"), 0);
}

static int requiring_rows(ctx_t *ctx)
{
    assert_true(ctx_require(ctx, "SELECT 1 FROM parent WHERE id = ?", "parent", "parent", "p1"));
    assert_int_equal(ctx->problems, 0);
    assert_false(ctx_require(ctx, "SELECT 1 FROM parent WHERE id = ?", "parent", "parent", "p9"));
    /* A lookup that fails is its own problem, not "not registered". */
    assert_false(ctx_require(ctx, "SELECT 1 FROM nowhere WHERE id = ?", "other", "thing", "x"));
    return 0;
}

static void test_a_required_row_that_is_missing_is_not_found(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, requiring_rows);
    assert_int_equal(r->status, STATUS_NOT_FOUND);
    assert_string_equal(fixture_violation(r, "parent"), "parent p9 is not registered");
    assert_int_equal(r->n_fields, 1);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static int own_values(ctx_t *ctx)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT :now, :today, :actor, :caller_public");
    ctx_bind(ctx, st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    /* The fixture's envelope names no caller: not a public one. */
    assert_int_equal(sqlite3_column_int(st, 3), 0);
    assert_int_equal(sqlite3_column_int64(st, 0), service_call_now_ms(ctx->call));
    assert_string_equal((const char *)sqlite3_column_text(st, 1), ctx->today);
    assert_int_equal(strlen(ctx->today), 10);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "operator:alice");
    sqlite3_reset(st);
    return 0;
}

/* Rows read into messages, up to a maximum. */
static int read_rows(ctx_t *ctx)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT 'p' || value AS string_value, value AS int32_value"
                                     " FROM (SELECT 1 AS value UNION ALL SELECT 2"
                                     " UNION ALL SELECT 3) ORDER BY value");
    ProtobufCMessage **rows = NULL;
    int more = 0;
    size_t n = ctx_read_all(ctx, st, &concerto__test__v1__all_kinds__descriptor, 2, &rows, &more);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(((Concerto__Test__V1__AllKinds *)rows[1])->string_value, "p2");
    assert_int_equal(((Concerto__Test__V1__AllKinds *)rows[1])->int32_value, 2);
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(rows[i], NULL);
    free(rows);
    n = ctx_read_all(ctx, st, &concerto__test__v1__all_kinds__descriptor, SIZE_MAX, &rows, &more);
    assert_int_equal(n, 3);
    assert_false(more);
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(rows[i], NULL);
    free(rows);
    return 0;
}

static void test_rows_are_read_into_messages(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, read_rows);
    assert_int_equal(r->status, STATUS_OK);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_the_call_binds_its_own_values(void **state)
{
    Concerto__Common__V1__Reply *r = fixture_run(*state, own_values);
    assert_int_equal(r->status, STATUS_OK);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_problem_sets_the_answer_and_every_one_is_listed,
                                        setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_quiet_context_adds_no_violation_to_the_answer, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_over_http_fields_and_message_use_json_names, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_during_an_import_violations_name_the_cell, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_constraint_failures_become_statuses, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_required_row_that_is_missing_is_not_found, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_rows_are_read_into_messages, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_the_call_binds_its_own_values, setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
