/* multipart.c: multipart/form-data (RFC 7578 over RFC 2046), parsed in place.
 *
 * Shape of a body, with D = "--" boundary:
 *   preamble (ignored) CRLF D [LWSP] CRLF headers CRLF CRLF data CRLF D [LWSP] CRLF ... CRLF D "--" epilogue
 * (the first D may also start the body). A "CRLF D" not followed by "--" or by optional
 * spaces and CRLF is part of the data, as in Go's mime/multipart.
 *
 * Line endings: CRLF only. RFC 2046 and RFC 7578 require CRLF and every browser, curl and
 * HTTP library sends it; a body with bare LF line breaks is refused (GH_EINVAL, "no
 * boundary"): accepting both would make it ambiguous whether an LF before the delimiter
 * belongs to binary file data.
 *
 * Nothing here reads outside [body, body+len): every scan is bounded by len (memmem, memchr,
 * explicit checks), and the body need not be NUL-terminated.
 */
#include "http/multipart.h"

#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"

#define BOUNDARY_MAX 70 /* RFC 2046 */

/* ---- small lexical helpers ---- */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_tchar(unsigned char c)
{
	/* RFC 9110 token characters. */
	return c > 0x20 && c < 0x7F && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* RFC 2046 bchars (space allowed, not last). */
static bool is_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("'()+_,-./:=? ", c));
}

static bool ieq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static bool boundary_ok(const char *b, size_t n)
{
	if (n == 0 || n > BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_bchar((unsigned char)b[i]))
			return false;
	return true;
}

/* Reads a parameter value at s[*i] (i < end): a quoted-string or a run up to ';' or white
 * space. Quoted strings undo backslash escapes of '"' and '\\' only: old Internet Explorer
 * sends Windows paths with bare backslashes ("C:\Users\a.pdf"), and no generator escapes
 * ordinary characters, so "\U" keeps its backslash (Go's mime package does the same).
 * The result is NUL-terminated in the arena (never longer than the input). */
static int param_value(struct arena *a, const char *s, size_t *i, size_t end, char **out, size_t *outlen)
{
	size_t k = *i;
	char *d;
	size_t n = 0;
	if (s[k] == '"') {
		k++;
		d = arena_alloc(a, end - k + 1);
		for (;;) {
			if (k >= end)
				return GH_EINVAL; /* unterminated quoted string */
			char c = s[k];
			if (c == '"') {
				k++;
				break;
			}
			if (c == '\\' && k + 1 < end && (s[k + 1] == '"' || s[k + 1] == '\\')) {
				c = s[k + 1];
				k++;
			}
			d[n++] = c;
			k++;
		}
	} else {
		size_t start = k;
		while (k < end && s[k] != ';' && !is_ows(s[k]))
			k++;
		if (k == start)
			return GH_EINVAL;
		d = arena_alloc(a, k - start + 1);
		memcpy(d, s + start, k - start);
		n = k - start;
	}
	d[n] = 0;
	*i = k;
	*out = d;
	*outlen = n;
	return 0;
}

/* Reads the next "; name=value" of a header's parameter list from s[*i..end). Returns 1 with
 * the name at [*ns, *ne) of s and the value in the arena, 0 at the end of the list, -1 when
 * the list is malformed. */
static int next_param(struct arena *a, const char *s, size_t *pi, size_t end, size_t *ns, size_t *ne, char **v,
		      size_t *vlen)
{
	size_t i = *pi;
	while (i < end && is_ows(s[i]))
		i++;
	if (i >= end)
		return 0;
	if (s[i] != ';')
		return -1;
	i++;
	while (i < end && is_ows(s[i]))
		i++;
	if (i >= end) {
		*pi = i;
		return 0; /* a trailing ';' is tolerated */
	}
	*ns = i;
	while (i < end && is_tchar((unsigned char)s[i]))
		i++;
	*ne = i;
	while (i < end && is_ows(s[i]))
		i++;
	if (*ne == *ns || i >= end || s[i] != '=')
		return -1;
	i++;
	while (i < end && is_ows(s[i]))
		i++;
	if (i >= end || param_value(a, s, &i, end, v, vlen))
		return -1;
	*pi = i;
	return 1;
}

/* ---- boundary from the Content-Type header ---- */

