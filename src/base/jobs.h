/* jobs.h: a bounded pool of threads for slow work (password hashing, PDF rendering,
 * delivery), so that no event loop ever waits on it.
 *
 * A job runs work(arg) on a pool thread, then done(arg) on the event loop of the submitting
 * worker (through a libevent event activated from the pool thread; libevent is initialised
 * with pthreads support).
 *
 * Fairness and admission. Each job is submitted under a key (the client's address, for
 * requests; NULL is a key of its own) and a class. Every key has its own FIFO per class; the
 * threads serve the keys of a class with waiting jobs in turn (round robin), so one key with
 * many jobs delays another key's job by at most one job per key with jobs waiting, however
 * many it queued; and they serve a class only while the classes before it (JOBS_HIGH, then
 * JOBS_NORMAL, then JOBS_LOW) have nothing waiting. A key has at most one job waiting in the
 * high or the normal class: its further jobs wait with the low class (a client with jobs in
 * parallel is served after those with one). Callers put in the high class the jobs of clients
 * with a good record (an address a log-in succeeded from lately, say) and in the low class
 * every job of a client with a recent record of abuse (an address with wrong passwords). So a
 * client with a clean record waits for at most one job of each other such client. A submission is
 * refused at once with GH_EBUSY, and *retry_s (may be NULL)
 * set to the seconds worth waiting (1..60), when:
 * - its expected wait would exceed the pool's max_wait: expected wait = the jobs that will be
 *   served before it in that order × the measured mean service time / threads (the mean is
 *   a moving average of the time work() took, measured on the pool's clock; before the first
 *   job ends it is initial_service_ns);
 * - its key has per_key_cap jobs waiting already (0: no cap);
 * - queue_cap jobs wait in all, or the pool is stopping.
 * The caller answers 503 with Retry-After. */
#ifndef GH_JOBS_H
#define GH_JOBS_H
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct jobs;

enum jobs_class {
	JOBS_HIGH = 0,   /* served first */
	JOBS_NORMAL = 1, /* served while no high job waits */
	JOBS_LOW = 2,    /* served only while no high or normal job waits */
};
#define JOBS_CLASSES 3

struct jobs_config {
	size_t threads;             /* 0 = 1 */
	size_t queue_cap;           /* jobs waiting in all; 0 = 1 */
	size_t per_key_cap;         /* jobs waiting per key; 0 = no cap */
	int64_t max_wait_ns;        /* admission by expected wait; 0 = no such rule */
	int64_t initial_service_ns; /* the mean service time assumed until one is measured */
	/* The clock service times are measured with (ns, monotonic); NULL = CLOCK_MONOTONIC.
	 * Tests pass a fake one. Called from pool threads. */
	uint64_t (*clock_ns)(void);
};

/* The mean service time assumed before any job has been measured (an Argon2id verification
 * at the parameters of identity/password.h takes about this long on one core). */
#define JOBS_INITIAL_SERVICE_NS (50 * 1000000LL)

struct jobs *jobs_new_with(const struct jobs_config *cfg);
/* threads and queue_cap only: no per-key cap, no admission by wait. */
struct jobs *jobs_new(size_t threads, size_t queue_cap);
/* Finishes queued jobs, then joins the threads. */
void jobs_free(struct jobs *j);

/* Waits until every job submitted so far has run and its completion has been handed to its
 * loop (the loop runs it when it next turns). Used at shutdown, after the loops stopped and
 * before they are freed. */
void jobs_drain(struct jobs *j);
/* base may be NULL: done then runs on the pool thread. key (may be NULL) is copied. Returns 0
 * or GH_EBUSY (then *retry_s, when not NULL, holds the seconds to wait before retrying). */
int jobs_submit_keyed(struct jobs *j, struct event_base *base, const char *key, enum jobs_class cls,
		      void (*work)(void *arg), void (*done)(void *arg), void *arg, unsigned *retry_s);
/* Whether a job of key would be admitted now (the same rule; nothing is submitted or
 * counted): 0, or GH_EBUSY with *retry_s (may be NULL). Lets a caller refuse at once, before
 * doing the work that prepares a job that would be refused anyway. */
int jobs_admissible(struct jobs *j, const char *key, enum jobs_class cls, unsigned *retry_s);
/* jobs_submit_keyed with key NULL, class JOBS_NORMAL and no retry hint. */
int jobs_submit(struct jobs *j, struct event_base *base, void (*work)(void *arg),
		void (*done)(void *arg), void *arg);

struct jobs_stats {
	uint64_t submitted, completed, rejected;
	size_t queued, capacity, threads, running;
	size_t keys; /* queues with jobs waiting: one per key and class */
	int64_t mean_service_ns; /* the moving average admission uses */
};
void jobs_stats_get(struct jobs *j, struct jobs_stats *out);

/* The admission rule alone: the wait in ns of a job with `ahead` jobs served before it, on a
 * pool of `threads` threads whose mean service time is mean_ns. */
int64_t jobs_expected_wait(size_t ahead, int64_t mean_ns, size_t threads);

#endif
