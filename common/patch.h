/* patch: a partial update of a stored message by the message a request
 * carries, from protobuf-c's descriptors. The fields present in the update
 * replace the stored ones, and the proto paths of those whose value
 * changed are listed in field order ("name", "contact.email"):
 *   - a string: an empty one clears the stored value;
 *   - scalars, enums and bytes: present replaces;
 *   - a singular sub-message: patched field by field, created first when
 *     the stored message has none;
 *   - a repeated field of scalars or strings: replaced when the update
 *     holds at least one element (a repeated field has no presence, so it
 *     cannot be emptied this way).
 * Left to the handler: repeated message fields, and which fields a request
 * may not change at all (check them absent before). */
#ifndef CONCERTO_PATCH_H
#define CONCERTO_PATCH_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct {
    char **paths; /* owned; an event's changed_fields can borrow them */
    size_t n;
} patch_changes_t;

/* Applies `update` onto `stored` (the same message type) and appends the
 * paths of changed fields to `changes`. The top-level fields named in
 * `fixed` (NULL-terminated; may be NULL) keep their stored value whatever
 * the update holds: an id, which an update names but never changes. */
void patch_apply(ProtobufCMessage *stored, const ProtobufCMessage *update, const char *const *fixed,
                 patch_changes_t *changes);
/* 1 when `path` is among the changes. */
int patch_changed(const patch_changes_t *changes, const char *path);
void patch_changes_clear(patch_changes_t *changes);

#endif
