/* service_timers: durable timers in the runtime (docs/architecture.md).
 *
 * A command handler schedules or cancels a timer in its own transaction
 * (service_call_schedule), so the command and its timer commit together.
 * The loop runs the timers that are due in business time, earliest first,
 * each as a command through the same path as a request from the ROUTER:
 * its own savepoint, its events, the idempotency key "timer/<id>", and the
 * timer's row deleted in that savepoint. Firing and its effects therefore
 * commit together or not at all, and a timer runs exactly once across
 * restarts and crashes; those that fell due while the daemon was down run
 * on its first loop turn. */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "crashpoint.h"
#include "log.h"
#include "service_internal.h"
#include "timers.h"
#include "uuid.h"

/* After a firing that failed for want of the database, wait this long
 * (real time) before trying the due timers again. */
#define SERVICE_TIMERS_RETRY_MS 1000

int service_call_schedule(service_call_t *call, const char *key, int64_t due_ms,
                          const ProtobufCMessage *request)
{
    service_t *svc = call->svc;
    const service_handler_t *h = service_table_find(&svc->handlers, request->descriptor->name);
    if (!h || h->kind != SERVICE_COMMAND) {
        log_error("timer action is not a command of this service", "key=%s type=%s", key,
                  request->descriptor->name);
        return -1;
    }
    if (timers_schedule(svc->store, key, due_ms, request, service_call_actor(call), call->now_ms,
                        NULL) != 0)
        return -1;
    /* Early if the call rolls back: the loop then finds nothing due and
     * reads the real next instant. */
    if (due_ms < svc->timers_next_due_ms)
        svc->timers_next_due_ms = due_ms;
    return 0;
}

int service_call_cancel_timer(service_call_t *call, const char *key)
{
    return timers_cancel(call->svc->store, key);
}

/* The status and message of a packed Reply. */
static status_t service_timers_outcome(const uint8_t *reply, size_t len, char *message, size_t cap)
{
    Concerto__Common__V1__Reply *r = concerto__common__v1__reply__unpack(NULL, len, reply);
    status_t status = r && r->has_status ? (status_t)r->status : STATUS_INTERNAL;
    snprintf(message, cap, "%s", r && r->message ? r->message : "");
    concerto__common__v1__reply__free_unpacked(r, NULL);
    return status;
}

/* Runs one due timer inside the open transaction. Returns 0 when it ran
 * (done, or refused by its handler: logged, and gone like an event a
 * subscriber refuses), -1 when the database failed and nothing of it was
 * kept, so that it runs again later. Sets *batch_failed when only rolling
 * back the whole transaction can undo what it wrote. */
static int service_timers_fire(service_t *svc, const timers_entry_t *t, int *batch_failed)
{
    int sp = store_savepoint(svc->store);
    if (sp < 0)
        return -1;
    if (timers_remove(svc->store, t->id) != 0)
        goto undo;
    char key[32];
    snprintf(key, sizeof key, "timer/%lld", (long long)t->id);
    uint8_t id[UUID_LEN];
    envelope_t env;
    envelope_prepare(&env, id, svc->name, t->type, t->payload, t->payload_len);
    env.actor = t->actor;
    env.idempotency_key = key;
    size_t len = 0;
    uint8_t *reply = service_run_request(svc, &env, &len, batch_failed);
    char message[256];
    status_t status = service_timers_outcome(reply, len, message, sizeof message);
    free(reply);
    if (*batch_failed)
        return -1;
    if (status == STATUS_INTERNAL || status == STATUS_UNAVAILABLE) {
        log_warn("timer not run; will retry", "key=%s id=%lld status=%s message=\"%s\"", t->key,
                 (long long)t->id, status_name(status), message);
        goto undo;
    }
    if (store_release(svc->store, sp) != 0) {
        *batch_failed = 1;
        return -1;
    }
    if (status == STATUS_OK)
        log_info("timer fired", "key=%s id=%lld type=%s", t->key, (long long)t->id, t->type);
    else
        log_warn("timer action refused", "key=%s id=%lld type=%s status=%s message=\"%s\"", t->key,
                 (long long)t->id, t->type, status_name(status), message);
    return 0;
undo:
    if (store_rollback_to(svc->store, sp) != 0)
        *batch_failed = 1;
    return -1;
}

/* Fires `n` due timers in one transaction; 0 when all ran and committed. */
static int service_timers_fire_batch(service_t *svc, const timers_entry_t *due, size_t n)
{
    if (store_begin(svc->store) != 0)
        return -1;
    size_t ran = 0;
    int batch_failed = 0;
    while (ran < n && service_timers_fire(svc, &due[ran], &batch_failed) == 0)
        ran++;
    if (batch_failed) {
        store_rollback(svc->store);
        service_drop_pending(svc);
        return -1;
    }
    CRASHPOINT("timer-fired-before-commit");
    /* A failed COMMIT leaves no transaction open (store.h). */
    if (store_commit(svc->store) != 0) {
        service_drop_pending(svc);
        return -1;
    }
    service_publish_pending(svc);
    CRASHPOINT("timer-fired-after-commit");
    return ran == n ? 0 : -1;
}

void service_timers_fire_due(service_t *svc)
{
    int64_t now = clock_now_ms();
    if (svc->timers_next_due_ms > now || service_now_ms() < svc->timers_retry_ms)
        return;
    timers_entry_t *due = NULL;
    int n = timers_read_due(svc->store, now, svc->batch_max, &due);
    int failed = n < 0 || (n > 0 && service_timers_fire_batch(svc, due, (size_t)n) != 0);
    if (n > 0)
        timers_entries_free(&due, (size_t)n);
    int64_t next = INT64_MAX;
    if (timers_next_due(svc->store, &next) < 0) {
        next = now; /* unknown: look again after the retry delay */
        failed = 1;
    }
    svc->timers_next_due_ms = next;
    if (failed)
        svc->timers_retry_ms = service_now_ms() + SERVICE_TIMERS_RETRY_MS;
}

int64_t service_timers_wait_ms(service_t *svc)
{
    if (svc->timers_next_due_ms == INT64_MAX)
        return INT64_MAX;
    int64_t wait = svc->timers_next_due_ms - clock_now_ms();
    int64_t retry = svc->timers_retry_ms - service_now_ms();
    if (retry > wait)
        wait = retry;
    return wait > 0 ? wait : 0;
}
