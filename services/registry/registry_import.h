/* registry_import: bulk import of territories, organizations, Tables and
 * memberships from CSV files, all or nothing, on the runtime's import
 * frame (common/import.h).
 *
 * The same ImportRequest arrives over the wire (POST /v1/import), from
 * `concerto-registry import DIR`, and from the demo-data loader; each row
 * goes through the same checks as the single-entity commands, and every
 * problem is reported as a violation named "<file>:<line>:<column>". */
#ifndef CONCERTO_REGISTRY_IMPORT_H
#define CONCERTO_REGISTRY_IMPORT_H

#include <stddef.h>

#include "concerto/registry/v1/registry.pb-c.h"

/* Reads <dir>/<kind>.csv for every kind whose file exists into a new
 * request (freed with protobuf_c_message_free_unpacked); a file that is
 * not UTF-8 is converted from `encoding` unless it is NULL
 * (import_read_dir). Returns NULL and a message in `err` when no file
 * exists, one cannot be read, contains a NUL byte, is in neither
 * encoding, or the files exceed IMPORT_MAX_BYTES. */
Concerto__Registry__V1__ImportRequest *
registry_import_read_dir(const char *dir, const char *encoding, char *err, size_t errlen);

#endif
