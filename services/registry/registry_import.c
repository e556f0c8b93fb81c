/* registry_import: the registry's kinds of CSV file and how a row of each
 * becomes the message its single-entity command takes (see
 * registry_import.h); the frame (request checks, parsing, headers, places,
 * limits) is common/import.c. A failed import answers non-OK and the
 * runtime rolls the whole request back. */
#include "registry_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "import.h"
#include "registry.h"
#include "registry_decision.h"
#include "registry_recognition.h"
#include "registry_timeline.h"
#include "registry_validate.h"
#include "shape.h"
#include "text.h"
#include "date.h"
#include "xalloc.h"

/* Sectors a row may list (more are refused by the organization's checks). */
#define REGISTRY_IMPORT_MAX_SECTORS 12

/* Borrowed strings: the cells outlive the message built from them. */
#define CELL(col) ((char *)import_cell(row, col))

/* The Tables an import registers or adds members to: their
 * characteristics are evaluated once, at the end. */
typedef struct {
    char **ids;
    size_t n;
} import_touched_t;

static void import_touch(void *arg, const char *table_id)
{
    import_touched_t *t = arg;
    if (t->n && strcmp(t->ids[t->n - 1], table_id) == 0)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->ids[i], table_id) == 0)
            return;
    t->ids = xrealloc(t->ids, (t->n + 1) * sizeof *t->ids);
    t->ids[t->n++] = xstrdup(table_id);
}

/* Splits a list cell at any of `separators` into new strings, each
 * without the spaces around it: "fr; en" by ";, ", "Little Burgundy;
 * La Petite-Bourgogne" by ";". */
static size_t import_list(const char *s, const char *separators, char **out, size_t max)
{
    size_t n = 0;
    while (s && *s && n < max) {
        s += strspn(s, separators);
        s += strspn(s, " ");
        size_t len = strcspn(s, separators);
        while (len && s[len - 1] == ' ')
            len--;
        if (len)
            out[n++] = xstrndup(s, len);
        s += len;
        s += strspn(s, " ");
    }
    return n;
}

static int import_territory(ctx_t *ctx, const import_row_t *row, void *arg)
{
    (void)arg;
    size_t mark = ctx->problems;
    reg_territory_t t = CONCERTO__REGISTRY__V1__TERRITORY__INIT;
    t.id = CELL("id");
    t.name = CELL("name");
    t.kind = CELL("kind");
    t.parent_id = CELL("parent_id");
    t.boundary = CELL("boundary");
    t.source_url = CELL("source_url");
    t.notes = CELL("notes");
    t.has_population = import_cell_int(ctx, row, "population", &t.population) == 1;
    char *aliases[REGISTRY_MAX_ALIASES + 1];
    t.n_aliases = import_list(import_cell(row, "aliases"), ";", aliases, REGISTRY_MAX_ALIASES + 1);
    t.aliases = aliases;
    /* Checked whole even after a bad cell, so that every problem of the
     * row is reported; the import is refused anyway. */
    int applied = registry_territory_register(ctx, &t, NULL) == STATUS_OK && ctx->problems == mark;
    for (size_t i = 0; i < t.n_aliases; i++)
        free(aliases[i]);
    return applied;
}

static int import_organization(ctx_t *ctx, const import_row_t *row, void *arg)
{
    (void)arg;
    reg_organization_t o = CONCERTO__REGISTRY__V1__ORGANIZATION__INIT;
    o.id = CELL("id");
    o.name = CELL("name");
    o.sector = CELL("sector");
    char *sectors[REGISTRY_IMPORT_MAX_SECTORS + 1];
    o.n_sectors =
        import_list(import_cell(row, "sectors"), ";, ", sectors, REGISTRY_IMPORT_MAX_SECTORS + 1);
    o.sectors = sectors;
    o.network = CELL("network");
    o.neq = CELL("neq");
    o.website = CELL("website");
    o.source_url = CELL("source_url");
    o.notes = CELL("notes");
    int applied = registry_organization_register(ctx, &o, NULL) == STATUS_OK;
    for (size_t i = 0; i < o.n_sectors; i++)
        free(sectors[i]);
    return applied;
}

/* A count cell of the governance: set when it is a whole number in range. */
static void import_count(ctx_t *ctx, const import_row_t *row, const char *col,
                         protobuf_c_boolean *has, uint32_t *val)
{
    int64_t v;
    if (import_cell_int(ctx, row, col, &v) != 1)
        return;
    if (v < 0 || v > UINT32_MAX) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, col, "is out of range");
        return;
    }
    *has = 1;
    *val = (uint32_t)v;
}

