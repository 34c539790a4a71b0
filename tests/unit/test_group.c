/* test_group.c: group commit (src/store/group.c), on SQLite and (with GOVHALL_TEST_PG) on
 * PostgreSQL: many threads submitting through one writer, a failing item rolled back alone,
 * nested transactions inside an item, a batch whose transaction breaks, a session lost in the
 * middle of a batch and during its COMMIT, the queue bound, and done on the submitter's event
 * loop (http/write.c's write_submit: the writer itself knows no loops). No timings: throughput
 * is for `make bench`. */
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

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "store/db.h"
#include "http/write.h"
#include "store/group.h"
#include "testdb.h"

struct fx {
	enum db_kind kind;
	struct testdb t;
	struct arena *a;
};

static enum db_kind kind_sqlite = DB_SQLITE, kind_pg = DB_POSTGRES;

static int setup(void **state)
{
	enum db_kind kind = *(enum db_kind *)*state;
	struct fx *f = xcalloc(1, sizeof(*f));
	f->kind = kind;
	*state = f;
	int rc = testdb_open(&f->t, kind, "group");
	if (rc == 1)
		return 0;
	if (rc)
		return -1;
	f->a = arena_new(4096);
	if (db_exec_script(f->t.db, "CREATE TABLE gt (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE, "
				    "note TEXT)"))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	testdb_close(&f->t);
	if (f->a)
		arena_free(f->a);
	free(f);
	return 0;
}

#define FX()                   \
	struct fx *f = *state; \
	if (!f->t.db)          \
		skip();        \
	(void)f

static struct group *new_group(struct fx *f, size_t cap, size_t batch)
{
	char err[256];
	struct group *g = group_new(f->t.url, cap, batch, err, sizeof(err));
	if (!g)
		fprintf(stderr, "group_new: %s\n", err);
	assert_non_null(g);
	return g;
}

static long count_where(struct fx *f, const char *sql)
{
	static struct db_sql q[8];
	static const char *texts[8];
	size_t i = 0;
	while (i < 8 && texts[i] && strcmp(texts[i], sql) != 0)
		i++;
	assert_true(i < 8);
	if (!texts[i]) {
		texts[i] = sql;
		q[i].sql = sql;
	}
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q[i], DB_NOARGS, &rows), 0);
	return (long)db_cell_int(&rows, 0, 0);
}

/* ---- items ---- */

DB_SQL(q_ins, "INSERT INTO gt (id, v, note) VALUES (?, ?, ?)");

struct item {
	int64_t id, v;
	int fail;     /* 1: insert, then fail; 2: nested rollback of a second row; 3: break the batch once;
		       * 4: lose the writer's connection once (PostgreSQL), ignoring the error */
	atomic_int runs;
	atomic_int done, rc;
};

static atomic_int done_total;

static int item_fn(struct db *db, void *p)
{
	struct item *it = p;
	atomic_fetch_add(&it->runs, 1);
	int rc = db_exec(db, &q_ins, DB_ARGS(DB_INT(it->id), DB_INT(it->v), DB_TEXT("x")), NULL);
	if (rc)
		return rc;
	if (it->fail == 1)
		return GH_EINVAL; /* its row must go */
	if (it->fail == 2) {
		/* A store function with a transaction of its own that fails: only its part goes. */
		if ((rc = db_begin(db)))
			return rc;
		if ((rc = db_exec(db, &q_ins, DB_ARGS(DB_INT(it->id + 1000000), DB_INT(it->v + 1000000), DB_TEXT("nested")),
				  NULL)))
			return rc;
		db_rollback(db);
		/* ... and one that succeeds stays. */
		if ((rc = db_begin(db)))
			return rc;
		if ((rc = db_exec(db, &q_ins, DB_ARGS(DB_INT(it->id + 2000000), DB_INT(it->v + 2000000), DB_TEXT("nested")),
				  NULL)))
			return rc;
		return db_commit(db);
	}
	if (it->fail == 3 && atomic_load(&it->runs) == 1) {
		/* Ends the batch's transaction behind the writer's back: the batch is lost and
		 * every item must run again alone. */
		db_exec_script(db, "ROLLBACK");
	}
	if (it->fail == 4 && atomic_load(&it->runs) == 1) {
		/* The server ends the writer's session in the middle of the batch; the item goes on
		 * as if nothing happened (its next statement must still fail, not autocommit). */
		db_exec_script(db, "SELECT pg_terminate_backend(pg_backend_pid())");
		return db_exec(db, &q_ins, DB_ARGS(DB_INT(it->id + 3000000), DB_INT(it->v + 3000000), DB_TEXT("after")),
			       NULL) == GH_EUNAVAILABLE ? 0 : GH_EINTERNAL;
	}
	return 0;
}

