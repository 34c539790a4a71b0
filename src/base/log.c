#include "base/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
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

/* ---- the writer ----
 * While the server runs (log_async_start .. log_async_stop), lines are appended to a buffer
 * that a thread of their own writes to stderr, so no event loop ever waits for whoever reads
 * stderr (a pipe to journald that is full, a terminal that is scrolled back). The buffer is
 * bounded: a line that does not fit is dropped and counted, and the next batch says how
 * many were. Otherwise (commands, tests) a line is one write() of its own. Lines stay whole:
 * one thread writes, whole lines only, and log_fatal waits for it (a second at most). */
#define LOG_BUFFER (4u << 20)

static struct {
	pthread_mutex_t mu;   /* pending, dropped, stop */
	pthread_cond_t cv;
	pthread_mutex_t out;  /* held while writing to stderr */
	struct sb pending;
	uint64_t dropped;
	bool stop;
	pthread_t thread;
	_Atomic bool on;
} aw = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .out = PTHREAD_MUTEX_INITIALIZER,
	 .pending = SB_INIT };

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return; /* stderr is gone: nothing to tell it */
		p += w;
		n -= (size_t)w;
	}
}

static void *writer_main(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_setname_np(pthread_self(), "gh-log");
	struct sb batch = SB_INIT;
	for (;;) {
		pthread_mutex_lock(&aw.mu);
		while (!aw.pending.len && !aw.stop)
			pthread_cond_wait(&aw.cv, &aw.mu);
		bool stop = aw.stop && !aw.pending.len;
		struct sb t = batch;
		batch = aw.pending;
		aw.pending = t;
		uint64_t dropped = aw.dropped;
		aw.dropped = 0;
		pthread_mutex_unlock(&aw.mu);
		if (stop)
			break;
		if (dropped) {
			struct sb sb = SB_INIT;
			sb_adds(&sb, "{\"ts\":\"");
			log_add_time(&sb);
			sb_addf(&sb, "\",\"level\":\"warn\",\"msg\":\"log: %llu lines dropped: stderr was not read fast enough\"}\n",
				(unsigned long long)dropped);
			sb_add(&batch, sb.buf, sb.len);
			sb_release(&sb);
		}
		pthread_mutex_lock(&aw.out);
		write_all(batch.buf, batch.len);
		pthread_mutex_unlock(&aw.out);
		sb_reset(&batch);
	}
	sb_release(&batch);
	return NULL;
}

void log_async_start(void)
{
	if (atomic_load(&aw.on))
		return;
	aw.stop = false;
	if (pthread_create(&aw.thread, NULL, writer_main, NULL))
		return; /* lines are written directly, as before */
	atomic_store(&aw.on, true);
}

void log_async_stop(void)
{
	if (!atomic_load(&aw.on))
		return;
	pthread_mutex_lock(&aw.mu);
	aw.stop = true;
	pthread_cond_signal(&aw.cv);
	pthread_mutex_unlock(&aw.mu);
	pthread_join(aw.thread, NULL);
	atomic_store(&aw.on, false);
	sb_release(&aw.pending);
}

void log_line(struct sb *json)
{
	sb_addch(json, '\n');
	if (!atomic_load_explicit(&aw.on, memory_order_acquire)) {
		/* One write() per line keeps lines whole between threads. */
		ssize_t w = write(STDERR_FILENO, json->buf, json->len);
		(void)w;
		return;
	}
	pthread_mutex_lock(&aw.mu);
	if (aw.pending.len + json->len > LOG_BUFFER) {
		aw.dropped++;
	} else {
		bool was_empty = aw.pending.len == 0;
		sb_add(&aw.pending, json->buf, json->len);
		if (was_empty)
			pthread_cond_signal(&aw.cv);
	}
	pthread_mutex_unlock(&aw.mu);
}

static void emit(enum log_level l, const char *msg, uint64_t repeated, long seconds)
{
	struct sb sb = SB_INIT;
	sb_adds(&sb, "{\"ts\":\"");
	log_add_time(&sb);
	sb_addf(&sb, "\",\"level\":\"%s\",\"msg\":", names[l]);
	sb_add_json_str(&sb, msg, strlen(msg));
	if (repeated)
		sb_addf(&sb, ",\"repeated\":%llu,\"seconds\":%ld", (unsigned long long)repeated, seconds);
	sb_addch(&sb, '}');
	log_line(&sb);
	sb_release(&sb);
}

