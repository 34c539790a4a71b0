/* group.h: group commit. One writer thread per process, with a database connection of its
 * own, runs the writes that request handlers queue, many to a transaction: one COMMIT (one
 * fsync on SQLite, one WAL flush on PostgreSQL) for a whole batch instead of one per request.
 * That is what makes synchronous=FULL (durable on power loss) affordable on SQLite.
 *
 * Invariants:
 * - A batch is BEGIN (IMMEDIATE on SQLite), then for each queued item SAVEPOINT, fn(db, arg),
 *   RELEASE (or ROLLBACK TO on failure, so one bad item does not sink the others), then one
 *   COMMIT. Only after the COMMIT succeeded does any item of the batch complete with 0.
 * - Inside fn, db_begin/db_commit/db_rollback on the db it is given nest: they become
 *   SAVEPOINT/RELEASE/ROLLBACK TO, so store functions that open their own transaction
 *   (case_transition, ...) run unchanged inside a batch. db_rollback with no nested
 *   transaction open is still a no-op returning 0.
 * - fn runs on the writer thread and must use only the db it is given (never a worker's
 *   connection), and touch only memory no other thread uses meanwhile (the parked request's
 *   arena is fine: its loop does not touch it until done runs).
 * - fn may run more than once: when the batch transaction itself fails (BEGIN, a savepoint,
 *   COMMIT, a dropped PostgreSQL connection), it is rolled back and every item is run again
 *   alone, in a transaction of its own. So fn derives everything from its inputs and
 *   overwrites (never accumulates into) its outputs. Except when the connection was lost
 *   during the COMMIT itself: the batch may have committed, so nothing runs again and every
 *   item completes with GH_EUNAVAILABLE (the client retries; with an idempotency key it
 *   gets what the batch made, if it made it).
 * - done(arg, rc) runs exactly once per accepted item, on the event loop of base (through
 *   event_active; libevent must be set up with evthread_use_pthreads()), or on the writer
 *   thread when base is NULL. rc is fn's result, or the COMMIT's failure.
 * - The queue is bounded: when it is full group_submit returns GH_EBUSY at once (the HTTP
 *   layer answers 503 with Retry-After) and done is not called.
 */
#ifndef GH_GROUP_H
#define GH_GROUP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct event_base;
struct group;
struct req;

/* Opens the writer's own connection to url (as db_open) and starts the writer thread.
 * queue_cap: items that may wait; max_batch: items per transaction at most. NULL with a
 * message in err when the database cannot be opened. */
struct group *group_new(const char *url, size_t queue_cap, size_t max_batch, char *err, size_t errlen);
/* Runs what is queued, then stops the writer and closes its connection. NULL is fine. Every
 * base with items in flight must still be dispatched afterwards for their done to run. */
void group_free(struct group *g);

/* Waits until every item submitted so far has been written and its completion handed to its
 * loop. Used at shutdown, after the loops stopped and before they are freed. */
void group_drain(struct group *g);
/* Queues fn(db, arg) for the next batch; done(arg, rc) follows on base's loop. Returns 0,
 * or GH_EBUSY when the queue is full or the group is stopping (done is then not called). */
int group_submit(struct group *g, struct event_base *base, int (*fn)(struct db *db, void *arg),
		 void (*done)(void *arg, int rc), void *arg);

/* For handlers (http/server.h's deferred responses): queues fn(db, arg) on r->app->group;
 * then done(r, arg, rc) runs on r's event loop and must respond (or return a GH_E code).
 * Returns REQ_DEFERRED, or GH_EBUSY (→ 503 with Retry-After) when the queue is full, or
 * GH_EUNAVAILABLE when the app has no group. */
int req_group(struct req *r, int (*fn)(struct db *db, void *arg), int (*done)(struct req *r, void *arg, int rc),
	      void *arg);

struct group_stats {
	uint64_t submitted, completed, failed, rejected; /* items; failed: done got rc != 0 */
	uint64_t batches, commits, fallbacks;            /* fallbacks: batches re-run item by item */
	size_t queued, capacity, max_batch, largest_batch;
};
void group_stats_get(struct group *g, struct group_stats *out);


#endif
