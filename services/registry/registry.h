/* registry: what the registry's modules share: short names for the
 * generated types, the daemon's settings, its handlers (registered from
 * the table in registry_service.c), and the entity functions the importer
 * runs each CSV row through. Handlers are written with the runtime's
 * toolkit (common/ctx.h, field.h, page.h, row.h, patch.h, import.h). */
#ifndef CONCERTO_REGISTRY_H
#define CONCERTO_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "concerto/registry/v1/registry.pb-c.h"
#include "ctx.h"
#include "entity.h"
#include "page.h"
#include "registry_characteristics.h"
#include "service.h"

typedef Concerto__Registry__V1__Territory reg_territory_t;
typedef Concerto__Registry__V1__Table reg_table_t;
typedef Concerto__Registry__V1__Contact reg_contact_t;
typedef Concerto__Registry__V1__Governance reg_governance_t;
typedef Concerto__Registry__V1__Recognition reg_recognition_t;
typedef Concerto__Registry__V1__Organization reg_organization_t;
typedef Concerto__Registry__V1__Membership reg_membership_t;
typedef Concerto__Registry__V1__Attestation reg_attestation_t;

/* The settings handlers read (their `arg`). */
typedef struct {
    unsigned min_sectors;
    unsigned min_networks;
    unsigned min_meetings;
    int observers_in_networks; /* observers count toward multi-network */
} registry_config_t;

/* The settings in force: those given to registry_register_handlers (or
 * the daemon's, from its environment). */
const registry_config_t *registry_config(void);

#define REGISTRY_HISTORY_MAX_BYTES (512 * 1024)

/* The actor of the demo data's import: its recognition dates are unknown
 * and its decisions say "demo data". */
#define REGISTRY_DEMO_ACTOR "system:demo-data"
/* The actor of the registry's own work at start. */
#define REGISTRY_SYSTEM_ACTOR "system:registry"

/* Whether an entity of each kind is registered and not archived: what a
 * reference or a filter may name. */
#define REGISTRY_TERRITORY_EXISTS "SELECT 1 FROM territory WHERE id = ? AND archived_ms IS NULL"
#define REGISTRY_ORGANIZATION_EXISTS                                                               \
    "SELECT 1 FROM organization WHERE id = ? AND archived_ms IS NULL"
#define REGISTRY_TABLE_EXISTS                                                                      \
    "SELECT 1 FROM concertation_table WHERE id = ? AND archived_ms IS NULL"
/* Columns of an entity's Archive (`archived`), from its row. */
/* The columns of a Table's location (TableLocation, as row.h names them)
 * from the Table's row `t` and territory_place joined as `p`. */
#define REGISTRY_LOCATION_COLUMNS(t, p)                                                            \
    t ".territory_id AS location__territory_id, " p ".kind AS location__territory_kind, " p        \
      ".borough_id AS location__borough_id, " p                                                    \
      ".municipality_id AS location__municipality_id, " p ".sector_id AS location__sector_id"

#define REGISTRY_ARCHIVE_COLUMNS(t)                                                                \
    t "archived_ms AS archived__archived_ms, " t "archived_by AS archived__by, " t                 \
      "archived_reason AS archived__reason"

/* The report of Table facts `f` on `as_of`: verdicts, summaries and the
 * facts behind them (registry_evaluate.c). A new message, freed with
 * protobuf_c_message_free_unpacked. */
struct registry_table_facts;
Concerto__Registry__V1__TableCharacteristics *
registry_characteristics_report(const struct registry_table_facts *f, const char *as_of,
                                const registry_thresholds_t *th);

/* --- entities, shared with the importer. Each returns the status
 * recorded in ctx and, on success, a new message in *out (unless out is
 * NULL) the caller frees with protobuf_c_message_free_unpacked. */
status_t registry_territory_register(ctx_t *ctx, const reg_territory_t *in, reg_territory_t **out);
status_t registry_organization_register(ctx_t *ctx, const reg_organization_t *in,
                                        reg_organization_t **out);
/* `first` is the first recognition status (an import's; NULL: requested,
 * today, "registered"). */
struct registry_decision;
status_t registry_table_register(ctx_t *ctx, const reg_table_t *in, struct registry_decision *first,
                                 reg_table_t **out);
/* The Table as stored with its scheduled decision and disputes, or NULL
 * after recording NOT_FOUND on `field` (or a database error). */
reg_table_t *registry_table_load(ctx_t *ctx, const char *field, const char *id);
/* TableLocationChanged for each Table on territory `territory_id` or
 * inside it, at the place it is now: the territory moved. */
status_t registry_table_emit_moved(ctx_t *ctx, const char *territory_id);
/* Whether the caller may use admin-only fields (a justification, an
 * overlap justification): an admin, as the gateway says, or no caller at
 * all (the registry's own work, a peer other than the gateway; trusted as
 * docs/architecture.md, "The caller", says). */
int registry_caller_is_admin(ctx_t *ctx);

/* Governance facts (registry_governance.c): the checks of a Governance
 * whose paths start with `prefix`; a version from `on` (its id, 0 on
 * failure, recorded). */
