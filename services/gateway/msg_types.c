/* msg_types: the table of message types the gateway knows by name. */
#include "msg_types.h"

#include <string.h>

/* Generated from every protoc-c header by gen_types.cmake, so a message
 * added to proto/ is known here without editing a list. */
extern const ProtobufCMessageDescriptor *const msg_types_table[];
extern const size_t msg_types_table_len;

const ProtobufCMessageDescriptor *msg_types_find(const char *full_name)
{
    for (size_t i = 0; i < msg_types_table_len; i++)
        if (strcmp(msg_types_table[i]->name, full_name) == 0)
            return msg_types_table[i];
    return NULL;
}

size_t msg_types_count(void)
{
    return msg_types_table_len;
}

const ProtobufCMessageDescriptor *msg_types_at(size_t i)
{
    return i < msg_types_table_len ? msg_types_table[i] : NULL;
}
