/* services: the Concerto daemons, their names and default endpoints, from
 * the one list services.def (which the gateway's route table, the shell
 * scripts and the deployment tests read too). */
#ifndef CONCERTO_SERVICES_H
#define CONCERTO_SERVICES_H

#include <stddef.h>

typedef struct {
    const char *name;   /* "registry": source name, binary concerto-<name> */
    const char *prefix; /* "REGISTRY": CONCERTO_<prefix>_ROUTER, _PUB, ... */
    const char *router; /* default ROUTER endpoint, "tcp://127.0.0.1:7101" */
    const char *pub;    /* default PUB endpoint */
} services_entry_t;

/* Every service of the list, in its order. */
extern const services_entry_t services_list[];
extern const size_t services_count;

/* The entry named `name`, or NULL when the list has none (test daemons). */
const services_entry_t *services_find(const char *name);

#endif
