/* Tests that docs/openapi.json and routes.def describe the same routes:
 * every line of routes.def has its operation (with its path parameters,
 * OK status and, for a document route, each format's content type and the
 * 406), and every operation of the document has its line. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <http_parser.h>
#include <jansson.h>

#include "gateway_protos.h"
#include "negotiate.h"

typedef struct {
    int method;
    const char *pattern;
    int ok_status;
    const char *formats; /* NULL: a plain route */
} expected_route_t;

#define ROUTE(METHOD, PATTERN, SERVICE, DESC, ROLE, BODY, STATUS)                                  \
    {HTTP_##METHOD, PATTERN, STATUS, NULL},
#define ROUTE_DOC(METHOD, PATTERN, SERVICE, DESC, ROLE, FORMATS, STATUS)                           \
    {HTTP_##METHOD, PATTERN, STATUS, FORMATS},
#define ROUTE_LOCAL(METHOD, PATTERN, HANDLER, ROLE) {HTTP_##METHOD, PATTERN, 200, NULL},
static const expected_route_t routes[] = {
#include "routes.def"
};
#undef ROUTE
#undef ROUTE_DOC
#undef ROUTE_LOCAL
#define N_ROUTES (sizeof routes / sizeof routes[0])

static json_t *doc;

static int load(void **state)
{
    (void)state;
    json_error_t err;
    doc = json_load_file(CONCERTO_OPENAPI_PATH, JSON_REJECT_DUPLICATES, &err);
    if (!doc) {
        fprintf(stderr, "%s:%d: %s\n", CONCERTO_OPENAPI_PATH, err.line, err.text);
        return -1;
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    json_decref(doc);
    return 0;
}

static void lower(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* Whether `params` (an OpenAPI parameter list) has path parameter `name`. */
static int has_path_param(json_t *params, const char *name, size_t len)
{
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p)
    {
        const char *n = json_string_value(json_object_get(p, "name"));
        const char *in = json_string_value(json_object_get(p, "in"));
        if (n && in && strcmp(in, "path") == 0 && strlen(n) == len && strncmp(n, name, len) == 0)
            return 1;
    }
    return 0;
}

static void test_document_is_openapi_3(void **state)
{
    (void)state;
    const char *version = json_string_value(json_object_get(doc, "openapi"));
    assert_non_null(version);
    assert_int_equal(version[0], '3');
    assert_non_null(json_object_get(json_object_get(doc, "info"), "title"));
    assert_non_null(
        json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Error"));
}

static void test_every_route_is_documented(void **state)
{
    (void)state;
    json_t *paths = json_object_get(doc, "paths");
    for (size_t i = 0; i < N_ROUTES; i++) {
        char method[16], status[8];
        lower(http_method_str((enum http_method)routes[i].method), method, sizeof method);
        json_t *item = json_object_get(paths, routes[i].pattern);
        json_t *op = json_object_get(item, method);
        if (!op)
            fail_msg("routes.def has %s %s; docs/openapi.json does not", method, routes[i].pattern);
        snprintf(status, sizeof status, "%d", routes[i].ok_status);
        json_t *responses = json_object_get(op, "responses");
        if (!json_object_get(responses, status))
            fail_msg("%s %s: no %s response documented", method, routes[i].pattern, status);
        if (routes[i].formats) {
            uint8_t formats[FORMAT_N];
            char err[160];
            int n = format_list_parse(routes[i].formats, formats, err, sizeof err);
            if (n < 0)
                fail_msg("%s %s: %s", method, routes[i].pattern, err);
            json_t *content = json_object_get(json_object_get(responses, status), "content");
            for (int f = 0; f < n; f++)
                if (!json_object_get(content, format_media_type((format_t)formats[f])))
                    fail_msg("%s %s: format %s not documented", method, routes[i].pattern,
                             format_name((format_t)formats[f]));
            if (!json_object_get(responses, "406"))
                fail_msg("%s %s: no 406 documented", method, routes[i].pattern);
        }
        for (const char *p = strchr(routes[i].pattern, '{'); p; p = strchr(p + 1, '{')) {
            const char *end = strchr(p, '}');
            size_t len = (size_t)(end - p - 1);
            if (!has_path_param(json_object_get(op, "parameters"), p + 1, len) &&
                !has_path_param(json_object_get(item, "parameters"), p + 1, len))
                fail_msg("%s %s: path parameter %.*s not documented", method, routes[i].pattern,
                         (int)len, p + 1);
        }
    }
}

static void test_every_documented_operation_is_a_route(void **state)
{
    (void)state;
    json_t *paths = json_object_get(doc, "paths");
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        const char *key;
        json_t *op;
        json_object_foreach(item, key, op)
        {
            if (strcmp(key, "parameters") == 0 || strcmp(key, "summary") == 0 ||
                strcmp(key, "description") == 0)
                continue;
            int found = 0;
            for (size_t i = 0; i < N_ROUTES && !found; i++) {
                char method[16];
                lower(http_method_str((enum http_method)routes[i].method), method, sizeof method);
                found = strcmp(routes[i].pattern, path) == 0 && strcmp(method, key) == 0;
            }
            if (!found)
                fail_msg("docs/openapi.json has %s %s; routes.def does not", key, path);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_is_openapi_3),
        cmocka_unit_test(test_every_route_is_documented),
        cmocka_unit_test(test_every_documented_operation_is_a_route),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
