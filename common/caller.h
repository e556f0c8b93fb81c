/* caller: who a request comes from, as the gateway authenticated it and
 * wrote it into the request envelope (Envelope.caller): the role, the
 * token's or partner's name, and a partner's scopes from its allow-list
 * line (`funder=centraide`, `tables=*`).
 *
 * A daemon reads it to decide what to show (contact details only to
 * callers with a token) and which partner requests to refuse (the scopes
 * it owns). Until the links between the gateway and the daemons are
 * authenticated, whatever arrives on a daemon's ROUTER is trusted
 * (docs/architecture.md, "The caller"). Everything returned is borrowed
 * from the envelope. */
#ifndef CONCERTO_CALLER_H
#define CONCERTO_CALLER_H

#include <stddef.h>

#include "envelope.h"

/* The wire's Role, in its order: public < reader < operator < admin; a
 * partner is apart from them. */
typedef enum {
    CALLER_NONE = 0, /* not said: the daemon's own work, or a peer other than the gateway */
    CALLER_PUBLIC,   /* no token */
    CALLER_READER,
    CALLER_OPERATOR,
    CALLER_ADMIN,
    CALLER_PARTNER, /* a partner system through the CURVE ingress */
} caller_role_t;

typedef struct {
    caller_role_t role;
    const char *name; /* the token's or the partner's name; "" when none */
} caller_t;

#define CALLER_MAX_SCOPES 32
#define CALLER_MAX_SCOPE_VALUES 256

/* The caller of `env` (NULL: none). */
caller_t caller_of(const envelope_t *env);

/* "none", "public", "reader", "operator", "admin", "partner". */
const char *caller_role_name(caller_role_t role);

/* Whether the caller holds a token (any role from reader up) or is a
 * partner: someone the gateway has identified. */
int caller_identified(const caller_t *caller);

/* The values of the caller's scope `name` (NULL and *n = 0 when it has no
 * such scope). */
char *const *caller_scope(const envelope_t *env, const char *name, size_t *n);

/* Whether the caller may act on `value` under scope `name`: always for a
 * caller that is not a partner (tokens carry roles, not scopes); for a
 * partner, when its scope `name` lists `value` or "*". A partner without
 * the scope may act on nothing under it. */
int caller_scope_allows(const envelope_t *env, const char *name, const char *value);

/* The envelope checks for the caller's fields: bounded counts, and names
 * and values that are short valid UTF-8 (`text_valid`). Returns 1 when
 * they hold. */
int caller_check(const Concerto__Common__V1__Caller *caller, int (*text_valid)(const char *s));

#endif
