/* docstream: a document larger than a frame, read from its service in
 * parts and streamed to the HTTP client (docs/gateway.md, "Documents").
 *
 * The service keeps the document under a download id (its runtime's
 * download store); the gateway asks for one part at a time
 * (DownloadPartRequest), writes each as a chunk, and asks for the next
 * while the previous is being written: a download holds at most one part
 * in writing and one waiting, whatever the document's size. Nothing is
 * sent before the first part has arrived, so a service that fails at once
 * still gets the client a clear error; one that fails later cuts the
 * answer short (the connection closes). */
#ifndef CONCERTO_GW_DOCSTREAM_H
#define CONCERTO_GW_DOCSTREAM_H

#include "gateway.h"
#include "http_server.h"
#include "upstream.h"

/* The head of the answer: extra headers (copied; the first is
 * X-Request-Id, also sent with an error) and the content type. */
typedef struct {
    int status;
    const http_header_t *headers;
    size_t n_headers;
    const char *content_type;
} docstream_head_t;

/* Starts reading the download `reply` announces from `service` and
 * streaming it to `ref`, which is answered in any case (an error if the
 * first part cannot be had). The caller has checked the size and the
 * number of downloads in progress (gw->downloads counts this one until it
 * ends). */
void docstream_start(gateway_t *gw, http_ref_t ref, int route, int service,
                     const Concerto__Common__V1__Reply *reply, const docstream_head_t *head);

/* Ends every download in progress, for the gateway's destruction (before
 * its upstreams and HTTP server go): each is cut short, and what is still
 * under way (a part asked for, a chunk being written) frees it later
 * without touching the gateway. */
void docstream_stop_all(gateway_t *gw);

/* Tells the service to forget a download nobody will read. */
void docstream_release(gateway_t *gw, int service, const ProtobufCBinaryData *download_id);

#endif
