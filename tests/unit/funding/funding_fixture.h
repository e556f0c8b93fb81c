/* funding_fixture: what the funding daemon's unit tests share: a runtime
 * without sockets running funding's handler table, and its event table as
 * commands (the handlers the subscriber calls); requests sent with a
 * caller as the gateway would write it (role, partner scopes, format);
 * the registry's events fed as the subscriber would; and the requests the
 * tests make most. Included by one test file each. */
#ifndef CONCERTO_TEST_FUNDING_FIXTURE_H
#define CONCERTO_TEST_FUNDING_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/common/v1/table_status.pb-c.h"
#include "concerto/registry/v1/registry.pb-c.h"
#include "concerto/reporting/v1/reporting.pb-c.h"
#include "fiscal_year.h"
#include "funding_criteria.h"
#include "funding_demo.h"
#include "funding_schema.h"
#include "funding_service.h"
#include "log.h"

typedef Concerto__Common__V1__Reply reply_t;

static struct {
    store_t *store;
    service_t *svc;
    uint64_t seq; /* of the registry's events fed */
} F;

enum { AS_OPERATOR = CALLER_OPERATOR, AS_ADMIN = CALLER_ADMIN, AS_READER = CALLER_READER };

static inline int setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    char err[256];
    store_options_t opt = {":memory:", NULL, 0};
    F.store = store_open(&opt, funding_migrations, FUNDING_MIGRATIONS, err, sizeof err);
    assert_non_null(F.store);
    F.svc = service_new_for_test("funding", F.store);
    F.seq = 0;
    size_t n = 0;
    const service_handler_spec_t *handlers = funding_handler_table(&n);
    assert_int_equal(service_handle(F.svc, handlers, n, NULL), 0);
    /* The events, run as commands: the same handlers the subscriber
     * calls. */
    const service_event_spec_t *events = funding_event_table(&n);
    service_handler_spec_t as_commands[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        as_commands[i] =
            (service_handler_spec_t){events[i].event, SERVICE_COMMAND, events[i].fn, NULL};
    assert_int_equal(service_handle(F.svc, as_commands, n, NULL), 0);
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    service_destroy(&F.svc);
    store_destroy(&F.store);
    return 0;
}

/* What a request's envelope says besides its message. */
typedef struct {
    int role;           /* the caller's */
    const char *source; /* an event of this daemon instead of a request */
    const char *funder; /* a partner's funder= scope */
    const char *format; /* the format the gateway chose */
} sent_t;

static inline reply_t *send_env(const ProtobufCMessage *msg, const sent_t *o);

/* Sends `msg` with a caller of `role` (the gateway's part), or as an event
 * of the registry when `source` is given. Returns the Reply. */
static inline reply_t *send_as(const ProtobufCMessage *msg, int role, const char *source)
{
    sent_t o = {role, source, NULL, NULL};
    return send_env(msg, &o);
}

static inline reply_t *send_env(const ProtobufCMessage *msg, const sent_t *o)
{
    int role = o->role;
    const char *source = o->source;
    size_t plen = 0, len = 0, rlen = 0;
    uint8_t *payload = message_pack(msg, &plen);
    uint8_t id[16];
    envelope_t env;
    envelope_prepare(&env, id, source ? source : "gateway", msg->descriptor->name, payload, plen);
    Concerto__Common__V1__Caller caller = CONCERTO__COMMON__V1__CALLER__INIT;
    if (source) {
        env.has_sequence = 1;
        env.sequence = ++F.seq;
        env.actor = "registry-operator";
    } else {
        caller.has_role = 1;
        caller.role = role;
        caller.name = role == AS_ADMIN ? "ada" : role == CALLER_PARTNER ? "funder-system" : "olga";
        env.caller = &caller;
        env.actor = caller.name;
    }
    Concerto__Common__V1__Scope scope = CONCERTO__COMMON__V1__SCOPE__INIT;
    Concerto__Common__V1__Scope *scopes[] = {&scope};
    char *values[] = {(char *)o->funder};
    if (o->funder) {
        scope.name = "funder";
        scope.n_values = 1;
        scope.values = values;
        caller.n_scopes = 1;
        caller.scopes = scopes;
    }
    env.format = (char *)o->format;
    uint8_t *frame = envelope_pack(&env, &len);
    uint8_t *out = service_dispatch_frame(F.svc, frame, len, &rlen);
    free(frame);
    free(payload);
    envelope_t *renv = NULL;
    assert_int_equal(envelope_decode(out, rlen, 4 << 20, &renv), ENVELOPE_OK);
    reply_t *r = NULL;
    assert_int_equal(envelope_unpack_payload(renv, &concerto__common__v1__reply__descriptor,
                                             (ProtobufCMessage **)&r),
                     ENVELOPE_OK);
    envelope_free(&renv);
    free(out);
    return r;
}

