/* group.c: group commit (see group.h). One writer thread takes everything queued (up to
 * max_batch items), runs it in one transaction (with a savepoint around each item when one
 * has failed lately), commits once and hands every item's outcome to its complete callback.
 *
 * Nesting: while an item's fn runs, the writer's connection has its backend table swapped
 * for a copy whose begin/commit/rollback are savepoint operations (the backend's own
 * statements, queries and errors are untouched). The connection belongs to the writer
 * thread alone, so the swap is invisible to every other connection. */
#include "store/group.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "store/cover.h"
#include "store/db_impl.h"

struct gitem {
	int (*fn)(struct db *, void *);
	void (*complete)(void *, int);
	void *arg;
	int rc;
};

struct group {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t idle;             /* signalled after each batch's completions (group_drain) */
	struct gitem **ring;
	size_t cap, head, count, max_batch;
	bool stopping;
	pthread_t thread;
	struct db *db;                   /* the writer's connection */
	const struct db_backend *real;   /* its backend */
	struct db_backend nested;        /* the same with savepoint begin/commit/rollback */
	int depth;                       /* savepoints the running fn opened (writer thread only) */
	bool optimistic;                 /* the batch runs without savepoints: so do its items' */
	bool spoiled;                    /* ... and one of them rolled a nested part back */
	unsigned careful;                /* batches still to run with savepoints (writer thread) */
	uint64_t replays;                /* batches run again with savepoints (writer thread) */
	bool direct;                     /* group_new_direct: no thread; group_run writes */
	struct group_stats st;           /* under mu */
	uint64_t handed;                 /* items whose complete has run (under mu) */
};

/* The group whose writer is the calling thread (for the nested backend functions). */
static _Thread_local struct group *writer_of;

/* ---- savepoints ---- */

/* Prepared once per connection like any statement (both backends accept these through their
 * prepared-statement path), so a savepoint costs no parsing. */
DB_SQL(q_item, "SAVEPOINT gh_item");
DB_SQL(q_item_release, "RELEASE gh_item");
DB_SQL(q_item_undo, "ROLLBACK TO gh_item");
DB_SQL(q_nested, "SAVEPOINT gh_nested");
DB_SQL(q_nested_release, "RELEASE gh_nested");
DB_SQL(q_nested_undo, "ROLLBACK TO gh_nested");

/* Runs q on the writer's connection with its real backend. */
static int sp(struct group *g, struct db_sql *q)
{
	return g->real->run(g->db, q, NULL, 0, NULL, NULL, NULL);
}

/* Takes savepoint q, after the work the connection holds until the COMMIT is written
 * (db_tx_defer): a rollback to the savepoint then finds the database as that work knew it. */
static int sp_open(struct group *g, struct db_sql *q)
{
	int rc = db_tx_flush(g->db);
	return rc ? rc : sp(g, q);
}

/* ROLLBACK TO keeps the savepoint open: release it too. */
static int sp_undo(struct group *g, struct db_sql *undo, struct db_sql *release)
{
	int rc = sp(g, undo);
	db_tx_undone(g->db);
	return rc ? rc : sp(g, release);
}

/* ---- nested transactions inside an item ---- */

/* In an optimistic batch (run_optimistic) a nested transaction is only counted: no SAVEPOINT
 * and no RELEASE, two statements fewer for every store function that opens one (a submission's
 * case_transition). Its rollback cannot undo just its part, so it spoils the batch instead: the
 * batch is rolled back as a whole and run again with real savepoints (each fn may run more
 * than once: group.h), exactly as when an item fails. */
static int nested_begin(struct db *db)
{
	(void)db;
	int rc = writer_of->optimistic ? 0 : sp_open(writer_of, &q_nested);
	if (!rc)
		writer_of->depth++;
	return rc;
}

static int nested_commit(struct db *db)
{
	if (writer_of->depth == 0)
		return db_fail(db, GH_EDB, "commit", NULL, "commit without a transaction inside a group item");
	writer_of->depth--;
	return writer_of->optimistic ? 0 : sp(writer_of, &q_nested_release);
}

