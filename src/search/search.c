/* search.c: the module's state: dictionaries loaded at start, the current index and its
 * refresh, the gauges for /metrics, the routes. */
#include "search/search.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "app.h"
#include "base/err.h"
#include "base/jobs.h"
#include "base/log.h"
#include "base/util.h"
#include "http/metrics.h"
#include "http/router.h"
#include "search/search_impl.h"
#include "store/db.h"

struct search_state search_state = { .mu = PTHREAD_MUTEX_INITIALIZER, .build_mu = PTHREAD_MUTEX_INITIALIZER };

/* The index a request holds, from search_acquire to search_unlock (one at a time per thread:
 * a request acquires, reads and releases before it acquires again). */
static __thread struct sindex_ref *held;

/* Drops one reference; the last one frees the index (a replaced index lives on until the
 * last request reading it is done). */
static void ref_put(struct sindex_ref *r)
{
	if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
		sindex_free(r->ix);
		free(r);
	}
}

void search_swap(struct sindex *ix)
{
	struct search_state *S = &search_state;
	struct sindex_ref *r = NULL;
	if (ix) {
		r = xcalloc(1, sizeof(*r));
		r->ix = ix;
		atomic_init(&r->refs, 1); /* the state's own reference */
	}
	pthread_mutex_lock(&S->mu);
	struct sindex_ref *old = S->cur;
	S->cur = r;
	S->built_once = true;
	pthread_mutex_unlock(&S->mu);
	ref_put(old);
}

uint64_t search_current_generation(void)
{
	struct search_state *S = &search_state;
	pthread_mutex_lock(&S->mu);
	uint64_t g = S->cur ? sindex_generation(S->cur->ix) : 0;
	bool none = !S->cur;
	pthread_mutex_unlock(&S->mu);
	return none ? UINT64_MAX : g;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int search_labels_load(const char *data_dir, struct search_labels *lb)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/catalog/themes.json", data_dir);
	lb->themes = json_load_file(path, 0, NULL);
	snprintf(path, sizeof(path), "%s/catalog/ecert_types.json", data_dir);
	lb->ecerts = json_load_file(path, 0, NULL);
	return lb->themes && lb->ecerts ? 0 : GH_EIO;
}

void search_labels_release(struct search_labels *lb)
{
	json_decref(lb->themes);
	json_decref(lb->ecerts);
	lb->themes = lb->ecerts = NULL;
}

DB_SQL(q_generation, "SELECT key, value FROM catalog_meta WHERE key IN ('catalog_generation', 'search_generation')");

int search_db_generation(struct db *db, struct arena *a, uint64_t *gen)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_generation, DB_NOARGS, &rows);
	if (rc)
		return rc;
	uint64_t g = 0;
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *v = db_cell(&rows, i, 1);
		/* Both counters only grow: their sum changes whenever either does. */
		g += v ? strtoull(v, NULL, 10) : 0;
	}
	*gen = g;
	return 0;
}

int search_rebuild(struct db *db, uint64_t gen, bool wait)
{
	struct search_state *S = &search_state;
	if (!wait) {
		if (pthread_mutex_trylock(&S->build_mu))
			return 0; /* another thread is building: keep using the current index */
	} else {
		pthread_mutex_lock(&S->build_mu);
	}
	int rc = 0;
	if (S->built_once && search_current_generation() == gen)
		goto out;
	double t0 = now_ms();
	struct arena *a = arena_new(4096);
	struct lex *rules = NULL;
	rc = search_rules_load(db, a, S->lx, &rules);
	arena_free(a);
	struct sindex *ix = NULL;
	if (!rc)
		rc = search_docs_build(db, S->lx, rules, &S->labels, gen, NULL, NULL, &ix);
	else
		lex_free(rules);
	if (rc) {
		log_warn("search: the index could not be rebuilt (%s); the previous one stays", err_name(rc));
		goto out;
	}
	search_swap(ix);
	S->builds++;
	S->last_build_ms = now_ms() - t0;
	log_info("search: index of %zu documents built in %.1f ms (generation %llu)", sindex_ndocs(ix),
		 S->last_build_ms, (unsigned long long)gen);
out:
	pthread_mutex_unlock(&S->build_mu);
	return rc;
}

/* The rebuild job: on a pool thread, with its own connection. */
static void rebuild_work(void *arg)
{
	struct search_state *S = &search_state;
	(void)arg;
	char err[256];
	struct db *db = NULL;
	if (db_open(S->db_url, &db, err, sizeof(err))) {
		log_warn("search: no connection for rebuilding the index (%s); the previous one stays", err);
	} else {
		struct arena *a = arena_new(4096);
		uint64_t gen;
		if (search_db_generation(db, a, &gen) == 0)
			search_rebuild(db, gen, true);
		arena_free(a);
		db_close(db);
	}
	atomic_store(&S->rebuild_pending, false);
}

