/* concerto-testpub: a daemon that only emits events on command. It exists
 * to prove the runtime's delivery guarantees under faults
 * (tests/system/test_delivery.py) and to stand in for the services of the
 * gateway's fan-out in bench/gateway.sh; it is not deployed. */
#include <sqlite3.h>

#include "concerto/common/v1/table_status.pb-c.h"
#include "concerto/test/v1/delivery.pb-c.h"
#include "service.h"
#include "store.h"

static int testpub_handle_emit(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__Emit *emit = (const void *)msg;
    Concerto__Test__V1__Ping ping = CONCERTO__TEST__V1__PING__INIT;
    ping.has_payload = emit->has_payload;
    ping.payload = emit->payload;
    if (service_call_emit(call, emit->subject, &ping.base) != 0)
        return service_call_fail(call, STATUS_INTERNAL, "cannot append event");
    return service_call_reply(call, NULL);
}

/* Its part of the gateway's fan-out status: the events it emitted about
 * the Table (subject "table:<id>"). */
static int testpub_handle_table_status(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Common__V1__TableStatusRequest *req = (const void *)msg;
    if (!req->table_id || !*req->table_id)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "table_id is required");
    sqlite3_stmt *st =
        store_stmt(service_call_store(call),
                   "SELECT count(*), max(seq) FROM outbox WHERE subject = 'table:' || ?1");
    if (!st)
        return service_call_fail(call, STATUS_INTERNAL, "cannot read the outbox");
    sqlite3_bind_text(st, 1, req->table_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return service_call_fail(call, STATUS_INTERNAL, "cannot read the outbox");
    }
    Concerto__Test__V1__TableActivity activity = CONCERTO__TEST__V1__TABLE_ACTIVITY__INIT;
    activity.table_id = req->table_id;
    activity.has_events = 1;
    activity.events = (uint64_t)sqlite3_column_int64(st, 0);
    activity.has_last_sequence = sqlite3_column_type(st, 1) != SQLITE_NULL;
    activity.last_sequence = (uint64_t)sqlite3_column_int64(st, 1);
    int rc = service_call_reply(call, &activity.base);
    sqlite3_reset(st);
    return rc;
}

static int testpub_setup(service_t *svc, const config_t *cfg)
{
    (void)cfg;
    if (service_on(svc, &concerto__test__v1__emit__descriptor, SERVICE_COMMAND, testpub_handle_emit,
                   NULL) != 0)
        return -1;
    return service_on(svc, &concerto__common__v1__table_status_request__descriptor, SERVICE_QUERY,
                      testpub_handle_table_status, NULL);
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
