/* registry_facts: one Table's facts in memory, on any date (see
 * registry_facts.h). */
#include "registry_facts.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "row.h"
#include "text.h"
#include "xalloc.h"

/* `items` (of `size` bytes each) with room for one more than the `n` it
 * holds: its room is always 8 or the power of two at or above n. */
static void *facts_grow(void *items, size_t n, size_t size)
{
    if (n == 0)
        return xrealloc(items, 8 * size);
    if (n >= 8 && (n & (n - 1)) == 0)
        return xrealloc(items, 2 * n * size);
    return items;
}

/* Steps `st` (bound) to its end, calling `read` on each row; 0, or -1
 * after recording a database error. */
static int facts_rows(ctx_t *ctx, sqlite3_stmt *st,
                      void (*read)(registry_table_facts_t *f, sqlite3_stmt *st),
                      registry_table_facts_t *f)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        read(f, st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    return rc == SQLITE_DONE ? 0 : -1;
}

/* `sql` with ?1 the Table; NULL on error (recorded). */
static sqlite3_stmt *facts_stmt(ctx_t *ctx, const char *sql, const char *table_id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (st)
        sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    return st;
}

static int facts_int_or_unknown(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int(st, col);
}

static void facts_copy_date(char out[CLOCK_DATE_LEN], sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) != SQLITE_NULL)
        snprintf(out, CLOCK_DATE_LEN, "%s", (const char *)sqlite3_column_text(st, col));
}

/* A row of a membership and one version of its organization's facts (none
 * when the organization has no version): rows come by membership, then
 * version. */
static void facts_read_member(registry_table_facts_t *f, sqlite3_stmt *st)
{
    int64_t id = sqlite3_column_int64(st, 0);
    if (!f->n_members || f->members[f->n_members - 1].id != id) {
        f->members = facts_grow(f->members, f->n_members, sizeof *f->members);
        registry_member_fact_t *m = &f->members[f->n_members++];
        memset(m, 0, sizeof *m);
        const char *role = (const char *)sqlite3_column_text(st, 2);
        m->id = id;
        m->org_id = row_text(st, 1);
        m->board = strcmp(role, "board") == 0;
        m->observer = strcmp(role, "observer") == 0;
        m->counts = !m->observer;
        facts_copy_date(m->joined, st, 3);
        facts_copy_date(m->left, st, 4);
        m->first = f->n_orgs;
    }
    if (sqlite3_column_type(st, 5) == SQLITE_NULL)
        return;
    f->orgs = facts_grow(f->orgs, f->n_orgs, sizeof *f->orgs);
    registry_org_version_t *o = &f->orgs[f->n_orgs++];
    memset(o, 0, sizeof *o);
    facts_copy_date(o->from, st, 5);
    o->sectors = text_words((const char *)sqlite3_column_text(st, 6), &o->n_sectors);
    o->network = row_text(st, 7);
    o->id = sqlite3_column_int64(st, 8);
    f->members[f->n_members - 1].n_versions++;
}

static void facts_read_governance(registry_table_facts_t *f, sqlite3_stmt *st)
{
    f->governance = facts_grow(f->governance, f->n_governance, sizeof *f->governance);
    registry_governance_version_t *g = &f->governance[f->n_governance++];
    memset(g, 0, sizeof *g);
    facts_copy_date(g->from, st, 0);
    g->incorporated = facts_int_or_unknown(st, 1);
    g->bylaws_adopted_on = row_text(st, 2);
    g->board_seats = facts_int_or_unknown(st, 3);
    g->meetings_per_year = facts_int_or_unknown(st, 4);
    g->id = sqlite3_column_int64(st, 5);
}

/* The days with an attestation, each with its last author: one index seek
 * a day from the latest back, however many were recorded (a partner may
 * attest every day). 0, or -1 on a database error (recorded). */
