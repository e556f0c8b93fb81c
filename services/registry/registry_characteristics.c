/* registry_characteristics: rules of the four characteristics (see
 * registry_characteristics.h). */
#include "registry_characteristics.h"

#include <stdio.h>
#include <string.h>

#include "date.h"
#include "text.h"

const char *const registry_characteristic_codes[REGISTRY_CHAR_COUNT] = {
    "intersectoral", "multi_network", "structured_permanent", "networking_synergy"};

static void registry_eval_count(registry_verdict_t *v, size_t have, unsigned need, const char *one,
                                const char *many)
{
    v->met = have >= need;
    snprintf(v->summary, sizeof v->summary, "%zu distinct %s among active members (at least %u)",
             have, text_plural((long long)have, one, many), need);
}

/* What structured_permanent needs, each 1 when it is there. */
typedef struct {
    int legal, board, meetings;
} structured_parts_t;

static structured_parts_t registry_structured_parts(const registry_facts_t *f,
                                                    const registry_thresholds_t *t)
{
    int bylaws = f->bylaws_adopted_on && strcmp(f->bylaws_adopted_on, f->as_of) <= 0;
    structured_parts_t p = {
        .legal = f->incorporated == 1 || bylaws,
        .board = f->board_seats > 0 || f->board_members > 0,
        .meetings = f->meetings_per_year >= 0 && (unsigned)f->meetings_per_year >= t->min_meetings,
    };
    return p;
}

/* The latest attestation's age in days on as_of, in *age; whether it
 * still counts. */
static int registry_synergy_counts(const registry_facts_t *f, long long *age)
{
    *age = f->attestation_on ? (long long)(date_days(f->as_of) - date_days(f->attestation_on)) : 0;
    return f->attestation_on && *age >= 0 && *age <= REGISTRY_ATTESTATION_VALID_DAYS;
}

static void registry_eval_structured(const registry_facts_t *f, const registry_thresholds_t *t,
                                     registry_verdict_t *v)
{
    structured_parts_t p = registry_structured_parts(f, t);
    v->met = p.legal && p.board && p.meetings;
    if (v->met) {
        snprintf(v->summary, sizeof v->summary, "%s, has a board, meets %d %s a year (at least %u)",
                 f->incorporated == 1 ? "incorporated" : "bylaws adopted", f->meetings_per_year,
                 text_plural(f->meetings_per_year, "time", "times"), t->min_meetings);
        return;
    }
    snprintf(v->summary, sizeof v->summary, "missing:%s%s%s",
             p.legal ? "" : " incorporation or adopted bylaws;", p.board ? "" : " a board;",
             p.meetings ? "" : " enough meetings a year;");
    /* Drop the trailing separator. */
    size_t n = strlen(v->summary);
    if (n && v->summary[n - 1] == ';')
        v->summary[n - 1] = '\0';
}

static void registry_eval_synergy(const registry_facts_t *f, registry_verdict_t *v)
{
    long long age;
    v->met = registry_synergy_counts(f, &age);
    if (!f->attestation_on) {
        snprintf(v->summary, sizeof v->summary, "no attestation on or before %s", f->as_of);
        return;
    }
    snprintf(v->summary, sizeof v->summary, "latest attestation %s (%lld %s old, valid for %d)",
             f->attestation_on, age, text_plural(age, "day", "days"),
             REGISTRY_ATTESTATION_VALID_DAYS);
}

void registry_evaluate(const registry_facts_t *f, const registry_thresholds_t *t,
                       registry_verdict_t out[REGISTRY_CHAR_COUNT])
{
    memset(out, 0, REGISTRY_CHAR_COUNT * sizeof *out);
    registry_eval_count(&out[REGISTRY_CHAR_INTERSECTORAL], f->n_sectors, t->min_sectors, "sector",
                        "sectors");
    registry_eval_count(&out[REGISTRY_CHAR_MULTI_NETWORK], f->n_networks, t->min_networks,
                        "network", "networks");
    registry_eval_structured(f, t, &out[REGISTRY_CHAR_STRUCTURED]);
    registry_eval_synergy(f, &out[REGISTRY_CHAR_SYNERGY]);
}

unsigned registry_evaluate_met(const registry_facts_t *f, const registry_thresholds_t *t)
{
    structured_parts_t p = registry_structured_parts(f, t);
    long long age;
    return (f->n_sectors >= t->min_sectors ? 1u << REGISTRY_CHAR_INTERSECTORAL : 0) |
           (f->n_networks >= t->min_networks ? 1u << REGISTRY_CHAR_MULTI_NETWORK : 0) |
           (p.legal && p.board && p.meetings ? 1u << REGISTRY_CHAR_STRUCTURED : 0) |
           (registry_synergy_counts(f, &age) ? 1u << REGISTRY_CHAR_SYNERGY : 0);
}
