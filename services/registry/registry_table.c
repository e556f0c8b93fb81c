/* registry_table: Tables de quartier: register, update, get (with the
 * scheduled decision and the disputes), list, the registry's part of the
 * gateway's fan-out status, and what follows a change: the first status,
 * MandataireChanged, the characteristics. Withdrawn Tables are read-only.
 * Recognition decisions are registry_decision.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "field.h"
#include "page.h"
#include "patch.h"
#include "registry.h"
#include "registry_decision.h"
#include "registry_recognition.h"
#include "registry_timeline.h"
#include "registry_validate.h"
#include "registry_vocabulary.h"
#include "row.h"
#include "shape.h"
#include "text.h"
#include "xalloc.h"

/* Columns named after the Table's fields (row.h): its current decision's
 * facts beside its status, where its territory sits (territory_place,
 * joined as `l` by TABLE_PLACE), and, read by name in table_complete, the
 * repeated fields kept as words. */
#define TABLE_COLUMNS                                                                              \
    "t.id, t.name, t.acronym, t.territory_id, t.founding_year, t.mandataire_id, "                  \
    "t.email AS contact__email, t.phone AS contact__phone, t.website AS contact__website, "        \
    "t.address AS contact__address, t.incorporated AS governance__incorporated, "                  \
    "t.bylaws_adopted_on AS governance__bylaws_adopted_on, "                                       \
    "t.board_seats AS governance__board_seats, "                                                   \
    "t.meetings_per_year AS governance__meetings_per_year, "                                       \
    "t.paid_staff AS governance__paid_staff, t.status AS recognition__status, "                    \
    "CASE WHEN t.status_since_known THEN t.status_since END AS recognition__since, "               \
    "t.status_reason AS recognition__reason, t.status_by AS recognition__changed_by, "             \
    "t.status_since_known AS recognition__since_known, "                                           \
    "t.status_recorded_on AS recognition__recorded_on, "                                           \
    "t.status_decision_id AS recognition__decision_id, t.status_origin AS recognition__origin, "   \
    "t.status_justification AS recognition__justification, "                                       \
    "t.status_exemption AS recognition__exemption, "                                               \
    "t.status_dispute_id AS recognition__dispute_id, t.source_url, t.notes, "                      \
    "NULLIF(t.uncertain, 0) AS uncertain, t.created_ms, t.updated_ms, " REGISTRY_LOCATION_COLUMNS( \
        "t", "l") ", " REGISTRY_ARCHIVE_COLUMNS("t.") ", t.overlap_justification, t.languages, "   \
                                                      "t.status_unmet"

/* The join TABLE_COLUMNS reads the location from, last in a FROM clause:
 * CROSS keeps SQLite from joining it before the filters on the other
 * tables (it would then place every Table a list scans, not only those it
 * answers). One join where the location was four subqueries, each
 * reading the view again: a third of a filtered list's work. */
#define TABLE_PLACE " CROSS JOIN territory_place l ON l.id = t.territory_id"

/* The index of the result column named `name` (one of TABLE_COLUMNS). */
static int table_column(sqlite3_stmt *st, const char *name)
{
    for (int i = sqlite3_column_count(st) - 1; i >= 0; i--)
        if (strcmp(sqlite3_column_name(st, i), name) == 0)
            return i;
    return -1;
}

/* Fills the repeated fields kept as space-separated words: the languages
 * and the current decision's unmet characteristics. */
static void table_complete(ProtobufCMessage *m, sqlite3_stmt *st)
{
    reg_table_t *t = (reg_table_t *)m;
    t->languages = text_words((const char *)sqlite3_column_text(st, table_column(st, "languages")),
                              &t->n_languages);
    if (t->recognition)
        t->recognition->unmet_characteristics =
            text_words((const char *)sqlite3_column_text(st, table_column(st, "status_unmet")),
                       &t->recognition->n_unmet_characteristics);
}

static void table_validate_contact(ctx_t *ctx, const reg_contact_t *c)
{
    if (!c)
        return;
    field_email(ctx, "table.contact.email", c->email, 0);
    field_phone(ctx, "table.contact.phone", c->phone, 0);
    field_url(ctx, "table.contact.website", c->website, 0);
    field_text(ctx, "table.contact.address", c->address, REGISTRY_MAX_ADDRESS, FIELD_MULTILINE);
}

