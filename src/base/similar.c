/* similar.c: see similar.h. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/similar.h"

/* The next code point of [s, s+n) at *i (advanced), or 0 for a byte that does not start a
 * well-formed sequence (it is skipped alone). */
static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = n - *i;
	uint32_t c = p[0];
	size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
	if (k == 0 || k > left) {
		(*i)++;
		return 0;
	}
	if (k > 1) {
		c &= 0x7F >> k;
		for (size_t j = 1; j < k; j++) {
			if ((p[j] & 0xC0) != 0x80) {
				(*i)++;
				return 0;
			}
			c = (c << 6) | (p[j] & 0x3F);
		}
	}
	*i += k;
	return c;
}

static bool is_han(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x20000 && c <= 0x2EBEF);
}

/* Full-width ASCII folded, letters lower-cased; 0 for what only separates. */
static uint32_t fold(uint32_t c)
{
	if (c >= 0xFF01 && c <= 0xFF5E)
		c -= 0xFEE0;
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return c;
	if (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) /* Latin letters with marks */
		return c;
	return is_han(c) ? c : 0;
}

struct feats {
	uint32_t *h;
	size_t n;
};

static void add(struct feats *f, char tag, const uint32_t *cp, size_t k)
{
	if (f->n >= SIMILAR_FEATURES_MAX)
		return;
	uint32_t h = 2166136261u ^ (uint32_t)(unsigned char)tag;
	h *= 16777619u;
	for (size_t i = 0; i < k; i++)
		for (int b = 0; b < 4; b++) {
			h ^= (cp[i] >> (8 * b)) & 0xFF;
			h *= 16777619u;
		}
	f->h[f->n++] = h;
}

static bool stopword(const uint32_t *w, size_t n)
{
	static const char *const stop[] = { "a", "an", "the", "is", "are", "was", "were", "be", "been", "of", "to", "in",
					    "on", "at", "and", "or", "it", "its", "my", "our", "for", "this", "that", "there",
					    "with", "has", "have", "had", "by", "i", "we", "me", "very", "so", "but" };
	for (size_t s = 0; s < sizeof(stop) / sizeof(stop[0]); s++) {
		size_t k = strlen(stop[s]);
		if (k != n)
			continue;
		size_t j = 0;
		while (j < k && w[j] == (uint32_t)(unsigned char)stop[s][j])
			j++;
		if (j == k)
			return true;
	}
	return false;
}

static bool ends(const uint32_t *w, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	if (n < k)
		return false;
	for (size_t j = 0; j < k; j++)
		if (w[n - k + j] != (uint32_t)(unsigned char)suf[j])
			return false;
	return true;
}