static void item_done(void *p, int rc)
{
	struct item *it = p;
	atomic_store(&it->rc, rc);
	atomic_fetch_add(&it->done, 1);
	atomic_fetch_add(&done_total, 1);
}

/* ---- many threads ---- */

#define THREADS 8
#define PER_THREAD 200

struct submitter {
	struct group *g;
	struct item *items;
	int busy;
};

static void *submit_all(void *p)
{
	struct submitter *s = p;
	for (int i = 0; i < PER_THREAD; i++) {
		while (group_submit(s->g, item_fn, item_done, &s->items[i]) == GH_EBUSY)
			s->busy++, sched_yield();
	}
	return NULL;
}

static void test_many_threads(void **state)
{
	FX();
	atomic_store(&done_total, 0);
	struct group *g = new_group(f, 64, 256);
	struct item *items = xcalloc(THREADS * PER_THREAD, sizeof(*items));
	struct submitter s[THREADS];
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			struct item *it = &items[t * PER_THREAD + i];
			it->id = t * PER_THREAD + i + 1;
			it->v = it->id;
			/* every 50th item fails after its insert; every 70th uses nested transactions */
			it->fail = it->id % 50 == 0 ? 1 : it->id % 70 == 0 ? 2 : 0;
		}
		s[t] = (struct submitter){ g, &items[t * PER_THREAD], 0 };
		assert_int_equal(pthread_create(&th[t], NULL, submit_all, &s[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	group_free(g); /* runs what is queued */
	int n = THREADS * PER_THREAD, failing = 0, nested = 0;
	assert_int_equal(atomic_load(&done_total), n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(atomic_load(&items[i].done), 1);
		assert_int_equal(atomic_load(&items[i].rc), items[i].fail == 1 ? GH_EINVAL : 0);
		failing += items[i].fail == 1;
		nested += items[i].fail == 2;
	}
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt WHERE note = 'x'"), n - failing);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt WHERE id % 50 = 0 AND id < 1000000"), 0);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt WHERE id > 1000000 AND id < 2000000"), 0);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt WHERE id > 2000000"), nested);
	free(items);
}

static void hold_writer(struct group *g);
static void release_writer(void);

