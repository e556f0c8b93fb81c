/* Tests for routes: the route table, path matching and query strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <http_parser.h>

#include "concerto/test/v1/gateway_test.pb-c.h"
#include "msg_types.h"
#include "routes.h"

#define ECHO (&concerto__test__v1__echo_request__descriptor)

static routes_t *table(void)
{
    routes_t *r = routes_new();
    char err[512];
    const char *text = "GET    /v1/tables/{id}          registry concerto.test.v1.EchoRequest "
                       "reader - 200\n"
                       "DELETE /v1/tables/{id}          registry concerto.test.v1.EchoRequest "
                       "admin - 204\n"
                       "GET    /v1/tables/search        registry concerto.test.v1.EchoRequest "
                       "reader - 200\n"
                       "PUT    /v1/tables/{id}/thing    funding  concerto.test.v1.EchoRequest "
                       "operator thing 200\n"
                       "GET    /v1/tables/{id}/status   all      concerto.test.v1.EchoRequest "
                       "reader - 200\n";
    if (routes_load_text(r, text, msg_types_find, err, sizeof err) != 0)
        fail_msg("%s", err);
    return r;
}

static void test_matches_literal_and_parameter_segments(void **state)
{
    (void)state;
    routes_t *r = table();
    route_match_t m;
    char allow[64];
    const char *path = "/v1/tables/t%C3%A9%2Fx";
    assert_int_equal(routes_match(r, HTTP_GET, path, strlen(path), &m, allow, sizeof allow),
                     ROUTES_FOUND);
    assert_int_equal(m.index, 0);
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0].name, "id");
    assert_string_equal(m.params[0].value, "t\xc3\xa9/x");
    assert_int_equal(m.route->target, ROUTE_REGISTRY);
    assert_int_equal(m.route->role, AUTH_READER);
    route_match_clear(&m);
    routes_destroy(&r);
    assert_null(r);
}

static void test_literal_segment_beats_parameter(void **state)
{
    (void)state;
    routes_t *r = table();
    route_match_t m;
    char allow[64];
    assert_int_equal(routes_match(r, HTTP_GET, "/v1/tables/search", 17, &m, allow, sizeof allow),
                     ROUTES_FOUND);
    assert_int_equal(m.index, 2);
    assert_int_equal(m.n_params, 0);
    route_match_clear(&m);
    routes_destroy(&r);
}

static void test_wrong_method_lists_allowed_methods(void **state)
{
    (void)state;
    routes_t *r = table();
    route_match_t m;
    char allow[64];
    assert_int_equal(routes_match(r, HTTP_POST, "/v1/tables/x", 12, &m, allow, sizeof allow),
                     ROUTES_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, DELETE");
    routes_destroy(&r);
}

static void test_unknown_paths_are_not_found(void **state)
{
    (void)state;
    routes_t *r = table();
    route_match_t m;
    char allow[64];
    const char *paths[] = {"/",
                           "",
                           "v1/tables/x",
                           "/v1/tables",
                           "/v1/tables/",
                           "/v1/tables//status",
                           "/v1/tables/x/status/",
                           "/v1/tables/x/nope",
                           "/v1/tables/x/status/more"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        assert_int_equal(
            routes_match(r, HTTP_GET, paths[i], strlen(paths[i]), &m, allow, sizeof allow),
            ROUTES_NOT_FOUND);
    routes_destroy(&r);
}

static void test_bad_percent_encoding_is_rejected(void **state)
{
    (void)state;
    routes_t *r = table();
    route_match_t m;
    char allow[64];
    const char *paths[] = {"/v1/tables/%zz", "/v1/tables/%4", "/v1/tables/a%00b"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            routes_match(r, HTTP_GET, paths[i], strlen(paths[i]), &m, allow, sizeof allow),
            ROUTES_BAD_PATH);
    routes_destroy(&r);
}

static void test_body_field_and_fan_out_are_resolved(void **state)
{
    (void)state;
    routes_t *r = table();
    const route_t *put = routes_at(r, 3);
    assert_non_null(put->body_field);
    assert_string_equal(put->body_field->name, "thing");
    assert_int_equal(put->role, AUTH_OPERATOR);
    assert_int_equal(routes_at(r, 4)->target, ROUTE_ALL);
    assert_string_equal(routes_at(r, 1)->label, "DELETE /v1/tables/{id}");
    assert_int_equal(routes_at(r, 1)->ok_status, 204);
    routes_destroy(&r);
}

static void expect_add_fails(const char *pattern, const char *body, int status, const char *why)
{
    routes_t *r = routes_new();
    char err[512] = "";
    assert_int_equal(routes_add(r, HTTP_GET, "/v1/x/{id}", ROUTE_REGISTRY, ECHO, NULL, AUTH_READER,
                                200, -1, err, sizeof err),
                     0);
    assert_int_equal(routes_add(r, HTTP_GET, pattern, ROUTE_REGISTRY, ECHO, body, AUTH_READER,
                                status, -1, err, sizeof err),
                     -1);
    if (!strstr(err, why))
        fail_msg("error '%s' does not say '%s'", err, why);
    assert_int_equal(routes_count(r), 1);
    routes_destroy(&r);
}

static void test_bad_routes_are_refused_with_a_reason(void **state)
{
    (void)state;
    expect_add_fails("v1/x", NULL, 200, "must start with /");
    expect_add_fails("/v1/x/", NULL, 200, "empty segment");
    expect_add_fails("/v1//x", NULL, 200, "empty segment");
    expect_add_fails("/v1/{nosuch}", NULL, 200, "names no settable field");
    expect_add_fails("/v1/{thing}", NULL, 200, "names no settable field");
    expect_add_fails("/v1/{thing.name}/{thing.count}/{id}/{text}/{tableId}/{status}/{limit}/"
                     "{sleepMs}/{tags}",
                     NULL, 200, "too many parameters");
    expect_add_fails("/v1/a b", NULL, 200, "literal segments");
    expect_add_fails("/v1/y", "text", 200, "body field must be a singular message field");
    expect_add_fails("/v1/y", "nosuch", 200, "body field");
    expect_add_fails("/v1/y", NULL, 302, "2xx");
    expect_add_fails("/v1/x/{text}", NULL, 200, "same method and path shape");
}

static void test_dotted_parameters_reach_sub_messages(void **state)
{
    (void)state;
    routes_t *r = routes_new();
    char err[256];
    assert_int_equal(routes_add(r, HTTP_GET, "/v1/things/{thing.name}", ROUTE_FORUM, ECHO, NULL,
                                AUTH_READER, 200, -1, err, sizeof err),
                     0);
    routes_destroy(&r);
}

static void test_route_file_errors_name_the_line(void **state)
{
    (void)state;
    struct {
        const char *text, *why;
    } cases[] = {
        {"GET /a registry concerto.test.v1.EchoRequest reader -\n", "line 1: expected"},
        {"# c\n\nFETCH /a registry concerto.test.v1.EchoRequest reader - 200\n", "line 3: the "
                                                                                 "method"},
        {"GET /a nowhere concerto.test.v1.EchoRequest reader - 200\n", "the service"},
        {"GET /a registry no.Such reader - 200\n", "unknown request type"},
        {"GET /a registry concerto.test.v1.EchoRequest root - 200\n", "the role"},
        {"GET /a registry concerto.test.v1.EchoRequest reader - 2x\n", "the status"},
        {"GET /a/{zz} registry concerto.test.v1.EchoRequest reader - 200\n", "names no settable"},
        {"GET /a registry concerto.test.v1.EchoRequest reader - 200 csv\n", "line 1: expected"},
        {"GET /a registry concerto.test.v1.EchoRequest reader - 200 formats=pdf\n",
         "unknown format 'pdf'"},
        {"GET /a registry concerto.test.v1.EchoRequest reader - 200 formats=csv,csv\n",
         "listed twice"},
        {"GET /a all concerto.test.v1.EchoRequest reader - 200 formats=csv\n",
         "only a route to one service"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        routes_t *r = routes_new();
        char err[512] = "";
        assert_int_equal(routes_load_text(r, cases[i].text, msg_types_find, err, sizeof err), -1);
        if (!strstr(err, cases[i].why))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
        routes_destroy(&r);
    }
}

static void test_route_file_declares_formats(void **state)
{
    (void)state;
    routes_t *r = routes_new();
    char err[512] = "";
    const char *text = "GET /doc registry concerto.test.v1.EchoRequest reader - 200 "
                       "formats=xlsx,csv,json\n"
                       "GET /plain registry concerto.test.v1.EchoRequest reader - 200\n";
    if (routes_load_text(r, text, msg_types_find, err, sizeof err) != 0)
        fail_msg("%s", err);
    const route_t *doc = routes_at(r, 0);
    assert_int_equal(doc->n_formats, 3);
    assert_int_equal(doc->formats[0], FORMAT_XLSX);
    assert_int_equal(doc->formats[2], FORMAT_JSON);
    assert_int_equal(routes_at(r, 1)->n_formats, 0);
    assert_int_equal(routes_set_formats(r, 1, "html", err, sizeof err), 0);
    assert_int_equal(routes_at(r, 1)->formats[0], FORMAT_HTML);
    routes_destroy(&r);
}

static void test_query_strings_are_split_and_decoded(void **state)
{
    (void)state;
    const char *q = "a=1&&b=x+y%21&c&d=";
    size_t pos = 0;
    char *k, *v;
    const char *want[][2] = {{"a", "1"}, {"b", "x y!"}, {"c", ""}, {"d", ""}};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(routes_query_next(q, strlen(q), &pos, &k, &v), 1);
        assert_string_equal(k, want[i][0]);
        assert_string_equal(v, want[i][1]);
        free(k);
        free(v);
    }
    assert_int_equal(routes_query_next(q, strlen(q), &pos, &k, &v), 0);
    const char *bad[] = {"=1", "a=%G1", "a%00=1"};
    for (int i = 0; i < 3; i++) {
        pos = 0;
        assert_int_equal(routes_query_next(bad[i], strlen(bad[i]), &pos, &k, &v), -1);
        assert_null(k);
        assert_null(v);
    }
}

static void test_services_from_names_and_packages(void **state)
{
    (void)state;
    assert_int_equal(routes_service_parse("Funding"), ROUTE_FUNDING);
    assert_int_equal(routes_service_parse("all"), -1);
    assert_int_equal(routes_service_for_type("concerto.registry.v1.RegisterTable"), ROUTE_REGISTRY);
    assert_int_equal(routes_service_for_type("concerto.reporting.v1.X"), ROUTE_REPORTING);
    assert_int_equal(routes_service_for_type("concerto.registryx.v1.X"), -1);
    assert_int_equal(routes_service_for_type("concerto.test.v1.X"), -1);
    assert_int_equal(routes_service_for_type("other.registry.v1.X"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_literal_and_parameter_segments),
        cmocka_unit_test(test_literal_segment_beats_parameter),
        cmocka_unit_test(test_wrong_method_lists_allowed_methods),
        cmocka_unit_test(test_unknown_paths_are_not_found),
        cmocka_unit_test(test_bad_percent_encoding_is_rejected),
        cmocka_unit_test(test_body_field_and_fan_out_are_resolved),
        cmocka_unit_test(test_bad_routes_are_refused_with_a_reason),
        cmocka_unit_test(test_dotted_parameters_reach_sub_messages),
        cmocka_unit_test(test_route_file_errors_name_the_line),
        cmocka_unit_test(test_route_file_declares_formats),
        cmocka_unit_test(test_query_strings_are_split_and_decoded),
        cmocka_unit_test(test_services_from_names_and_packages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
