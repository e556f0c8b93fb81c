/* auth: bearer tokens and roles for the gateway's HTTP API.
 *
 * Tokens are configured as SHA-256 hashes only (the tokens file, one
 * `<sha256-hex> <role> <name>` a line, `#` comments), so the file never holds
 * a usable secret. A presented token is hashed and compared with every entry
 * in constant time. Nothing here logs a token. */
#ifndef CONCERTO_GW_AUTH_H
#define CONCERTO_GW_AUTH_H

#include <stddef.h>

/* Ordered: a role allows everything the roles below it allow. */
typedef enum {
    AUTH_PUBLIC = 0, /* no token, ever (probes) */
    AUTH_READER,
    AUTH_OPERATOR,
    AUTH_ADMIN,
} auth_role_t;

#define AUTH_MAX_NAME 64
#define AUTH_MAX_TOKEN 4096

typedef struct {
    unsigned char hash[32];
    auth_role_t role;
    char name[AUTH_MAX_NAME + 1];
} auth_token_t;

typedef struct auth auth_t;

typedef enum {
    AUTH_OK = 0,
    AUTH_MISSING = -1,   /* 401: the route needs a token and none was given */
    AUTH_INVALID = -2,   /* 401: malformed header or unknown token */
    AUTH_FORBIDDEN = -3, /* 403: the token's role is below the route's */
} auth_result_t;

/* "public", "reader", "operator", "admin". */
const char *auth_role_name(auth_role_t role);
/* Case-insensitive; returns -1 for an unknown name. */
int auth_role_parse(const char *name, auth_role_t *out);

/* An empty token set (only public routes and, if allowed, reads work). */
auth_t *auth_new(void);
void auth_destroy(auth_t **self_p);

/* Adds the tokens in `text` (tokens-file syntax). On a bad line returns -1,
 * names the line in `err` and adds nothing from `text`. */
int auth_load_text(auth_t *self, const char *text, char *err, size_t errlen);
/* Reads and loads a tokens file (at most 1 MiB). */
int auth_load_file(auth_t *self, const char *path, char *err, size_t errlen);
size_t auth_count(const auth_t *self);

/* Decides whether a request may use a route needing `required`.
 * `authorization` is the Authorization header or NULL. A header that is
 * present must always be valid, even on a public route. On AUTH_OK, *who is
 * the matching token (borrowed from `self`) or NULL for an anonymous
 * request. */
auth_result_t auth_authorize(const auth_t *self, const char *authorization, auth_role_t required,
                             int public_reads, const auth_token_t **who);

#endif
