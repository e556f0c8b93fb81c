/* funding_allocation: allocations and their states (proposed -> approved
 * -> suspended -> approved again; any but closed -> closed), the split
 * between the year's funders (common/money.h), the envelope, amendments,
 * and the suspensions the registry's decisions bring. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "funding.h"
#include "funding_criteria.h"
#include "money.h"
#include "pbmsg.h"
#include "row.h"
#include "xalloc.h"

/* An allocation's columns named after its fields; its parts and its
 * installments, repeated fields, as text: "funder:bp:amount:paid ..." (by
 * funder id) and "number:bp:due_on:on_report:state:amount:due_ms:
 * funder=amount;..." (funding_installment.c). */
#define ALLOCATION_COLUMNS                                                                         \
    "a.id, a.program_id, a.fiscal_year, a.table_id, a.state, a.amount_cents, a.overridden,"        \
    " a.suspended_by_registry, a.state_reason, a.state_changed_by, a.state_changed_ms,"            \
    " a.created_ms, a.updated_ms, NULLIF(a.demo, 0) AS demo, t.mandataire_id,"                     \
    " (SELECT COALESCE(SUM(p.paid_cents), 0) FROM allocation_part p"                               \
    "  WHERE p.allocation_id = a.id) AS paid_cents,"                                               \
    " (SELECT group_concat(funder_id || ':' || share_bp || ':' || amount_cents || ':' ||"          \
    "  paid_cents, ' ') FROM (SELECT * FROM allocation_part p WHERE p.allocation_id = a.id"        \
    "  ORDER BY funder_id)) AS parts_text,"                                                        \
    " (SELECT group_concat(number || ':' || share_bp || ':' || COALESCE(due_on, '') || ':' ||"     \
    "  on_report || ':' || state || ':' || COALESCE(amount_cents, '') || ':' ||"                   \
    "  COALESCE(due_ms, '') || ':' || COALESCE((SELECT group_concat(funder_id || '=' ||"           \
    "  amount_cents, ';') FROM (SELECT * FROM installment_part q WHERE q.allocation_id ="          \
    "  i.allocation_id AND q.number = i.number ORDER BY funder_id)), ''), ' ')"                    \
    "  FROM (SELECT * FROM allocation_installment i WHERE i.allocation_id = a.id"                  \
    "  ORDER BY number) i) AS installments_text"
#define ALLOCATION_FROM " FROM allocation a LEFT JOIN reg_table t ON t.id = a.table_id"

static fund_part_t *part_new(const char *funder_id, uint32_t share_bp, int64_t amount, int64_t paid)
{
    fund_part_t *p = xmalloc(sizeof *p);
    concerto__funding__v1__allocation_part__init(p);
    p->funder_id = xstrdup(funder_id);
    p->has_share_bp = p->has_amount_cents = p->has_paid_cents = 1;
    p->share_bp = share_bp;
    p->amount_cents = amount;
    p->paid_cents = paid;
    return p;
}

/* Fills the parts and the installments from their text columns. */
static void allocation_complete(ProtobufCMessage *m, sqlite3_stmt *st)
{
    fund_allocation_t *a = (fund_allocation_t *)m;
    int col = row_column(st, "installments_text");
    if (col >= 0)
        funding_installments_complete(a, (const char *)sqlite3_column_text(st, col));
    col = row_column(st, "parts_text");
    const char *text = col >= 0 ? (const char *)sqlite3_column_text(st, col) : NULL;
    if (!text || !*text)
        return;
    char *copy = xstrdup(text), *items[FUNDING_MAX_SHARES], *f[4];
    size_t n = funding_split(copy, ' ', items, FUNDING_MAX_SHARES);
    a->parts = xcalloc(n, sizeof *a->parts);
    for (size_t i = 0; i < n; i++)
        if (funding_split(items[i], ':', f, 4) == 4)
            a->parts[a->n_parts++] = part_new(f[0], (uint32_t)strtoul(f[1], NULL, 10),
                                              strtoll(f[2], NULL, 10), strtoll(f[3], NULL, 10));
    free(copy);
}

