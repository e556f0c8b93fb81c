/* ctx: the per-call context of handlers (see ctx.h). */
#include "ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pbmsg.h"
#include "text.h"
#include "xalloc.h"

/* The one place a call learns its date: Montréal's, at the call's business
 * time (common/clock.h). */
static void ctx_set_today(ctx_t *ctx)
{
    snprintf(ctx->today, sizeof ctx->today, "%s", service_call_today(ctx->call));
}

void ctx_init(ctx_t *ctx, service_call_t *call)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->call = call;
    ctx->store = service_call_store(call);
    ctx->actor = service_call_actor(call);
    ctx->status = STATUS_OK;
    ctx_set_today(ctx);
}

/* A field's name in a violation: its proto path, or during an import the
 * CSV cell: "tables.csv:12:territory_id". */
static void ctx_field_name(const ctx_t *ctx, const char *path, char *out, size_t outlen)
{
    if (ctx->file) {
        const char *last = strrchr(path, '.');
        last = last ? last + 1 : path;
        size_t n = strcspn(last, "[");
        snprintf(out, outlen, "%s:%zu:%.*s", ctx->file, ctx->line, (int)n, last);
        return;
    }
    if (service_call_json_names(ctx->call))
        pbmsg_json_path(path, out, outlen);
    else
        snprintf(out, outlen, "%s", path);
}

const char *ctx_name(ctx_t *ctx, const char *path)
{
    char *out = ctx->names[ctx->next_name];
    ctx->next_name = (ctx->next_name + 1) % CTX_NAMES;
    if (ctx->file || !service_call_json_names(ctx->call))
        snprintf(out, CTX_NAME_MAX, "%s", path);
    else
        pbmsg_json_path(path, out, CTX_NAME_MAX);
    return out;
}

/* The first problem's summary; long field paths or texts are cut, which is
 * fine for a message whose details are in the violations. */
static void ctx_set_message(ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ctx_set_message(ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
}

static status_t ctx_record(ctx_t *ctx, status_t status, const char *field, const char *desc)
{
    if (field && !ctx->quiet)
        service_call_violation(ctx->call, field, "%s", desc);
    ctx->problems++;
    ctx->last_status = status;
    if (ctx->status != STATUS_OK)
        return status;
    ctx->status = status;
    if (field)
        ctx_set_message(ctx, "%s: %s", field, desc);
    else if (ctx->file)
        ctx_set_message(ctx, "%s:%zu: %s", ctx->file, ctx->line, desc);
    else
        ctx_set_message(ctx, "%s", desc);
    return status;
}

status_t ctx_violation(ctx_t *ctx, status_t status, const char *path, const char *fmt, ...)
{
    char field[256], desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    ctx_field_name(ctx, path, field, sizeof field);
    return ctx_record(ctx, status, field, desc);
}

status_t ctx_problem(ctx_t *ctx, status_t status, const char *fmt, ...)
{
    char desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    if (!ctx->file)
        return ctx_record(ctx, status, NULL, desc);
    /* In an import every problem is reported with its place. */
    char field[256];
    snprintf(field, sizeof field, "%s:%zu", ctx->file, ctx->line);
    return ctx_record(ctx, status, field, desc);
}

int ctx_fail(ctx_t *ctx)
{
    size_t n = service_call_violation_count(ctx->call);
    if (n > 1)
        return service_call_fail(ctx->call, ctx->status, "%s (and %zu more %s)", ctx->message,
                                 n - 1, text_plural(n - 1, "problem", "problems"));
    return service_call_fail(ctx->call, ctx->status, "%s", ctx->message);
}

int ctx_finish(ctx_t *ctx, const ProtobufCMessage *result)
{
    if (ctx->status != STATUS_OK)
        return ctx_fail(ctx);
    return service_call_reply(ctx->call, result);
}

int ctx_finish_free(ctx_t *ctx, ProtobufCMessage *result)
{
    int rc = ctx_finish(ctx, result);
    if (result)
        protobuf_c_message_free_unpacked(result, NULL);
    return rc;
}

sqlite3_stmt *ctx_stmt(ctx_t *ctx, const char *sql)
{
    sqlite3_stmt *st = store_stmt(ctx->store, sql);
    if (!st)
        ctx_problem(ctx, STATUS_INTERNAL, "database error");
    return st;
}

void ctx_bind(ctx_t *ctx, sqlite3_stmt *st)
{
    int i;
    if ((i = sqlite3_bind_parameter_index(st, ":now")) > 0)
        sqlite3_bind_int64(st, i, service_call_now_ms(ctx->call));
    if ((i = sqlite3_bind_parameter_index(st, ":today")) > 0)
        sqlite3_bind_text(st, i, ctx->today, -1, SQLITE_TRANSIENT);
    if ((i = sqlite3_bind_parameter_index(st, ":actor")) > 0)
        sqlite3_bind_text(st, i, ctx->actor, -1, SQLITE_TRANSIENT);
    if ((i = sqlite3_bind_parameter_index(st, ":caller_public")) > 0)
        sqlite3_bind_int(st, i, service_call_caller(ctx->call).role == CALLER_PUBLIC);
}

status_t ctx_db_error(ctx_t *ctx, int rc, const char *path)
{
    sqlite3 *db = store_db(ctx->store);
    int ext = sqlite3_extended_errcode(db);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        switch (ext) {
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_UNIQUE:
            return ctx_violation(ctx, STATUS_CONFLICT, path, "is already registered");
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            return ctx_violation(ctx, STATUS_NOT_FOUND, path, "refers to something not registered");
        default:
            /* SQLite's text names its constraints: for the log, not the
             * client. */
            log_info("constraint refused a write", "field=%s error=\"%s\"", path,
                     sqlite3_errmsg(db));
            return ctx_violation(ctx, STATUS_INVALID_ARGUMENT, path, "is not acceptable");
        }
    }
    log_error("database error", "code=%d error=\"%s\"", ext, sqlite3_errmsg(db));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return ctx_problem(ctx, STATUS_UNAVAILABLE, "database busy; retry");
    return ctx_problem(ctx, STATUS_INTERNAL, "database error");
}

