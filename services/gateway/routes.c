/* routes: the route table and path matching (see routes.h). */
#include "routes.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pb_json.h"
#include "textfile.h"
#include "xalloc.h"

struct routes {
    route_t *routes;
    size_t n, cap;
};

static const char *const routes_target_names[] = {
#define SERVICE(name, NAME, router_port, pub_port) #name,
#include "services.def"
#undef SERVICE
    "all", "local"};

const char *routes_target_name(route_target_t t)
{
    return t <= ROUTE_LOCAL ? routes_target_names[t] : "unknown";
}

int routes_service_parse(const char *name)
{
    for (int i = 0; i < ROUTE_N_SERVICES; i++)
        if (strcasecmp(name, routes_target_names[i]) == 0)
            return i;
    return -1;
}

int routes_service_for_type(const char *type)
{
    if (strncmp(type, "concerto.", 9) != 0)
        return -1;
    const char *pkg = type + 9;
    for (int i = 0; i < ROUTE_N_SERVICES; i++) {
        size_t n = strlen(routes_target_names[i]);
        if (strncmp(pkg, routes_target_names[i], n) == 0 && pkg[n] == '.')
            return i;
    }
    return -1;
}

routes_t *routes_new(void)
{
    return xcalloc(1, sizeof(routes_t));
}

static void route_clear(route_t *r)
{
    free(r->pattern);
    free(r->label);
    for (int i = 0; i < r->n_segments; i++)
        free(r->segments[i].text);
}

void routes_destroy(routes_t **self_p)
{
    routes_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        route_clear(&self->routes[i]);
    free(self->routes);
    free(self);
    *self_p = NULL;
}

size_t routes_count(const routes_t *self)
{
    return self->n;
}

const route_t *routes_at(const routes_t *self, size_t i)
{
    return i < self->n ? &self->routes[i] : NULL;
}

static int routes_ident_valid(const char *s, int dots)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (dots && c == '.')))
            return 0;
    }
    return 1;
}

/* Checks that `path` (dotted, JSON or proto names) reaches a settable field
 * of `desc`. */
static int routes_param_valid(const ProtobufCMessageDescriptor *desc, const char *path)
{
    char *copy = xstrdup(path);
    int ok = 0;
    char *save = NULL;
    char *part = strtok_r(copy, ".", &save);
    while (part && desc) {
        const ProtobufCFieldDescriptor *f = pb_json_find_field(desc, part);
        part = strtok_r(NULL, ".", &save);
        if (!f)
            break;
        if (!part) {
            ok = f->type != PROTOBUF_C_TYPE_MESSAGE;
            break;
        }
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            break;
        desc = f->descriptor;
    }
    free(copy);
    return ok;
}

static int routes_same_shape(const route_t *a, const route_t *b)
{
    if (a->n_segments != b->n_segments)
        return 0;
    for (int i = 0; i < a->n_segments; i++) {
        const route_segment_t *x = &a->segments[i], *y = &b->segments[i];
        if (x->is_param != y->is_param || (!x->is_param && strcmp(x->text, y->text) != 0))
            return 0;
    }
    return 1;
}

/* Splits and checks `pattern` into r->segments; returns a reason or NULL. */
static const char *routes_compile(route_t *r, const char *pattern)
{
    if (pattern[0] != '/' || strlen(pattern) > 512)
        return "the pattern must start with / and be at most 512 characters";
    const char *s = pattern + 1;
    int n_params = 0;
    for (;;) {
        size_t n = strcspn(s, "/");
        if (r->n_segments == ROUTE_MAX_SEGMENTS)
            return "too many segments";
        route_segment_t *seg = &r->segments[r->n_segments];
        if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
            seg->text = xstrndup(s + 1, n - 2);
            seg->is_param = 1;
            r->n_segments++;
            if (!routes_ident_valid(seg->text, 1))
                return "a parameter must be {name} with letters, digits, _ and .";
            if (++n_params > ROUTE_MAX_PARAMS)
                return "too many parameters";
            if (r->target == ROUTE_LOCAL)
                return "local routes take no parameters";
            if (!routes_param_valid(r->request, seg->text))
                return "a parameter names no settable field of the request";
        } else {
            seg->text = xstrndup(s, n);
            r->n_segments++;
            if (n == 0)
                return "empty segment (// or a trailing /)";
            for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr("-._~", c)))
                    return "literal segments may hold only A-Z a-z 0-9 - . _ ~";
            }
        }
        if (!s[n])
            break;
        s += n + 1;
    }
    return NULL;
}

