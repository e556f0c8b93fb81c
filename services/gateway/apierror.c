/* apierror: statuses and JSON error bodies (see apierror.h). */
#include "apierror.h"

#include <jansson.h>
#include <string.h>

#include "json_text.h"
#include "pb_json.h"
#include "status.h"

int apierror_http_status(int status, int ok_status)
{
    switch (status) {
    case STATUS_OK:
        return ok_status;
    case STATUS_INVALID_ARGUMENT:
        return 400;
    case STATUS_NOT_FOUND:
        return 404;
    case STATUS_CONFLICT:
    case STATUS_FAILED_PRECONDITION:
        return 409;
    case STATUS_UNAUTHENTICATED:
        return 401;
    case STATUS_PERMISSION_DENIED:
        return 403;
    case STATUS_UNAVAILABLE:
        return 503;
    case STATUS_DEADLINE_EXCEEDED:
        return 504;
    default:
        return 500;
    }
}

const char *apierror_code_for_http(int http_status)
{
    switch (http_status) {
    case 400:
        return "INVALID_ARGUMENT";
    case 401:
        return "UNAUTHENTICATED";
    case 403:
        return "PERMISSION_DENIED";
    case 404:
        return "NOT_FOUND";
    case 405:
        return APIERROR_METHOD_NOT_ALLOWED;
    case 406:
        return APIERROR_NOT_ACCEPTABLE;
    case 408:
        return APIERROR_REQUEST_TIMEOUT;
    case 409:
        return "CONFLICT";
    case 411:
        return APIERROR_LENGTH_REQUIRED;
    case 413:
        return APIERROR_PAYLOAD_TOO_LARGE;
    case 414:
        return APIERROR_URI_TOO_LONG;
    case 415:
        return APIERROR_UNSUPPORTED_MEDIA_TYPE;
    case 431:
        return APIERROR_HEADERS_TOO_LARGE;
    case 502:
        return APIERROR_BAD_GATEWAY;
    case 503:
        return "UNAVAILABLE";
    case 504:
        return "DEADLINE_EXCEEDED";
    default:
        return "INTERNAL";
    }
}

static json_t *apierror_string(const char *s)
{
    return pb_json_text(s ? s : "", s ? strlen(s) : 0);
}

void apierror_add_field(json_t *error, const char *field, const char *description)
{
    json_t *f = json_object();
    json_object_set_new_nocheck(f, "field", apierror_string(field));
    json_object_set_new_nocheck(f, "description", apierror_string(description));
    json_array_append_new(json_object_get(error, "fields"), f);
}

json_t *apierror_json(const char *code, const char *message, const apierror_field_t *fields,
                      size_t n_fields)
{
    json_t *err = json_object();
    json_object_set_new_nocheck(err, "code", apierror_string(code));
    json_object_set_new_nocheck(err, "message", apierror_string(message));
    json_object_set_new_nocheck(err, "fields", json_array());
    for (size_t i = 0; i < n_fields; i++)
        apierror_add_field(err, fields[i].field, fields[i].description);
    return err;
}

char *apierror_text(json_t *error, size_t *len)
{
    json_t *doc = json_object();
    json_object_set_new_nocheck(doc, "error", error);
    size_t n = 0;
    char *text = json_text(doc, &n);
    json_decref(doc);
    if (len)
        *len = n;
    return text;
}

char *apierror_body(const char *code, const char *message, const apierror_field_t *fields,
                    size_t n_fields, size_t *len)
{
    return apierror_text(apierror_json(code, message, fields, n_fields), len);
}
