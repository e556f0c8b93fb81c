/* registry_ctx: the per-call context of the registry's handlers: naming and
 * collecting violations, database error translation, events, field checks,
 * paging arguments and partial-update merging (see registry.h). */
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry_cursor.h"
#include "registry_fold.h"
#include "registry_validate.h"
#include "xalloc.h"

void reg_ctx_init(reg_ctx_t *ctx, service_call_t *call, const registry_config_t *cfg)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->call = call;
    ctx->store = service_call_store(call);
    ctx->cfg = cfg;
    ctx->actor = service_call_actor(call);
    ctx->status = STATUS_OK;
    registry_date_from_ms(service_call_now_ms(call), ctx->today);
}

/* Violations name fields by their proto path ("table.territory_id"), as
 * the wire contract does; the gateway writes them with JSON names. In an
 * import they name the CSV cell: "tables.csv:12:territory_id". */
static void reg_field_name(const reg_ctx_t *ctx, const char *path, char *out, size_t outlen)
{
    if (ctx->file) {
        const char *last = strrchr(path, '.');
        last = last ? last + 1 : path;
        size_t n = strcspn(last, "[");
        snprintf(out, outlen, "%s:%zu:%.*s", ctx->file, ctx->line, (int)n, last);
        return;
    }
    snprintf(out, outlen, "%s", path);
}

/* The first problem's summary; long field paths or texts are cut, which is
 * fine for a message whose details are in the field violations. */
static void reg_set_message(reg_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
}

static status_t reg_record(reg_ctx_t *ctx, status_t status, const char *field, const char *desc)
{
    if (field)
        service_call_violation(ctx->call, field, "%s", desc);
    ctx->problems++;
    ctx->last_status = status;
    if (ctx->status == STATUS_OK) {
        ctx->status = status;
        if (field)
            reg_set_message(ctx, "%s: %s", field, desc);
        else if (ctx->file)
            reg_set_message(ctx, "%s:%zu: %s", ctx->file, ctx->line, desc);
        else
            reg_set_message(ctx, "%s", desc);
    }
    return status;
}

status_t reg_violation(reg_ctx_t *ctx, status_t status, const char *path, const char *fmt, ...)
{
    char field[256], desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    reg_field_name(ctx, path, field, sizeof field);
    return reg_record(ctx, status, field, desc);
}

status_t reg_problem(reg_ctx_t *ctx, status_t status, const char *fmt, ...)
{
    char desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    if (ctx->file) {
        /* In an import every problem is reported with its place. */
        char field[256];
        snprintf(field, sizeof field, "%s:%zu", ctx->file, ctx->line);
        return reg_record(ctx, status, field, desc);
    }
    return reg_record(ctx, status, NULL, desc);
}

int reg_fail(reg_ctx_t *ctx)
{
    size_t n = service_call_violation_count(ctx->call);
    if (n > 1)
        return service_call_fail(ctx->call, ctx->status, "%s (and %zu more problems)", ctx->message,
                                 n - 1);
    return service_call_fail(ctx->call, ctx->status, "%s", ctx->message);
}

int reg_finish(reg_ctx_t *ctx, const ProtobufCMessage *result)
{
    if (ctx->status != STATUS_OK)
        return reg_fail(ctx);
    return service_call_reply(ctx->call, result);
}

int reg_finish_free(reg_ctx_t *ctx, ProtobufCMessage *result)
{
    int rc = reg_finish(ctx, result);
    if (result)
        protobuf_c_message_free_unpacked(result, NULL);
    return rc;
}

status_t reg_db_error(reg_ctx_t *ctx, int rc, const char *path)
{
    sqlite3 *db = store_db(ctx->store);
    int ext = sqlite3_extended_errcode(db);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        switch (ext) {
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_UNIQUE:
            return reg_violation(ctx, STATUS_CONFLICT, path, "is already registered");
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            return reg_violation(ctx, STATUS_NOT_FOUND, path, "refers to something not registered");
        default:
            return reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is not acceptable (%s)",
                                 sqlite3_errmsg(db));
        }
    }
    log_error("registry database error", "code=%d error=\"%s\"", ext, sqlite3_errmsg(db));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return reg_problem(ctx, STATUS_UNAVAILABLE, "database busy; retry");
    return reg_problem(ctx, STATUS_INTERNAL, "database error");
}

status_t reg_step_done(reg_ctx_t *ctx, sqlite3_stmt *st, const char *path)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return STATUS_OK;
    return reg_db_error(ctx, rc, path);
}

sqlite3_stmt *reg_stmt(reg_ctx_t *ctx, const char *sql)
{
    sqlite3_stmt *st = store_stmt(ctx->store, sql);
    if (!st)
        reg_problem(ctx, STATUS_INTERNAL, "database error");
    return st;
}

