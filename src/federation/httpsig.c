/* httpsig.c: HTTP Message Signatures (RFC 9421) with Ed25519 over RFC 8941 structured fields,
 * and Content-Digest (RFC 9530). See httpsig.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/sb.h"
#include "federation/httpsig.h"

/* ---- RFC 8941 parsing ------------------------------------------------------------------------ */

enum sf_type { SF_INT, SF_DEC, SF_STR, SF_TOKEN, SF_BYTES, SF_BOOL };

struct sf_item {
	enum sf_type t;
	int64_t i;        /* SF_INT; SF_DEC: the value times 1000; SF_BOOL: 0 or 1 */
	const char *s;    /* SF_STR (unescaped), SF_TOKEN, SF_BYTES (decoded): in the arena, NUL-ended */
	size_t len;
};

struct sf_param {
	char key[HSIG_NAME_MAX + 1];
	struct sf_item v;
};

struct sf_params {
	size_t n;
	struct sf_param p[HSIG_PARAMS_MAX];
};

struct sf_member {
	char key[HSIG_NAME_MAX + 1];
	bool inner;
	struct sf_item item; /* when !inner */
	size_t nlist;        /* when inner */
	struct sf_item list[HSIG_COMPONENTS_MAX];
	bool list_params;    /* an item of the inner list had parameters */
	struct sf_params params;
};

struct sfp {
	struct arena *a;
	const char *p, *end;
	const char *why;
};

static bool fail(struct sfp *x, const char *why)
{
	if (!x->why)
		x->why = why;
	return false;
}

static bool lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool alpha(char c)
{
	return lcalpha(c) || (c >= 'A' && c <= 'Z');
}

