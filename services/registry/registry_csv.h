/* registry_csv: bounded parsing of one CSV file (RFC 4180, UTF-8, header
 * line first) with libcsv, keeping the line number of every row.
 *
 * A file either parses whole or is refused with the line of the first
 * problem; what the cells mean is the importer's business. */
#ifndef CONCERTO_REGISTRY_CSV_H
#define CONCERTO_REGISTRY_CSV_H

#include <stddef.h>

typedef struct {
    size_t line;    /* 1-based line where the row's first field is */
    size_t n_cells; /* always the number of header columns */
    char **cells;   /* NUL-terminated, owned by the csv */
} registry_csv_row_t;

typedef struct {
    size_t n_columns;
    char **columns; /* header names */
    size_t n_rows;  /* data rows; rows with only empty cells are skipped */
    registry_csv_row_t *rows;
} registry_csv_t;

typedef struct {
    size_t max_rows;
    size_t max_columns;
    size_t max_cell; /* bytes */
} registry_csv_limits_t;

typedef struct {
    size_t line; /* 0 when the problem is not on one line */
    char message[160];
} registry_csv_error_t;

/* Parses `len` bytes of `text` (a leading UTF-8 byte-order mark is
 * skipped). Returns 0 and a new csv in *out that the caller destroys, or
 * -1 with *err filled and *out NULL. */
int registry_csv_parse(const char *text, size_t len, const registry_csv_limits_t *limits,
                       registry_csv_t **out, registry_csv_error_t *err);
void registry_csv_destroy(registry_csv_t **self_p);

/* Index of the header column `name`, or -1. */
int registry_csv_column(const registry_csv_t *self, const char *name);
/* The cell of `row` in column `col`, or NULL when col < 0 or the cell is
 * empty. */
const char *registry_csv_cell(const registry_csv_row_t *row, int col);

#endif
