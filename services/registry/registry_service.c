/* registry_service: the registry daemon's spec: settings (the
 * characteristics' thresholds, demo data), schema, the table of its
 * handlers, and loading the demo data at start when no Table is
 * registered (see registry_service.h). */
#include "registry_service.h"

#include <string.h>

#include "concerto/common/v1/table_status.pb-c.h"
#include "log.h"
#include "registry_import.h"
#include "registry_schema.h"
#include "registry_vocabulary.h"

static const config_var_t registry_vars[] = {
    {"CONCERTO_REGISTRY_MIN_SECTORS", "3",
     "intersectoral: distinct sectors among a Table's active members, at least"},
    {"CONCERTO_REGISTRY_MIN_NETWORKS", "3",
     "multi-network: distinct networks among a Table's active members, at least"},
    {"CONCERTO_REGISTRY_MIN_MEETINGS", "4", "structured and permanent: meetings a year, at least"},
    {"CONCERTO_REGISTRY_OBSERVERS_IN_NETWORKS", "0",
     "1: observers count toward multi-network (never toward intersectoral); 0: they do not"},
    {"CONCERTO_REGISTRY_VOCABULARY", REGISTRY_VOCABULARY_DEFAULT,
     "folder of sectors.csv and networks.csv, the lists organizations are checked against"},
    {"CONCERTO_REGISTRY_DEMO_DATA", "",
     "folder of CSV files imported at start when no Table is registered (empty: none)"},
};

static registry_config_t registry_cfg;

#define REG(name) (&concerto__registry__v1__##name##__descriptor)

/* Every request the registry answers. */
static const service_handler_spec_t registry_handlers[] = {
    {REG(register_territory_request), SERVICE_COMMAND, entity_on_register,
     &registry_territory_entity},
    {REG(update_territory_request), SERVICE_COMMAND, entity_on_update, &registry_territory_entity},
    {REG(get_territory_request), SERVICE_QUERY, entity_on_get, &registry_territory_entity},
    {REG(list_territories_request), SERVICE_QUERY, page_on_list, &registry_territory_list},
    {REG(register_organization_request), SERVICE_COMMAND, registry_handle_register_organization,
     NULL},
    {REG(update_organization_request), SERVICE_COMMAND, registry_handle_update_organization, NULL},
    {REG(record_organization_facts_request), SERVICE_COMMAND,
     registry_handle_record_organization_facts, NULL},
    {REG(list_organization_facts_request), SERVICE_QUERY, page_on_list,
     &registry_organization_facts_list},
    {REG(get_organization_tables_request), SERVICE_QUERY, registry_handle_get_organization_tables,
     NULL},
    {REG(get_organization_request), SERVICE_QUERY, entity_on_get, &registry_organization_entity},
    {REG(list_organizations_request), SERVICE_QUERY, page_on_list, &registry_organization_list},
    {REG(register_table_request), SERVICE_COMMAND, registry_handle_register_table, NULL},
    {REG(update_table_request), SERVICE_COMMAND, entity_on_update, &registry_table_entity},
    {REG(change_recognition_request), SERVICE_COMMAND, registry_handle_change_recognition, NULL},
    {REG(cancel_scheduled_recognition_request), SERVICE_COMMAND,
     registry_handle_cancel_scheduled_recognition, NULL},
    /* Run by the durable timer of a scheduled decision. */
    {REG(apply_scheduled_recognition_request), SERVICE_COMMAND,
     registry_handle_apply_scheduled_recognition, NULL},
    /* A Table's answer reads only the store, the caller and today's date:
     * kept until the next write (five queries a read otherwise). */
    {REG(get_table_request), SERVICE_QUERY_CACHED, registry_handle_get_table, NULL},
    {REG(list_tables_request), SERVICE_QUERY, page_on_list, &registry_table_list},
    /* The registry's part of the gateway's fan-out status: the Table. */
    {&concerto__common__v1__table_status_request__descriptor, SERVICE_QUERY_CACHED,
     registry_handle_get_table, NULL},
    {REG(add_membership_request), SERVICE_COMMAND, registry_handle_add_membership, NULL},
    {REG(end_membership_request), SERVICE_COMMAND, registry_handle_end_membership, NULL},
    {REG(list_memberships_request), SERVICE_QUERY, page_on_list, &registry_membership_list},
    {REG(record_attestation_request), SERVICE_COMMAND, registry_handle_record_attestation, NULL},
    {REG(list_attestations_request), SERVICE_QUERY, page_on_list, &registry_attestation_list},
    {REG(get_characteristics_request), SERVICE_QUERY, registry_handle_get_characteristics, NULL},
    {REG(record_governance_request), SERVICE_COMMAND, registry_handle_record_governance, NULL},
    {REG(list_governance_request), SERVICE_QUERY, page_on_list, &registry_governance_list},
    {REG(add_person_request), SERVICE_COMMAND, registry_handle_add_person, NULL},
    {REG(update_person_request), SERVICE_COMMAND, registry_handle_update_person, NULL},
    {REG(end_person_request), SERVICE_COMMAND, registry_handle_end_person, NULL},
    {REG(list_people_request), SERVICE_QUERY, page_on_list, &registry_people_list},
    {REG(get_coverage_request), SERVICE_QUERY, registry_handle_get_coverage, NULL},
    /* Run at start (registry_setup). */
    {REG(refresh_characteristics_request), SERVICE_COMMAND, registry_handle_refresh_characteristics,
     NULL},
    {REG(open_dispute_request), SERVICE_COMMAND, registry_handle_open_dispute, NULL},
    {REG(move_dispute_request), SERVICE_COMMAND, registry_handle_move_dispute, NULL},
    {REG(list_disputes_request), SERVICE_QUERY, registry_handle_list_disputes, NULL},
    {REG(get_table_history_request), SERVICE_QUERY, registry_handle_get_history,
     (void *)&registry_table_history},
    {REG(get_territory_history_request), SERVICE_QUERY, registry_handle_get_history,
     (void *)&registry_territory_history},
    {REG(get_organization_history_request), SERVICE_QUERY, registry_handle_get_history,
     (void *)&registry_organization_history},
    {REG(archive_territory_request), SERVICE_COMMAND, entity_on_archive,
     &registry_territory_entity},
    {REG(archive_organization_request), SERVICE_COMMAND, entity_on_archive,
     &registry_organization_entity},
    {REG(archive_table_request), SERVICE_COMMAND, entity_on_archive, &registry_table_entity},
    {REG(import_request), SERVICE_COMMAND, registry_handle_import, NULL},
};
#define N_HANDLERS (sizeof registry_handlers / sizeof registry_handlers[0])

