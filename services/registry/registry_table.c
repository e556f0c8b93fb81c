/* registry_table: Tables de quartier: register, update, get, list, and
 * recognition changes (the state machine is registry_recognition.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concerto/common/v1/table_status.pb-c.h"
#include "registry.h"
#include "registry_fold.h"
#include "registry_recognition.h"
#include "registry_validate.h"
#include "xalloc.h"

#define TABLE_COLUMNS                                                                              \
    "t.id, t.name, t.acronym, t.territory_id, t.founding_year, t.mandataire_id, t.email, "         \
    "t.phone, t.website, t.address, t.languages, t.incorporated, t.bylaws_adopted_on, "            \
    "t.board_seats, t.meetings_per_year, t.paid_staff, t.status, t.status_since, "                 \
    "t.status_reason, t.status_by, t.source_url, t.notes, t.uncertain, t.created_ms, "             \
    "t.updated_ms"

static int table_has_any(sqlite3_stmt *st, int from, int to)
{
    for (int i = from; i <= to; i++)
        if (sqlite3_column_type(st, i) != SQLITE_NULL)
            return 1;
    return 0;
}

static void table_languages_from_text(reg_table_t *t, const char *text)
{
    if (!text || !*text)
        return;
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ' ';
    t->languages = xcalloc(n, sizeof *t->languages);
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (len)
            t->languages[t->n_languages++] = xstrndup(p, len);
        p += len;
        while (*p == ' ')
            p++;
    }
}

static const char table_by_id[] =
    "SELECT " TABLE_COLUMNS " FROM concertation_table t WHERE t.id = ?";

static ProtobufCMessage *table_row(sqlite3_stmt *st)
{
    reg_table_t *t = xmalloc(sizeof *t);
    concerto__registry__v1__table__init(t);
    t->id = reg_column_text(st, 0);
    t->name = reg_column_text(st, 1);
    t->acronym = reg_column_text(st, 2);
    t->territory_id = reg_column_text(st, 3);
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        t->has_founding_year = 1;
        t->founding_year = sqlite3_column_int(st, 4);
    }
    t->mandataire_id = reg_column_text(st, 5);
    if (table_has_any(st, 6, 9)) {
        t->contact = xmalloc(sizeof *t->contact);
        concerto__registry__v1__contact__init(t->contact);
        t->contact->email = reg_column_text(st, 6);
        t->contact->phone = reg_column_text(st, 7);
        t->contact->website = reg_column_text(st, 8);
        t->contact->address = reg_column_text(st, 9);
    }
    table_languages_from_text(t, (const char *)sqlite3_column_text(st, 10));
    if (table_has_any(st, 11, 15)) {
        reg_governance_t *g = t->governance = xmalloc(sizeof *g);
        concerto__registry__v1__governance__init(g);
        if ((g->has_incorporated = sqlite3_column_type(st, 11) != SQLITE_NULL))
            g->incorporated = sqlite3_column_int(st, 11) != 0;
        g->bylaws_adopted_on = reg_column_text(st, 12);
        if ((g->has_board_seats = sqlite3_column_type(st, 13) != SQLITE_NULL))
            g->board_seats = (uint32_t)sqlite3_column_int(st, 13);
        if ((g->has_meetings_per_year = sqlite3_column_type(st, 14) != SQLITE_NULL))
            g->meetings_per_year = (uint32_t)sqlite3_column_int(st, 14);
        if ((g->has_paid_staff = sqlite3_column_type(st, 15) != SQLITE_NULL))
            g->paid_staff = (uint32_t)sqlite3_column_int(st, 15);
    }
    reg_recognition_t *r = t->recognition = xmalloc(sizeof *r);
    concerto__registry__v1__recognition__init(r);
    r->status = reg_column_text(st, 16);
    r->since = reg_column_text(st, 17);
    r->reason = reg_column_text(st, 18);
    r->changed_by = reg_column_text(st, 19);
    t->source_url = reg_column_text(st, 20);
    t->notes = reg_column_text(st, 21);
    if (sqlite3_column_int(st, 22)) {
        t->has_uncertain = 1;
        t->uncertain = 1;
    }
    t->has_created_ms = t->has_updated_ms = 1;
    t->created_ms = sqlite3_column_int64(st, 23);
    t->updated_ms = sqlite3_column_int64(st, 24);
    return &t->base;
}

reg_table_t *registry_table_load(reg_ctx_t *ctx, const char *id)
{
    return (reg_table_t *)reg_load_row(ctx, table_by_id, id, table_row);
}

static void table_check_readonly(reg_ctx_t *ctx, const reg_table_t *t)
{
    if (t->recognition)
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "table.recognition",
                      "is read-only: change it with ChangeRecognitionRequest "
                      "(POST /v1/tables/{id}/recognition)");
    reg_check_absent(ctx, "table.created_ms", t->has_created_ms);
    reg_check_absent(ctx, "table.updated_ms", t->has_updated_ms);
}

static void table_validate_contact(reg_ctx_t *ctx, const reg_contact_t *c)
{
    if (!c)
        return;
    if (c->email && *c->email && !registry_valid_email(c->email))
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "table.contact.email",
                      "must be an e-mail address like name@example.org");
    if (c->phone && *c->phone && !registry_valid_phone(c->phone))
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "table.contact.phone",
                      "must be a North American number like 514-555-0123, optionally with an "
                      "extension (x123, poste 123)");
    reg_check_url(ctx, "table.contact.website", c->website);
    reg_check_text(ctx, "table.contact.address", c->address, REGISTRY_MAX_ADDRESS, 0, 1);
}

static void table_validate_languages(reg_ctx_t *ctx, const reg_table_t *t)
{
    if (t->n_languages > REGISTRY_MAX_LANGUAGES) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "table.languages", "at most %d languages",
                      REGISTRY_MAX_LANGUAGES);
        return;
    }
    for (size_t i = 0; i < t->n_languages; i++) {
        char path[48];
        snprintf(path, sizeof path, "table.languages[%zu]", i);
        if (!registry_valid_language(t->languages[i])) {
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                          "must be an ISO 639 code of 2 or 3 lower-case letters (fr, en)");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->languages[i], t->languages[j]) == 0)
                reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "repeats %s", t->languages[i]);
    }
}

static void table_validate_governance(reg_ctx_t *ctx, const reg_governance_t *g)
{
    if (!g)
        return;
    reg_check_date(ctx, "table.governance.bylaws_adopted_on", g->bylaws_adopted_on, 0);
    if (g->has_board_seats)
        reg_check_range(ctx, "table.governance.board_seats", g->board_seats, 0,
                        REGISTRY_MAX_BOARD_SEATS);
    if (g->has_meetings_per_year)
        reg_check_range(ctx, "table.governance.meetings_per_year", g->meetings_per_year, 0,
                        REGISTRY_MAX_MEETINGS);
    if (g->has_paid_staff)
        reg_check_range(ctx, "table.governance.paid_staff", g->paid_staff, 0, REGISTRY_MAX_STAFF);
}

static void table_validate(reg_ctx_t *ctx, const reg_table_t *t)
{
    reg_check_slug(ctx, "table.id", t->id, 1);
    reg_check_text(ctx, "table.name", t->name, REGISTRY_MAX_NAME, 1, 0);
    reg_check_text(ctx, "table.acronym", t->acronym, REGISTRY_MAX_ACRONYM, 0, 0);
    reg_check_slug(ctx, "table.territory_id", t->territory_id, 1);
    if (t->has_founding_year)
        reg_check_range(ctx, "table.founding_year", t->founding_year, REGISTRY_MIN_YEAR,
                        atoi(ctx->today));
    reg_check_slug(ctx, "table.mandataire_id", t->mandataire_id, 0);
    table_validate_contact(ctx, t->contact);
    table_validate_languages(ctx, t);
    table_validate_governance(ctx, t->governance);
    reg_check_url(ctx, "table.source_url", t->source_url);
    reg_check_text(ctx, "table.notes", t->notes, REGISTRY_MAX_TEXT, 0, 1);
}

static void table_check_references(reg_ctx_t *ctx, const reg_table_t *t)
{
    if (!registry_exists(ctx, REGISTRY_TERRITORY, t->territory_id))
        reg_violation(ctx, STATUS_NOT_FOUND, "table.territory_id", "territory %s is not registered",
                      t->territory_id);
    if (reg_nonempty(t->mandataire_id) &&
        !registry_exists(ctx, REGISTRY_ORGANIZATION, t->mandataire_id))
        reg_violation(ctx, STATUS_NOT_FOUND, "table.mandataire_id",
                      "organization %s is not registered", t->mandataire_id);
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

/* Binds the descriptive columns, 1..22, shared by INSERT and UPDATE. */
static void table_bind(reg_ctx_t *ctx, sqlite3_stmt *st, const reg_table_t *t)
{
    static const reg_contact_t no_contact = CONCERTO__REGISTRY__V1__CONTACT__INIT;
    static const reg_governance_t no_governance = CONCERTO__REGISTRY__V1__GOVERNANCE__INIT;
    const reg_contact_t *c = t->contact ? t->contact : &no_contact;
    const reg_governance_t *g = t->governance ? t->governance : &no_governance;
    char *folded = registry_fold(t->name);
    char *acronym_folded = reg_nonempty(t->acronym) ? registry_fold(t->acronym) : NULL;
    char *languages = table_languages_text(t);
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, folded, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 3, t->acronym);
    reg_bind_text(st, 4, acronym_folded);
    sqlite3_bind_text(st, 5, t->territory_id, -1, SQLITE_TRANSIENT);
    reg_bind_opt_int(st, 6, t->has_founding_year, t->founding_year);
    reg_bind_text(st, 7, t->mandataire_id);
    reg_bind_text(st, 8, c->email);
    reg_bind_text(st, 9, c->phone);
    reg_bind_text(st, 10, c->website);
    reg_bind_text(st, 11, c->address);
    sqlite3_bind_text(st, 12, languages, -1, SQLITE_TRANSIENT);
    reg_bind_opt_int(st, 13, g->has_incorporated, g->incorporated ? 1 : 0);
    reg_bind_text(st, 14, g->bylaws_adopted_on);
    reg_bind_opt_int(st, 15, g->has_board_seats, g->board_seats);
    reg_bind_opt_int(st, 16, g->has_meetings_per_year, g->meetings_per_year);
    reg_bind_opt_int(st, 17, g->has_paid_staff, g->paid_staff);
    reg_bind_text(st, 18, t->source_url);
    reg_bind_text(st, 19, t->notes);
    sqlite3_bind_int(st, 20, t->has_uncertain && t->uncertain);
    sqlite3_bind_int64(st, 21, service_call_now_ms(ctx->call));
    sqlite3_bind_text(st, 22, t->id, -1, SQLITE_TRANSIENT);
    free(folded);
    free(acronym_folded);
    free(languages);
}

