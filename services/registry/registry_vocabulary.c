/* registry_vocabulary: the lists of sectors and networks, read from CSV
 * files (see registry_vocabulary.h). */
#include "registry_vocabulary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_file.h"
#include "text.h"
#include "xalloc.h"

typedef struct {
    char *codes[REGISTRY_VOCABULARY_MAX_CODES + 1]; /* NULL-terminated */
} vocabulary_t;

static vocabulary_t vocabulary_sectors, vocabulary_networks;

static void vocabulary_clear(vocabulary_t *v)
{
    for (size_t i = 0; v->codes[i]; i++)
        free(v->codes[i]);
    memset(v, 0, sizeof *v);
}

static int vocabulary_code_ok(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
    return n > 0 && n <= REGISTRY_VOCABULARY_MAX_CODE && s[n] == '\0';
}

/* Reads `dir`/`name` into `out`; -1 with `err`. */
static int vocabulary_read(const char *dir, const char *name, vocabulary_t *out, char *err,
                           size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *text = csv_file_read(fopen(path, "rb"), path, 256 * 1024, &len, err, errlen);
    if (!text)
        return -1;
    csv_file_limits_t limits = {REGISTRY_VOCABULARY_MAX_CODES, 8, 400};
    csv_file_t *csv = NULL;
    csv_file_error_t cerr;
    int rc = csv_file_parse(text, len, &limits, &csv, &cerr);
    free(text);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%zu: %s", path, cerr.line, cerr.message);
        return -1;
    }
    int code = csv_file_column(csv, "code"), label = csv_file_column(csv, "label_fr");
    memset(out, 0, sizeof *out);
    if (code < 0 || label < 0)
        snprintf(err, errlen, "%s: needs the columns code and label_fr", path);
    else if (!csv->n_rows)
        snprintf(err, errlen, "%s: lists no code", path);
    size_t i = 0;
    for (; code >= 0 && label >= 0 && i < csv->n_rows; i++) {
        const csv_file_row_t *row = &csv->rows[i];
        const char *c = csv_file_cell(row, code);
        int repeated = 0;
        for (size_t j = 0; c && j < i; j++)
            repeated |= strcmp(out->codes[j], c) == 0;
        if (!c || !vocabulary_code_ok(c) || repeated || !csv_file_cell(row, label)) {
            snprintf(err, errlen,
                     "%s:%zu: %s (codes are 1 to %d of a-z, 0-9 and _, each once, with a "
                     "label_fr)",
                     path, row->line, c ? c : "empty code", REGISTRY_VOCABULARY_MAX_CODE);
            break;
        }
        out->codes[i] = xstrdup(c);
    }
    int ok = code >= 0 && label >= 0 && csv->n_rows && i == csv->n_rows;
    if (!ok)
        vocabulary_clear(out);
    csv_file_destroy(&csv);
    return ok ? 0 : -1;
}

int registry_vocabulary_load(const char *dir, char *err, size_t errlen)
{
    vocabulary_t sectors, networks;
    if (vocabulary_read(dir, "sectors.csv", &sectors, err, errlen) != 0)
        return -1;
    if (vocabulary_read(dir, "networks.csv", &networks, err, errlen) != 0) {
        vocabulary_clear(&sectors);
        return -1;
    }
    vocabulary_clear(&vocabulary_sectors);
    vocabulary_clear(&vocabulary_networks);
    vocabulary_sectors = sectors;
    vocabulary_networks = networks;
    return 0;
}

const char *const *registry_sector_codes(void)
{
    return (const char *const *)vocabulary_sectors.codes;
}

const char *const *registry_network_codes(void)
{
    return (const char *const *)vocabulary_networks.codes;
}

static int vocabulary_has(const vocabulary_t *v, const char *code)
{
    for (size_t i = 0; v->codes[i]; i++)
        if (strcmp(v->codes[i], code) == 0)
            return 1;
    return 0;
}

int registry_vocabulary_check_store(store_t *store, char *err, size_t errlen)
{
    sqlite3_stmt *st = store_stmt(store, "SELECT DISTINCT sectors, network FROM organization_fact");
    if (!st) {
        snprintf(err, errlen, "cannot read the organizations' facts");
        return -1;
    }
    int rc, bad = 0;
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *network = (const char *)sqlite3_column_text(st, 1);
        size_t n = 0;
        char **sectors = text_words((const char *)sqlite3_column_text(st, 0), &n);
        for (size_t i = 0; i < n && !bad; i++)
            if (!vocabulary_has(&vocabulary_sectors, sectors[i])) {
                snprintf(err, errlen, "sector %s is used by organizations but not in the list",
                         sectors[i]);
                bad = 1;
            }
        if (!bad && !vocabulary_has(&vocabulary_networks, network)) {
            snprintf(err, errlen, "network %s is used by organizations but not in the list",
                     network);
            bad = 1;
        }
        text_words_free(sectors, n);
    }
    if (!bad && rc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read the organizations' facts: %s", sqlite3_errstr(rc));
        bad = 1;
    }
    sqlite3_reset(st);
    return bad ? -1 : 0;
}