static int nested_rollback(struct db *db)
{
	(void)db;
	if (writer_of->depth == 0)
		return 0; /* as db_rollback outside a transaction */
	writer_of->depth--;
	if (writer_of->optimistic) {
		writer_of->spoiled = true;
		return 0;
	}
	return sp_undo(writer_of, &q_nested_undo, &q_nested_release);
}

/* Inside an item the batch's transaction is the writer's business: fn sees the connection
 * as a store function sees its own, in a transaction only when it opened one. So a store
 * function that opens a transaction when none is open (cover_tx_begin) opens a savepoint of
 * its own, and a failure there (a duplicate key) undoes that part alone, as it would on a
 * connection of its own. */
static bool nested_in_tx(struct db *db)
{
	(void)db;
	return writer_of->depth > 0;
}

/* Runs one item's fn with nesting on. A fn that returns with a nested transaction still open
 * is a bug: it fails (the caller rolls the item back). Rows the item touched for the log
 * outside a transaction of its own are committed to the log with the item, not with its
 * batch mates. */
static int call_fn(struct group *g, struct gitem *it)
{
	g->depth = 0;
	g->db->_be = &g->nested;
	int rc = it->fn(g->db, it->arg);
	g->db->_be = g->real;
	if (!rc && cover_pending(g->db))
		rc = cover_before_commit(g->db);
	if (rc)
		cover_discard(g->db); /* the item is undone: so are the rows it touched for the log */
	if (g->depth) {
		log_error("group: an item returned with %d transaction(s) open", g->depth);
		g->depth = 0;
		if (!rc)
			rc = GH_EINTERNAL;
	}
	return rc;
}

/* ---- the writer ---- */

/* After a batch with a failed item, this many batches run with a savepoint per item at once. */
#define CAREFUL_BATCHES 64

/* One item in a transaction of its own. */
static void run_alone(struct group *g, struct gitem *it)
{
	int rc = db_begin(g->db);
	if (rc) {
		it->rc = rc;
		return;
	}
	it->rc = call_fn(g, it);
	if (it->rc) {
		db_rollback(g->db);
		return;
	}
	if ((rc = db_commit(g->db))) {
		db_rollback(g->db);
		it->rc = rc;
	}
}

enum batch_end { BATCH_COMMITTED, BATCH_RERUN, BATCH_IN_DOUBT };

/* Runs a batch in one transaction; when that fails before its COMMIT, rolls it back and runs
 * every item again alone. A COMMIT whose connection was lost while it ran (GH_EUNAVAILABLE)
 * may have committed, so then nothing is run again: every item fails with GH_EUNAVAILABLE
 * (a 503 with Retry-After; a client retrying with its idempotency key gets the application
 * the batch made, or a new one if it made none). */
/* The batch without a savepoint per item: two statements fewer per item. Returns 0 when every
 * item succeeded with the batch's transaction still open (ready for its COMMIT); otherwise
 * the transaction is rolled back and 1 returned: the batch is run again with savepoints (each
 * fn may run more than once: group.h). */
static int run_optimistic(struct group *g, struct gitem **items, size_t n)
{
	if (db_begin(g->db))
		return 1;
	g->optimistic = true;
	g->spoiled = false;
	for (size_t i = 0; i < n; i++) {
		items[i]->rc = call_fn(g, items[i]);
		/* an item failed, rolled a nested part back (which only savepoints can undo alone),
		 * or ended the transaction behind the writer's back (its next statements would
		 * commit on their own) */
		if (items[i]->rc || g->spoiled || !g->real->in_tx(g->db)) {
			g->optimistic = false;
			db_rollback(g->db);
			return 1;
		}
	}
	g->optimistic = false;
	return 0;
}

