/* csv_write: RFC 4180 documents with libcsv: quoting, doubled quotes,
 * commas and line breaks inside fields, CRLF rows, the UTF-8 BOM, and
 * what csv_file reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv_file.h"
#include "csv_write.h"

static char *take_text(csv_writer_t **w)
{
    size_t len = 0;
    uint8_t *bytes = csv_writer_take(w, &len);
    char *text = malloc(len + 1);
    memcpy(text, bytes, len);
    text[len] = '\0';
    free(bytes);
    assert_null(*w);
    return text;
}

static void test_fields_are_quoted_and_rows_end_with_crlf(void **state)
{
    (void)state;
    csv_writer_t *w = csv_writer_new(0);
    csv_writer_field(w, "id");
    csv_writer_field(w, "note");
    csv_writer_end_row(w);
    csv_writer_int(w, -1234);
    csv_writer_field(w, "a \"quoted\", word\r\nand a line");
    csv_writer_end_row(w);
    csv_writer_field(w, NULL);
    csv_writer_field(w, "");
    csv_writer_end_row(w);
    char *text = take_text(&w);
    assert_string_equal(text, "\"id\",\"note\"\r\n"
                              "\"-1234\",\"a \"\"quoted\"\", word\r\nand a line\"\r\n"
                              "\"\",\"\"\r\n");
    free(text);
}

static void test_a_bom_comes_first_and_accents_stay_utf8(void **state)
{
    (void)state;
    csv_writer_t *w = csv_writer_new(1);
    csv_writer_field(w, "Côte-des-Neiges");
    csv_writer_end_row(w);
    assert_int_equal(csv_writer_size(w), 3 + 2 + strlen("Côte-des-Neiges") + 2);
    char *text = take_text(&w);
    assert_memory_equal(text, "\xEF\xBB\xBF\"C\xC3\xB4te", 9);
    free(text);
}

static void test_what_is_written_reads_back_the_same(void **state)
{
    (void)state;
    const char *values[] = {"plain", "with, comma", "with \"quotes\"", "two\nlines", "é"};
    csv_writer_t *w = csv_writer_new(1);
    const char *header[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++)
        csv_writer_field(w, header[i]);
    csv_writer_end_row(w);
    for (size_t i = 0; i < 5; i++)
        csv_writer_field(w, values[i]);
    csv_writer_end_row(w);
    size_t len = 0;
    uint8_t *bytes = csv_writer_take(&w, &len);
    csv_file_limits_t limits = {10, 10, 100};
    csv_file_t *csv = NULL;
    csv_file_error_t err;
    int rc = csv_file_parse((const char *)bytes, len, &limits, &csv, &err);
    if (rc != 0)
        fail_msg("line %zu: %s", err.line, err.message);
    assert_int_equal(csv->n_rows, 1);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(csv->rows[0].cells[i], values[i]);
    csv_file_destroy(&csv);
    free(bytes);
}

static void test_an_empty_document_is_empty_or_just_the_bom(void **state)
{
    (void)state;
    csv_writer_t *w = csv_writer_new(0);
    size_t len = 7;
    uint8_t *bytes = csv_writer_take(&w, &len);
    assert_int_equal(len, 0);
    free(bytes);
    w = csv_writer_new(1);
    csv_writer_destroy(&w);
    assert_null(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_are_quoted_and_rows_end_with_crlf),
        cmocka_unit_test(test_a_bom_comes_first_and_accents_stay_utf8),
        cmocka_unit_test(test_what_is_written_reads_back_the_same),
        cmocka_unit_test(test_an_empty_document_is_empty_or_just_the_bom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
