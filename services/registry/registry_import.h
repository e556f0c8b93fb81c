/* registry_import: bulk import of territories, organizations, Tables and
 * memberships from CSV files, all or nothing.
 *
 * The same ImportRequest arrives over the wire (POST /v1/import), from
 * `concerto-registry import DIR`, and from the demo-data loader; each row
 * goes through the same checks as the single-entity commands, and every
 * problem is reported as a violation named "<file>:<line>:<column>". */
#ifndef CONCERTO_REGISTRY_IMPORT_H
#define CONCERTO_REGISTRY_IMPORT_H

#include <stddef.h>

#include "concerto/registry/v1/registry.pb-c.h"

/* Limits: a request must fit in one 1 MiB frame with room to spare. */
#define REGISTRY_IMPORT_MAX_BYTES (900 * 1024) /* all files together */
#define REGISTRY_IMPORT_MAX_ROWS 5000          /* per file */
#define REGISTRY_IMPORT_MAX_CELL 4000          /* bytes */
#define REGISTRY_IMPORT_MAX_PROBLEMS 100       /* reported before stopping */

/* Reads <dir>/<kind>.csv for every kind whose file exists into a new
 * request (freed with protobuf_c_message_free_unpacked). Returns NULL and
 * a message in `err` when no file exists, one cannot be read, contains a
 * NUL byte, or the files exceed REGISTRY_IMPORT_MAX_BYTES. */
Concerto__Registry__V1__ImportRequest *registry_import_read_dir(const char *dir, char *err,
                                                                size_t errlen);

#endif
