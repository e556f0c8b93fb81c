/* partner_policy: who may publish through the partner ingress, and what.
 *
 * - The allow-list (CONCERTO_GATEWAY_PARTNERS): one partner a line,
 *   `<z85 public key> <partner-name> [scope=value,value|* ...]`, `#`
 *   comments: any number of scopes (`tables=tqmn,tqhm`, `funder=centraide`,
 *   `tables=*`), each once. The gateway checks `tables` itself: a partner
 *   without it may speak for no Table (requests naming one are refused,
 *   requests that name none pass). Every scope travels to the service with
 *   the request (the envelope's caller), which enforces those it owns.
 * - The accepted types (CONCERTO_GATEWAY_PARTNER_TYPES): a comma-separated
 *   list of full request type names, each optionally `=service` to name the
 *   owning service; without it the owner comes from the package
 *   (concerto.registry. -> registry, ...). */
#ifndef CONCERTO_GW_PARTNER_POLICY_H
#define CONCERTO_GW_PARTNER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define PARTNER_MAX_NAME 64
#define PARTNER_MAX_VALUE 64      /* a scope value: a Table id, a funder... */
#define PARTNER_MAX_SCOPE_NAME 32 /* [a-z][a-z0-9_]* */
#define PARTNER_MAX_SCOPES 32

typedef struct {
    char *name;    /* "tables", "funder" */
    char **values; /* "*" alone: any */
    size_t n_values;
} partner_scope_t;

typedef struct {
    uint8_t key[32];
    char name[PARTNER_MAX_NAME + 1];
    partner_scope_t *scopes;
    size_t n_scopes;
} partner_entry_t;

typedef struct partner_policy partner_policy_t;

partner_policy_t *partner_policy_new(void);
void partner_policy_destroy(partner_policy_t **self_p);

/* Adds the partners in `text`; on a bad line returns -1 naming it in `err`
 * and adds nothing from `text`. Keys and names must be unique. */
int partner_policy_load_text(partner_policy_t *self, const char *text, char *err, size_t errlen);
int partner_policy_load_file(partner_policy_t *self, const char *path, char *err, size_t errlen);
size_t partner_policy_count(const partner_policy_t *self);

/* The partner with this CURVE public key, or NULL. */
const partner_entry_t *partner_policy_find_key(const partner_policy_t *self, const uint8_t key[32]);
const partner_entry_t *partner_policy_find_name(const partner_policy_t *self, const char *name);
/* The partner's scope `name`, or NULL. */
const partner_scope_t *partner_policy_scope(const partner_entry_t *p, const char *name);
/* Whether the partner's `tables` scope lists `table_id` or is `*`. */
int partner_policy_allows_table(const partner_entry_t *p, const char *table_id);

/* Sets the accepted types from a list as above. `service_of` maps a
 * service name to its number (or -1), and a type's package to its owner.
 * Returns -1 with a message for an unknown service or type name syntax. */
int partner_policy_set_types(partner_policy_t *self, const char *list,
                             int (*service_of)(const char *name),
                             int (*service_of_type)(const char *type), char *err, size_t errlen);
/* The owning service of an accepted type, or -1 when partners may not send
 * it. */
int partner_policy_type_service(const partner_policy_t *self, const char *type);
size_t partner_policy_type_count(const partner_policy_t *self);
/* The i-th accepted type name, i < partner_policy_type_count. */
const char *partner_policy_type_name(const partner_policy_t *self, size_t i);

#endif
