/* registry_evaluate: the four characteristics of a Table at a date,
 * evaluated on demand. A query: nothing is recorded or emitted, so the
 * answer always reflects the current facts and configuration. The rules
 * themselves are in registry_characteristics.c; this module gathers the
 * facts and reports them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "registry_characteristics.h"
#include "field.h"
#include "row.h"
#include "xalloc.h"

static void eval_fact(Concerto__Registry__V1__Characteristic *c, const char *name,
                      const char *value)
{
    Concerto__Registry__V1__Fact *f = xmalloc(sizeof *f);
    concerto__registry__v1__fact__init(f);
    f->name = xstrdup(name);
    f->value = xstrdup(value);
    c->facts = xrealloc(c->facts, (c->n_facts + 1) * sizeof *c->facts);
    c->facts[c->n_facts++] = f;
}

static void eval_fact_int(Concerto__Registry__V1__Characteristic *c, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    eval_fact(c, name, buf);
}

/* The distinct values of organization column `col` among a Table's
 * active members (?1) on a date (?2). */
#define EVAL_DISTINCT_SQL(col)                                                                     \
    "SELECT DISTINCT o." col " FROM membership m"                                                  \
    " JOIN organization o ON o.id = m.organization_id"                                             \
    " WHERE m.table_id = ?1 AND m.role IN ('member', 'board')"                                     \
    " AND m.joined_on <= ?2 AND (m.left_on IS NULL OR m.left_on > ?2)"                             \
    " ORDER BY 1"

/* `sql` with ?1 the Table and ?2 the date; NULL (recorded) on error. */
static sqlite3_stmt *eval_stmt(ctx_t *ctx, const char *sql, const char *table_id, const char *as_of)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (st) {
        sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, as_of, -1, SQLITE_TRANSIENT);
    }
    return st;
}

/* Distinct sectors (or networks) of the Table's active members, joined
 * with ", " into a new string; *count gets how many. */
static char *eval_distinct(ctx_t *ctx, int networks, const char *table_id, const char *as_of,
                           size_t *count)
{
    sqlite3_stmt *st =
        eval_stmt(ctx, networks ? EVAL_DISTINCT_SQL("network") : EVAL_DISTINCT_SQL("sector"),
                  table_id, as_of);
    *count = 0;
    char *out = xstrdup("");
    if (!st)
        return out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char *next =
            xasprintf("%s%s%s", out, *count ? ", " : "", (const char *)sqlite3_column_text(st, 0));
        free(out);
        out = next;
        (*count)++;
    }
    sqlite3_reset(st);
    return out;
}

static size_t eval_board_members(ctx_t *ctx, const char *table_id, const char *as_of)
{
    sqlite3_stmt *st = eval_stmt(ctx,
                                 "SELECT count(*) FROM membership WHERE table_id = ?1"
                                 " AND role = 'board' AND joined_on <= ?2"
                                 " AND (left_on IS NULL OR left_on > ?2)",
                                 table_id, as_of);
    if (!st)
        return 0;
    size_t n = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return n;
}

/* The latest attestation on or before as_of: fills date and author. */
static int eval_attestation(ctx_t *ctx, const char *table_id, const char *as_of, char date[11],
                            char **author)
{
    sqlite3_stmt *st = eval_stmt(ctx,
                                 "SELECT attested_on, author FROM attestation"
                                 " WHERE table_id = ?1 AND attested_on <= ?2"
                                 " ORDER BY attested_on DESC, id DESC LIMIT 1",
                                 table_id, as_of);
    if (!st)
        return 0;
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(date, 11, "%s", (const char *)sqlite3_column_text(st, 0));
        *author = row_text(st, 1);
    }
    sqlite3_reset(st);
    return found;
}

