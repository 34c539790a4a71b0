/* jobs.c: the pool (see jobs.h). Jobs wait in one FIFO per key and class; the keys of a
 * class with jobs waiting form a ring that the threads walk (the cursor is the key served
 * next), so the order is round robin over keys, and a class is served only while the classes
 * before it have nothing waiting. The number of keys with jobs waiting is at most the number
 * of jobs waiting (queue_cap), so the linear walks below are bounded by it. */
#include "base/jobs.h"

#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"

#define JOBS_NICE 5
#define RETRY_MAX_S 60
#define EWMA_SHIFT 3 /* the mean moves by 1/8 of each new sample */

struct job {
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
	struct event *ev;
	struct job *next;
};

/* A key with jobs waiting, in the ring. */
struct jkey {
	char *name; /* NULL: the key NULL */
	struct job *head, *tail;
	size_t n;
	struct jkey *prev, *next;
};

/* The keys of one class with jobs waiting. */
struct ring {
	struct jkey *cursor; /* the key served next; NULL when nothing waits */
	size_t nkeys, count;
};

struct jobs {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t idle; /* signalled when a job completes (jobs_drain) */
	struct ring ring[JOBS_CLASSES];
	size_t count, running; /* count: waiting, all classes */
	size_t cap, per_key_cap;
	int64_t max_wait_ns, mean_ns;
	bool measured; /* mean_ns comes from a measured job, not the initial guess */
	uint64_t (*clock_ns)(void);
	pthread_t *threads;
	size_t nthreads;
	bool stopping;
	uint64_t submitted, completed, rejected;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t jobs_expected_wait(size_t ahead, int64_t mean_ns, size_t threads)
{
	if (!threads)
		threads = 1;
	return (int64_t)ahead * mean_ns / (int64_t)threads;
}

static bool same_key(const struct jkey *k, const char *name)
{
	if (!k->name || !name)
		return !k->name && !name;
	return strcmp(k->name, name) == 0;
}

static struct jkey *find_key(struct ring *g, const char *name)
{
	struct jkey *k = g->cursor;
	for (size_t i = 0; k && i < g->nkeys; i++, k = k->next)
		if (same_key(k, name))
			return k;
	return NULL;
}

/* Jobs served before a new job of key k (NULL: a key with nothing waiting, which joins the
 * ring just before the cursor, i.e. after every key waiting now has had its turn). Walking
 * from the cursor, the new job is k's (n+1)-th: it comes after n full turns of the ring and,
 * in the next turn, after the keys before k. */
static size_t ring_ahead(const struct ring *g, const struct jkey *k)
{
	if (!k)
		return g->nkeys;
	size_t ahead = k->n, pos = 0;
	const struct jkey *x = g->cursor;
	for (size_t i = 0; i < g->nkeys; i++, x = x->next) {
		if (x == k) {
			pos = 1; /* keys from here on come after k in its last turn */
			continue;
		}
		size_t turns = k->n + (pos ? 0 : 1);
		ahead += x->n < turns ? x->n : turns;
	}
	return ahead;
}

/* Jobs served before a new job of key k in class cls: every job of the classes before it,
 * then its place in its own class's turns. */
static size_t jobs_ahead(const struct jobs *j, int cls, const struct jkey *k)
{
	size_t ahead = ring_ahead(&j->ring[cls], k);
	for (int c = 0; c < cls; c++)
		ahead += j->ring[c].count;
	return ahead;
}

static unsigned retry_seconds(int64_t wait_ns)
{
	int64_t s = (wait_ns + 999999999) / 1000000000;
	return (unsigned)(s < 1 ? 1 : s > RETRY_MAX_S ? RETRY_MAX_S : s);
}

/* Takes the next job: the first class with jobs waiting, in round-robin order of its keys.
 * The caller holds mu and knows count > 0. */
static struct job *take(struct jobs *j)
{
	struct ring *g = &j->ring[0];
	while (!g->count)
		g++;
	struct jkey *k = g->cursor;
	struct job *job = k->head;
	k->head = job->next;
	if (!k->head)
		k->tail = NULL;
	k->n--;
	g->count--;
	j->count--;
	if (k->n) {
		g->cursor = k->next;
	} else {
		if (g->nkeys == 1) {
			g->cursor = NULL;
		} else {
			k->prev->next = k->next;
			k->next->prev = k->prev;
			g->cursor = k->next;
		}
		g->nkeys--;
		free(k->name);
		free(k);
	}
	return job;
}

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
		struct job *job = take(j);
		j->running++;
		pthread_mutex_unlock(&j->mu);

		uint64_t t0 = j->clock_ns();
		job->work(job->arg);
		int64_t took = (int64_t)(j->clock_ns() - t0);
		bool handed = false;
		if (job->ev) {
			event_assign(job->ev, event_get_base(job->ev), -1, 0, on_done, job);
			event_active(job->ev, 0, 0);
			handed = true; /* on_done frees it */
		} else if (job->done) {
			job->done(job->arg);
		}
		pthread_mutex_lock(&j->mu);
		if (took >= 0 && !j->measured)
			j->mean_ns = took; /* the first measurement replaces the guess */
		else if (took >= 0)
			j->mean_ns += (took - j->mean_ns) / (1 << EWMA_SHIFT);
		j->measured |= took >= 0;
		j->running--;
		j->completed++;
		pthread_cond_broadcast(&j->idle);
		pthread_mutex_unlock(&j->mu);
		if (!handed)
			free(job);
	}
}

