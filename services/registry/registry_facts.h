/* registry_facts: what one Table's four characteristics are decided on,
 * read from the database once into memory: its memberships, its members'
 * sectors and networks, its governance, its attestations and the day it
 * was registered. registry_facts_on gives the facts on one date for the
 * rules (registry_characteristics.h); registry_facts_dates lists the dates
 * on which they can change (registry_timeline.c evaluates each).
 * Owns what it reads: registry_facts_clear frees it. */
#ifndef CONCERTO_REGISTRY_FACTS_H
#define CONCERTO_REGISTRY_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "date.h"
#include "registry_characteristics.h"

/* A version of an organization's facts, from a date on. */
typedef struct {
    char from[CLOCK_DATE_LEN];
    int64_t id; /* recording order */
    char **sectors;
    size_t n_sectors;
    char *network;
} registry_org_version_t;

typedef struct {
    int64_t id; /* the membership's */
    char *org_id;
    int counts;   /* role member or board: observers do not count */
    int board;    /* role board */
    int observer; /* role observer: counts for networks when the setting says so */
    char joined[CLOCK_DATE_LEN];
    char left[CLOCK_DATE_LEN]; /* "" while active */
    /* Its organization's versions: orgs[first .. first + n_versions). */
    size_t first, n_versions;
} registry_member_fact_t;

/* A version of a Table's governance, from a date on. */
typedef struct {
    char from[CLOCK_DATE_LEN];
    int64_t id;       /* recording order */
    int incorporated; /* 1, 0, -1 unknown */
    char *bylaws_adopted_on;
    int board_seats;       /* -1 unknown */
    int meetings_per_year; /* -1 unknown */
} registry_governance_version_t;

/* The attestations of one day: only their date counts, and the report
 * names the author of the one recorded last that day. */
typedef struct {
    char on[CLOCK_DATE_LEN];
    char *author;
} registry_attestation_fact_t;

/* Dated facts hold from their date until the next version (on the same
 * date, the one recorded last); before every version's date, the one
 * recorded first holds: what the registry was first told. */
typedef struct registry_table_facts {
    char table_id[80];
    char registered_on[CLOCK_DATE_LEN];
    int observers_in_networks; /* the setting in force when loaded */
    registry_member_fact_t *members;
    size_t n_members;
    registry_org_version_t *orgs; /* each member's organization's, by member then date */
    size_t n_orgs;
    registry_governance_version_t *governance; /* by date */
    size_t n_governance;
    registry_attestation_fact_t *attestations; /* one a day, oldest first */
    size_t n_attestations;
} registry_table_facts_t;

/* Reads Table `table_id`'s facts into `out`. Returns 0, or -1 when the
 * Table is not registered (nothing recorded) or on a database error
 * (recorded in ctx). */
int registry_facts_load(ctx_t *ctx, const char *table_id, registry_table_facts_t *out);
void registry_facts_clear(registry_table_facts_t *f);

/* What the report lists beside the counts: the distinct sectors and
 * networks (", "-joined, sorted) and the attestation's author. Borrowed
 * from the facts or owned here; freed by registry_facts_detail_clear. */
typedef struct {
    char *sectors;
    char *networks;
    const char *attestation_author;
} registry_facts_detail_t;

/* The facts on `date` (which `out->as_of` then borrows) for the rules;
 * fills `detail` unless NULL. */
void registry_facts_on(const registry_table_facts_t *f, const char *date, registry_facts_t *out,
                       registry_facts_detail_t *detail);
void registry_facts_detail_clear(registry_facts_detail_t *d);

/* The sorted distinct dates on which the facts can change the verdicts:
 * CLOCK_MIN_YEAR-01-01 (standing for "since always": before any dated
 * fact, the first versions hold and no member is active yet), the
 * registration, members joining and leaving, their organizations' and
 * the governance's versions, attestations and the day each stops counting,
 * the bylaws' adoption. A new array of n dates in
 * *out (freed with free). */
size_t registry_facts_dates(const registry_table_facts_t *f, char (**out)[CLOCK_DATE_LEN]);

#endif
