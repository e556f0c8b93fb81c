/* service_backup: the runtime's BackupRequest. The request only checks the
 * name and starts the copy (backup.c); the loop then copies
 * backup_step_pages pages a turn between batches, so the service goes on
 * answering, and heartbeats carry the progress and the result. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "service_internal.h"
#include "xalloc.h"

int service_handle_backup(service_call_t *call, const ProtobufCMessage *msg, void *arg)
{
    (void)arg;
    const Concerto__Common__V1__BackupRequest *req = (const void *)msg;
    service_t *svc = call->svc;
    const char *name = req->path ? req->path : "";
    const char *problem = backup_name_problem(name);
    if (problem) {
        service_call_violation(call, "path", "%s", problem);
        return service_call_fail(call, STATUS_INVALID_ARGUMENT,
                                 "path must be a plain file name; backups go to %s",
                                 svc->backup_dir);
    }
    if (service_backup_running(svc))
        return service_call_fail(call, STATUS_FAILED_PRECONDITION,
                                 "a backup to %s is running; ask again when it is done",
                                 backup_path(svc->backup));
    char err[512];
    backup_t *b = NULL;
    int rc = backup_start(store_db(svc->store), svc->backup_dir, name, &b, err, sizeof err);
    if (rc != 0) {
        log_warn("backup refused", "error=\"%s\" actor=%s", err, service_call_actor(call));
        return service_call_fail(call, rc == BACKUP_ERR_EXISTS ? STATUS_CONFLICT : STATUS_INTERNAL,
                                 "%s", err);
    }
    backup_destroy(&svc->backup);
    svc->backup = b;
    svc->backup_started_ms = service_now_ms();
    svc->backup_finished_ms = 0;
    log_info("backup started", "path=%s actor=%s", backup_path(b), service_call_actor(call));
    Concerto__Common__V1__BackupResult res = CONCERTO__COMMON__V1__BACKUP_RESULT__INIT;
    res.path = (char *)backup_path(b);
    return service_call_reply(call, &res.base);
}

int service_backup_running(const service_t *svc)
{
    return svc->backup && backup_progress(svc->backup).state == BACKUP_RUNNING;
}

void service_backup_step(service_t *svc)
{
    if (!service_backup_running(svc))
        return;
    backup_state_t state = backup_step(svc->backup, svc->backup_step_pages);
    if (state == BACKUP_RUNNING)
        return;
    svc->backup_finished_ms = service_now_ms();
    backup_progress_t p = backup_progress(svc->backup);
    if (state == BACKUP_DONE)
        log_info("backup written", "path=%s bytes=%lld pages=%d ms=%lld", backup_path(svc->backup),
                 (long long)p.bytes, p.pages_total,
                 (long long)(svc->backup_finished_ms - svc->backup_started_ms));
    else
        log_error("backup failed", "path=%s error=\"%s\"", backup_path(svc->backup), p.error);
}

static const Concerto__Common__V1__BackupState service_backup_states[] = {
    [BACKUP_RUNNING] = CONCERTO__COMMON__V1__BACKUP_STATE__BACKUP_RUNNING,
    [BACKUP_DONE] = CONCERTO__COMMON__V1__BACKUP_STATE__BACKUP_DONE,
    [BACKUP_FAILED] = CONCERTO__COMMON__V1__BACKUP_STATE__BACKUP_FAILED,
};

Concerto__Common__V1__BackupStatus *service_backup_status(service_t *svc)
{
    if (!svc->backup)
        return NULL;
    backup_progress_t p = backup_progress(svc->backup);
    Concerto__Common__V1__BackupStatus *st = xmalloc(sizeof *st);
    concerto__common__v1__backup_status__init(st);
    st->path = (char *)backup_path(svc->backup);
    st->has_state = 1;
    st->state = service_backup_states[p.state];
    st->has_pages_done = st->has_pages_total = 1;
    st->pages_done = (uint32_t)p.pages_done;
    st->pages_total = (uint32_t)p.pages_total;
    st->has_started_ms = 1;
    st->started_ms = svc->backup_started_ms;
    st->has_finished_ms = svc->backup_finished_ms != 0;
    st->finished_ms = svc->backup_finished_ms;
    st->has_bytes = p.state == BACKUP_DONE;
    st->bytes = p.bytes;
    st->error = (char *)p.error;
    return st;
}