/* The settings handlers read: the daemon's, or a test's. */
static const registry_config_t *registry_active = &registry_cfg;

const registry_config_t *registry_config(void)
{
    return registry_active;
}

int registry_register_handlers(service_t *svc, const registry_config_t *cfg)
{
    registry_active = cfg;
    return service_handle(svc, registry_handlers, N_HANDLERS, (void *)cfg);
}

static int registry_table_count(service_t *svc)
{
    sqlite3_stmt *st = store_stmt(service_store(svc), "SELECT count(*) FROM concertation_table");
    if (!st)
        return -1;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    return n;
}

/* Evaluates again the Tables whose stored evaluation was made with other
 * thresholds, or none (a database from before evaluations were stored). */
static int registry_refresh_at_start(service_t *svc)
{
    Concerto__Registry__V1__RefreshCharacteristicsRequest req =
        CONCERTO__REGISTRY__V1__REFRESH_CHARACTERISTICS_REQUEST__INIT;
    Concerto__Common__V1__Reply *reply = service_submit(svc, &req.base, REGISTRY_SYSTEM_ACTOR);
    if (!reply || reply->status != CONCERTO__COMMON__V1__STATUS__OK) {
        log_error("characteristics not evaluated", "message=\"%s\"",
                  reply && reply->message ? reply->message : "no reply");
        if (reply)
            concerto__common__v1__reply__free_unpacked(reply, NULL);
        return -1;
    }
    Concerto__Registry__V1__RefreshCharacteristicsResult *res =
        concerto__registry__v1__refresh_characteristics_result__unpack(NULL, reply->result.len,
                                                                       reply->result.data);
    if (res && res->tables)
        log_info("characteristics evaluated again", "tables=%u changed=%u", res->tables,
                 res->changed);
    if (res)
        concerto__registry__v1__refresh_characteristics_result__free_unpacked(res, NULL);
    concerto__common__v1__reply__free_unpacked(reply, NULL);
    return 0;
}