status_t ctx_step(ctx_t *ctx, sqlite3_stmt *st, const char *path)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return STATUS_OK;
    return ctx_db_error(ctx, rc, path);
}

int ctx_exists(ctx_t *ctx, const char *sql, const char *key)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "");
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

int ctx_require(ctx_t *ctx, const char *sql, const char *field, const char *noun, const char *key)
{
    size_t mark = ctx->problems;
    if (ctx_exists(ctx, sql, key))
        return 1;
    if (ctx->problems == mark)
        ctx_violation(ctx, STATUS_NOT_FOUND, field, "%s %s is not registered", noun, key);
    return 0;
}

/* Steps `st` (bound) and reads its row, if any. */
static ProtobufCMessage *ctx_read_one(ctx_t *ctx, sqlite3_stmt *st,
                                      const ProtobufCMessageDescriptor *desc,
                                      row_complete_fn complete)
{
    int rc = sqlite3_step(st);
    ProtobufCMessage *m = NULL;
    if (rc == SQLITE_ROW) {
        m = row_read(st, desc);
        if (complete)
            complete(m, st);
    } else if (rc != SQLITE_DONE) {
        ctx_db_error(ctx, rc, "");
    }
    sqlite3_reset(st);
    return m;
}

ProtobufCMessage *ctx_load(ctx_t *ctx, const char *sql, const char *key,
                           const ProtobufCMessageDescriptor *desc, row_complete_fn complete)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    return ctx_read_one(ctx, st, desc, complete);
}

ProtobufCMessage *ctx_load_int(ctx_t *ctx, const char *sql, int64_t key,
                               const ProtobufCMessageDescriptor *desc, row_complete_fn complete)
{
    sqlite3_stmt *st = ctx_stmt(ctx, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, key);
    return ctx_read_one(ctx, st, desc, complete);
}

size_t ctx_read_all(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessageDescriptor *desc,
                    size_t max, ProtobufCMessage ***out, int *more)
{
    size_t n = 0, cap = 0;
    int rc;
    *out = NULL;
    if (more)
        *more = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == max) {
            if (more)
                *more = 1;
            rc = SQLITE_DONE;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[n++] = row_read(st, desc);
    }
    if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, desc->short_name);
    sqlite3_reset(st);
    return n;
}

status_t ctx_emit(ctx_t *ctx, const char *kind, const char *id, const ProtobufCMessage *ev)
{
    char subject[128];
    snprintf(subject, sizeof subject, "%s:%s", kind, id);
    if (service_call_emit(ctx->call, subject, ev) != 0)
        return ctx_problem(ctx, STATUS_INTERNAL, "cannot record the event");
    return STATUS_OK;
}
