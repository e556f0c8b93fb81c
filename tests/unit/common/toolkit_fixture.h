/* toolkit_fixture: a runtime without sockets whose one handler (for
 * concerto.test.v1.AllKinds) runs the test's scenario inside a real call,
 * so that ctx, field and import are tested as handlers use them. */
#ifndef CONCERTO_TEST_TOOLKIT_FIXTURE_H
#define CONCERTO_TEST_TOOLKIT_FIXTURE_H

#include "concerto/test/v1/jsonmap.pb-c.h"
#include "ctx.h"
#include "service_fixture.h"

/* What the handler runs; it answers with ctx_finish(ctx, NULL) unless the
 * scenario answered itself (returns non-zero). */
typedef int (*scenario_fn)(ctx_t *ctx);

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
    store_migration_t m = {schema};
    static const service_handler_spec_t handlers[] = {
        {&concerto__test__v1__all_kinds__descriptor, SERVICE_COMMAND, fixture_handle, NULL},
    };
    *state = fixture_new("unit", &m, 1, handlers, 1);
    return 0;
}

/* Runs `scenario` as a command from actor "operator:alice"; returns the
 * Reply (caller frees). */
static inline Concerto__Common__V1__Reply *fixture_run(fixture_t *f, scenario_fn scenario)
{
    fixture_scenario = scenario;
    Concerto__Test__V1__AllKinds req = CONCERTO__TEST__V1__ALL_KINDS__INIT;
    fixture_request_t r;
    envelope_t *env = fixture_request(&r, "test", &req.base);
    env->actor = "operator:alice";
    env->has_json_names = env->json_names = fixture_json_names;
    fixture_json_names = 0;
    return fixture_run_request(f, &r, 1 << 20);
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

#endif
