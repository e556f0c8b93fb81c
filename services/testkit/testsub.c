/* concerto-testsub: subscribes to concerto-testpub and records every event
 * it applies, duplicates included, so a test can prove each was applied
 * exactly once. Its source may be another daemon (CONCERTO_TESTSUB_SOURCE,
 * e.g. the registry), whose events it applies without effect: then it
 * stands for a daemon that knows nothing yet of a Table in the gateway's
 * fan-out. Not deployed. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concerto/common/v1/table_status.pb-c.h"
#include "concerto/test/v1/delivery.pb-c.h"
#include "service.h"

static const store_migration_t testsub_schema[] = {
    /* No UNIQUE constraint on purpose: a double apply must show up. */
    {"CREATE TABLE applied(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, payload BLOB)"},
};

static int testsub_on_ping(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__Ping *ping = (const void *)msg;
    sqlite3_stmt *st =
        store_stmt(service_call_store(call), "INSERT INTO applied(seq, payload) VALUES(?, ?)");
    if (!st)
        return STATUS_INTERNAL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)service_call_envelope(call)->sequence);
    sqlite3_bind_blob(st, 2, ping->payload.data, (int)ping->payload.len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return STATUS_INTERNAL;
    /* A fault for tests: a handler that ends the runtime's savepoint (sp1,
     * the first inside the batch) and then refuses the event, so that the
     * runtime cannot roll its write back alone. */
    static const char rogue[] = "release-savepoint-then-refuse";
    if (ping->payload.len == sizeof rogue - 1 &&
        memcmp(ping->payload.data, rogue, sizeof rogue - 1) == 0) {
        store_exec(service_call_store(call), "RELEASE sp1");
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "refused after its write");
    }
    return STATUS_OK;
}

static int testsub_handle_stats(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    Concerto__Test__V1__StatsResult res = CONCERTO__TEST__V1__STATS_RESULT__INIT;
    res.has_applied = res.has_distinct_payloads = res.has_checksum = 1;
    sqlite3_stmt *st = store_stmt(service_call_store(call), "SELECT payload FROM applied");
    if (!st)
        return service_call_fail(call, STATUS_INTERNAL, "query failed");
    while (sqlite3_step(st) == SQLITE_ROW) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = (v << 8) | h[i];
        res.checksum += v;
        res.applied++;
    }
    sqlite3_reset(st);
    st = store_stmt(service_call_store(call), "SELECT count(DISTINCT payload) FROM applied");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        res.distinct_payloads = (uint64_t)sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return service_call_reply(call, &res.base);
}

/* The fan-out contract for a daemon that knows nothing of Tables: OK, an
 * empty summary, and how far it has applied its source's events. */
static int testsub_handle_table_status(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    const Concerto__Common__V1__TableStatusRequest *req = (const void *)msg;
    Concerto__Common__V1__SubscriberCursor cursor;
    if (service_call_cursor(call, arg, &cursor) != 0)
        return service_call_fail(call, STATUS_INTERNAL, "not subscribed to %s", (char *)arg);
    Concerto__Test__V1__TableSummary summary = CONCERTO__TEST__V1__TABLE_SUMMARY__INIT;
    summary.table_id = req->table_id;
    summary.source = &cursor;
    return service_call_reply(call, &summary.base);
}

/* The source's name (CONCERTO_TESTSUB_SOURCE), read before the spec is
 * made: it is a row of the event table. */
static char testsub_source[64];

static const service_handler_spec_t testsub_handlers[] = {
    {&concerto__test__v1__stats__descriptor, SERVICE_QUERY, testsub_handle_stats, NULL},
    {&concerto__common__v1__table_status_request__descriptor, SERVICE_QUERY,
     testsub_handle_table_status, testsub_source},
};

int main(int argc, char **argv)
{
    const char *source = getenv("CONCERTO_TESTSUB_SOURCE");
    snprintf(testsub_source, sizeof testsub_source, "%s", source && *source ? source : "testpub");
    static const config_var_t vars[] = {
        {"CONCERTO_TESTSUB_SOURCE", "testpub",
         "the daemon whose events it applies (registry: stand for a daemon that follows it); "
         "where it is: CONCERTO_<SOURCE>_ROUTER and _PUB"},
    };
    const service_event_spec_t events[] = {
        {testsub_source, &concerto__test__v1__ping__descriptor, testsub_on_ping, NULL},
    };
    const service_spec_t spec = {
        .name = "testsub",
        .migrations = testsub_schema,
        .n_migrations = sizeof testsub_schema / sizeof testsub_schema[0],
        .extra_vars = vars,
        .n_extra_vars = sizeof vars / sizeof vars[0],
        .summary = "Test subscriber: applies a source's events (testpub's Pings) and counts them.",
        .handlers = testsub_handlers,
        .n_handlers = sizeof testsub_handlers / sizeof testsub_handlers[0],
        .events = events,
        .n_events = sizeof events / sizeof events[0],
    };
    return service_main(&spec, argc, argv);
}
