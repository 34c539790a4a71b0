/* h1.c: the strict HTTP/1.1 request parser (see h1.h). llhttp's names (HTTP_GET, ...) clash
 * with http/http.h's, so this file speaks of methods by name only.
 *
 * llhttp parses the head (after the line scanner); the body is read here. Content-Length is
 * a count; chunked framing has its own small decoder below, because llhttp 8.1 refuses valid
 * chunk extensions ("3;a=b;c" fails: after an unquoted value it goes back to the chunk
 * size), and extensions must be accepted (RFC 9112 §7.1.1). */
#include "http/h1.h"

#include <llhttp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sb.h"
#include "base/util.h"

/* Buffers larger than this are freed between requests rather than kept for the next. */
#define KEEP_BYTES (64u << 10)
#define MAX_METHOD 32

enum phase { PH_IDLE, PH_HEAD, PH_BODY, PH_TRAILER, PH_DONE, PH_ERROR };

/* The chunked decoder's states (RFC 9112 §7.1). */
enum chunk_state {
	K_SIZE0,      /* the first hex digit of a chunk size */
	K_SIZE,       /* more hex digits */
	K_WS,         /* BWS after the size or an extension: ';' must follow */
	K_NAME0,      /* BWS, then an extension's name */
	K_NAME,
	K_NAME_WS,    /* BWS after a name: '=' or ';' */
	K_VALUE0,     /* BWS, then a token or a quoted string */
	K_TOKEN,
	K_QUOTED,
	K_QUOTED_ESC,
	K_QUOTED_END, /* after the closing quote */
	K_LF,         /* the LF of the chunk line */
	K_DATA,
	K_DATA_CR,
	K_DATA_LF,
};

/* The line scanner's states (head: request line then field lines; trailer: field lines). */
enum scan_state { S_START, S_START_CR, S_RL, S_RL_CR, S_LINE, S_NAME, S_VALUE, S_CR, S_END_CR };

struct scan {
	enum scan_state state;
	unsigned sp;          /* spaces seen in the request line */
	bool prev_sp;
	size_t method_len, target_len;
	char version[9];
	size_t version_len;
	char target[16];      /* the target's first bytes, NUL-terminated */
	size_t bytes;         /* bytes after the request line (leading empty lines included) */
	size_t fields;
	bool line_done;       /* the request line ended well */
	bool stop_at_line;    /* return as soon as it does */
};

struct field_off {
	size_t name, value, value_len;
};

struct h1 {
	llhttp_t p;
	struct h1_limits lim;
	enum phase phase;
	struct scan sc;
	struct sb buf;             /* target, NUL, then each field's name, NUL, value, NUL */
	struct field_off *offs;    /* where each field is in buf */
	size_t noffs, capoffs;
	struct field_off cur;
	bool in_name;
	struct h1_field *fields;   /* pointers into buf, made when the head is complete */
	size_t capfields;
	struct sb body;
	struct h1_request req;
	bool head_done, target_done;
	enum chunk_state ks;
	uint64_t left;             /* Content-Length bytes still due, or the current chunk's */
	size_t line;               /* bytes of the current chunk line */
	int status;
	const char *why;
};

static const char *const served[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };

static bool is_tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && memchr(extra, c, sizeof(extra) - 1));
}

static int fail(struct h1 *h, int status, const char *why)
{
	if (h->phase != PH_ERROR) {
		h->phase = PH_ERROR;
		h->status = status;
		h->why = why;
	}
	return -1;
}

/* ---- the line scanner ---- */

