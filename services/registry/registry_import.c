/* registry_import: CSV bulk import (see registry_import.h). Files are
 * parsed by registry_csv (libcsv); rows become the same messages the
 * single-entity commands take and go through the same functions, so an
 * import accepts exactly what the commands accept. A failed import returns
 * non-OK and the runtime rolls the whole request back. */
#include "registry_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry.h"
#include "registry_csv.h"
#include "registry_recognition.h"
#include "registry_validate.h"
#include "xalloc.h"

/* The kinds, in the order they are applied. */
static const char *const import_kinds[] = {"territories", "organizations", "tables", "memberships",
                                           NULL};

typedef struct {
    const char *kind;
    const char *const *required; /* columns the header must have */
    const char *const *optional;
} import_format_t;

static const char *const territory_required[] = {"id", "name", "kind", NULL};
static const char *const territory_optional[] = {"parent_id",  "population", "boundary",
                                                 "source_url", "notes",      NULL};
static const char *const organization_required[] = {"id", "name", "sector", "network", NULL};
static const char *const organization_optional[] = {"neq", "website", "source_url", "notes", NULL};
static const char *const table_required[] = {"id", "name", "territory_id", NULL};
static const char *const table_optional[] = {"acronym",
                                             "founding_year",
                                             "mandataire_id",
                                             "email",
                                             "phone",
                                             "website",
                                             "address",
                                             "languages",
                                             "incorporated",
                                             "bylaws_adopted_on",
                                             "board_seats",
                                             "meetings_per_year",
                                             "paid_staff",
                                             "recognition_status",
                                             "recognition_since",
                                             "recognition_reason",
                                             "source_url",
                                             "notes",
                                             "uncertain",
                                             NULL};
static const char *const membership_required[] = {"table_id", "organization_id", "joined_on", NULL};
static const char *const membership_optional[] = {"role", "left_on", "notes", NULL};

static const import_format_t import_formats[] = {
    {"territories", territory_required, territory_optional},
    {"organizations", organization_required, organization_optional},
    {"tables", table_required, table_optional},
    {"memberships", membership_required, membership_optional},
};

#define N_KINDS (sizeof import_formats / sizeof import_formats[0])

typedef struct {
    const Concerto__Registry__V1__ImportFile *file;
    char *name;
    registry_csv_t *csv;
} import_file_t;

/* A cell by column name (NULL when absent or empty). */
static const char *cell(const import_file_t *f, const registry_csv_row_t *row, const char *col)
{
    return registry_csv_cell(row, registry_csv_column(f->csv, col));
}

/* Parses an integer cell; 1 if set, 0 if empty, -1 (with a violation) if
 * it is not a whole number. */
static int cell_int(reg_ctx_t *ctx, const import_file_t *f, const registry_csv_row_t *row,
                    const char *col, int64_t *out)
{
    const char *s = cell(f, row, col);
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, col, "must be a whole number");
        return -1;
    }
    *out = v;
    return 1;
}

