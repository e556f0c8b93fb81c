/* textfile: the gateway's small configuration files (tokens, partner
 * allow-list, extra routes): bounded whole-file reads and line splitting
 * with `#` comments. */
#ifndef CONCERTO_GW_TEXTFILE_H
#define CONCERTO_GW_TEXTFILE_H

#include <stddef.h>

#define TEXTFILE_MAX_BYTES (1024 * 1024)
#define TEXTFILE_MAX_FIELDS 40
#define TEXTFILE_MAX_LINE 4096

/* The file's contents as a NUL-terminated string the caller frees, or NULL
 * with a message in `err` (missing, unreadable, over `max` bytes, or
 * containing a NUL byte). */
char *textfile_read(const char *path, size_t max, char *err, size_t errlen);

typedef struct {
    const char *next; /* rest of the text */
    int line_no;      /* 1-based number of the line last returned */
    char line[TEXTFILE_MAX_LINE + 1];
    char *fields[TEXTFILE_MAX_FIELDS];
    int n_fields;
    int too_long; /* the line exceeded TEXTFILE_MAX_LINE */
    int too_many; /* the line had more than TEXTFILE_MAX_FIELDS fields */
} textfile_lines_t;

void textfile_lines_init(textfile_lines_t *it, const char *text);
/* Advances to the next line that is neither blank nor a comment and splits
 * it on spaces and tabs into it->fields (a `#` after whitespace starts a
 * comment). Returns 1, or 0 at the end of the text. */
int textfile_lines_next(textfile_lines_t *it);

#endif
