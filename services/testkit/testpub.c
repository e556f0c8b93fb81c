/* concerto-testpub: a daemon that emits events on command, now or on a
 * durable timer. It exists to prove the runtime's delivery guarantees and
 * timers under faults (tests/system/test_delivery.py, test_timers.py), to
 * stand in for the services of the gateway's fan-out in bench/gateway.sh,
 * and to answer the gateway's system tests of what the runtime gives every
 * daemon: documents, replies too large for a frame, the caller and its
 * scopes (tests/system/test_gateway_documents.py, test_gateway_caller.py).
 * It is not deployed, and is built with the runtime's crash points
 * (common/crashpoint.h). */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "concerto/common/v1/table_status.pb-c.h"
#include "concerto/test/v1/delivery.pb-c.h"
#include "concerto/test/v1/gateway_test.pb-c.h"
#include "concerto/test/v1/timers.pb-c.h"
#include "fiscal_year.h"
#include "outbox.h"
#include "service.h"
#include "store.h"
#include "timers.h"
#include "xalloc.h"

/* ListTimers answers at most this many. */
#define TESTPUB_MAX_LISTED 100
/* Documents are generated up to this size (the runtime's own limit,
 * CONCERTO_MAX_DOCUMENT, is what the tests exercise). */
#define TESTPUB_MAX_DOCUMENT (256u * 1024 * 1024)

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

static int testpub_handle_schedule(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__ScheduleEmit *req = (const void *)msg;
    if (!req->key || !*req->key || strlen(req->key) > TIMERS_MAX_KEY)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "key must be 1 to %d bytes",
                                 TIMERS_MAX_KEY);
    if (!req->emit || !req->has_due_ms)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "due_ms and emit are required");
    if (service_call_schedule(call, req->key, req->due_ms, &req->emit->base) != 0)
        return service_call_fail(call, STATUS_INTERNAL, "cannot schedule");
    return service_call_reply(call, NULL);
}

static int testpub_handle_cancel(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__CancelTimer *req = (const void *)msg;
    if (!req->key || !*req->key)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "key is required");
    int cancelled = service_call_cancel_timer(call, req->key);
    if (cancelled < 0)
        return service_call_fail(call, STATUS_INTERNAL, "cannot cancel");
    Concerto__Test__V1__CancelTimerResult res = CONCERTO__TEST__V1__CANCEL_TIMER_RESULT__INIT;
    res.has_cancelled = 1;
    res.cancelled = cancelled;
    return service_call_reply(call, &res.base);
}

static int testpub_handle_list(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__ListTimers *req = (const void *)msg;
    timers_entry_t *entries = NULL;
    int n = timers_list(service_call_store(call), req->key_prefix, TESTPUB_MAX_LISTED, &entries);
    if (n < 0)
        return service_call_fail(call, STATUS_INTERNAL, "cannot list timers");
    Concerto__Test__V1__TimerList list = CONCERTO__TEST__V1__TIMER_LIST__INIT;
    Concerto__Test__V1__PendingTimer *items = xcalloc((size_t)n + 1, sizeof *items);
    list.timers = xcalloc((size_t)n + 1, sizeof *list.timers);
    for (int i = 0; i < n; i++) {
        concerto__test__v1__pending_timer__init(&items[i]);
        items[i].key = entries[i].key;
        items[i].has_due_ms = 1;
        items[i].due_ms = entries[i].due_ms;
        items[i].type = entries[i].type;
        items[i].actor = entries[i].actor;
        list.timers[i] = &items[i];
    }
    list.n_timers = (size_t)n;
    int rc = service_call_reply(call, &list.base);
    free(list.timers);
    free(items);
    timers_entries_free(&entries, (size_t)n);
    return rc;
}

static int testpub_handle_clock(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)msg;
    (void)arg;
    Concerto__Test__V1__ClockReading res = CONCERTO__TEST__V1__CLOCK_READING__INIT;
    res.has_now_ms = 1;
    res.now_ms = service_call_now_ms(call);
    res.today = (char *)service_call_today(call);
    int first_year = 0;
    char label[FISCAL_YEAR_LABEL_LEN];
    if (fiscal_year_of(res.today, &first_year) != 0)
        return service_call_fail(call, STATUS_INTERNAL, "today is not a date");
    fiscal_year_label(first_year, label);
    res.fiscal_year = label;
    return service_call_reply(call, &res.base);
}

/* `size` bytes of numbered lines, "0000000000\n0000000001\n...": no two
 * parts of a long document alike, so a part lost, repeated or moved
 * changes the checksum. */
static uint8_t *testpub_lines(size_t size)
{
    uint8_t *out = xmalloc(size + 12);
    size_t n = 0;
    for (uint64_t line = 0; n < size; line++)
        n += (size_t)sprintf((char *)out + n, "%010" PRIu64 "\n", line);
    return out;
}

