/* csv_file: CSV parsing with libcsv, line numbers and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv_file.h"

static const csv_file_limits_t lim = {100, 10, 50};

static csv_file_t *parse_ok(const char *text)
{
    csv_file_t *csv = NULL;
    csv_file_error_t err;
    assert_int_equal(csv_file_parse(text, strlen(text), &lim, &csv, &err), 0);
    assert_non_null(csv);
    return csv;
}

static csv_file_error_t parse_fails(const char *text, const csv_file_limits_t *l)
{
    csv_file_t *csv = NULL;
    csv_file_error_t err;
    assert_int_equal(csv_file_parse(text, strlen(text), l, &csv, &err), -1);
    assert_null(csv);
    return err;
}

static void test_semicolons_as_excel_saves_in_french(void **state)
{
    (void)state;
    csv_file_t *csv = parse_ok("\xEF\xBB\xBFid;name;notes\r\ntqmn;\"Table; Nord, Montréal\";"
                               "\"1,5 km\"\r\n");
    assert_int_equal(csv->n_columns, 3);
    assert_string_equal(csv_file_cell(&csv->rows[0], 1), "Table; Nord, Montréal");
    assert_string_equal(csv_file_cell(&csv->rows[0], 2), "1,5 km");
    csv_file_destroy(&csv);
    /* Decided by the header alone; commas win a tie, and quoted ones do
     * not count. */
    assert_int_equal(csv_file_delimiter("a;b,c\nx;y;z;w", 13), ',');
    assert_int_equal(csv_file_delimiter("\"a,b,c\";d;e", 11), ';');
    assert_int_equal(csv_file_delimiter("id", 2), ',');
}

static void test_parses_header_rows_and_quoted_fields(void **state)
{
    (void)state;
    csv_file_t *csv =
        parse_ok("id,name,notes\ntqmn,\"Table de quartier, Nord\",\"a \"\"quote\"\"\"\n");
    assert_int_equal(csv->n_columns, 3);
    assert_int_equal(csv->n_rows, 1);
    assert_int_equal(csv_file_column(csv, "name"), 1);
    assert_int_equal(csv_file_column(csv, "nope"), -1);
    assert_string_equal(csv_file_cell(&csv->rows[0], 1), "Table de quartier, Nord");
    assert_string_equal(csv_file_cell(&csv->rows[0], 2), "a \"quote\"");
    assert_int_equal(csv->rows[0].line, 2);
    csv_file_destroy(&csv);
    assert_null(csv);
}

static void test_keeps_line_numbers_across_blank_lines_and_crlf(void **state)
{
    (void)state;
    csv_file_t *csv = parse_ok("\xEF\xBB\xBF"
                               "id,name\r\na,A\r\n\r\nb,B\r\n,\nc,\"multi\nline\"\n");
    assert_string_equal(csv->columns[0], "id");
    assert_int_equal(csv->n_rows, 3);
    assert_int_equal(csv->rows[0].line, 2);
    assert_int_equal(csv->rows[1].line, 4);
    assert_int_equal(csv->rows[2].line, 6);
    assert_string_equal(csv_file_cell(&csv->rows[2], 1), "multi\nline");
    csv_file_destroy(&csv);
}

static void test_empty_cells_read_as_absent(void **state)
{
    (void)state;
    csv_file_t *csv = parse_ok("a,b,c\n1,,3");
    assert_null(csv_file_cell(&csv->rows[0], 1));
    assert_string_equal(csv_file_cell(&csv->rows[0], 2), "3");
    assert_null(csv_file_cell(&csv->rows[0], -1));
    csv_file_destroy(&csv);
}

static void test_rejects_a_row_with_the_wrong_field_count(void **state)
{
    (void)state;
    csv_file_error_t err = parse_fails("a,b\n1,2\n1,2,3\n", &lim);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.message, "3 fields"));
}

static void test_rejects_malformed_quotes_with_their_line(void **state)
{
    (void)state;
    csv_file_error_t err = parse_fails("a,b\n1,2\n3,\"x\"y\n", &lim);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.message, "malformed"));
    err = parse_fails("a,b\n1,2\n1,\"never closed\n\n", &lim);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.message, "not closed"));
}

static void test_rejects_duplicate_or_empty_header_columns(void **state)
{
    (void)state;
    csv_file_error_t err = parse_fails("id,name,id\n", &lim);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.message, "twice"));
    err = parse_fails("id,,name\n", &lim);
    assert_non_null(strstr(err.message, "empty"));
    err = parse_fails("", &lim);
    assert_non_null(strstr(err.message, "no header"));
}

static void test_enforces_row_column_and_cell_limits(void **state)
{
    (void)state;
    csv_file_limits_t small = {2, 3, 5};
    csv_file_error_t err = parse_fails("a\n1\n2\n3\n", &small);
    assert_int_equal(err.line, 4);
    assert_non_null(strstr(err.message, "more than 2 rows"));
    err = parse_fails("a,b,c,d\n", &small);
    assert_non_null(strstr(err.message, "more than 3 fields"));
    err = parse_fails("a\n123456\n", &small);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "longer than 5"));
}

/* A temporary file holding `n` bytes of `text`, opened for reading. */
static FILE *file_of(const char *text, size_t n)
{
    FILE *fp = tmpfile();
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, n, fp), n);
    rewind(fp);
    return fp;
}

static void test_reads_a_whole_file_within_its_limit(void **state)
{
    (void)state;
    char err[160];
    size_t len = 0;
    char *text = csv_file_read(file_of("a,b\n1,2\n", 8), "t.csv", 8, &len, err, sizeof err);
    assert_non_null(text);
    assert_int_equal(len, 8);
    assert_string_equal(text, "a,b\n1,2\n");
    free(text);
    assert_null(csv_file_read(file_of("a,b\n1,2\n", 8), "t.csv", 7, &len, err, sizeof err));
    assert_string_equal(err, "t.csv is larger than 7 bytes");
    assert_null(csv_file_read(file_of("a\0b", 3), "t.csv", 8, &len, err, sizeof err));
    assert_non_null(strstr(err, "NUL byte"));
    assert_null(csv_file_read(fopen("/nonexistent/x.csv", "rb"), "/nonexistent/x.csv", 8, &len, err,
                              sizeof err));
    assert_non_null(strstr(err, "cannot open /nonexistent/x.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_header_rows_and_quoted_fields),
        cmocka_unit_test(test_semicolons_as_excel_saves_in_french),
        cmocka_unit_test(test_keeps_line_numbers_across_blank_lines_and_crlf),
        cmocka_unit_test(test_empty_cells_read_as_absent),
        cmocka_unit_test(test_rejects_a_row_with_the_wrong_field_count),
        cmocka_unit_test(test_rejects_malformed_quotes_with_their_line),
        cmocka_unit_test(test_rejects_duplicate_or_empty_header_columns),
        cmocka_unit_test(test_enforces_row_column_and_cell_limits),
        cmocka_unit_test(test_reads_a_whole_file_within_its_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
