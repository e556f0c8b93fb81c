/* config: settings from environment variables, with defaults and help text.
 *
 * Each program declares a table of the variables it reads; `config_load`
 * resolves every one (environment, else default), and `config_print_help`
 * prints the table so `--help` always lists every variable there is. */
#ifndef CONCERTO_CONFIG_H
#define CONCERTO_CONFIG_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *name;  /* environment variable, e.g. "CONCERTO_DATA_DIR" */
    const char *value; /* default; NULL means "must be set" */
    const char *help;
} config_var_t;

typedef struct config config_t;

/* Resolves every variable in `vars` (n of them; the table must outlive the
 * config). Returns NULL and writes a message to `err` when a required
 * variable is missing. */
config_t *config_load(const config_var_t *vars, size_t n, char *err, size_t errlen);
void config_destroy(config_t **self_p);

/* The resolved value; aborts if `name` is not in the table (a programmer
 * error). */
const char *config_str(const config_t *self, const char *name);
/* Parses the value as a decimal integer within [min, max]; returns -1 and
 * writes a message naming the variable to `err` otherwise. */
int config_int(const config_t *self, const char *name, int64_t min, int64_t max, int64_t *out,
               char *err, size_t errlen);

void config_print_help(FILE *out, const char *program, const char *summary,
                       const config_var_t *vars, size_t n);

#endif
