/* csv_write: CSV documents with libcsv (see csv_write.h). */
#include "csv_write.h"

#include <csv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct csv_writer {
    uint8_t *buf;
    size_t len, cap;
    int row_started; /* a field was written on the current row */
};

static void csv_writer_reserve(csv_writer_t *self, size_t more)
{
    if (self->len + more <= self->cap)
        return;
    size_t cap = self->cap ? self->cap : 1024;
    while (cap < self->len + more)
        cap *= 2;
    self->buf = xrealloc(self->buf, cap);
    self->cap = cap;
}

static void csv_writer_raw(csv_writer_t *self, const void *bytes, size_t n)
{
    csv_writer_reserve(self, n);
    memcpy(self->buf + self->len, bytes, n);
    self->len += n;
}

csv_writer_t *csv_writer_new(int bom)
{
    csv_writer_t *self = xcalloc(1, sizeof *self);
    if (bom)
        csv_writer_raw(self, "\xEF\xBB\xBF", 3);
    return self;
}

void csv_writer_destroy(csv_writer_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

void csv_writer_field(csv_writer_t *self, const char *text)
{
    if (self->row_started)
        csv_writer_raw(self, ",", 1);
    self->row_started = 1;
    size_t n = text ? strlen(text) : 0;
    /* libcsv quotes the field and doubles its quotes: at most 2n + 2. */
    csv_writer_reserve(self, 2 * n + 2);
    self->len += csv_write(self->buf + self->len, self->cap - self->len, text ? text : "", n);
}

void csv_writer_int(csv_writer_t *self, int64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    csv_writer_field(self, text);
}

void csv_writer_end_row(csv_writer_t *self)
{
    csv_writer_raw(self, "\r\n", 2);
    self->row_started = 0;
}

size_t csv_writer_size(const csv_writer_t *self)
{
    return self->len;
}

uint8_t *csv_writer_take(csv_writer_t **self_p, size_t *len)
{
    csv_writer_t *self = *self_p;
    uint8_t *out = self->buf ? self->buf : xmalloc(1);
    *len = self->len;
    free(self);
    *self_p = NULL;
    return out;
}