/* Sends `msg` as `o` says and expects `status` (and a violation of
 * `field` containing `text`, when given); on OK with `desc`, returns the
 * result (caller frees). */
static inline void *expect_env(const ProtobufCMessage *msg, const sent_t *o, int status,
                               const char *field, const char *text,
                               const ProtobufCMessageDescriptor *desc)
{
    reply_t *r = send_env(msg, o);
    if ((int)r->status != status)
        fail_msg("%s: expected %d, got %d: %s", msg->descriptor->short_name, status, (int)r->status,
                 r->message);
    if (field || text) {
        int found = 0;
        for (size_t i = 0; i < r->n_fields; i++)
            found |= (!field || strcmp(r->fields[i]->field, field) == 0) &&
                     (!text || strstr(r->fields[i]->description, text));
        found |= !field && text && strstr(r->message, text);
        if (!found) {
            for (size_t i = 0; i < r->n_fields; i++)
                print_message("  %s: %s\n", r->fields[i]->field, r->fields[i]->description);
            fail_msg("no violation %s containing '%s' (message: %s)", field ? field : "",
                     text ? text : "", r->message);
        }
    }
    void *out = NULL;
    if (desc && status == STATUS_OK) {
        assert_string_equal(r->result_type, desc->name);
        out = protobuf_c_message_unpack(desc, NULL, r->result.len, r->result.data);
        assert_non_null(out);
    }
    concerto__common__v1__reply__free_unpacked(r, NULL);
    return out;
}

/* The same with a caller of `role`. */
static inline void *expect_as(const ProtobufCMessage *msg, int role, int status, const char *field,
                              const char *text, const ProtobufCMessageDescriptor *desc)
{
    sent_t o = {role, NULL, NULL, NULL};
    return expect_env(msg, &o, status, field, text, desc);
}

#define expect(msg, status, field, text, desc)                                                     \
    expect_as((const ProtobufCMessage *)(msg), AS_OPERATOR, status, field, text, desc)