fund_allocation_t *funding_allocation_load(ctx_t *ctx, uint64_t id, const char *field)
{
    fund_allocation_t *a = (fund_allocation_t *)ctx_load_int(
        ctx, "SELECT " ALLOCATION_COLUMNS ALLOCATION_FROM " WHERE a.id = ?", (int64_t)id,
        &concerto__funding__v1__allocation__descriptor, allocation_complete);
    if (!a && field && !ctx->problems)
        ctx_violation(ctx, STATUS_NOT_FOUND, field, "allocation %llu does not exist",
                      (unsigned long long)id);
    return a;
}

static void allocation_list_check(ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Concerto__Funding__V1__ListAllocationsRequest *r = (const void *)msg;
    field_slug(ctx, "program_id", r->program_id, 0);
    funding_field_year(ctx, "fiscal_year", r->fiscal_year, 0, NULL);
    field_slug(ctx, "table_id", r->table_id, 0);
}

const page_list_t funding_allocation_list = {
    .list = "allocations",
    .sql = "SELECT " ALLOCATION_COLUMNS ALLOCATION_FROM " WHERE a.id > :after"
           " AND (:program_id IS NULL OR a.program_id = :program_id)"
           " AND (:fiscal_year IS NULL OR a.fiscal_year = :fiscal_year)"
           " AND (:table_id IS NULL OR a.table_id = :table_id)"
           " AND (:state IS NULL OR a.state = :state)"
           " ORDER BY a.id LIMIT :page_limit",
    .answer = &concerto__funding__v1__allocation_list__descriptor,
    .key_int = 1,
    .check = allocation_list_check,
    .complete = allocation_complete,
};

const char *funding_allocation_state_name(int state)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &concerto__funding__v1__allocation_state__descriptor, state);
    return v ? v->name : "UNKNOWN";
}

/* --- writing */

/* Sets the allocation's state and why, by whom, now. */
static status_t allocation_set_state(ctx_t *ctx, uint64_t id, int state, const char *reason,
                                     int by_registry)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE allocation SET state = :state,"
                                     " suspended_by_registry = :by_registry,"
                                     " state_reason = :reason, state_changed_by = :actor,"
                                     " state_changed_ms = :now, updated_ms = :now WHERE id = :id");
    if (!st)
        return ctx->last_status;
    row_bind_int(st, ":state", state);
    row_bind_int(st, ":by_registry", by_registry);
    row_bind_text(st, ":reason", field_nonempty(reason));
    row_bind_int(st, ":id", (int64_t)id);
    ctx_bind(ctx, st);
    return ctx_step(ctx, st, "id");
}

/* The allocation events other than AllocationAmended: each is {actor,
 * allocation} and, for some, reason and by_registry, set by name. */
typedef const ProtobufCMessageDescriptor *allocation_event_t;
#define EMIT_PROPOSED (&concerto__funding__v1__allocation_proposed__descriptor)
#define EMIT_APPROVED (&concerto__funding__v1__allocation_approved__descriptor)
#define EMIT_SUSPENDED (&concerto__funding__v1__allocation_suspended__descriptor)
#define EMIT_RESUMED (&concerto__funding__v1__allocation_resumed__descriptor)
#define EMIT_CLOSED (&concerto__funding__v1__allocation_closed__descriptor)

/* Emits event `kind` about the allocation as stored now (with `reason`
 * and, for a suspension, whether the registry's); *out gets the
 * allocation when wanted. The event borrows what it holds and gives it
 * back before it is freed. */
