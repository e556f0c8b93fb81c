/* csv_file: CSV files parsed with libcsv, with line numbers and
 * limits (see csv_file.h). */
#include "csv_file.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_writer.h"
#include "xalloc.h"

typedef struct {
    csv_file_t *csv;
    const csv_file_limits_t *limits;
    csv_file_error_t *err;
    size_t line; /* line being fed to the parser */
    char **cur;  /* cells of the row being read */
    size_t n_cur;
    size_t cur_line;
    size_t next_row_line; /* where the row after the last one starts */
    size_t rows_cap;
    int failed;
} csv_file_state_t;

static void csv_file_fail(csv_file_state_t *st, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void csv_file_fail(csv_file_state_t *st, size_t line, const char *fmt, ...)
{
    if (st->failed)
        return;
    st->failed = 1;
    st->err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err->message, sizeof st->err->message, fmt, ap);
    va_end(ap);
}

static void csv_file_free_cells(char **cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    free(cells);
}

static void csv_file_on_field(void *data, size_t len, void *arg)
{
    csv_file_state_t *st = arg;
    if (st->failed)
        return;
    if (len > st->limits->max_cell) {
        csv_file_fail(st, st->line, "a field is longer than %zu bytes", st->limits->max_cell);
        return;
    }
    if (st->n_cur == st->limits->max_columns) {
        csv_file_fail(st, st->line, "more than %zu fields", st->limits->max_columns);
        return;
    }
    if (st->n_cur == 0) {
        st->cur = xcalloc(st->limits->max_columns, sizeof *st->cur);
        st->cur_line = st->line;
    }
    st->cur[st->n_cur++] = data ? xstrndup(data, len) : xstrdup("");
}

static int csv_file_all_empty(char **cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cells[i][0])
            return 0;
    return 1;
}

static void csv_file_on_row(int term, void *arg)
{
    (void)term;
    csv_file_state_t *st = arg;
    char **cells = st->cur;
    size_t n = st->n_cur;
    st->cur = NULL;
    st->n_cur = 0;
    st->next_row_line = st->line + 1;
    if (st->failed || n == 0) {
        csv_file_free_cells(cells, n);
        return;
    }
    csv_file_t *csv = st->csv;
    if (!csv->columns) {
        for (size_t i = 0; i < n; i++) {
            if (!cells[i][0]) {
                csv_file_fail(st, st->cur_line, "header column %zu is empty", i + 1);
                break;
            }
            for (size_t j = 0; j < i; j++)
                if (strcmp(cells[i], cells[j]) == 0) {
                    csv_file_fail(st, st->cur_line, "header column %s appears twice", cells[i]);
                    break;
                }
        }
        csv->columns = cells;
        csv->n_columns = n;
        return;
    }
    if (csv_file_all_empty(cells, n)) {
        csv_file_free_cells(cells, n);
        return;
    }
    if (n != csv->n_columns) {
        csv_file_fail(st, st->cur_line, "%zu fields but the header has %zu", n, csv->n_columns);
        csv_file_free_cells(cells, n);
        return;
    }
    if (csv->n_rows == st->limits->max_rows) {
        csv_file_fail(st, st->cur_line, "more than %zu rows", st->limits->max_rows);
        csv_file_free_cells(cells, n);
        return;
    }
    if (csv->n_rows == st->rows_cap) {
        st->rows_cap = st->rows_cap ? st->rows_cap * 2 : 64;
        csv->rows = xrealloc(csv->rows, st->rows_cap * sizeof *csv->rows);
    }
    csv->rows[csv->n_rows++] = (csv_file_row_t){st->cur_line, n, cells};
}

char csv_file_delimiter(const char *text, size_t len)
{
    size_t commas = 0, semicolons = 0;
    int quoted = 0;
    for (size_t i = 0; i < len && (quoted || (text[i] != '\n' && text[i] != '\r')); i++) {
        if (text[i] == '"')
            quoted = !quoted;
        else if (!quoted && text[i] == ',')
            commas++;
        else if (!quoted && text[i] == ';')
            semicolons++;
    }
    return semicolons > commas ? ';' : ',';
}

int csv_file_parse(const char *text, size_t len, const csv_file_limits_t *limits, csv_file_t **out,
                   csv_file_error_t *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        snprintf(err->message, sizeof err->message, "cannot start the CSV parser");
        return -1;
    }
    csv_set_delim(&p, (unsigned char)csv_file_delimiter(text, len));
    csv_file_state_t st = {.csv = xcalloc(1, sizeof(csv_file_t)),
                           .limits = limits,
                           .err = err,
                           .line = 1,
                           .next_row_line = 1};
    /* Feed one line at a time so that callbacks know the line number. */
    size_t pos = 0;
    while (pos < len && !st.failed) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t chunk = nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;
        if (csv_parse(&p, text + pos, chunk, csv_file_on_field, csv_file_on_row, &st) != chunk)
            csv_file_fail(&st, st.line, "malformed CSV (%s)", csv_strerror(csv_error(&p)));
        pos += chunk;
        if (nl)
            st.line++;
    }
    if (!st.failed && csv_fini(&p, csv_file_on_field, csv_file_on_row, &st) != 0)
        csv_file_fail(&st, st.next_row_line,
                      "malformed CSV (quoted field not closed by the end of the file)");
    csv_free(&p);
    csv_file_free_cells(st.cur, st.n_cur);
    if (!st.failed && !st.csv->columns)
        csv_file_fail(&st, 0, "no header line");
    if (st.failed) {
        csv_file_destroy(&st.csv);
        return -1;
    }
    *out = st.csv;
    return 0;
}

void csv_file_destroy(csv_file_t **self_p)
{
    csv_file_t *self = *self_p;
    if (!self)
        return;
    csv_file_free_cells(self->columns, self->n_columns);
    for (size_t i = 0; i < self->n_rows; i++)
        csv_file_free_cells(self->rows[i].cells, self->rows[i].n_cells);
    free(self->rows);
    free(self);
    *self_p = NULL;
}

int csv_file_column(const csv_file_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_columns; i++)
        if (strcmp(self->columns[i], name) == 0)
            return (int)i;
    return -1;
}

const char *csv_file_cell(const csv_file_row_t *row, int col)
{
    if (col < 0 || (size_t)col >= row->n_cells || !row->cells[col][0])
        return NULL;
    const char *cell = row->cells[col];
    /* An export's guard against formulas (csv_writer.h) comes off, so that
     * an export imports back as it was. */
    if (cell[0] == '\'' && csv_writer_formula_start(cell))
        return cell + 1;
    return cell;
}

char *csv_file_read(FILE *fp, const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    if (!fp) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = xmalloc(max + 2);
    size_t n = fread(buf, 1, max + 1, fp);
    int failed = ferror(fp);
    fclose(fp);
    if (failed || n > max) {
        snprintf(err, errlen, failed ? "cannot read %s" : "%s is larger than %zu bytes", path, max);
        free(buf);
        return NULL;
    }
    if (memchr(buf, '\0', n)) {
        snprintf(err, errlen, "%s contains a NUL byte; it is not a CSV text file", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