static void rebuild_done(void *arg)
{
	(void)arg;
}

const struct sindex *search_acquire(struct db *db, struct arena *a)
{
	struct search_state *S = &search_state;
	uint64_t gen;
	if (db && search_db_generation(db, a, &gen) == 0 && search_current_generation() != gen) {
		/* Stale: the job pool builds the next index while this request, and every other
		 * until the swap, reads the current one. Without a pool (commands, tests) or a
		 * first index, the build happens here. */
		bool idle = false;
		if (S->jobs && S->cur && atomic_compare_exchange_strong(&S->rebuild_pending, &idle, true)) {
			if (jobs_submit(S->jobs, NULL, rebuild_work, rebuild_done, NULL))
				atomic_store(&S->rebuild_pending, false); /* queue full: the next request asks again */
		} else if (!S->jobs || !S->cur) {
			search_rebuild(db, gen, false);
		}
	}
	pthread_mutex_lock(&S->mu);
	struct sindex_ref *r = S->cur;
	if (r)
		atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&S->mu);
	held = r;
	return r ? r->ix : NULL;
}

void search_unlock(void)
{
	struct sindex_ref *r = held;
	held = NULL;
	ref_put(r);
}

int search_init(struct app *app, char *err, size_t errlen)
{
	struct search_state *S = &search_state;
	int rc = lex_load(app->cfg.data_dir, NULL, &S->lx, err, errlen);
	if (rc)
		return rc;
	if (search_labels_load(app->cfg.data_dir, &S->labels)) {
		snprintf(err, errlen, "cannot read %s/catalog/themes.json and ecert_types.json", app->cfg.data_dir);
		return GH_EIO;
	}
	struct db *db;
	snprintf(S->db_url, sizeof(S->db_url), "%s", app->cfg.db);
	if ((rc = db_open(app->cfg.db, &db, err, errlen)))
		return rc;
	struct arena *a = arena_new(4096);
	uint64_t gen = 0;
	rc = search_db_generation(db, a, &gen);
	if (!rc)
		rc = search_rebuild(db, gen, true);
	arena_free(a);
	db_close(db);
	if (rc)
		snprintf(err, errlen, "the search index could not be built (%s)", err_name(rc));
	else
		metrics_add_source(search_metrics);
	return rc;
}

void search_release(struct app *app)
{
	(void)app;
	struct search_state *S = &search_state;
	ref_put(S->cur);
	S->cur = NULL;
	S->jobs = NULL;
	S->built_once = false;
	lex_free(S->lx);
	S->lx = NULL;
	search_labels_release(&S->labels);
}

void search_metrics(struct sb *out)
{
	const struct sindex *ix = search_acquire(NULL, NULL);
	size_t bytes = sindex_bytes(ix), docs = sindex_ndocs(ix);
	search_unlock();
	struct search_state *S = &search_state;
	sb_addf(out,
		"# HELP govhall_search_index_bytes Memory held by the search index of this node.\n"
		"# TYPE govhall_search_index_bytes gauge\ngovhall_search_index_bytes %zu\n"
		"# HELP govhall_search_dictionary_bytes Memory held by the search dictionaries (segmentation, pinyin, synonyms).\n"
		"# TYPE govhall_search_dictionary_bytes gauge\ngovhall_search_dictionary_bytes %zu\n"
		"# HELP govhall_search_documents Documents in the search index.\n"
		"# TYPE govhall_search_documents gauge\ngovhall_search_documents %zu\n"
		"# HELP govhall_search_builds_total Search index builds since start.\n"
		"# TYPE govhall_search_builds_total counter\ngovhall_search_builds_total %llu\n"
		"# HELP govhall_search_last_build_seconds Duration of the last index build.\n"
		"# TYPE govhall_search_last_build_seconds gauge\ngovhall_search_last_build_seconds %.4f\n",
		bytes, S->lx ? lex_bytes(S->lx) : 0, docs, (unsigned long long)S->builds, S->last_build_ms / 1e3);
}

void search_start(struct app *app)
{
	search_state.jobs = app->jobs;
}

int search_add_routes(struct router *rt)
{
	if (router_add(rt, search_routes, search_routes_n) || router_add(rt, guide_routes, guide_routes_n) ||
	    router_add(rt, search_admin_routes, search_admin_routes_n))
		return GH_EINVAL;
	return 0;
}
