/* csv_writer: CSV documents with libcsv (see csv_writer.h). */
#include "csv_writer.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
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

void csv_writer_field(csv_writer_t *self, const char *value)
{
    if (self->row_started)
        csv_writer_append(self, ",", 1);
    self->row_started = 1;
    if (!value || !*value)
        return;
    /* libcsv quotes the field and doubles its quotes: at most twice the
     * bytes and the two quotes. */
    size_t n = strlen(value);
    csv_writer_reserve(self, 2 * n + 2);
    self->len += csv_write(self->buf + self->len, self->cap - self->len, value, n);
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
        char *v = pbmsg_path_text(msg, c->path);
        csv_writer_field(self, v);
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
