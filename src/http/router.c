#include "http/router.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"

/* A route with what most paths can be told apart by cheaply: its first four segments and its
 * number of segments, so most routes are passed over without matching the whole pattern (the
 * API's paths share their first two, /api/v1). */
#define PREFIX_SEGMENTS 4
struct segment {
	const char *p; /* into the pattern */
	size_t len;
	bool param;    /* "{...}": matches any segment */
};

struct entry {
	struct segment seg[PREFIX_SEGMENTS]; /* the first segments (len 0 and !param when absent) */
	unsigned nseg;         /* segments: '/' in the pattern */
	bool rest;             /* ends in "{name*}": the path may have more segments */
};

/* router_can's objects: one per role bit, and for staff one per combination of duties. */
#define CAN_ROLES 7
#define CAN_DUTIES 8
#define CAN_SLOTS (CAN_ROLES + CAN_DUTIES)

/* Routes by their number of segments (the last bucket: that many or more), and the routes
 * ending in a rest parameter, each list in table order: a path is looked at against its own
 * bucket and the rest routes only. */
#define NSEG_BUCKETS 12
struct bucket {
	size_t *idx, n;
};

struct router {
	const struct route **routes;
	struct entry *entries;
	size_t n, alloc;
	struct bucket by_nseg[NSEG_BUCKETS], rest;
	const struct route **slots; /* pointer -> index, open addressing, for router_index */
	size_t *slot_index;
	size_t nslots;
	_Atomic(json_t *) can[CAN_SLOTS];
	pthread_mutex_t can_lock;
};

static size_t slot_of(const struct router *rt, const struct route *r)
{
	uintptr_t h = (uintptr_t)r;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 16) & (rt->nslots - 1);
}

static void index_rebuild(struct router *rt)
{
	free(rt->slots);
	free(rt->slot_index);
	rt->nslots = 16;
	while (rt->nslots < rt->n * 2)
		rt->nslots *= 2;
	rt->slots = xcalloc(rt->nslots, sizeof(*rt->slots));
	rt->slot_index = xcalloc(rt->nslots, sizeof(*rt->slot_index));
	for (size_t i = 0; i < rt->n; i++) {
		size_t k = slot_of(rt, rt->routes[i]);
		while (rt->slots[k] && rt->slots[k] != rt->routes[i])
			k = (k + 1) & (rt->nslots - 1);
		if (!rt->slots[k]) {
			rt->slots[k] = rt->routes[i];
			rt->slot_index[k] = i;
		}
	}
}

static void buckets_rebuild(struct router *rt)
{
	for (size_t b = 0; b < NSEG_BUCKETS; b++) {
		free(rt->by_nseg[b].idx);
		rt->by_nseg[b] = (struct bucket){ 0 };
	}
	free(rt->rest.idx);
	rt->rest = (struct bucket){ 0 };
	for (size_t i = 0; i < rt->n; i++) {
		const struct entry *e = &rt->entries[i];
		struct bucket *b = e->rest ? &rt->rest : &rt->by_nseg[e->nseg < NSEG_BUCKETS ? e->nseg : NSEG_BUCKETS - 1];
		b->idx = xrealloc(b->idx, (b->n + 1) * sizeof(*b->idx));
		b->idx[b->n++] = i;
	}
}

size_t router_index(const struct router *rt, const struct route *r)
{
	if (!r || !rt->nslots)
		return rt->n;
	for (size_t k = slot_of(rt, r); rt->slots[k]; k = (k + 1) & (rt->nslots - 1))
		if (rt->slots[k] == r)
			return rt->slot_index[k];
	return rt->n;
}

struct router *router_new(void)
{
	struct router *rt = xcalloc(1, sizeof(struct router));
	pthread_mutex_init(&rt->can_lock, NULL);
	return rt;
}

static void can_drop(struct router *rt)
{
	for (size_t i = 0; i < CAN_SLOTS; i++)
		json_decref(atomic_exchange(&rt->can[i], NULL));
}

void router_free(struct router *rt)
{
	if (!rt)
		return;
	can_drop(rt);
	pthread_mutex_destroy(&rt->can_lock);
	for (size_t b = 0; b < NSEG_BUCKETS; b++)
		free(rt->by_nseg[b].idx);
	free(rt->rest.idx);
	free(rt->routes);
	free(rt->entries);
	free(rt->slots);
	free(rt->slot_index);
	free(rt);
}

