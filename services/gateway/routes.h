/* routes: the gateway's route table and path matching.
 *
 * A route maps METHOD + path pattern ("/v1/tables/{tableId}") to a request
 * message sent to one service (or to every service: fan-out), or to one of
 * the gateway's own handlers. The compiled-in table is routes.def; more
 * routes, same columns, can be loaded from a file (routes_load_text), which
 * is how the system tests expose their test service. Matching prefers the
 * pattern whose literal segments come first (/v1/tables/search beats
 * /v1/tables/{tableId}); a path that matches only with another method gives
 * the methods for `Allow`. */
#ifndef CONCERTO_GW_ROUTES_H
#define CONCERTO_GW_ROUTES_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "auth.h"
#include "negotiate.h"

/* Where a route goes. First the services of common/services.def
 * (ROUTE_REGISTRY...), in its order everywhere in the gateway. */
typedef enum {
#define SERVICE(name, NAME, router_port, pub_port) ROUTE_##NAME,
#include "services.def"
#undef SERVICE
    ROUTE_N_SERVICES,
    ROUTE_ALL = ROUTE_N_SERVICES, /* fan-out: the request goes to every service */
    ROUTE_LOCAL,                  /* the gateway answers itself */
} route_target_t;

#define ROUTE_MAX_SEGMENTS 16
#define ROUTE_MAX_PARAMS 8

typedef struct {
    char *text; /* literal text, or the parameter's field name */
    int is_param;
} route_segment_t;

typedef struct {
    int method;    /* enum http_method */
    char *pattern; /* "/v1/tables/{tableId}" */
    char *label;   /* "GET /v1/tables/{tableId}", for metrics and logs */
    route_target_t target;
    const ProtobufCMessageDescriptor *request; /* NULL for local routes */
    /* The request field the JSON body fills; NULL: the body is the whole
     * request. */
    const ProtobufCFieldDescriptor *body_field;
    auth_role_t role;
    int ok_status;
    int local; /* local handler number, for ROUTE_LOCAL */
    /* The formats the route offers, in preference order (format_t); none
     * for a plain JSON route. */
    uint8_t formats[FORMAT_N];
    int n_formats;
    route_segment_t segments[ROUTE_MAX_SEGMENTS];
    int n_segments;
} route_t;

typedef struct routes routes_t;

/* Looks a message type up by its full name (msg_types_find). */
typedef const ProtobufCMessageDescriptor *(*routes_type_lookup_fn)(const char *full_name);

routes_t *routes_new(void);
void routes_destroy(routes_t **self_p);

/* Adds a route after checking it: the pattern is absolute, each `{x}`
 * names a field of the request (JSON or proto name, dotted paths into
 * sub-messages allowed), the body field is a singular message field, the
 * status is 2xx, and no route of the same method has the same shape.
 * Returns the route's index, or -1 with a message in `err`. */
int routes_add(routes_t *self, int method, const char *pattern, route_target_t target,
               const ProtobufCMessageDescriptor *request, const char *body_field, auth_role_t role,
               int ok_status, int local, char *err, size_t errlen);

/* Sets the formats route `index` offers ("csv,xlsx,json", format_list_parse):
 * its answers may be documents, chosen with `?format=` or Accept. Only for
 * routes to one service. Returns 0, or -1 with a message in `err`. */
int routes_set_formats(routes_t *self, int index, const char *formats, char *err, size_t errlen);

/* Adds routes from text, one a line, the columns of routes.def:
 *   METHOD /path/{param} SERVICE full.type.Name ROLE body_field|- ok_status [formats=a,b]
 * SERVICE is a name of common/services.def or all; the optional last
 * column lists the formats of a document route. Returns 0, or -1 naming
 * the bad line in `err` (routes before it stay added). */
int routes_load_text(routes_t *self, const char *text, routes_type_lookup_fn lookup, char *err,
                     size_t errlen);
int routes_load_file(routes_t *self, const char *path, routes_type_lookup_fn lookup, char *err,
                     size_t errlen);

size_t routes_count(const routes_t *self);
const route_t *routes_at(const routes_t *self, size_t i);

typedef struct {
    const char *name; /* the route's parameter name (borrowed) */
    char *value;      /* percent-decoded, NUL-terminated */
} route_param_t;

typedef struct {
    int index; /* of the route */
    const route_t *route;
    route_param_t params[ROUTE_MAX_PARAMS];
    int n_params;
} route_match_t;

typedef enum {
    ROUTES_FOUND = 0,
    ROUTES_NOT_FOUND = -1,
    ROUTES_METHOD_NOT_ALLOWED = -2, /* `allow` lists the methods, "GET, POST" */
    ROUTES_BAD_PATH = -3,           /* bad percent-encoding or a NUL */
} routes_result_t;

/* Matches a request path (no query string). On ROUTES_FOUND the caller
 * clears `m` with route_match_clear. */
routes_result_t routes_match(const routes_t *self, int method, const char *path, size_t len,
                             route_match_t *m, char *allow, size_t allow_len);
void route_match_clear(route_match_t *m);

/* Iterates `a=1&b=2` query strings: returns 1 with new decoded *key and
 * *value (caller frees both), 0 at the end, -1 on bad encoding or an empty
 * key. `*pos` starts at 0. */
int routes_query_next(const char *query, size_t len, size_t *pos, char **key, char **value);

/* "registry", "funding", "forum", "reporting", "all", "local". */
const char *routes_target_name(route_target_t t);
/* The service number for a name (case-insensitive), or -1. */
int routes_service_parse(const char *name);
/* The owning service of a type from its package (concerto.registry. ->
 * ROUTE_REGISTRY ...), or -1. */
int routes_service_for_type(const char *type);

#endif