static bool tchar(char c)
{
	return alpha(c) || digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_sp(struct sfp *x)
{
	while (x->p < x->end && *x->p == ' ')
		x->p++;
}

static void skip_ows(struct sfp *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t'))
		x->p++;
}

static bool at(struct sfp *x, char c)
{
	return x->p < x->end && *x->p == c;
}

/* §4.2.3.3 */
static bool parse_key(struct sfp *x, char out[HSIG_NAME_MAX + 1])
{
	if (!(x->p < x->end && (lcalpha(*x->p) || *x->p == '*')))
		return fail(x, "a key must start with a-z or *");
	size_t n = 0;
	while (x->p < x->end && (lcalpha(*x->p) || digit(*x->p) || strchr("_-.*", *x->p))) {
		if (n == HSIG_NAME_MAX)
			return fail(x, "a key is too long");
		out[n++] = *x->p++;
	}
	out[n] = 0;
	return true;
}

/* §4.2.4 */
static bool parse_number(struct sfp *x, struct sf_item *it)
{
	bool neg = false;
	if (at(x, '-')) {
		neg = true;
		x->p++;
	}
	if (!(x->p < x->end && digit(*x->p)))
		return fail(x, "a number has no digits");
	int64_t v = 0;
	size_t nd = 0;
	while (x->p < x->end && digit(*x->p)) {
		if (++nd > 15)
			return fail(x, "an integer has more than 15 digits");
		v = v * 10 + (*x->p++ - '0');
	}
	if (!at(x, '.')) {
		it->t = SF_INT;
		it->i = neg ? -v : v;
		return true;
	}
	if (nd > 12)
		return fail(x, "a decimal has more than 12 integer digits");
	x->p++;
	size_t nf = 0;
	int64_t f = 0;
	while (x->p < x->end && digit(*x->p)) {
		if (++nf > 3)
			return fail(x, "a decimal has more than 3 fractional digits");
		f = f * 10 + (*x->p++ - '0');
	}
	if (nf == 0)
		return fail(x, "a decimal ends with its point");
	for (size_t k = nf; k < 3; k++)
		f *= 10;
	it->t = SF_DEC;
	it->i = (neg ? -1 : 1) * (v * 1000 + f);
	return true;
}

/* §4.2.5 */
static bool parse_string(struct sfp *x, struct sf_item *it)
{
	x->p++; /* '"' */
	const char *start = x->p;
	size_t n = 0;
	for (const char *q = start; q < x->end; q++) {
		if (*q == '"')
			goto found;
		if (*q == '\\')
			q++;
	}
	return fail(x, "a string is not closed");
found:;
	char *out = arena_alloc(x->a, (size_t)(x->end - start) + 1);
	while (x->p < x->end) {
		char c = *x->p++;
		if (c == '"') {
			out[n] = 0;
			it->t = SF_STR;
			it->s = out;
			it->len = n;
			return true;
		}
		if (c == '\\') {
			if (!(x->p < x->end && (*x->p == '"' || *x->p == '\\')))
				return fail(x, "a string escapes something other than \" or \\");
			c = *x->p++;
		} else if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
			return fail(x, "a string holds a character outside printable ASCII");
		out[n++] = c;
	}
	return fail(x, "a string is not closed");
}

/* §4.2.6 */
static bool parse_token(struct sfp *x, struct sf_item *it)
{
	const char *start = x->p++;
	while (x->p < x->end && (tchar(*x->p) || *x->p == ':' || *x->p == '/'))
		x->p++;
	it->t = SF_TOKEN;
	it->len = (size_t)(x->p - start);
	it->s = arena_strndup(x->a, start, it->len);
	return true;
}

static bool b64char(char c)
{
	return alpha(c) || digit(c) || c == '+' || c == '/' || c == '=';
}

/* §4.2.7: strict base64 with padding and zero trailing bits. */
static bool parse_bytes(struct sfp *x, struct sf_item *it)
{
	const char *start = ++x->p;
	while (x->p < x->end && b64char(*x->p))
		x->p++;
	if (!at(x, ':'))
		return fail(x, "a byte sequence is not closed or holds a character outside base64");
	size_t n = (size_t)(x->p - start);
	x->p++;
	unsigned char *out = arena_alloc(x->a, n / 4 * 3 + 3);
	size_t len = 0;
	const char *last = NULL;
	if (n % 4 || sodium_base642bin(out, n / 4 * 3 + 3, start, n, NULL, &len, &last, sodium_base64_VARIANT_ORIGINAL) ||
	    last != start + n)
		return fail(x, "a byte sequence is not base64");
	out[len] = 0;
	it->t = SF_BYTES;
	it->s = (const char *)out;
	it->len = len;
	return true;
}

/* §4.2.3.1 */
static bool parse_bare(struct sfp *x, struct sf_item *it)
{
	if (x->p >= x->end)
		return fail(x, "a value is missing");
	char c = *x->p;
	if (c == '-' || digit(c))
		return parse_number(x, it);
	if (c == '"')
		return parse_string(x, it);
	if (c == '*' || alpha(c))
		return parse_token(x, it);
	if (c == ':')
		return parse_bytes(x, it);
	if (c == '?') {
		x->p++;
		if (!(x->p < x->end && (*x->p == '0' || *x->p == '1')))
			return fail(x, "a boolean is neither ?0 nor ?1");
		it->t = SF_BOOL;
		it->i = *x->p++ == '1';
		return true;
	}
	return fail(x, "a value of an unknown type");
}

/* §4.2.3.2; a repeated key keeps the last value. */
static bool parse_params(struct sfp *x, struct sf_params *ps)
{
	ps->n = 0;
	while (at(x, ';')) {
		x->p++;
		skip_sp(x);
		struct sf_param p = { .v = { .t = SF_BOOL, .i = 1 } };
		if (!parse_key(x, p.key))
			return false;
		if (at(x, '=')) {
			x->p++;
			if (!parse_bare(x, &p.v))
				return false;
		}
		size_t k = 0;
		while (k < ps->n && strcmp(ps->p[k].key, p.key))
			k++;
		if (k == ps->n) {
			if (ps->n == HSIG_PARAMS_MAX)
				return fail(x, "too many parameters");
			ps->n++;
		}
		ps->p[k] = p;
	}
	return true;
}

/* §4.2.1.2 */
static bool parse_inner(struct sfp *x, struct sf_member *m)
{
	x->p++; /* '(' */
	m->inner = true;
	m->nlist = 0;
	for (;;) {
		skip_sp(x);
		if (at(x, ')')) {
			x->p++;
			return parse_params(x, &m->params);
		}
		if (m->nlist == HSIG_COMPONENTS_MAX)
			return fail(x, "an inner list is too long");
		struct sf_params ip;
		if (!parse_bare(x, &m->list[m->nlist]) || !parse_params(x, &ip))
			return false;
		m->list_params |= ip.n > 0;
		m->nlist++;
		if (!(at(x, ' ') || at(x, ')')))
			return fail(x, "the items of an inner list are not separated by spaces");
	}
}

/* §4.2.2: the whole field value v into ms (a repeated key keeps the last value). */
static bool parse_dict(struct sfp *x, struct sf_member *ms, size_t *nms)
{
	*nms = 0;
	skip_sp(x);
	while (x->end > x->p && x->end[-1] == ' ')
		x->end--;
	while (x->p < x->end) {
		struct sf_member m;
		memset(&m, 0, sizeof(m));
		if (!parse_key(x, m.key))
			return false;
		if (at(x, '=')) {
			x->p++;
			if (at(x, '(')) {
				if (!parse_inner(x, &m))
					return false;
			} else if (!parse_bare(x, &m.item) || !parse_params(x, &m.params))
				return false;
		} else {
			m.item = (struct sf_item){ .t = SF_BOOL, .i = 1 };
			if (!parse_params(x, &m.params))
				return false;
		}
		size_t k = 0;
		while (k < *nms && strcmp(ms[k].key, m.key))
			k++;
		if (k == *nms) {
			if (*nms == HSIG_MEMBERS_MAX)
				return fail(x, "a dictionary has too many members");
			(*nms)++;
		}
		ms[k] = m;
		skip_ows(x);
		if (x->p == x->end)
			return true;
		if (*x->p != ',')
			return fail(x, "dictionary members are not separated by commas");
		x->p++;
		skip_ows(x);
		if (x->p == x->end)
			return fail(x, "a dictionary ends with a comma");
	}
	return true;
}

/* Parses v and finds the member key; 0, GH_ENOTFOUND or GH_EINVAL with *why. The members array
 * is large, so it lives in the arena. */
static int dict_member(struct arena *a, const char *v, size_t n, const char *key, struct sf_member **out,
		       const char **why)
{
	if (n > HSIG_FIELD_MAX) {
		*why = "the field is too long";
		return GH_EINVAL;
	}
	struct sfp x = { .a = a, .p = v, .end = v + n };
	struct sf_member *ms = arena_array(a, HSIG_MEMBERS_MAX, sizeof(*ms));
	size_t nms;
	if (!parse_dict(&x, ms, &nms)) {
		*why = x.why;
		return GH_EINVAL;
	}
	for (size_t i = 0; i < nms; i++)
		if (!strcmp(ms[i].key, key)) {
			*out = &ms[i];
			return 0;
		}
	*why = "the field has no such member";
	return GH_ENOTFOUND;
}

/* ---- RFC 8941 serialization (§4.1) ----------------------------------------------------------- */

static void ser_item(struct sb *b, const struct sf_item *it)
{
	switch (it->t) {
	case SF_INT:
		sb_addf(b, "%" PRId64, it->i);
		break;
	case SF_DEC: {
		int64_t v = it->i < 0 ? -it->i : it->i;
		char frac[4];
		snprintf(frac, sizeof(frac), "%03d", (int)(v % 1000));
		size_t fl = 3;
		while (fl > 1 && frac[fl - 1] == '0')
			fl--;
		sb_addf(b, "%s%" PRId64 ".%.*s", it->i < 0 ? "-" : "", v / 1000, (int)fl, frac);
		break;
	}
	case SF_STR:
		sb_addch(b, '"');
		for (size_t i = 0; i < it->len; i++) {
			if (it->s[i] == '"' || it->s[i] == '\\')
				sb_addch(b, '\\');
			sb_addch(b, it->s[i]);
		}
		sb_addch(b, '"');
		break;
	case SF_TOKEN:
		sb_add(b, it->s, it->len);
		break;
	case SF_BYTES: {
		size_t cap = sodium_base64_ENCODED_LEN(it->len, sodium_base64_VARIANT_ORIGINAL);
		char *e = malloc(cap);
		sodium_bin2base64(e, cap, (const unsigned char *)it->s, it->len, sodium_base64_VARIANT_ORIGINAL);
		sb_addf(b, ":%s:", e);
		free(e);
		break;
	}
	case SF_BOOL:
		sb_adds(b, it->i ? "?1" : "?0");
		break;
	}
}

static void ser_params(struct sb *b, const struct sf_params *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		sb_addf(b, ";%s", ps->p[i].key);
		if (!(ps->p[i].v.t == SF_BOOL && ps->p[i].v.i == 1)) {
			sb_addch(b, '=');
			ser_item(b, &ps->p[i].v);
		}
	}
}

