/* Outbox: sequence numbering, replay reads, pruning bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "outbox.h"

static store_t *open_memory(void)
{
    char err[256];
    store_options_t opt = {":memory:", NULL, 0};
    log_set_level(LOG_ERROR);
    return store_open(&opt, NULL, 0, err, sizeof err);
}

static void append(store_t *s, const char *subject, int n)
{
    Concerto__Common__V1__StatusRequest ev = CONCERTO__COMMON__V1__STATUS_REQUEST__INIT;
    assert_int_equal(store_begin(s), 0);
    for (int i = 0; i < n; i++) {
        outbox_event_t out;
        assert_int_equal(outbox_append(s, "unit", "alice", subject, &ev.base, &out), 0);
        outbox_event_clear(&out);
    }
    assert_int_equal(store_commit(s), 0);
}

typedef struct {
    uint64_t seqs[128];
    int n;
} seen_t;

static int collect(uint64_t seq, const uint8_t *frame, size_t len, void *arg)
{
    seen_t *seen = arg;
    envelope_t *env = NULL;
    assert_int_equal(envelope_decode(frame, len, 1 << 20, &env), ENVELOPE_OK);
    assert_int_equal(env->sequence, seq);
    assert_string_equal(env->actor, "alice");
    assert_string_equal(env->source, "unit");
    envelope_free(&env);
    seen->seqs[seen->n++] = seq;
    return 0;
}

static void test_append_numbers_events_and_packs_sequence_inside(void **state)
{
    (void)state;
    store_t *s = open_memory();
    append(s, "table:a", 3);
    assert_int_equal(outbox_head(s), 3);
    seen_t seen = {0};
    assert_int_equal(outbox_read_after(s, 1, 10, SIZE_MAX, collect, &seen), 2);
    assert_int_equal(seen.seqs[0], 2);
    assert_int_equal(seen.seqs[1], 3);
    store_destroy(&s);
}

static void test_read_after_respects_count_and_byte_budget(void **state)
{
    (void)state;
    store_t *s = open_memory();
    append(s, NULL, 10);
    seen_t seen = {0};
    assert_int_equal(outbox_read_after(s, 0, 4, SIZE_MAX, collect, &seen), 4);
    seen.n = 0;
    /* a budget smaller than one event still yields one, so replay advances */
    assert_int_equal(outbox_read_after(s, 0, 100, 1, collect, &seen), 1);
    store_destroy(&s);
}

static void test_subject_reads_only_that_entity(void **state)
{
    (void)state;
    store_t *s = open_memory();
    append(s, "table:a", 2);
    append(s, "table:b", 1);
    append(s, "table:a", 1);
    seen_t seen = {0};
    assert_int_equal(outbox_read_subject(s, "table:a", 0, 10, collect, &seen), 3);
    assert_int_equal(seen.seqs[2], 4);
    store_destroy(&s);
}

static void test_prune_stops_at_slowest_subscriber_and_head_survives(void **state)
{
    (void)state;
    store_t *s = open_memory();
    append(s, NULL, 10);
    assert_int_equal(outbox_record_ack(s, "fast", 9, 1), 0);
    assert_int_equal(outbox_record_ack(s, "slow", 4, 1), 0);
    assert_int_equal(outbox_record_ack(s, "slow", 2, 2), 0); /* never moves back */
    uint64_t to = 0, deleted = 0;
    assert_int_equal(outbox_prune(s, 100, &to, &deleted), 0);
    assert_int_equal(to, 4);
    assert_int_equal(deleted, 4);
    assert_int_equal(outbox_record_ack(s, "slow", 10, 3), 0);
    assert_int_equal(outbox_prune(s, 100, &to, &deleted), 0);
    assert_int_equal(to, 9);
    assert_int_equal(outbox_record_ack(s, "fast", 10, 3), 0);
    assert_int_equal(outbox_prune(s, 100, &to, &deleted), 0);
    assert_int_equal(outbox_head(s), 10);
    append(s, NULL, 1);
    assert_int_equal(outbox_head(s), 11); /* numbers are never reused */
    store_destroy(&s);
}

/* Interrupts SQLite once `*budget` progress callbacks have run out, as an
 * I/O error or corruption met mid-read would end the read. */
static int interrupt_after(void *arg)
{
    int *budget = arg;
    return --*budget <= 0;
}

static void test_read_error_midway_is_an_error_not_a_short_page(void **state)
{
    (void)state;
    store_t *s = open_memory();
    append(s, "table:a", 50);
    seen_t seen = {0};
    int budget = 200;
    sqlite3_progress_handler(store_db(s), 1, interrupt_after, &budget);
    assert_int_equal(outbox_read_after(s, 0, 50, SIZE_MAX, collect, &seen), -1);
    assert_true(seen.n > 0 && seen.n < 50);
    seen.n = 0;
    budget = 200;
    assert_int_equal(outbox_read_subject(s, "table:a", 0, 50, collect, &seen), -1);
    sqlite3_progress_handler(store_db(s), 0, NULL, NULL);
    seen.n = 0;
    assert_int_equal(outbox_read_after(s, 0, 50, SIZE_MAX, collect, &seen), 50);
    store_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_numbers_events_and_packs_sequence_inside),
        cmocka_unit_test(test_read_after_respects_count_and_byte_budget),
        cmocka_unit_test(test_subject_reads_only_that_entity),
        cmocka_unit_test(test_prune_stops_at_slowest_subscriber_and_head_survives),
        cmocka_unit_test(test_read_error_midway_is_an_error_not_a_short_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