static status_t table_record_status(reg_ctx_t *ctx, const char *id, const char *from,
                                    const char *to, const char *since, const char *reason)
{
    sqlite3_stmt *st = reg_stmt(ctx, "INSERT INTO recognition_change(table_id, from_status, "
                                     "to_status, effective_on, reason, actor, recorded_ms) "
                                     "VALUES(?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return ctx->last_status;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 2, from);
    sqlite3_bind_text(st, 3, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, since, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, ctx->actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, service_call_now_ms(ctx->call));
    return reg_step_done(ctx, st, "table.id");
}

status_t registry_table_register(reg_ctx_t *ctx, const reg_table_t *in, const char *status,
                                 const char *since, const char *reason, reg_table_t **out)
{
    size_t mark = ctx->problems;
    if (out)
        *out = NULL;
    status = status ? status : REGISTRY_STATUS_INITIAL;
    since = since ? since : ctx->today;
    reason = reason ? reason : "registered";
    table_check_readonly(ctx, in);
    table_validate(ctx, in);
    if (ctx->problems != mark)
        return ctx->last_status;
    if (registry_exists(ctx, REGISTRY_TABLE, in->id))
        return reg_violation(ctx, STATUS_CONFLICT, "table.id", "Table %s is already registered",
                             in->id);
    table_check_references(ctx, in);
    if (ctx->problems != mark)
        return ctx->last_status;
    sqlite3_stmt *st = reg_stmt(
        ctx, "INSERT INTO concertation_table(name, name_folded, acronym, acronym_folded, "
             "territory_id, founding_year, mandataire_id, email, phone, website, address, "
             "languages, incorporated, bylaws_adopted_on, board_seats, meetings_per_year, "
             "paid_staff, source_url, notes, uncertain, updated_ms, id, status, status_since, "
             "status_reason, status_by, created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
             "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
             "?26, ?21)");
    if (!st)
        return ctx->last_status;
    table_bind(ctx, st, in);
    sqlite3_bind_text(st, 23, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 24, since, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 25, reason, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 26, ctx->actor);
    if (reg_step_done(ctx, st, "table.id") != STATUS_OK ||
        table_record_status(ctx, in->id, NULL, status, since, reason) != STATUS_OK)
        return ctx->last_status;
    reg_table_t *t = registry_table_load(ctx, in->id);
    if (!t)
        return reg_problem(ctx, STATUS_INTERNAL, "Table vanished after insert");
    Concerto__Registry__V1__TableRegistered ev = CONCERTO__REGISTRY__V1__TABLE_REGISTERED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.table = t;
    status_t s = reg_emit(ctx, "table", t->id, &ev.base);
    if (s == STATUS_OK && out)
        *out = t;
    else
        protobuf_c_message_free_unpacked(&t->base, NULL);
    return s;
}

static int table_handle_register(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__RegisterTableRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    if (!req->table) {
        reg_violation(&ctx, STATUS_INVALID_ARGUMENT, "table", "is required");
        return reg_fail(&ctx);
    }
    reg_table_t *t = NULL;
    registry_table_register(&ctx, req->table, NULL, NULL, NULL, &t);
    return reg_finish_free(&ctx, (ProtobufCMessage *)t);
}

static void table_merge_languages(reg_table_t *t, const reg_table_t *in, reg_changes_t *ch)
{
    if (!in->n_languages)
        return;
    int same = t->n_languages == in->n_languages;
    for (size_t i = 0; same && i < in->n_languages; i++)
        same = strcmp(t->languages[i], in->languages[i]) == 0;
    if (same)
        return;
    for (size_t i = 0; i < t->n_languages; i++)
        free(t->languages[i]);
    free(t->languages);
    t->languages = xcalloc(in->n_languages, sizeof *t->languages);
    for (size_t i = 0; i < in->n_languages; i++)
        t->languages[i] = xstrdup(in->languages[i]);
    t->n_languages = in->n_languages;
    reg_changed(ch, "languages");
}

static void table_merge(reg_table_t *t, const reg_table_t *in, reg_changes_t *ch)
{
    reg_merge_str(&t->name, in->name, "name", ch);
    reg_merge_str(&t->acronym, in->acronym, "acronym", ch);
    reg_merge_str(&t->territory_id, in->territory_id, "territory_id", ch);
    reg_merge_i32(&t->has_founding_year, &t->founding_year, in->has_founding_year,
                  in->founding_year, "founding_year", ch);
    reg_merge_str(&t->mandataire_id, in->mandataire_id, "mandataire_id", ch);
    if (in->contact) {
        if (!t->contact) {
            t->contact = xmalloc(sizeof *t->contact);
            concerto__registry__v1__contact__init(t->contact);
        }
        reg_merge_str(&t->contact->email, in->contact->email, "contact.email", ch);
        reg_merge_str(&t->contact->phone, in->contact->phone, "contact.phone", ch);
        reg_merge_str(&t->contact->website, in->contact->website, "contact.website", ch);
        reg_merge_str(&t->contact->address, in->contact->address, "contact.address", ch);
    }
    table_merge_languages(t, in, ch);
    if (in->governance) {
        const reg_governance_t *g = in->governance;
        if (!t->governance) {
            t->governance = xmalloc(sizeof *t->governance);
            concerto__registry__v1__governance__init(t->governance);
        }
        reg_governance_t *d = t->governance;
        reg_merge_bool(&d->has_incorporated, &d->incorporated, g->has_incorporated, g->incorporated,
                       "governance.incorporated", ch);
        reg_merge_str(&d->bylaws_adopted_on, g->bylaws_adopted_on, "governance.bylaws_adopted_on",
                      ch);
        reg_merge_u32(&d->has_board_seats, &d->board_seats, g->has_board_seats, g->board_seats,
                      "governance.board_seats", ch);
        reg_merge_u32(&d->has_meetings_per_year, &d->meetings_per_year, g->has_meetings_per_year,
                      g->meetings_per_year, "governance.meetings_per_year", ch);
        reg_merge_u32(&d->has_paid_staff, &d->paid_staff, g->has_paid_staff, g->paid_staff,
                      "governance.paid_staff", ch);
    }
    reg_merge_str(&t->source_url, in->source_url, "source_url", ch);
    reg_merge_str(&t->notes, in->notes, "notes", ch);
    reg_merge_bool(&t->has_uncertain, &t->uncertain, in->has_uncertain, in->uncertain, "uncertain",
                   ch);
}

static status_t table_write_update(reg_ctx_t *ctx, const reg_table_t *t)
{
    sqlite3_stmt *st = reg_stmt(
        ctx, "UPDATE concertation_table SET name = ?1, name_folded = ?2, acronym = ?3, "
             "acronym_folded = ?4, territory_id = ?5, founding_year = ?6, mandataire_id = ?7, "
             "email = ?8, phone = ?9, website = ?10, address = ?11, languages = ?12, "
             "incorporated = ?13, bylaws_adopted_on = ?14, board_seats = ?15, "
             "meetings_per_year = ?16, paid_staff = ?17, source_url = ?18, notes = ?19, "
             "uncertain = ?20, updated_ms = ?21 WHERE id = ?22");
    if (!st)
        return ctx->last_status;
    table_bind(ctx, st, t);
    return reg_step_done(ctx, st, "table.id");
}

static int table_handle_update(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__UpdateTableRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    const reg_table_t *in = req->table;
    const char *id = reg_update_id(&ctx, "table", in != NULL, req->id, in ? in->id : NULL);
    if (ctx.problems)
        return reg_fail(&ctx);
    table_check_readonly(&ctx, in);
    reg_table_t *t = registry_table_load(&ctx, id);
    if (!t) {
        reg_violation(&ctx, STATUS_NOT_FOUND, "id", "Table %s is not registered", id);
        return reg_fail(&ctx);
    }
    reg_changes_t ch = {0};
    table_merge(t, in, &ch);
    table_validate(&ctx, t);
    if (!ctx.problems)
        table_check_references(&ctx, t);
    if (!ctx.problems && !reg_nonempty(t->mandataire_id) &&
        strcmp(t->recognition->status, "recognized") == 0)
        reg_violation(&ctx, STATUS_FAILED_PRECONDITION, "table.mandataire_id",
                      "a recognized Table keeps its mandataire");
    if (!ctx.problems && ch.n)
        table_write_update(&ctx, t);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    /* Answer with the row as stored: the new updated_ms, and no empty
     * contact or governance that the merge may have added. */
    t = ctx.problems ? NULL : registry_table_load(&ctx, id);
    if (t && ch.n) {
        Concerto__Registry__V1__TableUpdated ev = CONCERTO__REGISTRY__V1__TABLE_UPDATED__INIT;
        ev.actor = (char *)ctx.actor;
        ev.table = t;
        ev.n_changed_fields = ch.n;
        ev.changed_fields = (char **)ch.names;
        reg_emit(&ctx, "table", id, &ev.base);
    }
    return reg_finish_free(&ctx, (ProtobufCMessage *)t);
}

static int table_handle_get(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__GetTableRequest *req = (const void *)msg;
    return reg_answer_entity(call, arg, "id", req->id, "Table", table_by_id, table_row);
}

/* The registry's part of the gateway's fan-out status: the Table itself,
 * with its recognition. */
static int table_handle_status(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Common__V1__TableStatusRequest *req = (const void *)msg;
    return reg_answer_entity(call, arg, "table_id", req->table_id, "Table", table_by_id, table_row);
}

static int table_handle_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ListTablesRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    char after[65];
    int limit;
    reg_page(&ctx, "tables", req->cursor, req->limit, after, &limit);
    reg_check_slug(&ctx, "borough", req->borough, 0);
    reg_check_code(&ctx, "status", req->status, registry_statuses, 0);
    reg_check_code(&ctx, "sector", req->sector, registry_sectors, 0);
    char *pattern = reg_search_pattern(&ctx, "search", req->search);
    sqlite3_stmt *st =
        ctx.problems
            ? NULL
            : reg_stmt(&ctx, "SELECT " TABLE_COLUMNS " FROM concertation_table t"
                             " JOIN territory r ON r.id = t.territory_id"
                             " LEFT JOIN territory p ON p.id = r.parent_id"
                             " WHERE t.id > ?1"
                             " AND (?2 IS NULL OR t.territory_id = ?2 OR r.parent_id = ?2)"
                             " AND (?3 IS NULL OR t.status = ?3)"
                             " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM membership m"
                             "  JOIN organization o ON o.id = m.organization_id"
                             "  WHERE m.table_id = t.id AND o.sector = ?4"
                             "  AND m.role IN ('member', 'board') AND m.joined_on <= ?5"
                             "  AND (m.left_on IS NULL OR m.left_on > ?5)))"
                             " AND (?6 IS NULL OR t.name_folded LIKE ?6 OR t.acronym_folded LIKE ?6"
                             "  OR r.name_folded LIKE ?6 OR p.name_folded LIKE ?6)"
                             " ORDER BY t.id LIMIT ?7");
    if (!st) {
        free(pattern);
        return reg_fail(&ctx);
    }
    sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 2, req->borough);
    reg_bind_text(st, 3, req->status);
    reg_bind_text(st, 4, req->sector);
    sqlite3_bind_text(st, 5, ctx.today, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 6, pattern);
    sqlite3_bind_int(st, 7, limit + 1);
    free(pattern);
    Concerto__Registry__V1__TableList *list = xmalloc(sizeof *list);
    concerto__registry__v1__table_list__init(list);
    list->tables = (reg_table_t **)reg_read_page(&ctx, st, "tables", limit, table_row,
                                                 &list->n_tables, &list->next_cursor);
    return reg_finish_free(&ctx, &list->base);
}

