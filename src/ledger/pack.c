/* pack.c: the stored form of a leaf (ledger_leaves.leaf, bytes). What is hashed, proved,
 * served and put in receipts is the leaf's canonical JSON text; the database keeps it packed,
 * and unpacking gives back exactly that text, so the leaf hash (SHA-256 of 0x00 and the text)
 * and every receipt already given out stay what they were.
 *
 * The first byte is the version of the form:
 * - 0: the text itself follows (the form of every leaf written before, which migration leaf_bytes
 *   kept as it was, and of a text the packed form would not reproduce);
 * - 1: the packed form: the text as a sequence of
 *     a byte 0x20..0xff                   that byte of the text;
 *     0x01 h[32]                          '"', the 64 lowercase hex digits of h, '"';
 *     0x02 b[16]                          '"', the 22 base64url characters of b (no
 *                                         padding), '"';
 *     0x03 varint                         the decimal digits of an unsigned integer (LEB128,
 *                                         at most 10 bytes, no needless 0x80 continuation);
 *     0x05..0x1f                          the word pack_words[code - 5];
 *     0x04 k                              the word pack_words[27 + k].
 *   Bytes 0x00..0x1f never stand for themselves: canonical JSON escapes control characters.
 *   The words are fixed by this version; a new word needs a version 2.
 * A leaf's five salted hashes take 33 bytes instead of 66, its rows' hashes 17 instead of 24,
 * its member names one or two bytes. */
#include <pthread.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "ledger/ledger_impl.h"
#include "store/db.h"

enum { OP_HEX = 1, OP_B64 = 2, OP_UINT = 3, OP_WORD = 4, OP_WORD1 = 5, WORD1_N = 0x20 - OP_WORD1 };

/* Version 1's words: member names with their quotes and colon, and frequent values. */
struct word {
	const char *s;
	size_t n;
};
#define W(s) { s, sizeof(s) - 1 }
static const struct word pack_words[] = {
	/* one byte (0x05..0x1f): a step's leaf */
	W("\"action\":"), W("\"actor\":"), W("\"applicant\":"), W("\"application\":"), W("\"at\":"), W("\"department\":"),
	W("\"detail\":"), W("\"enterprise\":"), W("\"event\":"), W("\"from\":"), W("\"item\":"), W("\"kind\":"), W("\"reason\":"),
	W("\"ref\":\"decision:"), W("\"rows\":{"), W("\"to\":"), W("\"v\":2}"), W("\"decision\""), W("\"transition\""),
	W("\"change\""), W("\"submitted\""), W("\"accepted\""), W("\"under_review\""), W("\"approved\""), W("\"completed\""),
	W("\"submit\""), W("\"accept\""),
	/* two bytes (0x04 k) */
	W("\"start_review\""), W("\"approve\""), W("\"complete\""), W("\"deny\""), W("\"denied\""), W("\"refuse\""),
	W("\"not_accepted\""), W("\"request_supplement\""), W("\"supplement\""), W("\"resubmit\""), W("\"withdraw\""),
	W("\"withdrawn\""), W("\"instant_approve\""), W("\"start_special\""), W("\"end_special\""), W("\"special\""),
	W("\"request_payment\""), W("\"payment_received\""), W("\"awaiting_payment\""), W("\"draft\""),
	W("\"rules\":{"), W("\"version\":"), W("\"ref\":\""), W("\"v\":2"), W("\"certificate\""), W("\"certificate_revocation\""),
	W("\"certificate_share\""), W("\"evaluation\""), W("\"evaluation_appeal\""), W("\"catalog_item\""), W("\"number\":"),
	W("\"hash\":"), W("\"code\":"), W("\"name\":"), W("\"type\":"), W("\"status\":"), W("\"score\":"), W("\"channel\":"),
	W("\"account\":"), W("\"correction\""), W("\"erasure\""), W("\"ref\":\"catalog_item:"), W("\"ref\":\"certificate:"),
};
#define NWORDS (sizeof(pack_words) / sizeof(pack_words[0]))
_Static_assert(NWORDS < 255, "word indexes are bytes");

/* The words by their second byte (each starts with a quote), each list in table order, so
 * that packing looks only at the words that can match where it stands. */
static unsigned char word_first[256], word_next[NWORDS];
static pthread_once_t words_once = PTHREAD_ONCE_INIT;

static void words_index(void)
{
	memset(word_first, NWORDS, sizeof(word_first));
	for (size_t w = NWORDS; w-- > 0;) {
		unsigned char b = (unsigned char)pack_words[w].s[1];
		word_next[w] = word_first[b];
		word_first[b] = (unsigned char)w;
	}
}

