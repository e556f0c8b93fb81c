/* log: one structured line per event on stderr.
 *
 * Format: `ts=2026-11-25T17:00:00.123Z level=info service=registry
 * msg="table registered" key=value ...`. The fields after msg come from a
 * printf format so callers write `log_info("table registered", "id=%s", id)`.
 * Values with spaces must be quoted by the caller (use %s with log_quote). */
#ifndef CONCERTO_LOG_H
#define CONCERTO_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* Sets the service field and minimum level; "debug", "info", "warn", "error".
 * Returns -1 for an unknown level name. */
int log_init(const char *service, const char *level);
void log_set_level(log_level_t level);
int log_enabled(log_level_t level);

void log_emit(log_level_t level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_emit(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_emit(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_emit(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_emit(LOG_ERROR, msg, __VA_ARGS__)

#endif