/* A constraint violation in one item of a batch (a duplicate key) loses only that item. */
static void test_savepoint_isolates(void **state)
{
	FX();
	atomic_store(&done_total, 0);
	struct group *g = new_group(f, 64, 64);
	hold_writer(g); /* so the next items form one batch */
	struct item items[10] = { 0 };
	for (int i = 0; i < 10; i++) {
		items[i].id = i + 1;
		items[i].v = i == 5 ? 3 : i + 1; /* item 5 repeats v = 3: UNIQUE violation */
	}
	for (int i = 0; i < 10; i++)
		assert_int_equal(group_submit(g, item_fn, item_done, &items[i]), 0);
	release_writer();
	while (atomic_load(&done_total) < 11)
		sched_yield();
	struct group_stats st;
	group_stats_get(g, &st);
	assert_int_equal(st.largest_batch, 10);
	assert_int_equal(st.fallbacks, 0);
	group_free(g);
	for (int i = 0; i < 10; i++)
		assert_int_equal(atomic_load(&items[i].rc), i == 5 ? GH_ECONFLICT : 0);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt WHERE note = 'x'"), 9);
	/* run without savepoints up to the failure, then again with them */
	assert_int_equal(st.replays, 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(atomic_load(&items[i].runs), i <= 5 ? 2 : 1);
}

/* A batch whose items all succeed runs each once, without savepoints; after a batch with a
 * failure the next ones keep them (a rush of failures does not run every batch twice). */
static void test_clean_batch_runs_once(void **state)
{
	FX();
	atomic_store(&done_total, 0);
	struct group *g = new_group(f, 64, 64);
	struct item items[20] = { 0 };
	for (int round = 0; round < 2; round++) {
		hold_writer(g);
		for (int i = 0; i < 10; i++) {
			struct item *it = &items[round * 10 + i];
			it->id = it->v = 100 + round * 10 + i;
			it->fail = round == 0 && i == 7 ? 1 : 0;
			assert_int_equal(group_submit(g, item_fn, item_done, it), 0);
		}
		release_writer();
		group_drain(g);
	}
	struct group_stats st;
	group_stats_get(g, &st);
	group_free(g);
	assert_int_equal(st.replays, 1); /* the first batch; the second ran with savepoints at once */
	for (int i = 10; i < 20; i++)
		assert_int_equal(atomic_load(&items[i].runs), 1);
	assert_int_equal(atomic_load(&items[7].rc), GH_EINVAL);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt WHERE v >= 100"), 19);

	atomic_store(&done_total, 0);
	struct group *g2 = new_group(f, 64, 64);
	struct item clean[8] = { 0 };
	hold_writer(g2);
	for (int i = 0; i < 8; i++) {
		clean[i].id = clean[i].v = 200 + i;
		assert_int_equal(group_submit(g2, item_fn, item_done, &clean[i]), 0);
	}
	release_writer();
	group_drain(g2);
	group_stats_get(g2, &st);
	group_free(g2);
	assert_int_equal(st.replays, 0);
	assert_int_equal(st.largest_batch, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(atomic_load(&clean[i].runs), 1);
		assert_int_equal(atomic_load(&clean[i].rc), 0);
	}
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt WHERE v >= 200"), 8);
}

/* ---- the queue bound ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered;

static int gate_fn(struct db *db, void *p)
{
	(void)db, (void)p;
	pthread_mutex_lock(&gate_mu);
	gate_entered = true;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return 0;
}

static struct item gate_item;

static void hold_writer(struct group *g)
{
	gate_open = gate_entered = false;
	memset(&gate_item, 0, sizeof(gate_item));
	assert_int_equal(group_submit(g, gate_fn, item_done, &gate_item), 0);
	pthread_mutex_lock(&gate_mu);
	while (!gate_entered)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void release_writer(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void test_queue_bound(void **state)
{
	FX();
	atomic_store(&done_total, 0);
	struct group *g = new_group(f, 4, 256);
	hold_writer(g);
	/* The writer is busy with the gate: four fit in the queue, the fifth is refused. */
	struct item items[5] = { 0 };
	for (int i = 0; i < 5; i++) {
		items[i].id = items[i].v = i + 1;
		assert_int_equal(group_submit(g, item_fn, item_done, &items[i]), i < 4 ? 0 : GH_EBUSY);
	}
	struct group_stats st;
	group_stats_get(g, &st);
	assert_int_equal(st.queued, 4);
	assert_int_equal(st.rejected, 1);
	release_writer();
	group_free(g);
	assert_int_equal(atomic_load(&done_total), 5); /* the gate and four items; not the refused one */
	assert_int_equal(atomic_load(&items[4].done), 0);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt"), 4);
}

/* Six items in one batch, item `at` with fail = kind; every item must complete once with 0.
 * Returns how many times item `at` ran. */
