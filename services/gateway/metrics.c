/* metrics: counters, histograms and the Prometheus text format (see
 * metrics.h). */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Upper bounds in seconds; a last +Inf bucket is implied. */
static const double metrics_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define METRICS_N_BOUNDS (sizeof metrics_bounds / sizeof metrics_bounds[0])
#define METRICS_MAX_STATUSES 24

typedef struct {
    char *label;
    int statuses[METRICS_MAX_STATUSES];
    uint64_t counts[METRICS_MAX_STATUSES];
    int n_statuses;
    uint64_t buckets[METRICS_N_BOUNDS + 1];
    double sum_seconds;
    uint64_t observations;
} metrics_route_t;

struct metrics {
    metrics_route_t *routes; /* n_routes, then "unmatched" */
    size_t n_routes;
    uint64_t partner[METRICS_PARTNER_N];
    uint64_t refused;
};

metrics_t *metrics_new(const char *const *labels, size_t n_routes)
{
    metrics_t *self = xcalloc(1, sizeof *self);
    self->n_routes = n_routes;
    self->routes = xcalloc(n_routes + 1, sizeof *self->routes);
    for (size_t i = 0; i < n_routes; i++)
        self->routes[i].label = xstrdup(labels[i]);
    self->routes[n_routes].label = xstrdup("unmatched");
    return self;
}

void metrics_destroy(metrics_t **self_p)
{
    metrics_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i <= self->n_routes; i++)
        free(self->routes[i].label);
    free(self->routes);
    free(self);
    *self_p = NULL;
}

void metrics_request(metrics_t *self, int route, int status, uint64_t duration_us)
{
    metrics_route_t *r =
        &self->routes[route >= 0 && (size_t)route < self->n_routes ? (size_t)route
                                                                   : self->n_routes];
    int i = 0;
    while (i < r->n_statuses && r->statuses[i] != status)
        i++;
    if (i == r->n_statuses) {
        /* HTTP statuses a route can produce are few; past the cap, the
         * rest share the last slot's status 0 ("other"). */
        if (r->n_statuses < METRICS_MAX_STATUSES) {
            r->statuses[r->n_statuses++] = status;
        } else {
            i = METRICS_MAX_STATUSES - 1;
            r->statuses[i] = 0;
        }
    }
    r->counts[i]++;
    double s = (double)duration_us / 1e6;
    size_t b = 0;
    while (b < METRICS_N_BOUNDS && s > metrics_bounds[b])
        b++;
    r->buckets[b]++;
    r->sum_seconds += s;
    r->observations++;
}

void metrics_partner(metrics_t *self, metrics_partner_t outcome)
{
    self->partner[outcome]++;
}

void metrics_connection_refused(metrics_t *self)
{
    self->refused++;
}

/* Route labels hold only the pattern's characters and one space, so they
 * need no escaping beyond this safety net. */
static void metrics_label(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

void metrics_render(const metrics_t *self, FILE *out)
{
    fputs("# HELP concerto_gateway_http_requests_total HTTP requests answered, by route and "
          "status.\n# TYPE concerto_gateway_http_requests_total counter\n",
          out);
    for (size_t i = 0; i <= self->n_routes; i++) {
        const metrics_route_t *r = &self->routes[i];
        for (int j = 0; j < r->n_statuses; j++) {
            fputs("concerto_gateway_http_requests_total{route=\"", out);
            metrics_label(out, r->label);
            fprintf(out, "\",status=\"%d\"} %llu\n", r->statuses[j],
                    (unsigned long long)r->counts[j]);
        }
    }
    fputs("# HELP concerto_gateway_http_request_duration_seconds Time from a request's last "
          "byte to its answer.\n# TYPE concerto_gateway_http_request_duration_seconds "
          "histogram\n",
          out);
    for (size_t i = 0; i <= self->n_routes; i++) {
        const metrics_route_t *r = &self->routes[i];
        if (!r->observations)
            continue;
        uint64_t cum = 0;
        for (size_t b = 0; b <= METRICS_N_BOUNDS; b++) {
            cum += r->buckets[b];
            fputs("concerto_gateway_http_request_duration_seconds_bucket{route=\"", out);
            metrics_label(out, r->label);
            if (b < METRICS_N_BOUNDS)
                fprintf(out, "\",le=\"%g\"} %llu\n", metrics_bounds[b], (unsigned long long)cum);
            else
                fprintf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        fputs("concerto_gateway_http_request_duration_seconds_sum{route=\"", out);
        metrics_label(out, r->label);
        fprintf(out, "\"} %.6f\n", r->sum_seconds);
        fputs("concerto_gateway_http_request_duration_seconds_count{route=\"", out);
        metrics_label(out, r->label);
        fprintf(out, "\"} %llu\n", (unsigned long long)r->observations);
    }
    static const char *const outcomes[] = {"accepted", "rejected", "failed"};
    fputs("# HELP concerto_gateway_partner_events_total Partner events by outcome.\n"
          "# TYPE concerto_gateway_partner_events_total counter\n",
          out);
    for (int i = 0; i < METRICS_PARTNER_N; i++)
        fprintf(out, "concerto_gateway_partner_events_total{outcome=\"%s\"} %llu\n", outcomes[i],
                (unsigned long long)self->partner[i]);
    fprintf(out,
            "# HELP concerto_gateway_connections_refused_total Connections closed at once "
            "because the connection limit was reached.\n"
            "# TYPE concerto_gateway_connections_refused_total counter\n"
            "concerto_gateway_connections_refused_total %llu\n",
            (unsigned long long)self->refused);
}

void metrics_sample(FILE *out, const char *name, const char *type, const char *help,
                    const char *label, const char *label_value, double value)
{
    if (help)
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    if (label) {
        fprintf(out, "%s{%s=\"", name, label);
        metrics_label(out, label_value);
        fprintf(out, "\"} %.17g\n", value);
    } else {
        fprintf(out, "%s %.17g\n", name, value);
    }
}
