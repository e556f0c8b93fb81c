/* Tests for what the runtime adds for document routes, without sockets:
 * the chosen format, version tags and "not modified" (nothing built),
 * documents inline or kept and read in parts, the limits, answers too
 * large for a frame, the caller accessors and the subscriber cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concerto/test/v1/delivery.pb-c.h"
#include "concerto/test/v1/gateway_test.pb-c.h"
#include "service_fixture.h"
#include "outbox.h"
#include "service_internal.h"

typedef Concerto__Common__V1__Reply reply_t;

static int builds; /* documents the handler has built */

/* DocumentRequest: a document of `size` bytes (byte i is i % 251), under
 * the version "v<size>"; JSON formats get a DocumentInfo. */
static int handle_document(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__DocumentRequest *req = (const void *)msg;
    char version[32];
    snprintf(version, sizeof version, "v%llu", (unsigned long long)req->size);
    if (service_call_version(call, version))
        return STATUS_OK;
    builds++;
    if (strcmp(service_call_format(call), "csv") != 0) {
        Concerto__Test__V1__DocumentInfo info = CONCERTO__TEST__V1__DOCUMENT_INFO__INIT;
        info.format = (char *)service_call_format(call);
        return service_call_reply(call, &info.base);
    }
    uint8_t *data = malloc(req->size + 1);
    for (size_t i = 0; i < req->size; i++)
        data[i] = (uint8_t)(i % 251);
    return service_call_reply_document(call, "text/csv", req->file_name, &data, req->size);
}

/* BigRequest: emits an event, then answers `size` bytes. */
static int handle_big(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__BigRequest *req = (const void *)msg;
    Concerto__Test__V1__Ping ping = CONCERTO__TEST__V1__PING__INIT;
    if (service_call_emit(call, NULL, &ping.base) != 0)
        return STATUS_INTERNAL;
    Concerto__Test__V1__BigReply big = CONCERTO__TEST__V1__BIG_REPLY__INIT;
    big.has_data = 1;
    big.data.len = req->size;
    big.data.data = calloc(1, req->size + 1);
    int rc = service_call_reply(call, &big.base);
    free(big.data.data);
    return rc;
}

/* CallerRequest: the caller, and whether its funder scope allows `funder`. */
static int handle_caller(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__CallerRequest *req = (const void *)msg;
    if (req->funder && !service_call_scope_allows(call, "funder", req->funder))
        return service_call_fail(call, STATUS_PERMISSION_DENIED, "no");
    caller_t who = service_call_caller(call);
    Concerto__Test__V1__CallerView view = CONCERTO__TEST__V1__CALLER_VIEW__INIT;
    view.role = (char *)caller_role_name(who.role);
    view.name = (char *)who.name;
    return service_call_reply(call, &view.base);
}

static int setup(void **state)
{
    static const service_handler_spec_t handlers[] = {
        {&concerto__test__v1__document_request__descriptor, SERVICE_QUERY, handle_document, NULL},
        {&concerto__test__v1__big_request__descriptor, SERVICE_COMMAND, handle_big, NULL},
        {&concerto__test__v1__caller_request__descriptor, SERVICE_QUERY, handle_caller, NULL},
    };
    fixture_t *f = fixture_new("unit", NULL, 0, handlers, sizeof handlers / sizeof handlers[0]);
    /* Small frames, so that "larger than a frame" stays small. */
    f->svc->topt.max_frame = 4096;
    f->svc->max_document = 100000;
    builds = 0;
    *state = f;
    return 0;
}

typedef struct {
    const char *format;
    char **tags;
    size_t n_tags;
    Concerto__Common__V1__Caller *caller;
} extras_t;