static void registry_log_reply(const Concerto__Common__V1__Reply *reply, const char *dir)
{
    if (reply->status != CONCERTO__COMMON__V1__STATUS__OK) {
        log_error("demo data import refused", "dir=%s status=%s message=\"%s\"", dir,
                  status_name(reply->status), reply->message ? reply->message : "");
        for (size_t i = 0; i < reply->n_fields && i < 20; i++)
            log_error("demo data problem", "field=%s description=\"%s\"", reply->fields[i]->field,
                      reply->fields[i]->description);
        return;
    }
    Concerto__Registry__V1__ImportResult *res =
        concerto__registry__v1__import_result__unpack(NULL, reply->result.len, reply->result.data);
    log_info("demo data imported",
             "dir=%s territories=%u organizations=%u tables=%u memberships=%u", dir,
             res ? res->territories : 0, res ? res->organizations : 0, res ? res->tables : 0,
             res ? res->memberships : 0);
    if (res)
        concerto__registry__v1__import_result__free_unpacked(res, NULL);
}

/* Runs at setup, before the sockets are bound: the events it emits wait in
 * the outbox, and subscribers get them by replay like any others. */
int registry_demo_load(service_t *svc, const char *dir)
{
    char err[512];
    /* The project's demo files are UTF-8. */
    Concerto__Registry__V1__ImportRequest *req =
        registry_import_read_dir(dir, NULL, err, sizeof err);
    if (!req) {
        log_error("demo data not loaded", "error=\"%s\"", err);
        return -1;
    }
    Concerto__Common__V1__Reply *reply = service_submit(svc, &req->base, REGISTRY_DEMO_ACTOR);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (!reply) {
        log_error("demo data import gave no reply", "dir=%s", dir);
        return -1;
    }
    int ok = reply->status == CONCERTO__COMMON__V1__STATUS__OK;
    registry_log_reply(reply, dir);
    concerto__common__v1__reply__free_unpacked(reply, NULL);
    return ok ? 0 : -1;
}

static int registry_setup(service_t *svc, const config_t *cfg)
{
    char err[256];
    int64_t sectors, networks, meetings, observers;
    if (config_int(cfg, "CONCERTO_REGISTRY_MIN_SECTORS", 1, 12, &sectors, err, sizeof err) ||
        config_int(cfg, "CONCERTO_REGISTRY_MIN_NETWORKS", 1, 6, &networks, err, sizeof err) ||
        config_int(cfg, "CONCERTO_REGISTRY_MIN_MEETINGS", 0, 365, &meetings, err, sizeof err) ||
        config_int(cfg, "CONCERTO_REGISTRY_OBSERVERS_IN_NETWORKS", 0, 1, &observers, err,
                   sizeof err)) {
        log_error("bad configuration", "error=\"%s\"", err);
        return -1;
    }
    registry_cfg.min_sectors = (unsigned)sectors;
    registry_cfg.min_networks = (unsigned)networks;
    registry_cfg.min_meetings = (unsigned)meetings;
    registry_cfg.observers_in_networks = (int)observers;
    const char *vocabulary = config_str(cfg, "CONCERTO_REGISTRY_VOCABULARY");
    if (registry_vocabulary_load(vocabulary, err, sizeof err) != 0 ||
        registry_vocabulary_check_store(service_store(svc), err, sizeof err) != 0) {
        log_error("bad vocabulary", "dir=%s error=\"%s\"", vocabulary, err);
        return -1;
    }
    const char *demo = config_str(cfg, "CONCERTO_REGISTRY_DEMO_DATA");
    if (*demo) {
        int n = registry_table_count(svc);
        if (n < 0)
            return -1;
        if (n == 0 && registry_demo_load(svc, demo) != 0)
            return -1;
        if (n > 0)
            log_info("demo data skipped", "reason=\"Tables are already registered\" tables=%d", n);
    }
    if (registry_refresh_at_start(svc) != 0)
        return -1;
    log_info("registry configured",
             "min_sectors=%u min_networks=%u min_meetings=%u observers_in_networks=%d",
             registry_cfg.min_sectors, registry_cfg.min_networks, registry_cfg.min_meetings,
             registry_cfg.observers_in_networks);
    return 0;
}

void registry_spec_init(service_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->name = "registry";
    spec->migrations = registry_migrations;
    spec->n_migrations = registry_migration_count;
    spec->extra_vars = registry_vars;
    spec->n_extra_vars = sizeof registry_vars / sizeof registry_vars[0];
    spec->handlers = registry_handlers;
    spec->n_handlers = N_HANDLERS;
    spec->arg = &registry_cfg;
    spec->summary = "The registry of Montréal's Tables de quartier: territories, Tables, member "
                    "organizations, memberships, recognition and the four characteristics.\n"
                    "Also: concerto-registry import DIR (see concerto-registry import --help).";
    spec->setup = registry_setup;
}
