/* csv_writer: CSV documents written with libcsv (RFC 4180: every field
 * quoted, quotes doubled, CRLF line ends), in UTF-8 with a byte-order mark
 * so that Excel shows accents, and messages written as rows by the proto
 * paths of their columns. The reader is csv_file.h.
 *
 * Text a spreadsheet would run as a formula (CSV injection: a first
 * character =, +, -, @, tab or carriage return) is written after a ', as
 * OWASP recommends, so that Excel shows it as text; except a phone number
 * (shape_phone: arithmetic at worst, and people need it as it is), and
 * the values of number, boolean and enum fields, which hold no formula
 * ("-2500" stays a number). Text that already starts with ' and then such
 * a character gets one ' more, and csv_file_cell takes one off: an export
 * imports back as it was.
 *
 *     csv_writer_t *w = csv_writer_new();
 *     csv_writer_header(w, columns);          (each column's header)
 *     for each message: csv_writer_message(w, msg, columns);
 *     size_t len;
 *     uint8_t *bytes = csv_writer_finish(&w, &len);   (the caller frees)
 *
 * A document is built whole in memory: the runtime sends one larger than
 * a frame in parts (service_call_reply_document), up to
 * CONCERTO_MAX_DOCUMENT. */
#ifndef CONCERTO_CSV_WRITER_H
#define CONCERTO_CSV_WRITER_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

typedef struct csv_writer_s csv_writer_t;

/* Whether `s` is a formula's first character (OWASP's list for CSV
 * injection: = + - @ tab carriage return) after any number of ': the text
 * csv_writer guards with one more ', and csv_file_cell reads back without
 * one. */
int csv_writer_formula_start(const char *s);

/* One column of a message export: its header and the proto path of the
 * value (pbmsg_path_text: "contact.email"; a repeated field's values are
 * separated by "; "). A list of them ends with {NULL, NULL}. */
typedef struct {
    const char *header;
    const char *path;
} csv_column_t;

/* A new document holding the byte-order mark. */
csv_writer_t *csv_writer_new(void);
void csv_writer_destroy(csv_writer_t **self_p);

/* Appends one text field to the current row, guarded against formulas;
 * NULL or "" is an empty field. */
void csv_writer_field(csv_writer_t *self, const char *value);
/* Ends the current row. */
void csv_writer_end_row(csv_writer_t *self);
/* A row of the columns' headers. */
void csv_writer_header(csv_writer_t *self, const csv_column_t *columns);
/* A row of `msg`'s values at the columns' paths (absent: empty); text
 * fields guarded against formulas. */
void csv_writer_message(csv_writer_t *self, const ProtobufCMessage *msg,
                        const csv_column_t *columns);
/* The document's bytes (the caller frees them) and their count; destroys
 * the writer. */
uint8_t *csv_writer_finish(csv_writer_t **self_p, size_t *len);

#endif