static bool pattern_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	const char *s = p + 1;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n > 0 && s[0] == '{') {
			if (n < 3 || s[n - 1] != '}')
				return false;
			if (s[n - 2] == '*' && e)
				return false; /* a rest parameter must be last */
		}
		if (!e)
			break;
		s = e + 1;
	}
	return true;
}

int router_add(struct router *rt, const struct route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &routes[i];
		if (!r->name || !r->fn || !r->methods || !r->pattern || !pattern_ok(r->pattern)) {
			fprintf(stderr, "router: malformed route %s\n", r->pattern ? r->pattern : "?");
			return GH_EINVAL;
		}
		if (!r->roles) {
			fprintf(stderr, "router: route %s declares no roles\n", r->name);
			return GH_EINVAL;
		}
		if (rt->n == rt->alloc) {
			rt->alloc = rt->alloc ? rt->alloc * 2 : 32;
			rt->routes = xrealloc(rt->routes, rt->alloc * sizeof(*rt->routes));
			rt->entries = xrealloc(rt->entries, rt->alloc * sizeof(*rt->entries));
		}
		struct entry *e = &rt->entries[rt->n];
		memset(e, 0, sizeof(*e));
		for (const char *s = r->pattern; *s; s++)
			e->nseg += *s == '/';
		const char *s = r->pattern + 1;
		for (size_t k = 0; k < ARRAY_LEN(e->seg) && k < e->nseg; k++) {
			e->seg[k].p = s;
			e->seg[k].len = strcspn(s, "/");
			e->seg[k].param = e->seg[k].len > 0 && s[0] == '{';
			s += e->seg[k].len + (s[e->seg[k].len] == '/');
		}
		e->rest = strstr(r->pattern, "*}") != NULL;
		rt->routes[rt->n++] = r;
	}
	index_rebuild(rt);
	buckets_rebuild(rt);
	can_drop(rt); /* tables are added before anyone asks; a late table must show up too */
	return 0;
}

bool router_allows(const struct route *route, unsigned role, unsigned duties)
{
	if (role == ROLE_ANON)
		return (route->roles & (ROLE_ANON | ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)) != 0;
	if (!(route->roles & role))
		return false;
	return role != ROLE_STAFF || !route->duties || (route->duties & duties);
}

static json_t *can_build(const struct router *rt, unsigned role, unsigned duties)
{
	json_t *can = json_object();
	for (size_t i = 0; i < rt->n; i++) {
		const struct route *r = rt->routes[i];
		if (!router_allows(r, role, duties))
			continue;
		json_t *o = can;
		const char *name = r->name, *dot;
		while ((dot = strchr(name, '.'))) {
			json_t *sub = json_object_getn(o, name, (size_t)(dot - name));
			if (!json_is_object(sub)) {
				sub = json_object();
				json_object_setn_new(o, name, (size_t)(dot - name), sub);
			}
			o = sub;
			name = dot + 1;
		}
		json_object_set_new(o, name, json_true());
	}
	return can;
}

json_t *router_can(struct router *rt, unsigned role, unsigned duties)
{
	size_t slot = 0;
	while (slot < CAN_ROLES && !(role & (1u << slot)))
		slot++;
	if (slot == CAN_ROLES)
		slot = 0; /* no role: anonymous */
	if (role == ROLE_STAFF)
		slot = CAN_ROLES + (duties & (STAFF_COUNTER | STAFF_REVIEWER | STAFF_HEAD));
	json_t *j = atomic_load_explicit(&rt->can[slot], memory_order_acquire);
	if (j)
		return j;
	pthread_mutex_lock(&rt->can_lock);
	j = atomic_load_explicit(&rt->can[slot], memory_order_relaxed);
	if (!j) {
		j = can_build(rt, slot < CAN_ROLES ? 1u << slot : ROLE_STAFF, duties);
		atomic_store_explicit(&rt->can[slot], j, memory_order_release);
	}
	pthread_mutex_unlock(&rt->can_lock);
	return j;
}

size_t router_count(const struct router *rt)
{
	return rt->n;
}

const struct route *router_at(const struct router *rt, size_t i)
{
	return i < rt->n ? rt->routes[i] : NULL;
}

/* Specificity: literal segments count more than parameters; used to pick among matches. */
static int specificity(const char *pattern)
{
	int score = 0;
	for (const char *s = pattern; *s; s++)
		if (*s == '/')
			score += s[1] == '{' ? 1 : 3;
	return score;
}