int registry_handle_get_characteristics(service_call_t *call, const ProtobufCMessage *msg,
                                        void *arg)
{
    const Concerto__Registry__V1__GetCharacteristicsRequest *req = (const void *)msg;
    const registry_config_t *cfg = arg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_date(&ctx, "as_of", req->as_of, 0);
    if (ctx.problems)
        return ctx_fail(&ctx);
    const char *as_of = field_nonempty(req->as_of) ? req->as_of : ctx.today;
    reg_table_t *t =
        (reg_table_t *)entity_require(&ctx, &registry_table_entity, "table_id", req->table_id);
    if (!t)
        return ctx_fail(&ctx);
    const reg_governance_t *g = t->governance;
    registry_facts_t f = {
        .as_of = as_of, .incorporated = -1, .board_seats = -1, .meetings_per_year = -1};
    char *sectors = eval_distinct(&ctx, 0, t->id, as_of, &f.n_sectors);
    char *networks = eval_distinct(&ctx, 1, t->id, as_of, &f.n_networks);
    if (g && g->has_incorporated)
        f.incorporated = g->incorporated ? 1 : 0;
    if (g)
        f.bylaws_adopted_on = g->bylaws_adopted_on;
    if (g && g->has_board_seats)
        f.board_seats = (int)g->board_seats;
    if (g && g->has_meetings_per_year)
        f.meetings_per_year = (int)g->meetings_per_year;
    f.board_members = eval_board_members(&ctx, t->id, as_of);
    char att_date[11] = "";
    char *att_author = NULL;
    if (eval_attestation(&ctx, t->id, as_of, att_date, &att_author))
        f.attestation_on = att_date;

    registry_thresholds_t th = {cfg->min_sectors, cfg->min_networks, cfg->min_meetings};
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, &th, v);

    Concerto__Registry__V1__TableCharacteristics res =
        CONCERTO__REGISTRY__V1__TABLE_CHARACTERISTICS__INIT;
    res.table_id = t->id;
    res.as_of = (char *)as_of;
    res.has_min_sectors = res.has_min_networks = res.has_min_meetings = res.has_all_met = 1;
    res.min_sectors = th.min_sectors;
    res.min_networks = th.min_networks;
    res.min_meetings = th.min_meetings;
    res.all_met = 1;
    Concerto__Registry__V1__Characteristic cs[REGISTRY_CHAR_COUNT];
    Concerto__Registry__V1__Characteristic *csp[REGISTRY_CHAR_COUNT];
    for (int i = 0; i < REGISTRY_CHAR_COUNT; i++) {
        concerto__registry__v1__characteristic__init(&cs[i]);
        cs[i].code = (char *)registry_characteristic_codes[i];
        cs[i].has_met = 1;
        cs[i].met = v[i].met;
        cs[i].summary = v[i].summary;
        csp[i] = &cs[i];
        res.all_met = res.all_met && v[i].met;
    }
    res.n_characteristics = REGISTRY_CHAR_COUNT;
    res.characteristics = csp;

    eval_fact(&cs[REGISTRY_CHAR_INTERSECTORAL], "sectors", sectors);
    eval_fact_int(&cs[REGISTRY_CHAR_INTERSECTORAL], "distinct_sectors", (long long)f.n_sectors);
    eval_fact(&cs[REGISTRY_CHAR_MULTI_NETWORK], "networks", networks);
    eval_fact_int(&cs[REGISTRY_CHAR_MULTI_NETWORK], "distinct_networks", (long long)f.n_networks);
    Concerto__Registry__V1__Characteristic *s = &cs[REGISTRY_CHAR_STRUCTURED];
    eval_fact(s, "incorporated", f.incorporated < 0 ? "unknown" : f.incorporated ? "yes" : "no");
    eval_fact(s, "bylaws_adopted_on", f.bylaws_adopted_on ? f.bylaws_adopted_on : "unknown");
    if (f.board_seats >= 0)
        eval_fact_int(s, "board_seats", f.board_seats);
    else
        eval_fact(s, "board_seats", "unknown");
    eval_fact_int(s, "board_members", (long long)f.board_members);
    if (f.meetings_per_year >= 0)
        eval_fact_int(s, "meetings_per_year", f.meetings_per_year);
    else
        eval_fact(s, "meetings_per_year", "unknown");
    if (f.attestation_on) {
        eval_fact(&cs[REGISTRY_CHAR_SYNERGY], "attested_on", att_date);
        eval_fact(&cs[REGISTRY_CHAR_SYNERGY], "author", att_author ? att_author : "");
    }

    int rc = ctx_finish(&ctx, &res.base);
    for (int i = 0; i < REGISTRY_CHAR_COUNT; i++) {
        for (size_t j = 0; j < cs[i].n_facts; j++)
            protobuf_c_message_free_unpacked(&cs[i].facts[j]->base, NULL);
        free(cs[i].facts);
    }
    free(sectors);
    free(networks);
    free(att_author);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    return rc;
}
