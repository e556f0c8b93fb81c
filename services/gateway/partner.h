/* partner: the partner ingress — a ZeroMQ ROUTER with CURVE encryption
 * and a ZAP handler, both serviced in the gateway's loop.
 *
 * Only public keys on the allow-list pass ZAP; the partner's name rides on
 * each message as ZeroMQ's User-Id. A partner sends one Envelope (id, type,
 * payload, idempotency_key = its event id). The gateway checks the type is
 * accepted from partners and the Table (a top-level `table_id` field) is
 * one the partner may speak for, forwards it to the owning service with
 * idempotency key `partner/<name>/<event id>` and actor `partner:<name>`,
 * and relays the service's Reply (correlation_id = the partner's envelope
 * id) only once the service has answered, i.e. after its commit. Anything
 * malformed gets a Reply INVALID_ARGUMENT. */
#ifndef CONCERTO_GW_PARTNER_H
#define CONCERTO_GW_PARTNER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "metrics.h"
#include "partner_policy.h"
#include "routes.h"
#include "upstream.h"

typedef struct partner partner_t;

typedef struct {
    const char *endpoint;    /* where the ROUTER binds */
    const char *secret_file; /* the gateway's CURVE secret key, Z85 */
    const char *public_file; /* its public key, checked against the secret */
    const partner_policy_t *policy;
    upstream_t *const *upstreams; /* ROUTE_N_SERVICES of them */
    uint64_t deadline_ms;
    int64_t max_frame;
    metrics_t *metrics;
    routes_type_lookup_fn lookup;
} partner_options_t;

/* Binds the ZAP handler, then the ROUTER. NULL with a message on failure. */
partner_t *partner_new(uv_loop_t *loop, void *zctx, const partner_options_t *opt, char *err,
                       size_t errlen);
/* Closes the ROUTER first and the ZAP handler after it. Destroy the
 * upstreams before this, so their cancelled calls still find the partner. */
void partner_destroy(partner_t **self_p);
size_t partner_inflight(const partner_t *self);

#endif
