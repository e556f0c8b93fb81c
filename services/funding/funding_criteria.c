/* funding_criteria: the rules of eligibility (see funding_criteria.h). */
#include "funding_criteria.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef Concerto__Funding__V1__EligibilityDecision decision_t;
typedef Concerto__Funding__V1__Criterion criterion_t;

const char *funding_verdict_name(int verdict)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&concerto__funding__v1__verdict__descriptor, verdict);
    return v ? v->name : "UNKNOWN";
}

static criterion_t *criterion_add(decision_t *d, const char *code, int verdict, const char *summary)
{
    criterion_t *c = xmalloc(sizeof *c);
    concerto__funding__v1__criterion__init(c);
    c->code = xstrdup(code);
    c->has_verdict = 1;
    c->verdict = verdict;
    c->summary = xstrdup(summary);
    d->criteria = xrealloc(d->criteria, (d->n_criteria + 1) * sizeof *d->criteria);
    d->criteria[d->n_criteria++] = c;
    return c;
}

static void fact_add(criterion_t *c, const char *name, const char *value)
{
    Concerto__Funding__V1__Fact *f = xmalloc(sizeof *f);
    concerto__funding__v1__fact__init(f);
    f->name = xstrdup(name);
    f->value = xstrdup(value);
    c->facts = xrealloc(c->facts, (c->n_facts + 1) * sizeof *c->facts);
    c->facts[c->n_facts++] = f;
}

/* Recognized on the first day of the fiscal year. */
static void judge_recognized(const funding_facts_t *f, decision_t *d)
{
    char summary[300];
    criterion_t *c;
    if (!f->status) {
        snprintf(summary, sizeof summary,
                 "the registry has announced no recognition of the Table on %s", f->as_of);
        c = criterion_add(d, "recognized", FUNDING_NOT_MET, summary);
        fact_add(c, "status", "unknown");
        return;
    }
    int met = strcmp(f->status, "recognized") == 0;
    if (met && !f->status_since)
        snprintf(summary, sizeof summary,
                 "recognized on %s; the date of its recognition is unknown (imported history "
                 "recorded on %s, which counts as recognized on every day up to then)",
                 f->as_of, f->status_recorded_on ? f->status_recorded_on : "an unknown day");
    else if (met)
        snprintf(summary, sizeof summary, "recognized on %s (since %s)", f->as_of, f->status_since);
    else
        snprintf(summary, sizeof summary, "%s on %s, not recognized", f->status, f->as_of);
    c = criterion_add(d, "recognized", met ? FUNDING_MET : FUNDING_NOT_MET, summary);
    fact_add(c, "status", f->status);
    fact_add(c, "since", f->status_since ? f->status_since : "unknown");
    if (!f->status_since)
        fact_add(c, "recorded_on", f->status_recorded_on ? f->status_recorded_on : "unknown");
}

/* The four characteristics met on that day, as the registry evaluated. */
static void judge_characteristics(const funding_facts_t *f, decision_t *d)
{
    char summary[300];
    if (!f->evaluated) {
        snprintf(summary, sizeof summary,
                 "none of the four characteristics is met on %s: the registry has sent no "
                 "evaluation covering that day",
                 f->as_of);
        criterion_add(d, "characteristics", FUNDING_NOT_MET, summary);
        return;
    }
    char unmet[200] = "";
    for (size_t i = 0; i < f->n_characteristics; i++)
        if (!f->characteristics[i].met)
            snprintf(unmet + strlen(unmet), sizeof unmet - strlen(unmet), "%s%s",
                     *unmet ? ", " : "", f->characteristics[i].code);
    /* The registry's verdict, never one of ours. */
    int met = f->all_met;
    if (met)
        snprintf(summary, sizeof summary, "the four characteristics are met on %s", f->as_of);
    else
        snprintf(summary, sizeof summary, "not all met on %s%s%s", f->as_of, *unmet ? ": " : "",
                 unmet);
    criterion_t *c =
        criterion_add(d, "characteristics", met ? FUNDING_MET : FUNDING_NOT_MET, summary);
    fact_add(c, "evaluated_from", f->holds_from ? f->holds_from : "unknown");
    for (size_t i = 0; i < f->n_characteristics; i++) {
        const funding_characteristic_t *ch = &f->characteristics[i];
        char value[300];
        snprintf(value, sizeof value, "%s%s%s", ch->met ? "met" : "not met",
                 ch->summary ? ": " : "", ch->summary ? ch->summary : "");
        fact_add(c, ch->code, value);
    }
}

/* For a renewal, the previous year's compliance; "no report yet" does not
 * block. */
static void judge_compliance(const funding_facts_t *f, decision_t *d)
{
    char summary[300];
    criterion_t *c;
    if (!f->renewal) {
        c = criterion_add(d, "previous_compliance", FUNDING_NOT_APPLICABLE,
                          "a first request: the Table had no allocation of the program the year "
                          "before");
        fact_add(c, "previous_year", f->previous_year);
        return;
    }
    if (!f->compliance_known) {
        snprintf(summary, sizeof summary,
                 "no report yet: reporting has sent no compliance evaluation for %s; this does "
                 "not block",
                 f->previous_year);
        c = criterion_add(d, "previous_compliance", FUNDING_NO_REPORT, summary);
    } else {
        snprintf(summary, sizeof summary, "%s in %s%s%s",
                 f->compliant ? "compliant" : "not compliant", f->previous_year,
                 f->compliance_summary ? ": " : "",
                 f->compliance_summary ? f->compliance_summary : "");
        c = criterion_add(d, "previous_compliance", f->compliant ? FUNDING_MET : FUNDING_NOT_MET,
                          summary);
    }
    fact_add(c, "previous_year", f->previous_year);
}

void funding_criteria_judge(const funding_facts_t *facts, decision_t *d)
{
    judge_recognized(facts, d);
    judge_characteristics(facts, d);
    judge_compliance(facts, d);
    int met = 1;
    for (size_t i = 0; i < d->n_criteria; i++)
        met &= (int)d->criteria[i]->verdict != FUNDING_NOT_MET;
    d->has_criteria_met = 1;
    d->criteria_met = met;
    free(d->as_of);
    d->as_of = xstrdup(facts->as_of);
}

void funding_decision_note(decision_t *d, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    d->changes = xrealloc(d->changes, (d->n_changes + 1) * sizeof *d->changes);
    d->changes[d->n_changes++] = xstrdup(line);
}

static const criterion_t *criterion_find(const decision_t *d, const char *code)
{
    for (size_t i = 0; i < d->n_criteria; i++)
        if (strcmp(d->criteria[i]->code, code) == 0)
            return d->criteria[i];
    return NULL;
}

size_t funding_criteria_changes(const decision_t *before, const decision_t *after, decision_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < after->n_criteria; i++) {
        const criterion_t *now = after->criteria[i];
        const criterion_t *was = criterion_find(before, now->code);
        if (was && was->verdict == now->verdict)
            continue;
        funding_decision_note(d, "%s: %s -> %s (%s)", now->code,
                              was ? funding_verdict_name(was->verdict) : "none",
                              funding_verdict_name(now->verdict), now->summary);
        n++;
    }
    return n;
}