int routes_add(routes_t *self, int method, const char *pattern, route_target_t target,
               const ProtobufCMessageDescriptor *request, const char *body_field, auth_role_t role,
               int ok_status, int local, char *err, size_t errlen)
{
    route_t r;
    memset(&r, 0, sizeof r);
    r.method = method;
    r.target = target;
    r.request = request;
    r.role = role;
    r.ok_status = ok_status;
    r.local = local;
    const char *why = NULL;
    if (target != ROUTE_LOCAL && !request)
        why = "a service route needs a request type";
    else if (ok_status < 200 || ok_status > 299)
        why = "the OK status must be 2xx";
    else if (role > AUTH_ADMIN)
        why = "unknown role";
    if (!why && body_field) {
        r.body_field = request ? pb_json_find_field(request, body_field) : NULL;
        if (!r.body_field || r.body_field->type != PROTOBUF_C_TYPE_MESSAGE ||
            r.body_field->label == PROTOBUF_C_LABEL_REPEATED)
            why = "the body field must be a singular message field of the request";
    }
    if (!why)
        why = routes_compile(&r, pattern);
    for (size_t i = 0; !why && i < self->n; i++)
        if (self->routes[i].method == method && routes_same_shape(&self->routes[i], &r))
            why = "another route has the same method and path shape";
    if (why) {
        snprintf(err, errlen, "%s %.512s: %s", http_method_str((enum http_method)method), pattern,
                 why);
        route_clear(&r);
        return -1;
    }
    r.pattern = xstrdup(pattern);
    r.label = xasprintf("%s %s", http_method_str((enum http_method)method), pattern);
    if (self->n == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 32;
        self->routes = xrealloc(self->routes, self->cap * sizeof *self->routes);
    }
    self->routes[self->n] = r;
    return (int)self->n++;
}

int routes_set_formats(routes_t *self, int index, const char *formats, char *err, size_t errlen)
{
    route_t *r = &self->routes[index];
    char why[160];
    int n = -1;
    if (r->target >= ROUTE_N_SERVICES)
        snprintf(why, sizeof why, "only a route to one service can offer formats");
    else
        n = format_list_parse(formats, r->formats, why, sizeof why);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", r->label, why);
        return -1;
    }
    r->n_formats = n;
    return 0;
}

static int routes_method_parse(const char *name)
{
    static const int methods[] = {HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, http_method_str((enum http_method)methods[i])) == 0)
            return methods[i];
    return -1;
}

int routes_load_text(routes_t *self, const char *text, routes_type_lookup_fn lookup, char *err,
                     size_t errlen)
{
    textfile_lines_t it;
    textfile_lines_init(&it, text);
    while (textfile_lines_next(&it)) {
        const char *why = NULL;
        int method = -1, target = -1;
        auth_role_t role = AUTH_PUBLIC;
        const ProtobufCMessageDescriptor *desc = NULL;
        char *end = NULL;
        long status = 0;
        if (it.too_long || it.too_many || it.n_fields < 7 || it.n_fields > 8 ||
            (it.n_fields == 8 && strncmp(it.fields[7], "formats=", 8) != 0)) {
            why = "expected `METHOD /path SERVICE type ROLE body_field|- ok_status "
                  "[formats=a,b]`";
        } else if ((method = routes_method_parse(it.fields[0])) < 0) {
            why = "the method must be GET, POST, PUT, PATCH or DELETE";
        } else if ((target = strcasecmp(it.fields[2], "all") == 0
                                 ? ROUTE_ALL
                                 : routes_service_parse(it.fields[2])) < 0) {
            why = "the service must be one of "
#define SERVICE(name, NAME, router_port, pub_port) #name ", "
#include "services.def"
#undef SERVICE
                  "or all";
        } else if (!(desc = lookup(it.fields[3]))) {
            why = "unknown request type";
        } else if (auth_role_parse(it.fields[4], &role) != 0) {
            why = "the role must be public, reader, operator or admin";
        } else {
            status = strtol(it.fields[6], &end, 10);
            if (*end || end == it.fields[6])
                why = "the status must be a number";
        }
        if (why) {
            snprintf(err, errlen, "line %d: %s", it.line_no, why);
            return -1;
        }
        const char *body = strcmp(it.fields[5], "-") == 0 ? NULL : it.fields[5];
        char why_add[600];
        int index = routes_add(self, method, it.fields[1], (route_target_t)target, desc, body, role,
                               (int)status, -1, why_add, sizeof why_add);
        if (index >= 0 && it.n_fields == 8 &&
            routes_set_formats(self, index, it.fields[7] + 8, why_add, sizeof why_add) != 0)
            index = -1;
        if (index < 0) {
            snprintf(err, errlen, "line %d: %s", it.line_no, why_add);
            return -1;
        }
    }
    return 0;
}

