/* config: settings from environment variables (see config.h). */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct config {
    const config_var_t *vars;
    size_t n;
    const char **values; /* borrowed from the environment or the table */
};

config_t *config_load(const config_var_t *vars, size_t n, char *err, size_t errlen)
{
    config_t *self = xcalloc(1, sizeof *self);
    self->vars = vars;
    self->n = n;
    self->values = xcalloc(n, sizeof *self->values);
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(vars[i].name);
        self->values[i] = (v && *v) ? v : vars[i].value;
        if (!self->values[i]) {
            snprintf(err, errlen, "%s must be set (%s)", vars[i].name, vars[i].help);
            config_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void config_destroy(config_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->values);
    free(*self_p);
    *self_p = NULL;
}

const char *config_str(const config_t *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->vars[i].name, name) == 0)
            return self->values[i];
    assert(!"config variable not declared");
    abort();
}

int config_int(const config_t *self, const char *name, int64_t min, int64_t max, int64_t *out,
               char *err, size_t errlen)
{
    const char *s = config_str(self, name);
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        snprintf(err, errlen, "%s=%s: expected an integer from %" PRId64 " to %" PRId64, name, s,
                 min, max);
        return -1;
    }
    *out = v;
    return 0;
}

void config_print_help(FILE *out, const char *program, const char *summary,
                       const config_var_t *vars, size_t n)
{
    fprintf(out, "Usage: %s [--help] [--version]\n%s\n\nEnvironment variables:\n", program,
            summary);
    /* An empty default is explained by the help text itself. */
    for (size_t i = 0; i < n; i++) {
        if (vars[i].value && !*vars[i].value)
            fprintf(out, "  %-34s %s\n", vars[i].name, vars[i].help);
        else
            fprintf(out, "  %-34s %s (default: %s)\n", vars[i].name, vars[i].help,
                    vars[i].value ? vars[i].value : "required");
    }
}
