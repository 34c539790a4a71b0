/* cached.c: the current version of service items, with their form and material lists already
 * parsed and their department's names, kept per worker thread (req_worker_local) so that
 * filing an application costs no catalog query and no JSON parsing of definitions (nor of the
 * item's decision rules).
 *
 * Invariants: an entry is a copy of the database row of the catalog generation it was read
 * under; when catalog_generation() moves on (an import, on any node; re-checked at most every
 * cache-recheck ms), the whole cache is dropped. Entries live in the cache's own arena and are
 * handed out read-only to the worker's requests, which must not keep them past the request
 * (nor hand them to other threads). At most CACHE_MAX items; past that the cache starts over.
 * Nothing is dropped while the request that last looked something up is still asking (it may
 * hold entries): a change seen then is acted on at the next request. */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "catalog/catalog_impl.h"
#include "http/server.h"

#define CACHE_MAX 4096

struct item_cache {
	uint64_t gen;
	bool have_gen;
	struct arena *a;
	json_t *index; /* code -> integer position in v */
	struct catalog_service_parsed **v; /* entries in a (stable while the cache lives) */
	size_t n, cap;
	uint64_t last_seq; /* the request that last looked up (it may hold entries): its r->seq */
};

static void *cache_make(void)
{
	struct item_cache *c = xcalloc(1, sizeof(*c));
	c->a = arena_new(1 << 16);
	c->index = json_object();
	return c;
}

static void cache_clear(struct item_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		json_decref(c->v[i]->def);
		json_decref(c->v[i]->mdefs);
		json_decref(c->v[i]->rules);
	}
	c->n = 0;
	json_object_clear(c->index);
	arena_free(c->a);
	c->a = arena_new(1 << 16);
}

static void cache_release(void *p)
{
	struct item_cache *c = p;
	cache_clear(c);
	arena_free(c->a);
	json_decref(c->index);
	free(c->v);
	free(c);
}

static const char *keep(struct arena *a, const char *s)
{
	return s ? arena_strdup(a, s) : NULL;
}

int catalog_service_cached(struct req *r, const char *code, const struct catalog_service_parsed **out)
{
	struct item_cache *c = req_worker_local(r, cache_make, cache_release);
	uint64_t gen;
	int rc = req_generation(r, catalog_generation, &gen);
	if (rc)
		return rc;
	bool same_request = c->last_seq == r->seq;
	if ((!c->have_gen || gen != c->gen || c->n >= CACHE_MAX) && !same_request) {
		cache_clear(c);
		c->gen = gen;
		c->have_gen = true;
	}
	c->last_seq = r->seq;
	json_t *at = json_object_get(c->index, code);
	if (at) {
		*out = c->v[json_integer_value(at)];
		return 0;
	}
	struct catalog_service svc;
	if ((rc = catalog_service_get(r->db, r->arena, code, 0, &svc)))
		return rc;
	struct catalog_department dept;
	if ((rc = catalog_department_get(r->db, r->arena, svc.department, &dept)))
		return rc == GH_ENOTFOUND ? GH_EINTERNAL : rc;
	json_t *rules;
	if ((rc = catalog_item_rules(r->db, r->arena, code, svc.version, &rules)))
		return rc;
	json_t *def = json_loads(svc.form ? svc.form : "[]", 0, NULL);
	json_t *mdefs = json_loads(svc.materials ? svc.materials : "[]", 0, NULL);
	if (!json_is_array(def) || !json_is_array(mdefs)) {
		json_decref(def);
		json_decref(mdefs);
		return GH_EINTERNAL;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	struct catalog_service_parsed *e = arena_zalloc(c->a, sizeof(*e));
	c->v[c->n] = e;
	e->svc = (struct catalog_service){ .code = keep(c->a, svc.code), .version = svc.version,
					   .department = keep(c->a, svc.department), .name_zh = keep(c->a, svc.name_zh),
					   .name_en = keep(c->a, svc.name_en), .audience = keep(c->a, svc.audience),
					   .legal_limit_days = svc.legal_limit_days,
					   .promised_limit_days = svc.promised_limit_days, .online_depth = svc.online_depth,
					   .visits_required = svc.visits_required, .materials = keep(c->a, svc.materials), .form = keep(c->a, svc.form),
					   .outcome_ecert = keep(c->a, svc.outcome_ecert) };
	e->def = def;
	e->mdefs = mdefs;
	e->rules = json_incref(rules); /* the request's reference goes with its arena */
	e->dept_name_zh = keep(c->a, dept.name_zh);
	e->dept_name_en = keep(c->a, dept.name_en);
	json_object_set_new(c->index, e->svc.code, json_integer((json_int_t)c->n));
	c->n++;
	*out = e;
	return 0;
}