/* The recognition columns, checked like ChangeRecognitionRequest's. */
static void import_recognition(ctx_t *ctx, const import_row_t *row, const reg_table_t *t)
{
    const char *status = import_cell(row, "recognition_status");
    field_word(ctx, "recognition_status", status, registry_statuses, 0);
    field_date(ctx, "recognition_since", import_cell(row, "recognition_since"), 0);
    field_text(ctx, "recognition_reason", import_cell(row, "recognition_reason"),
               REGISTRY_MAX_REASON, FIELD_MULTILINE);
    if (status && strcmp(status, "recognized") == 0 && !t->mandataire_id)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "recognition_status",
                      "a recognized Table needs a mandataire_id");
}

/* Registers the row's Table with its first status: imported history,
 * whose characteristics are not checked, dated recognition_since or, when
 * the sources give no date, unknown (recorded on the import's day). */
static status_t import_table_register(ctx_t *ctx, const import_row_t *row, reg_table_t *t)
{
    /* Cells import_recognition refused are left out: the row is checked
     * whole, and its refused values must not reach the database. */
    const char *status = import_cell(row, "recognition_status");
    const char *since = import_cell(row, "recognition_since");
    const char *reason = import_cell(row, "recognition_reason");
    if (status && !shape_word(registry_statuses, status))
        status = NULL;
    if (since && !date_valid(since))
        since = NULL;
    if (reason && text_check(reason, REGISTRY_MAX_REASON, 1) != TEXT_OK)
        reason = NULL;
    char default_reason[200];
    snprintf(default_reason, sizeof default_reason, "imported from %s line %zu", row->file,
             row->row->line);
    registry_decision_t first = {
        .status = status ? status : REGISTRY_STATUS_INITIAL,
        .effective_on = since ? since : ctx->today,
        .effective_known = since != NULL,
        .reason = reason ? reason : default_reason,
        .origin = "import",
        .exemption =
            strcmp(ctx->actor, REGISTRY_DEMO_ACTOR) == 0 ? "demo data" : "imported history",
    };
    if (registry_table_register(ctx, t, &first, NULL) != STATUS_OK)
        return ctx->last_status;
    /* Imported history is exempt from the characteristics, never from
     * coverage. */
    if (strcmp(first.status, "recognized") == 0)
        registry_coverage_check(ctx, t->id, t->territory_id, since ? since : "",
                                t->overlap_justification, "recognition_status");
    return ctx->problems ? ctx->last_status : STATUS_OK;
}

static int import_table(ctx_t *ctx, const import_row_t *row, void *arg)
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
    t.overlap_justification = CELL("overlap_justification");
    int64_t v;
    if (import_cell_int(ctx, row, "founding_year", &v) == 1) {
        if (v < INT32_MIN || v > INT32_MAX)
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "founding_year", "is out of range");
        t.has_founding_year = 1;
        t.founding_year = (int32_t)v;
    }
    c.email = CELL("email");
    c.phone = CELL("phone");
    c.website = CELL("website");
    c.address = CELL("address");
    t.contact = &c;
    char *langs[REGISTRY_MAX_LANGUAGES + 1];
    t.n_languages =
        import_list(import_cell(row, "languages"), ";, ", langs, REGISTRY_MAX_LANGUAGES + 1);
    t.languages = langs;
    g.has_incorporated = import_cell_bool(ctx, row, "incorporated", &g.incorporated) == 1;
    g.bylaws_adopted_on = CELL("bylaws_adopted_on");
    import_count(ctx, row, "board_seats", &g.has_board_seats, &g.board_seats);
    import_count(ctx, row, "meetings_per_year", &g.has_meetings_per_year, &g.meetings_per_year);
    import_count(ctx, row, "paid_staff", &g.has_paid_staff, &g.paid_staff);
    t.governance = &g;
    t.has_uncertain = import_cell_bool(ctx, row, "uncertain", &t.uncertain) == 1;
    import_recognition(ctx, row, &t);
    /* Checked whole even after a bad cell (see import_territory). */
    int applied = import_table_register(ctx, row, &t) == STATUS_OK && ctx->problems == mark;
    if (applied)
        import_touch(arg, t.id);
    for (size_t i = 0; i < t.n_languages; i++)
        free(langs[i]);
    return applied;
}

