/* registry_recognition: the recognition state machine of the 2024
 * framework, as pure functions.
 *
 *   requested -> under_review -> recognized | refused
 *   recognized -> suspended -> recognized
 *   any state but withdrawn -> withdrawn (final)
 *
 * A change to the current state is not a transition. */
#ifndef CONCERTO_REGISTRY_RECOGNITION_H
#define CONCERTO_REGISTRY_RECOGNITION_H

#include <stddef.h>

#define REGISTRY_STATUS_INITIAL "requested"

/* 1 if `status` is a known state. */
int registry_recognition_known(const char *status);
/* 1 if the move from `from` to `to` is allowed (both must be known). */
int registry_recognition_allowed(const char *from, const char *to);
/* The states reachable from `from`, written to out (up to max); returns
 * how many. */
size_t registry_recognition_targets(const char *from, const char **out, size_t max);

#endif
