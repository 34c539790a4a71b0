#include "base/duty.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "base/log.h"
#include "base/util.h"

#define DUTY_BACKOFF_MAX 30

struct duty {
	const char *name;
	duty_pass pass;
	void *arg;
	int period;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool nudged, stopping;
};

static void *run(void *p)
{
	struct duty *d = p;
	/* Signals are for the main thread (server_run waits for SIGTERM and SIGINT there). */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	int failures = 0;
	pthread_mutex_lock(&d->mu);
	while (!d->stopping) {
		d->nudged = false;
		pthread_mutex_unlock(&d->mu);
		bool more = false;
		int rc = d->pass(d->arg, &more);
		if (rc) {
			if (failures++ == 0)
				log_warn("%s: a pass failed; retrying with back-off", d->name);
		} else if (failures) {
			log_info("%s: passes work again", d->name);
			failures = 0;
		}
		pthread_mutex_lock(&d->mu);
		if (d->stopping || d->nudged || (more && !rc))
			continue;
		int wait = failures ? (failures < DUTY_BACKOFF_MAX ? failures : DUTY_BACKOFF_MAX) : d->period;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait;
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

struct duty *duty_start(const char *name, duty_pass pass, void *arg, int period_s)
{
	struct duty *d = xcalloc(1, sizeof(*d));
	d->name = name;
	d->pass = pass;
	d->arg = arg;
	d->period = period_s > 0 ? period_s : 1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->thread, NULL, run, d)) {
		pthread_cond_destroy(&d->cv);
		pthread_mutex_destroy(&d->mu);
		free(d);
		return NULL;
	}
	return d;
}

void duty_nudge(struct duty *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->nudged = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void duty_stop(struct duty *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
