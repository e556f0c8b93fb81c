/* import: the frame of an all-or-nothing bulk import of CSV files.
 *
 * A request carries up to one file per kind; a daemon describes its kinds
 * in the order they are applied (territories before the Tables that name
 * them), each with its columns and the function that applies one row
 * through the same code as the single-entity command, so an import
 * accepts exactly what the commands accept. import_run
 *   1. checks the request: 1 to n_kinds files, known kinds, each at most
 *      once, names without ':', IMPORT_MAX_BYTES of CSV in all;
 *   2. parses each file (csv_file.h: libcsv, strict, UTF-8, a header
 *      line) and checks its header: every required column, no unknown
 *      column;
 *   3. applies every row, top to bottom, with the ctx placed at the row so
 *      that each violation names its cell ("tables.csv:12:email", or
 *      "tables.csv:12" for the line), and stops after
 *      IMPORT_MAX_PROBLEMS problems.
 * When any problem was recorded the handler answers with import_fail: the
 * runtime then rolls the whole request back, events included. */
#ifndef CONCERTO_IMPORT_H
#define CONCERTO_IMPORT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "csv_file.h"
#include "ctx.h"

/* A request must fit in one 1 MiB frame with room to spare. */
#define IMPORT_MAX_BYTES (900 * 1024) /* all files together */
#define IMPORT_MAX_ROWS 5000          /* per file */
#define IMPORT_MAX_COLUMNS 40
#define IMPORT_MAX_CELL 4000    /* bytes */
#define IMPORT_MAX_PROBLEMS 100 /* reported before stopping */
#define IMPORT_MAX_NAME 100     /* characters of a file name */

/* One row being applied. */
typedef struct {
    const csv_file_t *csv;
    const csv_file_row_t *row;
    const char *file; /* its file's name */
} import_row_t;

typedef struct {
    const char *kind;            /* "tables": in requests, and the default file name tables.csv */
    const char *const *required; /* columns the header must have (NULL-terminated) */
    const char *const *optional;
    /* Applies one row, recording its problems in ctx; returns 1 when the
     * row was applied. */
    int (*apply)(ctx_t *ctx, const import_row_t *row, void *arg);
} import_kind_t;

/* A file as a request carries it (borrowed). */
typedef struct {
    const char *kind;
    const char *name; /* NULL or "": <kind>.csv */
    const char *content;
} import_file_t;

/* Runs the import (see above); counts[k] gets the rows applied of
 * kinds[k]. Returns 0, or -1 when a problem was recorded. */
int import_run(ctx_t *ctx, const import_kind_t *kinds, size_t n_kinds, const import_file_t *files,
               size_t n_files, void *arg, unsigned *counts);
/* Answers the refused import: its first problem's status, how many
 * problems, and that nothing was written. */
int import_fail(ctx_t *ctx);

/* The cell of `row` in column `col`: NULL when the column is absent or
 * the cell empty. */
const char *import_cell(const import_row_t *row, const char *col);
/* A whole number cell: 1 and *out, 0 when empty, -1 (recorded) when it is
 * not a whole number. */
int import_cell_int(ctx_t *ctx, const import_row_t *row, const char *col, int64_t *out);
/* A yes/no cell (yes, no, oui, non, true, false, 1, 0): 1 and *out, 0 when
 * empty, -1 (recorded) otherwise. */
int import_cell_bool(ctx_t *ctx, const import_row_t *row, const char *col, protobuf_c_boolean *out);

/* Reads <dir>/<kind>.csv for every kind whose file exists: contents[k]
 * gets a new NUL-terminated UTF-8 text, or NULL when there is no such
 * file. A file that is not UTF-8 is converted from `encoding` (an iconv
 * name, "WINDOWS-1252": what Excel saves as "CSV" on Windows) when it is
 * not NULL. Returns how many were read, or -1 and a message in `err` when
 * none exists, one cannot be read, holds a NUL byte, is not UTF-8 (with
 * `encoding` NULL) or not `encoding` either (naming the file, line and
 * column of the first bad byte), or together they exceed
 * IMPORT_MAX_BYTES. */
int import_read_dir(const char *dir, const import_kind_t *kinds, size_t n_kinds,
                    const char *encoding, char **contents, char *err, size_t errlen);

#endif