static char *ser_inner(struct arena *a, const struct sf_member *m)
{
	struct sb b;
	sb_init(&b, 256);
	sb_addch(&b, '(');
	for (size_t i = 0; i < m->nlist; i++) {
		if (i)
			sb_addch(&b, ' ');
		ser_item(&b, &m->list[i]);
	}
	sb_addch(&b, ')');
	ser_params(&b, &m->params);
	char *s = arena_strndup(a, b.buf, b.len);
	sb_release(&b);
	return s;
}

static struct sf_item str_item(const char *s)
{
	return (struct sf_item){ .t = SF_STR, .s = s, .len = strlen(s) };
}

static void add_param(struct sf_member *m, const char *key, struct sf_item v)
{
	struct sf_param *p = &m->params.p[m->params.n++];
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->v = v;
}

/* The member in describes (parameters in the order created, expires, keyid, alg, nonce, tag). */
static void member_of(const struct hsig_input *in, struct sf_member *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->key, sizeof(m->key), "%s", in->label);
	m->inner = true;
	m->nlist = in->ncomp;
	for (size_t i = 0; i < in->ncomp; i++)
		m->list[i] = str_item(in->comp[i]);
	if (in->has_created)
		add_param(m, "created", (struct sf_item){ .t = SF_INT, .i = in->created });
	if (in->has_expires)
		add_param(m, "expires", (struct sf_item){ .t = SF_INT, .i = in->expires });
	if (in->keyid[0])
		add_param(m, "keyid", str_item(in->keyid));
	if (in->alg[0])
		add_param(m, "alg", str_item(in->alg));
	if (in->nonce[0])
		add_param(m, "nonce", str_item(in->nonce));
	if (in->tag[0])
		add_param(m, "tag", str_item(in->tag));
}