status_t reg_emit(reg_ctx_t *ctx, const char *kind, const char *id, const ProtobufCMessage *ev)
{
    char subject[128];
    snprintf(subject, sizeof subject, "%s:%s", kind, id);
    if (service_call_emit(ctx->call, subject, ev) != 0)
        return reg_problem(ctx, STATUS_INTERNAL, "cannot record the event");
    return STATUS_OK;
}

int reg_check_text(reg_ctx_t *ctx, const char *path, const char *s, size_t max, int required,
                   int multiline)
{
    if (!s || !*s) {
        if (required)
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is required");
        return !required;
    }
    registry_text_problem_t p = registry_check_text(s, max, multiline);
    if (p == REGISTRY_TEXT_OK)
        return 1;
    if (p == REGISTRY_TEXT_TOO_LONG)
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must be at most %zu characters", max);
    else
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "%s", registry_text_problem_text(p));
    return 0;
}

int reg_check_slug(reg_ctx_t *ctx, const char *path, const char *s, int required)
{
    if (!s || !*s) {
        if (required)
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is required");
        return !required;
    }
    if (registry_valid_slug(s))
        return 1;
    reg_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                  "must be 2 to 64 characters of a-z, 0-9 and '-', starting and ending with a "
                  "letter or digit");
    return 0;
}

int reg_check_date(reg_ctx_t *ctx, const char *path, const char *s, int required)
{
    if (!s || !*s) {
        if (required)
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is required");
        return !required;
    }
    if (registry_valid_date(s))
        return 1;
    reg_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                  "must be a calendar date YYYY-MM-DD between %d and %d", REGISTRY_DATE_MIN_YEAR,
                  REGISTRY_DATE_MAX_YEAR);
    return 0;
}

int reg_check_code(reg_ctx_t *ctx, const char *path, const char *s, const char *const *vocabulary,
                   int required)
{
    if (!s || !*s) {
        if (required)
            reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is required");
        return !required;
    }
    if (registry_in_vocabulary(vocabulary, s))
        return 1;
    char *words = registry_vocabulary_text(vocabulary);
    reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must be one of: %s", words);
    free(words);
    return 0;
}

int reg_check_url(reg_ctx_t *ctx, const char *path, const char *s)
{
    if (!s || !*s)
        return 1;
    if (registry_check_text(s, REGISTRY_MAX_URL, 0) == REGISTRY_TEXT_OK && registry_valid_url(s))
        return 1;
    reg_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                  "must be an http:// or https:// address of at most %d bytes", REGISTRY_MAX_URL);
    return 0;
}

int reg_check_range(reg_ctx_t *ctx, const char *path, int64_t v, int64_t min, int64_t max)
{
    if (v >= min && v <= max)
        return 1;
    reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must be between %lld and %lld",
                  (long long)min, (long long)max);
    return 0;
}

void reg_check_absent(reg_ctx_t *ctx, const char *path, int present)
{
    if (present)
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is read-only");
}

int reg_limit(reg_ctx_t *ctx, uint32_t limit)
{
    if (limit > REGISTRY_MAX_LIMIT) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "limit", "must be at most %d",
                      REGISTRY_MAX_LIMIT);
        return REGISTRY_MAX_LIMIT;
    }
    return limit ? (int)limit : REGISTRY_DEFAULT_LIMIT;
}

int reg_page(reg_ctx_t *ctx, const char *list, const char *cursor, uint32_t limit, char after[65],
             int *limit_out)
{
    size_t mark = ctx->problems;
    after[0] = '\0';
    *limit_out = reg_limit(ctx, limit);
    if (cursor && *cursor && registry_cursor_decode(list, cursor, after) != 0)
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, "cursor",
                      "is not a cursor of this list (pass next_cursor back unchanged)");
    return ctx->problems == mark ? 0 : -1;
}

ProtobufCMessage **reg_read_page(reg_ctx_t *ctx, sqlite3_stmt *st, const char *list, int limit,
                                 reg_row_fn row, size_t *n, char **next_cursor)
{
    ProtobufCMessage **items = xcalloc((size_t)limit, sizeof *items);
    *n = 0;
    *next_cursor = NULL;
    int rc = SQLITE_DONE;
    while (*n < (size_t)limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
        items[(*n)++] = row(st);
    if (rc == SQLITE_ROW) {
        /* A full page: one more row means a next page, after this one's last key. */
        char *last = reg_column_text(st, 0);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *next_cursor = registry_cursor_encode(list, last);
            rc = SQLITE_DONE;
        }
        free(last);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        reg_db_error(ctx, rc, list);
    sqlite3_reset(st);
    return items;
}

char *reg_search_pattern(reg_ctx_t *ctx, const char *path, const char *search)
{
    if (!search || !*search)
        return NULL;
    if (!reg_check_text(ctx, path, search, REGISTRY_MAX_NAME, 0, 0))
        return NULL;
    char *folded = registry_fold(search);
    if (!folded || !*folded) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, path, "must contain a letter or a digit");
        free(folded);
        return NULL;
    }
    char *pattern = xasprintf("%%%s%%", folded);
    free(folded);
    return pattern;
}

