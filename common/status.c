/* status: names of the wire status codes. */
#include "status.h"

const char *status_name(int status)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&concerto__common__v1__status__descriptor, status);
    return v ? v->name : "UNKNOWN";
}