char *hsig_params_value(struct arena *a, const struct hsig_input *in)
{
	struct sf_member m;
	member_of(in, &m);
	return ser_inner(a, &m);
}

/* ---- Signature-Input, Signature, Content-Digest ---------------------------------------------- */

static bool copy_name(char dst[HSIG_NAME_MAX + 1], const struct sf_item *it)
{
	if (it->len > HSIG_NAME_MAX || memchr(it->s, 0, it->len))
		return false;
	memcpy(dst, it->s, it->len);
	dst[it->len] = 0;
	return true;
}

/* Fills in from member m; *pv (when pv) is m's @signature-params serialized again, so that
 * parameters the struct does not name, and their order, are verified as sent. */
static int input_from(struct arena *a, const struct sf_member *m, struct hsig_input *in, char **pv, const char **why)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->label, sizeof(in->label), "%s", m->key);
	if (!m->inner) {
		*why = "a Signature-Input member is not an inner list";
		return GH_EINVAL;
	}
	if (m->list_params) {
		*why = "component parameters are not supported";
		return GH_EINVAL;
	}
	for (size_t i = 0; i < m->nlist; i++) {
		if (m->list[i].t != SF_STR || !copy_name(in->comp[i], &m->list[i])) {
			*why = "a covered component is not a string of at most 64 characters";
			return GH_EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(in->comp[k], in->comp[i])) {
				*why = "a component is covered twice";
				return GH_EINVAL;
			}
	}
	in->ncomp = m->nlist;
	for (size_t i = 0; i < m->params.n; i++) {
		const struct sf_param *p = &m->params.p[i];
		bool ok = true;
		if (!strcmp(p->key, "created") || !strcmp(p->key, "expires")) {
			ok = p->v.t == SF_INT && p->v.i >= 0;
			if (p->key[0] == 'c') {
				in->has_created = ok;
				in->created = p->v.i;
			} else {
				in->has_expires = ok;
				in->expires = p->v.i;
			}
		} else if (!strcmp(p->key, "keyid"))
			ok = p->v.t == SF_STR && copy_name(in->keyid, &p->v);
		else if (!strcmp(p->key, "alg"))
			ok = p->v.t == SF_STR && copy_name(in->alg, &p->v);
		else if (!strcmp(p->key, "nonce"))
			ok = p->v.t == SF_STR && copy_name(in->nonce, &p->v);
		else if (!strcmp(p->key, "tag"))
			ok = p->v.t == SF_STR && copy_name(in->tag, &p->v);
		if (!ok) {
			*why = "a signature parameter has the wrong type or length";
			return GH_EINVAL;
		}
	}
	if (pv)
		*pv = ser_inner(a, m);
	return 0;
}

