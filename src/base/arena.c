#include "base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sb.h"
#include "base/util.h"

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *p;
};

struct arena {
	struct chunk *chunks; /* current chunk first */
	struct chunk *large;
	struct cleanup *cleanups;
	size_t chunk_size;
	size_t used;
};

static struct chunk *chunk_new(size_t size)
{
	struct chunk *c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct arena *arena_new(size_t chunk_size)
{
	struct arena *a = xcalloc(1, sizeof(*a));
	a->chunk_size = chunk_size < 1024 ? 1024 : chunk_size;
	a->chunks = chunk_new(a->chunk_size);
	return a;
}

static void run_cleanups(struct arena *a)
{
	while (a->cleanups) {
		struct cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->p);
	}
}

static void free_list(struct chunk *c)
{
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
}

void arena_reset(struct arena *a)
{
	run_cleanups(a);
	free_list(a->large);
	a->large = NULL;
	struct chunk *first = a->chunks;
	while (first->next)
		first = first->next;
	struct chunk *c = a->chunks;
	while (c != first) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	first->used = 0;
	a->chunks = first;
	a->used = 0;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	run_cleanups(a);
	free_list(a->large);
	free_list(a->chunks);
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	if (n > SIZE_MAX - 64)
		die("arena: size overflow");
	size_t need = (n + 15) & ~(size_t)15;
	if (need == 0)
		need = 16;
	a->used += need;
	if (need > a->chunk_size / 4) {
		struct chunk *c = chunk_new(need);
		c->used = need;
		c->next = a->large;
		a->large = c;
		return c->data;
	}
	struct chunk *c = a->chunks;
	if (c->size - c->used < need) {
		c = chunk_new(a->chunk_size);
		c->next = a->chunks;
		a->chunks = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

void *arena_array(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die("arena: array overflow");
	return arena_zalloc(a, n * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_strdup_str(struct arena *a, struct str s)
{
	return arena_strndup(a, s.p, s.len);
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	struct sb sb = SB_INIT;
	sb_vaddf(&sb, fmt, ap);
	if (sb_failed(&sb))
		die("arena_printf: bad format");
	char *p = arena_strndup(a, sb.buf, sb.len);
	sb_release(&sb);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void arena_cleanup(struct arena *a, void (*fn)(void *), void *p)
{
	struct cleanup *c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
