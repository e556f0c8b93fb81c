/* log: structured one-line logs on stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_service = "concerto";
static log_level_t log_min = LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};

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

void log_emit(log_level_t level, const char *msg, const char *fmt, ...)
{
    if (level < log_min)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    /* One fprintf per line keeps lines whole when several processes share
     * a terminal. */
    char fields[1024] = "";
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fields, sizeof fields, fmt, ap);
        va_end(ap);
    }
    fprintf(stderr, "ts=%s.%03ldZ level=%s service=%s msg=\"%s\"%s%s\n", when, ts.tv_nsec / 1000000,
            log_names[level], log_service, msg, *fields ? " " : "", fields);
}
