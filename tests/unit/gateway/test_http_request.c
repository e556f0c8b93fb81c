/* Tests for http_request: the request reader around http-parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <http_parser.h>

#include "http_request.h"

static http_reader_t *reader(void)
{
    http_limits_t l;
    http_limits_default(&l);
    l.max_url = 100;
    l.max_header_bytes = 400;
    l.max_headers = 5;
    l.max_body = 50;
    return http_reader_new(&l);
}

static int setup(void **state)
{
    (void)state;
    http_request_set_global_limit(400);
    return 0;
}

static void test_reads_one_request_with_selected_headers_and_body(void **state)
{
    (void)state;
    http_reader_t *r = reader();
    const char *text = "POST /v1/x/y?a=1&b=2 HTTP/1.1\r\nHost: h\r\nCONTENT-type: "
                       "application/json\r\nAuthorization: Bearer t\r\nIdempotency-Key: k1\r\n"
                       "Content-Length: 7\r\n\r\n{\"a\":1}";
    size_t used = 0;
    assert_int_equal(http_reader_feed(r, text, strlen(text), &used), HTTP_READER_DONE);
    assert_int_equal(used, strlen(text));
    const http_request_t *req = http_reader_request(r);
    assert_int_equal(req->method, HTTP_POST);
    assert_string_equal(req->url, "/v1/x/y?a=1&b=2");
    assert_int_equal(req->path_len, 7);
    assert_memory_equal(req->path, "/v1/x/y", 7);
    assert_int_equal(req->query_len, 7);
    assert_memory_equal(req->query, "a=1&b=2", 7);
    assert_string_equal(req->content_type, "application/json");
    assert_string_equal(req->authorization, "Bearer t");
    assert_string_equal(req->idempotency_key, "k1");
    assert_null(req->accept);
    assert_null(req->if_none_match);
    assert_false(req->http_1_0);
    assert_int_equal(req->body_len, 7);
    assert_memory_equal(req->body, "{\"a\":1}", 7);
    assert_true(req->keep_alive);
    http_reader_destroy(&r);
    assert_null(r);
}

static void test_reads_negotiation_headers_and_the_version(void **state)
{
    (void)state;
    http_reader_t *r = reader();
    const char *text = "GET /doc HTTP/1.0\r\naccept: text/csv;q=0.5, */*\r\n"
                       "If-None-Match: W/\"a\", \"b\"\r\n\r\n";
    size_t used = 0;
    assert_int_equal(http_reader_feed(r, text, strlen(text), &used), HTTP_READER_DONE);
    const http_request_t *req = http_reader_request(r);
    assert_string_equal(req->accept, "text/csv;q=0.5, */*");
    assert_string_equal(req->if_none_match, "W/\"a\", \"b\"");
    assert_true(req->http_1_0);
    http_reader_destroy(&r);
}

static void test_stops_at_the_end_of_each_pipelined_request(void **state)
{
    (void)state;
    http_reader_t *r = reader();
    const char *text = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
    size_t used = 0, off = 0;
    assert_int_equal(http_reader_feed(r, text, strlen(text), &used), HTTP_READER_DONE);
    assert_int_equal(used, strlen("GET /a HTTP/1.1\r\n\r\n"));
    assert_string_equal(http_reader_request(r)->url, "/a");
    /* Until the caller moves on, nothing more is consumed. */
    assert_int_equal(http_reader_feed(r, text + used, strlen(text) - used, &off), HTTP_READER_DONE);
    assert_int_equal(off, 0);
    off = used;
    http_reader_next(r);
    assert_int_equal(http_reader_feed(r, text + off, strlen(text) - off, &used), HTTP_READER_DONE);
    assert_string_equal(http_reader_request(r)->url, "/b");
    assert_false(http_reader_request(r)->keep_alive);
    http_reader_destroy(&r);
}

