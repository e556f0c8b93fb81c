/* registry_service: the concerto-registry daemon as a service_spec_t: its
 * settings, schema, handlers and demo-data loading. */
#ifndef CONCERTO_REGISTRY_SERVICE_H
#define CONCERTO_REGISTRY_SERVICE_H

#include "registry.h"
#include "service.h"

/* Fills `spec` (static storage; valid for the life of the process). */
void registry_spec_init(service_spec_t *spec);

/* Registers every handler with `cfg` (which must outlive `svc`). Used by
 * the spec's setup and by tests. */
int registry_register_handlers(service_t *svc, const registry_config_t *cfg);

/* Imports the CSV files of `dir` through the ImportRequest handler, as
 * actor "system:demo-data", and logs the outcome. Returns 0 when the
 * import committed. */
int registry_demo_load(service_t *svc, const char *dir);

#endif
