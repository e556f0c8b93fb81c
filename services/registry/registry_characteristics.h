/* registry_characteristics: the rules of the four characteristics of a
 * Table de quartier, evaluated on facts gathered for one date.
 *
 * - intersectoral: active members (role member or board) come from at
 *   least min_sectors distinct sectors;
 * - multi_network: they come from at least min_networks distinct networks;
 * - structured_permanent: incorporated or bylaws adopted by that date, a
 *   board (board seats > 0 or an active board-role member), and at least
 *   min_meetings meetings a year;
 * - networking_synergy: an attestation dated at most
 *   REGISTRY_ATTESTATION_VALID_DAYS before that date.
 * Pure: no database, no allocation. */
#ifndef CONCERTO_REGISTRY_CHARACTERISTICS_H
#define CONCERTO_REGISTRY_CHARACTERISTICS_H

#include <stddef.h>

#define REGISTRY_ATTESTATION_VALID_DAYS 365

enum {
    REGISTRY_CHAR_INTERSECTORAL = 0,
    REGISTRY_CHAR_MULTI_NETWORK,
    REGISTRY_CHAR_STRUCTURED,
    REGISTRY_CHAR_SYNERGY,
    REGISTRY_CHAR_COUNT
};

/* "intersectoral", "multi_network", "structured_permanent",
 * "networking_synergy", by the index above. */
extern const char *const registry_characteristic_codes[REGISTRY_CHAR_COUNT];

typedef struct {
    unsigned min_sectors;
    unsigned min_networks;
    unsigned min_meetings;
} registry_thresholds_t;

typedef struct {
    const char *as_of;             /* YYYY-MM-DD */
    size_t n_sectors;              /* distinct sectors of active members */
    size_t n_networks;             /* distinct networks of active members */
    int incorporated;              /* 1, 0, or -1 when unknown */
    const char *bylaws_adopted_on; /* NULL when unknown */
    int board_seats;               /* -1 when unknown */
    size_t board_members;          /* active board-role memberships */
    int meetings_per_year;         /* -1 when unknown */
    const char *attestation_on;    /* latest attestation on or before as_of, or NULL */
} registry_facts_t;

typedef struct {
    int met;
    char summary[240];
} registry_verdict_t;

void registry_evaluate(const registry_facts_t *facts, const registry_thresholds_t *t,
                       registry_verdict_t out[REGISTRY_CHAR_COUNT]);
/* The same verdicts as met bits (bit i: characteristic i), without the
 * summaries: what an evaluation over time asks on every date. */
unsigned registry_evaluate_met(const registry_facts_t *facts, const registry_thresholds_t *t);

#endif
