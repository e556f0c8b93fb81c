/* apierror: statuses and JSON error bodies (see apierror.h). */
#include "apierror.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "status.h"
#include "xalloc.h"

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

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t apierror_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

char *apierror_utf8_repair(const char *s, size_t n)
{
    /* Each bad byte becomes 3 bytes at most. */
    char *out = xmalloc(3 * n + 1);
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = apierror_utf8_seq(u + i, n - i);
        if (k) {
            memcpy(out + o, u + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static json_t *apierror_string(const char *s)
{
    char *fixed = apierror_utf8_repair(s ? s : "", s ? strlen(s) : 0);
    json_t *j = json_string_nocheck(fixed); /* repaired: valid, no NUL */
    free(fixed);
    return j;
}

json_t *apierror_json(const char *code, const char *message, const apierror_field_t *fields,
                      size_t n_fields)
{
    json_t *err = json_object();
    json_object_set_new_nocheck(err, "code", apierror_string(code));
    json_object_set_new_nocheck(err, "message", apierror_string(message));
    json_t *arr = json_array();
    for (size_t i = 0; i < n_fields; i++) {
        json_t *f = json_object();
        json_object_set_new_nocheck(f, "field", apierror_string(fields[i].field));
        json_object_set_new_nocheck(f, "description", apierror_string(fields[i].description));
        json_array_append_new(arr, f);
    }
    json_object_set_new_nocheck(err, "fields", arr);
    return err;
}

char *apierror_body(const char *code, const char *message, const apierror_field_t *fields,
                    size_t n_fields, size_t *len)
{
    json_t *doc = json_object();
    json_object_set_new_nocheck(doc, "error", apierror_json(code, message, fields, n_fields));
    size_t n = 0;
    char *text = json_text(doc, &n);
    json_decref(doc);
    if (len)
        *len = n;
    return text;
}
