/* reply_render: a service's Reply as the gateway's JSON, shared by the
 * one-service routes and the fan-out.
 *
 * An OK Reply's result is decoded by its `result_type` (looked up in the
 * type table, msg_types) and rendered with pb_json; a failed Reply becomes
 * the inner error object of the error document, its field violations'
 * proto paths turned into JSON names. Pure, so unit-tested. */
#ifndef CONCERTO_GW_REPLY_RENDER_H
#define CONCERTO_GW_REPLY_RENDER_H

#include <jansson.h>

#include "concerto/common/v1/envelope.pb-c.h"

/* The wire status of a Reply (OK when absent). */
int reply_render_status(const Concerto__Common__V1__Reply *reply);

/* The JSON of an OK Reply's result ({} when it has none), new reference;
 * NULL and *why when it cannot be read (unknown type, bytes that do not
 * decode, nesting too deep). */
json_t *reply_render_result(const Concerto__Common__V1__Reply *reply, const char **why);

/* A failed Reply's error object (apierror_json shape) for `status`, its
 * violations' field paths in JSON names, new reference. */
json_t *reply_render_error(const Concerto__Common__V1__Reply *reply, int status);

#define REPLY_RENDER_ETAG_MAX 160        /* "<tag>" and its NUL */
#define REPLY_RENDER_DISPOSITION_MAX 256 /* attachment; filename="<name>" */

/* The HTTP header values of an OK Reply: ETag from `version` ("\"tag\"",
 * "" when none) and, for a document, Content-Disposition from `file_name`
 * ("attachment; filename=\"x.csv\"", "" when none). Returns 0, or -1 and
 * *why when the service's version, content type or file name cannot go
 * into a header (too long, quotes, control or non-ASCII characters). */
int reply_render_headers(const Concerto__Common__V1__Reply *reply, char etag[REPLY_RENDER_ETAG_MAX],
                         char disposition[REPLY_RENDER_DISPOSITION_MAX], const char **why);

#endif
