/* registry_table: Tables de quartier: register, update, get, list, the
 * registry's part of the gateway's fan-out status, and recognition
 * changes (the state machine is registry_recognition.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "field.h"
#include "page.h"
#include "patch.h"
#include "registry.h"
#include "registry_recognition.h"
#include "registry_validate.h"
#include "row.h"
#include "shape.h"
#include "text.h"
#include "xalloc.h"

/* Columns named after the Table's fields (row.h); the languages, a
 * repeated field the mapping leaves alone, come last. */
#define TABLE_COLUMNS                                                                              \
    "t.id, t.name, t.acronym, t.territory_id, t.founding_year, t.mandataire_id, "                  \
    "t.email AS contact__email, t.phone AS contact__phone, t.website AS contact__website, "        \
    "t.address AS contact__address, t.incorporated AS governance__incorporated, "                  \
    "t.bylaws_adopted_on AS governance__bylaws_adopted_on, "                                       \
    "t.board_seats AS governance__board_seats, "                                                   \
    "t.meetings_per_year AS governance__meetings_per_year, "                                       \
    "t.paid_staff AS governance__paid_staff, t.status AS recognition__status, "                    \
    "t.status_since AS recognition__since, t.status_reason AS recognition__reason, "               \
    "t.status_by AS recognition__changed_by, t.source_url, t.notes, "                              \
    "NULLIF(t.uncertain, 0) AS uncertain, t.created_ms, t.updated_ms, t.languages"

/* Fills the languages, stored as space-separated codes in the last
 * column. */
static void table_complete(ProtobufCMessage *m, sqlite3_stmt *st)
{
    reg_table_t *t = (reg_table_t *)m;
    const char *text = (const char *)sqlite3_column_text(st, sqlite3_column_count(st) - 1);
    if (!text || !*text)
        return;
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ' ';
    t->languages = xcalloc(n, sizeof *t->languages);
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, " ");
        if (len)
            t->languages[t->n_languages++] = xstrndup(p, len);
        p += len;
        p += strspn(p, " ");
    }
}

static char *table_languages_text(const reg_table_t *t)
{
    size_t len = 1;
    for (size_t i = 0; i < t->n_languages; i++)
        len += strlen(t->languages[i]) + 1;
    char *out = xmalloc(len);
    out[0] = '\0';
    for (size_t i = 0; i < t->n_languages; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, t->languages[i]);
    }
    return out;
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

static void table_validate_governance(ctx_t *ctx, const reg_governance_t *g)
{
    if (!g)
        return;
    field_date(ctx, "table.governance.bylaws_adopted_on", g->bylaws_adopted_on, 0);
    if (g->has_board_seats)
        field_range(ctx, "table.governance.board_seats", g->board_seats, 0,
                    REGISTRY_MAX_BOARD_SEATS);
    if (g->has_meetings_per_year)
        field_range(ctx, "table.governance.meetings_per_year", g->meetings_per_year, 0,
                    REGISTRY_MAX_MEETINGS);
    if (g->has_paid_staff)
        field_range(ctx, "table.governance.paid_staff", g->paid_staff, 0, REGISTRY_MAX_STAFF);
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
    table_validate_governance(ctx, t->governance);
    field_url(ctx, "table.source_url", t->source_url, 0);
    field_text(ctx, "table.notes", t->notes, REGISTRY_MAX_TEXT, FIELD_MULTILINE);
}

/* The territory and the mandataire exist; a recognized Table keeps its
 * mandataire. */
static void table_check(ctx_t *ctx, const ProtobufCMessage *m, const patch_changes_t *changes)
{
    const reg_table_t *t = (const reg_table_t *)m;
    if (!ctx_exists(ctx, REGISTRY_TERRITORY_EXISTS, t->territory_id))
        ctx_violation(ctx, STATUS_NOT_FOUND, "table.territory_id", "territory %s is not registered",
                      t->territory_id);
    if (field_nonempty(t->mandataire_id) &&
        !ctx_exists(ctx, REGISTRY_ORGANIZATION_EXISTS, t->mandataire_id))
        ctx_violation(ctx, STATUS_NOT_FOUND, "table.mandataire_id",
                      "organization %s is not registered", t->mandataire_id);
    if (changes && !ctx->problems && !field_nonempty(t->mandataire_id) &&
        strcmp(t->recognition->status, "recognized") == 0)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "table.mandataire_id",
                      "a recognized Table keeps its mandataire");
}

/* The first recognition status of a new Table. */
typedef struct {
    const char *status;
    const char *since;
    const char *reason;
} table_start_t;

/* What derives from the Table's fields (search forms, languages) and, for
 * a new one, its first status. */
