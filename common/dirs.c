/* dirs: making folders (see dirs.h). */
#include "dirs.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "xalloc.h"

int dirs_make(const char *path)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(copy, 0750);
        *p = '/';
    }
    int rc = (mkdir(copy, 0750) == 0 || errno == EEXIST) ? 0 : -1;
    int saved = errno;
    free(copy);
    errno = saved;
    return rc;
}
