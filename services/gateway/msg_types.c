/* msg_types: the table of message types the gateway knows by name. */
#include "msg_types.h"

#include <string.h>

#include "concerto/common/v1/envelope.pb-c.h"
#include "concerto/test/v1/jsonmap.pb-c.h"

/* One line a type. */
static const ProtobufCMessageDescriptor *const types[] = {
    &concerto__common__v1__envelope__descriptor,
    &concerto__common__v1__field_violation__descriptor,
    &concerto__common__v1__reply__descriptor,
    &concerto__common__v1__heartbeat__descriptor,
    &concerto__common__v1__subscriber_cursor__descriptor,
    &concerto__common__v1__status_request__descriptor,
    &concerto__common__v1__replay_request__descriptor,
    &concerto__common__v1__subscriber_ack__descriptor,
    &concerto__common__v1__replay_page__descriptor,
    &concerto__common__v1__backup_request__descriptor,
    &concerto__common__v1__backup_result__descriptor,
    &concerto__common__v1__prune_outbox_request__descriptor,
    &concerto__common__v1__prune_outbox_result__descriptor,

    &concerto__test__v1__address__descriptor,
    &concerto__test__v1__contact__descriptor,
    &concerto__test__v1__node__descriptor,
    &concerto__test__v1__all_kinds__descriptor,
    &concerto__test__v1__list_request__descriptor,
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))

const ProtobufCMessageDescriptor *msg_types_find(const char *full_name)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (strcmp(types[i]->name, full_name) == 0)
            return types[i];
    return NULL;
}

size_t msg_types_count(void)
{
    return N_TYPES;
}

const ProtobufCMessageDescriptor *msg_types_at(size_t i)
{
    return i < N_TYPES ? types[i] : NULL;
}
