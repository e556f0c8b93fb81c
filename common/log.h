/* log: one structured line per event on stderr, never blocking the caller.
 *
 * Format: `ts=2026-11-25T17:00:00.123Z level=info service=registry
 * msg="table registered" key=value ...`. The fields after msg come from a
 * printf format so callers write `log_info("table registered", "id=%s", id)`.
 * Values with spaces must be quoted by the caller (`reason=\"%s\"`).
 *
 * After log_start, lines go into a bounded queue that a writer thread
 * drains to stderr, so that a slow or stuck reader of stderr (a pipe,
 * `docker logs`) costs dropped lines, counted by log_dropped, and never
 * stalls the loop that logs (DESIGN.md: helper threads only for I/O such as
 * logging). Before log_start (tools, unit tests) lines are written at once. */
#ifndef CONCERTO_LOG_H
#define CONCERTO_LOG_H

#include <stdint.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* Bytes of lines the queue holds; what does not fit is dropped. */
#define LOG_QUEUE_BYTES (256 * 1024)
/* How long the exit waits for the queue to reach stderr. */
#define LOG_EXIT_WAIT_MS 1000

/* Sets the service field and minimum level; "debug", "info", "warn", "error".
 * Returns -1 for an unknown level name. */
int log_init(const char *service, const char *level);
void log_set_level(log_level_t level);
int log_enabled(log_level_t level);

/* Starts the writer thread (once; signals are blocked in it). At exit the
 * queue is written out, waiting at most LOG_EXIT_WAIT_MS for stderr.
 * Returns 0, or -1 when no thread could be started (lines are then written
 * at once, as before log_start). */
int log_start(void);

/* Lines dropped so far because the queue was full. */
uint64_t log_dropped(void);

void log_emit(log_level_t level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_emit(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_emit(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_emit(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_emit(LOG_ERROR, msg, __VA_ARGS__)

#endif