static void table_validate_languages(ctx_t *ctx, const reg_table_t *t)
{
    if (t->n_languages > REGISTRY_MAX_LANGUAGES) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "table.languages", "at most %d languages",
                      REGISTRY_MAX_LANGUAGES);
        return;
    }
    for (size_t i = 0; i < t->n_languages; i++) {
        char path[48];
        snprintf(path, sizeof path, "table.languages[%zu]", i);
        if (!shape_language(t->languages[i])) {
            ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "must be an ISO 639 code of 2 or 3 lower-case letters (fr, en)");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->languages[i], t->languages[j]) == 0)
                ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "repeats %s", t->languages[i]);
    }
}

static void table_validate(ctx_t *ctx, const ProtobufCMessage *m)
{
    const reg_table_t *t = (const reg_table_t *)m;
    field_slug(ctx, "table.id", t->id, FIELD_REQUIRED);
    field_text(ctx, "table.name", t->name, REGISTRY_MAX_NAME, FIELD_REQUIRED);
    field_text(ctx, "table.acronym", t->acronym, REGISTRY_MAX_ACRONYM, 0);
    field_slug(ctx, "table.territory_id", t->territory_id, FIELD_REQUIRED);
    if (t->has_founding_year)
        field_range(ctx, "table.founding_year", t->founding_year, REGISTRY_MIN_YEAR,
                    atoi(ctx->today));
    field_slug(ctx, "table.mandataire_id", t->mandataire_id, 0);
    table_validate_contact(ctx, t->contact);
    table_validate_languages(ctx, t);
    registry_governance_validate(ctx, "table.governance", t->governance);
    field_text(ctx, "table.overlap_justification", t->overlap_justification, REGISTRY_MAX_TEXT,
               FIELD_MULTILINE);
    field_url(ctx, "table.source_url", t->source_url, 0);
    field_text(ctx, "table.notes", t->notes, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
}

/* The territory and the mandataire exist; a recognized Table keeps its
 * mandataire. */
static void table_check(ctx_t *ctx, const ProtobufCMessage *m, const patch_changes_t *changes)
{
    const reg_table_t *t = (const reg_table_t *)m;
    ctx_require(ctx, REGISTRY_TERRITORY_EXISTS, "table.territory_id", "territory", t->territory_id);
    if (field_nonempty(t->mandataire_id))
        ctx_require(ctx, REGISTRY_ORGANIZATION_EXISTS, "table.mandataire_id", "organization",
                    t->mandataire_id);
    if (changes && !ctx->problems && !field_nonempty(t->mandataire_id) &&
        strcmp(t->recognition->status, "recognized") == 0)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "table.mandataire_id",
                      "a recognized Table keeps its mandataire");
    if (changes && !ctx->problems)
        registry_table_writable(ctx, t->id, "id");
    if ((changes ? patch_changed(changes, "overlap_justification")
                 : field_nonempty(t->overlap_justification) != NULL) &&
        !registry_caller_is_admin(ctx))
        ctx_violation(ctx, STATUS_PERMISSION_DENIED, "table.overlap_justification",
                      "only an admin may justify a Table's overlapping coverage");
    /* A recognized Table moves only where it overlaps nobody. */
    if (changes && !ctx->problems && patch_changed(changes, "territory_id") &&
        strcmp(t->recognition->status, "recognized") == 0)
        registry_coverage_check(ctx, t->id, t->territory_id, ctx->today,
                                field_nonempty(t->overlap_justification), "table.territory_id");
}

/* What derives from the Table's fields (search forms, languages) and, for
 * a new one, its first status (`extra`, a registry_decision_t). */
static void table_bind(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessage *m, const void *extra)
{
    const reg_table_t *t = (const reg_table_t *)m;
    char *folded = text_fold(t->name);
    char *acronym_folded = field_nonempty(t->acronym) ? text_fold(t->acronym) : NULL;
    char *languages = text_words_join(t->languages, t->n_languages);
    row_bind_text(st, ":name_folded", folded);
    row_bind_text(st, ":acronym_folded", field_nonempty(acronym_folded));
    row_bind_text(st, ":languages", languages);
    free(folded);
    free(acronym_folded);
    free(languages);
    const registry_decision_t *first = extra;
    if (!first)
        return;
    row_bind_text(st, ":status", first->status);
    row_bind_text(st, ":status_since", first->effective_on);
    row_bind_text(st, ":status_reason", first->reason);
    row_bind_text(st, ":status_by", field_nonempty(ctx->actor));
}

