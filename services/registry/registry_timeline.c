/* registry_timeline: the evaluation over time and CharacteristicsChanged
 * (see registry_timeline.h). */
#include "registry_timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "row.h"
#include "xalloc.h"

unsigned registry_timeline_met_on(const registry_table_facts_t *f, const registry_thresholds_t *th,
                                  const char *date)
{
    registry_facts_t facts;
    registry_facts_on(f, date, &facts, NULL);
    return registry_evaluate_met(&facts, th);
}

size_t registry_timeline_build(const registry_table_facts_t *f, const registry_thresholds_t *th,
                               registry_period_t **out)
{
    char(*dates)[CLOCK_DATE_LEN] = NULL;
    size_t n_dates = registry_facts_dates(f, &dates);
    registry_period_t *p = xcalloc(n_dates ? n_dates : 1, sizeof *p);
    size_t n = 0;
    for (size_t i = 0; i < n_dates; i++) {
        unsigned met = registry_timeline_met_on(f, th, dates[i]);
        if (n && p[n - 1].met == met)
            continue;
        snprintf(p[n].starts_on, CLOCK_DATE_LEN, "%s", dates[i]);
        p[n++].met = met;
    }
    free(dates);
    *out = p;
    return n;
}

char *registry_timeline_text(const registry_period_t *p, size_t n)
{
    char *out = xmalloc(n * (CLOCK_DATE_LEN + 4) + 1);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(out + len, "%s%s:%u", i ? ";" : "", p[i].starts_on, p[i].met);
    return out;
}

int registry_timeline_parse(const char *text, registry_period_t **out, size_t *n)
{
    size_t cap = 1;
    for (const char *s = text; *s; s++)
        cap += *s == ';';
    registry_period_t *p = xcalloc(cap, sizeof *p);
    *n = 0;
    for (const char *s = text; *s;) {
        unsigned met;
        int used = 0;
        if (*n == cap || sscanf(s, "%10[0-9-]:%u%n", p[*n].starts_on, &met, &used) != 2 ||
            !date_valid(p[*n].starts_on) || met > REGISTRY_ALL_MET) {
            free(p);
            *out = NULL;
            return -1;
        }
        p[(*n)++].met = met;
        s += used;
        s += *s == ';';
    }
    *out = p;
    return 0;
}

/* The met bits of timeline p on `date`: nothing before its first period. */
static unsigned timeline_at(const registry_period_t *p, size_t n, const char *date)
{
    unsigned met = 0;
    for (size_t i = 0; i < n && strcmp(p[i].starts_on, date) <= 0; i++)
        met = p[i].met;
    return met;
}

int registry_timeline_diff(const registry_period_t *a, size_t na, const registry_period_t *b,
                           size_t nb, char out[CLOCK_DATE_LEN])
{
    /* Both are constant between their periods' starts: compare at each
     * start, in date order. */
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        const char *d;
        if (j == nb || (i < na && strcmp(a[i].starts_on, b[j].starts_on) <= 0))
            d = a[i].starts_on;
        else
            d = b[j].starts_on;
        if (timeline_at(a, na, d) != timeline_at(b, nb, d)) {
            snprintf(out, CLOCK_DATE_LEN, "%s", d);
            return 1;
        }
        while (i < na && strcmp(a[i].starts_on, d) <= 0)
            i++;
        while (j < nb && strcmp(b[j].starts_on, d) <= 0)
            j++;
    }
    return 0;
}

void registry_timeline_settings(char out[REGISTRY_SETTINGS_TEXT])
{
    const registry_config_t *cfg = registry_config();
    snprintf(out, REGISTRY_SETTINGS_TEXT, "%u,%u,%u,%d", cfg->min_sectors, cfg->min_networks,
             cfg->min_meetings, cfg->observers_in_networks);
}

void registry_unmet_codes(unsigned met, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < REGISTRY_CHAR_COUNT; i++)
        if (!(met & (1u << i)) && len < outlen)
            len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? " " : "",
                                    registry_characteristic_codes[i]);
}

/* The stored timeline and thresholds of the Table (both NULL when none). */
static void timeline_stored(ctx_t *ctx, const char *table_id, char **periods, char **thresholds)
{
    *periods = *thresholds = NULL;
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT periods, thresholds FROM characteristics_timeline"
                                     " WHERE table_id = ?");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *periods = row_text(st, 0);
        *thresholds = row_text(st, 1);
    } else if (rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "table_id");
    }
    sqlite3_reset(st);
}

static status_t timeline_store(ctx_t *ctx, const char *table_id, const char *periods,
                               const char *thresholds)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO characteristics_timeline(table_id, periods,"
                                     " thresholds) VALUES(:id, :periods, :thresholds)"
                                     " ON CONFLICT(table_id) DO UPDATE SET periods = :periods,"
                                     " thresholds = :thresholds");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":id", table_id);
    row_bind_text(st, ":periods", periods);
    row_bind_text(st, ":thresholds", thresholds);
    return ctx_step(ctx, st, "table_id");
}

