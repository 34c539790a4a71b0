/* jobs.h: a bounded pool of threads for slow work (password hashing, PDF rendering,
 * delivery), so that no event loop ever waits on it.
 *
 * A job runs work(arg) on a pool thread, then done(arg) on the event loop of the submitting
 * worker (through a libevent event activated from the pool thread; libevent is initialised
 * with pthreads support). When the queue is full, jobs_submit returns GH_EBUSY at once and the
 * caller answers 503 with Retry-After. */
#ifndef GH_JOBS_H
#define GH_JOBS_H
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct jobs;

struct jobs *jobs_new(size_t threads, size_t queue_cap);
/* Finishes queued jobs, then joins the threads. */
void jobs_free(struct jobs *j);

/* Waits until every job submitted so far has run and its completion has been handed to its
 * loop (the loop runs it when it next turns). Used at shutdown, after the loops stopped and
 * before they are freed. */
void jobs_drain(struct jobs *j);
/* base may be NULL: done then runs on the pool thread. Returns 0 or GH_EBUSY. */
int jobs_submit(struct jobs *j, struct event_base *base, void (*work)(void *arg),
		void (*done)(void *arg), void *arg);

struct jobs_stats {
	uint64_t submitted, completed, rejected;
	size_t queued, capacity, threads;
};
void jobs_stats_get(struct jobs *j, struct jobs_stats *out);

#endif
