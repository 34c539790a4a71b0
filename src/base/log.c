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