/* Every status a Table had is kept, from its first. */
static status_t table_inserted(ctx_t *ctx, const ProtobufCMessage *m, const void *extra)
{
    return registry_decision_first(ctx, ((const reg_table_t *)m)->id, (void *)extra);
}

/* MandataireChanged when the mandataire is set, replaced or removed. */
static status_t table_emit_mandataire(ctx_t *ctx, const reg_table_t *before,
                                      const reg_table_t *after)
{
    const char *from = before ? before->mandataire_id : NULL;
    if ((!from && !after->mandataire_id) ||
        (from && after->mandataire_id && strcmp(from, after->mandataire_id) == 0))
        return STATUS_OK;
    Concerto__Registry__V1__MandataireChanged ev = CONCERTO__REGISTRY__V1__MANDATAIRE_CHANGED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.table_id = after->id;
    ev.from_mandataire_id = (char *)from;
    ev.to_mandataire_id = after->mandataire_id;
    ev.effective_on = ctx->today;
    return ctx_emit(ctx, "table", after->id, &ev.base);
}

status_t registry_table_emit_moved(ctx_t *ctx, const char *territory_id)
{
    sqlite3_stmt *st = ctx_stmt(
        ctx,
        "SELECT t.id AS table_id, " REGISTRY_LOCATION_COLUMNS(
            "t", "l") " FROM territory_within w JOIN concertation_table t ON t.territory_id = w.id"
                      " JOIN territory_place l ON l.id = t.territory_id WHERE w.ancestor_id = ?"
                      " ORDER BY t.id");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        Concerto__Registry__V1__TableLocationChanged *ev =
            (void *)row_read(st, &concerto__registry__v1__table_location_changed__descriptor);
        Concerto__Registry__V1__TableLocationChanged out = *ev;
        out.actor = (char *)ctx->actor;
        out.territory_id = (char *)territory_id;
        out.effective_on = ctx->today;
        status_t s = ctx_emit(ctx, "table", ev->table_id, &out.base);
        protobuf_c_message_free_unpacked(&ev->base, NULL);
        if (s != STATUS_OK) {
            sqlite3_reset(st);
            return s;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STATUS_OK : ctx_db_error(ctx, rc, "territory.parent_id");
}

/* A change of the governance is a version of it from today. */
static int table_governance_changed(const patch_changes_t *changes)
{
    for (size_t i = 0; i < changes->n; i++)
        if (strncmp(changes->paths[i], "governance.", 11) == 0)
            return 1;
    return 0;
}

/* After TableRegistered: its first status and mandataire; after either
 * event, the characteristics (an import evaluates its Tables once, at its
 * end). */
static status_t table_emitted(ctx_t *ctx, const ProtobufCMessage *before,
                              const ProtobufCMessage *after, const patch_changes_t *changes,
                              const void *extra)
{
    (void)extra;
    const reg_table_t *t = (const reg_table_t *)after;
    if (!changes && registry_decision_emit_current(ctx, t->id) != STATUS_OK)
        return ctx->last_status;
    if ((!changes || table_governance_changed(changes)) &&
        !registry_governance_add(ctx, t->id, ctx->today, t->governance))
        return ctx->last_status;
    if (table_emit_mandataire(ctx, (const reg_table_t *)before, t) != STATUS_OK)
        return ctx->last_status;
    if (ctx->file)
        return STATUS_OK;
    return registry_timeline_refresh(ctx, t->id, changes ? "table_updated" : "table_registered",
                                     NULL);
}

static const entity_read_only_t table_read_only[] = {
    {"recognition", "is read-only: change it with ChangeRecognitionRequest "
                    "(POST /v1/tables/{id}/recognition)"},
    {"created_ms", NULL},
    {"updated_ms", NULL},
    {"scheduled_recognition", "is read-only: schedule a decision with ChangeRecognitionRequest"},
    {"location", "is read-only: it follows territory_id"},
    {"disputes", "is read-only: see OpenDisputeRequest"},
    {"archived", "is read-only: an admin archives with DELETE /v1/tables/{id}"},
    {"coverage", "is read-only: it follows the territories of the Tables"},
    {"people", "is read-only: see AddPersonRequest (POST /v1/tables/{id}/people)"},
    {NULL, NULL},
};

const entity_t registry_table_entity = {
    .kind = "table",
    .noun = "Table",
    .desc = &concerto__registry__v1__table__descriptor,
    .select = "SELECT " TABLE_COLUMNS " FROM concertation_table t" TABLE_PLACE " WHERE t.id = ?",
    .insert = "INSERT INTO concertation_table(id, name, name_folded, acronym, acronym_folded, "
              "territory_id, founding_year, mandataire_id, email, phone, website, address, "
              "languages, incorporated, bylaws_adopted_on, board_seats, meetings_per_year, "
              "paid_staff, source_url, notes, uncertain, overlap_justification, status, "
              "status_since, status_reason, status_by, created_ms, updated_ms) VALUES(:id, :name, "
              ":name_folded, :acronym, "
              ":acronym_folded, :territory_id, :founding_year, :mandataire_id, :contact__email, "
              ":contact__phone, :contact__website, :contact__address, :languages, "
              ":governance__incorporated, :governance__bylaws_adopted_on, "
              ":governance__board_seats, :governance__meetings_per_year, "
              ":governance__paid_staff, :source_url, :notes, COALESCE(:uncertain, 0), "
              ":overlap_justification, :status, :status_since, :status_reason, :status_by, :now, "
              ":now)",
    .update =
        "UPDATE concertation_table SET name = :name, name_folded = :name_folded, "
        "acronym = :acronym, acronym_folded = :acronym_folded, "
        "territory_id = :territory_id, founding_year = :founding_year, "
        "mandataire_id = :mandataire_id, email = :contact__email, "
        "phone = :contact__phone, website = :contact__website, "
        "address = :contact__address, languages = :languages, "
        "incorporated = :governance__incorporated, "
        "bylaws_adopted_on = :governance__bylaws_adopted_on, "
        "board_seats = :governance__board_seats, "
        "meetings_per_year = :governance__meetings_per_year, "
        "paid_staff = :governance__paid_staff, source_url = :source_url, notes = :notes, "
        "uncertain = COALESCE(:uncertain, 0), overlap_justification = :overlap_justification, "
        "updated_ms = :now WHERE id = :id",
    .registered = &concerto__registry__v1__table_registered__descriptor,
    .updated = &concerto__registry__v1__table_updated__descriptor,
    .read_only = table_read_only,
    .validate = table_validate,
    .check = table_check,
    .bind = table_bind,
    .inserted = table_inserted,
    .complete = table_complete,
    .emitted = table_emitted,
    .archive = "UPDATE concertation_table SET archived_ms = :now, archived_by = :actor, "
               "archived_reason = :reason WHERE id = :id",
    .archived = &concerto__registry__v1__table_archived__descriptor,
};

status_t registry_table_register(ctx_t *ctx, const reg_table_t *in, registry_decision_t *first,
                                 reg_table_t **out)
{
    registry_decision_t registration = {
        .status = REGISTRY_STATUS_INITIAL,
        .effective_on = ctx->today,
        .effective_known = 1,
        .reason = "registered",
        .origin = "registration",
    };
    return entity_register(ctx, &registry_table_entity, &in->base, first ? first : &registration,
                           (ProtobufCMessage **)out);
}

/* Adds to the Table `t` as stored what a read shows beside it: its
 * scheduled decision, disputes, coverage and people. Returns it, or NULL
 * after freeing it on a database error (recorded). */
static reg_table_t *table_complete_read(ctx_t *ctx, reg_table_t *t)
{
    t->scheduled_recognition = registry_schedule_pending(ctx, t->id);
    t->n_disputes = registry_disputes_of(ctx, t->id, &t->disputes);
    t->n_coverage = registry_coverage_of(ctx, t->territory_id, t->id, 1, &t->coverage);
    t->n_people = registry_people_of(ctx, t->id, &t->people);
    if (!ctx->problems)
        return t;
    protobuf_c_message_free_unpacked(&t->base, NULL);
    return NULL;
}

int registry_handle_register_table(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__RegisterTableRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!req->table) {
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "table", "is required");
        return ctx_fail(&ctx);
    }
    /* Answered as stored (what follows the registration writes other
     * tables), with the Tables that already cover its territory. */
    reg_table_t *t = NULL;
    if (registry_table_register(&ctx, req->table, NULL, &t) == STATUS_OK)
        t = table_complete_read(&ctx, t);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)t);
}