static status_t allocation_emit(ctx_t *ctx, uint64_t id, allocation_event_t kind,
                                const char *reason, int by_registry, fund_allocation_t **out)
{
    fund_allocation_t *a = funding_allocation_load(ctx, id, "id");
    if (!a)
        return ctx->last_status;
    const ProtobufCFieldDescriptor *actor =
        protobuf_c_message_descriptor_get_field_by_name(kind, "actor");
    const ProtobufCFieldDescriptor *alloc =
        protobuf_c_message_descriptor_get_field_by_name(kind, "allocation");
    const ProtobufCFieldDescriptor *why =
        protobuf_c_message_descriptor_get_field_by_name(kind, "reason");
    const ProtobufCFieldDescriptor *registry =
        protobuf_c_message_descriptor_get_field_by_name(kind, "by_registry");
    assert(actor && alloc && "an allocation event is {actor, allocation, ...}");
    ProtobufCMessage *ev = pbmsg_new(kind);
    *(const char **)pbmsg_member(ev, actor) = ctx->actor;
    *(fund_allocation_t **)pbmsg_member(ev, alloc) = a;
    if (why)
        *(const char **)pbmsg_member(ev, why) = reason;
    if (registry) {
        *(protobuf_c_boolean *)pbmsg_member(ev, registry) = by_registry != 0;
        pbmsg_mark_present(ev, registry);
    }
    status_t s = ctx_emit(ctx, "table", a->table_id, ev);
    *(const char **)pbmsg_member(ev, actor) = NULL;
    *(fund_allocation_t **)pbmsg_member(ev, alloc) = NULL;
    if (why)
        *(const char **)pbmsg_member(ev, why) = NULL;
    protobuf_c_message_free_unpacked(ev, NULL);
    if (s == STATUS_OK && out)
        *out = a;
    else
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return s;
}

/* Writes the parts of `amount` split by `y`'s shares. */
static status_t allocation_write_parts(ctx_t *ctx, uint64_t id, const fund_year_t *y,
                                       int64_t amount)
{
    uint32_t shares[FUNDING_MAX_SHARES];
    int64_t parts[FUNDING_MAX_SHARES];
    for (size_t i = 0; i < y->n_shares && i < FUNDING_MAX_SHARES; i++)
        shares[i] = y->shares[i]->share_bp;
    if (money_split(amount, shares, y->n_shares, parts) != 0)
        return ctx_problem(ctx, STATUS_FAILED_PRECONDITION,
                           "the shares of %s %s do not make the whole", y->program_id,
                           y->fiscal_year);
    for (size_t i = 0; i < y->n_shares; i++) {
        sqlite3_stmt *st = ctx_stmt(ctx, "INSERT INTO allocation_part(allocation_id, funder_id,"
                                         " share_bp, amount_cents) VALUES(:id, :funder, :bp,"
                                         " :amount)");
        if (!st)
            return ctx->last_status;
        row_bind_int(st, ":id", (int64_t)id);
        row_bind_text(st, ":funder", y->shares[i]->funder_id);
        row_bind_int(st, ":bp", shares[i]);
        row_bind_int(st, ":amount", parts[i]);
        if (ctx_step(ctx, st, "id") != STATUS_OK)
            return ctx->last_status;
    }
    return STATUS_OK;
}

/* CONFLICT on table_id when the Table already has an allocation of the
 * program's year. */
static int allocation_exists(ctx_t *ctx, const char *program_id, const char *fiscal_year,
                             const char *table_id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT id, state FROM allocation WHERE program_id = ?1"
                                     " AND fiscal_year = ?2 AND table_id = ?3");
    if (!st)
        return 1;
    sqlite3_bind_text(st, 1, program_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, fiscal_year, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, table_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        ctx_violation(ctx, STATUS_CONFLICT, "table_id",
                      "Table %s already has allocation %lld of %s %s (%s)", table_id,
                      (long long)sqlite3_column_int64(st, 0), program_id, fiscal_year,
                      funding_allocation_state_name(sqlite3_column_int(st, 1)));
    else if (rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "table_id");
    sqlite3_reset(st);
    return rc != SQLITE_DONE;
}

/* FAILED_PRECONDITION naming the criteria not met, unless `d` is
 * eligible. */
static int allocation_eligible(ctx_t *ctx, const fund_decision_t *d)
{
    if (d->eligible)
        return 1;
    char unmet[400] = "";
    for (size_t i = 0; i < d->n_criteria; i++)
        if ((int)d->criteria[i]->verdict == FUNDING_NOT_MET)
            snprintf(unmet + strlen(unmet), sizeof unmet - strlen(unmet), "%s%s",
                     *unmet ? "; " : "", d->criteria[i]->summary);
    ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "table_id",
                  "Table %s is not eligible for %s %s: %s (an admin may override)", d->table_id,
                  d->program_id, d->fiscal_year, unmet);
    return 0;
}