int multipart_boundary(struct arena *a, const char *content_type, const char **boundary)
{
	*boundary = NULL;
	if (!content_type)
		return GH_EUNSUPPORTED;
	const char *s = content_type;
	size_t end = strlen(s), i = 0;
	while (i < end && is_ows(s[i]))
		i++;
	size_t ts = i;
	while (i < end && s[i] != ';' && !is_ows(s[i]))
		i++;
	if (!ieq(s + ts, i - ts, "multipart/form-data"))
		return GH_EUNSUPPORTED;
	char *found = NULL;
	size_t flen = 0;
	for (;;) {
		size_t ns, ne;
		char *v;
		size_t vlen;
		int more = next_param(a, s, &i, end, &ns, &ne, &v, &vlen);
		if (more < 0)
			return GH_EINVAL;
		if (!more)
			break;
		if (ieq(s + ns, ne - ns, "boundary")) {
			if (found)
				return GH_EINVAL; /* two boundaries: which one? */
			found = v;
			flen = vlen;
		}
	}
	if (!found || !boundary_ok(found, flen))
		return GH_EINVAL;
	*boundary = found;
	return 0;
}

/* ---- file names ---- */

/* Length of the UTF-8 sequence starting with byte c (input already validated). */
static size_t u8len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* True for characters a file name shown to staff must not carry: C0 and C1 controls, DEL,
 * and the bidirectional overrides and isolates that make "exe.pdf" look like "fdp.exe". */
static bool bad_char(const unsigned char *p, size_t n)
{
	if (n == 1)
		return p[0] < 0x20 || p[0] == 0x7F;
	if (n == 2)
		return p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
	if (n == 3 && p[0] == 0xE2 && p[1] == 0x80)
		return p[2] >= 0xAA && p[2] <= 0xAE; /* U+202A..U+202E */
	if (n == 3 && p[0] == 0xE2 && p[1] == 0x81)
		return p[2] >= 0xA6 && p[2] <= 0xA9; /* U+2066..U+2069 */
	return false;
}

/* Largest prefix length of [p, p+n) that ends on a character boundary and is <= max. */
static size_t cut_utf8(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	while (k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80)
		k--;
	return k;
}

