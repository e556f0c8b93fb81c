/* registry_validate: the registry's limits, vocabularies and NEQ (see
 * registry_validate.h). */
#include "registry_validate.h"

#include <ctype.h>
#include <stddef.h>

const char *const registry_territory_kinds[] = {"borough", "neighbourhood", "municipality",
                                                "sector", NULL};
const char *const registry_roles[] = {"member", "board", "observer", NULL};
const char *const registry_statuses[] = {"requested", "under_review", "recognized", "refused",
                                         "suspended", "withdrawn",    NULL};

int registry_valid_neq(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isdigit((unsigned char)s[n]))
            return 0;
    return n == 10;
}
