#include "base/duty.h"

#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"

#define DUTY_BACKOFF_MAX 30

/* A thread that runs the passes of its duties, the one whose time has come first. */
struct runner {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* a duty was added, nudged or removed, or the runner stops */
	pthread_cond_t idle; /* a pass ended */
	struct duty *list;
	struct duty *running;
	bool stopping;
};

struct duty {
	const char *name;
	duty_pass pass;
	void *arg;
	int period;
	struct runner *r;
	struct duty *next;
	struct timespec due; /* CLOCK_MONOTONIC */
	int failures;
	bool nudged;
};

/* The duties thread, shared by every duty_start. */
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct runner *shared;

static struct timespec now_plus(int s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += s;
	return ts;
}

static bool before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* The duty to run next: a nudged one, else the one due first. */
static struct duty *next_duty(struct runner *r)
{
	struct duty *pick = NULL;
	for (struct duty *d = r->list; d; d = d->next) {
		if (d->nudged)
			return d;
		if (!pick || before(d->due, pick->due))
			pick = d;
	}
	return pick;
}

static void *run(void *p)
{
	struct runner *r = p;
	/* Signals are for the main thread (server_run waits for SIGTERM and SIGINT there). */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&r->mu);
	while (!r->stopping) {
		struct duty *d = next_duty(r);
		if (!d) {
			pthread_cond_wait(&r->wake, &r->mu);
			continue;
		}
		struct timespec now = now_plus(0);
		if (!d->nudged && before(now, d->due)) {
			pthread_cond_timedwait(&r->wake, &r->mu, &d->due);
			continue;
		}
		d->nudged = false;
		r->running = d;
		pthread_mutex_unlock(&r->mu);
		bool more = false;
		int rc = d->pass(d->arg, &more);
		pthread_mutex_lock(&r->mu);
		r->running = NULL;
		if (rc) {
			if (d->failures++ == 0)
				log_warn("%s: a pass failed; retrying with back-off", d->name);
		} else if (d->failures) {
			log_info("%s: passes work again", d->name);
			d->failures = 0;
		}
		int wait = d->failures ? (d->failures < DUTY_BACKOFF_MAX ? d->failures : DUTY_BACKOFF_MAX)
		         : more ? 0 : d->period;
		d->due = now_plus(wait);
		pthread_cond_broadcast(&r->idle);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static struct runner *runner_new(void)
{
	struct runner *r = xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &ca);
	pthread_cond_init(&r->idle, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&r->thread, NULL, run, r)) {
		pthread_cond_destroy(&r->wake);
		pthread_cond_destroy(&r->idle);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	return r;
}

static void runner_free(struct runner *r)
{
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->idle);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static struct duty *add(struct runner *r, const char *name, duty_pass pass, void *arg, int period_s)
{
	struct duty *d = xcalloc(1, sizeof(*d));
	d->name = name;
	d->pass = pass;
	d->arg = arg;
	d->period = period_s > 0 ? period_s : 1;
	d->r = r;
	d->due = now_plus(0);
	pthread_mutex_lock(&r->mu);
	d->next = r->list;
	r->list = d;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	return d;
}

struct duty *duty_start(const char *name, duty_pass pass, void *arg, int period_s)
{
	pthread_mutex_lock(&shared_mu);
	if (!shared)
		shared = runner_new();
	struct duty *d = shared ? add(shared, name, pass, arg, period_s) : NULL;
	pthread_mutex_unlock(&shared_mu);
	return d;
}

struct duty *duty_start_alone(const char *name, duty_pass pass, void *arg, int period_s)
{
	struct runner *r = runner_new();
	return r ? add(r, name, pass, arg, period_s) : NULL;
}

void duty_nudge(struct duty *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->r->mu);
	d->nudged = true;
	pthread_cond_signal(&d->r->wake);
	pthread_mutex_unlock(&d->r->mu);
}

void duty_stop(struct duty *d)
{
	if (!d)
		return;
	struct runner *r = d->r;
	bool is_shared = false;
	pthread_mutex_lock(&shared_mu);
	pthread_mutex_lock(&r->mu);
	while (r->running == d)
		pthread_cond_wait(&r->idle, &r->mu);
	for (struct duty **p = &r->list; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	bool empty = r->list == NULL;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	if (empty) {
		is_shared = r == shared;
		runner_free(r);
		if (is_shared)
			shared = NULL;
	}
	pthread_mutex_unlock(&shared_mu);
	free(d);
}

int duty_run_start(struct duty_run *run, const char *name, duty_pass pass, struct app *app, struct db *db, int period_s,
		   char *err, size_t errlen)
{
	if (run->duty)
		return 0;
	if (!db) {
		snprintf(err, errlen, "%s: the duties' database connection is not open", name);
		return GH_EINTERNAL;
	}
	run->app = app;
	run->db = db;
	if (!(run->duty = duty_start(name, pass, run, period_s))) {
		run->app = NULL;
		run->db = NULL;
		snprintf(err, errlen, "%s: cannot start the duties thread", name);
		return GH_EINTERNAL;
	}
	return 0;
}

void duty_run_stop(struct duty_run *run)
{
	duty_stop(run->duty);
	*run = (struct duty_run){ 0 };
}
