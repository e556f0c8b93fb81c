/* Tests for request_build: an HTTP request turned into the route's request
 * message, and the Idempotency-Key check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <http_parser.h>

#include "concerto/test/v1/gateway_test.pb-c.h"
#include "msg_types.h"
#include "request_build.h"
#include "routes.h"

typedef Concerto__Test__V1__EchoRequest echo_t;

static const char *const table_text =
    "GET    /v1/echo/{id}        registry concerto.test.v1.EchoRequest reader   -     200\n"
    "POST   /v1/echo/{id}        registry concerto.test.v1.EchoRequest operator -     201\n"
    "PUT    /v1/echo/{id}/thing  registry concerto.test.v1.EchoRequest operator thing 200\n"
    "DELETE /v1/echo/{id}        registry concerto.test.v1.EchoRequest operator -     200\n"
    "GET    /v1/doc/{id}         registry concerto.test.v1.EchoRequest reader   -     200 "
    "formats=csv,json\n";

typedef struct {
    routes_t *routes;
    route_match_t m;
    http_request_t req;
} fixture_t;

/* Matches `path` (no query) with `method`; the request has `query` and
 * `body` (JSON unless `content_type` says otherwise). */
static void prepare(fixture_t *f, int method, const char *path, const char *query, const char *body,
                    const char *content_type)
{
    memset(f, 0, sizeof *f);
    f->routes = routes_new();
    char err[512], allow[64];
    if (routes_load_text(f->routes, table_text, msg_types_find, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(
        routes_match(f->routes, method, path, strlen(path), &f->m, allow, sizeof allow),
        ROUTES_FOUND);
    f->req.method = method;
    f->req.path = path;
    f->req.path_len = strlen(path);
    f->req.query = query;
    f->req.query_len = query ? strlen(query) : 0;
    f->req.body = body;
    f->req.body_len = body ? strlen(body) : 0;
    f->req.content_type = content_type;
}

static void release(fixture_t *f)
{
    route_match_clear(&f->m);
    routes_destroy(&f->routes);
}

static echo_t *build_ok(fixture_t *f)
{
    ProtobufCMessage *msg = NULL;
    request_build_error_t e;
    int rc = request_build(f->m.route, &f->m, &f->req, &msg, &e);
    if (rc != 0)
        fail_msg("request_build: %d %s (%s: %s)", e.status, e.message, e.field.field,
                 e.field.message);
    return (echo_t *)msg;
}

static request_build_error_t build_fails(fixture_t *f)
{
    ProtobufCMessage *msg = NULL;
    request_build_error_t e;
    assert_int_equal(request_build(f->m.route, &f->m, &f->req, &msg, &e), -1);
    assert_null(msg);
    return e;
}

static void test_path_and_query_set_fields(void **state)
{
    (void)state;
    fixture_t f;
    prepare(&f, HTTP_GET, "/v1/echo/a%20b", "text=hi+there&tags=x&tags=y&limit=7", NULL, NULL);
    echo_t *m = build_ok(&f);
    assert_string_equal(m->id, "a b");
    assert_string_equal(m->text, "hi there");
    assert_int_equal(m->n_tags, 2);
    assert_string_equal(m->tags[1], "y");
    assert_int_equal(m->limit, 7);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    release(&f);
}

static void test_body_is_the_whole_request_and_parameters_win(void **state)
{
    (void)state;
    fixture_t f;
    prepare(&f, HTTP_POST, "/v1/echo/from-path", "text=from-query",
            "{\"id\":\"from-body\",\"text\":\"from-body\",\"limit\":3}", "application/json");
    echo_t *m = build_ok(&f);
    assert_string_equal(m->id, "from-path");
    assert_string_equal(m->text, "from-query");
    assert_int_equal(m->limit, 3);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    release(&f);
}

static void test_body_field_fills_the_sub_message(void **state)
{
    (void)state;
    fixture_t f;
    prepare(&f, HTTP_PUT, "/v1/echo/t1/thing", NULL, "{\"name\":\"box\",\"count\":\"12\"}",
            "application/json; charset=utf-8");
    echo_t *m = build_ok(&f);
    assert_string_equal(m->id, "t1");
    assert_non_null(m->thing);
    assert_string_equal(m->thing->name, "box");
    assert_int_equal(m->thing->count, 12);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    release(&f);
}

static void test_get_body_is_ignored(void **state)
{
    (void)state;
    fixture_t f;
    prepare(&f, HTTP_GET, "/v1/echo/x", NULL, "not json at all", "text/plain");
    echo_t *m = build_ok(&f);
    assert_null(m->text);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    release(&f);
}

static void test_delete_body_is_read(void **state)
{
    (void)state;
    fixture_t f;
    prepare(&f, HTTP_DELETE, "/v1/echo/m1", NULL, "{\"text\":\"left the Table\"}",
            "application/json");
    echo_t *m = build_ok(&f);
    assert_string_equal(m->id, "m1");
    assert_string_equal(m->text, "left the Table");
    protobuf_c_message_free_unpacked(&m->base, NULL);
    release(&f);
    prepare(&f, HTTP_DELETE, "/v1/echo/m1", NULL, "text=x", "application/x-www-form-urlencoded");
    assert_int_equal(build_fails(&f).status, 415);
    release(&f);
    prepare(&f, HTTP_DELETE, "/v1/echo/m1", NULL, NULL, NULL);
    m = build_ok(&f);
    assert_null(m->text);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    release(&f);
}

static void test_format_parameter_of_a_document_route(void **state)
{
    (void)state;
    fixture_t f;
    prepare(&f, HTTP_GET, "/v1/doc/d1", "format=csv&text=t", NULL, NULL);
    echo_t *m = build_ok(&f);
    assert_string_equal(m->text, "t");
    protobuf_c_message_free_unpacked(&m->base, NULL);
    char *value = NULL;
    assert_int_equal(request_format_param(&f.req, &value), 1);
    assert_string_equal(value, "csv");
    free(value);
    release(&f);
    /* On a plain route, `format` is a field like any other: EchoRequest
     * has none. */
    prepare(&f, HTTP_GET, "/v1/echo/x", "format=csv", NULL, NULL);
    assert_string_equal(build_fails(&f).field.field, "format");
    release(&f);
    const char *queries[] = {"text=a", "format=csv&format=json", "format=%zz"};
    int want[] = {0, -1, -1};
    for (int i = 0; i < 3; i++) {
        prepare(&f, HTTP_GET, "/v1/doc/d1", queries[i], NULL, NULL);
        assert_int_equal(request_format_param(&f.req, &value), want[i]);
        assert_null(value);
        release(&f);
    }
}

static void test_body_that_is_not_json_is_415(void **state)
{
    (void)state;
    const char *types[] = {NULL, "text/plain", "application/jsonx", "application/xml"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        fixture_t f;
        prepare(&f, HTTP_POST, "/v1/echo/x", NULL, "{}", types[i]);
        request_build_error_t e = build_fails(&f);
        assert_int_equal(e.status, 415);
        assert_string_equal(e.message, "the body must be application/json");
        release(&f);
    }
}

static void test_bad_bodies_are_400_naming_the_problem(void **state)
{
    (void)state;
    struct {
        const char *body, *message, *field;
    } cases[] = {
        {"{\"text\":", "invalid JSON at line 1 column 8", ""},
        {"[1,2]", "the body must be a JSON object", ""},
        {"{\"text\":\"a\",\"text\":\"b\"}", "invalid JSON", ""},
        {"{\"limit\":\"many\"}", "the body does not fit the request", "limit"},
        {"{\"nope\":1}", "the body does not fit the request: nope: unknown field", "nope"},
        /* No library internals: jansson would name its JSON_ALLOW_NUL. */
        {"{\"text\":\"a\\u0000b\"}",
         "the body does not fit the request: text: must not contain NUL characters", "text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t f;
        prepare(&f, HTTP_POST, "/v1/echo/x", NULL, cases[i].body, "application/json");
        request_build_error_t e = build_fails(&f);
        assert_int_equal(e.status, 400);
        if (strncmp(e.message, cases[i].message, strlen(cases[i].message)) != 0)
            fail_msg("%s: got \"%s\"", cases[i].body, e.message);
        assert_string_equal(e.field.field, cases[i].field);
        release(&f);
    }
}

static void test_bad_parameters_are_400(void **state)
{
    (void)state;
    struct {
        const char *path, *query, *message, *field;
    } cases[] = {
        {"/v1/echo/x", "limit=-1", "invalid query parameter: limit: value out of range for uint32",
         "limit"},
        {"/v1/echo/x", "unknown=1", "invalid query parameter: unknown: unknown field", "unknown"},
        {"/v1/echo/x", "=1", "malformed query string", ""},
        {"/v1/echo/x", "text=%zz", "malformed query string", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t f;
        prepare(&f, HTTP_GET, cases[i].path, cases[i].query, NULL, NULL);
        request_build_error_t e = build_fails(&f);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.message, cases[i].message);
        assert_string_equal(e.field.field, cases[i].field);
        release(&f);
    }
}

static void test_too_many_query_parameters_are_400(void **state)
{
    (void)state;
    char query[2048] = "";
    for (int i = 0; i <= REQUEST_BUILD_MAX_QUERY_PARAMS; i++)
        strcat(query, "tags=a&");
    fixture_t f;
    prepare(&f, HTTP_GET, "/v1/echo/x", query, NULL, NULL);
    request_build_error_t e = build_fails(&f);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.message, "too many query parameters");
    release(&f);
    query[strlen(query) - strlen("tags=a&")] = '\0';
    prepare(&f, HTTP_GET, "/v1/echo/x", query, NULL, NULL);
    echo_t *m = build_ok(&f);
    assert_int_equal(m->n_tags, REQUEST_BUILD_MAX_QUERY_PARAMS);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    release(&f);
}

static void test_idempotency_keys(void **state)
{
    (void)state;
    char longest[REQUEST_BUILD_MAX_IDEMPOTENCY_KEY + 2];
    memset(longest, 'k', sizeof longest);
    longest[REQUEST_BUILD_MAX_IDEMPOTENCY_KEY] = '\0';
    assert_true(request_key_valid("order-1"));
    assert_true(request_key_valid("a b ~"));
    assert_true(request_key_valid(longest));
    longest[REQUEST_BUILD_MAX_IDEMPOTENCY_KEY] = 'k';
    longest[REQUEST_BUILD_MAX_IDEMPOTENCY_KEY + 1] = '\0';
    assert_false(request_key_valid(longest));
    assert_false(request_key_valid(""));
    assert_false(request_key_valid("partner/centraide/1"));
    assert_false(request_key_valid("tab\there"));
    assert_false(request_key_valid("caf\xc3\xa9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_and_query_set_fields),
        cmocka_unit_test(test_body_is_the_whole_request_and_parameters_win),
        cmocka_unit_test(test_body_field_fills_the_sub_message),
        cmocka_unit_test(test_get_body_is_ignored),
        cmocka_unit_test(test_delete_body_is_read),
        cmocka_unit_test(test_format_parameter_of_a_document_route),
        cmocka_unit_test(test_body_that_is_not_json_is_415),
        cmocka_unit_test(test_bad_bodies_are_400_naming_the_problem),
        cmocka_unit_test(test_bad_parameters_are_400),
        cmocka_unit_test(test_too_many_query_parameters_are_400),
        cmocka_unit_test(test_idempotency_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
