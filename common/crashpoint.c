/* crashpoint: the test builds' crash points (see crashpoint.h). */
#include "crashpoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void crashpoint(const char *name)
{
    const char *want = getenv("CONCERTO_TEST_CRASHPOINT");
    if (!want || strcmp(want, name) != 0)
        return;
    /* Straight to stderr: a line queued for log.c's writer thread would die
     * with the process. */
    fprintf(stderr, "level=warn msg=\"crash point reached\" point=%s\n", name);
    raise(SIGKILL);
}
