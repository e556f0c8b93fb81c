/* emit_fixture: what the runtime's unit tests build their Emit handlers on:
 * the table a payload goes to, and the row and Ping event every Emit writes
 * before its handler answers (or fails) in the test's own way. */
#ifndef CONCERTO_TEST_EMIT_FIXTURE_H
#define CONCERTO_TEST_EMIT_FIXTURE_H

#include "concerto/test/v1/delivery.pb-c.h"
#include "service.h"

static const store_migration_t emit_schema[] = {{"CREATE TABLE t(payload BLOB)"}};

/* The payload of `e` as a row of t, and a Ping event about "x". */
static inline void emit_write(service_call_t *call, const Concerto__Test__V1__Emit *e)
{
    sqlite3_stmt *st = store_stmt(service_call_store(call), "INSERT INTO t VALUES(?)");
    sqlite3_bind_blob(st, 1, e->payload.data, (int)e->payload.len, SQLITE_STATIC);
    sqlite3_step(st);
    Concerto__Test__V1__Ping ping = CONCERTO__TEST__V1__PING__INIT;
    ping.has_payload = 1;
    ping.payload = e->payload;
    service_call_emit(call, "x", &ping.base);
}

#endif