static int cell_bool(reg_ctx_t *ctx, const import_file_t *f, const registry_csv_row_t *row,
                     const char *col, protobuf_c_boolean *out)
{
    const char *s = cell(f, row, col);
    if (!s)
        return 0;
    static const char *const yes[] = {"yes", "true", "1", "oui", NULL};
    static const char *const no[] = {"no", "false", "0", "non", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    reg_violation(ctx, STATUS_INVALID_ARGUMENT, col, "must be yes or no");
    return -1;
}

/* Borrowed strings: the cells outlive the message built from them. */
#define CELL(col) ((char *)cell(f, row, col))

static void import_territory(reg_ctx_t *ctx, const import_file_t *f, const registry_csv_row_t *row,
                             unsigned *count)
{
    size_t mark = ctx->problems;
    reg_territory_t t = CONCERTO__REGISTRY__V1__TERRITORY__INIT;
    t.id = CELL("id");
    t.name = CELL("name");
    t.kind = CELL("kind");
    t.parent_id = CELL("parent_id");
    t.boundary = CELL("boundary");
    t.source_url = CELL("source_url");
    t.notes = CELL("notes");
    t.has_population = cell_int(ctx, f, row, "population", &t.population) == 1;
    if (ctx->problems == mark && registry_territory_register(ctx, &t, NULL) == STATUS_OK)
        (*count)++;
}

static void import_organization(reg_ctx_t *ctx, const import_file_t *f,
                                const registry_csv_row_t *row, unsigned *count)
{
    reg_organization_t o = CONCERTO__REGISTRY__V1__ORGANIZATION__INIT;
    o.id = CELL("id");
    o.name = CELL("name");
    o.sector = CELL("sector");
    o.network = CELL("network");
    o.neq = CELL("neq");
    o.website = CELL("website");
    o.source_url = CELL("source_url");
    o.notes = CELL("notes");
    if (registry_organization_register(ctx, &o, NULL) == STATUS_OK)
        (*count)++;
}

/* Splits "fr; en" (separators ; , or space) into borrowed-free copies. */
static size_t import_languages(const char *s, char **out, size_t max)
{
    size_t n = 0;
    while (s && *s && n < max) {
        s += strspn(s, ";, ");
        size_t len = strcspn(s, ";, ");
        if (len)
            out[n++] = xstrndup(s, len);
        s += len;
    }
    return n;
}

static void import_table(reg_ctx_t *ctx, const import_file_t *f, const registry_csv_row_t *row,
                         unsigned *count)
{
    size_t mark = ctx->problems;
    reg_table_t t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    reg_contact_t c = CONCERTO__REGISTRY__V1__CONTACT__INIT;
    reg_governance_t g = CONCERTO__REGISTRY__V1__GOVERNANCE__INIT;
    t.id = CELL("id");
    t.name = CELL("name");
    t.acronym = CELL("acronym");
    t.territory_id = CELL("territory_id");
    t.mandataire_id = CELL("mandataire_id");
    t.source_url = CELL("source_url");
    t.notes = CELL("notes");
    int64_t v;
    if (cell_int(ctx, f, row, "founding_year", &v) == 1) {
        if (v < INT32_MIN || v > INT32_MAX)
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, "founding_year", "is out of range");
        t.has_founding_year = 1;
        t.founding_year = (int32_t)v;
    }
    c.email = CELL("email");
    c.phone = CELL("phone");
    c.website = CELL("website");
    c.address = CELL("address");
    t.contact = &c;
    char *langs[REGISTRY_MAX_LANGUAGES + 1];
    t.n_languages = import_languages(cell(f, row, "languages"), langs, REGISTRY_MAX_LANGUAGES + 1);
    t.languages = langs;
    g.has_incorporated = cell_bool(ctx, f, row, "incorporated", &g.incorporated) == 1;
    g.bylaws_adopted_on = CELL("bylaws_adopted_on");
    struct {
        const char *col;
        protobuf_c_boolean *has;
        uint32_t *val;
    } counts[] = {{"board_seats", &g.has_board_seats, &g.board_seats},
                  {"meetings_per_year", &g.has_meetings_per_year, &g.meetings_per_year},
                  {"paid_staff", &g.has_paid_staff, &g.paid_staff}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (cell_int(ctx, f, row, counts[i].col, &v) != 1)
            continue;
        if (v < 0 || v > UINT32_MAX) {
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, counts[i].col, "is out of range");
            continue;
        }
        *counts[i].has = 1;
        *counts[i].val = (uint32_t)v;
    }
    t.governance = &g;
    t.has_uncertain = cell_bool(ctx, f, row, "uncertain", &t.uncertain) == 1;
    const char *status = cell(f, row, "recognition_status");
    const char *since = cell(f, row, "recognition_since");
    const char *reason = cell(f, row, "recognition_reason");
    reg_check_code(ctx, "recognition_status", status, registry_statuses, 0);
    reg_check_date(ctx, "recognition_since", since, 0);
    reg_check_text(ctx, "recognition_reason", reason, REGISTRY_MAX_REASON, 0, 1);
    if (status && strcmp(status, "recognized") == 0 && !t.mandataire_id)
        reg_violation(ctx, STATUS_FAILED_PRECONDITION, "recognition_status",
                      "a recognized Table needs a mandataire_id");
    char default_reason[200];
    snprintf(default_reason, sizeof default_reason, "imported from %s line %zu", f->name,
             row->line);
    if (ctx->problems == mark &&
        registry_table_register(ctx, &t, status, since, reason ? reason : default_reason, NULL) ==
            STATUS_OK)
        (*count)++;
    for (size_t i = 0; i < t.n_languages; i++)
        free(langs[i]);
}

