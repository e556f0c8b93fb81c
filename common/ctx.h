/* ctx: the per-call context of a daemon's handlers, over service_call_t.
 *
 * A handler checks its whole request, recording every problem rather than
 * stopping at the first (field.h has the checks), and answers with
 * ctx_finish: OK with the result when nothing was recorded, else the
 * first problem's status and message with every violation. Violations
 * name a field by its snake_case proto path in the request
 * ("table.territory_id"), which the context writes as the client names
 * it: its JSON name when the request came through the gateway's HTTP API
 * ("table.territoryId", service_call_json_names), in the violation and in
 * the answer's message alike. During a CSV import (import.h) they name the cell instead,
 * "<file>:<line>:<column>" where the column is the path's last part
 * ("tables.csv:12:territory_id").
 *
 *     ctx_t ctx;
 *     ctx_init(&ctx, call);
 *     field_slug(&ctx, "table_id", req->table_id, FIELD_REQUIRED);
 *     if (ctx.problems)
 *         return ctx_fail(&ctx);
 *     Table *t = (Table *)ctx_load(&ctx, table_by_id, req->table_id, &table__descriptor,
 *                                  NULL);
 *     ...
 *     return ctx_finish_free(&ctx, &t->base);
 *
 * Also here: database statements and steps whose failures are recorded
 * like any problem (a constraint becomes CONFLICT, NOT_FOUND or
 * INVALID_ARGUMENT on a field; anything else INTERNAL, or UNAVAILABLE when
 * busy), rows read by key into messages (row.h), and events. */
#ifndef CONCERTO_CTX_H
#define CONCERTO_CTX_H

#include <stddef.h>

#include "date.h"
#include "row.h"
#include "service.h"

#define CTX_NAMES 4     /* ctx_name answers that stay valid together */
#define CTX_NAME_MAX 96 /* bytes of one */

typedef struct {
    service_call_t *call;
    store_t *store;
    const char *actor;          /* who asked; "" when the envelope says nobody */
    char today[CLOCK_DATE_LEN]; /* Montréal's date at the call's business time */
    /* During an import: the file and line being applied, else NULL. */
    const char *file;
    size_t line;
    status_t status; /* of the first problem; STATUS_OK while none */
    char message[300];
    size_t problems;                     /* problems recorded so far */
    status_t last_status;                /* of the latest problem */
    char names[CTX_NAMES][CTX_NAME_MAX]; /* ctx_name's answers */
    unsigned next_name;
    /* Set by the handler: problems are counted and the first sets
     * status and message, but none is added to the answer's violations.
     * For a second context on the same call whose failure is reported
     * another way (recorded, say, where the answer is OK). */
    int quiet;
} ctx_t;

void ctx_init(ctx_t *ctx, service_call_t *call);

/* Records a problem with the field at `path`; the first problem sets the
 * answer's status and message. Returns `status`. */
status_t ctx_violation(ctx_t *ctx, status_t status, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Field `path` ("mandataire_id") as the client names it, for a
 * description that mentions another field than its own: the JSON name
 * over HTTP ("mandataireId"), the proto path otherwise; during an import
 * the path as it is (a CSV column). Violations name their own field so
 * already. Valid until CTX_NAMES more calls. */
const char *ctx_name(ctx_t *ctx, const char *path);
/* A problem that concerns no single field. */
status_t ctx_problem(ctx_t *ctx, status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answers with the first problem's status and message. */
int ctx_fail(ctx_t *ctx);
/* Answers OK with `result` (may be NULL) unless a problem was recorded. */
int ctx_finish(ctx_t *ctx, const ProtobufCMessage *result);
/* ctx_finish, then frees `result` (may be NULL). */
int ctx_finish_free(ctx_t *ctx, ProtobufCMessage *result);

/* store_stmt, recording INTERNAL when the SQL does not compile. */
sqlite3_stmt *ctx_stmt(ctx_t *ctx, const char *sql);
/* Binds the call's own values to the parameters of `st` that name them:
 * :now (the call's time, Unix ms), :today (ctx->today), :actor, and
 * :caller_public (1 when the gateway says the caller has no token: what a
 * public read may not show, SQL can leave out). */
void ctx_bind(ctx_t *ctx, sqlite3_stmt *st);
/* Records a database step that did not succeed: constraint failures
 * become CONFLICT, NOT_FOUND or INVALID_ARGUMENT on `path`, anything else
 * INTERNAL (logged), or UNAVAILABLE when the database is busy. Returns the
 * status recorded. */
status_t ctx_db_error(ctx_t *ctx, int rc, const char *path);
/* Steps a write statement and resets it; STATUS_OK when it is done, else
 * the status recorded by ctx_db_error. */
status_t ctx_step(ctx_t *ctx, sqlite3_stmt *st, const char *path);

/* 1 when `sql`, whose one parameter is bound to `key`, selects a row; 0
 * when not, or when the lookup failed (then recorded: a failed lookup is
 * never taken for "not there"). */
int ctx_exists(ctx_t *ctx, const char *sql, const char *key);
/* ctx_exists, and when there is no such row, records NOT_FOUND on `field`:
 * "<noun> <key> is not registered" (not when the lookup failed: that is
 * recorded as what it is). */
int ctx_require(ctx_t *ctx, const char *sql, const char *field, const char *noun, const char *key);
/* The row `sql` (one parameter: `key`) selects, read into a new message of
 * type `desc` (row.h) and completed by `complete` unless NULL; NULL when
 * there is none or on a database error (recorded). */
ProtobufCMessage *ctx_load(ctx_t *ctx, const char *sql, const char *key,
                           const ProtobufCMessageDescriptor *desc, row_complete_fn complete);
/* The same with an integer key. */
ProtobufCMessage *ctx_load_int(ctx_t *ctx, const char *sql, int64_t key,
                               const ProtobufCMessageDescriptor *desc, row_complete_fn complete);

/* Every row the bound statement `st` selects, up to `max`, read into new
 * messages of type `desc`; a new array of n in *out (NULL when none; the
 * caller frees each and the array). *more (may be NULL) is 1 when a row
 * beyond `max` exists. A database error is recorded. `st` is reset. */
size_t ctx_read_all(ctx_t *ctx, sqlite3_stmt *st, const ProtobufCMessageDescriptor *desc,
                    size_t max, ProtobufCMessage ***out, int *more);

/* Appends an event about "<kind>:<id>" (its subject, for history);
 * records INTERNAL on failure. */
status_t ctx_emit(ctx_t *ctx, const char *kind, const char *id, const ProtobufCMessage *ev);

#endif
