/* pages.c: GET /search, the results page: the query, filters by audience, department, theme
 * and kind, results with their matches highlighted, pages of ten. Works without JavaScript;
 * static/js/search.js adds suggestions as one types. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/err.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/http.h"
#include "http/msg.h"
#include "search/search.h"
#include "search/search_pages.h"
#include "view/view.h"

#define IS_EN(r) (strcmp((r)->lang, "en") == 0)

static json_t *option(const char *value, const char *label, const char *current)
{
	json_t *o = json_pack("{s:s,s:s}", "value", value, "label", label ? label : value);
	if (current && !strcmp(current, value))
		json_object_set_new(o, "selected", json_true());
	return o;
}

/* The address of another page of the same search. */
static const char *page_href(struct req *r, const struct sparams *p, long page)
{
	struct sb sb = SB_INIT;
	sb_adds(&sb, "/search?q=");
	sb_add_urlenc(&sb, p->q, strlen(p->q));
	const char *keys[] = { "audience", "department", "theme", "kind" };
	const char *vals[] = { p->audience, p->f.department, p->f.theme, p->kind };
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (vals[i]) {
			sb_addf(&sb, "&%s=", keys[i]);
			sb_add_urlenc(&sb, vals[i], strlen(vals[i]));
		}
	if (page > 1)
		sb_addf(&sb, "&page=%ld", page);
	const char *s = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return s;
}

static search_place_fn place_of;

void search_set_places(search_place_fn fn)
{
	place_of = fn;
}

static const char *subst_n(struct req *r, const char *msg, long n)
{
	const char *at = strstr(msg, "{n}");
	if (!at)
		return msg;
	return arena_printf(r->arena, "%.*s%ld%s", (int)(at - msg), msg, n, at + 3);
}

int search_page(struct req *r);
int search_page(struct req *r)
{
	struct sparams p;
	int rc = search_read_params(r, &p);
	if (rc)
		return rc;
	bool en = IS_EN(r);
	const long per_page = 10;
	struct sresults res;
	if ((rc = search_run(r, &p, (size_t)((p.page - 1) * per_page), (size_t)per_page, &res)))
		return rc;
	json_t *ctx = json_object();
	jset(ctx, "title", p.q ? arena_printf(r->arena, "%s: %s", M(r, "search_title"), p.q) : M(r, "search_title"));
	json_object_set_new(ctx, "nav_search", json_true());
	jset(ctx, "q", p.q);
	jset(ctx, "search_q", p.q);
	json_t *results = json_array();
	for (size_t i = 0; i < res.n; i++) {
		const struct sresult *s = &res.r[i];
		json_t *o = json_object();
		jset(o, "href", s->href);
		jset(o, "name_html", s->name_html);
		jset(o, "summary_html", s->summary_html);
		jset(o, "department", s->dept_name);
		jset(o, "code", s->code);
		jset(o, "kind_label", M(r, !strcmp(s->kind, "bundle") ? "search_kind_bundle"
					   : !strcmp(s->kind, "info") ? "search_kind_info"
					   : !strcmp(s->kind, "faq")  ? "search_kind_faq"
								      : "search_kind_item"));
		if (!strcmp(s->kind, "bundle"))
			json_object_set_new(o, "is_bundle", json_true());
		const char *th = search_theme_name(s->theme, en);
		jset(o, "theme", th);
		json_array_append_new(results, o);
	}
	json_object_set_new(ctx, "results", results);
	if (p.q) {
		json_object_set_new(ctx, "searched", json_true());
		jset(ctx, "count", subst_n(r, M(r, res.total == 1 ? "search_count_one" : "search_count_many"), (long)res.total));
		if (!res.total)
			json_object_set_new(ctx, "empty", json_true());
		const char *place = place_of ? place_of(r->arena, p.q) : NULL;
		if (place) {
			struct sb href = SB_INIT;
			sb_adds(&href, "/national/search?q=");
			sb_add_urlenc(&href, p.q, strlen(p.q));
			json_object_set_new(ctx, "elsewhere",
					    json_pack("{s:s,s:s%}", "text", MF(r, "search_elsewhere", MA("region", place)), "href",
						      href.buf, href.len));
			sb_release(&href);
		}
		long pages = (long)((res.total < SEARCH_MAX_HITS ? res.total : SEARCH_MAX_HITS) + per_page - 1) / per_page;
		if (pages > 1) {
			json_t *pg = json_object();
			if (p.page > 1)
				jset(pg, "prev_href", page_href(r, &p, p.page - 1));
			if (p.page < pages)
				jset(pg, "next_href", page_href(r, &p, p.page + 1));
			jset(pg, "status", subst_n(r, M(r, "search_page_fmt"), p.page));
			json_object_set_new(ctx, "pagination", pg);
		}
	}
	json_t *aud = json_array(), *kinds = json_array(), *themes = json_array(), *depts = json_array();
	json_array_append_new(aud, option("individual", M(r, "search_audience_individual"), p.audience));
	json_array_append_new(aud, option("enterprise", M(r, "search_audience_enterprise"), p.audience));
	json_array_append_new(kinds, option("item", M(r, "search_kind_item"), p.kind));
	json_array_append_new(kinds, option("bundle", M(r, "search_kind_bundle"), p.kind));
	json_array_append_new(kinds, option("info", M(r, "search_kind_info"), p.kind));
	json_array_append_new(kinds, option("faq", M(r, "search_kind_faq"), p.kind));
	size_t i;
	json_t *v;
	json_array_foreach(search_state.labels.themes, i, v)
	{
		const char *code = json_string_value(json_object_get(v, "code"));
		if (code)
			json_array_append_new(themes, option(code, search_theme_name(code, en), p.f.theme));
	}
	for (size_t k = 0; k < res.ndepts; k++)
		json_array_append_new(depts, option(res.depts[k].code,
						    en && res.depts[k].name_en ? res.depts[k].name_en : res.depts[k].name_zh,
						    p.f.department));
	json_object_set_new(ctx, "audience_options", aud);
	json_object_set_new(ctx, "kind_options", kinds);
	json_object_set_new(ctx, "theme_options", themes);
	json_object_set_new(ctx, "department_options", depts);
	json_object_set_new(ctx, "filtered", json_boolean(p.audience || p.kind || p.f.theme || p.f.department));
	return resp_page(r, 200, "search/results", ctx);
}