static int parse_input(struct arena *a, const char *v, size_t n, const char *label, struct hsig_input *out, char **pv,
		       const char **why)
{
	struct sf_member *m;
	int rc = dict_member(a, v, n, label, &m, why);
	return rc ? rc : input_from(a, m, out, pv, why);
}

int hsig_parse_input(const char *v, size_t n, const char *label, struct hsig_input *out, const char **why)
{
	struct arena *a = arena_new(0);
	int rc = parse_input(a, v, n, label, out, NULL, why);
	arena_free(a);
	return rc;
}

static int parse_sig(struct arena *a, const char *v, size_t n, const char *label, unsigned char sig[64], const char **why)
{
	struct sf_member *m;
	int rc = dict_member(a, v, n, label, &m, why);
	if (rc)
		return rc;
	if (m->inner || m->item.t != SF_BYTES || m->item.len != 64) {
		*why = "the signature is not a byte sequence of 64 bytes";
		return GH_EINVAL;
	}
	memcpy(sig, m->item.s, 64);
	return 0;
}

int hsig_parse_signature(const char *v, size_t n, const char *label, unsigned char sig[64], const char **why)
{
	struct arena *a = arena_new(0);
	int rc = parse_sig(a, v, n, label, sig, why);
	arena_free(a);
	return rc;
}

static int parse_digest(struct arena *a, const char *v, size_t n, unsigned char out[32], const char **why)
{
	struct sf_member *m;
	int rc = dict_member(a, v, n, "sha-256", &m, why);
	if (rc == GH_ENOTFOUND)
		*why = "the Content-Digest has no sha-256";
	if (rc)
		return rc;
	if (m->inner || m->item.t != SF_BYTES || m->item.len != 32) {
		*why = "the sha-256 digest is not a byte sequence of 32 bytes";
		return GH_EINVAL;
	}
	memcpy(out, m->item.s, 32);
	return 0;
}

int hsig_parse_digest(const char *v, size_t n, unsigned char out[32], const char **why)
{
	struct arena *a = arena_new(0);
	int rc = parse_digest(a, v, n, out, why);
	arena_free(a);
	return rc;
}

