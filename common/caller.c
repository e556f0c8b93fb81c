/* caller: the authenticated caller of a request (see caller.h). */
#include "caller.h"

#include <string.h>

static const char *const caller_role_names[] = {"none",     "public", "reader",
                                                "operator", "admin",  "partner"};

caller_t caller_of(const envelope_t *env)
{
    caller_t out = {CALLER_NONE, ""};
    const Concerto__Common__V1__Caller *c = env ? env->caller : NULL;
    if (!c)
        return out;
    if (c->has_role && c->role >= 0 && c->role <= CONCERTO__COMMON__V1__ROLE__ROLE_PARTNER)
        out.role = (caller_role_t)c->role;
    if (c->name)
        out.name = c->name;
    return out;
}

const char *caller_role_name(caller_role_t role)
{
    return role <= CALLER_PARTNER ? caller_role_names[role] : "none";
}

int caller_identified(const caller_t *caller)
{
    return caller->role >= CALLER_READER;
}

char *const *caller_scope(const envelope_t *env, const char *name, size_t *n)
{
    *n = 0;
    const Concerto__Common__V1__Caller *c = env ? env->caller : NULL;
    for (size_t i = 0; c && i < c->n_scopes; i++) {
        const Concerto__Common__V1__Scope *s = c->scopes[i];
        if (s->name && strcmp(s->name, name) == 0) {
            *n = s->n_values;
            return s->values;
        }
    }
    return NULL;
}

int caller_scope_allows(const envelope_t *env, const char *name, const char *value)
{
    if (caller_of(env).role != CALLER_PARTNER)
        return 1;
    size_t n = 0;
    char *const *values = caller_scope(env, name, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(values[i], "*") == 0 || (value && strcmp(values[i], value) == 0))
            return 1;
    return 0;
}

int caller_check(const Concerto__Common__V1__Caller *caller, int (*text_valid)(const char *s))
{
    if (!text_valid(caller->name) || caller->n_scopes > CALLER_MAX_SCOPES)
        return 0;
    for (size_t i = 0; i < caller->n_scopes; i++) {
        const Concerto__Common__V1__Scope *s = caller->scopes[i];
        if (!s->name || !*s->name || !text_valid(s->name) || s->n_values > CALLER_MAX_SCOPE_VALUES)
            return 0;
        for (size_t j = 0; j < s->n_values; j++)
            if (!text_valid(s->values[j]))
                return 0;
    }
    return 1;
}
