/* row: messages read from and bound to SQLite statements by name, every
 * field kind, presence both ways, nested fields, and the plan cache when
 * statements come and go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/jsonmap.pb-c.h"
#include "row.h"

typedef Concerto__Test__V1__AllKinds all_t;
#define ALL_DESC (&concerto__test__v1__all_kinds__descriptor)

static sqlite3 *db;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlite3_close(db);
    return 0;
}

static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    return st;
}

/* The row of `sql` (one row) as an AllKinds. */
static all_t *read_one(const char *sql)
{
    sqlite3_stmt *st = prepare(sql);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    all_t *m = (all_t *)row_read(st, ALL_DESC);
    sqlite3_finalize(st);
    return m;
}

static void test_read_sets_every_kind_by_column_name(void **state)
{
    (void)state;
    all_t *m = read_one("SELECT -5 AS int32_value, 9000000000 AS int64_value,"
                        " 4000000000 AS uint32_value, -1 AS uint64_value, -7 AS sint32_value,"
                        " 7 AS fixed32_value, 1 AS bool_value, 2.5 AS double_value,"
                        " 0.25 AS float_value, 'Côte' AS string_value, X'00FF' AS bytes_value,"
                        " 2 AS color, 'x' AS tags, 'not a field' AS nothing_here");
    assert_true(m->has_int32_value && m->int32_value == -5);
    assert_true(m->has_int64_value && m->int64_value == 9000000000LL);
    assert_true(m->has_uint32_value && m->uint32_value == 4000000000U);
    assert_true(m->has_uint64_value && m->uint64_value == UINT64_MAX);
    assert_true(m->has_sint32_value && m->sint32_value == -7);
    assert_true(m->has_fixed32_value && m->fixed32_value == 7);
    assert_true(m->has_bool_value && m->bool_value);
    assert_true(m->has_double_value && m->double_value == 2.5);
    assert_true(m->has_float_value && m->float_value == 0.25f);
    assert_string_equal(m->string_value, "Côte");
    assert_true(m->has_bytes_value && m->bytes_value.len == 2);
    assert_memory_equal(m->bytes_value.data, "\x00\xFF", 2);
    assert_true(m->has_color && m->color == CONCERTO__TEST__V1__COLOR__COLOR_GREEN);
    /* Repeated fields and columns that name no field are left alone. */
    assert_int_equal(m->n_tags, 0);
    assert_false(m->has_sint64_value);
    assert_null(m->contact);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_read_null_is_absent_and_nested_fields_make_their_message(void **state)
{
    (void)state;
    all_t *m = read_one("SELECT NULL AS int32_value, NULL AS string_value,"
                        " 'a@b.ca' AS contact__email, '1 rue X' AS contact__address__street,"
                        " NULL AS tree__name, 'n' AS choice_name");
    assert_false(m->has_int32_value);
    assert_null(m->string_value);
    assert_non_null(m->contact);
    assert_string_equal(m->contact->email, "a@b.ca");
    assert_null(m->contact->phone_number);
    assert_non_null(m->contact->address);
    assert_string_equal(m->contact->address->street, "1 rue X");
    /* A sub-message whose columns are all NULL stays absent. */
    assert_null(m->tree);
    assert_int_equal(m->choice_case, CONCERTO__TEST__V1__ALL_KINDS__CHOICE_CHOICE_NAME);
    assert_string_equal(m->choice_name, "n");
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_bind_sets_named_parameters_and_null_for_absent(void **state)
{
    (void)state;
    Concerto__Test__V1__Address a = CONCERTO__TEST__V1__ADDRESS__INIT;
    Concerto__Test__V1__Contact c = CONCERTO__TEST__V1__CONTACT__INIT;
    all_t m = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    a.street = "1 rue X";
    c.address = &a;
    c.email = ""; /* empty text is stored as NULL */
    m.contact = &c;
    m.has_int32_value = 1;
    m.int32_value = -3;
    m.has_uint64_value = 1;
    m.uint64_value = 5;
    m.has_bool_value = 1;
    m.bool_value = 1;
    m.string_value = "s";
    m.has_color = 1;
    m.color = CONCERTO__TEST__V1__COLOR__COLOR_BLUE;
    sqlite3_stmt *st = prepare("SELECT :int32_value, @uint64_value, $bool_value, :string_value,"
                               " :contact__email, :contact__address__street, :color,"
                               " :int64_value, :tree__name, :greeting, :mine, ?");
    row_bind(st, &m.base);
    row_bind_text(st, ":mine", "handler's");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), -3);
    assert_int_equal(sqlite3_column_int(st, 1), 5);
    assert_int_equal(sqlite3_column_int(st, 2), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "s");
    assert_int_equal(sqlite3_column_type(st, 4), SQLITE_NULL);
    assert_string_equal((const char *)sqlite3_column_text(st, 5), "1 rue X");
    assert_int_equal(sqlite3_column_int(st, 6), 3);
    assert_int_equal(sqlite3_column_type(st, 7), SQLITE_NULL); /* absent */
    assert_int_equal(sqlite3_column_type(st, 8), SQLITE_NULL); /* absent sub-message */
    assert_int_equal(sqlite3_column_type(st, 9), SQLITE_NULL); /* only its default */
    char *mine = row_text(st, 10);
    assert_string_equal(mine, "handler's");
    free(mine);
    assert_null(row_text(st, 11));
    sqlite3_finalize(st);
}

