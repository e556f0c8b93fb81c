/* auth: bearer tokens and roles (see auth.h). */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "textfile.h"
#include "xalloc.h"

struct auth {
    auth_token_t *tokens;
    size_t n, cap;
};

static const char *const auth_role_names[] = {"public", "reader", "operator", "admin"};

const char *auth_role_name(auth_role_t role)
{
    return role <= AUTH_ADMIN ? auth_role_names[role] : "unknown";
}

int auth_role_parse(const char *name, auth_role_t *out)
{
    for (int i = AUTH_PUBLIC; i <= AUTH_ADMIN; i++) {
        if (strcasecmp(name, auth_role_names[i]) == 0) {
            *out = (auth_role_t)i;
            return 0;
        }
    }
    return -1;
}

auth_t *auth_new(void)
{
    return xcalloc(1, sizeof(auth_t));
}

void auth_destroy(auth_t **self_p)
{
    if (!*self_p)
        return;
    sodium_memzero((*self_p)->tokens, (*self_p)->cap * sizeof(auth_token_t));
    free((*self_p)->tokens);
    free(*self_p);
    *self_p = NULL;
}

size_t auth_count(const auth_t *self)
{
    return self->n;
}

static int auth_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AUTH_MAX_NAME)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@' || c == ':'))
            return 0;
    }
    return 1;
}

int auth_load_text(auth_t *self, const char *text, char *err, size_t errlen)
{
    size_t first = self->n;
    textfile_lines_t it;
    textfile_lines_init(&it, text);
    while (textfile_lines_next(&it)) {
        const char *why = NULL;
        auth_token_t t;
        memset(&t, 0, sizeof t);
        if (it.too_long || it.too_many || it.n_fields != 3)
            why = "expected `<sha256-hex> <role> <name>`";
        else if (strlen(it.fields[0]) != 64 ||
                 sodium_hex2bin(t.hash, sizeof t.hash, it.fields[0], 64, NULL, NULL, NULL) != 0)
            why = "the hash must be 64 hex digits (sha256 of the token)";
        else if (auth_role_parse(it.fields[1], &t.role) != 0 || t.role == AUTH_PUBLIC)
            why = "the role must be reader, operator or admin";
        else if (!auth_name_valid(it.fields[2]))
            why = "the name must be 1-64 of A-Z a-z 0-9 . _ - @ :";
        for (size_t i = 0; !why && i < self->n; i++)
            if (sodium_memcmp(self->tokens[i].hash, t.hash, sizeof t.hash) == 0)
                why = "the same token hash appears twice";
        if (why) {
            snprintf(err, errlen, "line %d: %s", it.line_no, why);
            self->n = first;
            return -1;
        }
        snprintf(t.name, sizeof t.name, "%s", it.fields[2]);
        if (self->n == self->cap) {
            self->cap = self->cap ? 2 * self->cap : 8;
            self->tokens = xrealloc(self->tokens, self->cap * sizeof *self->tokens);
        }
        self->tokens[self->n++] = t;
    }
    return 0;
}

int auth_load_file(auth_t *self, const char *path, char *err, size_t errlen)
{
    char why[256];
    char *text = textfile_read(path, TEXTFILE_MAX_BYTES, why, sizeof why);
    if (!text) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    int rc = auth_load_text(self, text, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    sodium_memzero(text, strlen(text));
    free(text);
    return rc;
}

/* The token of an `Authorization: Bearer <token>` value, or NULL. */
static const char *auth_bearer(const char *header, size_t *len)
{
    if (strncasecmp(header, "Bearer ", 7) != 0)
        return NULL;
    const char *t = header + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    if (n == 0 || n > AUTH_MAX_TOKEN)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (t[i] <= ' ' || t[i] > '~')
            return NULL;
    *len = n;
    return t;
}

auth_result_t auth_authorize(const auth_t *self, const char *authorization, auth_role_t required,
                             int public_reads, const auth_token_t **who)
{
    *who = NULL;
    if (!authorization) {
        if (required == AUTH_PUBLIC || (required == AUTH_READER && public_reads))
            return AUTH_OK;
        return AUTH_MISSING;
    }
    size_t len = 0;
    const char *token = auth_bearer(authorization, &len);
    if (!token)
        return AUTH_INVALID;
    unsigned char hash[32];
    crypto_hash_sha256(hash, (const unsigned char *)token, len);
    /* Every entry is compared, so the time taken does not say which (or
     * whether one) matched. */
    const auth_token_t *found = NULL;
    for (size_t i = 0; i < self->n; i++) {
        int same = sodium_memcmp(self->tokens[i].hash, hash, sizeof hash) == 0;
        if (same)
            found = &self->tokens[i];
    }
    sodium_memzero(hash, sizeof hash);
    if (!found)
        return AUTH_INVALID;
    if (found->role < required)
        return AUTH_FORBIDDEN;
    *who = found;
    return AUTH_OK;
}
