/* concerto-registry: the registry daemon, and its import subcommand. */
#include <string.h>

#include "registry_cli.h"
#include "registry_service.h"
#include "service.h"

int main(int argc, char **argv)
{
    /* service_main rejects unknown arguments, so the subcommand comes
     * first. */
    if (argc > 1 && strcmp(argv[1], "import") == 0)
        return registry_cli_import(argc - 1, argv + 1);
    service_spec_t spec;
    registry_spec_init(&spec);
    return service_main(&spec, argc, argv);
}