/* ---- repeated lines ----
 * A message logged again with the same level and text within LOG_REPEAT_SECONDS of the first
 * is counted, not written; when the interval is over, one line with the message and the count
 * ("repeated": N) stands for all of them, and a new interval begins. A flood of the same line
 * (a client hammering a broken path, descriptors running out) costs one line per interval:
 * the first, then at most one per interval carrying the count held back before it.
 * A small table of recent messages, searched linearly: log_msg is never on a hot path. */
#define REPEAT_SLOTS 64

struct repeat {
	uint64_t hash;
	uint64_t since_ns; /* start of the current interval; 0 = free slot */
	uint64_t count;    /* lines counted, not written, in this interval */
	enum log_level level;
	char msg[256];
};

static struct repeat repeats[REPEAT_SLOTS];
static pthread_mutex_t repeat_lock = PTHREAD_MUTEX_INITIALIZER;
static const long repeat_seconds = LOG_REPEAT_SECONDS;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t hash_msg(enum log_level l, const char *s)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)l; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h | 1;
}

/* Decides for a message about to be logged: returns -1 when it is to be counted, not
 * written (its interval is still running), else the number of identical lines it stands for
 * besides itself (held back in the interval that just ended; 0 for a fresh message). */
static long long repeat_admit(enum log_level l, const char *msg)
{
	uint64_t h = hash_msg(l, msg), now = mono_ns(), window = (uint64_t)repeat_seconds * 1000000000u;
	long long verdict = 0;
	pthread_mutex_lock(&repeat_lock);
	struct repeat *e = NULL, *oldest = NULL; /* oldest: a free slot, else the oldest interval */
	for (size_t i = 0; i < REPEAT_SLOTS; i++) {
		struct repeat *s = &repeats[i];
		if (s->since_ns && s->hash == h && s->level == l && strncmp(s->msg, msg, sizeof(s->msg) - 1) == 0) {
			e = s;
			break;
		}
		if (!oldest || (oldest->since_ns && (!s->since_ns || s->since_ns < oldest->since_ns)))
			oldest = s;
	}
	if (e && now - e->since_ns < window) {
		e->count++;
		verdict = -1;
	} else if (e) {
		verdict = (long long)e->count; /* this line carries the count of the interval before */
		e->since_ns = now;
		e->count = 0;
	} else {
		if (oldest->since_ns && oldest->count)
			emit(oldest->level, oldest->msg, oldest->count, (long)((now - oldest->since_ns) / 1000000000u));
		oldest->hash = h;
		oldest->level = l;
		oldest->since_ns = now;
		oldest->count = 0;
		size_t ml = strnlen(msg, sizeof(oldest->msg) - 1);
		memcpy(oldest->msg, msg, ml);
		oldest->msg[ml] = 0;
	}
	pthread_mutex_unlock(&repeat_lock);
	return verdict;
}

void log_repeats_flush(bool all)
{
	uint64_t now = mono_ns(), window = (uint64_t)repeat_seconds * 1000000000u;
	pthread_mutex_lock(&repeat_lock);
	for (size_t i = 0; i < REPEAT_SLOTS; i++) {
		struct repeat *e = &repeats[i];
		if (!e->since_ns || (!all && now - e->since_ns < window))
			continue;
		if (e->count)
			emit(e->level, e->msg, e->count, (long)((now - e->since_ns) / 1000000000u));
		/* A message still repeating starts a new interval with this line; a quiet one is
		 * forgotten. */
		if (e->count && !all) {
			e->since_ns = now;
			e->count = 0;
		} else {
			e->since_ns = 0;
			e->count = 0;
		}
	}
	pthread_mutex_unlock(&repeat_lock);
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
	long long repeated = repeat_admit(l, msg);
	if (repeated >= 0)
		emit(l, msg, (uint64_t)repeated, repeat_seconds);
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
	/* After what the writer holds (a second at most: stderr may be stuck), never inside a
	 * line of it. */
	bool locked = false;
	if (atomic_load(&aw.on)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		if (pthread_mutex_timedlock(&aw.mu, &until) == 0) {
			if (pthread_mutex_timedlock(&aw.out, &until) == 0) {
				write_all(aw.pending.buf, aw.pending.len);
				sb_reset(&aw.pending);
				locked = true;
			} else {
				pthread_mutex_unlock(&aw.mu);
			}
		}
	}
	write_all(line, n + 3);
	if (locked) {
		pthread_mutex_unlock(&aw.out);
		pthread_mutex_unlock(&aw.mu);
	}
}
