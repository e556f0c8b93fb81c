/* funding_service: the funding daemon's spec (settings, schema, handler
 * and event tables, setup). */
#ifndef CONCERTO_FUNDING_SERVICE_H
#define CONCERTO_FUNDING_SERVICE_H

#include "funding.h"

/* The whole daemon, for service_main. */
extern const service_spec_t funding_spec;

/* Its tables, for tests that run the handlers (and the event handlers,
 * as commands) without sockets. */
const service_handler_spec_t *funding_handler_table(size_t *n);
const service_event_spec_t *funding_event_table(size_t *n);

#endif
