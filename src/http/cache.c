#include "http/cache.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "http/compress.h"

struct slot {
	char *key;
	size_t keylen;
	uint64_t gen;
	uint64_t seq; /* insertion order, for eviction */
	char *body;
	size_t len;
	char *content_type;
	char etag[24];
	char *coded[CODING_N]; /* the body in each coding, made when first asked for */
	size_t coded_len[CODING_N];
	bool coded_best[CODING_N];  /* ... at the strong level */
	bool upgrading[CODING_N];   /* the strong copy is being made */
};

struct cache {
	struct slot *slots; /* open addressing, capacity a power of two */
	size_t cap, count, max_entries, bytes, max_bytes;
	uint64_t seq, hits, misses;
};

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ull;
	}
	return h;
}

struct cache *cache_new(size_t max_entries, size_t max_bytes)
{
	struct cache *c = xcalloc(1, sizeof(*c));
	c->max_entries = max_entries ? max_entries : 1;
	c->cap = 16;
	while (c->cap < c->max_entries * 2)
		c->cap *= 2;
	c->slots = xcalloc(c->cap, sizeof(*c->slots));
	c->max_bytes = max_bytes;
	return c;
}

static void slot_clear(struct cache *c, struct slot *s)
{
	c->bytes -= s->len + s->keylen;
	c->count--;
	for (int i = 0; i < CODING_N; i++) {
		c->bytes -= s->coded_len[i];
		free(s->coded[i]);
	}
	free(s->key);
	free(s->body);
	free(s->content_type);
	memset(s, 0, sizeof(*s));
}

static size_t find(const struct cache *c, const char *key, size_t keylen, bool *found)
{
	size_t i = hash(key, keylen) & (c->cap - 1);
	while (c->slots[i].key) {
		if (c->slots[i].keylen == keylen && memcmp(c->slots[i].key, key, keylen) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & (c->cap - 1);
	}
	*found = false;
	return i;
}

/* Deletes slot i and re-inserts the rest of its probe cluster. */
static void remove_at(struct cache *c, size_t i)
{
	slot_clear(c, &c->slots[i]);
	for (size_t j = (i + 1) & (c->cap - 1); c->slots[j].key; j = (j + 1) & (c->cap - 1)) {
		struct slot s = c->slots[j];
		memset(&c->slots[j], 0, sizeof(s));
		bool found;
		size_t k = find(c, s.key, s.keylen, &found);
		c->slots[k] = s;
	}
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].key)
			slot_clear(c, &c->slots[i]);
	free(c->slots);
	free(c);
}

int cache_get(struct cache *c, const char *key, size_t keylen, uint64_t gen, struct cache_entry *e)
{
	bool found;
	size_t i = find(c, key, keylen, &found);
	if (!found || c->slots[i].gen != gen) {
		if (found)
			remove_at(c, i);
		c->misses++;
		return GH_ENOTFOUND;
	}
	struct slot *s = &c->slots[i];
	e->body = s->body;
	e->len = s->len;
	e->content_type = s->content_type;
	e->etag = s->etag;
	e->_slot = s;
	c->hits++;
	return 0;
}

static void evict_oldest(struct cache *c)
{
	size_t oldest = c->cap;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].key && (oldest == c->cap || c->slots[i].seq < c->slots[oldest].seq))
			oldest = i;
	if (oldest < c->cap)
		remove_at(c, oldest);
}

void cache_put(struct cache *c, const char *key, size_t keylen, uint64_t gen, const char *body,
	       size_t len, const char *content_type)
{
	if (len + keylen > c->max_bytes / 4)
		return;
	bool found;
	size_t i = find(c, key, keylen, &found);
	if (found)
		remove_at(c, i);
	while (c->count >= c->max_entries || c->bytes + len + keylen > c->max_bytes)
		evict_oldest(c);
	i = find(c, key, keylen, &found);
	struct slot *s = &c->slots[i];
	s->key = xstrndup(key, keylen);
	s->keylen = keylen;
	s->gen = gen;
	s->seq = ++c->seq;
	s->body = xmalloc(len ? len : 1);
	memcpy(s->body, body, len);
	s->len = len;
	s->content_type = content_type ? xstrdup(content_type) : NULL;
	unsigned char h[8];
	crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, NULL, 0);
	snprintf(s->etag, sizeof(s->etag), "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", h[0], h[1], h[2],
		 h[3], h[4], h[5], h[6], h[7]);
	c->bytes += len + keylen;
	c->count++;
}

int cache_encoded(struct cache *c, const struct cache_entry *e, int coding, const char **body, size_t *len,
		  bool *best, bool *upgrade)
{
	struct slot *s = e->_slot;
	*upgrade = false;
	if (coding <= CODING_IDENTITY || coding >= CODING_N)
		return GH_EINTERNAL;
	if (!s->coded[coding]) {
		/* gzip's strong level costs about as much as the fast one: made at once */
		bool strong = coding == CODING_GZIP;
		struct sb z = SB_INIT;
		if (compress_buf(coding, strong, s->body, s->len, &z)) {
			sb_release(&z);
			return GH_EINTERNAL;
		}
		s->coded[coding] = sb_detach(&z, &s->coded_len[coding]);
		s->coded_best[coding] = strong;
		c->bytes += s->coded_len[coding];
	}
	if (!s->coded_best[coding] && !s->upgrading[coding]) {
		s->upgrading[coding] = true;
		*upgrade = true;
	}
	*body = s->coded[coding];
	*len = s->coded_len[coding];
	*best = s->coded_best[coding];
	return 0;
}

void cache_upgrade(struct cache *c, const char *key, size_t keylen, uint64_t gen, const char *etag, int coding,
		   char *body, size_t len)
{
	bool found;
	size_t i = find(c, key, keylen, &found);
	struct slot *s = found ? &c->slots[i] : NULL;
	if (!s || s->gen != gen || strcmp(s->etag, etag) != 0 || coding <= CODING_IDENTITY || coding >= CODING_N ||
	    !s->coded[coding]) {
		free(body);
		return;
	}
	if (!body) { /* not made after all: may be asked for again */
		s->upgrading[coding] = false;
		return;
	}
	c->bytes -= s->coded_len[coding];
	free(s->coded[coding]);
	s->coded[coding] = body;
	s->coded_len[coding] = len;
	s->coded_best[coding] = true;
	s->upgrading[coding] = false;
	c->bytes += len;
}

void cache_stats_add(const struct cache *c, struct cache_stats *sum)
{
	sum->hits += c->hits;
	sum->misses += c->misses;
	sum->entries += c->count;
	sum->bytes += c->bytes;
}
