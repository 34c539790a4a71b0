/* compress.c: content codings (see compress.h): the Accept-Encoding and If-None-Match
 * parsers, the choice of a coding, and gzip (zlib) and Brotli (libbrotlienc) one-shot. */
#include "http/compress.h"

#include <brotli/encode.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "base/err.h"

/* Levels: fast for a body compressed for one answer (or a cached one until its strong copy is
 * made); best for a body made once and served many times. Brotli 5 is as fast as gzip 5 and
 * smaller; 10 is the smallest worth its time (11 saves ~1% more at 3-4x the time; 7-9 save
 * nothing over 5 on pages of this size). */
#define GZIP_FAST 5
#define GZIP_BEST 9
#define BR_FAST 5
#define BR_BEST 10

/* RFC 9110 §5.6.2 tchar. */
static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if not. */
static int qvalue(const char *s, size_t n)
{
	if (n == 0 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.') || n > 5)
		return -1;
	int q = (s[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static bool is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* One element `token *( OWS ";" OWS name "=" value )` at v[*i..]; its weight in *q (1000
 * without q). False when it is malformed: *i is then at the next comma or the end. */
static bool element(const char *v, size_t len, size_t *i, size_t *t0, size_t *tlen, int *q)
{
	size_t j = *i;
	*t0 = j;
	while (j < len && tchar(v[j]))
		j++;
	*tlen = j - *t0;
	*q = 1000;
	bool ok = *tlen > 0;
	while (ok) {
		while (j < len && ows(v[j]))
			j++;
		if (j == len || v[j] == ',')
			break;
		if (v[j] != ';') {
			ok = false;
			break;
		}
		j++;
		while (j < len && ows(v[j]))
			j++;
		size_t p0 = j;
		while (j < len && tchar(v[j]))
			j++;
		size_t plen = j - p0;
		if (!plen || j == len || v[j] != '=') {
			ok = false;
			break;
		}
		size_t a0 = ++j;
		while (j < len && tchar(v[j]))
			j++;
		if (is(v + p0, plen, "q") && (*q = qvalue(v + a0, j - a0)) < 0)
			ok = false;
	}
	while (j < len && v[j] != ',')
		j++;
	*i = j;
	return ok;
}

void accept_enc_parse(const char *v, size_t len, struct accept_enc *out)
{
	memset(out, 0, sizeof(*out));
	if (!v) {
		out->q[CODING_IDENTITY] = 1000;
		return;
	}
	int q[CODING_N] = { -1, -1, -1 }, star = -1;
	size_t i = 0;
	while (i < len) {
		while (i < len && (ows(v[i]) || v[i] == ','))
			i++;
		if (i == len)
			break;
		size_t t0, tlen;
		int w;
		if (!element(v, len, &i, &t0, &tlen, &w))
			continue;
		const char *t = v + t0;
		int *slot = is(t, tlen, "gzip") || is(t, tlen, "x-gzip") ? &q[CODING_GZIP]
			    : is(t, tlen, "br")                          ? &q[CODING_BR]
			    : is(t, tlen, "identity")                    ? &q[CODING_IDENTITY]
			    : is(t, tlen, "*")                           ? &star
									 : NULL;
		if (slot && *slot < 0) /* the first mention of a coding counts */
			*slot = w;
	}
	for (int c = 0; c < CODING_N; c++)
		out->q[c] = (unsigned short)(q[c] >= 0 ? q[c] : star >= 0 ? star : c == CODING_IDENTITY ? 1 : 0);
}

enum coding accept_enc_choose(const struct accept_enc *a, bool worth)
{
	static const enum coding pref[] = { CODING_BR, CODING_GZIP, CODING_IDENTITY };
	bool refused = a->q[CODING_IDENTITY] == 0;
	enum coding best = CODING_IDENTITY;
	unsigned bq = 0;
	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++) {
		enum coding c = pref[i];
		if (c != CODING_IDENTITY && !worth && !refused)
			continue;
		if (a->q[c] > bq) {
			best = c;
			bq = a->q[c];
		}
	}
	return best;
}

const char *coding_name(enum coding c)
{
	return c == CODING_GZIP ? "gzip" : c == CODING_BR ? "br" : NULL;
}

bool compress_type_ok(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n && ows(ct[n - 1]))
		n--;
	static const char *const types[] = {
		"application/json", "application/javascript", "application/x-javascript", "application/ecmascript",
		"application/xml",  "application/yaml",       "image/svg+xml",
	};
	if (n > 5 && strncasecmp(ct, "text/", 5) == 0)
		return !is(ct, n, "text/event-stream");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (is(ct, n, types[i]))
			return true;
	const char *slash = memchr(ct, '/', n);
	return slash && n >= 5 &&
	       (strncasecmp(ct + n - 5, "+json", 5) == 0 || (strncasecmp(ct + n - 4, "+xml", 4) == 0));
}

static int gzip_buf(bool best, const void *in, size_t len, struct sb *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (len > UINT_MAX / 2)
		return GH_EINTERNAL;
	/* 15 + 16: a gzip wrapper with no name and time 0 */
	if (deflateInit2(&z, best ? GZIP_BEST : GZIP_FAST, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return GH_EINTERNAL;
	uLong bound = deflateBound(&z, (uLong)len);
	sb_grow(out, bound);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->buf + out->len;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	size_t made = bound - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		out->buf[out->len] = 0;
		return GH_EINTERNAL;
	}
	out->len += made;
	out->buf[out->len] = 0;
	return 0;
}

static int br_buf(bool best, const void *in, size_t len, struct sb *out)
{
	size_t bound = BrotliEncoderMaxCompressedSize(len);
	if (!bound)
		return GH_EINTERNAL;
	sb_grow(out, bound);
	size_t made = bound;
	if (!BrotliEncoderCompress(best ? BR_BEST : BR_FAST, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, len, in, &made,
				   (uint8_t *)out->buf + out->len)) {
		out->buf[out->len] = 0;
		return GH_EINTERNAL;
	}
	out->len += made;
	out->buf[out->len] = 0;
	return 0;
}

int compress_buf(enum coding c, bool best, const void *in, size_t len, struct sb *out)
{
	switch (c) {
	case CODING_GZIP: return gzip_buf(best, in, len, out);
	case CODING_BR: return br_buf(best, in, len, out);
	default: return GH_EINTERNAL;
	}
}

const char *etag_variant(const char *etag, enum coding c, char *buf, size_t buflen)
{
	size_t n = strlen(etag);
	const char *suffix = c == CODING_GZIP ? "-gz" : c == CODING_BR ? "-br" : NULL;
	if (!suffix || n < 2 || etag[n - 1] != '"' || n + 4 > buflen)
		return etag;
	memcpy(buf, etag, n - 1);
	memcpy(buf + n - 1, suffix, 3);
	buf[n + 2] = '"';
	buf[n + 3] = 0;
	return buf;
}

/* The opaque tag of an entity tag (W/ dropped): its bytes between the quotes. */
static bool opaque(const char *s, size_t n, const char **tag, size_t *tlen)
{
	if (n >= 2 && s[0] == 'W' && s[1] == '/')
		s += 2, n -= 2;
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return false;
	*tag = s + 1;
	*tlen = n - 2;
	return memchr(*tag, '"', *tlen) == NULL;
}

bool etag_list_match(const char *list, size_t len, const char *etag)
{
	const char *want;
	size_t wlen;
	if (!list || !etag || !opaque(etag, strlen(etag), &want, &wlen))
		return false;
	size_t i = 0;
	while (i < len) {
		while (i < len && (ows(list[i]) || list[i] == ','))
			i++;
		if (i == len)
			break;
		if (list[i] == '*')
			return true;
		size_t s = i;
		if (len - i >= 2 && list[i] == 'W' && list[i + 1] == '/')
			i += 2;
		if (i == len || list[i] != '"')
			return false;
		const char *close = memchr(list + i + 1, '"', len - i - 1);
		if (!close)
			return false;
		i = (size_t)(close - list) + 1;
		const char *tag;
		size_t tlen;
		if (opaque(list + s, i - s, &tag, &tlen) && tlen == wlen && memcmp(tag, want, wlen) == 0)
			return true;
	}
	return false;
}