reg_table_t *registry_table_load(ctx_t *ctx, const char *field, const char *id)
{
    reg_table_t *t = (reg_table_t *)entity_require(ctx, &registry_table_entity, field, id);
    return t ? table_complete_read(ctx, t) : NULL;
}

int registry_handle_get_table(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    /* GetTableRequest and the fan-out's TableStatusRequest: the id first. */
    const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
    const char *id = *(char *const *)((const char *)msg + f->offset);
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!field_slug(&ctx, f->name, id, FIELD_REQUIRED))
        return ctx_fail(&ctx);
    reg_table_t *t = registry_table_load(&ctx, f->name, id);
    return ctx_finish_free(&ctx, t ? &t->base : NULL);
}

static void table_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListTablesRequest *req = (const void *)msg;
    field_slug(ctx, "borough", req->borough, 0);
    field_word(ctx, "status", req->status, registry_statuses, 0);
    field_word(ctx, "sector", req->sector, registry_sector_codes(), 0);
}

static const page_ref_t table_list_refs[] = {
    {"borough", "territory", REGISTRY_TERRITORY_EXISTS},
    {NULL, NULL, NULL},
};

/* The columns of the import's tables.csv, so that an export can be edited
 * and imported elsewhere. */
static const csv_column_t table_csv[] = {
    {"id", "id"},
    {"name", "name"},
    {"acronym", "acronym"},
    {"territory_id", "territory_id"},
    {"founding_year", "founding_year"},
    {"mandataire_id", "mandataire_id"},
    {"email", "contact.email"},
    {"phone", "contact.phone"},
    {"website", "contact.website"},
    {"address", "contact.address"},
    {"languages", "languages"},
    {"incorporated", "governance.incorporated"},
    {"bylaws_adopted_on", "governance.bylaws_adopted_on"},
    {"board_seats", "governance.board_seats"},
    {"meetings_per_year", "governance.meetings_per_year"},
    {"paid_staff", "governance.paid_staff"},
    {"recognition_status", "recognition.status"},
    {"recognition_since", "recognition.since"},
    {"recognition_reason", "recognition.reason"},
    {"source_url", "source_url"},
    {"notes", "notes"},
    {"uncertain", "uncertain"},
    {NULL, NULL},
};

