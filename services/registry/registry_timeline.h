/* registry_timeline: a Table's evaluation of the four characteristics over
 * time, and the CharacteristicsChanged event funding decides on.
 *
 * The evaluation is the four met flags on each date. It can change only
 * on the dates the facts name (registry_facts_dates), so it is a list of
 * periods: one per stretch of dates with the same flags, the first from
 * 1800-01-01 ("since always"), the last open-ended. A timeline stored
 * before that first period existed counts as nothing met before its
 * first date.
 * The registry stores the timeline it last emitted for each Table; after
 * any change to a Table's facts, registry_timeline_refresh evaluates it
 * again and, when it differs, emits CharacteristicsChanged from the first
 * date that differs, and stores it. */
#ifndef CONCERTO_REGISTRY_TIMELINE_H
#define CONCERTO_REGISTRY_TIMELINE_H

#include <stddef.h>

#include "registry.h"
#include "registry_facts.h"

typedef struct {
    char starts_on[CLOCK_DATE_LEN];
    unsigned met; /* bit i: characteristic i (registry_characteristics.h) is met */
} registry_period_t;

#define REGISTRY_ALL_MET ((1u << REGISTRY_CHAR_COUNT) - 1)

/* The met bits on `date`. */
unsigned registry_timeline_met_on(const registry_table_facts_t *f, const registry_thresholds_t *th,
                                  const char *date);
/* The timeline of the facts: a new array of n periods in *out (free). */
size_t registry_timeline_build(const registry_table_facts_t *f, const registry_thresholds_t *th,
                               registry_period_t **out);
/* Stored form: "<date>:<bits>;..." (the caller frees), and back (-1 when
 * the text is not one; then *out is NULL). */
char *registry_timeline_text(const registry_period_t *p, size_t n);
int registry_timeline_parse(const char *text, registry_period_t **out, size_t *n);
/* The first date on which timelines a and b differ: 1 and `out`, or 0
 * when they agree on every date. */
int registry_timeline_diff(const registry_period_t *a, size_t na, const registry_period_t *b,
                           size_t nb, char out[CLOCK_DATE_LEN]);

/* Evaluates Table `table_id` again; when its timeline differs from the one
 * stored, emits CharacteristicsChanged with `cause` and stores the new
 * one. Sets *changed (may be NULL) to 1 when it emitted. Returns the status
 * recorded in ctx. */
status_t registry_timeline_refresh(ctx_t *ctx, const char *table_id, const char *cause,
                                   int *changed);

/* The settings an evaluation depends on, as stored beside it: a change
 * makes the registry evaluate every Table again at start. */
#define REGISTRY_SETTINGS_TEXT 48
void registry_timeline_settings(char out[REGISTRY_SETTINGS_TEXT]);

/* The unmet characteristics of `met` as space-separated codes (""
 * when all are met), in `out`. */
void registry_unmet_codes(unsigned met, char *out, size_t outlen);

#endif