static int testpub_handle_document(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__DocumentRequest *req = (const void *)msg;
    if (req->size > TESTPUB_MAX_DOCUMENT)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "size: at most %u",
                                 TESTPUB_MAX_DOCUMENT);
    uint64_t head = outbox_head(service_call_store(call));
    char version[96];
    snprintf(version, sizeof version, "%" PRIu64 ":%" PRIu64 ":%s", head, req->size,
             req->file_name ? req->file_name : "");
    if (service_call_version(call, version))
        return STATUS_OK;
    const char *format = service_call_format(call);
    if (strcmp(format, "csv") == 0) {
        uint8_t *data = testpub_lines((size_t)req->size);
        return service_call_reply_document(call, "text/csv; charset=utf-8", req->file_name, &data,
                                           (size_t)req->size);
    }
    if (strcmp(format, "html") == 0) {
        static const char page[] = "<!DOCTYPE html><html><body><p>testpub</p></body></html>\n";
        uint8_t *data = (uint8_t *)xstrdup(page);
        return service_call_reply_document(call, "text/html; charset=utf-8", NULL, &data,
                                           sizeof page - 1);
    }
    Concerto__Test__V1__DocumentInfo info = CONCERTO__TEST__V1__DOCUMENT_INFO__INIT;
    info.has_size = info.has_head = 1;
    info.size = req->size;
    info.head = head;
    info.format = (char *)format;
    return service_call_reply(call, &info.base);
}

static int testpub_handle_big(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__BigRequest *req = (const void *)msg;
    if (req->size > TESTPUB_MAX_DOCUMENT)
        return service_call_fail(call, STATUS_INVALID_ARGUMENT, "size: at most %u",
                                 TESTPUB_MAX_DOCUMENT);
    Concerto__Test__V1__BigReply big = CONCERTO__TEST__V1__BIG_REPLY__INIT;
    big.has_data = 1;
    big.data.len = (size_t)req->size;
    big.data.data = xcalloc(1, big.data.len + 1);
    int rc = service_call_reply(call, &big.base);
    free(big.data.data);
    return rc;
}

static int testpub_handle_caller(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Test__V1__CallerRequest *req = (const void *)msg;
    if (req->funder && !service_call_scope_allows(call, "funder", req->funder))
        return service_call_fail(call, STATUS_PERMISSION_DENIED,
                                 "this partner may not act for funder %s", req->funder);
    caller_t who = service_call_caller(call);
    Concerto__Test__V1__CallerView view = CONCERTO__TEST__V1__CALLER_VIEW__INIT;
    view.role = (char *)caller_role_name(who.role);
    view.name = (char *)who.name;
    view.actor = (char *)service_call_actor(call);
    view.has_identified = 1;
    view.identified = caller_identified(&who);
    const Concerto__Common__V1__Caller *c = service_call_envelope(call)->caller;
    size_t n = c ? c->n_scopes : 0;
    Concerto__Test__V1__ScopeView *scopes = xcalloc(n ? n : 1, sizeof *scopes);
    Concerto__Test__V1__ScopeView **ptrs = xcalloc(n ? n : 1, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        concerto__test__v1__scope_view__init(&scopes[i]);
        scopes[i].name = c->scopes[i]->name;
        scopes[i].values = (char **)caller_scope(service_call_envelope(call), c->scopes[i]->name,
                                                 &scopes[i].n_values);
        ptrs[i] = &scopes[i];
    }
    view.n_scopes = n;
    view.scopes = ptrs;
    int rc = service_call_reply(call, &view.base);
    free(scopes);
    free(ptrs);
    return rc;
}

static const service_handler_spec_t testpub_handlers[] = {
    {&concerto__test__v1__emit__descriptor, SERVICE_COMMAND, testpub_handle_emit, NULL},
    {&concerto__test__v1__schedule_emit__descriptor, SERVICE_COMMAND, testpub_handle_schedule,
     NULL},
    {&concerto__test__v1__cancel_timer__descriptor, SERVICE_COMMAND, testpub_handle_cancel, NULL},
    {&concerto__test__v1__list_timers__descriptor, SERVICE_QUERY, testpub_handle_list, NULL},
    {&concerto__test__v1__clock_request__descriptor, SERVICE_QUERY, testpub_handle_clock, NULL},
    {&concerto__common__v1__table_status_request__descriptor, SERVICE_QUERY,
     testpub_handle_table_status, NULL},
    {&concerto__test__v1__document_request__descriptor, SERVICE_QUERY, testpub_handle_document,
     NULL},
    {&concerto__test__v1__big_request__descriptor, SERVICE_QUERY, testpub_handle_big, NULL},
    {&concerto__test__v1__caller_request__descriptor, SERVICE_COMMAND, testpub_handle_caller, NULL},
};

int main(int argc, char **argv)
{
    /* Read by common/crashpoint.c; listed here so that --help shows it. */
    static const config_var_t testpub_vars[] = {
        {"CONCERTO_TEST_CRASHPOINT", "",
         "kill this process (SIGKILL) at that point: timer-fired-before-commit, "
         "timer-fired-after-commit (empty: never)"},
    };
    static const service_spec_t spec = {
        .name = "testpub",
        .summary = "Test publisher: emits one event per Emit command, now or on a durable timer.",
        .extra_vars = testpub_vars,
        .n_extra_vars = sizeof testpub_vars / sizeof testpub_vars[0],
        .handlers = testpub_handlers,
        .n_handlers = sizeof testpub_handlers / sizeof testpub_handlers[0],
    };
    return service_main(&spec, argc, argv);
}
