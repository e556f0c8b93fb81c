/* registry_facts: one Table's facts in memory, on any date (see
 * registry_facts.h). */
#include "registry_facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "row.h"
#include "xalloc.h"

static int facts_table(ctx_t *ctx, const char *table_id, registry_table_facts_t *f)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT (SELECT recorded_on FROM recognition_change c"
                                     " WHERE c.table_id = t.id ORDER BY c.id LIMIT 1),"
                                     " incorporated, bylaws_adopted_on, board_seats,"
                                     " meetings_per_year FROM concertation_table t WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            snprintf(f->registered_on, sizeof f->registered_on, "%s",
                     (const char *)sqlite3_column_text(st, 0));
        f->incorporated =
            sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 1);
        f->bylaws_adopted_on = row_text(st, 2);
        f->board_seats = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 3);
        f->meetings_per_year =
            sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
    } else if (rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "table_id");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int facts_members(ctx_t *ctx, registry_table_facts_t *f)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT m.organization_id, m.role, m.joined_on, m.left_on,"
                                     " o.sector, o.network FROM membership m"
                                     " JOIN organization o ON o.id = m.organization_id"
                                     " WHERE m.table_id = ? ORDER BY m.id");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, f->table_id, -1, SQLITE_TRANSIENT);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->n_members == cap) {
            cap = cap ? 2 * cap : 16;
            f->members = xrealloc(f->members, cap * sizeof *f->members);
        }
        registry_member_fact_t *m = &f->members[f->n_members++];
        memset(m, 0, sizeof *m);
        const char *role = (const char *)sqlite3_column_text(st, 1);
        m->org_id = row_text(st, 0);
        m->board = strcmp(role, "board") == 0;
        m->counts = strcmp(role, "observer") != 0;
        snprintf(m->joined, sizeof m->joined, "%s", (const char *)sqlite3_column_text(st, 2));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            snprintf(m->left, sizeof m->left, "%s", (const char *)sqlite3_column_text(st, 3));
        m->sector = row_text(st, 4);
        m->network = row_text(st, 5);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    return rc == SQLITE_DONE ? 0 : -1;
}

static int facts_attestations(ctx_t *ctx, registry_table_facts_t *f)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT attested_on, author FROM attestation"
                                     " WHERE table_id = ? ORDER BY attested_on, id");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, f->table_id, -1, SQLITE_TRANSIENT);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->n_attestations == cap) {
            cap = cap ? 2 * cap : 8;
            f->attestations = xrealloc(f->attestations, cap * sizeof *f->attestations);
        }
        registry_attestation_fact_t *a = &f->attestations[f->n_attestations++];
        snprintf(a->on, sizeof a->on, "%s", (const char *)sqlite3_column_text(st, 0));
        a->author = row_text(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    return rc == SQLITE_DONE ? 0 : -1;
}

int registry_facts_load(ctx_t *ctx, const char *table_id, registry_table_facts_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->table_id, sizeof out->table_id, "%s", table_id);
    if (facts_table(ctx, table_id, out) != 0 || facts_members(ctx, out) != 0 ||
        facts_attestations(ctx, out) != 0) {
        registry_facts_clear(out);
        return -1;
    }
    return 0;
}

void registry_facts_clear(registry_table_facts_t *f)
{
    for (size_t i = 0; i < f->n_members; i++) {
        free(f->members[i].org_id);
        free(f->members[i].sector);
        free(f->members[i].network);
    }
    for (size_t i = 0; i < f->n_attestations; i++)
        free(f->attestations[i].author);
    free(f->members);
    free(f->attestations);
    free(f->bylaws_adopted_on);
    memset(f, 0, sizeof *f);
}

static int facts_active(const registry_member_fact_t *m, const char *date)
{
    return strcmp(m->joined, date) <= 0 && (!m->left[0] || strcmp(m->left, date) > 0);
}

static int facts_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds `s` to the distinct values `seen` (room for every member). */
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

void registry_facts_on(const registry_table_facts_t *f, const char *date, registry_facts_t *out,
                       registry_facts_detail_t *detail)
{
    memset(out, 0, sizeof *out);
    out->as_of = date;
    out->incorporated = f->incorporated;
    out->bylaws_adopted_on = f->bylaws_adopted_on;
    out->board_seats = f->board_seats;
    out->meetings_per_year = f->meetings_per_year;
    const char **sectors = xcalloc(f->n_members + 1, sizeof *sectors);
    const char **networks = xcalloc(f->n_members + 1, sizeof *networks);
    for (size_t i = 0; i < f->n_members; i++) {
        const registry_member_fact_t *m = &f->members[i];
        if (!facts_active(m, date))
            continue;
        out->board_members += m->board;
        if (!m->counts)
            continue;
        facts_distinct_add(sectors, &out->n_sectors, m->sector);
        facts_distinct_add(networks, &out->n_networks, m->network);
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

size_t registry_facts_dates(const registry_table_facts_t *f, char (**out)[CLOCK_DATE_LEN])
{
    size_t cap = 2 + 2 * f->n_members + 2 * f->n_attestations, n = 0;
    char(*d)[CLOCK_DATE_LEN] = xcalloc(cap, sizeof *d);
    if (f->registered_on[0])
        snprintf(d[n++], CLOCK_DATE_LEN, "%s", f->registered_on);
    if (f->bylaws_adopted_on)
        snprintf(d[n++], CLOCK_DATE_LEN, "%s", f->bylaws_adopted_on);
    for (size_t i = 0; i < f->n_members; i++) {
        snprintf(d[n++], CLOCK_DATE_LEN, "%s", f->members[i].joined);
        if (f->members[i].left[0])
            snprintf(d[n++], CLOCK_DATE_LEN, "%s", f->members[i].left);
    }
    for (size_t i = 0; i < f->n_attestations; i++) {
        snprintf(d[n++], CLOCK_DATE_LEN, "%s", f->attestations[i].on);
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