void registry_governance_validate(ctx_t *ctx, const char *prefix, const reg_governance_t *g);
int64_t registry_governance_add(ctx_t *ctx, const char *table_id, const char *on,
                                const reg_governance_t *g);

/* Coverage (registry_coverage.c): the Tables, not withdrawn or refused
 * (only recognized ones with `recognized_only`), other than `except` (may
 * be NULL), whose territory is `territory_id`, contains it or lies in it;
 * recognized first, at most REGISTRY_COVERAGE_MAX. A new array of n in
 * *out. */
#define REGISTRY_COVERAGE_MAX 100
size_t registry_coverage_of(ctx_t *ctx, const char *territory_id, const char *except,
                            int recognized_only, Concerto__Registry__V1__CoveringTable ***out);
/* CONFLICT on `path` for each recognized Table, other than `table_id`,
 * that Table `table_id` on `territory_id` would overlap from `from` ("":
 * every date): the same territory always; one containing it or inside it
 * unless `justification` is given or the other Table holds one. */
void registry_coverage_check(ctx_t *ctx, const char *table_id, const char *territory_id,
                             const char *from, const char *justification, const char *path);

/* People (registry_people.c): the Table's contacts today, as the caller
 * may see them (a new array of n); whether the caller sees e-mails and
 * phones; a person's hidden from one who does not. */
size_t registry_people_of(ctx_t *ctx, const char *table_id, Concerto__Registry__V1__Person ***out);
int registry_caller_sees_contacts(ctx_t *ctx);
void registry_person_hide_contacts(ctx_t *ctx, Concerto__Registry__V1__Person *p);

/* The Table's disputes, oldest first, with their steps: a new array of n
 * in *out (each freed with protobuf_c_message_free_unpacked, then the
 * array). */
size_t registry_disputes_of(ctx_t *ctx, const char *table_id,
                            Concerto__Registry__V1__Dispute ***out);
status_t registry_membership_add(ctx_t *ctx,
                                 const Concerto__Registry__V1__AddMembershipRequest *req,
                                 reg_membership_t **out);
status_t registry_membership_end(ctx_t *ctx,
                                 const Concerto__Registry__V1__EndMembershipRequest *req,
                                 reg_membership_t **out);

/* The registry's entities (common/entity.h): their register, update and
 * get are rows of the handler table, as are its lists. */
extern const entity_t registry_territory_entity;
extern const entity_t registry_organization_entity;
extern const entity_t registry_table_entity;
/* Its lists (common/page.h), answered by page_on_list. */
extern const page_list_t registry_territory_list;
extern const page_list_t registry_organization_list;
extern const page_list_t registry_table_list;
extern const page_list_t registry_membership_list;
extern const page_list_t registry_attestation_list;
extern const page_list_t registry_organization_facts_list;
extern const page_list_t registry_governance_list;
extern const page_list_t registry_people_list;

/* --- the other handlers (service_handler_fn); they read the settings with
 * registry_config(). */
int registry_handle_register_table(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_get_table(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_change_recognition(service_call_t *call, const ProtobufCMessage *msg,
                                       void *arg);
int registry_handle_cancel_scheduled_recognition(service_call_t *call, const ProtobufCMessage *msg,
                                                 void *arg);
int registry_handle_apply_scheduled_recognition(service_call_t *call, const ProtobufCMessage *msg,
                                                void *arg);
int registry_handle_open_dispute(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_move_dispute(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_list_disputes(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_refresh_characteristics(service_call_t *call, const ProtobufCMessage *msg,
                                            void *arg);
int registry_handle_register_organization(service_call_t *call, const ProtobufCMessage *msg,
                                          void *arg);
int registry_handle_update_organization(service_call_t *call, const ProtobufCMessage *msg,
                                        void *arg);
int registry_handle_record_organization_facts(service_call_t *call, const ProtobufCMessage *msg,
                                              void *arg);
int registry_handle_get_organization_tables(service_call_t *call, const ProtobufCMessage *msg,
                                            void *arg);
int registry_handle_record_governance(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_add_person(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_update_person(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_end_person(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_get_coverage(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_add_membership(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_end_membership(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_record_attestation(service_call_t *call, const ProtobufCMessage *msg,
                                       void *arg);
int registry_handle_get_characteristics(service_call_t *call, const ProtobufCMessage *msg,
                                        void *arg);
/* Histories: the handler's `arg` says whose. */
typedef struct {
    const char *kind; /* the subject's prefix: "table" */
    const char *noun;
    const char *known; /* the entity exists, archived or not (one parameter) */
    const ProtobufCMessageDescriptor *answer;
} registry_history_t;
extern const registry_history_t registry_table_history;
extern const registry_history_t registry_territory_history;
extern const registry_history_t registry_organization_history;
int registry_handle_get_history(service_call_t *call, const ProtobufCMessage *msg, void *arg);
int registry_handle_import(service_call_t *call, const ProtobufCMessage *msg, void *arg);

#endif