static int import_membership(ctx_t *ctx, const import_row_t *row, void *arg)
{
    Concerto__Registry__V1__AddMembershipRequest add =
        CONCERTO__REGISTRY__V1__ADD_MEMBERSHIP_REQUEST__INIT;
    add.table_id = CELL("table_id");
    add.organization_id = CELL("organization_id");
    add.role = CELL("role");
    add.joined_on = CELL("joined_on");
    add.notes = CELL("notes");
    if (!add.joined_on) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "joined_on", "is required in imports");
        return 0;
    }
    if (registry_membership_add(ctx, &add, NULL) != STATUS_OK)
        return 0;
    import_touch(arg, add.table_id);
    const char *left = import_cell(row, "left_on");
    if (!left)
        return 1;
    Concerto__Registry__V1__EndMembershipRequest end =
        CONCERTO__REGISTRY__V1__END_MEMBERSHIP_REQUEST__INIT;
    end.table_id = add.table_id;
    end.organization_id = add.organization_id;
    end.left_on = (char *)left;
    return registry_membership_end(ctx, &end, NULL) == STATUS_OK;
}

static const char *const territory_required[] = {"id", "name", "kind", NULL};
static const char *const territory_optional[] = {
    "parent_id", "population", "boundary", "source_url", "notes", "aliases", NULL};
static const char *const organization_required[] = {"id", "name", "network", NULL};
static const char *const organization_optional[] = {"sector",     "sectors", "neq", "website",
                                                    "source_url", "notes",   NULL};
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
                                             "overlap_justification",
                                             NULL};
static const char *const membership_required[] = {"table_id", "organization_id", "joined_on", NULL};
static const char *const membership_optional[] = {"role", "left_on", "notes", NULL};

/* The kinds, in the order they are applied. */
static const import_kind_t registry_import_kinds[] = {
    {"territories", territory_required, territory_optional, import_territory},
    {"organizations", organization_required, organization_optional, import_organization},
    {"tables", table_required, table_optional, import_table},
    {"memberships", membership_required, membership_optional, import_membership},
};
#define N_KINDS (sizeof registry_import_kinds / sizeof registry_import_kinds[0])

int registry_handle_import(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ImportRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    import_file_t *files = xcalloc(req->n_files + 1, sizeof *files);
    for (size_t i = 0; i < req->n_files; i++)
        files[i] =
            (import_file_t){req->files[i]->kind, req->files[i]->name, req->files[i]->content};
    (void)arg;
    unsigned counts[N_KINDS];
    import_touched_t touched = {NULL, 0};
    int rc =
        import_run(&ctx, registry_import_kinds, N_KINDS, files, req->n_files, &touched, counts);
    free(files);
    for (size_t i = 0; i < touched.n; i++) {
        if (rc == 0 && registry_timeline_refresh(&ctx, touched.ids[i], "import", NULL) != STATUS_OK)
            rc = -1;
        free(touched.ids[i]);
    }
    free(touched.ids);
    if (rc != 0)
        return import_fail(&ctx);
    Concerto__Registry__V1__ImportResult res = CONCERTO__REGISTRY__V1__IMPORT_RESULT__INIT;
    res.has_territories = res.has_organizations = res.has_tables = res.has_memberships = 1;
    res.territories = counts[0];
    res.organizations = counts[1];
    res.tables = counts[2];
    res.memberships = counts[3];
    return service_call_reply(call, &res.base);
}

Concerto__Registry__V1__ImportRequest *
registry_import_read_dir(const char *dir, const char *encoding, char *err, size_t errlen)
{
    char *contents[N_KINDS];
    if (import_read_dir(dir, registry_import_kinds, N_KINDS, encoding, contents, err, errlen) < 0)
        return NULL;
    Concerto__Registry__V1__ImportRequest *req = xmalloc(sizeof *req);
    concerto__registry__v1__import_request__init(req);
    req->files = xcalloc(N_KINDS, sizeof *req->files);
    for (size_t k = 0; k < N_KINDS; k++) {
        if (!contents[k])
            continue;
        Concerto__Registry__V1__ImportFile *f = xmalloc(sizeof *f);
        concerto__registry__v1__import_file__init(f);
        f->kind = xstrdup(registry_import_kinds[k].kind);
        f->name = xasprintf("%s.csv", registry_import_kinds[k].kind);
        f->content = contents[k];
        req->files[req->n_files++] = f;
    }
    return req;
}
