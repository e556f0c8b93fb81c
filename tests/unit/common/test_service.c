/* Service dispatch without sockets: idempotency, rollback of failed
 * handlers and their events, error replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/delivery.pb-c.h"
#include "emit_fixture.h"
#include "outbox.h"
#include "service_fixture.h"

/* The largest reply a test here accepts. */
#define REPLY_MAX (1 << 20)

/* Emit: writes a row and an event; a payload "fail" writes, emits and then
 * fails, which must leave no trace. */
static int handle_emit(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__Emit *e = (const void *)msg;
    emit_write(call, e);
    if (e->payload.len == 4 && memcmp(e->payload.data, "many", 4) == 0) {
        for (int i = 0; i < 250; i++)
            service_call_violation(call, "payload", "problem %d", i);
        assert_int_equal(service_call_violation_count(call), 250);
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "refused");
    }
    /* A handler that ends the runtime's savepoint itself makes the
     * runtime's RELEASE or ROLLBACK TO fail. */
    if (e->payload.len > 8 && memcmp(e->payload.data, "release-", 8) == 0) {
        assert_int_equal(store_exec(service_call_store(call), "RELEASE sp1"), 0);
        if (strncmp((const char *)e->payload.data, "release-then-fail", e->payload.len) == 0)
            return service_call_fail(call, STATUS_INVALID_ARGUMENT, "refused");
    }
    if (e->payload.len == 4 && memcmp(e->payload.data, "fail", 4) == 0) {
        service_call_violation(call, "payload", "must not be %s", "fail");
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "refused");
    }
    Concerto__Test__V1__Emitted res = CONCERTO__TEST__V1__EMITTED__INIT;
    res.has_sequence = 1;
    res.sequence = outbox_head(service_call_store(call));
    return service_call_reply(call, &res.base);
}

static int setup(void **state)
{
    static const service_handler_spec_t handlers[] = {
        {&concerto__test__v1__emit__descriptor, SERVICE_COMMAND, handle_emit, NULL},
    };
    *state = fixture_new("unit", emit_schema, 1, handlers, 1);
    return 0;
}

static uint8_t *frame_for(const char *payload, const uint8_t *id, const char *key, size_t *len)
{
    Concerto__Test__V1__Emit e = CONCERTO__TEST__V1__EMIT__INIT;
    e.has_payload = 1;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = strlen(payload);
    fixture_request_t r;
    envelope_t *env = fixture_request(&r, "test", &e.base);
    if (id)
        env->id.data = (uint8_t *)id;
    env->idempotency_key = (char *)key;
    return fixture_pack(&r, len);
}

/* No row, no event, no idempotency record. */
static void assert_nothing_kept(fixture_t *f)
{
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 0);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM idempotency"), 0);
}

static void test_same_command_twice_gives_same_reply_and_one_change(void **state)
{
    fixture_t *f = *state;
    uint8_t id[16] = {1, 2, 3, 4, 5, 6, 0x70, 8, 0x80, 10, 11, 12, 13, 14, 15, 16};
    size_t len = 0;
    uint8_t *frame = frame_for("hello", id, NULL, &len);
    Concerto__Common__V1__Reply *a = fixture_dispatch(f, frame, len, REPLY_MAX);
    Concerto__Common__V1__Reply *b = fixture_dispatch(f, frame, len, REPLY_MAX);
    assert_int_equal(a->status, STATUS_OK);
    assert_string_equal(a->result_type, "concerto.test.v1.Emitted");
    assert_int_equal(b->status, STATUS_OK);
    assert_int_equal(a->result.len, b->result.len);
    assert_memory_equal(a->result.data, b->result.data, a->result.len);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 1);
    assert_int_equal(outbox_head(f->store), 1);
    concerto__common__v1__reply__free_unpacked(a, NULL);
    concerto__common__v1__reply__free_unpacked(b, NULL);
    free(frame);
}

static void test_explicit_key_deduplicates_across_envelope_ids(void **state)
{
    fixture_t *f = *state;
    size_t len1 = 0, len2 = 0;
    uint8_t *one = frame_for("x", NULL, "partner/ville/evt-1", &len1);
    uint8_t *two = frame_for("x", NULL, "partner/ville/evt-1", &len2);
    Concerto__Common__V1__Reply *a = fixture_dispatch(f, one, len1, REPLY_MAX);
    Concerto__Common__V1__Reply *b = fixture_dispatch(f, two, len2, REPLY_MAX);
    assert_int_equal(a->status, STATUS_OK);
    assert_int_equal(b->status, STATUS_OK);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 1);
    concerto__common__v1__reply__free_unpacked(a, NULL);
    concerto__common__v1__reply__free_unpacked(b, NULL);
    free(one);
    free(two);
}

