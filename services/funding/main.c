/* concerto-funding: the funding daemon (docs/funding.md). */
#include "funding_service.h"

int main(int argc, char **argv)
{
    return service_main(&funding_spec, argc, argv);
}