/* The FAILED_PRECONDITION answer to an illegal move, naming the state. */
static void table_illegal_move(reg_ctx_t *ctx, const char *from, const char *to)
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
        reg_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table is %s and cannot become %s; from %s it can become: %s", from, to,
                      from, allowed);
    else
        reg_violation(ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table is %s, which is final; it cannot become %s", from, to);
}

/* Moves Table `t` to status `to` (an allowed move), records it and emits
 * RecognitionChanged. */
static void table_set_status(reg_ctx_t *ctx, const reg_table_t *t, const char *to,
                             const char *since, const char *reason)
{
    sqlite3_stmt *st = reg_stmt(ctx, "UPDATE concertation_table SET status = ?1, "
                                     "status_since = ?2, status_reason = ?3, status_by = ?4, "
                                     "updated_ms = ?5 WHERE id = ?6");
    if (!st)
        return;
    const char *from = t->recognition->status;
    sqlite3_bind_text(st, 1, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, since, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
    reg_bind_text(st, 4, ctx->actor);
    sqlite3_bind_int64(st, 5, service_call_now_ms(ctx->call));
    sqlite3_bind_text(st, 6, t->id, -1, SQLITE_TRANSIENT);
    if (reg_step_done(ctx, st, "table_id") != STATUS_OK ||
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
    reg_emit(ctx, "table", t->id, &ev.base);
}

static int table_handle_recognition(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Registry__V1__ChangeRecognitionRequest *req = (const void *)msg;
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    reg_check_slug(&ctx, "table_id", req->table_id, 1);
    reg_check_code(&ctx, "status", req->status, registry_statuses, 1);
    reg_check_date(&ctx, "effective_on", req->effective_on, 0);
    reg_check_text(&ctx, "reason", req->reason, REGISTRY_MAX_REASON, 1, 1);
    if (ctx.problems)
        return reg_fail(&ctx);
    const char *effective = reg_nonempty(req->effective_on) ? req->effective_on : ctx.today;
    reg_table_t *t = registry_table_load(&ctx, req->table_id);
    if (!t) {
        reg_violation(&ctx, STATUS_NOT_FOUND, "table_id", "Table %s is not registered",
                      req->table_id);
        return reg_fail(&ctx);
    }
    const reg_recognition_t *cur = t->recognition;
    if (!registry_recognition_allowed(cur->status, req->status))
        table_illegal_move(&ctx, cur->status, req->status);
    else if (strcmp(effective, cur->since) < 0)
        reg_violation(&ctx, STATUS_FAILED_PRECONDITION, "effective_on",
                      "must not be before %s, when the Table became %s", cur->since, cur->status);
    else if (strcmp(req->status, "recognized") == 0 && !reg_nonempty(t->mandataire_id))
        reg_violation(&ctx, STATUS_FAILED_PRECONDITION, "status",
                      "the Table needs a mandataire (mandataire_id) before it is recognized");
    if (!ctx.problems)
        table_set_status(&ctx, t, req->status, effective, req->reason);
    reg_table_t *now = ctx.problems ? NULL : registry_table_load(&ctx, t->id);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    return reg_finish_free(&ctx, (ProtobufCMessage *)now);
}

int registry_table_setup(service_t *svc, const registry_config_t *cfg)
{
    void *arg = (void *)cfg;
    int rc = 0;
    rc |= service_on(svc, &concerto__registry__v1__register_table_request__descriptor,
                     SERVICE_COMMAND, table_handle_register, arg);
    rc |= service_on(svc, &concerto__registry__v1__update_table_request__descriptor,
                     SERVICE_COMMAND, table_handle_update, arg);
    rc |= service_on(svc, &concerto__registry__v1__change_recognition_request__descriptor,
                     SERVICE_COMMAND, table_handle_recognition, arg);
    rc |= service_on(svc, &concerto__registry__v1__get_table_request__descriptor, SERVICE_QUERY,
                     table_handle_get, arg);
    rc |= service_on(svc, &concerto__registry__v1__list_tables_request__descriptor, SERVICE_QUERY,
                     table_handle_list, arg);
    rc |= service_on(svc, &concerto__common__v1__table_status_request__descriptor, SERVICE_QUERY,
                     table_handle_status, arg);
    return rc ? -1 : 0;
}