static int batch_of_six(struct fx *f, int at, int kind)
{
	struct group *g = new_group(f, 64, 64);
	hold_writer(g);
	struct item items[6] = { 0 };
	for (int i = 0; i < 6; i++) {
		items[i].id = items[i].v = i + 1;
		items[i].fail = i == at ? kind : 0;
		assert_int_equal(group_submit(g, item_fn, item_done, &items[i]), 0);
	}
	release_writer();
	group_free(g);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(atomic_load(&items[i].rc), 0);
		assert_int_equal(atomic_load(&items[i].done), 1);
	}
	return atomic_load(&items[at].runs);
}

/* A batch whose transaction breaks is rolled back and each item re-run alone: every row
 * lands exactly once. */
static void test_broken_batch_reruns(void **state)
{
	FX();
	atomic_store(&done_total, 0);
	assert_true(batch_of_six(f, 2, 3) >= 2);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt"), 6);
}

/* PostgreSQL: the writer's session is lost in the middle of a batch. Nothing of the batch
 * committed, so every item runs again alone on a new session (its statements prepared again)
 * and each row is written exactly once; nothing written after the loss survives. */
static void test_lost_mid_batch_reruns(void **state)
{
	FX();
	if (f->kind != DB_POSTGRES)
		skip(); /* SQLite has no connection to lose */
	assert_int_equal(batch_of_six(f, 3, 4), 2);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt"), 6);
}

/* PostgreSQL: the session is lost during the batch's COMMIT (a deferred trigger ends it, once).
 * The outcome is unknown to the writer, so no item may run again (it could be written twice):
 * each completes once with GH_EUNAVAILABLE, and here, where the COMMIT did not happen, nothing
 * is written. The writer's next batch runs on a new session. */
static void test_commit_in_doubt(void **state)
{
	FX();
	if (f->kind != DB_POSTGRES)
		skip();
	assert_int_equal(db_exec_script(f->t.db,
		"CREATE SEQUENCE gt_kill;"
		"CREATE FUNCTION gt_kill_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
		"IF nextval('gt_kill') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
		"RETURN NULL; END $$;"
		"CREATE CONSTRAINT TRIGGER gt_kill_at_commit AFTER INSERT ON gt DEFERRABLE INITIALLY DEFERRED "
		"FOR EACH ROW EXECUTE FUNCTION gt_kill_once()"), 0);
	struct group *g = new_group(f, 64, 64);
	hold_writer(g);
	struct item items[5] = { 0 };
	for (int i = 0; i < 5; i++) {
		items[i].id = items[i].v = i + 1;
		assert_int_equal(group_submit(g, item_fn, item_done, &items[i]), 0);
	}
	release_writer();
	group_drain(g);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(atomic_load(&items[i].rc), GH_EUNAVAILABLE);
		assert_int_equal(atomic_load(&items[i].done), 1);
		assert_int_equal(atomic_load(&items[i].runs), 1);
	}
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt"), 0);
	struct item again = { .id = 10, .v = 10 };
	assert_int_equal(group_submit(g, item_fn, item_done, &again), 0);
	group_free(g);
	assert_int_equal(atomic_load(&again.rc), 0);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt"), 1);
}

/* ---- done on the submitter's loop ---- */

struct loop_item {
	struct item it;
	pthread_t loop_thread;
	pthread_t ran_on;
	struct event_base *base;
	int *left;
};

static void loop_done(void *p, int rc)
{
	struct loop_item *li = p;
	li->ran_on = pthread_self();
	item_done(&li->it, rc);
	if (--*li->left == 0)
		event_base_loopbreak(li->base);
}

static void nothing(evutil_socket_t fd, short what, void *p)
{
	(void)fd, (void)what, (void)p;
}