/* What is bound is read back the same. */
static void test_bind_then_read_round_trips(void **state)
{
    (void)state;
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t(i INTEGER, s TEXT, b BLOB, d REAL, e TEXT,"
                                  " street TEXT, ok INTEGER)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    Concerto__Test__V1__Address a = CONCERTO__TEST__V1__ADDRESS__INIT;
    Concerto__Test__V1__Contact c = CONCERTO__TEST__V1__CONTACT__INIT;
    all_t m = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    a.street = "2 rue Y";
    c.address = &a;
    c.email = "x@y.ca";
    m.contact = &c;
    m.has_sint64_value = 1;
    m.sint64_value = -123456789012LL;
    m.string_value = "Notre-Dame-de-Grâce";
    m.has_bytes_value = 1;
    m.bytes_value.data = (uint8_t *)"\x01\x02\x03";
    m.bytes_value.len = 3;
    m.has_double_value = 1;
    m.double_value = -0.5;
    m.has_bool_value = 1;
    m.bool_value = 0;
    sqlite3_stmt *st = prepare("INSERT INTO t VALUES(:sint64_value, :string_value, :bytes_value,"
                               " :double_value, :contact__email, :contact__address__street,"
                               " :bool_value)");
    row_bind(st, &m.base);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    all_t *back = read_one("SELECT i AS sint64_value, s AS string_value, b AS bytes_value,"
                           " d AS double_value, e AS contact__email,"
                           " street AS contact__address__street, ok AS bool_value FROM t");
    size_t n1 = protobuf_c_message_get_packed_size(&m.base);
    size_t n2 = protobuf_c_message_get_packed_size(&back->base);
    assert_int_equal(n1, n2);
    uint8_t *p1 = malloc(n1), *p2 = malloc(n2);
    protobuf_c_message_pack(&m.base, p1);
    protobuf_c_message_pack(&back->base, p2);
    assert_memory_equal(p1, p2, n1);
    free(p1);
    free(p2);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

/* Plans are cached by SQL text: a statement prepared anew (perhaps at a
 * freed one's address) with other columns is mapped by its own names. */
static void test_statements_that_come_and_go_map_by_their_own_names(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        all_t *m = read_one(i % 2 ? "SELECT 'a' AS string_value, 1 AS int32_value"
                                  : "SELECT 'a' AS greeting, 2 AS answer");
        if (i % 2) {
            assert_string_equal(m->string_value, "a");
            assert_true(m->has_int32_value && m->int32_value == 1);
            assert_false(m->has_answer);
        } else {
            assert_null(m->string_value);
            assert_string_equal(m->greeting, "a");
            assert_true(m->has_answer && m->answer == 2);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    /* The same statement read into two message types. */
    sqlite3_stmt *st = prepare("SELECT 'p' AS street, 'e' AS email");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    Concerto__Test__V1__Address *a = (void *)row_read(st, &concerto__test__v1__address__descriptor);
    Concerto__Test__V1__Contact *c = (void *)row_read(st, &concerto__test__v1__contact__descriptor);
    assert_string_equal(a->street, "p");
    assert_string_equal(c->email, "e");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    sqlite3_finalize(st);
}

static void test_a_column_is_found_by_its_name(void **state)
{
    (void)state;
    sqlite3_stmt *st = prepare("SELECT 1 AS a, 'x' AS parts_text");
    assert_int_equal(row_column(st, "a"), 0);
    assert_int_equal(row_column(st, "parts_text"), 1);
    assert_int_equal(row_column(st, "nothing"), -1);
    sqlite3_finalize(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_sets_every_kind_by_column_name, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_read_null_is_absent_and_nested_fields_make_their_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_sets_named_parameters_and_null_for_absent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bind_then_read_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_column_is_found_by_its_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements_that_come_and_go_map_by_their_own_names,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
