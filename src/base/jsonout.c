/* jsonout.c: JSON text of a jansson value (see jsonout.h). */
#include "base/jsonout.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"

#define SUPPORTED (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

/* The length of the valid UTF-8 sequence at s (lead byte c >= 0x80), or 0: the checks of
 * jansson's utf8_iterate (no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n;
	uint32_t v;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
		return 0;
	return n;
}

/* Room for n more bytes at the end of sb (and its NUL): the writers below put their bytes
 * there themselves, with one check per value instead of a call per piece. */
static inline char *room(struct sb *sb, size_t n)
{
	if (sb->alloc - sb->len <= n)
		sb_grow(sb, n);
	return sb->buf + sb->len;
}

static inline void put(struct sb *sb, char c)
{
	*room(sb, 1) = c;
	sb->len++;
}

#define ONES 0x0101010101010101ull
/* Nonzero when a byte of w is below n (n <= 0x80) / equal to b. */
static inline uint64_t below(uint64_t w, unsigned n)
{
	return (w - ONES * n) & ~w & ONES * 0x80;
}

static inline uint64_t has(uint64_t w, unsigned b)
{
	return below(w ^ (ONES * b), 1);
}

static int add_string(struct sb *sb, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	/* Room for the text as it is and its quotes; an escape asks for more as it comes. */
	if (len > SIZE_MAX / 2)
		return GH_EINTERNAL;
	char *o = room(sb, len + 2);
	*o++ = '"';
	size_t i = 0;
	while (i < len) {
		if (len - i >= 8) {
			/* Eight bytes at a time while none needs a look (SWAR: a byte below 0x20, a
			 * quote, a backslash or one of UTF-8's high bytes). */
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(below(w, 0x20) | has(w, '"') | has(w, '\\') | (w & ONES * 0x80))) {
				memcpy(o, s + i, 8);
				o += 8;
				i += 8;
				continue;
			}
		}
		unsigned c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t n = utf8_seq(s + i, len - i);
			if (!n)
				return GH_EINTERNAL;
			memcpy(o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		sb->len = (size_t)(o - sb->buf);
		o = room(sb, len - i + 7); /* this escape (6 at most), the rest and the quote */
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u', *o++ = '0', *o++ = '0', *o++ = hex[c >> 4], *o++ = hex[c & 15];
		}
		i++;
	}
	*o++ = '"';
	sb->len = (size_t)(o - sb->buf);
	return 0;
}

static void add_integer(struct sb *sb, json_int_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	/* In unsigned arithmetic, so the most negative value has its digits too. */
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(buf + sizeof(buf) - p);
	memcpy(room(sb, n), p, n);
	sb->len += n;
}

struct key {
	const char *k;
	size_t len;
	json_t *v;
};

/* jansson's order of sorted keys: bytes, then length. */
static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->k, y->k, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int add_value(struct sb *sb, const json_t *j, size_t flags, int depth);

static int add_object(struct sb *sb, const json_t *j, size_t flags, int depth)
{
	size_t n = json_object_size(j), i = 0;
	struct key one[16], *keys = n <= 16 ? one : xmalloc(n * sizeof(*keys));
	for (void *it = json_object_iter((json_t *)j); it && i < n; it = json_object_iter_next((json_t *)j, it))
		keys[i++] = (struct key){ json_object_iter_key(it), json_object_iter_key_len(it), json_object_iter_value(it) };
	if (flags & JSON_SORT_KEYS)
		qsort(keys, i, sizeof(*keys), key_cmp);
	int rc = 0;
	put(sb, '{');
	for (size_t k = 0; k < i && !rc; k++) {
		if (k)
			put(sb, ',');
		if (!(rc = add_string(sb, keys[k].k, keys[k].len))) {
			put(sb, ':');
			rc = add_value(sb, keys[k].v, flags, depth + 1);
		}
	}
	put(sb, '}');
	if (keys != one)
		free(keys);
	return rc;
}

static int add_value(struct sb *sb, const json_t *j, size_t flags, int depth)
{
	if (!j || depth > JSONOUT_MAX_DEPTH)
		return GH_EINTERNAL;
	switch (json_typeof(j)) {
	case JSON_NULL:
		memcpy(room(sb, 4), "null", 4);
		sb->len += 4;
		return 0;
	case JSON_TRUE:
		memcpy(room(sb, 4), "true", 4);
		sb->len += 4;
		return 0;
	case JSON_FALSE:
		memcpy(room(sb, 5), "false", 5);
		sb->len += 5;
		return 0;
	case JSON_INTEGER:
		add_integer(sb, json_integer_value(j));
		return 0;
	case JSON_REAL: {
		/* Rare in answers: jansson's own text of it (its shortest form, ".0" added). */
		char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!t)
			return GH_EINTERNAL;
		sb_adds(sb, t);
		free(t);
		return 0;
	}
	case JSON_STRING:
		return add_string(sb, json_string_value(j), json_string_length(j));
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		int rc = 0;
		put(sb, '[');
		for (size_t i = 0; i < n && !rc; i++) {
			if (i)
				put(sb, ',');
			rc = add_value(sb, json_array_get(j, i), flags, depth + 1);
		}
		put(sb, ']');
		return rc;
	}
	case JSON_OBJECT:
		return add_object(sb, j, flags, depth);
	}
	return GH_EINTERNAL;
}

int jsonout_sb(struct sb *sb, const json_t *j, size_t flags)
{
	if (!j || (!(flags & JSON_ENCODE_ANY) && !json_is_object(j) && !json_is_array(j)))
		return GH_EINTERNAL;
	if (sb->_cap || sb->_err) {
		/* A capped builder: the text made aside, then added as sb_add adds (and caps). */
		struct sb aside = SB_INIT;
		int rc = jsonout_sb(&aside, j, flags);
		if (!rc)
			sb_add(sb, aside.buf, aside.len);
		sb_release(&aside);
		return rc;
	}
	size_t mark = sb->len;
	int rc;
	if ((flags & ~(size_t)SUPPORTED) || !(flags & JSON_COMPACT)) {
		char *t = json_dumps(j, flags);
		rc = t ? 0 : GH_EINTERNAL;
		if (t)
			sb_adds(sb, t);
		free(t);
	} else {
		rc = add_value(sb, j, flags, 0);
	}
	if (rc)
		sb->len = mark; /* what was written is not a text */
	if (sb->alloc)
		sb->buf[sb->len] = 0;
	return rc;
}

char *jsonout_dumps(const json_t *j, size_t flags)
{
	struct sb sb = SB_INIT;
	sb_grow(&sb, 255); /* one allocation for most texts */
	if (jsonout_sb(&sb, j, flags)) {
		sb_release(&sb);
		return NULL;
	}
	return sb_detach(&sb, NULL);
}
