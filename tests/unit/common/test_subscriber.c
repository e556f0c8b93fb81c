/* subscriber: the delivery protocol without sockets, its inputs fed by
 * hand: live events applied in the transaction that moves the cursor,
 * duplicates ignored, a gap asks for a replay, replay pages applied until
 * caught up, a page that moves nothing waits for its deadline, pruned
 * history skipped, refused events passed, failed effects retried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/delivery.pb-c.h"
#include "log.h"
#include "status.h"
#include "subscriber.h"
#include "uuid.h"

static const store_migration_t schema[] = {{"CREATE TABLE applied(seq INTEGER NOT NULL)"}};

typedef struct {
    store_t *store;
    subscriber_t *sub;
    int64_t now;
    int published, dropped;
    /* What the handler answers for the event of this sequence. */
    uint64_t refuse_seq, fail_seq;
} fixture_t;

static fixture_t *F;

static int64_t fake_now(void)
{
    return F->now;
}

/* The effect of an event: one row with its sequence. */
static int apply_event(void *owner, const char *source, const envelope_t *env, char *why,
                       size_t whylen)
{
    fixture_t *f = owner;
    assert_string_equal(source, "testpub");
    sqlite3_stmt *st = store_stmt(f->store, "INSERT INTO applied(seq) VALUES(?)");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)env->sequence);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || env->sequence == f->fail_seq)
        return STATUS_INTERNAL;
    if (env->sequence == f->refuse_seq) {
        snprintf(why, whylen, "not for me");
        return STATUS_INVALID_ARGUMENT;
    }
    return STATUS_OK;
}

static void publish(void *owner, int committed)
{
    fixture_t *f = owner;
    if (committed)
        f->published++;
    else
        f->dropped++;
}

