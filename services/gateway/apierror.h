/* apierror: how the gateway turns outcomes into HTTP statuses and the JSON
 * error body every error carries:
 * {"error":{"code":"INVALID_ARGUMENT","message":"...",
 *           "fields":[{"field":"...","description":"..."}]}}
 *
 * `code` is a wire Status name (status.h) for anything a service could also
 * answer, or one of the HTTP-level codes below for errors only the HTTP
 * layer has. */
#ifndef CONCERTO_GW_APIERROR_H
#define CONCERTO_GW_APIERROR_H

#include <jansson.h>
#include <stddef.h>

/* HTTP-level codes (no wire Status says these). */
#define APIERROR_METHOD_NOT_ALLOWED "METHOD_NOT_ALLOWED"
#define APIERROR_NOT_ACCEPTABLE "NOT_ACCEPTABLE"
#define APIERROR_LENGTH_REQUIRED "LENGTH_REQUIRED"
#define APIERROR_PAYLOAD_TOO_LARGE "PAYLOAD_TOO_LARGE"
#define APIERROR_URI_TOO_LONG "URI_TOO_LONG"
#define APIERROR_HEADERS_TOO_LARGE "HEADERS_TOO_LARGE"
#define APIERROR_UNSUPPORTED_MEDIA_TYPE "UNSUPPORTED_MEDIA_TYPE"
#define APIERROR_REQUEST_TIMEOUT "REQUEST_TIMEOUT"
#define APIERROR_BAD_GATEWAY "BAD_GATEWAY"

typedef struct {
    const char *field;
    const char *description;
} apierror_field_t;

/* The HTTP status for a reply `status` (a wire Status value); `ok_status`
 * is the route's status for OK. Unknown values are 500. */
int apierror_http_status(int status, int ok_status);

/* The error code for an HTTP status the gateway produces itself:
 * 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 404 NOT_FOUND, 405
 * METHOD_NOT_ALLOWED, ... */
const char *apierror_code_for_http(int http_status);

/* The inner object of the error document ({"code", "message", "fields"}),
 * new reference. Text that is not valid UTF-8 is repaired (U+FFFD), so any
 * service message can be passed. */
json_t *apierror_json(const char *code, const char *message, const apierror_field_t *fields,
                      size_t n_fields);
/* Appends one {"field", "description"} to an object from apierror_json. */
void apierror_add_field(json_t *error, const char *field, const char *description);

/* The error document around `error` (an object from apierror_json, taken),
 * compact JSON, as a new NUL-terminated string the caller frees; *len (if
 * not NULL) gets its length. */
char *apierror_text(json_t *error, size_t *len);
/* apierror_text(apierror_json(...)). */
char *apierror_body(const char *code, const char *message, const apierror_field_t *fields,
                    size_t n_fields, size_t *len);

#endif