status_t funding_allocation_propose(ctx_t *ctx, const char *program_id, const char *fiscal_year,
                                    const char *table_id, int64_t amount_cents, int demo,
                                    fund_allocation_t **out)
{
    size_t mark = ctx->problems;
    fund_year_t *y = funding_year_require(ctx, program_id, fiscal_year, "fiscal_year");
    if (!y)
        return ctx->last_status;
    fund_decision_t *d = NULL;
    if (!allocation_exists(ctx, program_id, fiscal_year, table_id))
        d = funding_eligibility_decide(ctx, table_id, program_id, fiscal_year, "proposal");
    if (d && allocation_eligible(ctx, d)) {
        int64_t amount = amount_cents ? amount_cents : y->amount_per_table_cents;
        sqlite3_stmt *st = ctx_stmt(
            ctx, "INSERT INTO allocation(program_id, fiscal_year, table_id, state, amount_cents,"
                 " overridden, demo, state_reason, state_changed_by, state_changed_ms,"
                 " created_ms, updated_ms) VALUES(:program_id, :fiscal_year, :table_id, 1,"
                 " :amount, :overridden, :demo, 'proposed', :actor, :now, :now, :now)");
        if (st) {
            row_bind_text(st, ":program_id", program_id);
            row_bind_text(st, ":fiscal_year", fiscal_year);
            row_bind_text(st, ":table_id", table_id);
            row_bind_int(st, ":amount", amount);
            row_bind_int(st, ":overridden", d->overridden);
            row_bind_int(st, ":demo", demo != 0);
            ctx_bind(ctx, st);
        }
        if (st && ctx_step(ctx, st, "table_id") == STATUS_OK) {
            uint64_t id = (uint64_t)sqlite3_last_insert_rowid(store_db(ctx->store));
            if (allocation_write_parts(ctx, id, y, amount) == STATUS_OK)
                allocation_emit(ctx, id, EMIT_PROPOSED, NULL, 0, out);
        }
    }
    if (d)
        protobuf_c_message_free_unpacked(&d->base, NULL);
    protobuf_c_message_free_unpacked(&y->base, NULL);
    return ctx->problems == mark ? STATUS_OK : ctx->status;
}

/* FAILED_PRECONDITION unless the year's envelope has room for `more`
 * cents. */
static int allocation_room(ctx_t *ctx, const fund_allocation_t *a, int64_t more)
{
    fund_year_t *y = funding_year_require(ctx, a->program_id, a->fiscal_year, "id");
    if (!y)
        return 0;
    int room = more <= y->remaining_cents;
    if (!room) {
        char left[MONEY_TEXT_LEN], need[MONEY_TEXT_LEN], env[MONEY_TEXT_LEN];
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "id",
                      "the %s envelope of %s has %s left (of %s); allocation %llu needs %s",
                      a->fiscal_year, a->program_id, money_text(y->remaining_cents, left),
                      money_text(y->envelope_cents, env), (unsigned long long)a->id,
                      money_text(more, need));
    }
    protobuf_c_message_free_unpacked(&y->base, NULL);
    return room;
}

/* FAILED_PRECONDITION unless `a` is in one of `states` (a 0-ended list). */
static int allocation_in_state(ctx_t *ctx, const fund_allocation_t *a, const int *states,
                               const char *what)
{
    for (const int *s = states; *s; s++)
        if ((int)a->state == *s)
            return 1;
    ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "id", "allocation %llu is %s; %s",
                  (unsigned long long)a->id, funding_allocation_state_name(a->state), what);
    return 0;
}

status_t funding_allocation_approve(ctx_t *ctx, uint64_t id, fund_allocation_t **out)
{
    size_t mark = ctx->problems;
    fund_allocation_t *a = funding_allocation_load(ctx, id, "id");
    static const int proposed[] = {FUNDING_PROPOSED, 0};
    if (a && allocation_in_state(ctx, a, proposed,
                                 "only a proposed allocation is approved (a suspended one is "
                                 "resumed)")) {
        fund_decision_t *d =
            funding_eligibility_decide(ctx, a->table_id, a->program_id, a->fiscal_year, "approval");
        if (d && allocation_eligible(ctx, d) && allocation_room(ctx, a, a->amount_cents) &&
            allocation_set_state(ctx, id, FUNDING_APPROVED, "approved", 0) == STATUS_OK &&
            funding_installments_begin(ctx, a) == STATUS_OK)
            allocation_emit(ctx, id, EMIT_APPROVED, NULL, 0, out);
        if (d)
            protobuf_c_message_free_unpacked(&d->base, NULL);
    }
    if (a)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return ctx->problems == mark ? STATUS_OK : ctx->status;
}