static void import_membership(reg_ctx_t *ctx, const import_file_t *f, const registry_csv_row_t *row,
                              unsigned *count)
{
    Concerto__Registry__V1__AddMembershipRequest add =
        CONCERTO__REGISTRY__V1__ADD_MEMBERSHIP_REQUEST__INIT;
    add.table_id = CELL("table_id");
    add.organization_id = CELL("organization_id");
    add.role = CELL("role");
    add.joined_on = CELL("joined_on");
    add.notes = CELL("notes");
    if (!add.joined_on) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "joined_on", "is required in imports");
        return;
    }
    if (registry_membership_add(ctx, &add, NULL) != STATUS_OK)
        return;
    const char *left = cell(f, row, "left_on");
    if (left) {
        Concerto__Registry__V1__EndMembershipRequest end =
            CONCERTO__REGISTRY__V1__END_MEMBERSHIP_REQUEST__INIT;
        end.table_id = add.table_id;
        end.organization_id = add.organization_id;
        end.left_on = (char *)left;
        if (registry_membership_end(ctx, &end, NULL) != STATUS_OK)
            return;
    }
    (*count)++;
}

/* Header checks: every required column present, no unknown column. */
static void import_check_header(reg_ctx_t *ctx, const import_file_t *f, const import_format_t *fmt)
{
    ctx->line = 1;
    for (size_t i = 0; fmt->required[i]; i++)
        if (registry_csv_column(f->csv, fmt->required[i]) < 0)
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, fmt->required[i],
                          "column is missing from the header");
    for (size_t i = 0; i < f->csv->n_columns; i++) {
        const char *col = f->csv->columns[i];
        if (!registry_in_vocabulary(fmt->required, col) &&
            !registry_in_vocabulary(fmt->optional, col))
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, col, "is not a column of %s files",
                          fmt->kind);
    }
}

static int import_kind_index(const char *kind)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kind && strcmp(import_formats[i].kind, kind) == 0)
            return (int)i;
    return -1;
}

/* Checks the request and parses its files into files[kind index]. */
static void import_prepare(reg_ctx_t *ctx, const Concerto__Registry__V1__ImportRequest *req,
                           import_file_t files[N_KINDS])
{
    if (!req->n_files || req->n_files > N_KINDS) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "files", "must hold 1 to %zu files",
                      (size_t)N_KINDS);
        return;
    }
    size_t total = 0;
    for (size_t i = 0; i < req->n_files; i++) {
        const Concerto__Registry__V1__ImportFile *file = req->files[i];
        char path[40];
        snprintf(path, sizeof path, "files[%zu].kind", i);
        if (!reg_check_code(ctx, path, file->kind, import_kinds, 1))
            continue;
        int k = import_kind_index(file->kind);
        if (files[k].file) {
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "%s appears twice", file->kind);
            continue;
        }
        snprintf(path, sizeof path, "files[%zu].name", i);
        if (file->name && *file->name &&
            (registry_check_text(file->name, 100, 0) != REGISTRY_TEXT_OK ||
             strchr(file->name, ':'))) {
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "must be at most 100 characters, without ':'");
            continue;
        }
        files[k].file = file;
        files[k].name =
            file->name && *file->name ? xstrdup(file->name) : xasprintf("%s.csv", file->kind);
        total += file->content ? strlen(file->content) : 0;
    }
    if (total > REGISTRY_IMPORT_MAX_BYTES)
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "files",
                      "hold %zu bytes of CSV; at most %d in one import", total,
                      REGISTRY_IMPORT_MAX_BYTES);
    if (ctx->problems)
        return;
    const registry_csv_limits_t limits = {REGISTRY_IMPORT_MAX_ROWS, 40, REGISTRY_IMPORT_MAX_CELL};
    for (size_t k = 0; k < N_KINDS; k++) {
        import_file_t *f = &files[k];
        if (!f->file)
            continue;
        const char *text = f->file->content ? f->file->content : "";
        registry_csv_error_t err;
        ctx->file = f->name;
        registry_text_problem_t p = registry_check_text(text, SIZE_MAX, 1);
        if (p == REGISTRY_TEXT_BAD_UTF8 || p == REGISTRY_TEXT_CONTROL) {
            ctx->line = 1;
            reg_problem(ctx, STATUS_INVALID_ARGUMENT, "the file %s", registry_text_problem_text(p));
        } else if (registry_csv_parse(text, strlen(text), &limits, &f->csv, &err) != 0) {
            ctx->line = err.line ? err.line : 1;
            reg_problem(ctx, STATUS_INVALID_ARGUMENT, "%s", err.message);
        } else {
            import_check_header(ctx, f, &import_formats[k]);
        }
        ctx->file = NULL;
    }
}

