/* msg_types: the message types the gateway can name, by full protobuf name.
 *
 * Envelopes carry their payload's type as text ("concerto.common.v1.Reply");
 * this table turns that text into the descriptor pb_json needs. The table
 * holds every message compiled from proto/ (generated at build time). */
#ifndef CONCERTO_MSG_TYPES_H
#define CONCERTO_MSG_TYPES_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The descriptor whose full name is `full_name`, or NULL when the table has
 * none. Descriptors are static. */
const ProtobufCMessageDescriptor *msg_types_find(const char *full_name);

/* Every known type, for listings and tests: the i-th, i < msg_types_count(). */
size_t msg_types_count(void);
const ProtobufCMessageDescriptor *msg_types_at(size_t i);

#endif
