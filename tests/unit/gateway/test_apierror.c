/* Tests for apierror: reply status -> HTTP status, and error bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "apierror.h"
#include "pb_json.h"
#include "status.h"

static void test_reply_statuses_map_to_http(void **state)
{
    (void)state;
    struct {
        int status, http;
    } cases[] = {
        {STATUS_OK, 201},
        {STATUS_INVALID_ARGUMENT, 400},
        {STATUS_NOT_FOUND, 404},
        {STATUS_CONFLICT, 409},
        {STATUS_FAILED_PRECONDITION, 409},
        {STATUS_UNAUTHENTICATED, 401},
        {STATUS_PERMISSION_DENIED, 403},
        {STATUS_UNAVAILABLE, 503},
        {STATUS_INTERNAL, 500},
        {STATUS_DEADLINE_EXCEEDED, 504},
        {99, 500},
        {-1, 500},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(apierror_http_status(cases[i].status, 201), cases[i].http);
}

static void test_http_statuses_have_codes(void **state)
{
    (void)state;
    assert_string_equal(apierror_code_for_http(400), "INVALID_ARGUMENT");
    assert_string_equal(apierror_code_for_http(401), "UNAUTHENTICATED");
    assert_string_equal(apierror_code_for_http(405), "METHOD_NOT_ALLOWED");
    assert_string_equal(apierror_code_for_http(411), "LENGTH_REQUIRED");
    assert_string_equal(apierror_code_for_http(413), "PAYLOAD_TOO_LARGE");
    assert_string_equal(apierror_code_for_http(414), "URI_TOO_LONG");
    assert_string_equal(apierror_code_for_http(431), "HEADERS_TOO_LARGE");
    assert_string_equal(apierror_code_for_http(503), "UNAVAILABLE");
    assert_string_equal(apierror_code_for_http(504), "DEADLINE_EXCEEDED");
    assert_string_equal(apierror_code_for_http(599), "INTERNAL");
}

static void test_error_body_has_code_message_and_fields(void **state)
{
    (void)state;
    apierror_field_t fields[] = {{"contact.email", "not an address"}, {"name", "required"}};
    size_t len = 0;
    char *body = apierror_body("INVALID_ARGUMENT", "bad \"input\"", fields, 2, &len);
    assert_int_equal(len, strlen(body));
    json_error_t jerr;
    json_t *doc = json_loads(body, 0, &jerr);
    assert_non_null(doc);
    json_t *err = json_object_get(doc, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "INVALID_ARGUMENT");
    assert_string_equal(json_string_value(json_object_get(err, "message")), "bad \"input\"");
    json_t *f = json_object_get(err, "fields");
    assert_int_equal(json_array_size(f), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "field")),
                        "contact.email");
    assert_string_equal(json_string_value(json_object_get(json_array_get(f, 1), "description")),
                        "required");
    json_decref(doc);
    free(body);
    body = apierror_body("NOT_FOUND", NULL, NULL, 0, NULL);
    assert_string_equal(body,
                        "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"\",\"fields\":[]}}");
    free(body);
}

/* The repaired text, checked by length too, so that a NUL cannot hide. */
static void assert_repaired(const char *in, size_t n, const char *want)
{
    json_t *j = pb_json_text(in, n);
    assert_non_null(j);
    assert_int_equal(json_string_length(j), strlen(want));
    assert_string_equal(json_string_value(j), want);
    json_decref(j);
}

static void test_invalid_utf8_is_repaired(void **state)
{
    (void)state;
    const char bad[] = "a\xff"
                       "b\xc3"
                       "c\xe2\x82"
                       "\xed\xa0\x80"
                       "\xc3\xa9";
    assert_repaired(bad, sizeof bad - 1,
                    "a\xef\xbf\xbd"
                    "b\xef\xbf\xbd"
                    "c\xef\xbf\xbd\xef\xbf\xbd"
                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                    "\xc3\xa9");
    char *body = apierror_body("INTERNAL", "x\xff", NULL, 0, NULL);
    assert_non_null(strstr(body, "x\xef\xbf\xbd"));
    free(body);
    const char nul[] = {'a', 0, 'b'};
    assert_repaired(nul, 3,
                    "a\xef\xbf\xbd"
                    "b");
}

static void test_fields_added_one_at_a_time_are_repaired_too(void **state)
{
    (void)state;
    json_t *err = apierror_json("INVALID_ARGUMENT", "bad rows", NULL, 0);
    apierror_add_field(err, "rows[0].name", "required");
    apierror_add_field(err, "rows[1].name", "not \xffUTF-8");
    size_t len = 0;
    char *body = apierror_text(err, &len);
    assert_int_equal(len, strlen(body));
    assert_string_equal(body, "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"bad rows\","
                              "\"fields\":[{\"field\":\"rows[0].name\",\"description\":"
                              "\"required\"},{\"field\":\"rows[1].name\",\"description\":"
                              "\"not \xef\xbf\xbdUTF-8\"}]}}");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_statuses_map_to_http),
        cmocka_unit_test(test_http_statuses_have_codes),
        cmocka_unit_test(test_error_body_has_code_message_and_fields),
        cmocka_unit_test(test_invalid_utf8_is_repaired),
        cmocka_unit_test(test_fields_added_one_at_a_time_are_repaired_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
