/* libFuzzer target for the gateway's HTTP request reader (http_request.c)
 * and what the gateway does next with a request (routes.c): bytes, fed in
 * slices whose size the first input byte picks, as the server feeds
 * socket reads -> requests -> route match and query-string decoding.
 *
 * Beyond "no crash, no leak, no UB" it checks the reader's contract: it
 * never consumes more than it is given, a complete request's pointers lie
 * in its buffers and respect its limits, and after an error it consumes
 * nothing more. */
#include <http_parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "concerto/test/v1/gateway_test.pb-c.h"
#include "http_request.h"
#include "routes.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static routes_t *fuzz_routes;
static http_limits_t fuzz_limits;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    http_limits_default(&fuzz_limits);
    fuzz_limits.max_url = 512;
    fuzz_limits.max_header_bytes = 2048;
    fuzz_limits.max_headers = 16;
    fuzz_limits.max_body = 4096;
    http_request_set_global_limit(fuzz_limits.max_header_bytes);
    fuzz_routes = routes_new();
    char err[256];
    const ProtobufCMessageDescriptor *echo = &concerto__test__v1__echo_request__descriptor;
    routes_add(fuzz_routes, HTTP_GET, "/v1/tables/{id}", ROUTE_REGISTRY, echo, NULL, AUTH_READER,
               200, -1, err, sizeof err);
    routes_add(fuzz_routes, HTTP_POST, "/v1/tables/{tableId}/things", ROUTE_FUNDING, echo, "thing",
               AUTH_OPERATOR, 201, -1, err, sizeof err);
    routes_add(fuzz_routes, HTTP_GET, "/v1/tables/search", ROUTE_REGISTRY, echo, NULL, AUTH_READER,
               200, -1, err, sizeof err);
    return 0;
}

static void fuzz_use_request(const http_request_t *req)
{
    CHECK(req->url_len <= fuzz_limits.max_url && strlen(req->url) == req->url_len);
    CHECK(req->path >= req->url && req->path + req->path_len <= req->url + req->url_len);
    CHECK(req->path_len > 0 && req->path[0] == '/');
    CHECK(req->body_len <= fuzz_limits.max_body);
    CHECK((req->body == NULL) == (req->body_len == 0));
    if (req->query)
        CHECK(req->query + req->query_len <= req->url + req->url_len);
    if (req->authorization)
        CHECK(strlen(req->authorization) <= fuzz_limits.max_header_bytes);
    route_match_t m;
    char allow[64];
    if (routes_match(fuzz_routes, req->method, req->path, req->path_len, &m, allow, sizeof allow) ==
        ROUTES_FOUND) {
        for (int i = 0; i < m.n_params; i++)
            CHECK(m.params[i].value != NULL);
        route_match_clear(&m);
    }
    size_t pos = 0;
    char *key, *value;
    int rc;
    while (req->query &&
           (rc = routes_query_next(req->query, req->query_len, &pos, &key, &value)) != 0) {
        if (rc < 0)
            break;
        CHECK(key[0] != '\0');
        free(key);
        free(value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t slice = (size_t)data[0] % 64 + 1;
    const char *in = (const char *)data + 1;
    size_t len = size - 1, off = 0;
    http_reader_t *r = http_reader_new(&fuzz_limits);
    int failed = 0;
    while (off < len && !failed) {
        size_t n = len - off < slice ? len - off : slice, used = 0;
        http_reader_result_t res = http_reader_feed(r, in + off, n, &used);
        CHECK(used <= n);
        off += used;
        if (res == HTTP_READER_DONE) {
            fuzz_use_request(http_reader_request(r));
            http_reader_next(r);
        } else if (res == HTTP_READER_ERROR) {
            const char *msg = NULL;
            int status = http_reader_error(r, &msg);
            CHECK(status >= 400 && status < 500 && msg != NULL);
            size_t again = 0;
            CHECK(http_reader_feed(r, in + off, len - off, &again) == HTTP_READER_ERROR);
            CHECK(again == 0);
            failed = 1;
        } else {
            CHECK(used == n);
        }
    }
    http_reader_destroy(&r);
    return 0;
}
