/* registry_schema: the registry's SQLite schema, as migration steps
 * (store.h). Steps are only ever appended. */
#ifndef CONCERTO_REGISTRY_SCHEMA_H
#define CONCERTO_REGISTRY_SCHEMA_H

#include <stddef.h>

#include "store.h"

extern const store_migration_t registry_migrations[];
extern const size_t registry_migration_count;

#endif
