/* example: the example daemon's spec (docs/new-service.md): notes about
 * the Tables the registry announces. */
#ifndef CONCERTO_EXAMPLE_H
#define CONCERTO_EXAMPLE_H

#include "service.h"

/* The whole daemon: schema, handler and event tables. */
extern const service_spec_t example_spec;

#endif