static void import_apply(reg_ctx_t *ctx, import_file_t files[N_KINDS],
                         Concerto__Registry__V1__ImportResult *res)
{
    typedef void (*row_fn)(reg_ctx_t *, const import_file_t *, const registry_csv_row_t *,
                           unsigned *);
    static const row_fn fns[N_KINDS] = {import_territory, import_organization, import_table,
                                        import_membership};
    unsigned *counts[N_KINDS] = {&res->territories, &res->organizations, &res->tables,
                                 &res->memberships};
    for (size_t k = 0; k < N_KINDS; k++) {
        import_file_t *f = &files[k];
        if (!f->csv)
            continue;
        ctx->file = f->name;
        for (size_t r = 0; r < f->csv->n_rows; r++) {
            if (ctx->problems >= REGISTRY_IMPORT_MAX_PROBLEMS) {
                ctx->line = f->csv->rows[r].line;
                reg_problem(ctx, STATUS_INVALID_ARGUMENT,
                            "stopped after %d problems; fix these and import again",
                            REGISTRY_IMPORT_MAX_PROBLEMS);
                ctx->file = NULL;
                return;
            }
            ctx->line = f->csv->rows[r].line;
            fns[k](ctx, f, &f->csv->rows[r], counts[k]);
        }
        ctx->file = NULL;
    }
}

static int import_handle(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ImportRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    import_file_t files[N_KINDS];
    memset(files, 0, sizeof files);
    Concerto__Registry__V1__ImportResult res = CONCERTO__REGISTRY__V1__IMPORT_RESULT__INIT;
    import_prepare(&ctx, req, files);
    if (!ctx.problems)
        import_apply(&ctx, files, &res);
    for (size_t k = 0; k < N_KINDS; k++) {
        registry_csv_destroy(&files[k].csv);
        free(files[k].name);
    }
    if (ctx.problems)
        return service_call_fail(call, ctx.status,
                                 "import refused, nothing was written: %zu problem%s; first: %s",
                                 ctx.problems, ctx.problems > 1 ? "s" : "", ctx.message);
    res.has_territories = res.has_organizations = res.has_tables = res.has_memberships = 1;
    return service_call_reply(call, &res.base);
}

int registry_import_setup(service_t *svc, const registry_config_t *cfg)
{
    return service_on(svc, &concerto__registry__v1__import_request__descriptor, SERVICE_COMMAND,
                      import_handle, (void *)cfg);
}

/* Reads the whole of `fp` (opened from `path`, or NULL when that failed),
 * at most `max` bytes, and closes it; NULL with `err` otherwise. */
static char *import_read_file(FILE *fp, const char *path, size_t max, size_t *len, char *err,
                              size_t errlen)
{
    if (!fp) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = xmalloc(max + 2);
    size_t n = fread(buf, 1, max + 1, fp);
    int failed = ferror(fp);
    fclose(fp);
    if (failed || n > max) {
        snprintf(err, errlen, failed ? "cannot read %s" : "%s is larger than %zu bytes", path, max);
        free(buf);
        return NULL;
    }
    if (memchr(buf, '\0', n)) {
        snprintf(err, errlen, "%s contains a NUL byte; it is not a CSV text file", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

Concerto__Registry__V1__ImportRequest *registry_import_read_dir(const char *dir, char *err,
                                                                size_t errlen)
{
    Concerto__Registry__V1__ImportRequest *req = xmalloc(sizeof *req);
    concerto__registry__v1__import_request__init(req);
    req->files = xcalloc(N_KINDS, sizeof *req->files);
    size_t total = 0;
    for (size_t k = 0; k < N_KINDS; k++) {
        char *path = xasprintf("%s/%s.csv", dir, import_formats[k].kind);
        FILE *fp = fopen(path, "rb");
        if (!fp && errno == ENOENT) {
            free(path); /* that kind is not imported */
            continue;
        }
        size_t len = 0;
        char *text =
            import_read_file(fp, path, REGISTRY_IMPORT_MAX_BYTES - total, &len, err, errlen);
        free(path);
        if (!text) {
            protobuf_c_message_free_unpacked(&req->base, NULL);
            return NULL;
        }
        total += len;
        Concerto__Registry__V1__ImportFile *f = xmalloc(sizeof *f);
        concerto__registry__v1__import_file__init(f);
        f->kind = xstrdup(import_formats[k].kind);
        f->name = xasprintf("%s.csv", import_formats[k].kind);
        f->content = text;
        req->files[req->n_files++] = f;
    }
    if (!req->n_files) {
        snprintf(err, errlen,
                 "%s holds none of territories.csv, organizations.csv, tables.csv, "
                 "memberships.csv",
                 dir);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return NULL;
    }
    return req;
}
