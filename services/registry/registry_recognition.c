/* registry_recognition: the recognition state machine (see
 * registry_recognition.h). */
#include "registry_recognition.h"

#include <string.h>

#include "registry_validate.h"
#include "shape.h"

static const struct {
    const char *from;
    const char *to;
} registry_moves[] = {
    {"requested", "under_review"}, {"under_review", "recognized"}, {"under_review", "refused"},
    {"refused", "requested"},      {"recognized", "suspended"},    {"suspended", "recognized"},
};

int registry_recognition_known(const char *status)
{
    return status && shape_word(registry_statuses, status);
}

int registry_recognition_allowed(const char *from, const char *to)
{
    if (!registry_recognition_known(from) || !registry_recognition_known(to))
        return 0;
    if (strcmp(from, "withdrawn") == 0)
        return 0;
    if (strcmp(to, "withdrawn") == 0)
        return 1;
    for (size_t i = 0; i < sizeof registry_moves / sizeof registry_moves[0]; i++)
        if (strcmp(registry_moves[i].from, from) == 0 && strcmp(registry_moves[i].to, to) == 0)
            return 1;
    return 0;
}

int registry_recognition_reversal_allowed(const char *contested_from, const char *contested,
                                          const char *to)
{
    if (!registry_recognition_known(to) || strcmp(to, contested) == 0)
        return 0;
    if (contested_from && strcmp(to, contested_from) == 0)
        return 1;
    return strcmp(contested, "refused") == 0 && strcmp(to, "recognized") == 0;
}

size_t registry_recognition_targets(const char *from, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; registry_statuses[i]; i++)
        if (n < max && registry_recognition_allowed(from, registry_statuses[i]))
            out[n++] = registry_statuses[i];
    return n;
}
