/* toolkit_fixture: a runtime without sockets whose one handler (for
 * concerto.test.v1.AllKinds) runs the test's scenario inside a real call,
 * so that ctx, field and import are tested as handlers use them. */
#ifndef CONCERTO_TEST_TOOLKIT_FIXTURE_H
#define CONCERTO_TEST_TOOLKIT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/jsonmap.pb-c.h"
#include "ctx.h"
#include "log.h"

/* What the handler runs; it answers with ctx_finish(ctx, NULL) unless the
 * scenario answered itself (returns non-zero). */
typedef int (*scenario_fn)(ctx_t *ctx);

typedef struct {
    store_t *store;
    service_t *svc;
} fixture_t;

static scenario_fn fixture_scenario;
/* Set by a test: the next request says its client names fields in JSON. */
static int fixture_json_names;

static inline int fixture_handle(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    ctx_t ctx;
    ctx_init(&ctx, call);
    int answered = fixture_scenario(&ctx);
    return answered ? answered : ctx_finish(&ctx, NULL);
}

static inline int fixture_setup(void **state, const char *schema)
{
    log_set_level(LOG_ERROR);
    fixture_t *f = calloc(1, sizeof *f);
    char err[256];
    store_options_t opt = {":memory:", NULL, 0};
    store_migration_t m = {schema};
    f->store = store_open(&opt, &m, 1, err, sizeof err);
    assert_non_null(f->store);
    f->svc = service_new_for_test("unit", f->store);
    static const service_handler_spec_t handlers[] = {
        {&concerto__test__v1__all_kinds__descriptor, SERVICE_COMMAND, fixture_handle, NULL},
    };
    assert_int_equal(service_handle(f->svc, handlers, 1, NULL), 0);
    *state = f;
    return 0;
}

static inline int fixture_teardown(void **state)
{
    fixture_t *f = *state;
    service_destroy(&f->svc);
    store_destroy(&f->store);
    free(f);
    return 0;
}

/* Runs `scenario` as a command from actor "operator:alice"; returns the
 * Reply (caller frees). */
static inline Concerto__Common__V1__Reply *fixture_run(fixture_t *f, scenario_fn scenario)
{
    fixture_scenario = scenario;
    Concerto__Test__V1__AllKinds req = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    size_t plen = 0, len = 0, rlen = 0;
    uint8_t *payload = message_pack(&req.base, &plen);
    uint8_t id[16];
    envelope_t env;
    envelope_prepare(&env, id, "test", req.base.descriptor->name, payload, plen);
    env.actor = "operator:alice";
    env.has_json_names = env.json_names = fixture_json_names;
    fixture_json_names = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    uint8_t *out = service_dispatch_frame(f->svc, frame, len, &rlen);
    envelope_t *reply_env = NULL;
    assert_int_equal(envelope_decode(out, rlen, 1 << 20, &reply_env), ENVELOPE_OK);
    Concerto__Common__V1__Reply *r = NULL;
    assert_int_equal(envelope_unpack_payload(reply_env, &concerto__common__v1__reply__descriptor,
                                             (ProtobufCMessage **)&r),
                     ENVELOPE_OK);
    envelope_free(&reply_env);
    free(out);
    free(frame);
    free(payload);
    return r;
}

/* The description of the violation of `field`; fails the test when the
 * reply has none. */
static inline const char *fixture_violation(const Concerto__Common__V1__Reply *r, const char *field)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i]->field, field) == 0)
            return r->fields[i]->description;
    for (size_t i = 0; i < r->n_fields; i++)
        print_message("  %s: %s\n", r->fields[i]->field, r->fields[i]->description);
    fail_msg("no violation of %s (%s)", field, r->message ? r->message : "");
    return NULL;
}

static inline int64_t fixture_count(fixture_t *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->store), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

#endif
