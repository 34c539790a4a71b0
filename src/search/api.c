/* api.c: reading search parameters, running a search for a request (results copied into the
 * request's arena, so nothing points into the index once it is released), and the JSON API:
 * GET /api/v1/search and GET /api/v1/search/suggest. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/err.h"
#include "base/util.h"
#include "http/http.h"
#include "search/search.h"
#include "search/search_pages.h"
#include "http/msg.h"

#define IS_EN(r) (strcmp((r)->lang, "en") == 0)

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* At most 40 bytes of a client's value, for messages. */
static const char *clip(struct req *r, const char *s)
{
	size_t n = strlen(s);
	if (n <= 40)
		return s;
	size_t k = 40;
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	return arena_printf(r->arena, "%.*s…", (int)k, s);
}

const char *search_label_name(json_t *labels, const char *code, bool en)
{
	size_t i;
	json_t *v;
	json_array_foreach(labels, i, v)
	{
		const char *c = json_string_value(json_object_get(v, "code"));
		if (c && code && !strcmp(c, code))
			return json_string_value(json_object_get(v, en ? "name_en" : "name_zh"));
	}
	return NULL;
}

const char *search_theme_name(const char *code, bool en)
{
	return search_label_name(search_state.labels.themes, code, en);
}

int search_read_params(struct req *r, struct sparams *p)
{
	int rc;
	memset(p, 0, sizeof(*p));
	if ((rc = req_query_long(r, "page", 1, 1, SEARCH_MAX_HITS / 10, &p->page)) ||
	    (rc = req_query_long(r, "limit", 10, 1, 50, &p->limit)))
		return rc;
	p->q = nonempty(req_query(r, "q"));
	if (p->q && strlen(p->q) > SEARCH_Q_MAX) {
		req_error_detail(r, "%s", M(r, "catalog_search_text_too_long_most"));
		return GH_EINVAL;
	}
	const char *aud = nonempty(req_query(r, "audience"));
	if (aud) {
		if (!strcmp(aud, "individual"))
			p->f.audience = 1;
		else if (!strcmp(aud, "enterprise"))
			p->f.audience = 2;
		else {
			req_error_detail(r, "%s", M(r, "catalog_parameter_audience_must_individual_enterprise"));
			return GH_EINVAL;
		}
		p->audience = aud;
	}
	const char *kind = nonempty(req_query(r, "kind"));
	if (kind) {
		if (!strcmp(kind, "item"))
			p->f.kind = SDOC_ITEM;
		else if (!strcmp(kind, "bundle"))
			p->f.kind = SDOC_BUNDLE;
		else if (!strcmp(kind, "info"))
			p->f.kind = SDOC_INFO;
		else if (!strcmp(kind, "faq"))
			p->f.kind = SDOC_FAQ;
		else {
			req_error_detail(r, "%s", M(r, "search_parameter_kind_must_item_bundle"));
			return GH_EINVAL;
		}
		p->kind = kind;
	}
	p->f.theme = nonempty(req_query(r, "theme"));
	if (p->f.theme && !search_theme_name(p->f.theme, false)) {
		req_error_detail(r, "%s",
				 MF(r, r->api ? "catalog_unknown_theme_api" : "catalog_unknown_theme", MA("code", clip(r, p->f.theme))));
		return GH_EINVAL;
	}
	p->f.department = nonempty(req_query(r, "department"));
	return 0;
}

static const char *kind_name(int kind)
{
	return kind == SDOC_BUNDLE ? "bundle" : kind == SDOC_INFO ? "info" : kind == SDOC_FAQ ? "faq" : "item";
}

const char *search_doc_href(struct req *r, int kind, const char *code)
{
	const char *base = kind == SDOC_BUNDLE ? "/bundles" : kind == SDOC_INFO ? "/publish" : "/services";
	return arena_printf(r->arena, "%s/%s%s", base, code, kind == SDOC_FAQ ? "#faq" : "");
}

/* The first ~120 characters of s. */
static const char *snippet(struct req *r, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s), i = 0, chars = 0;
	while (i < n && chars < 120) {
		u8_next(s, n, &i);
		chars++;
	}
	return i < n ? arena_printf(r->arena, "%.*s…", (int)i, s) : s;
}