static void test_byte_at_a_time_gives_the_same_request(void **state)
{
    (void)state;
    http_reader_t *r = reader();
    const char *text = "PUT /p%20q HTTP/1.1\r\nAuthoriz";
    const char *rest = "ation: Bearer abc\r\nContent-Length: 3\r\n\r\nxyz";
    char all[256];
    snprintf(all, sizeof all, "%s%s", text, rest);
    for (size_t i = 0; i < strlen(all); i++) {
        size_t used = 0;
        int res = http_reader_feed(r, all + i, 1, &used);
        assert_int_equal(used, 1);
        assert_int_equal(res, i + 1 == strlen(all) ? HTTP_READER_DONE : HTTP_READER_MORE);
        assert_true(http_reader_started(r));
    }
    const http_request_t *req = http_reader_request(r);
    assert_string_equal(req->url, "/p%20q");
    assert_string_equal(req->authorization, "Bearer abc");
    assert_memory_equal(req->body, "xyz", 3);
    http_reader_destroy(&r);
}

static void expect_error(const char *text, int status)
{
    http_reader_t *r = reader();
    size_t used = 0;
    int res = http_reader_feed(r, text, strlen(text), &used);
    if (res != HTTP_READER_ERROR)
        fail_msg("accepted: %s", text);
    const char *msg = NULL;
    assert_int_equal(http_reader_error(r, &msg), status);
    assert_non_null(msg);
    assert_int_equal(http_reader_feed(r, "GET / HTTP/1.1\r\n\r\n", 18, &used), HTTP_READER_ERROR);
    http_reader_destroy(&r);
}

static void test_limits_give_their_statuses(void **state)
{
    (void)state;
    char url[300], headers[600], many[300];
    snprintf(url, sizeof url, "GET /%0200d HTTP/1.1\r\n\r\n", 0);
    expect_error(url, 414);
    snprintf(headers, sizeof headers, "GET / HTTP/1.1\r\nX: %0450d\r\n\r\n", 0);
    expect_error(headers, 431);
    snprintf(many, sizeof many,
             "GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: "
             "1\r\n\r\n");
    expect_error(many, 431);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 51\r\n\r\n", 413);
    expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
}

static void test_malformed_requests_are_400(void **state)
{
    (void)state;
    const char *bad[] = {
        "NOPE / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.x\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX: \x01\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET / HTTP/1.1\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n\r\n",
        "CONNECT h:1 HTTP/1.1\r\n\r\n",
        "GET * HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(bad[i], 400);
}

static void test_expect_continue_is_reported_until_the_body_arrives(void **state)
{
    (void)state;
    http_reader_t *r = reader();
    const char *head = "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
    size_t used = 0;
    assert_int_equal(http_reader_feed(r, head, strlen(head), &used), HTTP_READER_MORE);
    assert_true(http_reader_headers_done(r));
    assert_true(http_reader_expects_continue(r));
    assert_int_equal(http_reader_feed(r, "ok", 2, &used), HTTP_READER_DONE);
    assert_false(http_reader_expects_continue(r));
    assert_true(http_reader_request(r)->expect_continue);
    http_reader_destroy(&r);
}

static void test_http10_is_not_kept_alive_by_default(void **state)
{
    (void)state;
    http_reader_t *r = reader();
    size_t used = 0;
    assert_int_equal(http_reader_feed(r, "GET / HTTP/1.0\r\n\r\n", 18, &used), HTTP_READER_DONE);
    assert_false(http_reader_request(r)->keep_alive);
    http_reader_next(r);
    assert_false(http_reader_started(r));
    const char *ka = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    assert_int_equal(http_reader_feed(r, ka, strlen(ka), &used), HTTP_READER_DONE);
    assert_true(http_reader_request(r)->keep_alive);
    http_reader_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_one_request_with_selected_headers_and_body),
        cmocka_unit_test(test_reads_negotiation_headers_and_the_version),
        cmocka_unit_test(test_stops_at_the_end_of_each_pipelined_request),
        cmocka_unit_test(test_byte_at_a_time_gives_the_same_request),
        cmocka_unit_test(test_limits_give_their_statuses),
        cmocka_unit_test(test_malformed_requests_are_400),
        cmocka_unit_test(test_expect_continue_is_reported_until_the_body_arrives),
        cmocka_unit_test(test_http10_is_not_kept_alive_by_default),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
