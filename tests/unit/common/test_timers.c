/* Durable timers: the store (order, replacement, cancel, listing, keys,
 * persistence) and the runtime that fires them (once, with the command's
 * effects and events; refused actions dropped; failed ones retried). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "concerto/test/v1/delivery.pb-c.h"
#include "emit_fixture.h"
#include "concerto/test/v1/timers.pb-c.h"
#include "service_fixture.h"
#include "service_internal.h"
#include "timers.h"

static store_t *open_store(const char *path)
{
    return fixture_store(path, emit_schema, 1);
}

static Concerto__Test__V1__Emit emit_of(const char *payload)
{
    Concerto__Test__V1__Emit e = CONCERTO__TEST__V1__EMIT__INIT;
    e.has_payload = 1;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = strlen(payload);
    return e;
}

static void schedule(store_t *s, const char *key, int64_t due, const char *payload)
{
    Concerto__Test__V1__Emit e = emit_of(payload);
    assert_int_equal(timers_schedule(s, key, due, &e.base, "alice", 1, NULL), 0);
}

static void assert_keys(const timers_entry_t *e, int n, const char *const *keys)
{
    for (int i = 0; i < n; i++)
        assert_string_equal(e[i].key, keys[i]);
}

/* ------------------------------------------------------------- store */

static void test_due_timers_come_earliest_first_then_in_scheduling_order(void **state)
{
    (void)state;
    store_t *s = open_store(":memory:");
    schedule(s, "c", 300, "c");
    schedule(s, "b2", 100, "b2");
    schedule(s, "b1", 100, "b1");
    schedule(s, "later", 5000, "x");
    int64_t next = 0;
    assert_int_equal(timers_next_due(s, &next), 1);
    assert_int_equal(next, 100);
    timers_entry_t *due = NULL;
    int n = timers_read_due(s, 1000, 10, &due);
    assert_int_equal(n, 3);
    assert_keys(due, n, (const char *const[]){"b2", "b1", "c"});
    assert_string_equal(due[0].type, "concerto.test.v1.Emit");
    assert_string_equal(due[0].actor, "alice");
    Concerto__Test__V1__Emit *e =
        concerto__test__v1__emit__unpack(NULL, due[0].payload_len, due[0].payload);
    assert_memory_equal(e->payload.data, "b2", 2);
    concerto__test__v1__emit__free_unpacked(e, NULL);
    timers_entries_free(&due, (size_t)n);
    assert_null(due);
    /* At most `max`, and only those due. */
    assert_int_equal(timers_read_due(s, 1000, 2, &due), 2);
    timers_entries_free(&due, 2);
    assert_int_equal(timers_read_due(s, 99, 10, &due), 0);
    store_destroy(&s);
}

static void test_scheduling_a_key_again_replaces_it(void **state)
{
    (void)state;
    store_t *s = open_store(":memory:");
    Concerto__Test__V1__Emit e = emit_of("first");
    int64_t first = 0, second = 0;
    assert_int_equal(timers_schedule(s, "recognition:tqmn", 100, &e.base, NULL, 1, &first), 0);
    assert_int_equal(timers_schedule(s, "recognition:tqmn", 700, &e.base, NULL, 2, &second), 0);
    assert_true(second > first);
    assert_int_equal(fixture_count_in(s, "SELECT count(*) FROM timers"), 1);
    int64_t next = 0;
    assert_int_equal(timers_next_due(s, &next), 1);
    assert_int_equal(next, 700);
    store_destroy(&s);
}

static void test_cancel_says_whether_one_was_pending(void **state)
{
    (void)state;
    store_t *s = open_store(":memory:");
    schedule(s, "k", 100, "x");
    assert_int_equal(timers_cancel(s, "k"), 1);
    assert_int_equal(timers_cancel(s, "k"), 0);
    assert_int_equal(timers_cancel(s, "never"), 0);
    int64_t next = 0;
    assert_int_equal(timers_next_due(s, &next), 0);
    store_destroy(&s);
}

static void test_list_by_key_prefix_earliest_first(void **state)
{
    (void)state;
    store_t *s = open_store(":memory:");
    schedule(s, "recognition:tqsm", 900, "x");
    schedule(s, "decision:2026-1", 50, "x");
    schedule(s, "recognition:tqmn", 400, "x");
    schedule(s, "recognition", 10, "x");
    timers_entry_t *e = NULL;
    int n = timers_list(s, "recognition:", 10, &e);
    assert_int_equal(n, 2);
    assert_keys(e, n, (const char *const[]){"recognition:tqmn", "recognition:tqsm"});
    assert_int_equal(e[0].due_ms, 400);
    timers_entries_free(&e, (size_t)n);
    n = timers_list(s, "", 10, &e);
    assert_int_equal(n, 4);
    timers_entries_free(&e, (size_t)n);
    assert_int_equal(timers_list(s, "%", 10, &e), 0);
    store_destroy(&s);
}

