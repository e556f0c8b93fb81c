/* funding_demo: the demo data of concerto-funding (services/funding/demo/,
 * CONCERTO_FUNDING_DEMO_DATA): funders, programs and their years loaded at
 * start when no funder is registered, then the demo allocations once the
 * registry's events are applied (docs/funding.md, "Demo data"). */
#ifndef CONCERTO_FUNDING_DEMO_H
#define CONCERTO_FUNDING_DEMO_H

#include "funding.h"

/* Loads the files of `dir` (funders.csv, programs.csv, program_years.csv)
 * through the ordinary commands unless a funder is registered, and
 * schedules the demo allocations. Returns 0, or -1 (logged) when the data
 * cannot be read or is refused: the daemon then stops. */
int funding_demo_setup(service_t *svc, const char *dir);

/* DemoAllocationsRequest (service_handler_fn). */
int funding_handle_demo_allocations(service_call_t *call, const ProtobufCMessage *msg, void *arg);

#endif
