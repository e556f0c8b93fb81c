/* csv_file: bounded parsing of one CSV file (RFC 4180, UTF-8, header
 * line first, ',' or ';' between fields) with libcsv, keeping the line
 * number of every row.
 *
 * A file either parses whole or is refused with the line of the first
 * problem; what the cells mean is the importer's business (import.h). */
#ifndef CONCERTO_CSV_FILE_H
#define CONCERTO_CSV_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    size_t line;    /* 1-based line where the row's first field is */
    size_t n_cells; /* always the number of header columns */
    char **cells;   /* NUL-terminated, owned by the csv */
} csv_file_row_t;

typedef struct {
    size_t n_columns;
    char **columns; /* header names */
    size_t n_rows;  /* data rows; rows with only empty cells are skipped */
    csv_file_row_t *rows;
} csv_file_t;

typedef struct {
    size_t max_rows;
    size_t max_columns;
    size_t max_cell; /* bytes */
} csv_file_limits_t;

typedef struct {
    size_t line; /* 0 when the problem is not on one line */
    char message[160];
} csv_file_error_t;

/* The field separator of a file, read from its header line: ';' when it
 * holds more semicolons than commas outside quotes (what Excel saves in a
 * French locale, where the comma is the decimal separator), else ','. */
char csv_file_delimiter(const char *text, size_t len);
/* Parses `len` bytes of `text` (a leading UTF-8 byte-order mark is
 * skipped), fields separated as csv_file_delimiter says. Returns 0 and a new csv in *out that the
 * caller destroys, or -1 with *err filled and *out NULL. */
int csv_file_parse(const char *text, size_t len, const csv_file_limits_t *limits, csv_file_t **out,
                   csv_file_error_t *err);
void csv_file_destroy(csv_file_t **self_p);

/* Reads the whole of `fp`, opened from `path` (NULL when that failed: the
 * message says why, from errno), at most `max` bytes, and closes it.
 * Returns a new NUL-terminated text and its length in *len, or NULL with
 * `err` (cannot open or read, larger than `max`, holds a NUL byte). */
char *csv_file_read(FILE *fp, const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Index of the header column `name`, or -1. */
int csv_file_column(const csv_file_t *self, const char *name);
/* The cell of `row` in column `col`, or NULL when col < 0 or the cell is
 * empty. A cell of ' then a formula's first character (an export's guard,
 * csv_writer.h) is given without that first '. */
const char *csv_file_cell(const csv_file_row_t *row, int col);

#endif