static Concerto__Registry__V1__CharacteristicsPeriod *
timeline_period(const registry_period_t *p, const char *starts_on, const char *until)
{
    Concerto__Registry__V1__CharacteristicsPeriod *out = xmalloc(sizeof *out);
    concerto__registry__v1__characteristics_period__init(out);
    out->starts_on = xstrdup(starts_on);
    out->until = until ? xstrdup(until) : NULL;
    out->has_all_met = 1;
    out->all_met = p->met == REGISTRY_ALL_MET;
    out->met = xcalloc(REGISTRY_CHAR_COUNT, sizeof *out->met);
    out->unmet = xcalloc(REGISTRY_CHAR_COUNT, sizeof *out->unmet);
    for (int i = 0; i < REGISTRY_CHAR_COUNT; i++) {
        if (p->met & (1u << i))
            out->met[out->n_met++] = xstrdup(registry_characteristic_codes[i]);
        else
            out->unmet[out->n_unmet++] = xstrdup(registry_characteristic_codes[i]);
    }
    return out;
}

/* CharacteristicsChanged from `from` on: the evaluation on that date and
 * the periods from it. */
static status_t timeline_emit(ctx_t *ctx, const registry_table_facts_t *f,
                              const registry_thresholds_t *th, const registry_period_t *p, size_t n,
                              const char *from, const char *cause)
{
    Concerto__Registry__V1__CharacteristicsChanged ev =
        CONCERTO__REGISTRY__V1__CHARACTERISTICS_CHANGED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.table_id = (char *)f->table_id;
    ev.effective_on = (char *)from;
    ev.cause = (char *)cause;
    ev.characteristics = registry_characteristics_report(f, from, th);
    ev.periods = xcalloc(n + 1, sizeof *ev.periods);
    /* The period holding `from` starts the list, cut to start there. */
    registry_period_t before = {"", 0};
    size_t first = 0;
    while (first < n && strcmp(p[first].starts_on, from) <= 0)
        first++;
    const registry_period_t *holding = first ? &p[first - 1] : &before;
    ev.periods[ev.n_periods++] =
        timeline_period(holding, from, first < n ? p[first].starts_on : NULL);
    for (size_t i = first; i < n; i++)
        ev.periods[ev.n_periods++] =
            timeline_period(&p[i], p[i].starts_on, i + 1 < n ? p[i + 1].starts_on : NULL);
    status_t s = ctx_emit(ctx, "table", f->table_id, &ev.base);
    protobuf_c_message_free_unpacked(&ev.characteristics->base, NULL);
    for (size_t i = 0; i < ev.n_periods; i++)
        protobuf_c_message_free_unpacked(&ev.periods[i]->base, NULL);
    free(ev.periods);
    return s;
}

status_t registry_timeline_refresh(ctx_t *ctx, const char *table_id, const char *cause,
                                   int *changed)
{
    const registry_config_t *cfg = registry_config();
    registry_thresholds_t th = {cfg->min_sectors, cfg->min_networks, cfg->min_meetings};
    char thresholds[REGISTRY_SETTINGS_TEXT];
    registry_timeline_settings(thresholds);
    if (changed)
        *changed = 0;
    registry_table_facts_t f;
    if (registry_facts_load(ctx, table_id, &f) != 0)
        return ctx->problems ? ctx->last_status
                             : ctx_problem(ctx, STATUS_INTERNAL, "Table %s vanished", table_id);
    registry_period_t *now = NULL, *was = NULL;
    size_t n_now = registry_timeline_build(&f, &th, &now), n_was = 0;
    char *stored = NULL, *stored_th = NULL;
    timeline_stored(ctx, table_id, &stored, &stored_th);
    /* Unreadable or missing: compared with "nothing met", as a new Table. */
    if (stored && registry_timeline_parse(stored, &was, &n_was) != 0)
        n_was = 0;
    char from[CLOCK_DATE_LEN];
    char *text = registry_timeline_text(now, n_now);
    int differs = registry_timeline_diff(was, n_was, now, n_now, from);
    if (!ctx->problems && (differs || !stored || strcmp(stored, text) != 0 || !stored_th ||
                           strcmp(stored_th, thresholds) != 0)) {
        if (differs && timeline_emit(ctx, &f, &th, now, n_now, from, cause) == STATUS_OK && changed)
            *changed = 1;
        if (!ctx->problems)
            timeline_store(ctx, table_id, text, thresholds);
    }
    free(text);
    free(stored);
    free(stored_th);
    free(now);
    free(was);
    registry_facts_clear(&f);
    return ctx->problems ? ctx->last_status : STATUS_OK;
}
