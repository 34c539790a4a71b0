/* cache.h: a node-local cache of whole responses, one per worker thread (no locks).
 *
 * Routes opt in by declaring a generation function (struct route.cache). A GET or HEAD
 * response with status 200 is stored under (language, path, query); it is served again while
 * the route's generation function returns the same number (a domain bumps its generation in
 * the database on every change, so every node notices a change made by any node). Size is
 * bounded by entries and bytes; the oldest entry is evicted first. */
#ifndef GH_CACHE_H
#define GH_CACHE_H
#include <stdbool.h>
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
	void *_slot;
};

/* Looks key up; returns 0 and fills *e (valid until the next cache_put) when an entry exists
 * with this generation, else GH_ENOTFOUND (a stale entry is dropped). */
int cache_get(struct cache *c, const char *key, size_t keylen, uint64_t gen, struct cache_entry *e);
/* Stores a copy of body under key (replacing any entry). Bodies over a quarter of the byte
 * budget are not stored. */
void cache_put(struct cache *c, const char *key, size_t keylen, uint64_t gen, const char *body,
	       size_t len, const char *content_type);

/* The entry's body in coding (http/compress.h), made at the first ask and kept with the entry
 * (its bytes count against the budget) until the entry goes. e comes from cache_get and no
 * cache_put since. 0, or GH_EINTERNAL (then serve it plain). *best tells whether it is the
 * strong level's. Where the strong level costs more than an answer may wait (Brotli), the
 * first copy is the fast level's and *upgrade is set once per entry and coding: the caller
 * then makes the strong copy off the loop and hands it to cache_upgrade. */
int cache_encoded(struct cache *c, const struct cache_entry *e, int coding, const char **body, size_t *len,
		  bool *best, bool *upgrade);
/* Replaces the coded body of key's entry with body (malloc'd; the cache takes it) when the
 * entry is still the one of generation gen and plain ETag etag; else frees body. body NULL:
 * the copy will not come (it may be asked for again). */
void cache_upgrade(struct cache *c, const char *key, size_t keylen, uint64_t gen, const char *etag, int coding,
		   char *body, size_t len);

struct cache_stats {
	uint64_t hits, misses, entries, bytes;
};
void cache_stats_add(const struct cache *c, struct cache_stats *sum);

#endif
