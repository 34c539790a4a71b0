/* log.h: one JSON object per line on stderr. Levels are chosen by cause: error = our fault
 * and needs an operator, warn = degraded or suspicious, info = normal events, debug = detail.
 * Never log passwords, tokens, or full ID numbers; messages are JSON-escaped here.
 *
 * Repeated messages are rate-limited: the same level and text again within
 * LOG_REPEAT_SECONDS of the line written for it is counted instead of written; when the
 * interval is over, one line with the message and "repeated": N (and "seconds") stands for
 * those N (written by the next such message, or by log_repeats_flush()). So a message costs
 * at most one line per interval. Request lines (log_line) are each distinct and never held
 * back. */
#ifndef GH_LOG_H
#define GH_LOG_H
#include <stdbool.h>

#include "base/sb.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_REPEAT_SECONDS 10

void log_set_level(const char *name);
int log_enabled(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes {"ts", "level": "error", "msg": "fatal: <msg>"} without allocating (die's last
 * words, also when memory ran out). */
void log_fatal(const char *msg);
/* Writes a finished JSON object line (without newline) atomically: at once, or while the
 * writer thread runs, through it (never waiting for stderr; dropped and counted when its
 * buffer is full). */
void log_line(struct sb *json);
/* Starts and stops the writer thread (server_run); stop writes what is pending first.
 * log_fatal writes what is pending before its own line. */
void log_async_start(void);
void log_async_stop(void);
/* Appends the current UTC time as ISO 8601 with milliseconds. */
void log_add_time(struct sb *sb);
/* Writes the counts of repeated messages whose interval is over (all = every pending count,
 * at exit). The server calls it once a second; thread-safe. */
void log_repeats_flush(bool all);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