const char *reg_nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

void reg_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void reg_bind_opt_int(sqlite3_stmt *st, int i, int has, int64_t v)
{
    if (has)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

char *reg_column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

void reg_changed(reg_changes_t *ch, const char *name)
{
    if (ch->n < sizeof ch->names / sizeof ch->names[0])
        ch->names[ch->n++] = name;
}

void reg_merge_str(char **dst, const char *src, const char *name, reg_changes_t *ch)
{
    if (!src)
        return;
    const char *v = *src ? src : NULL;
    if ((!*dst && !v) || (*dst && v && strcmp(*dst, v) == 0))
        return;
    free(*dst);
    *dst = v ? xstrdup(v) : NULL;
    reg_changed(ch, name);
}

void reg_merge_int(protobuf_c_boolean *has_dst, int64_t *dst, int has_src, int64_t src,
                   const char *name, reg_changes_t *ch)
{
    if (!has_src || (*has_dst && *dst == src))
        return;
    *has_dst = 1;
    *dst = src;
    reg_changed(ch, name);
}

void reg_merge_i32(protobuf_c_boolean *has_dst, int32_t *dst, int has_src, int32_t src,
                   const char *name, reg_changes_t *ch)
{
    if (!has_src || (*has_dst && *dst == src))
        return;
    *has_dst = 1;
    *dst = src;
    reg_changed(ch, name);
}

void reg_merge_u32(protobuf_c_boolean *has_dst, uint32_t *dst, int has_src, uint32_t src,
                   const char *name, reg_changes_t *ch)
{
    if (!has_src || (*has_dst && *dst == src))
        return;
    *has_dst = 1;
    *dst = src;
    reg_changed(ch, name);
}

void reg_merge_bool(protobuf_c_boolean *has_dst, protobuf_c_boolean *dst, int has_src,
                    protobuf_c_boolean src, const char *name, reg_changes_t *ch)
{
    if (!has_src || (*has_dst && !*dst == !src))
        return;
    *has_dst = 1;
    *dst = src ? 1 : 0;
    reg_changed(ch, name);
}

int registry_exists(reg_ctx_t *ctx, registry_kind_t kind, const char *id)
{
    static const char *const sql[] = {
        [REGISTRY_TERRITORY] = "SELECT 1 FROM territory WHERE id = ?",
        [REGISTRY_ORGANIZATION] = "SELECT 1 FROM organization WHERE id = ?",
        [REGISTRY_TABLE] = "SELECT 1 FROM concertation_table WHERE id = ?",
    };
    sqlite3_stmt *st = reg_stmt(ctx, sql[kind]);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

ProtobufCMessage *reg_load_row(reg_ctx_t *ctx, const char *sql, const char *id, reg_row_fn row)
{
    sqlite3_stmt *st = reg_stmt(ctx, sql);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    ProtobufCMessage *m = sqlite3_step(st) == SQLITE_ROW ? row(st) : NULL;
    sqlite3_reset(st);
    return m;
}

int reg_answer_entity(service_call_t *call, void *arg, const char *field, const char *id,
                      const char *what, const char *sql, reg_row_fn row)
{
    reg_ctx_t ctx;
    reg_ctx_init(&ctx, call, arg);
    if (!reg_check_slug(&ctx, field, id, 1))
        return reg_fail(&ctx);
    ProtobufCMessage *entity = reg_load_row(&ctx, sql, id, row);
    if (!entity && !ctx.problems)
        reg_violation(&ctx, STATUS_NOT_FOUND, field, "%s %s is not registered", what, id);
    return reg_finish_free(&ctx, entity);
}

const char *reg_update_id(reg_ctx_t *ctx, const char *kind, int present, const char *id,
                          const char *inner)
{
    id = reg_nonempty(id);
    inner = reg_nonempty(inner);
    if (!present) {
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, kind, "is required");
    } else if (id && inner && strcmp(id, inner) != 0) {
        char path[64];
        snprintf(path, sizeof path, "%s.id", kind);
        reg_violation(ctx, STATUS_INVALID_ARGUMENT, path,
                      "must be absent or equal to id (ids never change)");
        return NULL;
    }
    if (!id)
        id = inner;
    return reg_check_slug(ctx, "id", id, 1) ? id : NULL;
}