static int setup(void **state)
{
    log_set_level(LOG_ERROR);
    fixture_t *f = F = calloc(1, sizeof *f);
    char err[256];
    store_options_t opt = {":memory:", NULL, 0};
    f->store = store_open(&opt, schema, 1, err, sizeof err);
    assert_non_null(f->store);
    f->now = 1000000;
    subscriber_ctx_t ctx = {f->store, "unit", NULL, {0}, apply_event, publish, fake_now, f};
    transport_options_default(&ctx.topt);
    f->sub = subscriber_new(&ctx, "testpub", "inproc://unused-router", "inproc://unused-pub");
    /* Without sockets the first replay request cannot leave: it is
     * pending, to be sent again soon. */
    assert_int_equal(subscriber_start(f->sub), 0);
    int64_t deadline = 0;
    assert_true(subscriber_replay_pending(f->sub, &deadline));
    assert_int_equal(deadline, f->now + SUBSCRIBER_RETRY_MS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    subscriber_destroy(&f->sub);
    store_destroy(&f->store);
    free(f);
    return 0;
}

static envelope_t *event(uint64_t seq)
{
    envelope_t *env = calloc(1, sizeof *env);
    concerto__common__v1__envelope__init(env);
    env->has_id = 1;
    env->id.len = UUID_LEN;
    env->id.data = calloc(1, UUID_LEN);
    env->id.data[6] = 0x70;
    env->source = strdup("testpub");
    env->type = strdup("concerto.test.v1.Ping");
    env->has_sequence = 1;
    env->sequence = seq;
    return env;
}

static void free_events(envelope_t **events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        envelope_free(&events[i]);
}

/* A replay page answering "after the cursor": events first..last (none
 * when first > last) and the source's head. */
static void page(fixture_t *f, uint64_t first, uint64_t last, uint64_t head)
{
    Concerto__Common__V1__ReplayPage p = CONCERTO__COMMON__V1__REPLAY_PAGE__INIT;
    envelope_t *events[16];
    size_t n = 0;
    for (uint64_t s = first; s <= last; s++)
        events[n++] = event(s);
    p.n_events = n;
    p.events = events;
    p.has_head_sequence = 1;
    p.head_sequence = head;
    Concerto__Common__V1__Reply reply = CONCERTO__COMMON__V1__REPLY__INIT;
    reply.has_status = 1;
    reply.status = CONCERTO__COMMON__V1__STATUS__OK;
    reply.result_type = (char *)concerto__common__v1__replay_page__descriptor.name;
    reply.has_result = 1;
    reply.result.data = message_pack(&p.base, &reply.result.len);
    subscriber_on_page(f->sub, &reply);
    free(reply.result.data);
    free_events(events, n);
}

static void live(fixture_t *f, const uint64_t *seqs, size_t n)
{
    envelope_t *events[16];
    for (size_t i = 0; i < n; i++)
        events[i] = event(seqs[i]);
    subscriber_on_live(f->sub, events, n);
    free_events(events, n);
}

static int64_t count(fixture_t *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(f->store), sql, -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The cursor row and the effects: they move together or not at all. */
static void assert_at(fixture_t *f, uint64_t cursor, int64_t effects)
{
    assert_int_equal(subscriber_applied(f->sub), cursor);
    assert_int_equal(count(f, "SELECT coalesce(max(applied_seq), 0) FROM cursors"), cursor);
    assert_int_equal(count(f, "SELECT count(*) FROM applied"), effects);
}

static void test_replay_pages_apply_until_caught_up(void **state)
{
    fixture_t *f = *state;
    page(f, 1, 3, 5);
    assert_at(f, 3, 3);
    /* Behind the head: it asks again at once. */
    assert_true(subscriber_replay_pending(f->sub, NULL));
    page(f, 4, 5, 5);
    assert_at(f, 5, 5);
    assert_int_equal(f->published, 2);
}

static void test_live_events_apply_with_the_cursor_and_duplicates_are_ignored(void **state)
{
    fixture_t *f = *state;
    page(f, 1, 2, 2); /* caught up: no replay pending */
    assert_false(subscriber_replay_pending(f->sub, NULL));
    const uint64_t seqs[] = {2, 3, 4};
    live(f, seqs, 3);
    assert_at(f, 4, 4);
    live(f, seqs, 3);
    assert_at(f, 4, 4);
    assert_false(subscriber_replay_pending(f->sub, NULL));
}

static void test_a_gap_applies_what_follows_and_asks_for_the_rest(void **state)
{
    fixture_t *f = *state;
    page(f, 1, 1, 1);
    const uint64_t seqs[] = {2, 3, 5};
    live(f, seqs, 3);
    assert_at(f, 3, 3);
    assert_true(subscriber_replay_pending(f->sub, NULL));
    /* While the replay is under way, live events wait for the pages. */
    const uint64_t later[] = {4};
    live(f, later, 1);
    assert_at(f, 3, 3);
    page(f, 4, 5, 5);
    assert_at(f, 5, 5);
}

static void test_a_heartbeat_ahead_asks_for_a_replay(void **state)
{
    fixture_t *f = *state;
    page(f, 1, 2, 2);
    subscriber_on_heartbeat(f->sub, 2);
    assert_false(subscriber_replay_pending(f->sub, NULL));
    subscriber_on_heartbeat(f->sub, 7);
    assert_true(subscriber_replay_pending(f->sub, NULL));
    assert_int_equal(subscriber_source_head(f->sub), 7);
}

static void test_a_failed_effect_moves_nothing_and_the_page_waits_for_its_deadline(void **state)
{
    fixture_t *f = *state;
    f->fail_seq = 2;
    page(f, 1, 3, 3);
    /* The whole page rolled back: no cursor, no effect, nothing published. */
    assert_at(f, 0, 0);
    assert_int_equal(f->dropped, 1);
    assert_int_equal(f->published, 0);
    /* No spin: the request waits for its deadline... */
    int64_t deadline = 0;
    assert_true(subscriber_replay_pending(f->sub, &deadline));
    assert_int_equal(deadline, f->now + SUBSCRIBER_REPLAY_TIMEOUT_MS);
    f->now += SUBSCRIBER_REPLAY_TIMEOUT_MS - 1;
    subscriber_tick(f->sub, f->now);
    assert_true(subscriber_replay_pending(f->sub, &deadline));
    assert_int_equal(deadline, f->now + 1);
    /* ...then is sent again, and the retried page applies. */
    f->now += 1;
    subscriber_tick(f->sub, f->now);
    assert_true(subscriber_replay_pending(f->sub, &deadline));
    assert_int_equal(deadline, f->now + SUBSCRIBER_RETRY_MS);
    f->fail_seq = 0;
    page(f, 1, 3, 3);
    assert_at(f, 3, 3);
}

static void test_a_refused_event_is_passed_without_its_writes(void **state)
{
    fixture_t *f = *state;
    f->refuse_seq = 2;
    page(f, 1, 3, 3);
    /* The cursor moves past it; its own write went with its savepoint. */
    assert_at(f, 3, 2);
    assert_int_equal(count(f, "SELECT count(*) FROM applied WHERE seq = 2"), 0);
}

static void test_pruned_history_is_skipped(void **state)
{
    fixture_t *f = *state;
    /* The oldest event the source keeps is 4: 1 to 3 were pruned. */
    page(f, 4, 5, 5);
    assert_at(f, 5, 2);
    /* Everything after the cursor pruned: an empty page below the head. */
    page(f, 1, 0, 9);
    assert_at(f, 9, 2);
    assert_false(subscriber_replay_pending(f->sub, NULL));
}

static void test_a_refused_replay_is_retried_at_its_deadline(void **state)
{
    fixture_t *f = *state;
    Concerto__Common__V1__Reply reply = CONCERTO__COMMON__V1__REPLY__INIT;
    reply.has_status = 1;
    reply.status = CONCERTO__COMMON__V1__STATUS__UNAVAILABLE;
    reply.message = "database busy; retry";
    subscriber_on_page(f->sub, &reply);
    assert_at(f, 0, 0);
    assert_true(subscriber_replay_pending(f->sub, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_pages_apply_until_caught_up, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_live_events_apply_with_the_cursor_and_duplicates_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_gap_applies_what_follows_and_asks_for_the_rest,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_heartbeat_ahead_asks_for_a_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_failed_effect_moves_nothing_and_the_page_waits_for_its_deadline, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_event_is_passed_without_its_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pruned_history_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_replay_is_retried_at_its_deadline, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
