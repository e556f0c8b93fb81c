/* partner_policy: the partner allow-list and accepted types (see
 * partner_policy.h). */
#include "partner_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "textfile.h"
#include "xalloc.h"

typedef struct {
    char *type;
    int service;
} partner_type_t;

struct partner_policy {
    partner_entry_t *partners;
    size_t n, cap;
    partner_type_t *types;
    size_t n_types;
};

partner_policy_t *partner_policy_new(void)
{
    return xcalloc(1, sizeof(partner_policy_t));
}

static void partner_entry_clear(partner_entry_t *p)
{
    for (size_t i = 0; i < p->n_scopes; i++) {
        partner_scope_t *sc = &p->scopes[i];
        for (size_t j = 0; j < sc->n_values; j++)
            free(sc->values[j]);
        free(sc->values);
        free(sc->name);
    }
    free(p->scopes);
    p->scopes = NULL;
    p->n_scopes = 0;
}

static void partner_policy_clear_types(partner_policy_t *self)
{
    for (size_t i = 0; i < self->n_types; i++)
        free(self->types[i].type);
    free(self->types);
    self->types = NULL;
    self->n_types = 0;
}

void partner_policy_destroy(partner_policy_t **self_p)
{
    partner_policy_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        partner_entry_clear(&self->partners[i]);
    free(self->partners);
    partner_policy_clear_types(self);
    free(self);
    *self_p = NULL;
}

size_t partner_policy_count(const partner_policy_t *self)
{
    return self->n;
}

static int partner_name_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int partner_scope_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > PARTNER_MAX_SCOPE_NAME || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Parses `name=a,b` or `name=*` into a new scope of `p`; returns a reason
 * or NULL. */
static const char *partner_parse_scope(partner_entry_t *p, const char *field)
{
    const char *eq = strchr(field, '=');
    size_t nlen = eq ? (size_t)(eq - field) : 0;
    if (!eq || !partner_scope_name_valid(field, nlen))
        return "a scope is name=value,value or name=*, the name [a-z][a-z0-9_]*, at most 32";
    for (size_t i = 0; i < p->n_scopes; i++)
        if (strlen(p->scopes[i].name) == nlen && strncmp(p->scopes[i].name, field, nlen) == 0)
            return "the same scope appears twice";
    if (p->n_scopes == PARTNER_MAX_SCOPES)
        return "more than 32 scopes";
    p->scopes = xrealloc(p->scopes, (p->n_scopes + 1) * sizeof *p->scopes);
    partner_scope_t *sc = &p->scopes[p->n_scopes++];
    memset(sc, 0, sizeof *sc);
    sc->name = xstrndup(field, nlen);
    const char *list = eq + 1;
    if (strcmp(list, "*") == 0) {
        sc->values = xmalloc(sizeof *sc->values);
        sc->values[sc->n_values++] = xstrdup("*");
        return NULL;
    }
    for (const char *s = list;;) {
        size_t n = strcspn(s, ",");
        char *value = xstrndup(s, n);
        if (!partner_name_valid(value, PARTNER_MAX_VALUE)) {
            free(value);
            return "scope values are 1-64 of A-Z a-z 0-9 . _ -, or * alone";
        }
        sc->values = xrealloc(sc->values, (sc->n_values + 1) * sizeof *sc->values);
        sc->values[sc->n_values++] = value;
        if (!s[n])
            return NULL;
        s += n + 1;
    }
}