/* The value of a lowercase hex digit, or -1. */
static int hex_val(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The value of a base64url character, or -1. */
static int b64_val(char c)
{
	return c >= 'A' && c <= 'Z'   ? c - 'A'
	       : c >= 'a' && c <= 'z' ? c - 'a' + 26
	       : c >= '0' && c <= '9' ? c - '0' + 52
	       : c == '-'             ? 62
	       : c == '_'             ? 63
				      : -1;
}

/* 64 lowercase hex digits at s into h; false when s is not that. */
static bool hex32(const char *s, unsigned char h[32])
{
	for (int k = 0; k < 32; k++) {
		int hi = hex_val(s[2 * k]), lo = hex_val(s[2 * k + 1]);
		if (hi < 0 || lo < 0)
			return false;
		h[k] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* 22 base64url characters at s into b (16 bytes); false when s is not the one encoding of 16
 * bytes (the last character carries 2 bits: its low 4 must be 0). */
static bool b64_16(const char *s, unsigned char b[16])
{
	int v[22];
	for (int k = 0; k < 22; k++)
		if ((v[k] = b64_val(s[k])) < 0)
			return false;
	if (v[21] & 0x0f)
		return false;
	for (int g = 0; g < 5; g++) { /* 5 groups of 4 characters: 15 bytes */
		const int *q = v + 4 * g;
		b[3 * g] = (unsigned char)(q[0] << 2 | q[1] >> 4);
		b[3 * g + 1] = (unsigned char)((q[1] & 0x0f) << 4 | q[2] >> 2);
		b[3 * g + 2] = (unsigned char)((q[2] & 0x03) << 6 | q[3]);
	}
	b[15] = (unsigned char)(v[20] << 2 | v[21] >> 4);
	return true;
}

/* '"', the 64 hex digits of h[32], '"' into s; returns 66. */
static size_t hex_text(const unsigned char *h, char *s)
{
	static const char digits[] = "0123456789abcdef";
	s[0] = '"';
	for (int k = 0; k < 32; k++) {
		s[1 + 2 * k] = digits[h[k] >> 4];
		s[2 + 2 * k] = digits[h[k] & 0x0f];
	}
	s[65] = '"';
	return 66;
}

/* '"', the 22 base64url characters of b[16] (no padding), '"' into s; returns 24. */
static size_t b64_text(const unsigned char *b, char *s)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	s[0] = '"';
	char *p = s + 1;
	for (int g = 0; g < 5; g++) {
		const unsigned char *q = b + 3 * g;
		*p++ = abc[q[0] >> 2];
		*p++ = abc[(q[0] & 0x03) << 4 | q[1] >> 4];
		*p++ = abc[(q[1] & 0x0f) << 2 | q[2] >> 6];
		*p++ = abc[q[2] & 0x3f];
	}
	*p++ = abc[b[15] >> 2];
	*p++ = abc[(b[15] & 0x03) << 4];
	*p = '"';
	return 24;
}

/* The output buffer: cap bytes at p. Writes past cap only count. */
struct out {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct out *o, const void *b, size_t n)
{
	if (n && o->n + n <= o->cap)
		memcpy(o->p + o->n, b, n);
	o->n += n;
}

static void put1(struct out *o, unsigned char c)
{
	put(o, &c, 1);
}

static size_t pack_v1(const char *t, size_t len, struct out *o)
{
	pthread_once(&words_once, words_index);
	put1(o, 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x20)
			return 0; /* not canonical text: version 0 */
		unsigned char h[32];
		if (c == '"' && i + 65 < len && t[i + 65] == '"' && hex32(t + i + 1, h)) {
			put1(o, OP_HEX);
			put(o, h, 32);
			i += 66;
			continue;
		}
		if (c == '"' && i + 23 < len && t[i + 23] == '"' && b64_16(t + i + 1, h)) {
			put1(o, OP_B64);
			put(o, h, 16);
			i += 24;
			continue;
		}
		/* every word starts with a quote: compare its second byte first */
		size_t best = NWORDS, blen = 0;
		size_t w0 = c == '"' && i + 1 < len ? word_first[(unsigned char)t[i + 1]] : NWORDS;
		for (size_t w = w0; w < NWORDS; w = word_next[w])
			if (pack_words[w].n > blen && pack_words[w].n <= len - i &&
			    memcmp(pack_words[w].s, t + i, pack_words[w].n) == 0)
				best = w, blen = pack_words[w].n;
		if (best < NWORDS && blen > (best < WORD1_N ? 1u : 2u)) {
			if (best < WORD1_N) {
				put1(o, (unsigned char)(OP_WORD1 + best));
			} else {
				put1(o, OP_WORD);
				put1(o, (unsigned char)(best - WORD1_N));
			}
			i += blen;
			continue;
		}
		if (c >= '1' && c <= '9') {
			size_t k = i;
			uint64_t v = 0;
			while (k < len && k - i < 19 && t[k] >= '0' && t[k] <= '9')
				v = v * 10 + (uint64_t)(t[k++] - '0');
			if (k - i >= 3 && (k == len || t[k] < '0' || t[k] > '9')) {
				put1(o, OP_UINT);
				do {
					put1(o, (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
					v >>= 7;
				} while (v);
				i = k;
				continue;
			}
		}
		put1(o, c);
		i++;
	}
	return o->n;
}

int ledger_leaf_pack(struct arena *a, const char *text, size_t len, const unsigned char **out, size_t *outlen)
{
	/* the packed form is never longer than the text plus one byte when it is worth it */
	unsigned char *buf = arena_alloc(a, len + 1);
	struct out o = { buf, 0, len + 1 };
	size_t n = pack_v1(text, len, &o);
	if (n && n <= len) {
		/* kept only when it gives the text back */
		const char *back;
		size_t blen;
		if (ledger_leaf_unpack(a, buf, n, &back, &blen) == 0 && blen == len && memcmp(back, text, len) == 0) {
			*out = buf;
			*outlen = n;
			return 0;
		}
	}
	buf[0] = 0;
	memcpy(buf + 1, text, len);
	*out = buf;
	*outlen = len + 1;
	return 0;
}

/* Version 1's text of b[1..n) into o (counted only past o->cap). GH_EINVAL when malformed or
 * longer than LEDGER_LEAF_MAX. */
static int unpack_v1(const unsigned char *b, size_t n, struct out *o)
{
	for (size_t i = 1; i < n && o->n <= LEDGER_LEAF_MAX;) {
		unsigned char c = b[i++];
		if (c >= 0x20) {
			put1(o, c);
		} else if (c == OP_HEX || c == OP_B64) {
			size_t bl = c == OP_HEX ? 32 : 16;
			if (n - i < bl)
				return GH_EINVAL;
			char s[66];
			size_t sl = c == OP_HEX ? hex_text(b + i, s) : b64_text(b + i, s);
			put(o, s, sl);
			i += bl;
		} else if (c == OP_UINT) {
			uint64_t v = 0;
			unsigned shift = 0;
			for (;;) {
				if (i == n || shift > 63)
					return GH_EINVAL;
				unsigned char x = b[i++];
				if (shift == 63 && (x & 0x7e))
					return GH_EINVAL; /* more than 64 bits */
				v |= (uint64_t)(x & 0x7f) << shift;
				if (!(x & 0x80)) {
					if (x == 0 && shift)
						return GH_EINVAL; /* a needless continuation: one value, one form */
					break;
				}
				shift += 7;
			}
			char d[21];
			size_t k = sizeof(d);
			do
				d[--k] = (char)('0' + v % 10);
			while (v /= 10);
			put(o, d + k, sizeof(d) - k);
		} else if (c == OP_WORD || c >= OP_WORD1) {
			size_t w = (size_t)c - OP_WORD1;
			if (c == OP_WORD) {
				if (i == n)
					return GH_EINVAL;
				w = WORD1_N + b[i++];
			}
			if (w >= NWORDS)
				return GH_EINVAL;
			put(o, pack_words[w].s, pack_words[w].n);
		} else {
			return GH_EINVAL;
		}
	}
	return o->n > LEDGER_LEAF_MAX ? GH_EINVAL : 0;
}

int ledger_leaf_unpack(struct arena *a, const unsigned char *b, size_t n, const char **text, size_t *len)
{
	if (n == 0 || b[0] > 1)
		return GH_EINVAL;
	if (b[0] == 0) {
		if (n - 1 > LEDGER_LEAF_MAX || memchr(b + 1, 0, n - 1))
			return GH_EINVAL;
		char *t = arena_alloc(a, n);
		memcpy(t, b + 1, n - 1);
		t[n - 1] = 0;
		*text = t;
		*len = n - 1;
		return 0;
	}
	struct out count = { NULL, 0, 0 };
	if (unpack_v1(b, n, &count))
		return GH_EINVAL;
	char *t = arena_alloc(a, count.n + 1);
	struct out o = { (unsigned char *)t, 0, count.n };
	unpack_v1(b, n, &o);
	t[o.n] = 0;
	*text = t;
	*len = o.n;
	return 0;
}

const char *ledger_leaf_cell(struct arena *a, const struct db_rows *rows, size_t r, size_t c)
{
	const char *text;
	size_t len;
	const unsigned char *b = (const unsigned char *)rows->cells[r * rows->ncols + c];
	return b && ledger_leaf_unpack(a, b, rows->lens[r * rows->ncols + c], &text, &len) == 0 ? text : NULL;
}
