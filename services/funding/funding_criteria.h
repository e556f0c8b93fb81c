/* funding_criteria: the rules of eligibility, as pure functions of the
 * facts funding keeps (no database): a Table is eligible for a program's
 * fiscal year when it was recognized on the year's first day, the four
 * characteristics were met on that day (the registry's evaluation; funding
 * never evaluates them), and, for a renewal, the previous year's
 * compliance was not found wanting. Each criterion gets a verdict and the
 * facts behind it; only NOT_MET blocks. */
#ifndef CONCERTO_FUNDING_CRITERIA_H
#define CONCERTO_FUNDING_CRITERIA_H

#include <stddef.h>

#include "concerto/funding/v1/funding.pb-c.h"

#define FUNDING_MAX_CHARACTERISTICS 8

/* Verdicts, as the wire numbers them. */
enum {
    FUNDING_MET = CONCERTO__FUNDING__V1__VERDICT__MET,
    FUNDING_NOT_MET = CONCERTO__FUNDING__V1__VERDICT__NOT_MET,
    FUNDING_NO_REPORT = CONCERTO__FUNDING__V1__VERDICT__NO_REPORT,
    FUNDING_NOT_APPLICABLE = CONCERTO__FUNDING__V1__VERDICT__NOT_APPLICABLE,
};

/* One characteristic of the registry's evaluation. */
typedef struct {
    const char *code; /* "intersectoral" */
    int met;
    const char *summary; /* may be NULL */
} funding_characteristic_t;

/* What the rules judge from. Strings are borrowed. */
typedef struct {
    const char *as_of; /* the fiscal year's first day */
    /* The recognition status on as_of: NULL when the registry never
     * announced the Table, or announced nothing that holds by then. */
    const char *status;
    /* The day it took that status; NULL when the registry does not know
     * it (imported history: counts as held on every day up to the day it
     * was recorded, flagged), with that day. */
    const char *status_since;
    const char *status_recorded_on;
    /* The registry's period of the four characteristics covering as_of,
     * if any (none: nothing met, the registry's baseline). */
    int evaluated;
    int all_met; /* the registry's verdict on the four together */
    const char *holds_from;
    size_t n_characteristics;
    funding_characteristic_t characteristics[FUNDING_MAX_CHARACTERISTICS];
    /* A renewal: the Table had an allocation of the program the year
     * before; its compliance for that year, when reporting sent one. */
    int renewal;
    const char *previous_year; /* "2024-2025" */
    int compliance_known;
    int compliant;
    const char *compliance_summary; /* may be NULL */
} funding_facts_t;

/* Sets the criteria, criteria_met and as_of of `d` (whose criteria must
 * be empty) from `facts`. Allocates with malloc: `d` is freed with
 * protobuf_c_message_free_unpacked(d, NULL). */
void funding_criteria_judge(const funding_facts_t *facts,
                            Concerto__Funding__V1__EligibilityDecision *d);

/* "recognized: MET -> NOT_MET (suspended on 2025-04-01)", one line per
 * criterion whose verdict differs between `before` and `after`, appended
 * to `d`'s changes. Returns how many. */
size_t funding_criteria_changes(const Concerto__Funding__V1__EligibilityDecision *before,
                                const Concerto__Funding__V1__EligibilityDecision *after,
                                Concerto__Funding__V1__EligibilityDecision *d);

/* Appends one line to d's changes. */
void funding_decision_note(Concerto__Funding__V1__EligibilityDecision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "MET", "NOT_MET"... */
const char *funding_verdict_name(int verdict);

#endif
