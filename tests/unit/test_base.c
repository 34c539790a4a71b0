/* Unit tests for src/base: arena, string builder and escapers, UTF-8, integers, errors,
 * config, job pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/config.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/jobs.h"
#include "base/jsonout.h"
#include "base/sb.h"
#include "base/similar.h"
#include "base/str.h"
#include "base/util.h"
#include "view/view.h"

static int cleaned;
static void count_cleanup(void *p)
{
	cleaned += *(int *)p;
}

static void test_arena(void **state)
{
	(void)state;
	struct arena *a = arena_new(1024);
	char *s = arena_strdup(a, "清河");
	assert_string_equal(s, "清河");
	void *p = arena_alloc(a, 3);
	assert_int_equal((uintptr_t)p % 16, 0);
	/* A large block does not disturb small ones. */
	char *big = arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	char *t = arena_printf(a, "%d-%s", 42, "x");
	assert_string_equal(t, "42-x");
	assert_string_equal(s, "清河");
	int *z = arena_array(a, 10, sizeof(int));
	for (int i = 0; i < 10; i++)
		assert_int_equal(z[i], 0);
	static int one = 1, two = 2;
	cleaned = 0;
	arena_cleanup(a, count_cleanup, &one);
	arena_cleanup(a, count_cleanup, &two);
	assert_true(arena_used(a) >= 100000);
	arena_reset(a);
	assert_int_equal(cleaned, 3);
	assert_int_equal(arena_used(a), 0);
	for (int i = 0; i < 1000; i++)
		arena_alloc(a, 100);
	arena_cleanup(a, count_cleanup, &one);
	arena_free(a);
	assert_int_equal(cleaned, 4);
}

static void test_sb(void **state)
{
	(void)state;
	struct sb sb = SB_INIT;
	assert_string_equal(sb.buf, "");
	sb_adds(&sb, "a");
	sb_addf(&sb, "%d%s", 12, "b");
	sb_addch(&sb, '!');
	assert_string_equal(sb.buf, "a12b!");
	assert_int_equal(sb.len, 5);
	for (int i = 0; i < 1000; i++)
		sb_adds(&sb, "0123456789");
	assert_int_equal(sb.len, 10005);
	size_t len;
	char *d = sb_detach(&sb, &len);
	assert_int_equal(len, 10005);
	free(d);
	assert_int_equal(sb.len, 0);

	/* A cap makes the error sticky and drops what does not fit. */
	sb_set_cap(&sb, 8);
	sb_adds(&sb, "12345");
	assert_false(sb_failed(&sb));
	sb_adds(&sb, "6789");
	assert_true(sb_failed(&sb));
	sb_adds(&sb, "x");
	assert_string_equal(sb.buf, "12345");
	sb_release(&sb);
}