/* Runs `msg` through the runtime with the envelope extras; the Reply. */
static reply_t *run(fixture_t *f, const ProtobufCMessage *msg, const extras_t *x)
{
    fixture_request_t r;
    envelope_t *env = fixture_request(&r, "gateway", msg);
    if (x) {
        env->format = (char *)x->format;
        env->if_none_match = x->tags;
        env->n_if_none_match = x->n_tags;
        env->caller = x->caller;
    }
    return fixture_run_request(f, &r, 4096);
}

static reply_t *run_document(fixture_t *f, uint64_t size, const extras_t *x)
{
    Concerto__Test__V1__DocumentRequest req = CONCERTO__TEST__V1__DOCUMENT_REQUEST__INIT;
    req.has_size = 1;
    req.size = size;
    req.file_name = "report.csv";
    return run(f, &req.base, x);
}

static reply_t *read_part(fixture_t *f, const ProtobufCBinaryData *id, uint64_t offset,
                          uint32_t max, int release)
{
    Concerto__Common__V1__DownloadPartRequest req =
        CONCERTO__COMMON__V1__DOWNLOAD_PART_REQUEST__INIT;
    req.has_download_id = req.has_offset = req.has_max_bytes = 1;
    req.download_id = *id;
    req.offset = offset;
    req.max_bytes = max;
    req.has_release = req.release = release;
    return run(f, &req.base, NULL);
}

