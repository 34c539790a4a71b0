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
#include "base/log.h"
#include "base/util.h"
#include "http/metrics.h"
#include "http/router.h"
#include "search/search_impl.h"
#include "store/db.h"

/* Writers first: a rebuild must not wait behind a steady stream of searches. */
struct search_state search_state = { .lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP, .build_mu = PTHREAD_MUTEX_INITIALIZER };

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
	if (S->cur && sindex_generation(S->cur) == gen && S->built_once)
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
	pthread_rwlock_wrlock(&S->lock);
	struct sindex *old = S->cur;
	S->cur = ix;
	S->built_once = true;
	pthread_rwlock_unlock(&S->lock);
	sindex_free(old);
	S->builds++;
	S->last_build_ms = now_ms() - t0;
	log_info("search: index of %zu documents built in %.1f ms (generation %llu)", sindex_ndocs(ix),
		 S->last_build_ms, (unsigned long long)gen);
out:
	pthread_mutex_unlock(&S->build_mu);
	return rc;
}

const struct sindex *search_acquire(struct db *db, struct arena *a)
{
	struct search_state *S = &search_state;
	uint64_t gen;
	if (db && search_db_generation(db, a, &gen) == 0) {
		pthread_rwlock_rdlock(&S->lock);
		bool stale = !S->cur || sindex_generation(S->cur) != gen;
		pthread_rwlock_unlock(&S->lock);
		if (stale)
			search_rebuild(db, gen, false);
	}
	pthread_rwlock_rdlock(&S->lock);
	return S->cur;
}

void search_unlock(void)
{
	pthread_rwlock_unlock(&search_state.lock);
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
	sindex_free(S->cur);
	S->cur = NULL;
	S->built_once = false;
	lex_free(S->lx);
	S->lx = NULL;
	search_labels_release(&S->labels);
}

void search_metrics(struct sb *out)
{
	struct search_state *S = &search_state;
	pthread_rwlock_rdlock(&S->lock);
	size_t bytes = sindex_bytes(S->cur), docs = sindex_ndocs(S->cur);
	pthread_rwlock_unlock(&S->lock);
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

int search_add_routes(struct router *rt)
{
	if (router_add(rt, search_routes, search_routes_n) || router_add(rt, guide_routes, guide_routes_n) ||
	    router_add(rt, search_admin_routes, search_admin_routes_n))
		return GH_EINVAL;
	return 0;
}
