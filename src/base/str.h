/* str.h: non-owning string views.
 * Invariant: a struct str never owns its bytes; p may be NULL only when len is 0.
 * Nothing here allocates. */
#ifndef GH_STR_H
#define GH_STR_H
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct str {
	const char *p;
	size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })
#define STR_NULL ((struct str){ NULL, 0 })
#define STR_FMT(s) (int)(s).len, (s).p

static inline struct str str_c(const char *s)
{
	return (struct str){ s, s ? strlen(s) : 0 };
}

static inline struct str str_n(const char *s, size_t n)
{
	return (struct str){ s, n };
}

static inline bool str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool str_eq_c(struct str a, const char *b)
{
	return str_eq(a, str_c(b));
}

static inline bool str_starts_with(struct str a, struct str prefix)
{
	return a.len >= prefix.len && memcmp(a.p, prefix.p, prefix.len) == 0;
}

/* The value of the hexadecimal digit c (either case), or -1. */
static inline int str_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Returns true when [p, p+len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). NUL bytes count as invalid: no text we accept carries them. */
bool str_utf8_valid(const char *p, size_t len);

/* The number of characters (code points) in the UTF-8 text [p, p+len); bytes that are not
 * continuation bytes are counted, so it is meant for text already checked as valid. */
size_t str_utf8_chars(const char *p, size_t len);

/* Parses a decimal integer in [min, max] from the whole of s. Returns 0 or -1. */
int str_to_long(struct str s, long min, long max, long *out);

#define STR_EMAIL_MAX 254 /* characters of an e-mail address (RFC 5321 path limit) */
/* A practical e-mail check: one '@', a local part of 1..64 printable ASCII characters
 * without spaces, a domain of dot-separated labels [A-Za-z0-9-] (1..63, no hyphen at either
 * end) with at least one dot, at most STR_EMAIL_MAX in all. Lower-cases the domain of s in
 * place. Does not allocate. */
bool str_email_norm(char *s, size_t len);

#endif
