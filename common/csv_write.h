/* csv_write: CSV documents written with libcsv (RFC 4180): every field
 * quoted by csv_write, quotes inside doubled, rows ended by CRLF, UTF-8
 * with a byte-order mark first when asked (so that Excel shows accents).
 * Never by string concatenation of unescaped values.
 *
 *     csv_writer_t *w = csv_writer_new(1);
 *     csv_writer_field(w, "id");
 *     csv_writer_field(w, "name");
 *     csv_writer_end_row(w);
 *     ...
 *     size_t len;
 *     uint8_t *bytes = csv_writer_take(&w, &len);   (the caller frees)
 */
#ifndef CONCERTO_CSV_WRITE_H
#define CONCERTO_CSV_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct csv_writer csv_writer_t;

/* A new document, beginning with the UTF-8 byte-order mark when `bom`. */
csv_writer_t *csv_writer_new(int bom);
void csv_writer_destroy(csv_writer_t **self_p);

/* Appends one field to the current row; NULL is an empty field. */
void csv_writer_field(csv_writer_t *self, const char *text);
void csv_writer_int(csv_writer_t *self, int64_t v);
/* Ends the current row (CRLF). */
void csv_writer_end_row(csv_writer_t *self);

/* Bytes written so far. */
size_t csv_writer_size(const csv_writer_t *self);
/* The document's bytes (caller frees with free); destroys the writer. */
uint8_t *csv_writer_take(csv_writer_t **self_p, size_t *len);

#endif