/* Checks the request line's version when its CR arrives. */
static int check_version(struct h1 *h)
{
	struct scan *s = &h->sc;
	const char *v = s->version;
	if (s->version_len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return fail(h, 400, "malformed request line");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return fail(h, 505, "HTTP version not supported");
	return 0;
}

/* Scans up to len bytes of the head or the trailer section. *n = bytes scanned: all of them,
 * or up to and including the LF that ends the section (then *end). 0 or -1 (failed). */
static int scan(struct h1 *h, const unsigned char *d, size_t len, size_t *n, bool *end)
{
	struct scan *s = &h->sc;
	*end = false;
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = d[i];
		if (s->state >= S_LINE || s->state == S_START_CR || (s->state == S_START && c == '\r')) {
			if (++s->bytes > h->lim.max_head) {
				*n = i;
				return fail(h, 431, "request header fields too large");
			}
		}
		switch (s->state) {
		case S_START:
			if (c == '\r') {
				s->state = S_START_CR;
				break;
			}
			s->state = S_RL;
			/* the request line's first byte */
			__attribute__((fallthrough));
		case S_RL:
			if (c == ' ') {
				if (s->prev_sp || s->method_len == 0 || ++s->sp > 2)
					goto bad_line;
				s->prev_sp = true;
				break;
			}
			if (c == '\r') {
				if (s->sp != 2 || s->prev_sp)
					goto bad_line;
				if (check_version(h)) {
					*n = i;
					return -1;
				}
				s->state = S_RL_CR;
				break;
			}
			if (c <= 0x20 || c >= 0x7f)
				goto bad_line;
			s->prev_sp = false;
			if (s->sp == 0) {
				if (!is_tchar(c) || ++s->method_len > MAX_METHOD)
					goto bad_line;
			} else if (s->sp == 1) {
				if (s->target_len < sizeof(s->target) - 1)
					s->target[s->target_len] = (char)c;
				if (++s->target_len > h->lim.max_target) {
					*n = i;
					return fail(h, 414, "request target too long");
				}
			} else {
				if (s->version_len >= sizeof(s->version) - 1)
					goto bad_line;
				s->version[s->version_len++] = (char)c;
			}
			break;
		case S_START_CR:
		case S_RL_CR:
		case S_CR:
			if (c != '\n')
				goto bare_cr;
			if (s->state == S_RL_CR) {
				s->line_done = true;
				if (s->stop_at_line) {
					s->state = S_LINE;
					*n = i + 1;
					return 0;
				}
			}
			s->state = s->state == S_START_CR ? S_START : S_LINE;
			break;
		case S_LINE:
			if (c == '\r') {
				s->state = S_END_CR;
				break;
			}
			if (c == ' ' || c == '\t') {
				*n = i;
				return fail(h, 400, "obsolete line folding or whitespace before a field");
			}
			if (!is_tchar(c)) {
				*n = i;
				return fail(h, 400, c == ':' ? "empty field name" : "invalid field name");
			}
			if (++s->fields > h->lim.max_fields) {
				*n = i;
				return fail(h, 431, "too many header fields");
			}
			s->state = S_NAME;
			break;
		case S_NAME:
			if (c == ':') {
				s->state = S_VALUE;
			} else if (!is_tchar(c)) {
				*n = i;
				return fail(h, 400, c == ' ' || c == '\t' ? "whitespace before a colon"
							  : c == '\r' || c == '\n' ? "field line without a colon"
										   : "invalid field name");
			}
			break;
		case S_VALUE:
			if (c == '\r')
				s->state = S_CR;
			else if (c == '\n')
				goto bare_lf;
			else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				*n = i;
				return fail(h, 400, "control character in a field value");
			}
			break;
		case S_END_CR:
			if (c != '\n')
				goto bare_cr;
			*n = i + 1;
			*end = true;
			return 0;
		}
		continue;
	bad_line:
		*n = i;
		if (c == '\n')
			goto bare_lf;
		return fail(h, 400, "malformed request line");
	bare_cr:
		*n = i;
		return fail(h, 400, "CR not followed by LF");
	bare_lf:
		*n = i;
		return fail(h, 400, "LF without CR");
	}
	*n = i;
	return 0;
}

/* ---- llhttp callbacks ---- */

static struct h1 *of(llhttp_t *p)
{
	return p->data;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	sb_add(&of(p)->buf, at, len);
	return 0;
}

