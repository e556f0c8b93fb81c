/* registry_validate: the registry's own rules of input: its limits, its
 * vocabularies and the Québec enterprise number. The common shapes
 * (slugs, dates, e-mail, phone, URLs, text) are common/shape.h and
 * common/field.h. */
#ifndef CONCERTO_REGISTRY_VALIDATE_H
#define CONCERTO_REGISTRY_VALIDATE_H

/* Explicit maxima, in characters (code points). */
#define REGISTRY_MAX_NAME 200
#define REGISTRY_MAX_ACRONYM 32
#define REGISTRY_MAX_TEXT 2000 /* notes, boundary, statement */
#define REGISTRY_MAX_ADDRESS 300
#define REGISTRY_MAX_REASON 1000
#define REGISTRY_MAX_AUTHOR 200
#define REGISTRY_MAX_LANGUAGES 8
#define REGISTRY_MAX_ALIASES 8
#define REGISTRY_MAX_POPULATION 10000000
#define REGISTRY_MAX_BOARD_SEATS 100
#define REGISTRY_MAX_MEETINGS 365
#define REGISTRY_MAX_STAFF 1000
#define REGISTRY_MIN_YEAR 1800

/* Québec enterprise number: exactly 10 digits. The Registraire des
 * entreprises publishes no check-digit rule, so none is applied. */
int registry_valid_neq(const char *s);

/* Vocabularies fixed by the framework, NULL-terminated (checked with
 * field_word); sectors and networks are the deployment's
 * (registry_vocabulary.h). */
extern const char *const registry_territory_kinds[];
extern const char *const registry_roles[];
extern const char *const registry_statuses[];

#endif