char *hsig_digest(struct arena *a, const void *body, size_t n)
{
	unsigned char h[32];
	crypto_hash_sha256(h, body, n);
	char e[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(e, sizeof(e), h, 32, sodium_base64_VARIANT_ORIGINAL);
	return arena_printf(a, "sha-256=:%s:", e);
}

/* ---- the signature base (§2.5) --------------------------------------------------------------- */

static const char *trim(struct arena *a, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return arena_strndup(a, v, n);
}

static int base_of(struct arena *a, const struct hsig_input *in, const char *params_value, const struct hsig_msg *m,
		   char **out, const char **why)
{
	struct sb b;
	sb_init(&b, 256);
	int rc = GH_EINVAL;
	for (size_t i = 0; i < in->ncomp; i++) {
		const char *c = in->comp[i], *v = NULL;
		if (!strcmp(c, "@method"))
			v = m->method;
		else if (!strcmp(c, "@target-uri"))
			v = m->target_uri;
		else if (!strcmp(c, "@path"))
			v = m->path;
		else if (!strcmp(c, "@authority"))
			v = m->authority;
		else if (!strcmp(c, "@query"))
			v = m->query;
		else if (c[0] == '@') {
			*why = "a derived component other than @method, @target-uri, @authority, @path and @query is covered";
			goto out;
		} else {
			for (const char *q = c; *q; q++)
				if (!(lcalpha(*q) || digit(*q) || *q == '-')) {
					*why = "a covered field name is not lowercase";
					goto out;
				}
			v = m->header ? m->header(m->ctx, c) : NULL;
			if (v)
				v = trim(a, v);
		}
		if (!v) {
			*why = "a covered component is absent from the message";
			goto out;
		}
		for (const char *q = v; *q; q++)
			if (*q == '\r' || *q == '\n') {
				*why = "a covered component holds a line break";
				goto out;
			}
		sb_addf(&b, "\"%s\": %s\n", c, v);
	}
	sb_addf(&b, "\"@signature-params\": %s", params_value);
	*out = arena_strndup(a, b.buf, b.len);
	rc = 0;
out:
	sb_release(&b);
	return rc;
}

int hsig_base(struct arena *a, const struct hsig_input *in, const struct hsig_msg *m, char **out, const char **why)
{
	return base_of(a, in, hsig_params_value(a, in), m, out, why);
}

int hsig_sign(struct arena *a, const struct hsig_input *in, const struct hsig_msg *m, const unsigned char sk[64],
	      char **sig_input, char **signature, const char **why)
{
	char *pv = hsig_params_value(a, in), *base;
	int rc = base_of(a, in, pv, m, &base, why);
	if (rc)
		return rc;
	unsigned char sig[64];
	crypto_sign_detached(sig, NULL, (const unsigned char *)base, strlen(base), sk);
	char e[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(e, sizeof(e), sig, 64, sodium_base64_VARIANT_ORIGINAL);
	*sig_input = arena_printf(a, "%s=%s", in->label, pv);
	*signature = arena_printf(a, "%s=:%s:", in->label, e);
	return 0;
}

/* ---- verification ---------------------------------------------------------------------------- */

static const char *const required[] = { "@method", "@target-uri", "content-digest", "idempotency-key" };

static int refuse(const char **why, const char *w)
{
	*why = w;
	return GH_EUNAUTH;
}

int hsig_verify(struct arena *a, const struct hsig_msg *m, const void *body, size_t bodylen, int64_t now,
		hsig_key_fn key, void *keyctx, struct hsig_input *in, const char **why)
{
	const char *si = m->header ? m->header(m->ctx, "signature-input") : NULL;
	const char *sv = m->header ? m->header(m->ctx, "signature") : NULL;
	if (!si || !sv)
		return refuse(why, "the message is not signed");
	char *pv;
	int rc = parse_input(a, si, strlen(si), HSIG_LABEL, in, &pv, why);
	if (rc == GH_ENOTFOUND)
		return refuse(why, "the message has no signature labelled gh");
	if (rc)
		return GH_EUNAUTH;
	unsigned char sig[64];
	rc = parse_sig(a, sv, strlen(sv), HSIG_LABEL, sig, why);
	if (rc == GH_ENOTFOUND)
		return refuse(why, "the Signature field has no member gh");
	if (rc)
		return GH_EUNAUTH;
	for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
		size_t i = 0;
		while (i < in->ncomp && strcmp(in->comp[i], required[r]))
			i++;
		if (i == in->ncomp)
			return refuse(why, "the signature does not cover @method, @target-uri, content-digest and idempotency-key");
	}
	if (!in->has_created || !in->has_expires || !in->keyid[0])
		return refuse(why, "the signature lacks created, expires or keyid");
	if (in->alg[0] && strcmp(in->alg, "ed25519"))
		return refuse(why, "the signature's alg is not ed25519");
	if (in->expires <= in->created || in->expires - in->created > HSIG_LIFETIME_MAX)
		return refuse(why, "the signature's lifetime is not between 1 and 600 seconds");
	if (in->created > now + HSIG_SKEW)
		return refuse(why, "the signature was created in the future");
	if (in->expires <= now)
		return refuse(why, "the signature has expired");
	const char *cd = m->header(m->ctx, "content-digest");
	unsigned char want[32], got[32];
	if (!cd || parse_digest(a, cd, strlen(cd), want, why))
		return refuse(why, "the Content-Digest is absent or not a sha-256 digest");
	crypto_hash_sha256(got, body, bodylen);
	if (sodium_memcmp(want, got, 32))
		return refuse(why, "the Content-Digest is not that of the body");
	unsigned char pk[32];
	if (key(keyctx, in->keyid, pk))
		return refuse(why, "the signing key is not in the directory");
	char *base;
	if (base_of(a, in, pv, m, &base, why))
		return GH_EUNAUTH;
	if (crypto_sign_verify_detached(sig, (const unsigned char *)base, strlen(base), pk))
		return refuse(why, "the signature does not verify");
	*why = NULL;
	return 0;
}
