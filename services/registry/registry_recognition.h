/* registry_recognition: the recognition state machine of the 2024
 * framework, as pure functions.
 *
 *   requested -> under_review -> recognized | refused
 *   refused -> requested (a new application)
 *   recognized -> suspended -> recognized
 *   any state but withdrawn -> withdrawn (final)
 *
 * A change to the current state is not a transition. A decision that
 * follows a dispute closed with outcome "reversed" may also undo the
 * contested decision: back to the status it replaced, or, for a refusal,
 * to recognized (registry_recognition_reversal_allowed). */
#ifndef CONCERTO_REGISTRY_RECOGNITION_H
#define CONCERTO_REGISTRY_RECOGNITION_H

#include <stddef.h>

#define REGISTRY_STATUS_INITIAL "requested"

/* 1 if `status` is a known state. */
int registry_recognition_known(const char *status);
/* 1 if the move from `from` to `to` is allowed (both must be known). */
int registry_recognition_allowed(const char *from, const char *to);
/* 1 if a reversal of the contested decision (which moved the Table from
 * `contested_from` to `contested`) may set `to`: the status the contested
 * decision replaced, or recognized after a refusal. */
int registry_recognition_reversal_allowed(const char *contested_from, const char *contested,
                                          const char *to);
/* The states reachable from `from`, written to out (up to max); returns
 * how many. */
size_t registry_recognition_targets(const char *from, const char **out, size_t max);

#endif
