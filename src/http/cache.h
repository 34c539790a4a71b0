/* cache.h: a node-local cache of whole responses, one per worker thread (no locks).
 *
 * Routes opt in by declaring a generation function (struct route.cache). A GET or HEAD
 * response with status 200 is stored under (language, path, query); it is served again while
 * the route's generation function returns the same number (a domain bumps its generation in
 * the database on every change, so every node notices a change made by any node). Size is
 * bounded by entries and bytes; the oldest entry is evicted first. */
#ifndef GH_CACHE_H
#define GH_CACHE_H
#include <stddef.h>
#include <stdint.h>

struct cache;

struct cache *cache_new(size_t max_entries, size_t max_bytes);
void cache_free(struct cache *c);

struct cache_entry {
	const char *body;
	size_t len;
	const char *content_type;
	const char *etag;
};

/* Looks key up; returns 0 and fills *e (valid until the next cache_put) when an entry exists
 * with this generation, else GH_ENOTFOUND (a stale entry is dropped). */
int cache_get(struct cache *c, const char *key, size_t keylen, uint64_t gen, struct cache_entry *e);
/* Stores a copy of body under key (replacing any entry). Bodies over a quarter of the byte
 * budget are not stored. */
void cache_put(struct cache *c, const char *key, size_t keylen, uint64_t gen, const char *body,
	       size_t len, const char *content_type);

struct cache_stats {
	uint64_t hits, misses, entries, bytes;
};
void cache_stats_add(const struct cache *c, struct cache_stats *sum);

#endif
