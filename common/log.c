/* log: structured one-line logs on stderr, through a bounded queue and a
 * writer thread once started (see log.h). */
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A line longer than this is cut (the fields are cut first). */
#define LOG_LINE_MAX 1400

static const char *log_service = "concerto";
static log_level_t log_min = LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};

/* A byte ring: [tail, head) holds whole lines waiting for the writer.
 * head and tail only grow; their difference is the bytes queued. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* lines arrived, or stopping */
    pthread_cond_t drained; /* the writer emptied the queue */
    pthread_t thread;
    int running, stopping, writer_waiting;
    uint64_t head, tail;
    uint64_t dropped, dropped_reported;
    char ring[LOG_QUEUE_BYTES];
} log_q = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .drained = PTHREAD_COND_INITIALIZER,
};

int log_init(const char *service, const char *level)
{
    if (service)
        log_service = service;
    if (!level)
        return 0;
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
        if (strcmp(level, log_names[i]) == 0) {
            log_min = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void log_set_level(log_level_t level)
{
    log_min = level;
}

int log_enabled(log_level_t level)
{
    return level >= log_min;
}

/* Writes all of `data` to stderr, waiting while it is full (only the
 * writer thread, or a program without one, may block here). Errors other
 * than a full pipe lose the bytes: there is nowhere else to report them. */
static void log_write_all(const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, data, len);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {STDERR_FILENO, POLLOUT, 0};
            poll(&p, 1, 100);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return;
        }
    }
}

static size_t log_format(char *line, log_level_t level, const char *msg, const char *fields)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(line, LOG_LINE_MAX, "ts=%s.%03ldZ level=%s service=%s msg=\"%s\"%s%s\n", when,
                     ts.tv_nsec / 1000000, log_names[level], log_service, msg, *fields ? " " : "",
                     fields);
    if (n < 0)
        return 0;
    if (n >= LOG_LINE_MAX) {
        n = LOG_LINE_MAX - 1;
        line[n - 1] = '\n';
    }
    return (size_t)n;
}

/* Queues a line; the caller holds the mutex. */
static void log_enqueue(const char *line, size_t len)
{
    if (LOG_QUEUE_BYTES - (log_q.head - log_q.tail) < len) {
        log_q.dropped++;
        return;
    }
    size_t at = (size_t)(log_q.head % LOG_QUEUE_BYTES);
    size_t first = len < LOG_QUEUE_BYTES - at ? len : LOG_QUEUE_BYTES - at;
    memcpy(log_q.ring + at, line, first);
    memcpy(log_q.ring, line + first, len - first);
    log_q.head += len;
    /* Signalling a thread that is busy writing would cost a futex call
     * for nothing. */
    if (log_q.writer_waiting)
        pthread_cond_signal(&log_q.wake);
}

/* Says, in the log itself, how many lines were lost since it last did. */
static void log_report_drops(uint64_t dropped, uint64_t reported)
{
    if (dropped == reported)
        return;
    char fields[96], line[LOG_LINE_MAX];
    snprintf(fields, sizeof fields, "count=%llu total=%llu",
             (unsigned long long)(dropped - reported), (unsigned long long)dropped);
    log_write_all(line,
                  log_format(line, LOG_WARN, "log lines dropped: stderr is too slow", fields));
}

static void *log_writer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&log_q.mu);
    for (;;) {
        while (log_q.head == log_q.tail && !log_q.stopping) {
            log_q.writer_waiting = 1;
            pthread_cond_wait(&log_q.wake, &log_q.mu);
            log_q.writer_waiting = 0;
        }
        if (log_q.head == log_q.tail)
            break;
        /* The queued bytes are the writer's until tail moves: producers
         * write only past head. */
        size_t at = (size_t)(log_q.tail % LOG_QUEUE_BYTES);
        size_t n = (size_t)(log_q.head - log_q.tail);
        if (n > LOG_QUEUE_BYTES - at)
            n = LOG_QUEUE_BYTES - at;
        uint64_t dropped = log_q.dropped, reported = log_q.dropped_reported;
        log_q.dropped_reported = dropped;
        pthread_mutex_unlock(&log_q.mu);
        log_write_all(log_q.ring + at, n);
        log_report_drops(dropped, reported);
        pthread_mutex_lock(&log_q.mu);
        log_q.tail += n;
        if (log_q.head == log_q.tail)
            pthread_cond_broadcast(&log_q.drained);
    }
    pthread_mutex_unlock(&log_q.mu);
    return NULL;
}

/* At exit: the queue goes out, unless stderr stays stuck for longer than
 * LOG_EXIT_WAIT_MS (then the process exits with the writer blocked). */
static void log_stop(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += LOG_EXIT_WAIT_MS / 1000;
    until.tv_nsec += (LOG_EXIT_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&log_q.mu);
    log_q.stopping = 1;
    pthread_cond_signal(&log_q.wake);
    int rc = 0;
    while (log_q.head != log_q.tail && rc == 0)
        rc = pthread_cond_timedwait(&log_q.drained, &log_q.mu, &until);
    int drained = log_q.head == log_q.tail;
    pthread_mutex_unlock(&log_q.mu);
    if (drained)
        pthread_join(log_q.thread, NULL);
}

int log_start(void)
{
    if (log_q.running)
        return 0;
    /* The writer must never take a signal the loop waits for (SIGTERM
     * interrupting the services' poll, libuv's signal pipe). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&log_q.thread, NULL, log_writer, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -1;
    log_q.running = 1;
    atexit(log_stop);
    return 0;
}

uint64_t log_dropped(void)
{
    pthread_mutex_lock(&log_q.mu);
    uint64_t n = log_q.dropped;
    pthread_mutex_unlock(&log_q.mu);
    return n;
}

void log_emit(log_level_t level, const char *msg, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char fields[1024] = "";
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fields, sizeof fields, fmt, ap);
        va_end(ap);
    }
    char line[LOG_LINE_MAX];
    size_t len = log_format(line, level, msg, fields);
    if (!log_q.running) {
        /* One write per line keeps lines whole when several processes
         * share a terminal. */
        log_write_all(line, len);
        return;
    }
    pthread_mutex_lock(&log_q.mu);
    log_enqueue(line, len);
    pthread_mutex_unlock(&log_q.mu);
}