int partner_policy_load_text(partner_policy_t *self, const char *text, char *err, size_t errlen)
{
    size_t first = self->n;
    textfile_lines_t it;
    textfile_lines_init(&it, text);
    while (textfile_lines_next(&it)) {
        partner_entry_t p;
        memset(&p, 0, sizeof p);
        const char *why = NULL;
        if (it.too_long || it.too_many || it.n_fields < 2)
            why = "expected `<z85 public key> <partner-name> [scope=value,value|* ...]`";
        else if (strlen(it.fields[0]) != 40 || !zmq_z85_decode(p.key, it.fields[0]))
            why = "the key must be 40 characters of Z85 (a CURVE public key)";
        else if (!partner_name_valid(it.fields[1], PARTNER_MAX_NAME))
            why = "the name must be 1-64 of A-Z a-z 0-9 . _ -";
        for (int f = 2; !why && f < it.n_fields; f++)
            why = partner_parse_scope(&p, it.fields[f]);
        for (size_t i = 0; !why && i < self->n; i++) {
            if (memcmp(self->partners[i].key, p.key, sizeof p.key) == 0)
                why = "the same key appears twice";
            else if (strcmp(self->partners[i].name, it.fields[1]) == 0)
                why = "the same partner name appears twice";
        }
        if (why) {
            snprintf(err, errlen, "line %d: %s", it.line_no, why);
            partner_entry_clear(&p);
            while (self->n > first)
                partner_entry_clear(&self->partners[--self->n]);
            return -1;
        }
        snprintf(p.name, sizeof p.name, "%s", it.fields[1]);
        if (self->n == self->cap) {
            self->cap = self->cap ? 2 * self->cap : 8;
            self->partners = xrealloc(self->partners, self->cap * sizeof *self->partners);
        }
        self->partners[self->n++] = p;
    }
    return 0;
}

int partner_policy_load_file(partner_policy_t *self, const char *path, char *err, size_t errlen)
{
    char why[256];
    char *text = textfile_read(path, TEXTFILE_MAX_BYTES, why, sizeof why);
    if (!text) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    int rc = partner_policy_load_text(self, text, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    free(text);
    return rc;
}

const partner_entry_t *partner_policy_find_key(const partner_policy_t *self, const uint8_t key[32])
{
    for (size_t i = 0; i < self->n; i++)
        if (memcmp(self->partners[i].key, key, 32) == 0)
            return &self->partners[i];
    return NULL;
}

const partner_entry_t *partner_policy_find_name(const partner_policy_t *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->partners[i].name, name) == 0)
            return &self->partners[i];
    return NULL;
}

const partner_scope_t *partner_policy_scope(const partner_entry_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_scopes; i++)
        if (strcmp(p->scopes[i].name, name) == 0)
            return &p->scopes[i];
    return NULL;
}

int partner_policy_allows_table(const partner_entry_t *p, const char *table_id)
{
    const partner_scope_t *sc = partner_policy_scope(p, "tables");
    for (size_t i = 0; sc && i < sc->n_values; i++)
        if (strcmp(sc->values[i], "*") == 0 || strcmp(sc->values[i], table_id) == 0)
            return 1;
    return 0;
}

static int partner_type_name_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 200 || t[0] == '.' || t[n - 1] == '.' || !strchr(t, '.'))
        return 0;
    for (const char *p = t; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (c == '.' && p[1] != '.')))
            return 0;
    }
    return 1;
}

int partner_policy_set_types(partner_policy_t *self, const char *list,
                             int (*service_of)(const char *name),
                             int (*service_of_type)(const char *type), char *err, size_t errlen)
{
    partner_policy_clear_types(self);
    const char *s = list;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!*s)
            break;
        size_t n = strcspn(s, ", ");
        char *item = xstrndup(s, n);
        s += n;
        char *eq = strchr(item, '=');
        if (eq)
            *eq = '\0';
        int svc = eq ? service_of(eq + 1) : service_of_type(item);
        const char *why = NULL;
        if (!partner_type_name_valid(item))
            why = "is not a full message type name";
        else if (svc < 0)
            why = eq ? "names an unknown service" : "belongs to no service (add =service)";
        for (size_t i = 0; !why && i < self->n_types; i++)
            if (strcmp(self->types[i].type, item) == 0)
                why = "is listed twice";
        if (why) {
            snprintf(err, errlen, "partner type '%.200s' %s", item, why);
            free(item);
            partner_policy_clear_types(self);
            return -1;
        }
        self->types = xrealloc(self->types, (self->n_types + 1) * sizeof *self->types);
        self->types[self->n_types].type = item;
        self->types[self->n_types].service = svc;
        self->n_types++;
    }
    return 0;
}

int partner_policy_type_service(const partner_policy_t *self, const char *type)
{
    for (size_t i = 0; i < self->n_types; i++)
        if (strcmp(self->types[i].type, type) == 0)
            return self->types[i].service;
    return -1;
}

size_t partner_policy_type_count(const partner_policy_t *self)
{
    return self->n_types;
}

const char *partner_policy_type_name(const partner_policy_t *self, size_t i)
{
    return i < self->n_types ? self->types[i].type : NULL;
}
