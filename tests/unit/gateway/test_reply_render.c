/* Tests for reply_render: a service's Reply as the gateway's JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "concerto/test/v1/gateway_test.pb-c.h"
#include "envelope.h"
#include "reply_render.h"
#include "status.h"

typedef Concerto__Common__V1__Reply reply_t;

static void test_status_defaults_to_ok(void **state)
{
    (void)state;
    reply_t r = CONCERTO__COMMON__V1__REPLY__INIT;
    assert_int_equal(reply_render_status(&r), STATUS_OK);
    r.has_status = 1;
    r.status = CONCERTO__COMMON__V1__STATUS__NOT_FOUND;
    assert_int_equal(reply_render_status(&r), STATUS_NOT_FOUND);
}

static void test_result_is_rendered_by_its_type(void **state)
{
    (void)state;
    Concerto__Test__V1__EchoReply echo = CONCERTO__TEST__V1__ECHO_REPLY__INIT;
    echo.text = "bonjour";
    echo.table_id = "tqmn";
    size_t len = 0;
    uint8_t *bytes = message_pack(&echo.base, &len);
    reply_t r = CONCERTO__COMMON__V1__REPLY__INIT;
    r.result_type = "concerto.test.v1.EchoReply";
    r.has_result = 1;
    r.result.data = bytes;
    r.result.len = len;
    const char *why = NULL;
    json_t *doc = reply_render_result(&r, &why);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "text")), "bonjour");
    assert_string_equal(json_string_value(json_object_get(doc, "tableId")), "tqmn");
    json_decref(doc);
    free(bytes);
}

static void test_no_result_is_an_empty_object(void **state)
{
    (void)state;
    reply_t r = CONCERTO__COMMON__V1__REPLY__INIT;
    const char *why = NULL;
    json_t *doc = reply_render_result(&r, &why);
    assert_true(json_is_object(doc));
    assert_int_equal(json_object_size(doc), 0);
    json_decref(doc);
}

static void test_unreadable_results_say_why(void **state)
{
    (void)state;
    uint8_t garbage[] = {0xff, 0xff, 0xff};
    reply_t r = CONCERTO__COMMON__V1__REPLY__INIT;
    r.has_result = 1;
    r.result.data = garbage;
    r.result.len = sizeof garbage;
    r.result_type = "concerto.test.v1.NoSuchThing";
    const char *why = NULL;
    assert_null(reply_render_result(&r, &why));
    assert_string_equal(why, "the service answered with a result type the gateway does not know");
    r.result_type = "concerto.test.v1.EchoReply";
    why = NULL;
    assert_null(reply_render_result(&r, &why));
    assert_string_equal(why, "the service's result does not decode as its type");
}

static void test_error_names_fields_in_json(void **state)
{
    (void)state;
    Concerto__Common__V1__FieldViolation f1 = CONCERTO__COMMON__V1__FIELD_VIOLATION__INIT;
    Concerto__Common__V1__FieldViolation f2 = CONCERTO__COMMON__V1__FIELD_VIOLATION__INIT;
    f1.field = "table.territory_id";
    f1.description = "unknown territory";
    f2.description = "no field";
    Concerto__Common__V1__FieldViolation *fields[] = {&f1, &f2};
    reply_t r = CONCERTO__COMMON__V1__REPLY__INIT;
    r.message = "bad table";
    r.n_fields = 2;
    r.fields = fields;
    json_t *err = reply_render_error(&r, STATUS_INVALID_ARGUMENT);
    assert_string_equal(json_string_value(json_object_get(err, "code")), "INVALID_ARGUMENT");
    assert_string_equal(json_string_value(json_object_get(err, "message")), "bad table");
    json_t *list = json_object_get(err, "fields");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "field")),
                        "table.territoryId");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "field")), "");
    json_decref(err);
}

static void test_headers_from_version_and_document(void **state)
{
    (void)state;
    char etag[REPLY_RENDER_ETAG_MAX], disposition[REPLY_RENDER_DISPOSITION_MAX];
    const char *why = NULL;
    reply_t r = CONCERTO__COMMON__V1__REPLY__INIT;
    assert_int_equal(reply_render_headers(&r, etag, disposition, &why), 0);
    assert_string_equal(etag, "");
    assert_string_equal(disposition, "");
    r.version = "3f2a";
    r.content_type = "text/csv; charset=utf-8";
    r.file_name = "bilan 2025-2026.csv";
    assert_int_equal(reply_render_headers(&r, etag, disposition, &why), 0);
    assert_string_equal(etag, "\"3f2a\"");
    assert_string_equal(disposition, "attachment; filename=\"bilan 2025-2026.csv\"");
}

static void test_headers_refuse_what_cannot_go_into_http(void **state)
{
    (void)state;
    char etag[REPLY_RENDER_ETAG_MAX], disposition[REPLY_RENDER_DISPOSITION_MAX];
    char long_tag[REPLY_RENDER_ETAG_MAX];
    memset(long_tag, 'a', sizeof long_tag - 1);
    long_tag[sizeof long_tag - 1] = '\0';
    struct {
        const char *version, *content_type, *file_name, *why;
    } cases[] = {
        {"a\"b", NULL, NULL, "version"},
        {"a b", NULL, NULL, "version"},
        {"", NULL, NULL, "version"},
        {long_tag, NULL, NULL, "version"},
        {NULL, "text/csv\r\nX-Evil: 1", NULL, "content type"},
        {NULL, "text/csv", "a\"b.csv", "file name"},
        {NULL, "text/csv", "caf\xc3\xa9.csv", "file name"},
        {NULL, "text/csv", "a\\b", "file name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply_t r = CONCERTO__COMMON__V1__REPLY__INIT;
        r.version = (char *)cases[i].version;
        r.content_type = (char *)cases[i].content_type;
        r.file_name = (char *)cases[i].file_name;
        const char *why = NULL;
        assert_int_equal(reply_render_headers(&r, etag, disposition, &why), -1);
        if (!why || !strstr(why, cases[i].why))
            fail_msg("case %zu: '%s' does not say '%s'", i, why ? why : "", cases[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_defaults_to_ok),
        cmocka_unit_test(test_result_is_rendered_by_its_type),
        cmocka_unit_test(test_no_result_is_an_empty_object),
        cmocka_unit_test(test_unreadable_results_say_why),
        cmocka_unit_test(test_error_names_fields_in_json),
        cmocka_unit_test(test_headers_from_version_and_document),
        cmocka_unit_test(test_headers_refuse_what_cannot_go_into_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