static void table_bind(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessage *m, const void *extra)
{
    const reg_table_t *t = (const reg_table_t *)m;
    char *folded = text_fold(t->name);
    char *acronym_folded = field_nonempty(t->acronym) ? text_fold(t->acronym) : NULL;
    char *languages = table_languages_text(t);
    row_bind_text(st, ":name_folded", folded);
    row_bind_text(st, ":acronym_folded", field_nonempty(acronym_folded));
    row_bind_text(st, ":languages", languages);
    free(folded);
    free(acronym_folded);
    free(languages);
    const table_start_t *start = extra;
    if (!start)
        return;
    row_bind_text(st, ":status", start->status);
    row_bind_text(st, ":status_since", start->since);
    row_bind_text(st, ":status_reason", start->reason);
    row_bind_text(st, ":status_by", field_nonempty(ctx->actor));
}

static status_t table_record_status(ctx_t *ctx, const char *id, const char *from, const char *to,
                                    const char *since, const char *reason)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO recognition_change(table_id, from_status, "
                                     "to_status, effective_on, reason, actor, recorded_ms) "
                                     "VALUES(:id, :from, :to, :since, :reason, :actor, :now)");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":id", id);
    row_bind_text(st, ":from", from);
    row_bind_text(st, ":to", to);
    row_bind_text(st, ":since", since);
    row_bind_text(st, ":reason", reason);
    row_bind_text(st, ":actor", ctx->actor);
    row_bind_int(st, ":now", service_call_now_ms(ctx->call));
    return ctx_step(ctx, st, "table.id");
}

/* Every status a Table had is kept, from its first. */
static status_t table_inserted(ctx_t *ctx, const ProtobufCMessage *m, const void *extra)
{
    const table_start_t *start = extra;
    return table_record_status(ctx, ((const reg_table_t *)m)->id, NULL, start->status, start->since,
                               start->reason);
}

static const entity_read_only_t table_read_only[] = {
    {"recognition", "is read-only: change it with ChangeRecognitionRequest "
                    "(POST /v1/tables/{id}/recognition)"},
    {"created_ms", NULL},
    {"updated_ms", NULL},
    {"scheduled_recognition", "is read-only: schedule a decision with ChangeRecognitionRequest"},
    {"location", "is read-only: it follows territory_id"},
    {"disputes", "is read-only: see OpenDisputeRequest"},
    {NULL, NULL},
};

const entity_t registry_table_entity = {
    .kind = "table",
    .noun = "Table",
    .desc = &concerto__registry__v1__table__descriptor,
    .select = "SELECT " TABLE_COLUMNS " FROM concertation_table t WHERE t.id = ?",
    .insert = "INSERT INTO concertation_table(id, name, name_folded, acronym, acronym_folded, "
              "territory_id, founding_year, mandataire_id, email, phone, website, address, "
              "languages, incorporated, bylaws_adopted_on, board_seats, meetings_per_year, "
              "paid_staff, source_url, notes, uncertain, status, status_since, status_reason, "
              "status_by, created_ms, updated_ms) VALUES(:id, :name, :name_folded, :acronym, "
              ":acronym_folded, :territory_id, :founding_year, :mandataire_id, :contact__email, "
              ":contact__phone, :contact__website, :contact__address, :languages, "
              ":governance__incorporated, :governance__bylaws_adopted_on, "
              ":governance__board_seats, :governance__meetings_per_year, "
              ":governance__paid_staff, :source_url, :notes, COALESCE(:uncertain, 0), :status, "
              ":status_since, :status_reason, :status_by, :now, :now)",
    .update = "UPDATE concertation_table SET name = :name, name_folded = :name_folded, "
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
              "uncertain = COALESCE(:uncertain, 0), updated_ms = :now WHERE id = :id",
    .registered = &concerto__registry__v1__table_registered__descriptor,
    .updated = &concerto__registry__v1__table_updated__descriptor,
    .read_only = table_read_only,
    .validate = table_validate,
    .check = table_check,
    .bind = table_bind,
    .inserted = table_inserted,
    .complete = table_complete,
};

status_t registry_table_register(ctx_t *ctx, const reg_table_t *in, const char *status,
                                 const char *since, const char *reason, reg_table_t **out)
{
    table_start_t start = {status ? status : REGISTRY_STATUS_INITIAL, since ? since : ctx->today,
                           reason ? reason : "registered"};
    return entity_register(ctx, &registry_table_entity, &in->base, &start,
                           (ProtobufCMessage **)out);
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
    reg_table_t *t = NULL;
    registry_table_register(&ctx, req->table, NULL, NULL, NULL, &t);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)t);
}

static void table_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Registry__V1__ListTablesRequest *req = (const void *)msg;
    field_slug(ctx, "borough", req->borough, 0);
    field_word(ctx, "status", req->status, registry_statuses, 0);
    field_word(ctx, "sector", req->sector, registry_sectors, 0);
}

/* borough: the territory or its parent; sector: an active member of that
 * sector today; search: the Table's name or acronym, its territory's or
 * the territory's parent's name. */
