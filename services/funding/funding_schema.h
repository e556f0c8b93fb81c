/* funding_schema: the funding daemon's SQLite schema, as migration steps
 * (common/store.h); the runtime's own tables have their own track. */
#ifndef CONCERTO_FUNDING_SCHEMA_H
#define CONCERTO_FUNDING_SCHEMA_H

#include <stddef.h>

#include "store.h"

/* Steps in funding_migrations: a constant, for the daemon's static spec. */
#define FUNDING_MIGRATIONS 2

extern const store_migration_t funding_migrations[FUNDING_MIGRATIONS];

#endif
