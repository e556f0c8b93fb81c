/* textfile: bounded reads and line splitting for the gateway's
 * configuration files (see textfile.h). */
#include "textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

char *textfile_read(const char *path, size_t max, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > max) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
            goto fail;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto fail;
    }
    if (memchr(buf, '\0', len)) {
        snprintf(err, errlen, "%s: contains a NUL byte", path);
        goto fail;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

void textfile_lines_init(textfile_lines_t *it, const char *text)
{
    memset(it, 0, sizeof *it);
    it->next = text;
}

int textfile_lines_next(textfile_lines_t *it)
{
    while (it->next && *it->next) {
        const char *start = it->next;
        const char *end = strchr(start, '\n');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        it->next = end ? end + 1 : NULL;
        it->line_no++;
        it->too_long = n > TEXTFILE_MAX_LINE;
        it->too_many = 0;
        it->n_fields = 0;
        if (it->too_long)
            n = TEXTFILE_MAX_LINE;
        memcpy(it->line, start, n);
        it->line[n] = '\0';
        if (n && it->line[n - 1] == '\r')
            it->line[n - 1] = '\0';
        char *p = it->line;
        for (;;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (!*p || *p == '#')
                break;
            if (it->n_fields == TEXTFILE_MAX_FIELDS) {
                it->too_many = 1;
                break;
            }
            it->fields[it->n_fields++] = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = '\0';
        }
        if (it->n_fields || it->too_long || it->too_many)
            return 1;
    }
    return 0;
}