static enum batch_end run_batch(struct group *g, struct gitem **items, size_t n)
{
	if (n == 1) {
		run_alone(g, items[0]);
		return BATCH_COMMITTED;
	}
	int rc;
	/* Items rarely fail: without savepoints first, unless one failed lately (a rush on a full
	 * booking slot fails many: then every batch would run twice). */
	if (g->careful == 0) {
		if (run_optimistic(g, items, n) == 0)
			goto commit;
		g->replays++;
		g->careful = CAREFUL_BATCHES;
	} else {
		g->careful--;
	}
	rc = db_begin(g->db);
	if (rc)
		goto fallback;
	for (size_t i = 0; i < n; i++) {
		if ((rc = sp_open(g, &q_item)))
			goto abort;
		items[i]->rc = call_fn(g, items[i]);
		/* A failed item: undo just its writes. If that is impossible (SQLite rolls back the
		 * whole transaction on some errors; a PostgreSQL connection may be gone), the batch
		 * is lost and every item is re-run alone. */
		rc = items[i]->rc ? sp_undo(g, &q_item_undo, &q_item_release) : sp(g, &q_item_release);
		if (rc)
			goto abort;
	}
commit:
	if ((rc = db_commit(g->db)) == GH_EUNAVAILABLE) {
		db_rollback(g->db);
		log_warn("group: the connection was lost during the COMMIT of a batch of %zu; its "
			 "outcome is unknown, so its items are answered as unavailable", n);
		for (size_t i = 0; i < n; i++)
			items[i]->rc = GH_EUNAVAILABLE;
		return BATCH_IN_DOUBT;
	}
	if (rc)
		goto abort;
	return BATCH_COMMITTED;
abort:
	db_rollback(g->db);
fallback:
	log_warn("group: a batch of %zu failed (%s); running its items one by one", n, err_name(rc));
	for (size_t i = 0; i < n; i++)
		run_alone(g, items[i]);
	return BATCH_RERUN;
}

static void *writer_main(void *p)
{
	struct group *g = p;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_setname_np(pthread_self(), "gh-writer");
	writer_of = g;
	struct gitem **batch = xcalloc(g->max_batch, sizeof(*batch));
	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (g->count == 0 && !g->stopping)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->count == 0) {
			pthread_mutex_unlock(&g->mu);
			break;
		}
		/* Everything that queued up while the last batch was committing goes in this one:
		 * the batch grows with the load, and a lone request waits for no one. */
		size_t n = g->count < g->max_batch ? g->count : g->max_batch;
		for (size_t i = 0; i < n; i++)
			batch[i] = g->ring[(g->head + i) % g->cap];
		g->head = (g->head + n) % g->cap;
		g->count -= n;
		pthread_mutex_unlock(&g->mu);

		enum batch_end end = run_batch(g, batch, n);

		size_t failed = 0;
		for (size_t i = 0; i < n; i++)
			failed += batch[i]->rc != 0;
		pthread_mutex_lock(&g->mu);
		g->st.batches++;
		g->st.commits += end == BATCH_COMMITTED ? 1 : end == BATCH_RERUN ? n : 0;
		g->st.fallbacks += end == BATCH_RERUN;
		g->st.replays = g->replays;
		g->st.completed += n;
		g->st.failed += failed;
		if (n > g->st.largest_batch)
			g->st.largest_batch = n;
		pthread_mutex_unlock(&g->mu);
		for (size_t i = 0; i < n; i++) {
			struct gitem *it = batch[i];
			if (it->complete)
				it->complete(it->arg, it->rc);
			free(it);
		}
		pthread_mutex_lock(&g->mu);
		g->handed += n;
		pthread_cond_broadcast(&g->idle);
		pthread_mutex_unlock(&g->mu);
	}
	free(batch);
	return NULL;
}

static struct group *group_new_as(const char *url, bool direct, char *err, size_t errlen);

