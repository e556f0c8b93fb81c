/* csv_writer: documents with a byte-order mark, quoted fields and CRLF,
 * messages as rows, and text that a spreadsheet would run as a formula
 * (CSV injection) written after a ', read back by csv_file without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/jsonmap.pb-c.h"
#include "csv_file.h"
#include "csv_writer.h"

/* The document of one row of `n` text fields, NUL-terminated. */
static char *row_of(const char *const *values, size_t n)
{
    csv_writer_t *w = csv_writer_new();
    for (size_t i = 0; i < n; i++)
        csv_writer_field(w, values[i]);
    csv_writer_end_row(w);
    size_t len = 0;
    uint8_t *bytes = csv_writer_finish(&w, &len);
    assert_null(w);
    char *text = malloc(len + 1);
    memcpy(text, bytes, len);
    text[len] = '\0';
    free(bytes);
    return text;
}

static void test_a_document_has_a_bom_quoted_fields_and_crlf(void **state)
{
    (void)state;
    char *text = row_of((const char *const[]){"Côte-des-Neiges", "dit \"CDN\"", NULL, "a=b"}, 4);
    assert_string_equal(text, "\xEF\xBB\xBF\"Côte-des-Neiges\",\"dit \"\"CDN\"\"\",,\"a=b\"\r\n");
    free(text);
}

static void test_text_that_starts_a_formula_is_written_after_a_quote(void **state)
{
    (void)state;
    const char *const cases[][2] = {
        {"=HYPERLINK(\"http://x.example\",\"clic\")",
         "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"clic\"\")\""},
        {"+cmd|' /C calc'!A0", "\"'+cmd|' /C calc'!A0\""},
        {"-2+3+cmd|' /C calc'!A0", "\"'-2+3+cmd|' /C calc'!A0\""},
        {"@SUM(1+1)*cmd|' /C calc'!A0", "\"'@SUM(1+1)*cmd|' /C calc'!A0\""},
        {"\t=1+1", "\"'\t=1+1\""},
        {"\r=1+1", "\"'\r=1+1\""},
        {"- premier point", "\"'- premier point\""},
        {"Table = concertation", "\"Table = concertation\""},
        {"'déjà entre apostrophes'", "\"'déjà entre apostrophes'\""},
        {"'=A1", "\"''=A1\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = row_of(&cases[i][0], 1);
        size_t n = strlen(cases[i][1]);
        assert_memory_equal(text + 3, cases[i][1], n);
        assert_string_equal(text + 3 + n, "\r\n");
        free(text);
    }
}

static void test_phone_numbers_are_written_as_they_are(void **state)
{
    (void)state;
    const char *const phones[] = {"+1 514 555-0100", "+1 (514) 555-0100 poste 123",
                                  "514.555.0100 x12"};
    for (size_t i = 0; i < 3; i++) {
        char *text = row_of(&phones[i], 1);
        assert_int_equal(text[3], '"');
        assert_int_equal(strncmp(text + 4, phones[i], strlen(phones[i])), 0);
        free(text);
    }
    /* Shaped like a number but not a phone: guarded. */
    char *text = row_of((const char *const[]){"+33 1 23 45 67 89"}, 1);
    assert_string_equal(text + 3, "\"'+33 1 23 45 67 89\"\r\n");
    free(text);
}

static void test_number_fields_are_numbers_and_text_fields_are_guarded(void **state)
{
    (void)state;
    Concerto__Test__V1__AllKinds m = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    m.has_int64_value = 1;
    m.int64_value = -250000;
    m.has_double_value = 1;
    m.double_value = -1.5;
    m.string_value = "-250000";
    char *tags[] = {"=1+1", "ok"};
    m.tags = tags;
    m.n_tags = 2;
    static const csv_column_t columns[] = {
        {"amount_cents", "int64_value"},
        {"ratio", "double_value"},
        {"reference", "string_value"},
        {"tags", "tags"},
        {NULL, NULL},
    };
    csv_writer_t *w = csv_writer_new();
    csv_writer_header(w, columns);
    csv_writer_message(w, &m.base, columns);
    size_t len = 0;
    char *bytes = (char *)csv_writer_finish(&w, &len);
    const char *expected = "\xEF\xBB\xBF\"amount_cents\",\"ratio\",\"reference\",\"tags\"\r\n"
                           "\"-250000\",\"-1.5\",\"'-250000\",\"'=1+1; ok\"\r\n";
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(bytes, expected, len);
    free(bytes);
}

static void test_an_export_imports_back_as_it_was(void **state)
{
    (void)state;
    const char *const values[] = {"=1+1", "+1 514 555-0100", "-x", "@home", "'=déjà", "'ok"};
    csv_writer_t *w = csv_writer_new();
    for (size_t i = 0; i < 6; i++)
        csv_writer_field(w, values[i]);
    csv_writer_end_row(w);
    for (size_t i = 0; i < 6; i++)
        csv_writer_field(w, values[i]);
    csv_writer_end_row(w);
    size_t len = 0;
    uint8_t *bytes = csv_writer_finish(&w, &len);
    csv_file_limits_t limits = {10, 10, 100};
    csv_file_t *csv = NULL;
    csv_file_error_t err;
    assert_int_equal(csv_file_parse((const char *)bytes, len, &limits, &csv, &err), 0);
    assert_int_equal(csv->n_rows, 1);
    for (int i = 0; i < 6; i++)
        assert_string_equal(csv_file_cell(&csv->rows[0], i), values[i]);
    csv_file_destroy(&csv);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_document_has_a_bom_quoted_fields_and_crlf),
        cmocka_unit_test(test_text_that_starts_a_formula_is_written_after_a_quote),
        cmocka_unit_test(test_phone_numbers_are_written_as_they_are),
        cmocka_unit_test(test_number_fields_are_numbers_and_text_fields_are_guarded),
        cmocka_unit_test(test_an_export_imports_back_as_it_was),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