static void test_same_key_with_other_payload_is_conflict(void **state)
{
    fixture_t *f = *state;
    size_t len1 = 0, len2 = 0;
    uint8_t *one = frame_for("first", NULL, "k", &len1);
    uint8_t *two = frame_for("second", NULL, "k", &len2);
    Concerto__Common__V1__Reply *a = fixture_dispatch(f, one, len1, REPLY_MAX);
    Concerto__Common__V1__Reply *b = fixture_dispatch(f, two, len2, REPLY_MAX);
    assert_int_equal(a->status, STATUS_OK);
    assert_int_equal(b->status, STATUS_CONFLICT);
    assert_non_null(strstr(b->message, "different request"));
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 1);
    concerto__common__v1__reply__free_unpacked(a, NULL);
    concerto__common__v1__reply__free_unpacked(b, NULL);
    free(one);
    free(two);
}

static void test_failed_handler_leaves_no_row_no_event_no_key(void **state)
{
    fixture_t *f = *state;
    size_t len = 0;
    uint8_t *frame = frame_for("fail", NULL, NULL, &len);
    Concerto__Common__V1__Reply *r = fixture_dispatch(f, frame, len, REPLY_MAX);
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_string_equal(r->message, "refused");
    assert_int_equal(r->n_fields, 1);
    assert_string_equal(r->fields[0]->field, "payload");
    assert_string_equal(r->fields[0]->description, "must not be fail");
    assert_nothing_kept(f);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    free(frame);
}

static void test_violations_past_the_cap_are_counted_not_listed(void **state)
{
    fixture_t *f = *state;
    size_t len = 0;
    uint8_t *frame = frame_for("many", NULL, NULL, &len);
    Concerto__Common__V1__Reply *r = fixture_dispatch(f, frame, len, REPLY_MAX);
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_int_equal(r->n_fields, SERVICE_MAX_VIOLATIONS + 1);
    assert_string_equal(r->fields[0]->description, "problem 0");
    assert_string_equal(r->fields[SERVICE_MAX_VIOLATIONS - 1]->description, "problem 99");
    assert_string_equal(r->fields[SERVICE_MAX_VIOLATIONS]->field, "");
    assert_string_equal(r->fields[SERVICE_MAX_VIOLATIONS]->description,
                        "and 150 more problems, not listed");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    free(frame);
}

