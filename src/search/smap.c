/* smap.c: string -> uint32 open-addressing hash map with its own key pool; UTF-8 helpers. */
#include <string.h>

#include "base/util.h"
#include "search/search_impl.h"

static uint32_t hash_bytes(const char *k, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 16777619u;
	}
	return h ? h : 1;
}

void smap_init(struct smap *m)
{
	memset(m, 0, sizeof(*m));
}

void smap_release(struct smap *m)
{
	free(m->slots);
	free(m->ent);
	free(m->pool);
	memset(m, 0, sizeof(*m));
}

static void smap_grow(struct smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint32_t *s = xcalloc(cap, sizeof(*s));
	for (size_t i = 0; i < m->n; i++) {
		size_t j = m->ent[i].hash & (cap - 1);
		while (s[j])
			j = (j + 1) & (cap - 1);
		s[j] = (uint32_t)i + 1;
	}
	free(m->slots);
	m->slots = s;
	m->cap = cap;
}

int64_t smap_find(const struct smap *m, const char *k, size_t n)
{
	if (!m->cap)
		return -1;
	uint32_t h = hash_bytes(k, n);
	size_t j = h & (m->cap - 1);
	while (m->slots[j]) {
		const struct smap_ent *e = &m->ent[m->slots[j] - 1];
		if (e->hash == h && e->len == n && memcmp(m->pool + e->off, k, n) == 0)
			return (int64_t)m->slots[j] - 1;
		j = (j + 1) & (m->cap - 1);
	}
	return -1;
}

uint32_t smap_put(struct smap *m, const char *k, size_t n, uint32_t val, bool *existed)
{
	int64_t f = smap_find(m, k, n);
	if (existed)
		*existed = f >= 0;
	if (f >= 0)
		return (uint32_t)f;
	if ((m->n + 1) * 4 > m->cap * 3)
		smap_grow(m);
	if (m->n == m->entcap) {
		m->entcap = m->entcap ? m->entcap * 2 : 64;
		m->ent = xrealloc(m->ent, m->entcap * sizeof(*m->ent));
	}
	if (m->poollen + n + 1 > m->poolcap) {
		while (m->poollen + n + 1 > m->poolcap)
			m->poolcap = m->poolcap ? m->poolcap * 2 : 4096;
		m->pool = xrealloc(m->pool, m->poolcap);
	}
	uint32_t h = hash_bytes(k, n);
	struct smap_ent *e = &m->ent[m->n];
	e->hash = h;
	e->off = (uint32_t)m->poollen;
	e->len = (uint32_t)n;
	e->val = val;
	memcpy(m->pool + m->poollen, k, n);
	m->pool[m->poollen + n] = 0;
	m->poollen += n + 1;
	size_t j = h & (m->cap - 1);
	while (m->slots[j])
		j = (j + 1) & (m->cap - 1);
	m->slots[j] = (uint32_t)m->n + 1;
	return (uint32_t)m->n++;
}

size_t smap_bytes(const struct smap *m)
{
	return m->cap * sizeof(uint32_t) + m->entcap * sizeof(struct smap_ent) + m->poolcap;
}

size_t u8_han_run_end(const char *s, size_t n, size_t i)
{
	while (i < n) {
		size_t k = i;
		if (!cp_is_han(u8_next(s, n, &k)))
			break;
		i = k;
	}
	return i;
}

uint32_t u8_next(const char *s, size_t n, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = n - *i;
	uint32_t c = p[0];
	if (c < 0x80) {
		*i += 1;
		return c;
	}
	size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
	if (!len || len > left || c > 0xF4)
		goto bad;
	c &= 0x3F >> (len - 1);
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xC0) != 0x80)
			goto bad;
		c = (c << 6) | (p[k] & 0x3F);
	}
	*i += len;
	return c;
bad:
	*i += 1;
	return 0xFFFD;
}

void u8_put(struct sb *sb, uint32_t c)
{
	char b[4];
	size_t n;
	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xC0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xE0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	sb_add(sb, b, n);
}
