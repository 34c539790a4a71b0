/* write.h: the one write path. Handlers read the database on their event loop (r->db, which
 * refuses writes: req_loop_run) and write only through req_write: the write runs on the
 * group-commit writer's connection (store/group.h), batched with everyone else's in one
 * transaction with a savepoint of its own, and the request completes on its own loop when
 * the batch has committed. So no loop ever waits on a lock or an fsync, and every channel
 * (pages, API, kiosk, counter, bundles, Open311, log-ins) writes the same way.
 *
 * Invariants:
 * - fn(w, arg) runs on the writer thread, perhaps more than once (group.h): it derives
 *   everything from r and arg and overwrites its outputs. w is the request as the writer sees
 *   it: r's arena, app, caller, language, address, parameters and body, with w->db the
 *   writer's connection (reads there see the batch's own writes). The request is parked, so
 *   nothing else touches its arena meanwhile. w cannot respond, set header fields, reach
 *   per-worker state (req_worker_local, req_generation) or queue more work: each of those
 *   stops the process with a message (they belong in done). A detail fn sets with
 *   req_error_detail(w, ...) is the request's when done runs.
 * - done(r, arg, rc) runs once on r's loop, after the COMMIT: rc is fn's result (GH_ECONFLICT
 *   for a unique violation: 409), or the batch's failure (GH_EUNAVAILABLE when a COMMIT's
 *   outcome is unknown). It responds, or returns a GH_E code, or chains more deferred work
 *   (req_write, req_job) and returns REQ_DEFERRED.
 * - Shutdown drains: server_run waits for every queued write and runs its done before the
 *   loops are freed (group_drain).
 */
#ifndef GH_HTTP_WRITE_H
#define GH_HTTP_WRITE_H
#include <stdbool.h>
#include <stddef.h>

struct db;
struct req;
struct group;
struct event_base;

/* Queues fn(w, arg) on the app's writer; done(r, arg, rc) follows on r's loop. done NULL: the
 * response the handler made before calling is sent once fn has committed, or, when rc != 0,
 * replaced by the error of rc. Returns REQ_DEFERRED; GH_EBUSY when the writer's queue is full
 * (503 with Retry-After; done is not called); GH_EUNAVAILABLE when the app has no writer. */
int req_write(struct req *r, int (*fn)(struct req *w, void *arg), int (*done)(struct req *r, void *arg, int rc),
	      void *arg);

/* Bookkeeping the answer does not depend on (a session's last use, a stale session ended),
 * written along with the request: len bytes of arg are copied and fn(db, copy) is queued
 * now; the handler goes on at once, and its answer is sent when fn has committed, so a
 * client that reads the database after the answer sees it. A failure is logged, never
 * answered. 0, or GH_EBUSY when the queue is full (the write is dropped) or GH_EUNAVAILABLE
 * when the app has no writer. */
int req_write_also(struct req *r, int (*fn)(struct db *db, void *arg), const void *arg, size_t len);

/* Whether r is the request on its loop (false: the writer's copy inside a write). */
bool req_on_loop(const struct req *r);

/* The loop adapter under req_write, for code that runs an event loop without requests (and
 * tests): fn(db, arg) on g's writer, then done(arg, rc) on base's loop (libevent set up with
 * evthread_use_pthreads()). 0 or GH_EBUSY (done is then not called). */
int write_submit(struct group *g, struct event_base *base, int (*fn)(struct db *db, void *arg),
		 void (*done)(void *arg, int rc), void *arg);

/* One run of a handler or of a deferred completion of r on its loop (on: it begins; false: it
 * ended), in a process with a writer (app->group; one without, `govhall paysim`, writes on
 * its loop and gets nothing of this):
 * - its reads share one snapshot (db_read_snapshot: taken at the run's first read, ended
 *   when the run returns), so the rows a page combines from several statements come from one
 *   moment, whatever the writer commits meanwhile; a completion after req_write runs later,
 *   in a new snapshot that sees the write;
 * - r->db refuses every write in every build (the server opens loop connections with
 *   db_refuse_writes); in builds with tests (GOVHALL_GUARD_LOOP_WRITES) the refusal names
 *   the route (db_guard_writes), so a handler that writes on its loop fails its tests with
 *   a message saying where. No route is excepted. */
void req_loop_run(struct req *r, bool on);

#endif
