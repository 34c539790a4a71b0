/* mustache.c: compiles a Mustache template into a flat, immutable node array and renders it.
 *
 * A compiled template owns a copy of its source; nodes refer to text and names by offset into
 * it. Sections are stored in place: a section node is followed by its children and records
 * the index just past them (end), so rendering is a walk over index ranges.
 *
 * Whitespace rules are resolved at compile time: standalone lines (a section, inverted,
 * close, comment, partial or set-delimiter tag alone on its line with only spaces and tabs
 * around it) are removed. Partial indentation cannot be resolved at compile time, because
 * partials are compiled once and used at many indentations, so the compiler inserts an
 * INDENT node at the start of every template line that produces content; rendering emits the
 * current indentation there (empty outside indented standalone partials).
 */
#include "view/mustache.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"

/* Sections nested deeper than this in one template are a compile error, so neither the
 * compiler nor the renderer can be driven into unbounded recursion by a template. */
#define MUSTACHE_MAX_NEST 100

enum node_type {
	N_TEXT,     /* literal text: off, len */
	N_INDENT,   /* start of a template line: emit the current indentation */
	N_VAR,      /* {{name}}, HTML-escaped */
	N_RAW,      /* {{{name}}} or {{&name}} */
	N_SECTION,  /* {{#name}}: children are [i + 1, end) */
	N_INVERTED, /* {{^name}} */
	N_PARTIAL,  /* {{>name}}; standalone ones carry their indentation */
};

struct node {
	uint8_t type;
	bool standalone; /* N_PARTIAL only */
	uint32_t off, len; /* text, or the tag's name, in t->src */
	uint32_t end;      /* sections: index just past the last child */
	uint32_t ind_off, ind_len; /* standalone partials: the indentation in t->src */
	uint32_t line;     /* sections: line of the opening tag, for errors */
};

struct mustache {
	char *src;
	size_t len;
	struct node *nodes;
	uint32_t n, alloc;
};

/* ---- compiling ---------------------------------------------------------------------- */

struct compiler {
	struct mustache *t;
	const char *src;
	size_t len;
	const char *otag, *ctag;
	size_t otag_len, ctag_len;
	bool at_bol; /* nothing has been emitted yet on the current output line */
	uint32_t stack[MUSTACHE_MAX_NEST];
	int depth;
	char *err;
	size_t errlen;
};

static uint32_t line_of(const char *src, size_t pos)
{
	uint32_t line = 1;
	for (size_t i = 0; i < pos; i++)
		line += src[i] == '\n';
	return line;
}

