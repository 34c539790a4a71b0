/* arena.h: per-request bump allocator (after nginx's ngx_palloc and h2o's mem pool).
 * Invariants: memory from an arena lives until arena_free(); small allocations come from
 * chunks, large ones (over a quarter chunk) get blocks of their own; cleanup callbacks run in
 * reverse order of registration when the arena is freed. Out of memory aborts, so no
 * allocation function returns NULL. An arena is used by one thread at a time. */
#ifndef GH_ARENA_H
#define GH_ARENA_H
#include <stdarg.h>
#include <stddef.h>

#include "base/str.h"

struct arena;

struct arena *arena_new(size_t chunk_size);
void arena_free(struct arena *a);
/* Frees everything allocated so far but keeps the first chunk for reuse. */
void arena_reset(struct arena *a);

void *arena_alloc(struct arena *a, size_t n);   /* 16-byte aligned, uninitialised */
void *arena_zalloc(struct arena *a, size_t n);  /* zeroed */
void *arena_array(struct arena *a, size_t n, size_t size); /* zeroed, overflow-checked */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strdup_str(struct arena *a, struct str s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Registers fn(p) to run when the arena is freed or reset. */
void arena_cleanup(struct arena *a, void (*fn)(void *), void *p);

/* Bytes handed out so far (for metrics and tests). */
size_t arena_used(const struct arena *a);

#endif