int routes_load_file(routes_t *self, const char *path, routes_type_lookup_fn lookup, char *err,
                     size_t errlen)
{
    char why[700];
    char *text = textfile_read(path, TEXTFILE_MAX_BYTES, why, sizeof why);
    if (!text) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    int rc = routes_load_text(self, text, lookup, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    free(text);
    return rc;
}

static int routes_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes n bytes of `s` into a new string; with `plus_space`,
 * '+' becomes ' ' (query strings). NULL on a bad escape or a decoded NUL. */
static char *routes_percent_decode(const char *s, size_t n, int plus_space)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            int h = routes_hex(s[i + 1]), l = routes_hex(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                free(out);
                return NULL;
            }
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        } else if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

int routes_query_next(const char *query, size_t len, size_t *pos, char **key, char **value)
{
    *key = *value = NULL;
    while (*pos < len && query[*pos] == '&')
        (*pos)++;
    if (*pos >= len)
        return 0;
    const char *start = query + *pos;
    const char *amp = memchr(start, '&', len - *pos);
    size_t n = amp ? (size_t)(amp - start) : len - *pos;
    *pos += n;
    const char *eq = memchr(start, '=', n);
    size_t klen = eq ? (size_t)(eq - start) : n;
    if (klen == 0)
        return -1;
    *key = routes_percent_decode(start, klen, 1);
    *value = eq ? routes_percent_decode(eq + 1, n - klen - 1, 1) : xstrdup("");
    if (!*key || !*value) {
        free(*key);
        free(*value);
        *key = *value = NULL;
        return -1;
    }
    return 1;
}

typedef struct {
    const char *start;
    size_t len;
} routes_piece_t;

/* Does `r` match these path segments? Returns its score (literal segments
 * earlier count more), or -1. */
static long routes_score(const route_t *r, const routes_piece_t *pieces, int n)
{
    if (r->n_segments != n)
        return -1;
    long score = 0;
    for (int i = 0; i < n; i++) {
        const route_segment_t *seg = &r->segments[i];
        if (seg->is_param) {
            if (pieces[i].len == 0)
                return -1;
            continue;
        }
        if (strlen(seg->text) != pieces[i].len ||
            memcmp(seg->text, pieces[i].start, pieces[i].len) != 0)
            return -1;
        score |= 1L << (ROUTE_MAX_SEGMENTS - 1 - i);
    }
    return score;
}

void route_match_clear(route_match_t *m)
{
    for (int i = 0; i < m->n_params; i++)
        free(m->params[i].value);
    m->n_params = 0;
    m->route = NULL;
}

routes_result_t routes_match(const routes_t *self, int method, const char *path, size_t len,
                             route_match_t *m, char *allow, size_t allow_len)
{
    memset(m, 0, sizeof *m);
    m->index = -1;
    if (allow_len)
        allow[0] = '\0';
    if (len == 0 || path[0] != '/')
        return ROUTES_NOT_FOUND;
    routes_piece_t pieces[ROUTE_MAX_SEGMENTS];
    int n = 0;
    const char *s = path + 1, *end = path + len;
    for (;;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        const char *stop = slash ? slash : end;
        if (n == ROUTE_MAX_SEGMENTS)
            return ROUTES_NOT_FOUND;
        pieces[n].start = s;
        pieces[n].len = (size_t)(stop - s);
        n++;
        if (!slash)
            break;
        s = slash + 1;
    }
    long best = -1;
    int best_i = -1, any = 0;
    for (size_t i = 0; i < self->n; i++) {
        const route_t *r = &self->routes[i];
        long score = routes_score(r, pieces, n);
        if (score < 0)
            continue;
        if (r->method != method) {
            /* Collect each other method once for Allow. */
            const char *name = http_method_str((enum http_method)r->method);
            size_t used = strlen(allow), nl = strlen(name);
            int seen = 0;
            for (const char *p = allow; (p = strstr(p, name)) != NULL; p += nl)
                if ((p == allow || p[-1] == ' ') && (p[nl] == ',' || p[nl] == '\0'))
                    seen = 1;
            if (!seen && used + nl + 3 < allow_len)
                snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", name);
            any = 1;
            continue;
        }
        if (score > best) {
            best = score;
            best_i = (int)i;
        }
    }
    if (best_i < 0)
        return any ? ROUTES_METHOD_NOT_ALLOWED : ROUTES_NOT_FOUND;
    const route_t *r = &self->routes[best_i];
    for (int i = 0; i < n; i++) {
        if (!r->segments[i].is_param)
            continue;
        char *v = routes_percent_decode(pieces[i].start, pieces[i].len, 0);
        if (!v) {
            route_match_clear(m);
            return ROUTES_BAD_PATH;
        }
        m->params[m->n_params].name = r->segments[i].text;
        m->params[m->n_params].value = v;
        m->n_params++;
    }
    m->index = best_i;
    m->route = r;
    return ROUTES_FOUND;
}
