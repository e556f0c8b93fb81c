/* request_build: an HTTP request turned into the request message a route
 * sends to its service, and the checks on the headers that travel with it.
 *
 * Pure (no loop, no sockets), so that every way a client can get a request
 * wrong is unit-tested: the body (JSON only, an object that fits the
 * request message or its body field), the path parameters, the query
 * string (at most REQUEST_BUILD_MAX_QUERY_PARAMS), and the Idempotency-Key
 * header. */
#ifndef CONCERTO_GW_REQUEST_BUILD_H
#define CONCERTO_GW_REQUEST_BUILD_H

#include <protobuf-c/protobuf-c.h>

#include "http_request.h"
#include "pb_json.h"
#include "routes.h"

#define REQUEST_BUILD_MAX_QUERY_PARAMS 64
#define REQUEST_BUILD_MAX_IDEMPOTENCY_KEY 200

/* Why a request could not be built: the HTTP status to answer (400, 415),
 * a message, and the field at fault (field.field[0] == 0 and
 * field.message[0] == 0: none). */
typedef struct {
    int status;
    char message[256];
    pb_json_error_t field;
} request_build_error_t;

/* Builds the request message of `route` from the JSON body (POST, PUT,
 * PATCH, DELETE; a GET's body is ignored), the path parameters of `m` and
 * the query string; parameters are applied after the body and win. On a
 * route that offers formats, the `format` parameter is not a field. Returns
 * 0 and *out (the caller frees it with protobuf_c_message_free_unpacked),
 * or -1 and `e`. */
int request_build(const route_t *route, const route_match_t *m, const http_request_t *req,
                  ProtobufCMessage **out, request_build_error_t *e);

/* The `format` query parameter: 1 and *value (the caller frees it), 0
 * when absent, -1 when the query is malformed or names it twice. */
int request_format_param(const http_request_t *req, char **value);

/* Whether an Idempotency-Key header value is acceptable: 1-200 printable
 * ASCII characters, not starting with "partner/" (the partner ingress's
 * namespace). */
int request_key_valid(const char *key);

#endif