static void test_escapers(void **state)
{
	(void)state;
	struct sb sb = SB_INIT;
	const char *in = "<a href=\"x\">'&`</a>";
	sb_add_html(&sb, in, strlen(in));
	assert_string_equal(sb.buf, "&lt;a href&#61;&quot;x&quot;&gt;&#39;&amp;&#96;&lt;/a&gt;");
	sb_reset(&sb);
	sb_add_json_str(&sb, "a\"b\\\n\x01<", 7);
	assert_string_equal(sb.buf, "\"a\\\"b\\\\\\n\\u0001\\u003c\"");
	sb_reset(&sb);
	sb_add_urlenc(&sb, "a b/清", strlen("a b/清"));
	assert_string_equal(sb.buf, "a%20b%2F%E6%B8%85");
	sb_release(&sb);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(str_utf8_valid("清河 abc", strlen("清河 abc")));
	assert_true(str_utf8_valid("\xF0\x9F\x98\x80", 4)); /* emoji */
	assert_false(str_utf8_valid("\xff", 1));
	assert_false(str_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
	assert_false(str_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
	assert_false(str_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(str_utf8_valid("\xE6\xB8", 2));         /* truncated */
	assert_false(str_utf8_valid("a\0b", 3));             /* NUL */
}

static void test_str_to_long(void **state)
{
	(void)state;
	long v;
	assert_int_equal(str_to_long(str_c("42"), 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(str_to_long(str_c("-3"), -5, 5, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(str_to_long(str_c("0"), 1, 100, &v), -1);
	assert_int_equal(str_to_long(str_c("abc"), 1, 100, &v), -1);
	assert_int_equal(str_to_long(str_c("1e3"), 1, 10000, &v), -1);
	assert_int_equal(str_to_long(str_c(""), 0, 1, &v), -1);
	assert_int_equal(str_to_long(str_c("99999999999999999999"), 0, 1, &v), -1);
}

static void test_err(void **state)
{
	(void)state;
	assert_int_equal(err_status(GH_ENOTFOUND), 404);
	assert_int_equal(err_status(GH_ECONFLICT), 409);
	assert_int_equal(err_status(GH_EBUSY), 503);
	assert_int_equal(err_status(12345), 500);
	assert_string_equal(err_slug(GH_EINVAL), "bad_request");
	/* Every code's public message is the catalogs' err_<slug>, in both languages. */
	struct view *v;
	char err[512], key[96];
	assert_int_equal(view_load("templates", "data/i18n", &v, err, sizeof(err)), 0);
	for (int code = GH_E_FIRST_ + 1; code < GH_E_LAST_; code++) {
		snprintf(key, sizeof(key), "err_%s", err_slug(code));
		assert_true(view_has(v, key));
		assert_string_not_equal(view_msg(v, "zh", key), view_msg(v, "en", key));
	}
	assert_non_null(strstr(view_msg(v, "en", "err_not_found"), "could not find"));
	assert_non_null(strstr(view_msg(v, "zh", "err_not_found"), "找不到"));
	view_free(v);
}

static void test_config(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.db, "govhall.db");
	assert_int_equal(config_set(&c, "max-body", "2048", err, sizeof(err)), 0);
	assert_int_equal(c.max_body, 2048);
	assert_int_equal(config_set(&c, "max-body", "12x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "max-body"));
	assert_int_equal(config_set(&c, "nope", "1", err, sizeof(err)), -1);
	assert_int_equal(config_set(&c, "listen", "8080", err, sizeof(err)), -1);

	char path[] = "/tmp/govhall-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("[server]\nlisten = 127.0.0.1:9999\nthreads = 3\n[database]\ndb = /tmp/x.db\n", f);
	fclose(f);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "127.0.0.1:9999");
	assert_int_equal(c.threads, 3);
	assert_string_equal(c.db, "/tmp/x.db");

	setenv("GOVHALL_LISTEN", "127.0.0.1:7000", 1);
	assert_int_equal(config_load_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "127.0.0.1:7000");
	setenv("GOVHALL_THREADS", "many", 1);
	assert_int_equal(config_load_env(&c, err, sizeof(err)), -1);
	unsetenv("GOVHALL_THREADS");
	unsetenv("GOVHALL_LISTEN");

	f = fopen(path, "w");
	fputs("[server]\nbogus = 1\n", f);
	fclose(f);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bogus"));
	unlink(path);
	assert_int_equal(config_load_file(&c, path, false, err, sizeof(err)), 0);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), -1);
	config_release(&c);
}

static _Atomic int work_done;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void slow_work(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate);
	pthread_mutex_unlock(&gate);
	atomic_fetch_add(&work_done, 1);
}

static void test_jobs_bounded(void **state)
{
	(void)state;
	/* One thread, queue of 2: with the thread blocked, at most 1 running + 2 queued. */
	pthread_mutex_lock(&gate);
	struct jobs *j = jobs_new(1, 2);
	int accepted = 0, rejected = 0;
	for (int i = 0; i < 10; i++) {
		int rc = jobs_submit(j, NULL, slow_work, NULL, NULL);
		if (rc == 0)
			accepted++;
		else if (rc == GH_EBUSY)
			rejected++;
	}
	assert_true(accepted >= 2 && accepted <= 3);
	assert_int_equal(accepted + rejected, 10);
	struct jobs_stats st;
	jobs_stats_get(j, &st);
	assert_int_equal(st.rejected, (uint64_t)rejected);
	assert_int_equal(st.capacity, 2);
	pthread_mutex_unlock(&gate);
	jobs_free(j); /* finishes queued work */
	assert_int_equal(atomic_load(&work_done), accepted);
}

static int dones;

static void count_done(void *arg)
{
	(void)arg;
	dones++;
}

/* Shutdown: jobs_drain returns once every job ran and its completion was handed to the
 * (stopped) loop; one non-blocking turn of the loop runs them all. */
static void test_jobs_drain(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct jobs *j = jobs_new(2, 16);
	atomic_store(&work_done, 0);
	dones = 0;
	for (int i = 0; i < 8; i++)
		assert_int_equal(jobs_submit(j, base, slow_work, count_done, NULL), 0);
	jobs_drain(j);
	assert_int_equal(atomic_load(&work_done), 8);
	assert_int_equal(dones, 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(dones, 8);
	jobs_free(j);
	event_base_free(base);
}

/* ---- admission by expected wait and fairness between keys (fake clock) ---------------- */

static _Atomic uint64_t fake_now;
static uint64_t fake_clock(void)
{
	return atomic_load(&fake_now);
}

static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t order_cv = PTHREAD_COND_INITIALIZER;
static const char *order[256];
static int started, finished;
static uint64_t fake_service = 100000000; /* what one job takes on the fake clock */

/* Records that it started (for the test to wait on), waits at the gate, records its key in
 * the order jobs ran, and takes fake_service ns of the fake clock. */
static void keyed_work(void *arg)
{
	pthread_mutex_lock(&order_mu);
	started++;
	pthread_cond_broadcast(&order_cv);
	pthread_mutex_unlock(&order_mu);
	pthread_mutex_lock(&gate);
	pthread_mutex_unlock(&gate);
	atomic_fetch_add(&fake_now, fake_service);
	pthread_mutex_lock(&order_mu);
	if (finished < (int)ARRAY_LEN(order))
		order[finished] = arg;
	finished++;
	pthread_cond_broadcast(&order_cv);
	pthread_mutex_unlock(&order_mu);
}

static void wait_started(int n)
{
	pthread_mutex_lock(&order_mu);
	while (started < n)
		pthread_cond_wait(&order_cv, &order_mu);
	pthread_mutex_unlock(&order_mu);
}

static void reset_order(void)
{
	pthread_mutex_lock(&order_mu);
	started = finished = 0;
	memset(order, 0, sizeof(order));
	pthread_mutex_unlock(&order_mu);
	atomic_store(&fake_now, 1000000000);
	fake_service = 100000000;
}

static void test_jobs_expected_wait(void **state)
{
	(void)state;
	assert_int_equal(jobs_expected_wait(40, 50000000, 2), 1000000000);
	assert_int_equal(jobs_expected_wait(0, 50000000, 2), 0);
	assert_int_equal(jobs_expected_wait(3, 100000000, 0), 300000000); /* 0 threads counts as 1 */
}

/* One thread, a mean service time of 100 ms, 2 s allowed: behind a running job, the 21st job
 * of one key waits 20 x 100 ms = 2 s (admitted), the 22nd 2.1 s (refused, retry in 3 s). A
 * second key is admitted at once and served after at most one job of the first per turn. */
static void test_jobs_admission_and_fairness(void **state)
{
	(void)state;
	reset_order();
	struct jobs_config c = { .threads = 1, .queue_cap = 1000, .max_wait_ns = 2000000000,
				 .initial_service_ns = 100000000, .clock_ns = fake_clock };
	pthread_mutex_lock(&gate);
	struct jobs *j = jobs_new_with(&c);
	unsigned retry = 0;
	assert_int_equal(jobs_submit_keyed(j, NULL, "10.0.0.1", JOBS_NORMAL, keyed_work, NULL, "a", &retry), 0);
	wait_started(1); /* running: the queue is empty again */
	int admitted = 0, rc;
	while ((rc = jobs_submit_keyed(j, NULL, "10.0.0.1", JOBS_NORMAL, keyed_work, NULL, "a", &retry)) == 0)
		admitted++;
	assert_int_equal(rc, GH_EBUSY);
	assert_int_equal(admitted, 21);
	assert_int_equal(retry, 3);
	/* Another address is not behind the flood: one job of each key waiting goes first. */
	assert_int_equal(jobs_submit_keyed(j, NULL, "10.0.0.2", JOBS_NORMAL, keyed_work, NULL, "b", &retry), 0);
	assert_int_equal(jobs_submit_keyed(j, NULL, "10.0.0.2", JOBS_NORMAL, keyed_work, NULL, "b", &retry), 0);
	struct jobs_stats st;
	jobs_stats_get(j, &st);
	pthread_mutex_unlock(&gate);
	assert_int_equal(st.queued, 23);
	assert_int_equal(st.keys, 4); /* a and b: one normal job each, the others low */
	assert_int_equal(st.rejected, 1);
	jobs_drain(j);
	/* a (running when b arrived), then turns: a b a b a a ... */
	int b_at[2] = { -1, -1 }, nb = 0;
	for (int i = 0; i < 24; i++)
		if (order[i] && strcmp(order[i], "b") == 0 && nb < 2)
			b_at[nb++] = i;
	assert_int_equal(nb, 2);
	assert_true(b_at[0] <= 2);
	assert_true(b_at[1] <= 4);
	jobs_stats_get(j, &st);
	assert_int_equal(st.mean_service_ns, 100000000);
	assert_int_equal(st.completed, 24);
	jobs_free(j);
}

/* Low-class jobs (clients with a record of abuse) wait while any normal job waits: a normal
 * job is admitted and served next however many low ones wait, and a low job's expected wait
 * counts every normal job before it. */
static void test_jobs_classes(void **state)
{
	(void)state;
	reset_order();
	struct jobs_config c = { .threads = 1, .queue_cap = 1000, .max_wait_ns = 1000000000,
				 .initial_service_ns = 100000000, .clock_ns = fake_clock };
	pthread_mutex_lock(&gate);
	struct jobs *j = jobs_new_with(&c);
	assert_int_equal(jobs_submit_keyed(j, NULL, "10.0.0.9", JOBS_LOW, keyed_work, NULL, "low", NULL), 0);
	wait_started(1);
	int low = 0;
	unsigned retry = 0;
	while (jobs_submit_keyed(j, NULL, "10.0.0.9", JOBS_LOW, keyed_work, NULL, "low", &retry) == 0)
		low++;
	assert_int_equal(low, 11); /* 0 .. 10 ahead x 100 ms <= 1 s */
	/* A clean address: nothing ahead of it. */
	assert_int_equal(jobs_admissible(j, "10.0.1.0", JOBS_NORMAL, NULL), 0);
	assert_int_equal(jobs_submit_keyed(j, NULL, "10.0.1.0", JOBS_NORMAL, keyed_work, NULL, "normal", NULL), 0);
	/* Its second job at once waits with the low class: behind the normal one and one turn. */
	assert_int_equal(jobs_submit_keyed(j, NULL, "10.0.1.0", JOBS_NORMAL, keyed_work, NULL, "second", NULL), 0);
	/* Nine more clean addresses: ten normal jobs wait, and no low job fits in 1 s any more. */
	for (int i = 1; i < 10; i++) {
		char key[16];
		snprintf(key, sizeof(key), "10.0.1.%d", i);
		assert_int_equal(jobs_submit_keyed(j, NULL, key, JOBS_NORMAL, keyed_work, NULL, "normal", NULL), 0);
	}
	assert_int_equal(jobs_admissible(j, "10.0.0.8", JOBS_LOW, &retry), GH_EBUSY);
	assert_int_equal(retry, 2); /* 10 normal + 1 turn of the low ring = 1.1 s */
	assert_int_equal(jobs_admissible(j, "10.0.2.0", JOBS_NORMAL, NULL), 0);
	/* An address with a good record: ahead of every normal job. */
	assert_int_equal(jobs_submit_keyed(j, NULL, "10.0.4.0", JOBS_HIGH, keyed_work, NULL, "high", &retry), 0);
	pthread_mutex_unlock(&gate);
	jobs_drain(j);
	/* The running low job first, then the high one, the ten normal ones, then the low ones in
	 * turns (the clean address's second job in the second turn). */
	assert_string_equal(order[0], "low");
	assert_string_equal(order[1], "high");
	for (int i = 2; i <= 11; i++)
		assert_string_equal(order[i], "normal");
	assert_string_equal(order[12], "low");
	assert_string_equal(order[13], "second");
	for (int i = 14; i < 24; i++)
		assert_string_equal(order[i], "low");
	jobs_free(j);
}

/* A key may not have more than per_key_cap jobs waiting; other keys are still admitted. */
static void test_jobs_per_key_cap(void **state)
{
	(void)state;
	reset_order();
	struct jobs_config c = { .threads = 1, .queue_cap = 100, .per_key_cap = 3, .clock_ns = fake_clock };
	pthread_mutex_lock(&gate);
	struct jobs *j = jobs_new_with(&c);
	assert_int_equal(jobs_submit_keyed(j, NULL, "x", JOBS_NORMAL, keyed_work, NULL, "x", NULL), 0);
	wait_started(1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(jobs_submit_keyed(j, NULL, "x", JOBS_NORMAL, keyed_work, NULL, "x", NULL), 0);
	unsigned retry = 0;
	assert_int_equal(jobs_submit_keyed(j, NULL, "x", JOBS_NORMAL, keyed_work, NULL, "x", &retry), GH_EBUSY);
	assert_true(retry >= 1);
	assert_int_equal(jobs_submit_keyed(j, NULL, "y", JOBS_NORMAL, keyed_work, NULL, "y", NULL), 0);
	assert_int_equal(jobs_submit_keyed(j, NULL, NULL, JOBS_NORMAL, keyed_work, NULL, "none", NULL), 0);
	pthread_mutex_unlock(&gate);
	jobs_free(j);
	assert_int_equal(finished, 6);
}

/* The mean is measured: the first job replaces the initial guess, later ones move it by an
 * eighth. Admission follows the measurement. */
static void test_jobs_measured_mean(void **state)
{
	(void)state;
	reset_order();
	fake_service = 400000000; /* 400 ms a job */
	struct jobs_config c = { .threads = 2, .queue_cap = 100, .max_wait_ns = 2000000000,
				 .initial_service_ns = 10000000, .clock_ns = fake_clock };
	struct jobs *j = jobs_new_with(&c);
	assert_int_equal(jobs_submit_keyed(j, NULL, "m", JOBS_NORMAL, keyed_work, NULL, "m", NULL), 0);
	jobs_drain(j);
	struct jobs_stats st;
	jobs_stats_get(j, &st);
	assert_int_equal(st.mean_service_ns, 400000000);
	/* Two threads busy; then 10 waiting make 10 x 400 ms / 2 = 2 s (the 11th is refused). */
	pthread_mutex_lock(&gate);
	assert_int_equal(jobs_submit_keyed(j, NULL, "m", JOBS_NORMAL, keyed_work, NULL, "m", NULL), 0);
	assert_int_equal(jobs_submit_keyed(j, NULL, "m", JOBS_NORMAL, keyed_work, NULL, "m", NULL), 0);
	wait_started(3);
	int admitted = 0;
	unsigned retry = 0;
	while (jobs_submit_keyed(j, NULL, "m", JOBS_NORMAL, keyed_work, NULL, "m", &retry) == 0)
		admitted++;
	assert_int_equal(admitted, 11);
	assert_int_equal(retry, 3); /* 11 x 400 ms / 2 = 2.2 s */
	pthread_mutex_unlock(&gate);
	jobs_free(j);
}

struct duty_probe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int passes;
	int more_until; /* passes that report more work waiting */
};

static int probe_pass(void *arg, bool *more)
{
	struct duty_probe *p = arg;
	pthread_mutex_lock(&p->mu);
	p->passes++;
	*more = p->passes < p->more_until;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Waits (bounded) until the probe has run at least n passes; returns the count. */
static int wait_passes(struct duty_probe *p, int n)
{
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < 50 && p->passes < n; i++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	int got = p->passes;
	pthread_mutex_unlock(&p->mu);
	return got;
}

static void test_duty(void **state)
{
	(void)state;
	struct duty_probe p = { .more_until = 5 };
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	/* A long period: every pass after the first comes from "more" or a nudge. */
	struct duty *d = duty_start("test", probe_pass, &p, 3600);
	assert_non_null(d);
	assert_true(wait_passes(&p, 5) >= 5);      /* the first pass, then four "more" passes */
	duty_nudge(d);
	assert_true(wait_passes(&p, 6) >= 6);      /* the nudge */
	duty_stop(d); /* must wake the hour-long wait and join, or the test times out */
	duty_nudge(NULL);
	duty_stop(NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
}

static double alike(struct arena *a, const char *x, const char *y)
{
	struct similar_set s1, s2;
	similar_features(a, x, strlen(x), &s1);
	similar_features(a, y, strlen(y), &s2);
	return similar_score(&s1, &s2);
}

/* Duplicate reports (base/similar.h): the same problem in other words scores at the
 * threshold or more, in Chinese and English; different problems below it; the measure is
 * symmetric, 1 for the same text, 0 with an empty one; full-width forms and case fold. */
static void test_similar(void **state)
{
	(void)state;
	struct arena *a = arena_new(1 << 16);
	static const char *const same[][2] = {
		{ "路灯坏了 小区门口的路灯坏了，晚上很黑", "路灯不亮 小区门口路灯不亮了，晚上走路很危险" },
		{ "排队时间太长 取号后等了三个小时", "排队太久 在大厅排队等了两个多小时" },
		{ "Streetlight broken The streetlight outside the school gate is broken",
		  "Street light out The street lights near the school gate are not working" },
		{ "Pothole on Main Road A deep pothole on Main Road near the bridge",
		  "Pothole near bridge Main Road has a big pothole by the bridge" },
	};
	static const char *const other[][2] = {
		{ "路灯坏了 小区门口的路灯坏了，晚上很黑", "窗口态度差 办理业务时窗口工作人员态度很差" },
		{ "排队时间太长 取号后等了三个小时", "网站打不开 网上办事大厅的网站经常打不开" },
		{ "Streetlight broken The streetlight outside the school gate is broken",
		  "Rude staff The clerk at window 3 was rude and slow" },
		{ "Long queue I waited three hours", "Streetlight broken outside the school" },
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_true(alike(a, same[i][0], same[i][1]) >= SIMILAR_THRESHOLD);
		assert_true(alike(a, same[i][0], same[i][1]) == alike(a, same[i][1], same[i][0]));
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_true(alike(a, other[i][0], other[i][1]) < SIMILAR_THRESHOLD);
	assert_true(alike(a, "路灯坏了", "路灯坏了") == 1.0);
	assert_true(alike(a, "", "路灯坏了") == 0.0);
	assert_true(alike(a, "，。！", "路灯坏了") == 0.0);
	assert_true(alike(a, "ＳＴＲＥＥＴ　ＬＩＧＨＴ", "street light") == 1.0);
	/* bad bytes only separate; a text longer than the cap is read up to it */
	assert_true(alike(a, "road\xff\xfehole", "road hole") == 1.0);
	struct sb big;
	sb_init(&big, 1 << 16);
	for (int i = 0; i < 20000; i++)
		sb_adds(&big, i % 2 ? "路灯" : "word ");
	struct similar_set s;
	similar_features(a, big.buf, big.len, &s);
	assert_true(s.n <= SIMILAR_FEATURES_MAX);
	sb_release(&big);

	/* masks: four or more digits, e-mail addresses; the cut marked */
	assert_string_equal(similar_mask(a, "电话13812345678 邮箱 zhang@example.com 第3窗口", 100),
			    "电话*********** 邮箱 ***************** 第3窗口");
	assert_string_equal(similar_mask(a, "身份证 11010519491231002X", 100), "身份证 *****************X");
	assert_string_equal(similar_mask(a, "房间 1203 与 12 号", 100), "房间 **** 与 12 号");
	assert_string_equal(similar_mask(a, "一二三四五六七八九十", 5), "一二三四五\xe2\x80\xa6");
	assert_string_equal(similar_mask(a, "abc", 5), "abc");
	assert_string_equal(similar_mask(a, "", 5), "");
	assert_string_equal(similar_mask(a, NULL, 5), "");

	/* a person's name, wherever it is written */
	assert_string_equal(similar_mask_word(a, "我是张三，张三的家门口", "张三"), "我是**，**的家门口");
	assert_string_equal(similar_mask_word(a, "张三", "张三"), "**");
	assert_string_equal(similar_mask_word(a, "Zhang San lives here", "Zhang San"), "********* lives here");
	assert_string_equal(similar_mask_word(a, "李四家门口", "张三"), "李四家门口");
	assert_string_equal(similar_mask_word(a, "门口", "门"), "门口"); /* one character: not a name */
	assert_string_equal(similar_mask_word(a, "门口", NULL), "门口");

	/* distances: 0.01 degree of longitude at 39.9 N is about 853 m */
	double d = similar_distance_m(39.9, 116.4, 39.9, 116.41);
	assert_true(d > 850 && d < 856);
	assert_true(similar_distance_m(31.2, 121.5, 31.2, 121.5) == 0);

	/* ranking: most alike first, ties in the order compared */
	struct similar_ranked k[] = { { 0.3, 0 }, { 0.8, 1 }, { 0.3, 2 }, { 0.5, 3 }, { 0.8, 4 } };
	qsort(k, 5, sizeof(k[0]), similar_by_score);
	const size_t want[] = { 1, 4, 3, 0, 2 };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(k[i].i, want[i]);
	arena_free(a);
}

/* jsonout writes jansson's compact text byte for byte, sorted or not, and fails where
 * jansson fails. */
static void same_as_jansson(json_t *j, size_t flags)
{
	char *want = json_dumps(j, JSON_COMPACT | flags);
	char *got = jsonout_dumps(j, JSON_COMPACT | flags);
	assert_non_null(want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(want);
	free(got);
}

static void test_jsonout(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"{}", "[]", "[[],{},[{}]]", "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
		"[0,-1,9223372036854775807,-9223372036854775808,42]",
		"[0.5,1.0,-2.25e-7,1e300,3.141592653589793,100000000000000000000.0]",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"]",
		"{\"名\":\"张三\",\"emoji\":\"\\ud83d\\ude00 ok\",\"mixed\":\"a<b>&'c\"}",
		"{\"b\":1,\"a\":2,\"ab\":3,\"A\":4,\"\":5,\"a b\":6,\"a\\u00e9\":7,\"aa\":{\"z\":1,\"y\":2}}",
		"[\"\\u0000in the middle\\u0000\",\"é\",\"\\u2028\\u2029\",\"\\uffff\",\"\\udbff\\udfff\"]",
	};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		json_error_t err;
		json_t *j = json_loads(texts[i], JSON_ALLOW_NUL, &err);
		if (!j)
			fail_msg("%s: %s", texts[i], err.text);
		same_as_jansson(j, 0);
		same_as_jansson(j, JSON_SORT_KEYS);
		json_decref(j);
	}
	/* A large object (its keys beyond the stack's room) in insertion and sorted order. */
	json_t *big = json_object();
	char key[16];
	for (int i = 40; i > 0; i--) {
		snprintf(key, sizeof(key), "k%02d", i * 7 % 41);
		json_object_set_new(big, key, json_integer(i));
	}
	same_as_jansson(big, 0);
	same_as_jansson(big, JSON_SORT_KEYS);
	json_decref(big);
	/* Scalars only with JSON_ENCODE_ANY, as jansson. */
	json_t *s = json_string("x");
	assert_null(jsonout_dumps(s, JSON_COMPACT));
	same_as_jansson(s, JSON_ENCODE_ANY);
	json_decref(s);
	/* Not UTF-8 (made without jansson's check): no text, and nothing left in the builder. */
	static const char *const bad[] = { "\xff", "a\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8", "\x80" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		json_t *a = json_pack("[s]", "ok");
		json_array_append_new(a, json_stringn_nocheck(bad[i], strlen(bad[i])));
		assert_null(json_dumps(a, JSON_COMPACT));
		struct sb sb = SB_INIT;
		sb_adds(&sb, "kept");
		assert_int_equal(jsonout_sb(&sb, a, JSON_COMPACT), GH_EINTERNAL);
		assert_string_equal(sb.buf, "kept");
		sb_release(&sb);
		json_decref(a);
	}
	/* Nested past the limit (as a cycle would be): an error, not a crash. */
	json_t *deep = json_array(), *cur = deep;
	for (int i = 0; i < JSONOUT_MAX_DEPTH + 2; i++) {
		json_t *next = json_array();
		json_array_append_new(cur, next);
		cur = next;
	}
	assert_null(jsonout_dumps(deep, JSON_COMPACT));
	json_decref(deep);
	/* A flag it does not write itself: jansson's text. */
	json_t *o = json_pack("{s:s,s:i}", "url", "a/b", "n", 1);
	char *want = json_dumps(o, JSON_ESCAPE_SLASH | JSON_INDENT(2));
	char *got = jsonout_dumps(o, JSON_ESCAPE_SLASH | JSON_INDENT(2));
	assert_string_equal(got, want);
	free(want);
	free(got);
	json_decref(o);
}

int main(void)
{
	evthread_use_pthreads(); /* the pool hands completions to a loop from its threads */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_sb),
		cmocka_unit_test(test_escapers),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_str_to_long),
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_jobs_bounded),
		cmocka_unit_test(test_jobs_drain),
		cmocka_unit_test(test_jobs_expected_wait),
		cmocka_unit_test(test_jobs_admission_and_fairness),
		cmocka_unit_test(test_jobs_per_key_cap),
		cmocka_unit_test(test_jobs_classes),
		cmocka_unit_test(test_jobs_measured_mean),
		cmocka_unit_test(test_duty),
		cmocka_unit_test(test_similar),
		cmocka_unit_test(test_jsonout),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
