/* Strict decoders for the parts of a request a client controls: paths, query strings and
 * urlencoded forms, cookies. Each has a fuzz target in tests/fuzz. */
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "http/http.h"

/* Percent-decodes [s, s+len) into arena; plus_space turns '+' into ' '. */
static int pct_decode(struct arena *a, const char *s, size_t len, bool plus_space, char **out,
		      size_t *outlen)
{
	char *d = arena_alloc(a, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return GH_EINVAL;
			int hi = str_hexval(s[i + 1]), lo = str_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return GH_EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		d[n++] = c;
	}
	d[n] = 0;
	if (!str_utf8_valid(d, n)) /* also rejects NUL */
		return GH_EINVAL;
	*out = d;
	if (outlen)
		*outlen = n;
	return 0;
}

/* Empties out, counts the sep-separated pairs of s against max_pairs and allocates room for
 * them (out->v stays NULL for empty input). */
static int kv_prepare(struct arena *a, const char *s, size_t len, char sep, size_t max_pairs,
		      struct kvlist *out)
{
	out->v = NULL;
	out->n = 0;
	if (!s || len == 0)
		return 0;
	size_t pairs = 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] == sep)
			pairs++;
	if (pairs > max_pairs)
		return GH_ETOOBIG;
	out->v = arena_array(a, pairs, sizeof(struct kv));
	return 0;
}

int form_decode(struct arena *a, const char *s, size_t len, size_t max_pairs, struct kvlist *out)
{
	int rc = kv_prepare(a, s, len, '&', max_pairs, out);
	if (rc || !out->v)
		return rc;
	size_t start = 0;
	while (start <= len) {
		const char *amp = memchr(s + start, '&', len - start);
		size_t end = amp ? (size_t)(amp - s) : len;
		if (end > start) {
			const char *eq = memchr(s + start, '=', end - start);
			size_t klen = eq ? (size_t)(eq - (s + start)) : end - start;
			char *k, *v;
			size_t vlen = 0;
			rc = pct_decode(a, s + start, klen, true, &k, NULL);
			if (rc)
				return rc;
			if (eq)
				rc = pct_decode(a, eq + 1, end - start - klen - 1, true, &v, &vlen);
			else
				v = arena_strdup(a, "");
			if (rc)
				return rc;
			out->v[out->n++] = (struct kv){ k, v, vlen };
		}
		if (!amp)
			break;
		start = end + 1;
	}
	return 0;
}

int path_decode(struct arena *a, const char *s, size_t len, char **out)
{
	if (len == 0 || s[0] != '/')
		return GH_EINVAL;
	size_t n;
	int rc = pct_decode(a, s, len, false, out, &n);
	if (rc)
		return rc;
	/* No dot segments and no backslashes: nothing may climb out of a directory. */
	const char *p = *out;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			return GH_EINVAL;
		if (p[i] == '/' && p[i + 1] == '.') {
			size_t j = i + 1;
			while (j < n && p[j] == '.')
				j++;
			if (j == n || p[j] == '/')
				return GH_EINVAL;
		}
	}
	return 0;
}

static bool cookie_octet(unsigned char c)
{
	/* RFC 6265 cookie-octet, plus space tolerated inside values some clients send. */
	return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
	       (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

static bool token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7F && !strchr("()<>@,;:\\\"/[]?={}", c);
}

int cookie_parse(struct arena *a, const char *s, size_t len, size_t max_pairs, struct kvlist *out)
{
	int rc = kv_prepare(a, s, len, ';', max_pairs, out);
	if (rc || !out->v)
		return rc;
	size_t i = 0;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		size_t ks = i;
		while (i < len && token_char((unsigned char)s[i]))
			i++;
		size_t ke = i;
		if (i >= len || s[i] != '=' || ke == ks) {
			/* Not a name=value pair: skip to the next ';' (browsers send junk too). */
			while (i < len && s[i] != ';')
				i++;
			i++;
			continue;
		}
		i++; /* '=' */
		bool quoted = i < len && s[i] == '"';
		if (quoted)
			i++;
		size_t vs = i;
		while (i < len && cookie_octet((unsigned char)s[i]))
			i++;
		size_t ve = i;
		if (quoted) {
			if (i < len && s[i] == '"')
				i++;
			else
				ve = vs = i; /* unterminated quote: drop the value */
		}
		bool ok = i >= len || s[i] == ';' || s[i] == ' ' || s[i] == '\t';
		while (i < len && s[i] != ';')
			i++;
		i++;
		if (!ok)
			continue;
		out->v[out->n++] = (struct kv){ arena_strndup(a, s + ks, ke - ks),
						arena_strndup(a, s + vs, ve - vs), ve - vs };
	}
	return 0;
}

const char *kv_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}