static int on_url_complete(llhttp_t *p)
{
	struct h1 *h = of(p);
	h->req.target_len = h->buf.len;
	sb_addch(&h->buf, 0);
	h->target_done = true;
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct h1 *h = of(p);
	if (!h->in_name) {
		h->in_name = true;
		h->cur.name = h->buf.len;
	}
	sb_add(&h->buf, at, len);
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct h1 *h = of(p);
	if (!h->in_name) /* an empty name: the scanner refuses it first */
		h->cur.name = h->buf.len;
	sb_addch(&h->buf, 0);
	h->in_name = false;
	h->cur.value = h->buf.len;
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	sb_add(&of(p)->buf, at, len);
	return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
	struct h1 *h = of(p);
	/* Optional whitespace around the value is not part of it. */
	size_t a = h->cur.value;
	while (h->buf.len > a && (h->buf.buf[h->buf.len - 1] == ' ' || h->buf.buf[h->buf.len - 1] == '\t'))
		h->buf.len--;
	size_t b = a;
	while (b < h->buf.len && (h->buf.buf[b] == ' ' || h->buf.buf[b] == '\t'))
		b++;
	if (b > a) {
		memmove(h->buf.buf + a, h->buf.buf + b, h->buf.len - b);
		h->buf.len -= b - a;
	}
	h->cur.value_len = h->buf.len - a;
	sb_addch(&h->buf, 0);
	if (h->noffs == h->capoffs) {
		h->capoffs = h->capoffs ? h->capoffs * 2 : 16;
		h->offs = xrealloc(h->offs, h->capoffs * sizeof(*h->offs));
	}
	h->offs[h->noffs++] = h->cur;
	return 0;
}

const char *h1_field(const struct h1 *h, const char *name)
{
	for (size_t i = 0; i < h->req.nfields; i++)
		if (strcasecmp(h->req.fields[i].name, name) == 0)
			return h->req.fields[i].value;
	return NULL;
}

static size_t count_field(const struct h1 *h, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < h->req.nfields; i++)
		n += strcasecmp(h->req.fields[i].name, name) == 0;
	return n;
}