const char *multipart_filename(struct arena *a, const char *raw, size_t len)
{
	/* Base name only: clients may send a whole path, with either separator. */
	for (size_t i = len; i > 0; i--)
		if (raw[i - 1] == '/' || raw[i - 1] == '\\') {
			raw += i;
			len -= i;
			break;
		}
	if (!str_utf8_valid(raw, len))
		return "file";
	char *d = arena_alloc(a, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		size_t k = u8len((unsigned char)raw[i]);
		if (!bad_char((const unsigned char *)raw + i, k)) {
			memcpy(d + n, raw + i, k);
			n += k;
		}
		i += k;
	}
	/* Spaces at either end are invisible in lists and trip up other systems. */
	size_t s = 0;
	while (s < n && d[s] == ' ')
		s++;
	while (n > s && d[n - 1] == ' ')
		n--;
	memmove(d, d + s, n - s);
	n -= s;
	if (n > MULTIPART_MAX_NAME) {
		/* Keep a short extension (".pdf") and cut the stem on a character boundary. */
		const char *dot = memrchr(d, '.', n);
		size_t ext = dot && dot > d ? n - (size_t)(dot - d) : 0;
		if (ext > 16)
			ext = 0;
		size_t stem = cut_utf8(d, n - ext, MULTIPART_MAX_NAME - ext);
		memmove(d + stem, d + n - ext, ext);
		n = stem + ext;
	}
	d[n] = 0;
	if (n == 0 || strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
		return "file";
	return d;
}

/* Decodes an RFC 8187 ext-value (UTF-8'lang'pct-encoded) in place; NULL when it is not
 * UTF-8 or malformed, in which case the plain filename parameter is used. */
static char *ext_value(char *v, size_t *len)
{
	char *q1 = memchr(v, '\'', *len);
	if (!q1 || !ieq(v, (size_t)(q1 - v), "UTF-8"))
		return NULL;
	char *q2 = memchr(q1 + 1, '\'', *len - (size_t)(q1 + 1 - v));
	if (!q2)
		return NULL;
	char *s = q2 + 1, *end = v + *len, *d = s;
	while (s < end) {
		if (*s == '%') {
			if (end - s < 3 || str_hexval(s[1]) < 0 || str_hexval(s[2]) < 0)
				return NULL;
			*d++ = (char)(str_hexval(s[1]) * 16 + str_hexval(s[2]));
			s += 3;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
	*len = (size_t)(d - (q2 + 1));
	return q2 + 1;
}

/* ---- part headers ---- */

struct disp {
	char *name, *filename, *filename_ext;
	size_t name_len, filename_len, filename_ext_len;
};

static int parse_disposition(struct arena *a, const char *s, size_t end, struct disp *d, const char **why)
{
	size_t i = 0;
	while (i < end && s[i] != ';' && !is_ows(s[i]))
		i++;
	if (!ieq(s, i, "form-data")) {
		*why = "part is not form-data";
		return GH_EINVAL;
	}
	for (;;) {
		size_t ns, ne;
		char *v;
		size_t vlen;
		int more = next_param(a, s, &i, end, &ns, &ne, &v, &vlen);
		if (more < 0)
			goto bad;
		if (!more)
			break;
		char **slot = NULL;
		size_t *slot_len = NULL;
		if (ieq(s + ns, ne - ns, "name"))
			slot = &d->name, slot_len = &d->name_len;
		else if (ieq(s + ns, ne - ns, "filename"))
			slot = &d->filename, slot_len = &d->filename_len;
		else if (ieq(s + ns, ne - ns, "filename*"))
			slot = &d->filename_ext, slot_len = &d->filename_ext_len;
		if (!slot)
			continue; /* unknown parameters are ignored (RFC 7578 4.2) */
		if (*slot) {
			*why = "duplicate Content-Disposition parameter";
			return GH_EINVAL;
		}
		*slot = v;
		*slot_len = vlen;
	}
	return 0;
bad:
	*why = "malformed Content-Disposition";
	return GH_EINVAL;
}

/* Parses the header block [s, s+n) (lines each ending in CRLF) of one part into p. */
static int parse_headers(struct arena *a, const char *s, size_t n, struct multipart_part *p, const char **why)
{
	struct disp d = { 0 };
	bool have_disp = false;
	size_t i = 0;
	while (i < n) {
		const char *crlf = memmem(s + i, n - i, "\r\n", 2);
		size_t le = crlf ? (size_t)(crlf - s) : n; /* callers end the block with CRLF */
		const char *line = s + i;
		size_t ll = le - i;
		i = le + 2;
		if (ll == 0 || is_ows(line[0])) {
			*why = "malformed part header";
			return GH_EINVAL; /* empty lines end the block; folding is obsolete */
		}
		for (size_t k = 0; k < ll; k++) {
			unsigned char c = (unsigned char)line[k];
			if (c == 0) {
				*why = "NUL in part headers";
				return GH_EINVAL;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7F) {
				*why = "control character in part headers";
				return GH_EINVAL;
			}
		}
		const char *colon = memchr(line, ':', ll);
		size_t nl = colon ? (size_t)(colon - line) : 0;
		for (size_t k = 0; k < nl; k++)
			if (!is_tchar((unsigned char)line[k]))
				nl = 0;
		if (nl == 0) {
			*why = "malformed part header";
			return GH_EINVAL;
		}
		size_t vs = nl + 1, ve = ll;
		while (vs < ve && is_ows(line[vs]))
			vs++;
		while (ve > vs && is_ows(line[ve - 1]))
			ve--;
		if (ieq(line, nl, "Content-Disposition")) {
			if (have_disp) {
				*why = "two Content-Disposition headers";
				return GH_EINVAL;
			}
			have_disp = true;
			int rc = parse_disposition(a, line + vs, ve - vs, &d, why);
			if (rc)
				return rc;
		} else if (ieq(line, nl, "Content-Type")) {
			if (p->content_type) {
				*why = "two Content-Type headers";
				return GH_EINVAL;
			}
			p->content_type = arena_strndup(a, line + vs, ve - vs);
		}
		/* Other headers (Content-Transfer-Encoding, ...) are ignored (RFC 7578 4.7). */
	}
	if (!have_disp) {
		*why = "part without Content-Disposition";
		return GH_EINVAL;
	}
	if (!d.name || d.name_len == 0) {
		*why = "part without a name";
		return GH_EINVAL;
	}
	if (d.name_len > MULTIPART_MAX_NAME) {
		*why = "field name too long";
		return GH_ETOOBIG;
	}
	if (!str_utf8_valid(d.name, d.name_len)) {
		*why = "field name is not valid UTF-8";
		return GH_EINVAL;
	}
	p->name = d.name;
	const char *fn = NULL;
	size_t fnl = 0;
	if (d.filename_ext) {
		fnl = d.filename_ext_len;
		fn = ext_value(d.filename_ext, &fnl);
	}
	if (!fn && d.filename)
		fn = d.filename, fnl = d.filename_len;
	if (fn)
		p->filename = multipart_filename(a, fn, fnl);
	else if (d.filename_ext)
		p->filename = "file"; /* a file whose only name we could not decode */
	return 0;
}

/* ---- the body ---- */

/* At body[i] just after "--boundary": true when this is a delimiter line. *closing is set
 * for the close delimiter ("--" follows); otherwise *next is the offset after its CRLF. */
static bool delimiter_end(const char *body, size_t len, size_t i, bool *closing, size_t *next)
{
	if (len - i >= 2 && body[i] == '-' && body[i + 1] == '-') {
		*closing = true;
		return true;
	}
	while (i < len && is_ows(body[i]))
		i++; /* transport padding */
	if (len - i >= 2 && body[i] == '\r' && body[i + 1] == '\n') {
		*closing = false;
		*next = i + 2;
		return true;
	}
	return false;
}

/* Finds the next delimiter "CRLF--boundary" at or after from. Returns its offset (the CR) or
 * len when there is none. */
static size_t find_delimiter(const char *body, size_t len, size_t from, const char *dl, size_t dlen,
			     bool *closing, size_t *next)
{
	while (from < len) {
		const char *m = memmem(body + from, len - from, dl, dlen);
		if (!m)
			return len;
		size_t at = (size_t)(m - body);
		if (delimiter_end(body, len, at + dlen, closing, next))
			return at;
		from = at + 1;
	}
	return len;
}

int multipart_parse(struct arena *a, const char *body, size_t len, const char *boundary, struct multipart *out,
		    const char **why)
{
	const char *ignored;
	if (!why)
		why = &ignored;
	*why = NULL;
	out->parts = NULL;
	out->n = 0;
	size_t blen = boundary ? strlen(boundary) : 0;
	if (!boundary_ok(boundary, blen)) {
		*why = "bad boundary";
		return GH_EINVAL;
	}
	/* dl = CRLF "--" boundary; the first delimiter may also open the body without CRLF. */
	size_t dlen = blen + 4;
	char *dl = arena_alloc(a, dlen + 1);
	memcpy(dl, "\r\n--", 4);
	memcpy(dl + 4, boundary, blen + 1);
	bool closing = false;
	size_t pos = 0;
	if (!(len >= dlen - 2 && memcmp(body, dl + 2, dlen - 2) == 0 &&
	      delimiter_end(body, len, dlen - 2, &closing, &pos))) {
		if (find_delimiter(body, len, 0, dl, dlen, &closing, &pos) == len) {
			*why = "no boundary";
			return GH_EINVAL;
		}
	}
	/* Room for the most parts we accept; cheaper than counting first. */
	out->parts = arena_array(a, MULTIPART_MAX_PARTS, sizeof(struct multipart_part));
	while (!closing) {
		if (out->n == MULTIPART_MAX_PARTS) {
			*why = "too many parts";
			return GH_ETOOBIG;
		}
		/* Headers: up to the empty line, at most MULTIPART_MAX_HEADER bytes. */
		size_t hs = pos, he, ds;
		if (len - pos >= 2 && body[pos] == '\r' && body[pos + 1] == '\n') {
			he = pos;
			ds = pos + 2;
		} else {
			size_t window = len - pos;
			if (window > MULTIPART_MAX_HEADER + 4)
				window = MULTIPART_MAX_HEADER + 4;
			const char *e = memmem(body + pos, window, "\r\n\r\n", 4);
			if (!e) {
				*why = window == len - pos ? "unterminated part headers" : "part headers too large";
				return window == len - pos ? GH_EINVAL : GH_ETOOBIG;
			}
			he = (size_t)(e - body) + 2; /* keep the last header's CRLF */
			ds = he + 2;
			if (he - hs > MULTIPART_MAX_HEADER) {
				*why = "part headers too large";
				return GH_ETOOBIG;
			}
		}
		struct multipart_part *p = &out->parts[out->n];
		int rc = parse_headers(a, body + hs, he - hs, p, why);
		if (rc)
			return rc;
		size_t de = find_delimiter(body, len, ds, dl, dlen, &closing, &pos);
		/* The delimiter may start right at ds (empty data): the CRLF before "--boundary"
		 * then belongs to the delimiter, which find_delimiter handles since it searches
		 * from ds for CRLF "--" boundary. */
		if (de == len) {
			*why = "missing closing boundary";
			return GH_EINVAL;
		}
		p->data = body + ds;
		p->len = de - ds;
		if (!p->filename) {
			if (!str_utf8_valid(p->data, p->len)) {
				*why = "field value is not valid UTF-8";
				return GH_EINVAL;
			}
			p->value = arena_strndup(a, p->data, p->len);
		}
		out->n++;
	}
	return 0;
}

const struct multipart_part *multipart_get(const struct multipart *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->parts[i].name, name) == 0)
			return &m->parts[i];
	return NULL;
}