/* The registry's current status of the Table when it is one that keeps
 * its allocations suspended (suspended, withdrawn), else NULL. */
static char *allocation_registry_hold(ctx_t *ctx, const char *table_id)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT status FROM reg_table WHERE id = ?"
                                     " AND status IN ('suspended', 'withdrawn')");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, table_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    char *status = rc == SQLITE_ROW ? row_text(st, 0) : NULL;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "id");
    sqlite3_reset(st);
    return status;
}

status_t funding_allocation_registry_suspend(ctx_t *ctx, const char *table_id,
                                             const char *effective_on, const char *why)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "SELECT a.id FROM allocation a JOIN program_year y"
                                     " ON y.program_id = a.program_id"
                                     " AND y.fiscal_year = a.fiscal_year"
                                     " WHERE a.table_id = :table_id AND a.state = 2"
                                     " AND (:effective_on IS NULL OR y.last_day >= :effective_on)"
                                     " ORDER BY a.id");
    if (!st)
        return ctx->last_status;
    row_bind_text(st, ":table_id", table_id);
    row_bind_text(st, ":effective_on", effective_on);
    int64_t ids[FUNDING_MAX_TABLE_ALLOCATIONS];
    size_t n = funding_ids(ctx, st, ids, FUNDING_MAX_TABLE_ALLOCATIONS);
    for (size_t i = 0; i < n && !ctx->problems; i++)
        if (allocation_set_state(ctx, (uint64_t)ids[i], FUNDING_SUSPENDED, why, 1) == STATUS_OK)
            allocation_emit(ctx, (uint64_t)ids[i], EMIT_SUSPENDED, why, 1, NULL);
    return ctx->problems ? ctx->status : STATUS_OK;
}

size_t funding_ids(ctx_t *ctx, sqlite3_stmt *st, int64_t *ids, size_t max)
{
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ctx_db_error(ctx, rc, "id");
    sqlite3_reset(st);
    return n;
}

/* --- handlers */

int funding_require_admin(ctx_t *ctx, const char *what)
{
    caller_t caller = service_call_caller(ctx->call);
    if (caller.role == CALLER_ADMIN || caller.role == CALLER_NONE)
        return 1;
    ctx_problem(ctx, STATUS_PERMISSION_DENIED, "only an admin may %s (the caller is %s)", what,
                caller_role_name(caller.role));
    return 0;
}

int funding_handle_propose(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__ProposeAllocationRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    funding_field_key(&ctx, r->program_id, r->fiscal_year);
    field_slug(&ctx, "table_id", r->table_id, FIELD_REQUIRED);
    if (r->has_amount_cents && r->amount_cents <= 0)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "amount_cents", "must be more than 0 cents");
    if (ctx.problems)
        return ctx_fail(&ctx);
    fund_allocation_t *a = NULL;
    funding_allocation_propose(&ctx, r->program_id, r->fiscal_year, r->table_id,
                               r->has_amount_cents ? r->amount_cents : 0, 0, &a);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)a);
}

/* The allocation a request names by `id`, or NULL after recording why. */
static fund_allocation_t *allocation_named(ctx_t *ctx, int has_id, uint64_t id)
{
    if (!has_id || id == 0) {
        ctx_violation(ctx, STATUS_INVALID_ARGUMENT, "id", "is required");
        return NULL;
    }
    return funding_allocation_load(ctx, id, "id");
}

int funding_handle_get_allocation(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__GetAllocationRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)allocation_named(&ctx, r->has_id, r->id));
}

int funding_handle_approve(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__ApproveAllocationRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!r->has_id || r->id == 0)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "id", "is required");
    fund_allocation_t *a = NULL;
    if (!ctx.problems)
        funding_allocation_approve(&ctx, r->id, &a);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)a);
}