struct jobs *jobs_new_with(const struct jobs_config *cfg)
{
	struct jobs *j = xcalloc(1, sizeof(*j));
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	pthread_cond_init(&j->idle, NULL);
	j->cap = cfg->queue_cap ? cfg->queue_cap : 1;
	j->per_key_cap = cfg->per_key_cap;
	j->max_wait_ns = cfg->max_wait_ns;
	j->mean_ns = cfg->initial_service_ns > 0 ? cfg->initial_service_ns : 0;
	j->clock_ns = cfg->clock_ns ? cfg->clock_ns : mono_ns;
	j->nthreads = cfg->threads ? cfg->threads : 1;
	j->threads = xcalloc(j->nthreads, sizeof(pthread_t));
	for (size_t i = 0; i < j->nthreads; i++)
		if (pthread_create(&j->threads[i], NULL, run, j))
			die("jobs: cannot start thread");
	return j;
}

struct jobs *jobs_new(size_t threads, size_t queue_cap)
{
	struct jobs_config c = { .threads = threads, .queue_cap = queue_cap, .initial_service_ns = JOBS_INITIAL_SERVICE_NS };
	return jobs_new_with(&c);
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

/* Where a new job of key in class cls goes: a key keeps one job at a time in the high or the
 * normal class, and its further jobs wait with the low class (a client with jobs in parallel is
 * served after those with one). *c gets the class, the return value the key's queue in it
 * (NULL: none yet), *waiting the key's jobs waiting in all classes. Caller holds mu. */
static struct jkey *place(struct jobs *j, const char *key, enum jobs_class cls, int *c, size_t *waiting)
{
	struct jkey *in[JOBS_CLASSES];
	*waiting = 0;
	for (int i = 0; i < JOBS_CLASSES; i++) {
		in[i] = find_key(&j->ring[i], key);
		*waiting += in[i] ? in[i]->n : 0;
	}
	*c = cls >= 0 && cls < JOBS_CLASSES ? (int)cls : JOBS_CLASSES - 1;
	if (*c != JOBS_LOW && in[*c])
		*c = JOBS_LOW;
	return in[*c];
}

/* The admission rule of jobs_submit_keyed (caller holds mu): 0, or GH_EBUSY with *retry_s. */
static int admit(struct jobs *j, int cls, const struct jkey *k, size_t waiting, unsigned *retry_s)
{
	int64_t wait = jobs_expected_wait(jobs_ahead(j, cls, k), j->mean_ns, j->nthreads);
	bool refuse = j->stopping || j->count >= j->cap || (j->per_key_cap && waiting >= j->per_key_cap) ||
		      (j->max_wait_ns > 0 && wait > j->max_wait_ns);
	if (refuse && retry_s)
		*retry_s = retry_seconds(j->max_wait_ns > 0 && wait > j->max_wait_ns ? wait : j->mean_ns);
	return refuse ? GH_EBUSY : 0;
}

int jobs_admissible(struct jobs *j, const char *key, enum jobs_class cls, unsigned *retry_s)
{
	int c;
	size_t waiting;
	pthread_mutex_lock(&j->mu);
	const struct jkey *k = place(j, key, cls, &c, &waiting);
	int rc = admit(j, c, k, waiting, retry_s);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int jobs_submit_keyed(struct jobs *j, struct event_base *base, const char *key, enum jobs_class cls,
		      void (*work)(void *), void (*done)(void *), void *arg, unsigned *retry_s)
{
	struct job *job = xcalloc(1, sizeof(*job));
	*job = (struct job){ work, done, arg, NULL, NULL };
	if (base && done)
		job->ev = event_new(base, -1, 0, on_done, NULL); /* re-assigned when the work is done */
	pthread_mutex_lock(&j->mu);
	int c;
	size_t waiting;
	struct jkey *k = place(j, key, cls, &c, &waiting);
	struct ring *g = &j->ring[c];
	if (admit(j, c, k, waiting, retry_s)) {
		j->rejected++;
		pthread_mutex_unlock(&j->mu);
		if (job->ev)
			event_free(job->ev);
		free(job);
		return GH_EBUSY;
	}
	if (!k) {
		k = xcalloc(1, sizeof(*k));
		k->name = key ? xstrdup(key) : NULL;
		if (!g->cursor) {
			k->prev = k->next = k;
			g->cursor = k;
		} else {
			/* Last in the ring: after every key waiting now. */
			k->next = g->cursor;
			k->prev = g->cursor->prev;
			k->prev->next = k;
			g->cursor->prev = k;
		}
		g->nkeys++;
	}
	if (k->tail)
		k->tail->next = job;
	else
		k->head = job;
	k->tail = job;
	k->n++;
	g->count++;
	j->count++;
	j->submitted++;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

int jobs_submit(struct jobs *j, struct event_base *base, void (*work)(void *), void (*done)(void *), void *arg)
{
	return jobs_submit_keyed(j, base, NULL, JOBS_NORMAL, work, done, arg, NULL);
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
	out->running = j->running;
	out->keys = 0;
	for (int c = 0; c < JOBS_CLASSES; c++)
		out->keys += j->ring[c].nkeys;
	out->mean_service_ns = j->mean_ns;
	pthread_mutex_unlock(&j->mu);
}
