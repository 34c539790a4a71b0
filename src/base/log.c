#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

static int min_level = LOG_INFO;
static const char *names[] = { "debug", "info", "warn", "error" };

void log_set_level(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(names[i], name) == 0)
			min_level = i;
}

int log_enabled(enum log_level l)
{
	return (int)l >= min_level;
}

void log_add_time(struct sb *sb)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	sb_addf(sb, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void log_line(struct sb *json)
{
	sb_addch(json, '\n');
	/* One write() per line keeps lines whole between threads. */
	ssize_t w = write(STDERR_FILENO, json->buf, json->len);
	(void)w;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	if (!log_enabled(l))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct sb sb = SB_INIT;
	sb_adds(&sb, "{\"ts\":\"");
	log_add_time(&sb);
	sb_addf(&sb, "\",\"level\":\"%s\",\"msg\":", names[l]);
	sb_add_json_str(&sb, msg, strlen(msg));
	sb_addch(&sb, '}');
	log_line(&sb);
	sb_release(&sb);
}

void log_fatal(const char *msg)
{
	char line[3072];
	size_t n = 0;
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int k = snprintf(line, sizeof(line),
			 "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"error\",\"msg\":\"fatal: ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	n = k > 0 ? (size_t)k : 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p && n + 8 < sizeof(line); p++) {
		if (*p == '"' || *p == '\\') {
			line[n++] = '\\';
			line[n++] = (char)*p;
		} else if (*p < 0x20) {
			n += (size_t)snprintf(line + n, sizeof(line) - n, "\\u%04x", *p);
		} else {
			line[n++] = (char)*p; /* UTF-8 passes through; die's messages are ours */
		}
	}
	memcpy(line + n, "\"}\n", 3);
	ssize_t w = write(STDERR_FILENO, line, n + 3);
	(void)w;
}
