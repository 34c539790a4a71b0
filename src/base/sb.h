/* sb.h: growable string builder (after git's strbuf).
 * Invariants: buf is never NULL and always NUL-terminated at buf[len]; len < alloc when
 * alloc > 0. Out of memory aborts. A builder may carry a size cap: appends past it set the
 * sticky error flag (after SQLite's printf.c) and are dropped, so callers check once at
 * the end with sb_failed() instead of after every append. */
#ifndef GH_SB_H
#define GH_SB_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/str.h"

struct sb {
	char *buf;
	size_t len;
	size_t alloc;
	size_t _cap; /* 0 = no cap */
	bool _err;
};

extern char sb_empty_[1];
#define SB_INIT { sb_empty_, 0, 0, 0, false }

void sb_init(struct sb *sb, size_t hint);
void sb_set_cap(struct sb *sb, size_t cap);
/* Frees the buffer; the builder is reset to SB_INIT. */
void sb_release(struct sb *sb);
/* Hands the malloc'd buffer to the caller (never NULL); the builder is reset. */
char *sb_detach(struct sb *sb, size_t *len);
void sb_reset(struct sb *sb);
void sb_grow(struct sb *sb, size_t extra);
void sb_add(struct sb *sb, const void *p, size_t n);
void sb_adds(struct sb *sb, const char *s);
void sb_addstr(struct sb *sb, struct str s);
void sb_addch(struct sb *sb, char c);
void sb_addf(struct sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct sb *sb, const char *fmt, va_list ap);
static inline bool sb_failed(const struct sb *sb)
{
	return sb->_err;
}
static inline struct str sb_str(const struct sb *sb)
{
	return (struct str){ sb->buf, sb->len };
}

/* Escapers: append s escaped for the named context. */
void sb_add_html(struct sb *sb, const char *s, size_t n);
void sb_add_json_str(struct sb *sb, const char *s, size_t n); /* with the quotes */
void sb_add_urlenc(struct sb *sb, const char *s, size_t n);

#endif
