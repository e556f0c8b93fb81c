/* csv_writer: CSV documents with libcsv (see csv_writer.h). */
#include "csv_writer.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "shape.h"
#include "xalloc.h"

struct csv_writer_s {
    char *buf;
    size_t len, cap;
    int row_started;
};

static void csv_writer_reserve(csv_writer_t *self, size_t more)
{
    if (self->len + more <= self->cap)
        return;
    while (self->len + more > self->cap)
        self->cap = self->cap ? self->cap * 2 : 4096;
    self->buf = xrealloc(self->buf, self->cap);
}

static void csv_writer_append(csv_writer_t *self, const char *bytes, size_t n)
{
    csv_writer_reserve(self, n);
    memcpy(self->buf + self->len, bytes, n);
    self->len += n;
}

csv_writer_t *csv_writer_new(void)
{
    csv_writer_t *self = xcalloc(1, sizeof *self);
    csv_writer_append(self, "\xEF\xBB\xBF", 3);
    return self;
}

void csv_writer_destroy(csv_writer_t **self_p)
{
    csv_writer_t *self = *self_p;
    if (!self)
        return;
    free(self->buf);
    free(self);
    *self_p = NULL;
}

/* Whether text `value` needs the guard: a spreadsheet would read it as a
 * formula (or it would look guarded), unless it is a phone number: the
 * project's phone shape holds digits, + - . ( ) and an extension, which
 * can make an arithmetic formula at worst, never a call, and people need
 * it as it is. */
static int csv_writer_formula(const char *value)
{
    return csv_writer_formula_start(value) && !shape_phone(value);
}

int csv_writer_formula_start(const char *s)
{
    s += strspn(s, "'");
    return *s && strchr("=+-@\t\r", *s);
}

/* Appends `value`, quoted by libcsv, after a ' when `text` says it is
 * text that a spreadsheet would run as a formula. */
static void csv_writer_put(csv_writer_t *self, const char *value, int text)
{
    if (self->row_started)
        csv_writer_append(self, ",", 1);
    self->row_started = 1;
    if (!value || !*value)
        return;
    size_t n = strlen(value);
    /* libcsv quotes the field and doubles its quotes: at most twice the
     * bytes, the guard and the two quotes. */
    csv_writer_reserve(self, 2 * n + 4);
    if (!text || !csv_writer_formula(value)) {
        self->len += csv_write(self->buf + self->len, self->cap - self->len, value, n);
        return;
    }
    char *guarded = xmalloc(n + 2);
    guarded[0] = '\'';
    memcpy(guarded + 1, value, n + 1);
    self->len += csv_write(self->buf + self->len, self->cap - self->len, guarded, n + 1);
    free(guarded);
}

void csv_writer_field(csv_writer_t *self, const char *value)
{
    csv_writer_put(self, value, 1);
}

void csv_writer_end_row(csv_writer_t *self)
{
    csv_writer_append(self, "\r\n", 2);
    self->row_started = 0;
}

void csv_writer_header(csv_writer_t *self, const csv_column_t *columns)
{
    for (const csv_column_t *c = columns; c->header; c++)
        csv_writer_field(self, c->header);
    csv_writer_end_row(self);
}

void csv_writer_message(csv_writer_t *self, const ProtobufCMessage *msg,
                        const csv_column_t *columns)
{
    for (const csv_column_t *c = columns; c->header; c++) {
        const ProtobufCMessage *owner = NULL;
        const ProtobufCFieldDescriptor *f = pbmsg_path_field(msg, c->path, &owner);
        /* Numbers, booleans and enum names hold no formula: "-2500" stays
         * a number. */
        int text = f && (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES);
        char *v = pbmsg_path_text(msg, c->path);
        csv_writer_put(self, v, text);
        free(v);
    }
    csv_writer_end_row(self);
}

uint8_t *csv_writer_finish(csv_writer_t **self_p, size_t *len)
{
    csv_writer_t *self = *self_p;
    uint8_t *out = (uint8_t *)self->buf;
    *len = self->len;
    free(self);
    *self_p = NULL;
    return out;
}