/* The checks every change of state makes: the id, a reason. */
static fund_allocation_t *allocation_change_begin(ctx_t *ctx, int has_id, uint64_t id,
                                                  const char *reason)
{
    field_text(ctx, "reason", reason, FUNDING_MAX_REASON, FIELD_REQUIRED | FIELD_MULTILINE);
    fund_allocation_t *a = allocation_named(ctx, has_id, id);
    if (a && ctx->problems) {
        protobuf_c_message_free_unpacked(&a->base, NULL);
        a = NULL;
    }
    return a;
}

/* A change of state an operator asks for with {id, reason}. */
struct funding_move {
    int from[4];         /* the states it leaves, 0-ended */
    const char *refusal; /* why another state cannot */
    int to;
    allocation_event_t event;
    /* Optional: the move's own rule or effects, before the state changes
     * and after its event. */
    status_t (*before)(ctx_t *ctx, const fund_allocation_t *a);
    status_t (*after)(ctx_t *ctx, const fund_allocation_t *a);
};

/* FAILED_PRECONDITION while the registry keeps the Table suspended or
 * withdrawn: only then does an operator lift the allocation's suspension. */
static status_t move_check_registry(ctx_t *ctx, const fund_allocation_t *a)
{
    char *hold = allocation_registry_hold(ctx, a->table_id);
    if (hold)
        ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "id",
                      "the registry has Table %s %s; its allocation is resumed once the registry "
                      "recognizes it again",
                      a->table_id, hold);
    free(hold);
    return ctx->problems ? ctx->status : STATUS_OK;
}

const funding_move_t funding_suspend = {{FUNDING_APPROVED},
                                        "only an approved allocation is suspended",
                                        FUNDING_SUSPENDED,
                                        EMIT_SUSPENDED,
                                        NULL,
                                        NULL};
const funding_move_t funding_resume = {
    {FUNDING_SUSPENDED}, "only a suspended allocation is resumed",
    FUNDING_APPROVED,    EMIT_RESUMED,
    move_check_registry, funding_installments_resume};
const funding_move_t funding_close = {{FUNDING_PROPOSED, FUNDING_APPROVED, FUNDING_SUSPENDED},
                                      "a closed allocation stays closed",
                                      FUNDING_CLOSED,
                                      EMIT_CLOSED,
                                      funding_installments_cancel,
                                      NULL};

int funding_on_move(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const funding_move_t *m = arg;
    const ProtobufCFieldDescriptor *fid =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "id");
    const ProtobufCFieldDescriptor *freason =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "reason");
    assert(fid && freason && "a move request is {id, reason}");
    const char *reason = *(char *const *)pbmsg_member(msg, freason);
    ctx_t ctx;
    ctx_init(&ctx, call);
    fund_allocation_t *a = allocation_change_begin(&ctx, pbmsg_present(msg, fid),
                                                   *(const uint64_t *)pbmsg_member(msg, fid),
                                                   reason),
                      *now = NULL;
    if (a && allocation_in_state(&ctx, a, m->from, m->refusal) &&
        (!m->before || m->before(&ctx, a) == STATUS_OK) &&
        allocation_set_state(&ctx, a->id, m->to, reason, 0) == STATUS_OK &&
        allocation_emit(&ctx, a->id, m->event, reason, 0, &now) == STATUS_OK && m->after &&
        m->after(&ctx, a) == STATUS_OK && now) {
        /* The answer shows what the move's effects changed. */
        protobuf_c_message_free_unpacked(&now->base, NULL);
        now = funding_allocation_load(&ctx, a->id, "id");
    }
    if (a)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)now);
}

/* The new parts of `a` for `amount`, by its own shares; FAILED_PRECONDITION
 * when one would fall below what its funder has paid. */