static void test_done_on_loop(void **state)
{
	FX();
	atomic_store(&done_total, 0);
	struct event_base *base = event_base_new();
	assert_non_null(base);
	struct group *g = new_group(f, 64, 8);
	enum { N = 40 };
	struct loop_item items[N];
	memset(items, 0, sizeof(items));
	int left = N;
	for (int i = 0; i < N; i++) {
		items[i].it.id = items[i].it.v = i + 1;
		items[i].base = base;
		items[i].left = &left;
		assert_int_equal(write_submit(g, base, item_fn, loop_done, &items[i]), 0);
	}
	/* Keeps the loop alive until every done has run (activated events from the writer). */
	struct event *keep = event_new(base, -1, EV_PERSIST, nothing, NULL);
	struct timeval tv = { 30, 0 };
	event_add(keep, &tv);
	event_base_dispatch(base);
	event_free(keep);
	assert_int_equal(left, 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&items[i].it.rc), 0);
		assert_true(pthread_equal(items[i].ran_on, pthread_self()));
	}
	struct group_stats st;
	group_stats_get(g, &st);
	assert_int_equal(st.completed, N);
	assert_true(st.largest_batch <= 8);
	group_free(g);
	event_base_free(base);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt"), N);
}

/* Shutdown: with the loop not running, group_drain waits until every item is written and its
 * completion handed over; one non-blocking turn of the loop then runs every done. */
