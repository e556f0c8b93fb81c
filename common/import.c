/* import: the all-or-nothing CSV import frame (see import.h). */
#include "import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv_file.h"
#include "field.h"
#include "shape.h"
#include "text.h"
#include "xalloc.h"

/* A file of the request, once checked: files[k] is kind k's. */
typedef struct {
    const import_file_t *in;
    char *name;
    csv_file_t *csv;
} import_input_t;

const char *import_cell(const import_row_t *row, const char *col)
{
    return csv_file_cell(row->row, csv_file_column(row->csv, col));
}

int import_cell_int(ctx_t *ctx, const import_row_t *row, const char *col, int64_t *out)
{
    const char *s = import_cell(row, col);
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, col, "must be a whole number");
        return -1;
    }
    *out = v;
    return 1;
}

int import_cell_bool(ctx_t *ctx, const import_row_t *row, const char *col, protobuf_c_boolean *out)
{
    static const char *const yes[] = {"yes", "true", "1", "oui", NULL};
    static const char *const no[] = {"no", "false", "0", "non", NULL};
    const char *s = import_cell(row, col);
    if (!s)
        return 0;
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    ctx_violation(ctx, STATUS_INVALID_ARGUMENT, col, "must be yes or no");
    return -1;
}

static int import_kind_index(const import_kind_t *kinds, size_t n, const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (kind && strcmp(kinds[i].kind, kind) == 0)
            return (int)i;
    return -1;
}

/* Checks file `i` of the request and files it under its kind; returns 1
 * when it was taken. */
static int import_take(ctx_t *ctx, const import_kind_t *kinds, size_t n_kinds,
                       const import_file_t *file, size_t i, import_input_t *inputs)
{
    char path[40];
    snprintf(path, sizeof path, "files[%zu].kind", i);
    const char **words = xcalloc(n_kinds + 1, sizeof *words);
    for (size_t k = 0; k < n_kinds; k++)
        words[k] = kinds[k].kind;
    int known = field_word(ctx, path, file->kind, words, FIELD_REQUIRED);
    free(words);
    if (!known)
        return 0;
    int k = import_kind_index(kinds, n_kinds, file->kind);
    if (inputs[k].in) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "%s appears twice", file->kind);
        return 0;
    }
    snprintf(path, sizeof path, "files[%zu].name", i);
    if (file->name && *file->name &&
        (text_check(file->name, IMPORT_MAX_NAME, 0) != TEXT_OK || strchr(file->name, ':'))) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                      "must be at most %d characters, without ':'", IMPORT_MAX_NAME);
        return 0;
    }
    inputs[k].in = file;
    inputs[k].name =
        file->name && *file->name ? xstrdup(file->name) : xasprintf("%s.csv", file->kind);
    return 1;
}

/* Header checks: every required column present, no unknown column. */
static void import_check_header(ctx_t *ctx, const csv_file_t *csv, const import_kind_t *kind)
{
    ctx->line = 1;
    for (size_t i = 0; kind->required[i]; i++)
        if (csv_file_column(csv, kind->required[i]) < 0)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, kind->required[i],
                          "column is missing from the header");
    for (size_t i = 0; i < csv->n_columns; i++) {
        const char *col = csv->columns[i];
        if (!shape_word(kind->required, col) && !shape_word(kind->optional, col))
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, col, "is not a column of %s files",
                          kind->kind);
    }
}

/* Parses one file; problems are placed in it. */
static void import_parse(ctx_t *ctx, import_input_t *f, const import_kind_t *kind)
{
    static const csv_file_limits_t limits = {IMPORT_MAX_ROWS, IMPORT_MAX_COLUMNS, IMPORT_MAX_CELL};
    const char *text = f->in->content ? f->in->content : "";
    csv_file_error_t err;
    ctx->file = f->name;
    text_problem_t p = text_check(text, SIZE_MAX, 1);
    if (p == TEXT_BAD_UTF8 || p == TEXT_CONTROL) {
        ctx->line = 1;
        ctx_problem(ctx, STATUS_INVALID_ARGUMENT, "the file %s", text_problem_text(p));
    } else if (csv_file_parse(text, strlen(text), &limits, &f->csv, &err) != 0) {
        ctx->line = err.line ? err.line : 1;
        ctx_problem(ctx, STATUS_INVALID_ARGUMENT, "%s", err.message);
    } else {
        import_check_header(ctx, f->csv, kind);
    }
    ctx->file = NULL;
}

/* Checks the request and parses its files into inputs[kind index]. */
static void import_prepare(ctx_t *ctx, const import_kind_t *kinds, size_t n_kinds,
                           const import_file_t *files, size_t n_files, import_input_t *inputs)
{
    if (!n_files || n_files > n_kinds) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "files", "must hold 1 to %zu files", n_kinds);
        return;
    }
    size_t total = 0;
    for (size_t i = 0; i < n_files; i++)
        if (import_take(ctx, kinds, n_kinds, &files[i], i, inputs))
            total += files[i].content ? strlen(files[i].content) : 0;
    if (total > IMPORT_MAX_BYTES)
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "files",
                      "hold %zu bytes of CSV; at most %d in one import", total, IMPORT_MAX_BYTES);
    if (ctx->problems)
        return;
    for (size_t k = 0; k < n_kinds; k++)
        if (inputs[k].in)
            import_parse(ctx, &inputs[k], &kinds[k]);
}

