/* registry_vocabulary: the deployment's lists of sectors and networks,
 * configuration data read once at start from CSV files (`sectors.csv`,
 * `networks.csv`: code,kind,label_fr,label_en) in a folder
 * (CONCERTO_REGISTRY_VOCABULARY; the repository ships
 * services/registry/vocabulary/). Organizations are checked against them;
 * nothing in code lists them. Owns the lists until the process ends. */
#ifndef CONCERTO_REGISTRY_VOCABULARY_H
#define CONCERTO_REGISTRY_VOCABULARY_H

#include <stddef.h>

#include "store.h"

#define REGISTRY_VOCABULARY_MAX_CODES 64
#define REGISTRY_VOCABULARY_MAX_CODE 40

/* Reads both lists from `dir`, replacing any read before. Returns 0, or
 * -1 with the reason in `err` (a missing file, a bad or repeated code, too
 * many codes); the lists are then unchanged. */
int registry_vocabulary_load(const char *dir, char *err, size_t errlen);

/* -1 with `err` naming it when organizations in `store` use a code the
 * lists do not hold (a deployment removed one still in use); else 0. */
int registry_vocabulary_check_store(store_t *store, char *err, size_t errlen);

/* The codes, NULL-terminated (for field_word); empty before a load. */
const char *const *registry_sector_codes(void);
const char *const *registry_network_codes(void);

#endif
