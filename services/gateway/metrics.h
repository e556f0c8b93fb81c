/* metrics: the gateway's counters and histograms, rendered in the
 * Prometheus text format (version 0.0.4).
 *
 * Requests are counted by route label and HTTP status and timed into one
 * latency histogram per route; requests that matched no route count under
 * route="unmatched". Gauges that belong to other modules (connections,
 * in-flight calls, service health) are written by their owners after
 * metrics_render, with metrics_sample. */
#ifndef CONCERTO_GW_METRICS_H
#define CONCERTO_GW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct metrics metrics_t;

typedef enum {
    METRICS_PARTNER_ACCEPTED = 0, /* the service answered OK */
    METRICS_PARTNER_REJECTED,     /* refused by the gateway: malformed, not allowed */
    METRICS_PARTNER_FAILED,       /* the service answered an error, or did not answer */
    METRICS_PARTNER_N,
} metrics_partner_t;

/* `labels[i]` names route i ("GET /v1/tables/{tableId}"); copied. */
metrics_t *metrics_new(const char *const *labels, size_t n_routes);
void metrics_destroy(metrics_t **self_p);

/* One answered request; `route` is -1 when no route matched. */
void metrics_request(metrics_t *self, int route, int status, uint64_t duration_us);
void metrics_partner(metrics_t *self, metrics_partner_t outcome);
void metrics_connection_refused(metrics_t *self);

/* Writes every counter and histogram. */
void metrics_render(const metrics_t *self, FILE *out);

/* Writes one sample, with HELP and TYPE lines first when `help` is given:
 * name{label="value"} v (no braces when `label` is NULL). `type` is
 * "gauge" or "counter". */
void metrics_sample(FILE *out, const char *name, const char *type, const char *help,
                    const char *label, const char *label_value, double value);

#endif