struct group *group_new(const char *url, size_t queue_cap, size_t max_batch, char *err, size_t errlen)
{
	struct group *g = group_new_as(url, false, err, errlen);
	if (g) {
		g->cap = queue_cap ? queue_cap : 1;
		g->max_batch = max_batch ? max_batch : 1;
		g->ring = xcalloc(g->cap, sizeof(*g->ring));
		if (pthread_create(&g->thread, NULL, writer_main, g))
			die("group: cannot start the writer thread");
	}
	return g;
}

static struct group *group_new_as(const char *url, bool direct, char *err, size_t errlen)
{
	struct db *db;
	if (db_open_named(url, "govhall writer", &db, err, errlen))
		return NULL;
	/* SQLite keeps a savepoint's undo pages in a sub-journal that spills to a temporary file
	 * past 64 KiB: a batch of a few hundred items always spills, and the writer would spend
	 * a third of its time writing that file. In memory it is bounded by max_batch items. */
	if (db_kind(db) == DB_SQLITE && db_exec_script(db, "PRAGMA temp_store = MEMORY")) {
		snprintf(err, errlen, "group: cannot set up the writer's connection: %s", db_last_error(db));
		db_close(db);
		return NULL;
	}
	struct group *g = xcalloc(1, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	pthread_cond_init(&g->idle, NULL);
	g->direct = direct;
	g->db = db;
	g->real = db->_be;
	g->nested = *db->_be;
	g->nested.begin = nested_begin;
	g->nested.commit = nested_commit;
	g->nested.rollback = nested_rollback;
	g->nested.in_tx = nested_in_tx;
	g->nested.nested = true;
	return g;
}

struct group *group_new_direct(const char *url, bool lazy, char *err, size_t errlen)
{
	struct group *g = group_new_as(url, true, err, errlen);
	if (g && lazy &&
	    db_exec_script(g->db, db_kind(g->db) == DB_SQLITE ? "PRAGMA synchronous = OFF" : "SET synchronous_commit = off")) {
		snprintf(err, errlen, "group: cannot set up the connection: %s", db_last_error(g->db));
		group_free(g);
		return NULL;
	}
	return g;
}

bool group_is_direct(const struct group *g)
{
	return g && g->direct;
}

int group_run(struct group *g, int (*fn)(struct db *db, void *arg), void *arg)
{
	if (!g->direct)
		die("group: group_run on a group with a writer thread");
	struct gitem it = { .fn = fn, .arg = arg };
	writer_of = g;
	run_alone(g, &it);
	writer_of = NULL;
	pthread_mutex_lock(&g->mu);
	g->st.submitted++;
	g->st.completed++;
	g->st.commits += it.rc == 0;
	g->st.failed += it.rc != 0;
	g->handed++;
	pthread_mutex_unlock(&g->mu);
	return it.rc;
}

void group_free(struct group *g)
{
	if (!g)
		return;
	if (!g->direct) {
		pthread_mutex_lock(&g->mu);
		g->stopping = true;
		pthread_cond_signal(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->thread, NULL);
	}
	db_close(g->db);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	pthread_cond_destroy(&g->idle);
	free(g->ring);
	free(g);
}

void group_drain(struct group *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	while (g->handed < g->st.submitted)
		pthread_cond_wait(&g->idle, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

int group_submit(struct group *g, int (*fn)(struct db *, void *), void (*complete)(void *, int), void *arg)
{
	struct gitem *it = xcalloc(1, sizeof(*it));
	it->fn = fn;
	it->complete = complete;
	it->arg = arg;
	pthread_mutex_lock(&g->mu);
	if (g->count == g->cap || g->stopping) {
		g->st.rejected++;
		pthread_mutex_unlock(&g->mu);
		free(it);
		return GH_EBUSY;
	}
	g->ring[(g->head + g->count) % g->cap] = it;
	g->count++;
	g->st.submitted++;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return 0;
}

void group_stats_get(struct group *g, struct group_stats *out)
{
	pthread_mutex_lock(&g->mu);
	*out = g->st;
	out->queued = g->count;
	out->capacity = g->cap;
	out->max_batch = g->max_batch;
	pthread_mutex_unlock(&g->mu);
}
