/* registry: what the registry's handler modules share: short names for the
 * generated types, the daemon's settings, and the per-call context.
 *
 * The context names violations by the request's proto path in lowerCamelCase
 * ("table.contact.email") on the wire, and by "<file>:<line>:<column>"
 * during an import, where the column is the path's last component
 * ("tables.csv:12:email"). It also remembers the status and message of the
 * first problem, which the handler answers with. */
#ifndef CONCERTO_REGISTRY_H
#define CONCERTO_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "concerto/registry/v1/registry.pb-c.h"
#include "service.h"

typedef Concerto__Registry__V1__Territory reg_territory_t;
typedef Concerto__Registry__V1__Table reg_table_t;
typedef Concerto__Registry__V1__Contact reg_contact_t;
typedef Concerto__Registry__V1__Governance reg_governance_t;
typedef Concerto__Registry__V1__Recognition reg_recognition_t;
typedef Concerto__Registry__V1__Organization reg_organization_t;
typedef Concerto__Registry__V1__Membership reg_membership_t;
typedef Concerto__Registry__V1__Attestation reg_attestation_t;

typedef struct {
    unsigned min_sectors;
    unsigned min_networks;
    unsigned min_meetings;
} registry_config_t;

/* Limits of lists and imports. */
#define REGISTRY_DEFAULT_LIMIT 100
#define REGISTRY_MAX_LIMIT 500
#define REGISTRY_HISTORY_MAX_BYTES (512 * 1024)

typedef struct {
    service_call_t *call;
    store_t *store;
    const registry_config_t *cfg;
    const char *actor;
    char today[11];
    /* During an import: the file and line being applied, else NULL. */
    const char *file;
    size_t line;
    status_t status; /* of the first problem; STATUS_OK while none */
    char message[300];
    size_t problems;      /* problems recorded so far */
    status_t last_status; /* of the latest problem */
} reg_ctx_t;

void reg_ctx_init(reg_ctx_t *ctx, service_call_t *call, const registry_config_t *cfg);

/* Records a problem with the field at snake_case proto `path`
 * ("table.territory_id"); the first problem sets the call's status and
 * message. Returns `status`. */