int search_run(struct req *r, const struct sparams *p, size_t offset, size_t limit, struct sresults *out)
{
	memset(out, 0, sizeof(*out));
	bool en = IS_EN(r);
	const struct sindex *ix = search_acquire(r->db, r->arena);
	if (!ix) {
		search_unlock();
		return GH_EUNAVAILABLE;
	}
	const struct sdept *d;
	size_t nd = sindex_departments(ix, &d);
	out->depts = arena_array(r->arena, nd ? nd : 1, sizeof(*out->depts));
	for (size_t i = 0; i < nd; i++)
		out->depts[i] = (struct sdept){ arena_strdup(r->arena, d[i].code), arena_strdup(r->arena, d[i].name_zh),
						arena_strdup(r->arena, d[i].name_en) };
	out->ndepts = nd;
	if (p->f.department) {
		bool known = false;
		for (size_t i = 0; i < nd && !known; i++)
			known = !strcmp(d[i].code, p->f.department);
		if (!known) {
			search_unlock();
			req_error_detail(r, "%s", MF(r, r->api ? "catalog_unknown_department_api" : "catalog_unknown_department",
						     MA("code", clip(r, p->f.department))));
			return GH_EINVAL;
		}
	}
	if (!p->q) {
		search_unlock();
		return 0;
	}
	struct squery *sq = squery_parse(ix, search_state.lx, r->arena, p->q, strlen(p->q));
	size_t want = offset + limit;
	if (want > SEARCH_MAX_HITS)
		want = SEARCH_MAX_HITS;
	struct shit *hits = arena_array(r->arena, want ? want : 1, sizeof(*hits));
	size_t total;
	size_t n = sindex_search(ix, sq, &p->f, hits, want, &total);
	out->total = total;
	out->r = arena_array(r->arena, limit ? limit : 1, sizeof(*out->r));
	for (size_t i = offset; i < n; i++) {
		struct sdoc_view v;
		sindex_doc(ix, hits[i].doc, &v);
		struct sresult *s = &out->r[out->n++];
		s->kind = kind_name(v.kind);
		s->code = arena_strdup(r->arena, v.code);
		s->name_zh = arena_strdup(r->arena, v.name_zh);
		s->name_en = arena_strdup(r->arena, v.name_en ? v.name_en : v.name_zh);
		s->department = v.department ? arena_strdup(r->arena, v.department) : NULL;
		s->dept_name = arena_strdup(r->arena, en && v.dept_name_en ? v.dept_name_en : v.dept_name_zh ? v.dept_name_zh : "");
		s->theme = v.theme ? arena_strdup(r->arena, v.theme) : NULL;
		s->audience = v.audience;
		s->score = hits[i].score;
		s->href = search_doc_href(r, v.kind, v.code);
		struct sb hl = SB_INIT;
		squery_highlight(sq, en ? s->name_en : s->name_zh, &hl);
		s->name_html = arena_strndup(r->arena, hl.buf, hl.len);
		sb_reset(&hl);
		squery_highlight(sq, snippet(r, en && v.summary_en ? v.summary_en : v.summary_zh), &hl);
		s->summary_html = arena_strndup(r->arena, hl.buf, hl.len);
		sb_release(&hl);
	}
	search_unlock();
	return 0;
}

/* The generation of the index a search would use now (rebuilt first when the database moved
 * on and no other thread is already rebuilding): a response cached under it never shows an
 * older index than its key says. */
int search_cache_gen(struct req *r, uint64_t *gen)
{
	const struct sindex *ix = search_acquire(r->db, r->arena);
	*gen = sindex_generation(ix);
	search_unlock();
	return ix ? 0 : GH_EUNAVAILABLE;
}

/* ---- JSON ------------------------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jaudience(unsigned a)
{
	json_t *j = json_array();
	if (a & 1)
		json_array_append_new(j, json_string("individual"));
	if (a & 2)
		json_array_append_new(j, json_string("enterprise"));
	return j;
}

static int api_search(struct req *r)
{
	struct sparams p;
	int rc = search_read_params(r, &p);
	long offset;
	if (!rc)
		rc = req_query_long(r, "offset", 0, 0, SEARCH_MAX_HITS, &offset);
	if (rc)
		return rc;
	if (!p.q) {
		req_error_detail(r, "%s", M(r, "search_parameter_q_what_search_required"));
		return GH_EINVAL;
	}
	struct sresults res;
	if ((rc = search_run(r, &p, (size_t)offset, (size_t)p.limit, &res)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < res.n; i++) {
		const struct sresult *s = &res.r[i];
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string(s->kind));
		json_object_set_new(o, "code", jstr(s->code));
		json_object_set_new(o, "name_zh", jstr(s->name_zh));
		json_object_set_new(o, "name_en", jstr(s->name_en));
		json_object_set_new(o, "name_html", jstr(s->name_html));
		json_object_set_new(o, "summary_html", jstr(s->summary_html));
		json_object_set_new(o, "department", jstr(s->department));
		json_object_set_new(o, "theme", jstr(s->theme));
		json_object_set_new(o, "audience", jaudience(s->audience));
		json_object_set_new(o, "href", jstr(s->href));
		json_object_set_new(o, "score", json_real((double)((long)(s->score * 1000 + 0.5)) / 1000.0));
		json_array_append_new(arr, o);
	}
	json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:o}", "query", p.q, "total", (json_int_t)res.total, "offset",
			      (json_int_t)offset, "limit", (json_int_t)p.limit, "results", arr);
	return resp_json(r, 200, j);
}

static int api_suggest(struct req *r)
{
	const char *q = nonempty(req_query(r, "q"));
	long limit;
	int rc = req_query_long(r, "limit", 8, 1, 20, &limit);
	if (rc)
		return rc;
	json_t *arr = json_array();
	if (q && strlen(q) > SEARCH_Q_MAX) {
		json_decref(arr);
		req_error_detail(r, "%s", M(r, "catalog_search_text_too_long_most"));
		return GH_EINVAL;
	}
	if (q) {
		struct sparams p = { .q = q, .page = 1, .limit = limit };
		struct sresults res;
		if ((rc = search_run(r, &p, 0, (size_t)limit, &res))) {
			json_decref(arr);
			return rc;
		}
		for (size_t i = 0; i < res.n; i++) {
			const struct sresult *s = &res.r[i];
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", s->kind, "code", s->code,
							     "name_zh", s->name_zh, "name_en", s->name_en, "label",
							     IS_EN(r) ? s->name_en : s->name_zh, "href", s->href));
		}
	}
	return resp_json(r, 200, json_pack("{s:s,s:o}", "query", q ? q : "", "suggestions", arr));
}

int search_page(struct req *r);

const struct route search_routes[] = {
	{ HTTP_GET, "/search", search_page, ROLE_PUBLIC, 0, "search.page", search_cache_gen },
	{ HTTP_GET, "/api/v1/search", api_search, ROLE_PUBLIC, 0, "search.api", search_cache_gen },
	{ HTTP_GET, "/api/v1/search/suggest", api_suggest, ROLE_PUBLIC, 0, "search.api_suggest", search_cache_gen },
};
const size_t search_routes_n = ARRAY_LEN(search_routes);
