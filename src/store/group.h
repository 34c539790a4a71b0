/* group.h: group commit. One writer thread per process, with a database connection of its
 * own, runs the writes that request handlers queue (through http/write.h's req_write), many
 * to a transaction: one COMMIT (one fsync on SQLite, one WAL flush on PostgreSQL) for a whole
 * batch instead of one per request.
 * That is what makes synchronous=FULL (durable on power loss) affordable on SQLite.
 *
 * Invariants:
 * - A batch is BEGIN (IMMEDIATE on SQLite), then each queued item's fn(db, arg), then one
 *   COMMIT. Only after the COMMIT succeeded does any item of the batch complete with 0. When an
 *   item fails, the batch is rolled back and run again with a SAVEPOINT around each item,
 *   RELEASE after it (or ROLLBACK TO on failure, so one bad item does not sink the others); so
 *   do the batches right after such a one (items rarely fail, except in a rush, where every
 *   batch would otherwise run twice).
 * - Inside fn, db_begin/db_commit/db_rollback on the db it is given nest: they become
 *   SAVEPOINT/RELEASE/ROLLBACK TO, so store functions that open their own transaction
 *   (case_transition, ...) run unchanged inside a batch. (A batch first runs without
 *   savepoints, nested ones included: a nested rollback there makes the writer roll the batch
 *   back and run it again with savepoints, as a failed item does.) db_in_transaction is true only
 *   inside such a nested transaction, so fn sees the connection as if it were its own: a
 *   store function that opens a transaction only when none is open (cover_tx_begin) opens
 *   one, and its failure (a duplicate key) undoes that part alone. db_rollback with no
 *   nested transaction open is still a no-op returning 0. On PostgreSQL a statement that
 *   fails outside a nested transaction spoils the item (every later statement of the batch
 *   would fail): fn returns that error, or wraps a statement it expects to fail in
 *   db_begin/db_rollback.
 * - The rows an item touched for the transparency log (store/cover.h) are committed to the
 *   log with that item (by its own nested commits, or at its end), never with its batch
 *   mates' rows.
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
 * - complete(arg, rc) runs exactly once per accepted item, on the writer thread, after the
 *   batch's COMMIT (or its failure). rc is fn's result, or the COMMIT's failure. It must be
 *   quick and touch nothing the writer's connection holds: it hands the outcome to whoever
 *   waits for it (http/write.c wakes the request's event loop). The writer knows nothing of
 *   requests or loops.
 * - The queue is bounded: when it is full group_submit returns GH_EBUSY at once (the HTTP
 *   layer answers 503 with Retry-After) and complete is not called.
 */
#ifndef GH_GROUP_H
#define GH_GROUP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct group;

/* Opens the writer's own connection to url (as db_open) and starts the writer thread.
 * queue_cap: items that may wait; max_batch: items per transaction at most. NULL with a
 * message in err when the database cannot be opened. */
struct group *group_new(const char *url, size_t queue_cap, size_t max_batch, char *err, size_t errlen);
/* Runs what is queued, then stops the writer and closes its connection. NULL is fine. Every
 * complete has run when it returns. */
void group_free(struct group *g);

/* A group without a writer thread, for a command that acts as people do (`govhall init
 * --demo` playing its history): group_run(g, fn, arg) runs fn on the calling thread at once,
 * alone in a transaction as the writer runs an item (nested transactions are savepoints, the
 * log's rows committed with it), and returns its result. group_submit is not for it. lazy:
 * commits do not wait for the disk (SQLite synchronous=OFF, PostgreSQL synchronous_commit
 * off), for a command that starts over when it is interrupted (the operating system still
 * writes everything; a power cut may lose the last commits). */
struct group *group_new_direct(const char *url, bool lazy, char *err, size_t errlen);
bool group_is_direct(const struct group *g);
int group_run(struct group *g, int (*fn)(struct db *db, void *arg), void *arg);

/* Waits until every item submitted so far has been written and its complete has run. Used
 * at shutdown, after the loops stopped and before they are freed. NULL is fine. */
void group_drain(struct group *g);
/* Queues fn(db, arg) for the next batch; complete(arg, rc) (may be NULL) follows on the
 * writer thread. Returns 0, or GH_EBUSY when the queue is full or the group is stopping
 * (complete is then not called). Handlers use req_write (http/write.h), never this. */
int group_submit(struct group *g, int (*fn)(struct db *db, void *arg), void (*complete)(void *arg, int rc),
		 void *arg);

struct group_stats {
	uint64_t submitted, completed, failed, rejected; /* items; failed: done got rc != 0 */
	uint64_t batches, commits, fallbacks;            /* fallbacks: batches re-run item by item */
	uint64_t replays;                                /* batches re-run with savepoints */
	size_t queued, capacity, max_batch, largest_batch;
};
void group_stats_get(struct group *g, struct group_stats *out);


#endif