static int facts_attestation_days(ctx_t *ctx, registry_table_facts_t *f)
{
    sqlite3_stmt *st = facts_stmt(ctx,
                                  "SELECT attested_on, author FROM attestation"
                                  " WHERE table_id = ?1 AND attested_on < ?2"
                                  " ORDER BY attested_on DESC, id DESC LIMIT 1",
                                  f->table_id);
    /* Later than any date. */
    char before[CLOCK_DATE_LEN] = "9999-12-31";
    int rc = SQLITE_ROW;
    while (st && rc == SQLITE_ROW) {
        sqlite3_bind_text(st, 2, before, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            f->attestations =
                facts_grow(f->attestations, f->n_attestations, sizeof *f->attestations);
            registry_attestation_fact_t *a = &f->attestations[f->n_attestations++];
            facts_copy_date(a->on, st, 0);
            a->author = row_text(st, 1);
            memcpy(before, a->on, CLOCK_DATE_LEN);
        }
        sqlite3_reset(st);
    }
    if (st && rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    /* Oldest first. */
    for (size_t i = 0; i < f->n_attestations / 2; i++) {
        registry_attestation_fact_t a = f->attestations[i];
        f->attestations[i] = f->attestations[f->n_attestations - 1 - i];
        f->attestations[f->n_attestations - 1 - i] = a;
    }
    return st && rc == SQLITE_DONE ? 0 : -1;
}

/* The registration day: when its first status was recorded. 0, or -1
 * when the Table is not registered (nothing recorded) or on error. */
static int facts_registration(ctx_t *ctx, registry_table_facts_t *f)
{
    sqlite3_stmt *st = facts_stmt(ctx,
                                  "SELECT (SELECT recorded_on FROM recognition_change c"
                                  " WHERE c.table_id = t.id ORDER BY c.id LIMIT 1)"
                                  " FROM concertation_table t WHERE id = ?1",
                                  f->table_id);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        facts_copy_date(f->registered_on, st, 0);
    else if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* What a Table's facts are read from (?1 the Table), each row by its
 * reader. */
static const struct {
    const char *sql;
    void (*read)(registry_table_facts_t *f, sqlite3_stmt *st);
} facts_queries[] = {
    {"SELECT m.id, m.organization_id, m.role, m.joined_on, m.left_on, f.effective_on,"
     " f.sectors, f.network, f.id FROM membership m LEFT JOIN organization_fact f"
     " ON f.organization_id = m.organization_id WHERE m.table_id = ?1"
     " ORDER BY m.id, f.effective_on, f.id",
     facts_read_member},
    {"SELECT effective_on, incorporated, bylaws_adopted_on, board_seats, meetings_per_year, id"
     " FROM governance_fact WHERE table_id = ?1 ORDER BY effective_on, id",
     facts_read_governance},
};

int registry_facts_load(ctx_t *ctx, const char *table_id, registry_table_facts_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->table_id, sizeof out->table_id, "%s", table_id);
    out->observers_in_networks = registry_config()->observers_in_networks;
    int ok = facts_registration(ctx, out) == 0;
    for (size_t i = 0; ok && i < sizeof facts_queries / sizeof facts_queries[0]; i++) {
        sqlite3_stmt *st = facts_stmt(ctx, facts_queries[i].sql, table_id);
        ok = st && facts_rows(ctx, st, facts_queries[i].read, out) == 0;
    }
    if (!ok || facts_attestation_days(ctx, out) != 0) {
        registry_facts_clear(out);
        return -1;
    }
    return 0;
}

void registry_facts_clear(registry_table_facts_t *f)
{
    for (size_t i = 0; i < f->n_members; i++)
        free(f->members[i].org_id);
    for (size_t i = 0; i < f->n_orgs; i++) {
        text_words_free(f->orgs[i].sectors, f->orgs[i].n_sectors);
        free(f->orgs[i].network);
    }
    for (size_t i = 0; i < f->n_governance; i++)
        free(f->governance[i].bylaws_adopted_on);
    for (size_t i = 0; i < f->n_attestations; i++)
        free(f->attestations[i].author);
    free(f->members);
    free(f->orgs);
    free(f->governance);
    free(f->attestations);
    memset(f, 0, sizeof *f);
}

static int facts_active(const registry_member_fact_t *m, const char *date)
{
    return strcmp(m->joined, date) <= 0 && (!m->left[0] || strcmp(m->left, date) > 0);
}

/* The version in force on `date` among `n` versions by date (each `size`
 * bytes, its date at `from` and its recording order at `id`): the last
 * from on or before it, else the one recorded first; NULL when there is
 * none. */
static const void *facts_version_at(const void *versions, size_t n, size_t size, size_t from,
                                    size_t id, const char *date)
{
    const char *base = versions, *found = NULL, *first = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *v = base + i * size;
        if (strcmp(v + from, date) <= 0)
            found = v;
        if (!first || *(const int64_t *)(v + id) < *(const int64_t *)(first + id))
            first = v;
    }
    return found ? found : first;
}

static int facts_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds `s` to the distinct values `seen`. */
static void facts_distinct_add(const char **seen, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(seen[i], s) == 0)
            return;
    seen[(*n)++] = s;
}

/* The values sorted and joined with ", ". */
static char *facts_join(const char **values, size_t n)
{
    qsort(values, n, sizeof *values, facts_cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(values[i]) + 2;
    char *out = xmalloc(len);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ", ");
        strcat(out, values[i]);
    }
    return out;
}