static void test_format_chooses_message_or_document(void **state)
{
    fixture_t *f = *state;
    extras_t json = {"json", NULL, 0, NULL}, csv = {"csv", NULL, 0, NULL};
    reply_t *r = run_document(f, 10, &json);
    assert_int_equal(r->status, STATUS_OK);
    assert_string_equal(r->result_type, "concerto.test.v1.DocumentInfo");
    assert_null(r->content_type);
    assert_false(r->has_document);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    r = run_document(f, 10, &csv);
    assert_int_equal(r->status, STATUS_OK);
    assert_null(r->result_type);
    assert_false(r->has_result);
    assert_string_equal(r->content_type, "text/csv");
    assert_string_equal(r->file_name, "report.csv");
    assert_int_equal(r->document_size, 10);
    assert_true(r->has_document);
    assert_int_equal(r->document.len, 10);
    assert_int_equal(r->document.data[9], 9);
    assert_false(r->has_download_id);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_version_tag_and_not_modified_build_nothing(void **state)
{
    fixture_t *f = *state;
    extras_t csv = {"csv", NULL, 0, NULL}, json = {"json", NULL, 0, NULL};
    reply_t *a = run_document(f, 10, &csv);
    reply_t *b = run_document(f, 10, &json);
    reply_t *c = run_document(f, 11, &csv);
    assert_int_equal(builds, 3);
    assert_non_null(a->version);
    assert_int_equal(strlen(a->version), 32);
    /* Each format, and each version, has its own tag. */
    assert_string_not_equal(a->version, b->version);
    assert_string_not_equal(a->version, c->version);
    char *tags[] = {"other", a->version};
    extras_t held = {"csv", tags, 2, NULL};
    reply_t *d = run_document(f, 10, &held);
    assert_int_equal(builds, 3);
    assert_int_equal(d->status, STATUS_OK);
    assert_true(d->not_modified);
    assert_string_equal(d->version, a->version);
    assert_false(d->has_document);
    assert_null(d->content_type);
    /* The same tag for another version is stale: built again. */
    reply_t *e = run_document(f, 12, &held);
    assert_int_equal(builds, 4);
    assert_false(e->not_modified);
    char *any[] = {"*"};
    extras_t star = {"csv", any, 1, NULL};
    reply_t *g = run_document(f, 99, &star);
    assert_true(g->not_modified);
    assert_int_equal(builds, 4);
    reply_t *all[] = {a, b, c, d, e, g};
    for (size_t i = 0; i < 6; i++)
        concerto__common__v1__reply__free_unpacked(all[i], NULL);
}

static void test_large_document_is_kept_and_read_in_parts(void **state)
{
    fixture_t *f = *state;
    extras_t csv = {"csv", NULL, 0, NULL};
    reply_t *r = run_document(f, 20000, &csv);
    assert_int_equal(r->status, STATUS_OK);
    assert_false(r->has_document);
    assert_true(r->has_download_id);
    assert_int_equal(r->document_size, 20000);
    assert_string_equal(r->content_type, "text/csv");
    uint8_t *got = malloc(20000);
    uint64_t off = 0;
    int last = 0, parts = 0;
    while (!last) {
        reply_t *p = read_part(f, &r->download_id, off, 3000, 0);
        assert_int_equal(p->status, STATUS_OK);
        Concerto__Common__V1__DownloadPart *part =
            concerto__common__v1__download_part__unpack(NULL, p->result.len, p->result.data);
        assert_int_equal(part->offset, off);
        assert_true(part->data.len <= 3000);
        memcpy(got + off, part->data.data, part->data.len);
        off += part->data.len;
        last = part->last;
        parts++;
        concerto__common__v1__download_part__free_unpacked(part, NULL);
        concerto__common__v1__reply__free_unpacked(p, NULL);
    }
    assert_int_equal(off, 20000);
    assert_int_equal(parts, 7);
    for (size_t i = 0; i < 20000; i++)
        if (got[i] != (uint8_t)(i % 251))
            fail_msg("byte %zu differs", i);
    /* Read to its end, the document is gone. */
    reply_t *gone = read_part(f, &r->download_id, 0, 3000, 0);
    assert_int_equal(gone->status, STATUS_NOT_FOUND);
    free(got);
    concerto__common__v1__reply__free_unpacked(gone, NULL);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_a_part_never_exceeds_the_frame(void **state)
{
    fixture_t *f = *state;
    extras_t csv = {"csv", NULL, 0, NULL};
    reply_t *r = run_document(f, 20000, &csv);
    /* Asking for more than fits gets what fits (run checks the frame). */
    reply_t *p = read_part(f, &r->download_id, 0, 100000, 0);
    assert_int_equal(p->status, STATUS_OK);
    assert_true(p->result.len < 4096);
    reply_t *bad = read_part(f, &r->download_id, 30000, 100, 0);
    assert_int_equal(bad->status, STATUS_INVALID_ARGUMENT);
    reply_t *rel = read_part(f, &r->download_id, 0, 0, 1);
    assert_int_equal(rel->status, STATUS_OK);
    reply_t *gone = read_part(f, &r->download_id, 0, 100, 0);
    assert_int_equal(gone->status, STATUS_NOT_FOUND);
    reply_t *all[] = {r, p, bad, rel, gone};
    for (size_t i = 0; i < 5; i++)
        concerto__common__v1__reply__free_unpacked(all[i], NULL);
}

static void test_document_over_the_limit_is_refused(void **state)
{
    fixture_t *f = *state;
    extras_t csv = {"csv", NULL, 0, NULL};
    reply_t *r = run_document(f, 100001, &csv);
    assert_int_equal(r->status, STATUS_INTERNAL);
    assert_non_null(strstr(r->message, "100001 bytes, over the limit of 100000"));
    assert_non_null(strstr(r->message, "CONCERTO_MAX_DOCUMENT"));
    assert_false(r->has_download_id);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_answer_larger_than_a_frame_is_an_error_and_changes_nothing(void **state)
{
    fixture_t *f = *state;
    Concerto__Test__V1__BigRequest req = CONCERTO__TEST__V1__BIG_REQUEST__INIT;
    req.has_size = 1;
    req.size = 5000;
    reply_t *r = run(f, &req.base, NULL);
    assert_int_equal(r->status, STATUS_INTERNAL);
    assert_non_null(strstr(r->message, "frame limit"));
    assert_false(r->has_result);
    /* The command's event was rolled back with it. */
    assert_int_equal(outbox_head(f->store), 0);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    req.size = 100;
    r = run(f, &req.base, NULL);
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(outbox_head(f->store), 1);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

static void test_caller_reaches_the_handler(void **state)
{
    fixture_t *f = *state;
    char *values[] = {"centraide"};
    Concerto__Common__V1__Scope scope = CONCERTO__COMMON__V1__SCOPE__INIT, *scopes[] = {&scope};
    scope.name = "funder";
    scope.n_values = 1;
    scope.values = values;
    Concerto__Common__V1__Caller caller = CONCERTO__COMMON__V1__CALLER__INIT;
    caller.has_role = 1;
    caller.role = CONCERTO__COMMON__V1__ROLE__ROLE_PARTNER;
    caller.name = "centraide";
    caller.n_scopes = 1;
    caller.scopes = scopes;
    extras_t x = {NULL, NULL, 0, &caller};
    Concerto__Test__V1__CallerRequest req = CONCERTO__TEST__V1__CALLER_REQUEST__INIT;
    req.funder = "centraide";
    reply_t *ok = run(f, &req.base, &x);
    assert_int_equal(ok->status, STATUS_OK);
    Concerto__Test__V1__CallerView *view =
        concerto__test__v1__caller_view__unpack(NULL, ok->result.len, ok->result.data);
    assert_string_equal(view->role, "partner");
    assert_string_equal(view->name, "centraide");
    req.funder = "ville";
    reply_t *denied = run(f, &req.base, &x);
    assert_int_equal(denied->status, STATUS_PERMISSION_DENIED);
    /* No caller (the daemon's own work): none, and not scoped. */
    reply_t *own = run(f, &req.base, NULL);
    assert_int_equal(own->status, STATUS_OK);
    concerto__test__v1__caller_view__free_unpacked(view, NULL);
    view = concerto__test__v1__caller_view__unpack(NULL, own->result.len, own->result.data);
    assert_string_equal(view->role, "none");
    concerto__test__v1__caller_view__free_unpacked(view, NULL);
    reply_t *all[] = {ok, denied, own};
    for (size_t i = 0; i < 3; i++)
        concerto__common__v1__reply__free_unpacked(all[i], NULL);
}

static int cursor_result;
static const char *cursor_source; /* the source handle_status_cursor asks for */

static int handle_status_cursor(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    Concerto__Common__V1__SubscriberCursor c;
    cursor_result = service_call_cursor(call, cursor_source, &c);
    if (cursor_result == 0) {
        assert_string_equal(c.source, "registry");
        assert_true(c.has_lag && c.has_applied_sequence && c.has_source_head);
        assert_int_equal(c.lag, 0);
    }
    return service_call_reply(call, NULL);
}

static void test_cursor_of_a_subscription(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(
        service_subscribe(f->svc, "registry", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2"), 0);
    static const service_handler_spec_t handlers[] = {
        {&concerto__test__v1__stats__descriptor, SERVICE_QUERY, handle_status_cursor, NULL},
    };
    service_handle(f->svc, handlers, 1, NULL);
    Concerto__Test__V1__Stats stats = CONCERTO__TEST__V1__STATS__INIT;
    cursor_source = "registry";
    reply_t *r = run(f, &stats.base, NULL);
    assert_int_equal(cursor_result, 0);
    concerto__common__v1__reply__free_unpacked(r, NULL);
    cursor_source = "funding";
    r = run(f, &stats.base, NULL);
    assert_int_equal(cursor_result, -1);
    concerto__common__v1__reply__free_unpacked(r, NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_format_chooses_message_or_document),
        T(test_version_tag_and_not_modified_build_nothing),
        T(test_large_document_is_kept_and_read_in_parts),
        T(test_a_part_never_exceeds_the_frame),
        T(test_document_over_the_limit_is_refused),
        T(test_answer_larger_than_a_frame_is_an_error_and_changes_nothing),
        T(test_caller_reaches_the_handler),
        T(test_cursor_of_a_subscription),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