static void test_drain_then_turn(void **state)
{
	FX();
	atomic_store(&done_total, 0);
	struct event_base *base = event_base_new();
	assert_non_null(base);
	struct group *g = new_group(f, 64, 4);
	enum { N = 20 };
	struct loop_item items[N];
	memset(items, 0, sizeof(items));
	int left = N;
	for (int i = 0; i < N; i++) {
		items[i].it.id = items[i].it.v = i + 1;
		items[i].base = base;
		items[i].left = &left;
		assert_int_equal(write_submit(g, base, item_fn, loop_done, &items[i]), 0);
	}
	group_drain(g);
	assert_int_equal(count_where(f, "SELECT COUNT(*) FROM gt"), N);
	assert_int_equal(left, N); /* nothing ran on the loop yet */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(left, 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(atomic_load(&items[i].it.rc), 0);
	group_drain(g); /* nothing left: returns at once */
	group_free(g);
	event_base_free(base);
}

/* ---- work held until the COMMIT (db_tx_defer) ---- */

/* A total kept in memory for the transaction (db_tx_memory) and written once before its
 * COMMIT, as the log keeps its head: each item adds its v; fail 1 fails after adding, fail 2
 * adds in a nested transaction it rolls back (only that part goes), fail 0 adds. Whatever the
 * batches and their replays, the stored total is the sum of what was not undone. */
struct held {
	uint64_t epoch;
	int64_t total;
	bool dirty;
};

DB_SQL(q_held_get, "SELECT total FROM held WHERE id = 1");
DB_SQL(q_held_set, "UPDATE held SET total = ? WHERE id = 1");
static atomic_int held_writes;

static int held_flush(struct db *db)
{
	struct held *h = db_tx_memory(db, sizeof(*h));
	bool write = h->dirty && h->epoch == db_tx_epoch(db);
	h->dirty = false;
	if (!write)
		return 0;
	atomic_fetch_add(&held_writes, 1);
	return db_exec(db, &q_held_set, DB_ARGS(DB_INT(h->total)), NULL);
}

static int held_add(struct db *db, int64_t v)
{
	struct held *h = db_tx_memory(db, sizeof(*h));
	uint64_t epoch = db_tx_epoch(db);
	if (!epoch)
		return GH_EINTERNAL; /* always inside the batch's transaction here */
	if (h->epoch != epoch) {
		struct arena *a = arena_new(1024);
		struct db_rows rows;
		int rc = db_query(db, a, &q_held_get, DB_NOARGS, &rows);
		h->total = rc ? 0 : db_cell_int(&rows, 0, 0);
		arena_free(a);
		if (rc)
			return rc;
		h->epoch = epoch;
	}
	h->total += v;
	h->dirty = true;
	return db_tx_defer(db, held_flush);
}

static int held_fn(struct db *db, void *p)
{
	struct item *it = p;
	atomic_fetch_add(&it->runs, 1);
	int rc;
	uint64_t epoch = db_tx_epoch(db);
	if (it->fail == 2) {
		if ((rc = db_begin(db)) || (rc = held_add(db, 1000000)))
			return rc;
		/* a nested transaction neither starts nor ends the batch's */
		if (db_tx_epoch(db) != epoch)
			return GH_EINTERNAL;
		db_rollback(db);
		/* its rollback undid writes: a new epoch */
		if (db_tx_epoch(db) == epoch || !db_tx_epoch(db))
			return GH_EINTERNAL;
	}
	if ((rc = held_add(db, it->v)))
		return rc;
	return it->fail == 1 ? GH_EINVAL : 0;
}

static void test_held_until_commit(void **state)
{
	FX();
	assert_int_equal(db_exec_script(f->t.db, "CREATE TABLE held (id INTEGER PRIMARY KEY, total BIGINT NOT NULL); "
						 "INSERT INTO held VALUES (1, 0)"),
			 0);
	/* outside the writer: 0 outside a transaction, one value while it runs */
	assert_int_equal(db_tx_epoch(f->t.db), 0);
	assert_int_equal(db_begin(f->t.db), 0);
	uint64_t e = db_tx_epoch(f->t.db);
	assert_true(e != 0);
	assert_int_equal(held_add(f->t.db, 5), 0);
	assert_int_equal(db_tx_epoch(f->t.db), e);
	assert_int_equal(db_rollback(f->t.db), 0);
	assert_int_equal(db_tx_epoch(f->t.db), 0);
	assert_int_equal(count_where(f, "SELECT total FROM held"), 0);
	assert_int_equal(db_tx_defer(f->t.db, held_flush), GH_EINTERNAL); /* no transaction */

	/* a clean batch writes the total once */
	atomic_store(&done_total, 0);
	atomic_store(&held_writes, 0);
	struct group *g = new_group(f, 256, 64);
	struct item clean[10] = { 0 };
	hold_writer(g);
	for (int i = 0; i < 10; i++) {
		clean[i].v = i + 1;
		assert_int_equal(group_submit(g, held_fn, item_done, &clean[i]), 0);
	}
	release_writer();
	group_drain(g);
	assert_int_equal(atomic_load(&held_writes), 1);
	assert_int_equal(count_where(f, "SELECT total FROM held"), 55);

	/* batches with failed items and rolled back nested parts, replayed with savepoints */
	enum { N = 120 };
	struct item items[N];
	memset(items, 0, sizeof(items));
	long want = 55;
	for (int round = 0; round < 3; round++) {
		hold_writer(g);
		for (int i = round * 40; i < (round + 1) * 40; i++) {
			items[i].v = 100 + i;
			items[i].fail = i % 7 == 3 ? 1 : i % 5 == 1 ? 2 : 0;
			want += items[i].fail == 1 ? 0 : items[i].v;
			assert_int_equal(group_submit(g, held_fn, item_done, &items[i]), 0);
		}
		release_writer();
		group_drain(g);
	}
	struct group_stats st;
	group_stats_get(g, &st);
	group_free(g);
	assert_true(st.replays >= 1);
	for (int i = 0; i < N; i++)
		assert_int_equal(atomic_load(&items[i].rc), items[i].fail == 1 ? GH_EINVAL : 0);
	assert_int_equal(count_where(f, "SELECT total FROM held"), want);
}

#define BOTH(fn)                                                      \
	{ #fn " [sqlite]", fn, setup, teardown, &kind_sqlite },       \
	{                                                             \
		#fn " [postgres]", fn, setup, teardown, &kind_pg      \
	}

int main(void)
{
	evthread_use_pthreads();
	if (!getenv("GOVHALL_TEST_PG"))
		fprintf(stderr, "test_group: GOVHALL_TEST_PG not set; PostgreSQL tests are skipped\n");
	const struct CMUnitTest tests[] = {
		BOTH(test_many_threads),
		BOTH(test_savepoint_isolates),
		BOTH(test_clean_batch_runs_once),
		BOTH(test_queue_bound),
		BOTH(test_broken_batch_reruns),
		BOTH(test_lost_mid_batch_reruns),
		BOTH(test_commit_in_doubt),
		BOTH(test_done_on_loop),
		BOTH(test_drain_then_turn),
		BOTH(test_held_until_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