/* borough: the territory or its parent; status: without one, Tables
 * withdrawn or refused are left out; sector: an active member of that
 * sector today; search: the Table's name or acronym, the name or an alias
 * of its territory, of the territory's parent, or of a territory inside it
 * (a municipality of a sector: Pointe-Claire finds the West Island's
 * Table). */
const page_list_t registry_table_list = {
    .list = "tables",
    .sql = "SELECT " TABLE_COLUMNS " FROM concertation_table t"
           " JOIN territory r ON r.id = t.territory_id"
           " LEFT JOIN territory p ON p.id = r.parent_id" TABLE_PLACE
           " WHERE t.id > :after AND t.archived_ms IS NULL"
           " AND (:borough IS NULL OR t.territory_id = :borough OR r.parent_id = :borough)"
           " AND (t.status = :status OR (:status IS NULL"
           "  AND t.status NOT IN ('withdrawn', 'refused')))"
           " AND (:sector IS NULL OR EXISTS (SELECT 1 FROM membership m"
           "  JOIN organization o ON o.id = m.organization_id"
           "  WHERE m.table_id = t.id AND ' ' || o.sectors || ' ' LIKE '% ' || :sector || ' %'"
           "  AND m.role IN ('member', 'board') AND m.joined_on <= :today"
           "  AND (m.left_on IS NULL OR m.left_on > :today)))"
           " AND (:pattern IS NULL OR t.name_folded LIKE :pattern"
           "  OR t.acronym_folded LIKE :pattern"
           "  OR r.name_folded LIKE :pattern OR r.aliases_folded LIKE :pattern"
           "  OR p.name_folded LIKE :pattern OR p.aliases_folded LIKE :pattern"
           "  OR EXISTS (SELECT 1 FROM territory c WHERE c.parent_id = r.id"
           "   AND c.archived_ms IS NULL"
           "   AND (c.name_folded LIKE :pattern OR c.aliases_folded LIKE :pattern)))"
           " ORDER BY t.id LIMIT :page_limit",
    .answer = &concerto__registry__v1__table_list__descriptor,
    .search_max = REGISTRY_MAX_NAME,
    .check = table_list_check,
    .complete = table_complete,
    .refs = table_list_refs,
    .csv = table_csv,
    .csv_name = "tables.csv",
};