bool route_match(struct arena *a, const char *pattern, const char *path, struct kvlist *params)
{
	struct kv tmp[16];
	size_t np = 0;
	const char *p = pattern, *s = path;
	if (*p != '/' || *s != '/')
		return false;
	while (*p == '/' && *s == '/') {
		p++, s++;
		const char *pe = strchr(p, '/');
		size_t pn = pe ? (size_t)(pe - p) : strlen(p);
		const char *se = strchr(s, '/');
		size_t sn = se ? (size_t)(se - s) : strlen(s);
		if (pn >= 3 && p[0] == '{' && p[pn - 1] == '}') {
			bool rest = p[pn - 2] == '*';
			size_t keylen = pn - 2 - (rest ? 1 : 0);
			size_t vn = rest ? strlen(s) : sn;
			if (vn == 0 || np == ARRAY_LEN(tmp))
				return false;
			if (params) { /* only the match kept needs its parameters */
				tmp[np].key = arena_strndup(a, p + 1, keylen);
				tmp[np].val = arena_strndup(a, s, vn);
				tmp[np].val_len = vn;
			}
			np++;
			if (rest) {
				p += pn;
				s += vn;
				break;
			}
		} else if (pn != sn || memcmp(p, s, pn) != 0) {
			return false;
		}
		p += pn;
		s += sn;
	}
	if (*p || *s)
		return false;
	if (params) {
		params->v = arena_array(a, np ? np : 1, sizeof(struct kv));
		memcpy(params->v, tmp, np * sizeof(struct kv));
		params->n = np;
	}
	return true;
}

enum router_result router_match(const struct router *rt, struct arena *a, unsigned method,
				const char *path, const struct route **out, struct kvlist *params,
				unsigned *allowed)
{
	const struct route *best = NULL;
	int best_score = -1;
	unsigned allow = 0;
	/* The path's first segments and its number of segments. */
	unsigned nseg = 0;
	for (const char *s = path; *s; s++)
		nseg += *s == '/';
	struct segment ps[PREFIX_SEGMENTS] = { { 0 } };
	const char *s = path[0] == '/' ? path + 1 : path;
	for (size_t k = 0; k < ARRAY_LEN(ps) && k < nseg; k++) {
		ps[k].p = s;
		ps[k].len = strcspn(s, "/");
		s += ps[k].len + (s[ps[k].len] == '/');
	}
	/* The path's bucket and the rest routes, merged in table order (the first of equally
	 * specific matches wins). */
	const struct bucket *b = &rt->by_nseg[nseg < NSEG_BUCKETS ? nseg : NSEG_BUCKETS - 1], *rb = &rt->rest;
	size_t x = 0, y = 0;
	while (x < b->n || y < rb->n) {
		size_t i = y >= rb->n || (x < b->n && b->idx[x] < rb->idx[y]) ? b->idx[x++] : rb->idx[y++];
		const struct route *r = rt->routes[i];
		const struct entry *e = &rt->entries[i];
		if (e->rest ? nseg < e->nseg : nseg != e->nseg)
			continue;
		bool differ = false;
		for (size_t k = 0; k < ARRAY_LEN(ps) && k < e->nseg && !differ; k++)
			differ = !e->seg[k].param && !(e->rest && k + 1 == e->nseg) &&
				 (e->seg[k].len != ps[k].len || memcmp(e->seg[k].p, ps[k].p, ps[k].len) != 0);
		if (differ)
			continue;
		unsigned m = r->methods;
		if (m & HTTP_GET)
			m |= HTTP_HEAD;
		if (!route_match(a, r->pattern, path, NULL))
			continue;
		allow |= m;
		if (!(m & method))
			continue;
		int sc = specificity(r->pattern);
		if (sc > best_score) {
			best = r;
			best_score = sc;
		}
	}
	if (best) {
		route_match(a, best->pattern, path, params);
		*out = best;
		return ROUTER_FOUND;
	}
	if (allow) {
		*allowed = allow | HTTP_OPTIONS;
		return ROUTER_METHOD;
	}
	return ROUTER_NOT_FOUND;
}

const char *http_method_name(unsigned m)
{
	switch (m) {
	case HTTP_GET: return "GET";
	case HTTP_HEAD: return "HEAD";
	case HTTP_POST: return "POST";
	case HTTP_PUT: return "PUT";
	case HTTP_DELETE: return "DELETE";
	case HTTP_PATCH: return "PATCH";
	case HTTP_OPTIONS: return "OPTIONS";
	default: return "?";
	}
}

const char *http_methods_str(unsigned methods, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (unsigned bit = 1; bit <= HTTP_OPTIONS; bit <<= 1) {
		if (!(methods & bit))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", http_method_name(bit));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}
