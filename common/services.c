/* services: the list of daemons as a table (see services.h). */
#include "services.h"

#include <string.h>

const services_entry_t services_list[] = {
#define SERVICE(name, NAME, router_port, pub_port)                                                 \
    {#name, #NAME, "tcp://127.0.0.1:" #router_port, "tcp://127.0.0.1:" #pub_port},
#include "services.def"
#undef SERVICE
};

const size_t services_count = sizeof services_list / sizeof services_list[0];

const services_entry_t *services_find(const char *name)
{
    for (size_t i = 0; i < services_count; i++)
        if (strcmp(services_list[i].name, name) == 0)
            return &services_list[i];
    return NULL;
}