status_t reg_violation(reg_ctx_t *ctx, status_t status, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A problem that concerns no single field. */
status_t reg_problem(reg_ctx_t *ctx, status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answers the call with the first problem's status and message. */
int reg_fail(reg_ctx_t *ctx);
/* Answers OK with `result` unless a problem was recorded. */
int reg_finish(reg_ctx_t *ctx, const ProtobufCMessage *result);
/* reg_finish, then frees `result` (may be NULL). */
int reg_finish_free(reg_ctx_t *ctx, ProtobufCMessage *result);

/* The id an update names: the request's `id` (from the path) or, when that
 * is absent, the entity's own `id`, which must agree with it. `kind` is the
 * request field holding the entity ("table"), `inner` its id; `present`
 * says whether the entity was given at all. Returns NULL after recording a
 * violation when the request names no usable id. */
const char *reg_update_id(reg_ctx_t *ctx, const char *kind, int present, const char *id,
                          const char *inner);

/* A new message made from the current row of a query. */
typedef ProtobufCMessage *(*reg_row_fn)(sqlite3_stmt *st);
/* The row that `sql` (whose one parameter is the id) selects for `id`, made
 * by `row`; NULL when there is none. */
ProtobufCMessage *reg_load_row(reg_ctx_t *ctx, const char *sql, const char *id, reg_row_fn row);
/* Answers a query for one entity: `id` (from request field `field`) is
 * checked, loaded with reg_load_row, and answered, or NOT_FOUND naming
 * `field` and the entity's kind `what`. */
int reg_answer_entity(service_call_t *call, void *arg, const char *field, const char *id,
                      const char *what, const char *sql, reg_row_fn row);

/* A database step that did not succeed: constraint failures become
 * CONFLICT, NOT_FOUND or INVALID_ARGUMENT on `path`, anything else
 * INTERNAL (logged). Returns the status recorded. */
status_t reg_db_error(reg_ctx_t *ctx, int rc, const char *path);
/* Steps a write statement; 0 when it is done, else the status recorded. */
status_t reg_step_done(reg_ctx_t *ctx, sqlite3_stmt *st, const char *path);
/* store_stmt, recording INTERNAL when the SQL does not compile. */
sqlite3_stmt *reg_stmt(reg_ctx_t *ctx, const char *sql);

/* Appends an event about "<kind>:<id>"; records INTERNAL on failure. */
status_t reg_emit(reg_ctx_t *ctx, const char *kind, const char *id, const ProtobufCMessage *ev);

/* Field checks: each records an INVALID_ARGUMENT violation and returns 0
 * when the value is bad, 1 when it is fine. A NULL or empty value is fine
 * unless `required`. */
int reg_check_text(reg_ctx_t *ctx, const char *path, const char *s, size_t max, int required,
                   int multiline);
int reg_check_slug(reg_ctx_t *ctx, const char *path, const char *s, int required);
int reg_check_date(reg_ctx_t *ctx, const char *path, const char *s, int required);
int reg_check_code(reg_ctx_t *ctx, const char *path, const char *s, const char *const *vocabulary,
                   int required);
int reg_check_url(reg_ctx_t *ctx, const char *path, const char *s);
int reg_check_range(reg_ctx_t *ctx, const char *path, int64_t v, int64_t min, int64_t max);
/* Read-only fields must be absent from requests. */
void reg_check_absent(reg_ctx_t *ctx, const char *path, int present);

/* The page size a request's `limit` asks for (0 = the default); records a
 * violation when it is over REGISTRY_MAX_LIMIT. */
int reg_limit(reg_ctx_t *ctx, uint32_t limit);
/* Paging: reg_limit, and decodes `cursor` of list `list` into `after` (""
 * when absent). Returns 0, or -1 with violations. */
int reg_page(reg_ctx_t *ctx, const char *list, const char *cursor, uint32_t limit, char after[65],
             int *limit_out);
/* Reads one page of a list query. `st` is bound to select at most
 * limit + 1 rows in the order of their key, column 0. Returns a new array
 * of up to `limit` messages made by `row` (*n of them) and, when another
 * row follows, the cursor of list `list` after the last one in
 * *next_cursor (else NULL). A database error is recorded in ctx. */
ProtobufCMessage **reg_read_page(reg_ctx_t *ctx, sqlite3_stmt *st, const char *list, int limit,
                                 reg_row_fn row, size_t *n, char **next_cursor);

/* "%<folded search>%" for LIKE on *_folded columns, NULL when `search` is
 * absent; records a violation on `path` (and returns NULL) when it is bad.
 * The caller frees the result. */
char *reg_search_pattern(reg_ctx_t *ctx, const char *path, const char *search);

/* An empty string means "absent" in storage. */
const char *reg_nonempty(const char *s);
void reg_bind_text(sqlite3_stmt *st, int i, const char *s);
void reg_bind_opt_int(sqlite3_stmt *st, int i, int has, int64_t v);
char *reg_column_text(sqlite3_stmt *st, int i);

/* Applies a present request value to a stored one, noting `name` in
 * `changed` when it differs. For strings, "" clears. */
typedef struct {
    const char *names[40];
    size_t n;
} reg_changes_t;
/* Notes that field `name` changed. */
void reg_changed(reg_changes_t *ch, const char *name);
void reg_merge_str(char **dst, const char *src, const char *name, reg_changes_t *ch);
void reg_merge_int(protobuf_c_boolean *has_dst, int64_t *dst, int has_src, int64_t src,
                   const char *name, reg_changes_t *ch);
void reg_merge_i32(protobuf_c_boolean *has_dst, int32_t *dst, int has_src, int32_t src,
                   const char *name, reg_changes_t *ch);
void reg_merge_u32(protobuf_c_boolean *has_dst, uint32_t *dst, int has_src, uint32_t src,
                   const char *name, reg_changes_t *ch);
void reg_merge_bool(protobuf_c_boolean *has_dst, protobuf_c_boolean *dst, int has_src,
                    protobuf_c_boolean src, const char *name, reg_changes_t *ch);

/* --- entities (registry_territory.c, registry_organization.c,
 * registry_table.c, registry_membership.c); shared with the importer.
 * Each returns the status recorded in ctx and, on success, a new message
 * in *out (may be NULL) the caller frees with
 * protobuf_c_message_free_unpacked. */
status_t registry_territory_register(reg_ctx_t *ctx, const reg_territory_t *in,
                                     reg_territory_t **out);
status_t registry_organization_register(reg_ctx_t *ctx, const reg_organization_t *in,
                                        reg_organization_t **out);
/* `status` and `since` set the first recognition status (imports only;
 * NULL means requested, today). */
status_t registry_table_register(reg_ctx_t *ctx, const reg_table_t *in, const char *status,
                                 const char *since, const char *reason, reg_table_t **out);
status_t registry_membership_add(reg_ctx_t *ctx,
                                 const Concerto__Registry__V1__AddMembershipRequest *req,
                                 reg_membership_t **out);
status_t registry_membership_end(reg_ctx_t *ctx,
                                 const Concerto__Registry__V1__EndMembershipRequest *req,
                                 reg_membership_t **out);

reg_table_t *registry_table_load(reg_ctx_t *ctx, const char *id);
/* What registry_exists looks for. */
typedef enum {
    REGISTRY_TERRITORY,
    REGISTRY_ORGANIZATION,
    REGISTRY_TABLE,
} registry_kind_t;

/* 1 when an entity of `kind` with `id` is registered; 0 when not, or when
 * the lookup failed (then INTERNAL is recorded in ctx). */
int registry_exists(reg_ctx_t *ctx, registry_kind_t kind, const char *id);

/* Handler registration, one per module; each returns 0 or -1. */
int registry_territory_setup(service_t *svc, const registry_config_t *cfg);
int registry_organization_setup(service_t *svc, const registry_config_t *cfg);
int registry_table_setup(service_t *svc, const registry_config_t *cfg);
int registry_membership_setup(service_t *svc, const registry_config_t *cfg);
int registry_evaluate_setup(service_t *svc, const registry_config_t *cfg);
int registry_history_setup(service_t *svc, const registry_config_t *cfg);
int registry_import_setup(service_t *svc, const registry_config_t *cfg);

#endif