static inline void drop(void *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

/* Feeds one event of the registry (or reporting) to funding. */
static inline void feed(const ProtobufCMessage *ev)
{
    reply_t *r = send_as(ev, 0, "registry");
    if ((int)r->status != STATUS_OK)
        fail_msg("%s refused: %s", ev->descriptor->short_name, r->message);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static inline int64_t count(const char *sql)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(F.store), sql, -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* --- what the registry says */

static inline void territory(const char *id, const char *kind, const char *parent)
{
    Concerto__Registry__V1__Territory t = CONCERTO__REGISTRY__V1__TERRITORY__INIT;
    t.id = (char *)id;
    t.name = (char *)id;
    t.kind = (char *)kind;
    t.parent_id = (char *)parent;
    Concerto__Registry__V1__TerritoryRegistered ev =
        CONCERTO__REGISTRY__V1__TERRITORY_REGISTERED__INIT;
    ev.territory = &t;
    feed(&ev.base);
}

/* A Table with its first status (since NULL: unknown, recorded on
 * 2026-11-20). */
static inline void table(const char *id, const char *territory_id, const char *status,
                         const char *since)
{
    Concerto__Registry__V1__Recognition rec = CONCERTO__REGISTRY__V1__RECOGNITION__INIT;
    rec.status = (char *)status;
    rec.since = (char *)since;
    rec.has_since_known = 1;
    rec.since_known = since != NULL;
    rec.recorded_on = "2026-11-20";
    Concerto__Registry__V1__Table t = CONCERTO__REGISTRY__V1__TABLE__INIT;
    t.id = (char *)id;
    t.name = (char *)id;
    t.territory_id = (char *)territory_id;
    t.mandataire_id = (char *)id;
    t.recognition = &rec;
    Concerto__Registry__V1__TableRegistered ev = CONCERTO__REGISTRY__V1__TABLE_REGISTERED__INIT;
    ev.table = &t;
    feed(&ev.base);
}

static inline void recognition(const char *table_id, const char *to, const char *effective_on)
{
    Concerto__Registry__V1__RecognitionChanged ev =
        CONCERTO__REGISTRY__V1__RECOGNITION_CHANGED__INIT;
    ev.table_id = (char *)table_id;
    ev.to_status = (char *)to;
    ev.effective_on = (char *)effective_on;
    ev.has_since_known = 1;
    ev.since_known = effective_on != NULL;
    ev.recorded_on = "2026-11-20";
    ev.reason = "decided";
    feed(&ev.base);
}

/* The four characteristics all met (or not) from `from` on. */
static inline void characteristics(const char *table_id, const char *from, int all_met)
{
    static char *codes[] = {"intersectoral", "multi_network", "structured_permanent",
                            "networking_synergy"};
    Concerto__Registry__V1__CharacteristicsPeriod p =
        CONCERTO__REGISTRY__V1__CHARACTERISTICS_PERIOD__INIT;
    p.starts_on = (char *)from;
    p.has_all_met = 1;
    p.all_met = all_met;
    if (all_met) {
        p.n_met = 4;
        p.met = codes;
    } else {
        p.n_met = 3;
        p.met = codes;
        p.n_unmet = 1;
        p.unmet = codes + 3;
    }
    Concerto__Registry__V1__CharacteristicsPeriod *periods[] = {&p};
    Concerto__Registry__V1__CharacteristicsChanged ev =
        CONCERTO__REGISTRY__V1__CHARACTERISTICS_CHANGED__INIT;
    ev.table_id = (char *)table_id;
    ev.effective_on = (char *)from;
    ev.n_periods = 1;
    ev.periods = periods;
    feed(&ev.base);
}

/* A recognized Table meeting everything since 2020. */
static inline void good_table(const char *id)
{
    table(id, "montreal-nord", "recognized", "2020-01-01");
    characteristics(id, "2020-01-01", 1);
}

/* --- what funding is told */

static inline void funder(const char *id)
{
    Concerto__Funding__V1__Funder f = CONCERTO__FUNDING__V1__FUNDER__INIT;
    f.id = (char *)id;
    f.name = (char *)id;
    Concerto__Funding__V1__RegisterFunderRequest req =
        CONCERTO__FUNDING__V1__REGISTER_FUNDER_REQUEST__INIT;
    req.funder = &f;
    expect(&req, STATUS_OK, NULL, NULL, NULL);
}

/* Sets imsdsl's year `year` with `envelope`, the shares 4661/2609/2730 of
 * centraide, drsp and ville, and the schedule `plan` (n of them; none: the
 * default). */
static inline Concerto__Funding__V1__ProgramYear *
set_year_plan(const char *year, int64_t envelope, Concerto__Funding__V1__Installment **plan,
              size_t n, int status, const char *field, const char *text)
{
    Concerto__Funding__V1__FunderShare s[3] = {CONCERTO__FUNDING__V1__FUNDER_SHARE__INIT,
                                               CONCERTO__FUNDING__V1__FUNDER_SHARE__INIT,
                                               CONCERTO__FUNDING__V1__FUNDER_SHARE__INIT};
    const char *ids[] = {"centraide", "drsp", "ville"};
    uint32_t bps[] = {4661, 2609, 2730};
    Concerto__Funding__V1__FunderShare *ptrs[3];
    for (int i = 0; i < 3; i++) {
        s[i].funder_id = (char *)ids[i];
        s[i].has_share_bp = 1;
        s[i].share_bp = bps[i];
        ptrs[i] = &s[i];
    }
    Concerto__Funding__V1__SetProgramYearRequest req =
        CONCERTO__FUNDING__V1__SET_PROGRAM_YEAR_REQUEST__INIT;
    req.program_id = "imsdsl";
    req.fiscal_year = (char *)year;
    req.has_envelope_cents = 1;
    req.envelope_cents = envelope;
    req.n_shares = 3;
    req.shares = ptrs;
    req.n_schedule = n;
    req.schedule = plan;
    return expect(&req, status, field, text, &concerto__funding__v1__program_year__descriptor);
}

/* Fills `req` for imsdsl's year `year` with one share, all centraide's
 * (`s` and `ptr` hold it: they must outlive the request); the test sets
 * the rest. */
static inline void one_share_year(Concerto__Funding__V1__SetProgramYearRequest *req,
                                  const char *year, Concerto__Funding__V1__FunderShare *s,
                                  Concerto__Funding__V1__FunderShare **ptr)
{
    concerto__funding__v1__funder_share__init(s);
    s->funder_id = "centraide";
    s->has_share_bp = 1;
    s->share_bp = 10000;
    *ptr = s;
    concerto__funding__v1__set_program_year_request__init(req);
    req->program_id = "imsdsl";
    req->fiscal_year = (char *)year;
    req->has_envelope_cents = 1;
    req->n_shares = 1;
    req->shares = ptr;
}

static inline Concerto__Funding__V1__ProgramYear *
set_year(const char *year, int64_t envelope, int status, const char *field, const char *text)
{
    return set_year_plan(year, envelope, NULL, 0, status, field, text);
}

/* Funders, the program, and its year 2025-2026 with `envelope`. */
static inline void program(int64_t envelope)
{
    funder("centraide");
    funder("drsp");
    funder("ville");
    Concerto__Funding__V1__Program p = CONCERTO__FUNDING__V1__PROGRAM__INIT;
    p.id = "imsdsl";
    p.name = "IMSDSL";
    p.has_core = p.core = 1;
    Concerto__Funding__V1__RegisterProgramRequest req =
        CONCERTO__FUNDING__V1__REGISTER_PROGRAM_REQUEST__INIT;
    req.program = &p;
    expect(&req, STATUS_OK, NULL, NULL, NULL);
    drop(set_year("2025-2026", envelope, STATUS_OK, NULL, NULL));
}

static inline Concerto__Funding__V1__EligibilityDecision *decide(const char *table_id,
                                                                 const char *year, int status)
{
    Concerto__Funding__V1__DecideEligibilityRequest req =
        CONCERTO__FUNDING__V1__DECIDE_ELIGIBILITY_REQUEST__INIT;
    req.program_id = "imsdsl";
    req.fiscal_year = (char *)year;
    req.table_id = (char *)table_id;
    return expect(&req, status, NULL, NULL,
                  &concerto__funding__v1__eligibility_decision__descriptor);
}

static inline Concerto__Funding__V1__Allocation *propose(const char *table_id, const char *year,
                                                         int64_t amount, int status,
                                                         const char *field, const char *text)
{
    Concerto__Funding__V1__ProposeAllocationRequest req =
        CONCERTO__FUNDING__V1__PROPOSE_ALLOCATION_REQUEST__INIT;
    req.program_id = "imsdsl";
    req.fiscal_year = (char *)year;
    req.table_id = (char *)table_id;
    req.has_amount_cents = amount != 0;
    req.amount_cents = amount;
    return expect(&req, status, field, text, &concerto__funding__v1__allocation__descriptor);
}

static inline Concerto__Funding__V1__Allocation *approve(uint64_t id, int status, const char *text)
{
    Concerto__Funding__V1__ApproveAllocationRequest req =
        CONCERTO__FUNDING__V1__APPROVE_ALLOCATION_REQUEST__INIT;
    req.has_id = 1;
    req.id = id;
    return expect(&req, status, text ? "id" : NULL, text,
                  &concerto__funding__v1__allocation__descriptor);
}

/* Suspend, resume or close (by `desc`). */
static inline Concerto__Funding__V1__Allocation *change(const ProtobufCMessageDescriptor *desc,
                                                        uint64_t id, int status, const char *text)
{
    /* The three requests are {id, reason}. */
    Concerto__Funding__V1__SuspendAllocationRequest req =
        CONCERTO__FUNDING__V1__SUSPEND_ALLOCATION_REQUEST__INIT;
    req.base.descriptor = desc;
    req.has_id = 1;
    req.id = id;
    req.reason = "as decided by the steering committee";
    return expect(&req, status, text ? "id" : NULL, text,
                  &concerto__funding__v1__allocation__descriptor);
}

static inline Concerto__Funding__V1__Allocation *
amend(uint64_t id, int64_t amount, int role, int status, const char *field, const char *text)
{
    Concerto__Funding__V1__AmendAllocationRequest req =
        CONCERTO__FUNDING__V1__AMEND_ALLOCATION_REQUEST__INIT;
    req.has_id = req.has_amount_cents = 1;
    req.id = id;
    req.amount_cents = amount;
    req.reason = "the steering committee's decision of 2025-06-12";
    return expect_as(&req.base, role, status, field, text,
                     &concerto__funding__v1__allocation__descriptor);
}

static inline int64_t part_sum(const Concerto__Funding__V1__Allocation *a)
{
    int64_t sum = 0;
    for (size_t i = 0; i < a->n_parts; i++)
        sum += a->parts[i]->amount_cents;
    return sum;
}

static inline const Concerto__Funding__V1__Criterion *
criterion(const Concerto__Funding__V1__EligibilityDecision *d, const char *code)
{
    for (size_t i = 0; i < d->n_criteria; i++)
        if (strcmp(d->criteria[i]->code, code) == 0)
            return d->criteria[i];
    fail_msg("no criterion %s", code);
    return NULL;
}

#endif
