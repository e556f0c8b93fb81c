/* concerto-example: the example daemon of docs/new-service.md. */
#include "example.h"

int main(int argc, char **argv)
{
    return service_main(&example_spec, argc, argv);
}