static void test_empty_or_long_key_is_refused(void **state)
{
    (void)state;
    store_t *s = open_store(":memory:");
    Concerto__Test__V1__Emit e = emit_of("x");
    char long_key[TIMERS_MAX_KEY + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    assert_int_equal(timers_schedule(s, "", 1, &e.base, NULL, 1, NULL), -1);
    assert_int_equal(timers_schedule(s, long_key, 1, &e.base, NULL, 1, NULL), -1);
    long_key[TIMERS_MAX_KEY] = '\0';
    assert_int_equal(timers_schedule(s, long_key, 1, &e.base, NULL, 1, NULL), 0);
    store_destroy(&s);
}

static void test_timers_outlive_the_process(void **state)
{
    (void)state;
    char path[] = "/tmp/test_timers_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    store_t *s = open_store(path);
    assert_int_equal(store_begin(s), SQLITE_OK);
    schedule(s, "kept", 100, "x");
    assert_int_equal(store_commit(s), SQLITE_OK);
    assert_int_equal(store_begin(s), SQLITE_OK);
    schedule(s, "rolled-back", 50, "x");
    assert_int_equal(store_rollback(s), SQLITE_OK);
    store_destroy(&s);
    s = open_store(path);
    timers_entry_t *e = NULL;
    assert_int_equal(timers_list(s, "", 10, &e), 1);
    assert_string_equal(e[0].key, "kept");
    timers_entries_free(&e, 1);
    store_destroy(&s);
    char wal[64];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
}

/* ----------------------------------------------------------- runtime */

static int emit_calls;
static int emit_fails_internal;

/* Emit: writes a row and an event. "fail" is refused; "internal" fails as
 * a database error would, while emit_fails_internal is set. */
static int handle_emit(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__Emit *e = (const void *)msg;
    emit_calls++;
    emit_write(call, e);
    if (e->payload.len == 4 && memcmp(e->payload.data, "fail", 4) == 0)
        return service_call_fail(call, STATUS_FAILED_PRECONDITION, "refused");
    if (emit_fails_internal && e->payload.len == 8 && memcmp(e->payload.data, "internal", 8) == 0)
        return service_call_fail(call, STATUS_INTERNAL, "database error");
    return service_call_reply(call, NULL);
}

/* ScheduleEmit: schedules; a key starting with "fail" is scheduled and
 * then the command fails, which must take the timer with it. */
static int handle_schedule(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__ScheduleEmit *req = (const void *)msg;
    if (service_call_schedule(call, req->key, req->due_ms, &req->emit->base) != 0)
        return service_call_fail(call, STATUS_INTERNAL, "cannot schedule");
    if (strncmp(req->key, "fail", 4) == 0)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "refused after scheduling");
    return service_call_reply(call, NULL);
}

/* ScheduleEmit of a ListTimers query instead: not a command. */
static int handle_schedule_query(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    Concerto__Test__V1__ListTimers q = CONCERTO__TEST__V1__LIST_TIMERS__INIT;
    Concerto__Test__V1__CancelTimer unknown = CONCERTO__TEST__V1__CANCEL_TIMER__INIT;
    assert_int_equal(service_call_schedule(call, "query", 1, &q.base), -1);
    assert_int_equal(service_call_schedule(call, "unknown", 1, &unknown.base), -1);
    return service_call_reply(call, NULL);
}

static int handle_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    return service_call_reply(call, NULL);
}

static int setup(void **state)
{
    static const service_handler_spec_t handlers[] = {
        {&concerto__test__v1__emit__descriptor, SERVICE_COMMAND, handle_emit, NULL},
        {&concerto__test__v1__schedule_emit__descriptor, SERVICE_COMMAND, handle_schedule, NULL},
        {&concerto__test__v1__list_timers__descriptor, SERVICE_QUERY, handle_list, NULL},
        {&concerto__test__v1__clock_request__descriptor, SERVICE_COMMAND, handle_schedule_query,
         NULL},
    };
    *state = fixture_new("unit", emit_schema, 1, handlers, sizeof handlers / sizeof handlers[0]);
    emit_calls = 0;
    emit_fails_internal = 0;
    return 0;
}