static void facts_governance_on(const registry_table_facts_t *f, const char *date,
                                registry_facts_t *out)
{
    const registry_governance_version_t *g =
        facts_version_at(f->governance, f->n_governance, sizeof *f->governance,
                         offsetof(registry_governance_version_t, from),
                         offsetof(registry_governance_version_t, id), date);
    out->incorporated = g ? g->incorporated : -1;
    out->bylaws_adopted_on = g ? g->bylaws_adopted_on : NULL;
    out->board_seats = g ? g->board_seats : -1;
    out->meetings_per_year = g ? g->meetings_per_year : -1;
}

void registry_facts_on(const registry_table_facts_t *f, const char *date, registry_facts_t *out,
                       registry_facts_detail_t *detail)
{
    memset(out, 0, sizeof *out);
    out->as_of = date;
    facts_governance_on(f, date, out);
    size_t room = 1;
    for (size_t i = 0; i < f->n_orgs; i++)
        room += f->orgs[i].n_sectors;
    const char **sectors = xcalloc(room, sizeof *sectors);
    const char **networks = xcalloc(f->n_members + 1, sizeof *networks);
    for (size_t i = 0; i < f->n_members; i++) {
        const registry_member_fact_t *m = &f->members[i];
        if (!facts_active(m, date))
            continue;
        out->board_members += m->board;
        const registry_org_version_t *o = facts_version_at(
            f->orgs + m->first, m->n_versions, sizeof *f->orgs,
            offsetof(registry_org_version_t, from), offsetof(registry_org_version_t, id), date);
        if (!o)
            continue;
        if (m->counts || (m->observer && f->observers_in_networks))
            facts_distinct_add(networks, &out->n_networks, o->network);
        for (size_t s = 0; m->counts && s < o->n_sectors; s++)
            facts_distinct_add(sectors, &out->n_sectors, o->sectors[s]);
    }
    const registry_attestation_fact_t *latest = NULL;
    for (size_t i = 0; i < f->n_attestations && strcmp(f->attestations[i].on, date) <= 0; i++)
        latest = &f->attestations[i];
    out->attestation_on = latest ? latest->on : NULL;
    if (detail) {
        detail->sectors = facts_join(sectors, out->n_sectors);
        detail->networks = facts_join(networks, out->n_networks);
        detail->attestation_author = latest ? latest->author : NULL;
    }
    free(sectors);
    free(networks);
}

void registry_facts_detail_clear(registry_facts_detail_t *d)
{
    free(d->sectors);
    free(d->networks);
    memset(d, 0, sizeof *d);
}

static int facts_cmp_date(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Appends `date` to d[*n] when it is one. */
static void facts_date_add(char (*d)[CLOCK_DATE_LEN], size_t *n, const char *date)
{
    if (date && date[0])
        snprintf(d[(*n)++], CLOCK_DATE_LEN, "%s", date);
}

size_t registry_facts_dates(const registry_table_facts_t *f, char (**out)[CLOCK_DATE_LEN])
{
    size_t cap = 1 + 2 * f->n_members + f->n_orgs + 2 * f->n_governance + 2 * f->n_attestations,
           n = 0;
    char(*d)[CLOCK_DATE_LEN] = xcalloc(cap + 1, sizeof *d);
    /* Before every dated fact: the facts as they were "since always" (the
     * first versions, no member yet). */
    snprintf(d[n++], CLOCK_DATE_LEN, "%d-01-01", CLOCK_MIN_YEAR);
    facts_date_add(d, &n, f->registered_on);
    for (size_t i = 0; i < f->n_members; i++) {
        facts_date_add(d, &n, f->members[i].joined);
        facts_date_add(d, &n, f->members[i].left);
    }
    for (size_t i = 0; i < f->n_orgs; i++)
        facts_date_add(d, &n, f->orgs[i].from);
    for (size_t i = 0; i < f->n_governance; i++) {
        facts_date_add(d, &n, f->governance[i].from);
        facts_date_add(d, &n, f->governance[i].bylaws_adopted_on);
    }
    for (size_t i = 0; i < f->n_attestations; i++) {
        facts_date_add(d, &n, f->attestations[i].on);
        /* The first day it is too old to count. */
        if (date_add_days(f->attestations[i].on, REGISTRY_ATTESTATION_VALID_DAYS + 1, d[n]) == 0)
            n++;
    }
    qsort(d, n, sizeof *d, facts_cmp_date);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(d[u - 1], d[i]) != 0)
            memmove(d[u++], d[i], CLOCK_DATE_LEN);
    *out = d;
    return u;
}