static void test_unknown_type_and_garbage_get_invalid_argument(void **state)
{
    fixture_t *f = *state;
    uint8_t id[16];
    envelope_t env;
    envelope_prepare(&env, id, "test", "concerto.nowhere.v1.Thing", NULL, 0);
    size_t len = 0;
    uint8_t *frame = envelope_pack(&env, &len);
    Concerto__Common__V1__Reply *r = fixture_dispatch(f, frame, len, REPLY_MAX);
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_string_equal(r->message, "unknown message type concerto.nowhere.v1.Thing");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    free(frame);
    r = fixture_dispatch(f, (const uint8_t *)"\x0a\x03" /* an id of 3 bytes */ "abc", 5, REPLY_MAX);
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    assert_string_equal(r->message, "envelope id missing or not 16 bytes");
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static int handle_stats(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    Concerto__Test__V1__StatsResult res = CONCERTO__TEST__V1__STATS_RESULT__INIT;
    res.has_applied = 1;
    res.applied = *(const uint64_t *)arg;
    return service_call_reply(call, &res.base);
}

/* Handlers come from a table: each type finds its own (among the
 * runtime's built-in ones), with the table's argument, and a type may
 * have one handler only. */
static void test_handler_table_dispatches_each_type_and_refuses_a_second(void **state)
{
    fixture_t *f = *state;
    static const uint64_t seven = 7;
    static const service_handler_spec_t more[] = {
        {&concerto__test__v1__stats__descriptor, SERVICE_QUERY, handle_stats, NULL},
    };
    assert_int_equal(service_handle(f->svc, more, 1, (void *)&seven), 0);
    assert_int_equal(service_handle(f->svc, more, 1, (void *)&seven), -1);
    static const service_handler_spec_t again[] = {
        {&concerto__test__v1__emit__descriptor, SERVICE_QUERY, handle_stats, NULL},
    };
    assert_int_equal(service_handle(f->svc, again, 1, NULL), -1);

    Concerto__Test__V1__Stats stats = CONCERTO__TEST__V1__STATS__INIT;
    fixture_request_t req;
    fixture_request(&req, "test", &stats.base);
    Concerto__Common__V1__Reply *r = fixture_run_request(f, &req, REPLY_MAX);
    assert_int_equal(r->status, STATUS_OK);
    assert_string_equal(r->result_type, "concerto.test.v1.StatsResult");
    Concerto__Test__V1__StatsResult *res =
        concerto__test__v1__stats_result__unpack(NULL, r->result.len, r->result.data);
    assert_int_equal(res->applied, 7);
    concerto__test__v1__stats_result__free_unpacked(res, NULL);
    concerto__common__v1__reply__free_unpacked(r, NULL);

    /* The emit handler is still the first one registered. */
    size_t len = 0;
    uint8_t *frame = frame_for("x", NULL, NULL, &len);
    r = fixture_dispatch(f, frame, len, REPLY_MAX);
    assert_int_equal(r->status, STATUS_OK);
    assert_string_equal(r->result_type, "concerto.test.v1.Emitted");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    free(frame);
}

static void test_status_request_reports_head(void **state)
{
    fixture_t *f = *state;
    size_t len = 0;
    uint8_t *frame = frame_for("a", NULL, NULL, &len);
    Concerto__Common__V1__Reply *r = fixture_dispatch(f, frame, len, REPLY_MAX);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    free(frame);
    uint8_t id[16];
    envelope_t env;
    envelope_prepare(&env, id, "test", "concerto.common.v1.StatusRequest", NULL, 0);
    frame = envelope_pack(&env, &len);
    r = fixture_dispatch(f, frame, len, REPLY_MAX);
    assert_int_equal(r->status, STATUS_OK);
    Concerto__Common__V1__Heartbeat *hb =
        concerto__common__v1__heartbeat__unpack(NULL, r->result.len, r->result.data);
    assert_string_equal(hb->service, "unit");
    assert_int_equal(hb->head_sequence, 1);
    concerto__common__v1__heartbeat__free_unpacked(hb, NULL);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    free(frame);
}

/* The runtime could not undo a failed command's writes: its batch must not
 * commit them. */
/* Dispatches an Emit with `payload` under a fresh envelope id. */
static Concerto__Common__V1__Reply *emit_payload(fixture_t *f, const char *payload)
{
    size_t len = 0;
    uint8_t *frame = frame_for(payload, NULL, NULL, &len);
    Concerto__Common__V1__Reply *r = fixture_dispatch(f, frame, len, REPLY_MAX);
    free(frame);
    return r;
}

static void test_failed_rollback_to_savepoint_fails_the_batch(void **state)
{
    fixture_t *f = *state;
    Concerto__Common__V1__Reply *r = emit_payload(f, "release-then-fail");
    assert_int_equal(r->status, STATUS_INTERNAL);
    assert_nothing_kept(f);
    assert_false(store_in_transaction(f->store));
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_failed_release_of_savepoint_fails_the_batch(void **state)
{
    fixture_t *f = *state;
    Concerto__Common__V1__Reply *r = emit_payload(f, "release-then-ok");
    assert_int_equal(r->status, STATUS_INTERNAL);
    assert_nothing_kept(f);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    /* The next command runs normally. */
    r = emit_payload(f, "after");
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 1);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static Concerto__Common__V1__Reply *dispatch_message(fixture_t *f, const ProtobufCMessage *msg)
{
    fixture_request_t r;
    fixture_request(&r, "test", msg);
    return fixture_run_request(f, &r, REPLY_MAX);
}

/* A cacheable query: the rows of t, counting how often it really runs. */
static int counted_runs;

static int handle_count_rows(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    counted_runs++;
    Concerto__Test__V1__StatsResult res = CONCERTO__TEST__V1__STATS_RESULT__INIT;
    res.has_applied = 1;
    sqlite3_stmt *st = store_stmt(service_call_store(call), "SELECT count(*) FROM t");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    res.applied = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return service_call_reply(call, &res.base);
}

/* The rows the cached query answers, asked as `name` with `role`. */
static uint64_t rows_seen(fixture_t *f, const char *name, Concerto__Common__V1__Role role)
{
    Concerto__Test__V1__Stats stats = CONCERTO__TEST__V1__STATS__INIT;
    Concerto__Common__V1__Caller caller = CONCERTO__COMMON__V1__CALLER__INIT;
    caller.has_role = 1;
    caller.role = role;
    caller.name = (char *)name;
    fixture_request_t req;
    fixture_request(&req, "test", &stats.base)->caller = &caller;
    Concerto__Common__V1__Reply *r = fixture_run_request(f, &req, REPLY_MAX);
    assert_int_equal(r->status, STATUS_OK);
    Concerto__Test__V1__StatsResult *res =
        concerto__test__v1__stats_result__unpack(NULL, r->result.len, r->result.data);
    uint64_t n = res->applied;
    concerto__test__v1__stats_result__free_unpacked(res, NULL);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    return n;
}

/* Asked again, a cacheable query is answered without running, until a
 * write, a rolled-back command or another caller. */
static void test_a_cached_query_runs_again_only_after_a_change(void **state)
{
    fixture_t *f = *state;
    static const service_handler_spec_t cached[] = {
        {&concerto__test__v1__stats__descriptor, SERVICE_QUERY_CACHED, handle_count_rows, NULL},
    };
    assert_int_equal(service_handle(f->svc, cached, 1, NULL), 0);
    counted_runs = 0;
    const Concerto__Common__V1__Role reader = CONCERTO__COMMON__V1__ROLE__ROLE_READER;
    assert_int_equal(rows_seen(f, "ann", reader), 0);
    assert_int_equal(rows_seen(f, "ann", reader), 0);
    assert_int_equal(counted_runs, 1);

    Concerto__Common__V1__Reply *r = emit_payload(f, "a");
    assert_int_equal(r->status, STATUS_OK);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    assert_int_equal(rows_seen(f, "ann", reader), 1);
    assert_int_equal(counted_runs, 2);

    /* Another caller may be shown another answer: its own entry. */
    assert_int_equal(rows_seen(f, "bob", reader), 1);
    assert_int_equal(counted_runs, 3);
    assert_int_equal(rows_seen(f, "ann", reader), 1);
    assert_int_equal(counted_runs, 3);

    /* A command that wrote and was rolled back: asked again, not served. */
    r = emit_payload(f, "fail");
    assert_int_equal(r->status, STATUS_INVALID_ARGUMENT);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    assert_int_equal(rows_seen(f, "ann", reader), 1);
    assert_int_equal(counted_runs, 4);

    /* With no cache, every ask runs. */
    service_set_reply_cache(f->svc, 0);
    assert_int_equal(rows_seen(f, "ann", reader), 1);
    assert_int_equal(rows_seen(f, "ann", reader), 1);
    assert_int_equal(counted_runs, 6);
}

/* A replay page whose asker cannot be recorded would let pruning delete
 * what that subscriber still needs: the replay fails instead. */
static void test_replay_fails_when_its_ack_cannot_be_recorded(void **state)
{
    fixture_t *f = *state;
    concerto__common__v1__reply__free_unpacked(emit_payload(f, "a"), NULL);
    assert_int_equal(store_exec(f->store, "DROP TABLE subscriber_acks"), 0);
    Concerto__Common__V1__ReplayRequest req = CONCERTO__COMMON__V1__REPLAY_REQUEST__INIT;
    req.subscriber = "sub";
    Concerto__Common__V1__Reply *r = dispatch_message(f, &req.base);
    assert_int_equal(r->status, STATUS_INTERNAL);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_command_twice_gives_same_reply_and_one_change,
                                        setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_explicit_key_deduplicates_across_envelope_ids, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_same_key_with_other_payload_is_conflict, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_handler_leaves_no_row_no_event_no_key, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_violations_past_the_cap_are_counted_not_listed, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_type_and_garbage_get_invalid_argument, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_status_request_reports_head, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_rollback_to_savepoint_fails_the_batch, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_release_of_savepoint_fails_the_batch, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_cached_query_runs_again_only_after_a_change, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_replay_fails_when_its_ack_cannot_be_recorded, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_handler_table_dispatches_each_type_and_refuses_a_second, setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