/* A Latin word w[0..n): the word (stemmed) and its padded character trigrams. */
static void word(struct feats *f, uint32_t *w, size_t n)
{
	if (n == 0 || stopword(w, n))
		return;
	if (n > 5 && ends(w, n, "ing"))
		n -= 3;
	else if (n > 4 && ends(w, n, "ed"))
		n -= 2;
	else if (n > 3 && ends(w, n, "s") && !ends(w, n, "ss"))
		n -= 1;
	add(f, 'w', w + 1, n); /* w[0] is the padding space */
	w[n + 1] = ' ';
	for (size_t j = 0; j + 3 <= n + 2; j++)
		add(f, 't', w + j, 3);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

#define WORD_MAX 64

void similar_features(struct arena *a, const char *s, size_t len, struct similar_set *out)
{
	struct feats f = { arena_array(a, SIMILAR_FEATURES_MAX, sizeof(uint32_t)), 0 };
	uint32_t w[WORD_MAX + 2];
	size_t wn = 0;
	uint32_t prev_han = 0;
	w[0] = ' ';
	for (size_t i = 0; s && i < len && f.n < SIMILAR_FEATURES_MAX;) {
		uint32_t c = fold(next_cp(s, len, &i));
		bool han = c && is_han(c);
		if (han || !c) {
			word(&f, w, wn);
			wn = 0;
		}
		if (han) {
			add(&f, 'h', &c, 1);
			if (prev_han)
				add(&f, 'b', (uint32_t[]){ prev_han, c }, 2);
			prev_han = c;
			continue;
		}
		prev_han = 0;
		if (c && wn < WORD_MAX)
			w[1 + wn++] = c;
	}
	word(&f, w, wn);
	qsort(f.h, f.n, sizeof(*f.h), cmp_u32);
	size_t k = 0;
	for (size_t i = 0; i < f.n; i++)
		if (k == 0 || f.h[i] != f.h[k - 1])
			f.h[k++] = f.h[i];
	out->h = f.h;
	out->n = k;
}

double similar_score(const struct similar_set *x, const struct similar_set *y)
{
	if (!x->n || !y->n)
		return 0;
	size_t i = 0, j = 0, both = 0;
	while (i < x->n && j < y->n) {
		if (x->h[i] == y->h[j]) {
			both++;
			i++;
			j++;
		} else if (x->h[i] < y->h[j]) {
			i++;
		} else {
			j++;
		}
	}
	return 2.0 * (double)both / (double)(x->n + y->n);
}

static bool is_digit_cp(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}

static bool is_space_cp(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x3000 || c == 0;
}

char *similar_mask(struct arena *a, const char *s, size_t max_chars)
{
	size_t len = s ? strlen(s) : 0;
	/* at most max_chars characters, each of at most 4 bytes, the ellipsis and the NUL */
	char *out = arena_alloc(a, (len < max_chars * 4 ? len : max_chars * 4) + 4);
	size_t o = 0, chars = 0, i = 0;
	while (i < len && chars < max_chars) {
		/* the next word: up to a space */
		size_t start = i, end = i;
		bool at = false;
		uint32_t c;
		while (end < len) {
			size_t at_i = end;
			c = next_cp(s, len, &end);
			if (is_space_cp(c) && at_i > start) {
				end = at_i;
				break;
			}
			at |= c == '@';
			if (is_space_cp(c))
				break;
		}
		size_t p = start;
		while (p < end && chars < max_chars) {
			size_t q = p;
			c = next_cp(s, len, &q);
			if (at && !is_space_cp(c)) {
				out[o++] = '*';
			} else if (is_digit_cp(c)) {
				size_t run = 0, r = p;
				while (r < end) {
					size_t t = r;
					if (!is_digit_cp(next_cp(s, len, &t)))
						break;
					r = t;
					run++;
				}
				if (run >= 4) {
					for (size_t k = 0; k < run && chars < max_chars; k++, chars++)
						out[o++] = '*';
					p = r;
					continue;
				}
				memcpy(out + o, s + p, q - p);
				o += q - p;
			} else {
				memcpy(out + o, s + p, q - p);
				o += q - p;
			}
			chars++;
			p = q;
		}
		i = p < end ? p : end;
	}
	if (i < len) {
		memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
		o += 3;
	}
	out[o] = 0;
	return out;
}

const char *similar_mask_word(struct arena *a, const char *s, const char *word)
{
	size_t wl = word ? strlen(word) : 0;
	if (!s || wl == 0 || !strstr(s, word))
		return s;
	size_t wchars = 0;
	for (size_t i = 0; i < wl;) {
		next_cp(word, wl, &i);
		wchars++;
	}
	if (wchars < 2)
		return s;
	/* each occurrence (wl >= wchars bytes) becomes wchars bytes: never longer */
	char *out = arena_alloc(a, strlen(s) + 1);
	size_t o = 0;
	for (const char *p = s, *hit; *p; p = hit + wl) {
		hit = strstr(p, word);
		if (!hit) {
			memcpy(out + o, p, strlen(p) + 1); /* the rest, with its NUL: fits (see above) */
			return out;
		}
		memcpy(out + o, p, (size_t)(hit - p));
		o += (size_t)(hit - p);
		memset(out + o, '*', wchars);
		o += wchars;
		if (!hit[wl])
			break;
	}
	out[o] = 0;
	return out;
}

double similar_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	const double rad = M_PI / 180.0, r = 6371008.8;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

int similar_by_score(const void *a, const void *b)
{
	const struct similar_ranked *x = a, *y = b;
	return x->score < y->score ? 1 : x->score > y->score ? -1 : (x->i > y->i) - (x->i < y->i);
}