static int amend_split(ctx_t *ctx, const fund_allocation_t *a, int64_t amount, int64_t *parts)
{
    uint32_t shares[FUNDING_MAX_SHARES];
    size_t n = a->n_parts < FUNDING_MAX_SHARES ? a->n_parts : FUNDING_MAX_SHARES;
    for (size_t i = 0; i < n; i++)
        shares[i] = a->parts[i]->share_bp;
    if (money_split(amount, shares, n, parts) != 0) {
        ctx_problem(ctx, STATUS_INTERNAL, "allocation %llu has shares that do not make the whole",
                    (unsigned long long)a->id);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (parts[i] < a->parts[i]->paid_cents) {
            char part[MONEY_TEXT_LEN], paid[MONEY_TEXT_LEN];
            ctx_violation(ctx, STATUS_FAILED_PRECONDITION, "amount_cents",
                          "would make %s's part %s, below the %s it has already paid",
                          a->parts[i]->funder_id, money_text(parts[i], part),
                          money_text(a->parts[i]->paid_cents, paid));
        }
    return !ctx->problems;
}

static status_t amend_write(ctx_t *ctx, const fund_allocation_t *a, int64_t amount,
                            const int64_t *parts)
{
    sqlite3_stmt *st = ctx_stmt(ctx, "UPDATE allocation SET amount_cents = :amount,"
                                     " updated_ms = :now WHERE id = :id");
    if (!st)
        return ctx->last_status;
    row_bind_int(st, ":amount", amount);
    row_bind_int(st, ":id", (int64_t)a->id);
    ctx_bind(ctx, st);
    if (ctx_step(ctx, st, "id") != STATUS_OK)
        return ctx->last_status;
    for (size_t i = 0; i < a->n_parts; i++) {
        st = ctx_stmt(ctx, "UPDATE allocation_part SET amount_cents = :amount"
                           " WHERE allocation_id = :id AND funder_id = :funder");
        if (!st)
            return ctx->last_status;
        row_bind_int(st, ":amount", parts[i]);
        row_bind_int(st, ":id", (int64_t)a->id);
        row_bind_text(st, ":funder", a->parts[i]->funder_id);
        if (ctx_step(ctx, st, "id") != STATUS_OK)
            return ctx->last_status;
    }
    return STATUS_OK;
}

static void amend_emit(ctx_t *ctx, const fund_allocation_t *was, const char *reason,
                       fund_allocation_t **out)
{
    fund_allocation_t *a = funding_allocation_load(ctx, was->id, "id");
    if (!a)
        return;
    Concerto__Funding__V1__AllocationAmended ev = CONCERTO__FUNDING__V1__ALLOCATION_AMENDED__INIT;
    ev.actor = (char *)ctx->actor;
    ev.allocation = a;
    ev.has_previous_amount_cents = 1;
    ev.previous_amount_cents = was->amount_cents;
    ev.n_previous_parts = was->n_parts;
    ev.previous_parts = was->parts;
    ev.reason = (char *)reason;
    if (ctx_emit(ctx, "table", a->table_id, &ev.base) == STATUS_OK)
        *out = a;
    else
        protobuf_c_message_free_unpacked(&a->base, NULL);
}

int funding_handle_amend(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Funding__V1__AmendAllocationRequest *r = (const void *)msg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    if (!r->has_amount_cents)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "amount_cents", "is required");
    else if (r->amount_cents <= 0)
        ctx_violation(&ctx, STATUS_INVALID_ARGUMENT, "amount_cents", "must be more than 0 cents");
    fund_allocation_t *a = allocation_change_begin(&ctx, r->has_id, r->id, r->reason), *now = NULL;
    static const int kept[] = {FUNDING_APPROVED, FUNDING_SUSPENDED, 0};
    int64_t parts[FUNDING_MAX_SHARES];
    if (a && funding_require_admin(&ctx, "amend an allocation") &&
        allocation_in_state(&ctx, a, kept,
                            "only an approved or suspended allocation is amended (change a "
                            "proposal by closing it and proposing again)") &&
        r->amount_cents != a->amount_cents &&
        (r->amount_cents < a->amount_cents ||
         allocation_room(&ctx, a, r->amount_cents - a->amount_cents)) &&
        amend_split(&ctx, a, r->amount_cents, parts) &&
        amend_write(&ctx, a, r->amount_cents, parts) == STATUS_OK)
        amend_emit(&ctx, a, r->reason, &now);
    /* The same amount again changes nothing: the allocation as it is. */
    if (a && !ctx.problems && !now) {
        now = a;
        a = NULL;
    }
    if (a)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return ctx_finish_free(&ctx, (ProtobufCMessage *)now);
}