/* Transfer-Encoding (all its fields, in order): chunked, last and once; nothing else. */
static int check_te(struct h1 *h)
{
	size_t n = 0, chunked_at = 0;
	bool other = false;
	for (size_t i = 0; i < h->req.nfields; i++) {
		const struct h1_field *f = &h->req.fields[i];
		if (strcasecmp(f->name, "Transfer-Encoding") != 0)
			continue;
		const char *p = f->value, *end = f->value + f->value_len;
		while (p <= end) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			const char *e = comma ? comma : end;
			const char *a = p, *b = e;
			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			if (a < b) {
				/* A coding is a token, possibly with parameters: none of ours take any. */
				const char *semi = memchr(a, ';', (size_t)(b - a));
				const char *ne = semi ? semi : b;
				while (ne > a && (ne[-1] == ' ' || ne[-1] == '\t'))
					ne--;
				if (ne == a)
					return fail(h, 400, "malformed Transfer-Encoding");
				for (const char *c = a; c < ne; c++)
					if (!is_tchar((unsigned char)*c))
						return fail(h, 400, "malformed Transfer-Encoding");
				n++;
				if (ne - a == 7 && strncasecmp(a, "chunked", 7) == 0 && !semi) {
					if (chunked_at)
						return fail(h, 400, "chunked applied more than once");
					chunked_at = n;
				} else {
					other = true;
				}
			}
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	if (!n)
		return fail(h, 400, "empty Transfer-Encoding");
	if (chunked_at != n)
		return fail(h, 400, "chunked is not the final transfer coding");
	if (other)
		return fail(h, 501, "transfer coding not supported");
	return 0;
}

static int check_head(struct h1 *h)
{
	struct h1_request *q = &h->req;
	/* Pointers into buf are stable from here: trailer fields are not stored. */
	if (h->noffs > h->capfields) {
		h->capfields = h->noffs;
		h->fields = xrealloc(h->fields, h->capfields * sizeof(*h->fields));
	}
	for (size_t i = 0; i < h->noffs; i++)
		h->fields[i] = (struct h1_field){ h->buf.buf + h->offs[i].name, h->buf.buf + h->offs[i].value,
						  h->offs[i].value_len };
	q->fields = h->fields;
	q->nfields = h->noffs;
	q->target = h->buf.buf;
	q->minor = h->p.http_minor;
	q->method = NULL;
	const char *m = llhttp_method_name(h->p.method);
	for (size_t i = 0; i < ARRAY_LEN(served); i++)
		if (strcmp(m, served[i]) == 0)
			q->method = served[i];
	if (!q->method)
		return fail(h, 501, "method not implemented");

	size_t hosts = count_field(h, "Host");
	if (hosts > 1 || (hosts == 0 && q->minor == 1))
		return fail(h, 400, hosts ? "more than one Host" : "no Host");
	static const char *const single[] = { "Content-Length", "Content-Type", "Authorization" };
	for (size_t i = 0; i < ARRAY_LEN(single); i++)
		if (count_field(h, single[i]) > 1)
			return fail(h, 400, "a field that must appear once appears twice");

	bool te = count_field(h, "Transfer-Encoding") > 0;
	if (te) {
		if (q->minor == 0)
			return fail(h, 400, "Transfer-Encoding in HTTP/1.0");
		if (h->p.flags & F_CONTENT_LENGTH)
			return fail(h, 400, "both Content-Length and Transfer-Encoding");
		if (check_te(h))
			return -1;
	}
	q->chunked = te;
	q->content_length = (h->p.flags & F_CONTENT_LENGTH) ? h->p.content_length : 0;
	if (q->content_length > h->lim.max_body)
		return fail(h, 413, "body larger than allowed");
	q->has_body = q->chunked || q->content_length > 0;

	const char *expect = h1_field(h, "Expect");
	if (expect) {
		if (strcasecmp(expect, "100-continue") != 0 || count_field(h, "Expect") > 1)
			return fail(h, 417, "unsupported expectation");
		q->expect_continue = q->minor == 1;
	}
	return 0;
}

static int on_headers_complete(llhttp_t *p)
{
	struct h1 *h = of(p);
	if (check_head(h))
		return -1;
	/* Any Upgrade is ignored: the request is answered, and the connection closed. */
	h->req.keep_alive = llhttp_should_keep_alive(p) && !h1_field(h, "Upgrade");
	h->head_done = true;
	return HPE_PAUSED; /* llhttp's part ends here; the body is read below */
}

/* Callbacks not named are NULL (what llhttp_settings_init sets); read-only, so shared by
 * every parser on every thread. */
static const llhttp_settings_t settings = {
	.on_url = on_url,
	.on_url_complete = on_url_complete,
	.on_header_field = on_header_field,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value = on_header_value,
	.on_header_value_complete = on_header_value_complete,
	.on_headers_complete = on_headers_complete,
};

/* ---- the parser ---- */

static void reset(struct h1 *h)
{
	llhttp_init(&h->p, HTTP_REQUEST, &settings);
	h->p.data = h;
	h->phase = PH_IDLE;
	h->head_done = false;
	h->ks = K_SIZE0;
	h->left = 0;
	h->line = 0;
	memset(&h->sc, 0, sizeof(h->sc));
	if (h->buf.alloc > KEEP_BYTES)
		sb_release(&h->buf);
	sb_reset(&h->buf);
	if (h->body.alloc > KEEP_BYTES)
		sb_release(&h->body);
	sb_reset(&h->body);
	h->noffs = 0;
	h->in_name = false;
	memset(&h->req, 0, sizeof(h->req));
	h->target_done = false;
	h->status = 0;
	h->why = NULL;
}

struct h1 *h1_new(const struct h1_limits *lim)
{
	struct h1 *h = xcalloc(1, sizeof(*h));
	h->lim = *lim;
	h->buf = (struct sb)SB_INIT;
	h->body = (struct sb)SB_INIT;
	reset(h);
	return h;
}

void h1_free(struct h1 *h)
{
	if (!h)
		return;
	sb_release(&h->buf);
	sb_release(&h->body);
	free(h->offs);
	free(h->fields);
	free(h);
}

void h1_next(struct h1 *h)
{
	reset(h);
}

bool h1_started(const struct h1 *h)
{
	return h->phase != PH_IDLE;
}

bool h1_in_body(const struct h1 *h)
{
	return h->phase == PH_BODY || h->phase == PH_TRAILER;
}

const struct h1_request *h1_request(const struct h1 *h)
{
	return &h->req;
}

const char *h1_target(const struct h1 *h)
{
	if (h->target_done)
		return h->buf.buf;
	/* Refused before llhttp read the line: what the scanner saw of the target. */
	return h->sc.target_len ? h->sc.target : NULL;
}

int h1_error(const struct h1 *h, const char **why)
{
	if (why)
		*why = h->why;
	return h->phase == PH_ERROR ? h->status : 0;
}

static int llhttp_status(llhttp_errno_t e)
{
	switch (e) {
	case HPE_INVALID_METHOD:
		return 501; /* a token, but no method we know (the scanner refuses non-tokens) */
	case HPE_INVALID_VERSION:
		return 505;
	default:
		return 400;
	}
}

static bool is_hex(unsigned char c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = c - '0';
	else if (c >= 'a' && c <= 'f')
		*v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		*v = c - 'A' + 10;
	else
		return false;
	return true;
}

/* After a chunk's size, an extension's value or its closing quote: another extension, space
 * before one, or the end of the line. False for anything else. */
static bool chunk_line_next(struct h1 *h, unsigned char c)
{
	if (c == ';')
		h->ks = K_NAME0;
	else if (c == ' ' || c == '\t')
		h->ks = K_WS;
	else if (c == '\r')
		h->ks = K_LF;
	else
		return false;
	return true;
}

/* Decodes chunked framing from d; *n = bytes consumed. Returns 0 (need more, or *last when
 * the last chunk's line ended: the trailer section follows) or -1. */
static int dechunk(struct h1 *h, const unsigned char *d, size_t len, size_t *n, bool *last)
{
	*last = false;
	size_t i = 0;
	while (i < len) {
		unsigned char c = d[i];
		if (h->ks == K_DATA) {
			size_t k = len - i < h->left ? len - i : (size_t)h->left;
			sb_add(&h->body, d + i, k);
			i += k;
			h->left -= k;
			if (!h->left)
				h->ks = K_DATA_CR;
			continue;
		}
		i++;
		if (h->ks <= K_LF && ++h->line > h->lim.max_head) {
			*n = i;
			return fail(h, 400, "chunk line too long");
		}
		unsigned v;
		switch (h->ks) {
		case K_SIZE0:
		case K_SIZE:
			if (is_hex(c, &v)) {
				if (h->left > (h->lim.max_body - h->body.len) >> 4) {
					*n = i;
					return fail(h, 413, "body larger than allowed");
				}
				h->left = h->left * 16 + v;
				h->ks = K_SIZE;
				break;
			}
			if (h->ks == K_SIZE0)
				goto bad;
			if (h->left > h->lim.max_body - h->body.len) {
				*n = i;
				return fail(h, 413, "body larger than allowed");
			}
			if (!chunk_line_next(h, c))
				goto bad;
			break;
		case K_WS:
			if (c == ';')
				h->ks = K_NAME0;
			else if (c != ' ' && c != '\t')
				goto bad;
			break;
		case K_NAME0:
			if (is_tchar(c))
				h->ks = K_NAME;
			else if (c != ' ' && c != '\t')
				goto bad;
			break;
		case K_NAME:
		case K_NAME_WS:
			if (h->ks == K_NAME && is_tchar(c))
				break;
			if (c == '=')
				h->ks = K_VALUE0;
			else if (c == ';')
				h->ks = K_NAME0;
			else if (c == ' ' || c == '\t')
				h->ks = K_NAME_WS;
			else if (c == '\r' && h->ks == K_NAME)
				h->ks = K_LF;
			else
				goto bad;
			break;
		case K_VALUE0:
			if (c == '"')
				h->ks = K_QUOTED;
			else if (is_tchar(c))
				h->ks = K_TOKEN;
			else if (c != ' ' && c != '\t')
				goto bad;
			break;
		case K_TOKEN:
		case K_QUOTED_END:
			if (h->ks == K_TOKEN && is_tchar(c))
				break;
			if (!chunk_line_next(h, c))
				goto bad;
			break;
		case K_QUOTED:
			if (c == '"')
				h->ks = K_QUOTED_END;
			else if (c == '\\')
				h->ks = K_QUOTED_ESC;
			else if (c != '\t' && (c < 0x20 || c == 0x7f))
				goto bad;
			break;
		case K_QUOTED_ESC:
			if (c != '\t' && (c < 0x20 || c == 0x7f))
				goto bad;
			h->ks = K_QUOTED;
			break;
		case K_LF:
			if (c != '\n')
				goto bad;
			h->line = 0;
			if (!h->left) {
				*n = i;
				*last = true;
				return 0;
			}
			h->ks = K_DATA;
			break;
		case K_DATA_CR:
			if (c != '\r')
				goto bad;
			h->ks = K_DATA_LF;
			break;
		case K_DATA_LF:
			if (c != '\n')
				goto bad;
			h->ks = K_SIZE0;
			break;
		case K_DATA:
			break;
		}
	}
	*n = i;
	return 0;
bad:
	*n = i;
	return fail(h, 400, "malformed chunked body");
}

static enum h1_status done(struct h1 *h)
{
	h->req.body = h->body.buf;
	h->req.body_len = h->body.len;
	h->phase = PH_DONE;
	return H1_DONE;
}

enum h1_status h1_feed(struct h1 *h, const char *data, size_t len, size_t *used)
{
	static const char none[1];
	size_t off = 0;
	*used = 0;
	if (!data)
		data = none, len = 0;
	if (h->phase == PH_ERROR)
		return H1_ERROR;
	if (h->phase == PH_DONE)
		return H1_DONE;
	for (;;) {
		size_t n = len - off;
		bool end = false;
		switch (h->phase) {
		case PH_IDLE:
			if (!n) {
				*used = off;
				return H1_MORE;
			}
			h->phase = PH_HEAD;
			continue;
		case PH_HEAD: {
			if (h->sc.stop_at_line) {
				/* llhttp knows no such method: whether that is a 501 (a well-formed
				 * request with a method we do not implement) or a 400 depends on the rest
				 * of the request line, which only the scanner reads now. */
				int rc = scan(h, (const unsigned char *)data + off, n, &n, &end);
				*used = off + n;
				if (rc)
					return H1_ERROR;
				if (h->sc.line_done)
					return fail(h, 501, "method not implemented"), H1_ERROR;
				return H1_MORE;
			}
			if (scan(h, (const unsigned char *)data + off, n, &n, &end)) {
				/* llhttp reads the good bytes before the bad one: for the target (an error
				 * under /api/ answers in JSON), and because an error it finds there comes
				 * first in the stream. The earliest error decides, so the verdict does not
				 * depend on how the bytes were cut into reads; an unknown method only once
				 * the request line is known to be well formed. */
				llhttp_errno_t e = n ? llhttp_execute(&h->p, data + off, n) : HPE_OK;
				if (e != HPE_OK && e != HPE_PAUSED && (e != HPE_INVALID_METHOD || h->sc.line_done)) {
					h->status = llhttp_status(e);
					h->why = llhttp_get_error_reason(&h->p);
				}
				*used = off + n;
				return H1_ERROR;
			}
			llhttp_errno_t e = llhttp_execute(&h->p, data + off, n);
			if (e == HPE_INVALID_METHOD && !h->sc.line_done) {
				h->sc.stop_at_line = true; /* the verdict waits for the end of the line */
				off += n;
				*used = off;
				return H1_MORE;
			}
			if (e == HPE_PAUSED && h->head_done) {
				size_t consumed = (size_t)(llhttp_get_error_pos(&h->p) - (data + off));
				off += consumed;
				*used = off;
				if (!end || consumed != n)
					return fail(h, 400, "malformed head"), H1_ERROR;
				h->phase = PH_BODY;
				h->left = h->req.chunked ? 0 : h->req.content_length;
				return H1_HEAD;
			}
			if (e != HPE_OK) {
				fail(h, llhttp_status(e), llhttp_get_error_reason(&h->p));
				*used = off + n;
				return H1_ERROR;
			}
			off += n;
			*used = off;
			if (end) /* the scanner saw the head end where llhttp did not */
				return fail(h, 400, "malformed head"), H1_ERROR;
			return H1_MORE;
		}
		case PH_BODY:
			if (!h->req.chunked) {
				size_t k = n < h->left ? n : (size_t)h->left;
				sb_add(&h->body, data + off, k);
				off += k;
				h->left -= k;
				*used = off;
				return h->left ? H1_MORE : done(h);
			} else {
				bool last;
				int rc = dechunk(h, (const unsigned char *)data + off, n, &n, &last);
				off += n;
				*used = off;
				if (rc)
					return H1_ERROR;
				if (!last)
					return H1_MORE;
				h->phase = PH_TRAILER;
				memset(&h->sc, 0, sizeof(h->sc));
				h->sc.state = S_LINE;
				continue;
			}
		case PH_TRAILER:
			if (scan(h, (const unsigned char *)data + off, n, &n, &end)) {
				*used = off + n;
				return H1_ERROR;
			}
			off += n;
			*used = off;
			return end ? done(h) : H1_MORE;
		case PH_DONE:
		case PH_ERROR:
			break;
		}
		*used = off;
		return h->phase == PH_DONE ? H1_DONE : H1_ERROR;
	}
}