const page_list_t registry_table_list = {
    .list = "tables",
    .sql = "SELECT " TABLE_COLUMNS " FROM concertation_table t"
           " JOIN territory r ON r.id = t.territory_id"
           " LEFT JOIN territory p ON p.id = r.parent_id"
           " WHERE t.id > :after"
           " AND (:borough IS NULL OR t.territory_id = :borough OR r.parent_id = :borough)"
           " AND (:status IS NULL OR t.status = :status)"
           " AND (:sector IS NULL OR EXISTS (SELECT 1 FROM membership m"
           "  JOIN organization o ON o.id = m.organization_id"
           "  WHERE m.table_id = t.id AND o.sector = :sector"
           "  AND m.role IN ('member', 'board') AND m.joined_on <= :today"
           "  AND (m.left_on IS NULL OR m.left_on > :today)))"
           " AND (:pattern IS NULL OR t.name_folded LIKE :pattern"
           "  OR t.acronym_folded LIKE :pattern"
           "  OR r.name_folded LIKE :pattern OR p.name_folded LIKE :pattern)"
           " ORDER BY t.id LIMIT :page_limit",
    .answer = &concerto__registry__v1__table_list__descriptor,
    .search_max = REGISTRY_MAX_NAME,
    .check = table_list_check,
    .complete = table_complete,
};

/* The FAILED_PRECONDITION answer to an illegal move, naming the state. */
static void table_illegal_move(ctx_t *ctx, const char *from, const char *to)
{
    const char *targets[8];
    size_t n = registry_recognition_targets(from, targets, 8);
    char allowed[200] = "";
    for (size_t i = 0; i < n; i++) {
        if (i)
            strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
        strncat(allowed, targets[i], sizeof allowed - strlen(allowed) - 1);
    }
    if (n)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table is %s and cannot become %s; from %s it can become: %s", from, to,
                      from, allowed);
    else
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table is %s, which is final; it cannot become %s", from, to);
}

/* Moves Table `t` to status `to` (an allowed move), records it and emits
 * RecognitionChanged. */
static void table_set_status(ctx_t *ctx, const reg_table_t *t, const char *to, const char *since,
                             const char *reason)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE concertation_table SET status = :to, "
                                     "status_since = :since, status_reason = :reason, "
                                     "status_by = :actor, updated_ms = :now WHERE id = :id");
    if (!st)
        return;
    const char *from = t->recognition->status;
    row_bind_text(st, ":to", to);
    row_bind_text(st, ":since", since);
    row_bind_text(st, ":reason", reason);
    row_bind_text(st, ":actor", field_nonempty(ctx->actor));
    row_bind_int(st, ":now", service_call_now_ms(ctx->call));
    row_bind_text(st, ":id", t->id);
    if (ctx_step(ctx, st, "table_id") != STATUS_OK ||
        table_record_status(ctx, t->id, from, to, since, reason) != STATUS_OK)
        return;
    Concerto__Registry__V1__RecognitionChanged ev =
        CONCERTO__REGISTRY__V1__RECOGNITION_CHANGED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.table_id = t->id;
    ev.from_status = (char *)from;
    ev.to_status = (char *)to;
    ev.effective_on = (char *)since;
    ev.reason = (char *)reason;
    ctx_emit(ctx, "table", t->id, &ev.base);
}

int registry_handle_change_recognition(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Registry__V1__ChangeRecognitionRequest *req = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
    field_word(&ctx, "status", req->status, registry_statuses, FIELD_REQUIRED);
    field_date(&ctx, "effective_on", req->effective_on, 0);
    field_text(&ctx, "reason", req->reason, REGISTRY_MAX_REASON, FIELD_REQUIRED | FIELD_MULTILINE);
    if (ctx.problems)
        return ctx_fail(&ctx);
    const char *effective = field_nonempty(req->effective_on) ? req->effective_on : ctx.today;
    reg_table_t *t =
        (reg_table_t *)entity_require(&ctx, &registry_table_entity, "table_id", req->table_id);
    if (!t)
        return ctx_fail(&ctx);
    const reg_recognition_t *cur = t->recognition;
    if (!registry_recognition_allowed(cur->status, req->status))
        table_illegal_move(&ctx, cur->status, req->status);
    else if (strcmp(effective, cur->since) < 0)
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "effective_on",
                      "must not be before %s, when the Table became %s", cur->since, cur->status);
    else if (strcmp(req->status, "recognized") == 0 && !field_nonempty(t->mandataire_id))
        ctx_violation(&ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table needs a mandataire (mandataire_id) before it is recognized");
    if (!ctx.problems)
        table_set_status(&ctx, t, req->status, effective, req->reason);
    reg_table_t *now =
        ctx.problems ? NULL : (reg_table_t *)entity_load(&ctx, &registry_table_entity, t->id);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)now);
}