static void import_apply(ctx_t *ctx, const import_kind_t *kinds, size_t n_kinds,
                         import_input_t *inputs, void *arg, unsigned *counts)
{
    for (size_t k = 0; k < n_kinds; k++) {
        const csv_file_t *csv = inputs[k].csv;
        if (!csv)
            continue;
        ctx->file = inputs[k].name;
        for (size_t r = 0; r < csv->n_rows; r++) {
            ctx->line = csv->rows[r].line;
            if (ctx->problems >= IMPORT_MAX_PROBLEMS) {
                ctx_problem(ctx, STATUS_INVALID_ARGUMENT,
                            "stopped after %d problems; fix these and import again",
                            IMPORT_MAX_PROBLEMS);
                ctx->file = NULL;
                return;
            }
            import_row_t row = {csv, &csv->rows[r], inputs[k].name};
            if (kinds[k].apply(ctx, &row, arg) == 1)
                counts[k]++;
        }
        ctx->file = NULL;
    }
}

int import_run(ctx_t *ctx, const import_kind_t *kinds, size_t n_kinds, const import_file_t *files,
               size_t n_files, void *arg, unsigned *counts)
{
    import_input_t *inputs = xcalloc(n_kinds, sizeof *inputs);
    memset(counts, 0, n_kinds * sizeof *counts);
    import_prepare(ctx, kinds, n_kinds, files, n_files, inputs);
    if (!ctx->problems)
        import_apply(ctx, kinds, n_kinds, inputs, arg, counts);
    for (size_t k = 0; k < n_kinds; k++) {
        csv_file_destroy(&inputs[k].csv);
        free(inputs[k].name);
    }
    free(inputs);
    return ctx->problems ? -1 : 0;
}

int import_fail(ctx_t *ctx)
{
    return service_call_fail(
        ctx->call, ctx->status, "import refused, nothing was written: %zu %s; first: %s",
        ctx->problems, text_plural((long long)ctx->problems, "problem", "problems"), ctx->message);
}

/* "a.csv, b.csv": the files a folder may hold, for a message. */
static void import_file_names(const import_kind_t *kinds, size_t n, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t k = 0; k < n && used < outlen; k++)
        used +=
            (size_t)snprintf(out + used, outlen - used, "%s%s.csv", k ? ", " : "", kinds[k].kind);
}

/* `text` (`*len` bytes, read from `path`) as UTF-8: itself, or converted
 * from `encoding`; NULL with `err` when it is neither. */
static char *import_utf8(char *text, size_t *len, const char *path, const char *encoding, char *err,
                         size_t errlen)
{
    size_t line, column, bad = text_first_bad(text, *len, &line, &column);
    if (bad == *len)
        return text;
    size_t out_len = 0;
    char *converted = encoding ? text_to_utf8(encoding, text, *len, &out_len, &bad) : NULL;
    if (converted) {
        free(text);
        *len = out_len;
        return converted;
    }
    if (!encoding) {
        snprintf(err, errlen,
                 "%s:%zu:%zu: byte 0x%02X is not UTF-8 (save the file as \"CSV UTF-8\", or "
                 "let the import convert it)",
                 path, line, column, (unsigned char)text[bad]);
    } else if (bad >= *len) {
        snprintf(err, errlen, "%s is not UTF-8, and %s is not a character set this system knows",
                 path, encoding);
    } else {
        /* One character a byte in a single-byte character set. */
        const char *start = text;
        for (const char *nl; (nl = memchr(start, '\n', (size_t)(text + bad - start)));)
            start = nl + 1;
        line = 1;
        for (const char *p = text; p < start; p++)
            line += *p == '\n';
        column = (size_t)(text + bad - start) + 1;
        snprintf(err, errlen, "%s:%zu:%zu: byte 0x%02X is neither UTF-8 nor %s", path, line, column,
                 (unsigned char)text[bad], encoding);
    }
    free(text);
    return NULL;
}

int import_read_dir(const char *dir, const import_kind_t *kinds, size_t n_kinds,
                    const char *encoding, char **contents, char *err, size_t errlen)
{
    size_t total = 0;
    int n = 0;
    for (size_t k = 0; k < n_kinds; k++) {
        contents[k] = NULL;
        char *path = xasprintf("%s/%s.csv", dir, kinds[k].kind);
        FILE *fp = fopen(path, "rb");
        if (!fp && errno == ENOENT) {
            free(path); /* that kind is not imported */
            continue;
        }
        size_t len = 0;
        contents[k] = csv_file_read(fp, path, IMPORT_MAX_BYTES - total, &len, err, errlen);
        if (contents[k])
            contents[k] = import_utf8(contents[k], &len, path, encoding, err, errlen);
        if (contents[k] && total + len > IMPORT_MAX_BYTES) {
            snprintf(err, errlen, "%s is larger than %zu bytes once converted to UTF-8", path,
                     (size_t)IMPORT_MAX_BYTES - total);
            free(contents[k]);
            contents[k] = NULL;
        }
        free(path);
        if (!contents[k]) {
            for (size_t j = 0; j < k; j++)
                free(contents[j]);
            return -1;
        }
        total += len;
        n++;
    }
    if (!n) {
        char names[256];
        import_file_names(kinds, n_kinds, names, sizeof names);
        snprintf(err, errlen, "%s holds none of %s", dir, names);
        return -1;
    }
    return n;
}
