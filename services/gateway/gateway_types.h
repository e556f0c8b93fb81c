/* gateway_types: every message type compiled into concerto_proto, by full
 * name. The table (gateway_types.c) is generated at build time from the
 * protoc-c headers by gen_types.cmake, so a type added to proto/ is known
 * to routes files and result rendering without editing a list; the gateway
 * asks msg_types first and this table second (gateway_type_find). */
#ifndef CONCERTO_GW_GATEWAY_TYPES_H
#define CONCERTO_GW_GATEWAY_TYPES_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

const ProtobufCMessageDescriptor *gateway_types_find(const char *full_name);

#endif
