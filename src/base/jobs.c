#include "base/jobs.h"

#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"

#define JOBS_NICE 5

struct job {
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
	struct event *ev;
};

struct jobs {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t idle; /* signalled when a job completes (jobs_drain) */
	struct job *ring;
	size_t cap, head, count;
	pthread_t *threads;
	size_t nthreads;
	bool stopping;
	uint64_t submitted, completed, rejected;
};

static void on_done(evutil_socket_t fd, short what, void *p)
{
	struct job *job = p;
	(void)fd, (void)what;
	job->done(job->arg);
	event_free(job->ev);
	free(job);
}

static void *run(void *p)
{
	struct jobs *j = p;
	/* Signals are for the main thread (server_run waits for SIGTERM/SIGINT there). */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* Slow work yields to the event loops: a flood of log-ins must not delay other pages. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), JOBS_NICE);
	for (;;) {
		pthread_mutex_lock(&j->mu);
		while (j->count == 0 && !j->stopping)
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->count == 0 && j->stopping) {
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		struct job job = j->ring[j->head];
		j->head = (j->head + 1) % j->cap;
		j->count--;
		pthread_mutex_unlock(&j->mu);

		job.work(job.arg);
		if (job.ev) {
			struct job *heap = xmalloc(sizeof(*heap));
			*heap = job;
			event_assign(job.ev, event_get_base(job.ev), -1, 0, on_done, heap);
			heap->ev = job.ev;
			event_active(job.ev, 0, 0);
		} else if (job.done) {
			job.done(job.arg);
		}
		pthread_mutex_lock(&j->mu);
		j->completed++;
		pthread_cond_broadcast(&j->idle);
		pthread_mutex_unlock(&j->mu);
	}
}

struct jobs *jobs_new(size_t threads, size_t queue_cap)
{
	struct jobs *j = xcalloc(1, sizeof(*j));
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	pthread_cond_init(&j->idle, NULL);
	j->cap = queue_cap ? queue_cap : 1;
	j->ring = xcalloc(j->cap, sizeof(*j->ring));
	j->nthreads = threads ? threads : 1;
	j->threads = xcalloc(j->nthreads, sizeof(pthread_t));
	for (size_t i = 0; i < j->nthreads; i++)
		if (pthread_create(&j->threads[i], NULL, run, j))
			die("jobs: cannot start thread");
	return j;
}

void jobs_free(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < j->nthreads; i++)
		pthread_join(j->threads[i], NULL);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	pthread_cond_destroy(&j->idle);
	free(j->threads);
	free(j->ring);
	free(j);
}

void jobs_drain(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	while (j->completed < j->submitted)
		pthread_cond_wait(&j->idle, &j->mu);
	pthread_mutex_unlock(&j->mu);
}

int jobs_submit(struct jobs *j, struct event_base *base, void (*work)(void *),
		void (*done)(void *), void *arg)
{
	struct event *ev = NULL;
	if (base && done)
		ev = event_new(base, -1, 0, on_done, NULL); /* re-assigned when the work is done */
	pthread_mutex_lock(&j->mu);
	if (j->count == j->cap || j->stopping) {
		j->rejected++;
		pthread_mutex_unlock(&j->mu);
		if (ev)
			event_free(ev);
		return GH_EBUSY;
	}
	j->ring[(j->head + j->count) % j->cap] = (struct job){ work, done, arg, ev };
	j->count++;
	j->submitted++;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

void jobs_stats_get(struct jobs *j, struct jobs_stats *out)
{
	pthread_mutex_lock(&j->mu);
	out->submitted = j->submitted;
	out->completed = j->completed;
	out->rejected = j->rejected;
	out->queued = j->count;
	out->capacity = j->cap;
	out->threads = j->nthreads;
	pthread_mutex_unlock(&j->mu);
}
