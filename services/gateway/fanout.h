/* fanout: one request to every service at once, their answers merged into
 * one JSON document (GET /v1/tables/{tableId}/status; docs/gateway.md,
 * "Fan-out"). Each service gets the same deadline; the answer never waits
 * longer and never fails as a whole because one service did. */
#ifndef CONCERTO_GW_FANOUT_H
#define CONCERTO_GW_FANOUT_H

#include <protobuf-c/protobuf-c.h>

#include "gateway.h"
#include "http_server.h"
#include "upstream.h"

/* Sends `ureq` to every service and answers `ref` once each has answered,
 * failed or passed the deadline. `msg` (borrowed) is the request, whose
 * fields head the answer. */
void fanout_start(gateway_t *gw, http_ref_t ref, int route, const ProtobufCMessage *msg,
                  const upstream_request_t *ureq);

#endif
