/* service_fixture: a service without sockets on an in-memory store, as the
 * unit tests of the runtime and of a daemon's handlers drive it: made with
 * its handlers, fed packed request frames (service_dispatch_frame), its
 * Replies decoded, its tables counted. Header-only: each test executable
 * includes it once. */
#ifndef CONCERTO_TEST_SERVICE_FIXTURE_H
#define CONCERTO_TEST_SERVICE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "log.h"
#include "service.h"
#include "store.h"

typedef struct {
    store_t *store;
    service_t *svc;
} fixture_t;

/* The store at `path` (":memory:" for one of its own) migrated by `steps`;
 * the test fails when it cannot be opened. */
static inline store_t *fixture_store(const char *path, const store_migration_t *steps,
                                     size_t n_steps)
{
    char err[256];
    store_options_t opt = {path, NULL, 0};
    store_t *s = store_open(&opt, steps, n_steps, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    return s;
}

/* Service `name` on an in-memory store migrated by `steps`, answering with
 * `handlers` (none when NULL); only errors are logged. The caller frees it
 * with fixture_teardown. */
static inline fixture_t *fixture_new(const char *name, const store_migration_t *steps,
                                     size_t n_steps, const service_handler_spec_t *handlers,
                                     size_t n_handlers)
{
    log_set_level(LOG_ERROR);
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = fixture_store(":memory:", steps, n_steps);
    f->svc = service_new_for_test(name, f->store);
    if (handlers)
        assert_int_equal(service_handle(f->svc, handlers, n_handlers, NULL), 0);
    return f;
}

/* cmocka teardown of the fixture in *state. */
static inline int fixture_teardown(void **state)
{
    fixture_t *f = *state;
    service_destroy(&f->svc);
    store_destroy(&f->store);
    free(f);
    return 0;
}

/* A request being built: fixture_request gives its envelope, whose other
 * fields (actor, caller, key...) the test sets before fixture_pack. */
typedef struct {
    envelope_t env;
    uint8_t id[16];
    uint8_t *payload;
} fixture_request_t;

/* Starts a request of `msg` from `source`, with a fresh id in r->id. */
static inline envelope_t *fixture_request(fixture_request_t *r, const char *source,
                                          const ProtobufCMessage *msg)
{
    size_t plen = 0;
    r->payload = message_pack(msg, &plen);
    envelope_prepare(&r->env, r->id, source, msg->descriptor->name, r->payload, plen);
    return &r->env;
}

/* The request's frame (caller frees); the request is done with. */
static inline uint8_t *fixture_pack(fixture_request_t *r, size_t *len)
{
    uint8_t *frame = envelope_pack(&r->env, len);
    free(r->payload);
    r->payload = NULL;
    return frame;
}

/* Runs `frame` through the service: its Reply (caller frees), which must
 * come in a Reply envelope of at most `max` bytes. */
static inline Concerto__Common__V1__Reply *fixture_dispatch(fixture_t *f, const uint8_t *frame,
                                                            size_t len, size_t max)
{
    size_t rlen = 0;
    uint8_t *out = service_dispatch_frame(f->svc, frame, len, &rlen);
    assert_true(rlen <= max);
    envelope_t *env = NULL;
    assert_int_equal(envelope_decode(out, rlen, max, &env), ENVELOPE_OK);
    assert_string_equal(env->type, "concerto.common.v1.Reply");
    Concerto__Common__V1__Reply *r = NULL;
    assert_int_equal(envelope_unpack_payload(env, &concerto__common__v1__reply__descriptor,
                                             (ProtobufCMessage **)&r),
                     ENVELOPE_OK);
    envelope_free(&env);
    free(out);
    return r;
}

/* fixture_pack, then fixture_dispatch. */
static inline Concerto__Common__V1__Reply *fixture_run_request(fixture_t *f, fixture_request_t *r,
                                                               size_t max)
{
    size_t len = 0;
    uint8_t *frame = fixture_pack(r, &len);
    Concerto__Common__V1__Reply *reply = fixture_dispatch(f, frame, len, max);
    free(frame);
    return reply;
}

/* The integer `sql` (a count) selects in `store`. */
static inline int64_t fixture_count_in(store_t *store, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline int64_t fixture_count(fixture_t *f, const char *sql)
{
    return fixture_count_in(f->store, sql);
}

#endif
