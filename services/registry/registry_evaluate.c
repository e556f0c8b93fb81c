/* registry_evaluate: the report of the four characteristics of a Table at
 * a date: the verdicts with their summaries and the facts behind them,
 * answered on demand (GetCharacteristicsRequest, a query: nothing is
 * recorded) and carried by CharacteristicsChanged; and the evaluation again
 * of every Table at start when the thresholds changed. The rules are
 * registry_characteristics.c; the facts registry_facts.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "registry_characteristics.h"
#include "registry_facts.h"
#include "registry_timeline.h"
#include "row.h"
#include "field.h"
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

static Concerto__Registry__V1__Characteristic *eval_characteristic(int i,
                                                                   const registry_verdict_t *v)
{
    Concerto__Registry__V1__Characteristic *c = xmalloc(sizeof *c);
    concerto__registry__v1__characteristic__init(c);
    c->code = xstrdup(registry_characteristic_codes[i]);
    c->has_met = 1;
    c->met = v->met;
    c->summary = xstrdup(v->summary);
    return c;
}

static void eval_structured_facts(Concerto__Registry__V1__Characteristic *s,
                                  const registry_facts_t *f)
{
    eval_fact(s, "incorporated", f->incorporated < 0 ? "unknown" : f->incorporated ? "yes" : "no");
    eval_fact(s, "bylaws_adopted_on", f->bylaws_adopted_on ? f->bylaws_adopted_on : "unknown");
    if (f->board_seats >= 0)
        eval_fact_int(s, "board_seats", f->board_seats);
    else
        eval_fact(s, "board_seats", "unknown");
    eval_fact_int(s, "board_members", (long long)f->board_members);
    if (f->meetings_per_year >= 0)
        eval_fact_int(s, "meetings_per_year", f->meetings_per_year);
    else
        eval_fact(s, "meetings_per_year", "unknown");
}

Concerto__Registry__V1__TableCharacteristics *
registry_characteristics_report(const registry_table_facts_t *tf, const char *as_of,
                                const registry_thresholds_t *th)
{
    registry_facts_t f;
    registry_facts_detail_t detail;
    registry_facts_on(tf, as_of, &f, &detail);
    registry_verdict_t v[REGISTRY_CHAR_COUNT];
    registry_evaluate(&f, th, v);

    Concerto__Registry__V1__TableCharacteristics *res = xmalloc(sizeof *res);
    concerto__registry__v1__table_characteristics__init(res);
    res->table_id = xstrdup(tf->table_id);
    res->as_of = xstrdup(as_of);
    res->has_min_sectors = res->has_min_networks = res->has_min_meetings = res->has_all_met = 1;
    res->min_sectors = th->min_sectors;
    res->min_networks = th->min_networks;
    res->min_meetings = th->min_meetings;
    res->all_met = 1;
    res->characteristics = xcalloc(REGISTRY_CHAR_COUNT, sizeof *res->characteristics);
    for (int i = 0; i < REGISTRY_CHAR_COUNT; i++) {
        res->characteristics[res->n_characteristics++] = eval_characteristic(i, &v[i]);
        res->all_met = res->all_met && v[i].met;
    }
    Concerto__Registry__V1__Characteristic **cs = res->characteristics;
    eval_fact(cs[REGISTRY_CHAR_INTERSECTORAL], "sectors", detail.sectors);
    eval_fact_int(cs[REGISTRY_CHAR_INTERSECTORAL], "distinct_sectors", (long long)f.n_sectors);
    eval_fact(cs[REGISTRY_CHAR_MULTI_NETWORK], "networks", detail.networks);
    eval_fact_int(cs[REGISTRY_CHAR_MULTI_NETWORK], "distinct_networks", (long long)f.n_networks);
    eval_structured_facts(cs[REGISTRY_CHAR_STRUCTURED], &f);
    if (f.attestation_on) {
        eval_fact(cs[REGISTRY_CHAR_SYNERGY], "attested_on", f.attestation_on);
        eval_fact(cs[REGISTRY_CHAR_SYNERGY], "author",
                  detail.attestation_author ? detail.attestation_author : "");
    }
    registry_facts_detail_clear(&detail);
    return res;
}

int registry_handle_get_characteristics(service_call_t *call, const ProtobufCMessage *msg,
                                        void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__GetCharacteristicsRequest *req = (const void *)msg;
    const registry_config_t *cfg = registry_config();
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_date(&ctx, "as_of", req->as_of, 0);
    if (ctx.problems)
        return ctx_fail(&ctx);
    registry_table_facts_t f;
    if (registry_facts_load(&ctx, req->table_id, &f) != 0) {
        if (!ctx.problems)
            ctx_violation(&ctx, STATUS_NOT_FOUND, "table_id", "Table %s is not registered",
                          req->table_id);
        return ctx_fail(&ctx);
    }
    registry_thresholds_t th = {cfg->min_sectors, cfg->min_networks, cfg->min_meetings};
    Concerto__Registry__V1__TableCharacteristics *res = registry_characteristics_report(
        &f, field_nonempty(req->as_of) ? req->as_of : ctx.today, &th);
    registry_facts_clear(&f);
    return ctx_finish_free(&ctx, &res->base);
}

int registry_handle_refresh_characteristics(service_call_t *call, const ProtobufCMessage *msg,
                                            void *arg)
{
    (void)msg;
    (void)arg;
    char thresholds[REGISTRY_SETTINGS_TEXT];
    registry_timeline_settings(thresholds);
    ctx_t ctx;
    ctx_init(&ctx, call);
    sqlite3_stmt *st = ctx_stmt(&ctx, "SELECT t.id FROM concertation_table t"
                                      " LEFT JOIN characteristics_timeline c ON c.table_id = t.id"
                                      " WHERE c.table_id IS NULL OR c.thresholds <> ?"
                                      " ORDER BY t.id");
    if (!st)
        return ctx_fail(&ctx);
    sqlite3_bind_text(st, 1, thresholds, -1, SQLITE_TRANSIENT);
    char **ids = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ids = xrealloc(ids, (n + 1) * sizeof *ids);
        ids[n++] = row_text(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        ctx_db_error(&ctx, rc, "tables");
    Concerto__Registry__V1__RefreshCharacteristicsResult res =
        CONCERTO__REGISTRY__V1__REFRESH_CHARACTERISTICS_RESULT__INIT;
    res.has_tables = res.has_changed = 1;
    for (size_t i = 0; i < n; i++) {
        int changed = 0;
        if (!ctx.problems &&
            registry_timeline_refresh(&ctx, ids[i], "settings", &changed) == STATUS_OK) {
            res.tables++;
            res.changed += (uint32_t)changed;
        }
        free(ids[i]);
    }
    free(ids);
    return ctx_finish(&ctx, &res.base);
}