static int submit(fixture_t *f, const char *key, int64_t due_ms, const char *payload)
{
    Concerto__Test__V1__Emit e = emit_of(payload);
    Concerto__Test__V1__ScheduleEmit req = CONCERTO__TEST__V1__SCHEDULE_EMIT__INIT;
    req.key = (char *)key;
    req.has_due_ms = 1;
    req.due_ms = due_ms;
    req.emit = &e;
    Concerto__Common__V1__Reply *r = service_submit(f->svc, &req.base, "alice");
    assert_non_null(r);
    int status = r->status;
    concerto__common__v1__reply__free_unpacked(r, NULL);
    return status;
}

static void test_timer_fires_once_with_its_effects_and_events(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(submit(f, "k", clock_now_ms() - 10, "hello"), STATUS_OK);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM timers"), 1);
    assert_int_equal(emit_calls, 0);
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 1);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM timers"), 0);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 1);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM outbox WHERE actor = 'alice'"), 1);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM idempotency WHERE key = 'timer/1'"), 1);
    assert_int_equal(service_timers_wait_ms(f->svc), INT64_MAX);
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 1);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 1);
}

static void test_timer_not_yet_due_waits(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(submit(f, "k", clock_now_ms() + 3600 * 1000, "later"), STATUS_OK);
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 0);
    int64_t wait = service_timers_wait_ms(f->svc);
    assert_true(wait > 3500 * 1000 && wait <= 3600 * 1000);
}

static void test_due_timers_run_in_order(void **state)
{
    fixture_t *f = *state;
    int64_t now = clock_now_ms();
    assert_int_equal(submit(f, "c", now - 10, "c"), STATUS_OK);
    assert_int_equal(submit(f, "a", now - 30, "a"), STATUS_OK);
    assert_int_equal(submit(f, "b", now - 20, "b"), STATUS_OK);
    service_timers_fire_due(f->svc);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(f->store), "SELECT payload FROM t ORDER BY rowid", -1, &st, NULL);
    const char *want[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_memory_equal(sqlite3_column_blob(st, 0), want[i], 1);
    }
    sqlite3_finalize(st);
}

static void test_timer_of_a_failed_command_does_not_exist(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(submit(f, "fail-1", clock_now_ms() - 10, "x"), STATUS_INVALID_ARGUMENT);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM timers"), 0);
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 0);
}

static void test_refused_action_is_dropped_with_nothing_kept(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(submit(f, "k", clock_now_ms() - 10, "fail"), STATUS_OK);
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 1);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM timers"), 0);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM t"), 0);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM outbox"), 0);
}

static void test_failed_action_stays_and_runs_after_the_retry_delay(void **state)
{
    fixture_t *f = *state;
    emit_fails_internal = 1;
    assert_int_equal(submit(f, "k", clock_now_ms() - 10, "internal"), STATUS_OK);
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 1);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM timers"), 1);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM outbox"), 0);
    /* Not again at once: the loop would spin. */
    assert_true(service_timers_wait_ms(f->svc) > 0);
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 1);
    /* Once the delay is over, and the database works, it runs. */
    emit_fails_internal = 0;
    f->svc->timers_retry_ms = 0;
    service_timers_fire_due(f->svc);
    assert_int_equal(emit_calls, 2);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM timers"), 0);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM outbox"), 1);
}

static void test_only_commands_of_this_service_can_be_scheduled(void **state)
{
    fixture_t *f = *state;
    Concerto__Test__V1__ClockRequest q = CONCERTO__TEST__V1__CLOCK_REQUEST__INIT;
    Concerto__Common__V1__Reply *r = service_submit(f->svc, &q.base, NULL);
    assert_int_equal(r->status, STATUS_OK);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    assert_int_equal(fixture_count(f, "SELECT count(*) FROM timers"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_timers_come_earliest_first_then_in_scheduling_order),
        cmocka_unit_test(test_scheduling_a_key_again_replaces_it),
        cmocka_unit_test(test_cancel_says_whether_one_was_pending),
        cmocka_unit_test(test_list_by_key_prefix_earliest_first),
        cmocka_unit_test(test_empty_or_long_key_is_refused),
        cmocka_unit_test(test_timers_outlive_the_process),
        cmocka_unit_test_setup_teardown(test_timer_fires_once_with_its_effects_and_events, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_timer_not_yet_due_waits, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_due_timers_run_in_order, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_timer_of_a_failed_command_does_not_exist, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refused_action_is_dropped_with_nothing_kept, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_action_stays_and_runs_after_the_retry_delay,
                                        setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_only_commands_of_this_service_can_be_scheduled, setup,
                                        fixture_teardown),
    };
    log_set_level(LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
