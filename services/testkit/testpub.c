/* concerto-testpub: a daemon that only emits events on command. It exists
 * to prove the runtime's delivery guarantees under faults
 * (tests/system/test_delivery.py); it is not deployed. */
#include "concerto/test/v1/delivery.pb-c.h"
#include "service.h"

static int testpub_handle_emit(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__Emit *emit = (const void *)msg;
    Concerto__Test__V1__Ping ping = CONCERTO__TEST__V1__PING__INIT;
    ping.has_payload = emit->has_payload;
    ping.payload = emit->payload;
    if (service_call_emit(call, "ping", &ping.base) != 0)
        return service_call_fail(call, STATUS_INTERNAL, "cannot append event");
    return service_call_reply(call, NULL);
}

static int testpub_setup(service_t *svc, const config_t *cfg)
{
    (void)cfg;
    return service_on(svc, &concerto__test__v1__emit__descriptor, SERVICE_COMMAND,
                      testpub_handle_emit, NULL);
}

int main(int argc, char **argv)
{
    static const service_spec_t spec = {
        .name = "testpub",
        .default_router = "tcp://127.0.0.1:7901",
        .default_pub = "tcp://127.0.0.1:7902",
        .summary = "Test publisher: emits one event per Emit command.",
        .setup = testpub_setup,
    };
    return service_main(&spec, argc, argv);
}