static int fail(struct compiler *c, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes "line N: reason" for the error at byte pos and returns GH_EINVAL. */
static int fail(struct compiler *c, size_t pos, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		int n = snprintf(c->err, c->errlen, "line %u: ", (unsigned)line_of(c->src, pos));
		if (n >= 0 && (size_t)n < c->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return GH_EINVAL;
}

static struct node *add_node(struct compiler *c, enum node_type type, size_t off, size_t len)
{
	struct mustache *t = c->t;
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 32;
		t->nodes = xrealloc(t->nodes, (size_t)t->alloc * sizeof(*t->nodes));
	}
	struct node *nd = &t->nodes[t->n++];
	memset(nd, 0, sizeof(*nd));
	nd->type = (uint8_t)type;
	nd->off = (uint32_t)off;
	nd->len = (uint32_t)len;
	return nd;
}

/* Marks the start of content on the current line: an INDENT node if it is the first. */
static void begin_content(struct compiler *c)
{
	if (c->at_bol) {
		add_node(c, N_INDENT, 0, 0);
		c->at_bol = false;
	}
}

/* Adds the text [a, b) as one TEXT node per line, each line preceded by an INDENT node. */
static void add_text(struct compiler *c, size_t a, size_t b)
{
	while (a < b) {
		const char *nl = memchr(c->src + a, '\n', b - a);
		size_t e = nl ? (size_t)(nl - c->src) + 1 : b;
		begin_content(c);
		add_node(c, N_TEXT, a, e - a);
		if (nl)
			c->at_bol = true;
		a = e;
	}
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Finds the closing delimiter for a tag whose content starts at from; with want != 0 the
 * delimiter must be preceded by that character ('}' for {{{x}}}, '=' for {{=a b=}}).
 * Returns the index of the closing delimiter (of want, when given) or SIZE_MAX. */
static size_t find_close(const struct compiler *c, size_t from, char want)
{
	size_t pos = from;
	while (pos < c->len) {
		const char *q = memmem(c->src + pos, c->len - pos, c->ctag, c->ctag_len);
		if (!q)
			return SIZE_MAX;
		size_t at = (size_t)(q - c->src);
		if (!want)
			return at;
		if (at > from && c->src[at - 1] == want)
			return at - 1;
		pos = at + 1;
	}
	return SIZE_MAX;
}

/* Parses the body of {{=open close=}} ([a, b), without the '=' signs). Delimiters point
 * into the template's own copy of the source, which outlives compilation. */
static int set_delims(struct compiler *c, size_t a, size_t b, size_t tag_start)
{
	while (a < b && is_space(c->src[a]))
		a++;
	while (b > a && is_space(c->src[b - 1]))
		b--;
	size_t o = a;
	while (o < b && !is_space(c->src[o]))
		o++;
	size_t cs = o;
	while (cs < b && is_space(c->src[cs]))
		cs++;
	if (o == a || cs == b)
		return fail(c, tag_start, "bad delimiter: need two delimiters");
	for (size_t i = cs; i < b; i++)
		if (is_space(c->src[i]))
			return fail(c, tag_start, "bad delimiter: more than two delimiters");
	for (size_t i = a; i < b; i++)
		if (c->src[i] == '=')
			return fail(c, tag_start, "bad delimiter: '=' is not allowed");
	c->otag = c->src + a;
	c->otag_len = o - a;
	c->ctag = c->src + cs;
	c->ctag_len = b - cs;
	return 0;
}

int mustache_compile(const char *src, size_t len, struct mustache **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (len >= UINT32_MAX / 2) {
		if (err && errlen)
			snprintf(err, errlen, "line 1: template too large");
		return GH_EINVAL;
	}
	struct mustache *t = xcalloc(1, sizeof(*t));
	t->src = xmalloc(len + 1);
	if (len)
		memcpy(t->src, src, len);
	t->src[len] = 0;
	t->len = len;

	struct compiler c = {
		.t = t, .src = t->src, .len = len,
		.otag = "{{", .ctag = "}}", .otag_len = 2, .ctag_len = 2,
		.at_bol = true, .err = err, .errlen = errlen,
	};
	size_t pos = 0, text_start = 0, line_start = 0;
	int rc;

	for (;;) {
		const char *p = pos < len ? memmem(c.src + pos, len - pos, c.otag, c.otag_len) : NULL;
		if (!p) {
			add_text(&c, text_start, len);
			break;
		}
		size_t tag_start = (size_t)(p - c.src);
		const char *nl = tag_start > pos ? memrchr(c.src + pos, '\n', tag_start - pos) : NULL;
		if (nl)
			line_start = (size_t)(nl - c.src) + 1;

		size_t body = tag_start + c.otag_len;
		char sigil = body < len ? c.src[body] : 0;
		size_t name_a, name_b, tag_end;
		switch (sigil) {
		case '#': case '^': case '/': case '>': case '&': case '!': case '{': case '=':
			break;
		default:
			sigil = 0;
		}
		size_t from = sigil ? body + 1 : body;
		size_t close = find_close(&c, from, sigil == '{' ? '}' : sigil == '=' ? '=' : 0);
		if (close == SIZE_MAX) {
			rc = fail(&c, tag_start, "unclosed tag");
			goto error;
		}
		name_a = from;
		name_b = close;
		tag_end = close + c.ctag_len + (sigil == '{' || sigil == '=');
		while (name_a < name_b && is_space(c.src[name_a]))
			name_a++;
		while (name_b > name_a && is_space(c.src[name_b - 1]))
			name_b--;
		if (sigil != '!' && sigil != '=' && name_a == name_b) {
			rc = fail(&c, tag_start, "empty tag");
			goto error;
		}

		/* Standalone: only blanks between the line start and the tag (and no other tag:
		 * text_start <= line_start), then blanks and a line end or the end of input. */
		bool standalone = false;
		size_t next = tag_end;
		if (sigil && sigil != '&' && sigil != '{' && line_start >= text_start) {
			size_t i = line_start;
			while (i < tag_start && is_blank(c.src[i]))
				i++;
			if (i == tag_start) {
				size_t j = tag_end;
				while (j < len && is_blank(c.src[j]))
					j++;
				if (j == len) {
					standalone = true;
					next = j;
				} else if (c.src[j] == '\n') {
					standalone = true;
					next = j + 1;
				} else if (c.src[j] == '\r' && j + 1 < len && c.src[j + 1] == '\n') {
					standalone = true;
					next = j + 2;
				}
			}
		}
		if (standalone) {
			add_text(&c, text_start, line_start);
			c.at_bol = true;
		} else {
			add_text(&c, text_start, tag_start);
			if (sigil != '!' && sigil != '=')
				begin_content(&c);
		}

		struct node *nd;
		switch (sigil) {
		case 0:
			add_node(&c, N_VAR, name_a, name_b - name_a);
			break;
		case '&':
		case '{':
			add_node(&c, N_RAW, name_a, name_b - name_a);
			break;
		case '!':
			break;
		case '=':
			rc = set_delims(&c, body + 1, close, tag_start);
			if (rc)
				goto error;
			break;
		case '>':
			nd = add_node(&c, N_PARTIAL, name_a, name_b - name_a);
			if (standalone) {
				nd->standalone = true;
				nd->ind_off = (uint32_t)line_start;
				nd->ind_len = (uint32_t)(tag_start - line_start);
			}
			break;
		case '#':
		case '^':
			if (c.depth == MUSTACHE_MAX_NEST) {
				rc = fail(&c, tag_start, "sections nested deeper than %d",
					  MUSTACHE_MAX_NEST);
				goto error;
			}
			nd = add_node(&c, sigil == '#' ? N_SECTION : N_INVERTED, name_a,
				      name_b - name_a);
			nd->line = line_of(c.src, tag_start);
			c.stack[c.depth++] = t->n - 1;
			break;
		case '/': {
			if (c.depth == 0) {
				rc = fail(&c, tag_start, "section close {{/%.*s}} without an open section",
					  (int)(name_b - name_a > 64 ? 64 : name_b - name_a),
					  c.src + name_a);
				goto error;
			}
			struct node *open = &t->nodes[c.stack[c.depth - 1]];
			if (open->len != name_b - name_a ||
			    memcmp(c.src + open->off, c.src + name_a, open->len) != 0) {
				rc = fail(&c, tag_start,
					  "mismatched section close: {{/%.*s}} closes '%.*s' (line %u)",
					  (int)(name_b - name_a > 64 ? 64 : name_b - name_a),
					  c.src + name_a, (int)(open->len > 64 ? 64 : open->len),
					  c.src + open->off, (unsigned)open->line);
				goto error;
			}
			open->end = t->n;
			c.depth--;
			break;
		}
		}
		pos = next;
		text_start = next;
		if (standalone)
			line_start = next;
	}
	if (c.depth) {
		struct node *open = &t->nodes[c.stack[c.depth - 1]];
		if (err && errlen)
			snprintf(err, errlen, "line %u: unclosed section '%.*s'", (unsigned)open->line,
				 (int)(open->len > 64 ? 64 : open->len), c.src + open->off);
		rc = GH_EINVAL;
		goto error;
	}
	*out = t;
	return 0;
error:
	mustache_free(t);
	return rc;
}

void mustache_free(struct mustache *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->src);
	free(t);
}

/* ---- rendering ---------------------------------------------------------------------- */

/* The context stack, innermost first; frames live on the C stack of render_range. */
struct frame {
	json_t *v;
	const struct frame *up;
};

/* Everything a render call mutates lives here, on the caller's stack: the compiled
 * templates are only read, which is what makes rendering thread-safe. */
struct render {
	mustache_partial_fn partials;
	void *ud;
	struct sb *out;
	struct sb indent;      /* backing store for indentations of nested partials */
	size_t ind_off, ind_len; /* the current indentation within indent */
	int depth;             /* partials being rendered */
	size_t steps, max_steps;
};

static json_t *lookup(const struct frame *ctx, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return ctx->v;
	const char *dot = memchr(name, '.', len);
	size_t seg = dot ? (size_t)(dot - name) : len;
	json_t *v = NULL;
	for (const struct frame *f = ctx; f && !v; f = f->up)
		if (json_is_object(f->v))
			v = json_object_getn(f->v, name, seg);
	/* Dotted names resolve their first part through the stack and the rest strictly
	 * inside it: a broken chain is a miss, not a fall-back to outer contexts. */
	while (v && dot) {
		name = dot + 1;
		len -= seg + 1;
		dot = memchr(name, '.', len);
		seg = dot ? (size_t)(dot - name) : len;
		v = json_is_object(v) ? json_object_getn(v, name, seg) : NULL;
	}
	return v;
}

static bool truthy(const json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return false;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return true;
}

/* Appends the shortest decimal form of d that reads back as the same double. */
static void add_real(struct sb *out, double d)
{
	char buf[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	sb_adds(out, buf);
}

static void add_value(struct sb *out, const json_t *v, bool escape)
{
	char buf[32];
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (escape)
			sb_add_html(out, json_string_value(v), json_string_length(v));
		else
			sb_add(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		sb_adds(out, buf);
		break;
	case JSON_REAL:
		add_real(out, json_real_value(v));
		break;
	case JSON_TRUE:
		sb_adds(out, "true");
		break;
	case JSON_FALSE:
		sb_adds(out, "false");
		break;
	default: /* null, objects and arrays render as nothing */
		break;
	}
}

static int render_range(struct render *r, const struct mustache *t, uint32_t i, uint32_t end,
			const struct frame *ctx);

static int render_partial(struct render *r, const struct mustache *t, const struct node *nd,
			  const struct frame *ctx)
{
	if (!r->partials)
		return 0;
	const struct mustache *p = r->partials(r->ud, t->src + nd->off, nd->len);
	if (!p)
		return 0;
	if (r->depth >= MUSTACHE_MAX_DEPTH)
		return GH_EINVAL;
	size_t off = r->ind_off, len = r->ind_len, mark = r->indent.len;
	if (nd->standalone) {
		/* The partial's lines get the outer indentation plus this tag's own. */
		/* Grow first: the copy reads from the buffer it appends to. */
		sb_grow(&r->indent, len + nd->ind_len);
		sb_add(&r->indent, r->indent.buf + off, len);
		sb_add(&r->indent, t->src + nd->ind_off, nd->ind_len);
		r->ind_off = mark;
		r->ind_len = len + nd->ind_len;
	} else {
		r->ind_len = 0; /* an inline partial is not indented */
	}
	r->depth++;
	int rc = render_range(r, p, 0, p->n, ctx);
	r->depth--;
	r->indent.len = mark;
	r->ind_off = off;
	r->ind_len = len;
	return rc;
}

static int render_range(struct render *r, const struct mustache *t, uint32_t i, uint32_t end,
			const struct frame *ctx)
{
	while (i < end) {
		const struct node *nd = &t->nodes[i];
		if (++r->steps > r->max_steps)
			return GH_ETOOBIG;
		if (sb_failed(r->out))
			return 0; /* over the caller's cap: nothing more will be kept */
		json_t *v;
		int rc;
		switch ((enum node_type)nd->type) {
		case N_TEXT:
			sb_add(r->out, t->src + nd->off, nd->len);
			break;
		case N_INDENT:
			sb_add(r->out, r->indent.buf + r->ind_off, r->ind_len);
			break;
		case N_VAR:
		case N_RAW:
			v = lookup(ctx, t->src + nd->off, nd->len);
			if (v)
				add_value(r->out, v, nd->type == N_VAR);
			break;
		case N_SECTION:
			v = lookup(ctx, t->src + nd->off, nd->len);
			if (!truthy(v))
				break;
			if (json_is_array(v)) {
				for (size_t k = 0; k < json_array_size(v); k++) {
					struct frame f = { json_array_get(v, k), ctx };
					rc = render_range(r, t, i + 1, nd->end, &f);
					if (rc)
						return rc;
				}
			} else {
				struct frame f = { v, ctx };
				rc = render_range(r, t, i + 1, nd->end, &f);
				if (rc)
					return rc;
			}
			break;
		case N_INVERTED:
			v = lookup(ctx, t->src + nd->off, nd->len);
			if (!truthy(v)) {
				rc = render_range(r, t, i + 1, nd->end, ctx);
				if (rc)
					return rc;
			}
			break;
		case N_PARTIAL:
			rc = render_partial(r, t, nd, ctx);
			if (rc)
				return rc;
			break;
		}
		i = (nd->type == N_SECTION || nd->type == N_INVERTED) ? nd->end : i + 1;
	}
	return 0;
}

int mustache_render_limit(const struct mustache *t, json_t *ctx, mustache_partial_fn partials,
			  void *ud, struct sb *out, size_t max_steps)
{
	struct render r = {
		.partials = partials, .ud = ud, .out = out, .indent = SB_INIT,
		.max_steps = max_steps,
	};
	struct frame root = { ctx, NULL };
	int rc = render_range(&r, t, 0, t->n, &root);
	sb_release(&r.indent);
	return rc;
}

int mustache_render(const struct mustache *t, json_t *ctx, mustache_partial_fn partials, void *ud,
		    struct sb *out)
{
	return mustache_render_limit(t, ctx, partials, ud, out, SIZE_MAX);
}
