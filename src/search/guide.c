/* guide.c: the guided service (智能导办): who you are, which life event, a few yes/no
 * questions drawn from the item data, and the item or bundle that fits, with the reasons.
 *
 * Deterministic and stateless: the answers so far travel in the address (GET forms, so the
 * back button and bookmarks work and no CSRF is needed):
 *   who=individual|enterprise  theme=<theme code>  ans=<question>:<y|n>,...  pick=<code>
 * The candidates are the indexed documents for that audience and theme. Each yes/no question
 * is a predicate over document data; the next one asked is the one that splits the remaining
 * candidates most evenly (ties: the order of the pool; but when a bundle is among them, whether
 * to do everything at once comes first), at most GUIDE_MAX_QUESTIONS of them.
 * One candidate left is the answer; several left are offered as a choice; none left says so.
 *
 * Question pool (ids): "bundle" (a bundle, everything at once), "replace" (the item's name says
 * it replaces, renews or changes a document), "payment" (a benefit, allowance or payment,
 * item_type payment), "online" (fully online, online_depth 4), "cert.<ecert>" (it issues that
 * certificate, outcome_ecert). */
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
#define GUIDE_MAX_QUESTIONS 4
#define GUIDE_MAX_ANSWERS 8
#define GUIDE_MAX_PICK 12

struct gdoc {
	struct sdoc_view v;
};

struct ganswer {
	char q[48];
	bool yes;
};

struct guide {
	const char *who, *theme, *pick;
	unsigned aud;
	struct ganswer ans[GUIDE_MAX_ANSWERS];
	size_t nans;
	/* outcome */
	enum { G_WHO, G_THEME, G_QUESTION, G_PICK, G_RESULT, G_NONE } step;
	char next_q[48];
	struct gdoc *cand;
	size_t ncand;
	struct gdoc result;
};

static const char *ecert_name(const char *code, bool en)
{
	return search_label_name(search_state.labels.ecerts, code, en);
}

static bool pred(const struct sdoc_view *d, const char *q)
{
	if (!strcmp(q, "bundle"))
		return d->kind == SDOC_BUNDLE;
	if (!strcmp(q, "replace"))
		return d->secondary;
	if (!strcmp(q, "payment"))
		return d->item_type && !strcmp(d->item_type, "payment");
	if (!strcmp(q, "online"))
		return d->online_depth >= 4;
	if (!strncmp(q, "cert.", 5))
		return d->outcome && !strcmp(d->outcome, q + 5);
	return false;
}

static bool question_known(const char *q)
{
	if (!strcmp(q, "bundle") || !strcmp(q, "replace") || !strcmp(q, "payment") || !strcmp(q, "online"))
		return true;
	return !strncmp(q, "cert.", 5) && ecert_name(q + 5, false);
}

/* Reads who, theme, ans, pick; GH_EINVAL with a detail for anything malformed. */
static int guide_read(struct req *r, struct guide *g)
{
	memset(g, 0, sizeof(*g));
	const char *who = req_query(r, "who");
	if (who && *who) {
		if (!strcmp(who, "individual"))
			g->aud = 1;
		else if (!strcmp(who, "enterprise"))
			g->aud = 2;
		else {
			req_error_detail(r, "%s", M(r, "search_parameter_who_must_individual_enterprise"));
			return GH_EINVAL;
		}
		g->who = who;
	}
	const char *theme = req_query(r, "theme");
	if (theme && *theme) {
		if (!search_theme_name(theme, false)) {
			req_error_detail(r, "%s", M(r, "search_unknown_life_event_theme"));
			return GH_EINVAL;
		}
		g->theme = theme;
	}
	const char *ans = req_query(r, "ans");
	if (ans && *ans) {
		if (strlen(ans) > 400) {
			req_error_detail(r, "%s", M(r, "search_too_many_answers"));
			return GH_EINVAL;
		}
		const char *s = ans;
		while (*s) {
			const char *e = strchr(s, ',');
			size_t n = e ? (size_t)(e - s) : strlen(s);
			const char *colon = memchr(s, ':', n);
			if (!colon || n - (size_t)(colon - s) != 2 || (colon[1] != 'y' && colon[1] != 'n') ||
			    (size_t)(colon - s) >= sizeof(g->ans[0].q) || g->nans == GUIDE_MAX_ANSWERS) {
				req_error_detail(r, "%s", M(r, "search_answers_address_valid_start_again"));
				return GH_EINVAL;
			}
			struct ganswer *a = &g->ans[g->nans];
			memcpy(a->q, s, (size_t)(colon - s));
			a->q[colon - s] = 0;
			a->yes = colon[1] == 'y';
			if (!question_known(a->q)) {
				req_error_detail(r, "%s", M(r, "search_answers_address_valid_start_again"));
				return GH_EINVAL;
			}
			g->nans++;
			s = e ? e + 1 : s + n;
		}
	}
	const char *pick = req_query(r, "pick");
	if (pick && *pick)
		g->pick = pick;
	return 0;
}

static int gdoc_cmp(const void *a, const void *b)
{
	const struct sdoc_view *x = &((const struct gdoc *)a)->v, *y = &((const struct gdoc *)b)->v;
	if (x->kind != y->kind)
		return x->kind == SDOC_BUNDLE ? -1 : 1; /* bundles first */
	if (x->prior != y->prior)
		return x->prior > y->prior ? -1 : 1; /* then the most used */
	return strcmp(x->code, y->code);
}

static void copy_view(struct req *r, struct sdoc_view *o, const struct sdoc_view *v)
{
	*o = *v;
#define C(f) o->f = v->f ? arena_strdup(r->arena, v->f) : NULL
	C(code);
	C(name_zh);
	C(name_en);
	C(department);
	C(dept_name_zh);
	C(dept_name_en);
	C(theme);
	C(summary_zh);
	C(summary_en);
	C(item_type);
	C(outcome);
#undef C
}

/* Runs the rules over the current index. */
static int guide_run(struct req *r, struct guide *g)
{
	if (!g->aud) {
		g->step = G_WHO;
		return 0;
	}
	if (!g->theme) {
		g->step = G_THEME;
		return 0;
	}
	const struct sindex *ix = search_acquire(r->db, r->arena);
	size_t n = sindex_ndocs(ix);
	g->cand = arena_array(r->arena, n ? n : 1, sizeof(*g->cand));
	for (size_t i = 0; i < n; i++) {
		struct sdoc_view v;
		sindex_doc(ix, (uint32_t)i, &v);
		if ((v.kind != SDOC_ITEM && v.kind != SDOC_BUNDLE) || !(v.audience & g->aud) || !v.theme ||
		    strcmp(v.theme, g->theme))
			continue;
		bool ok = true;
		for (size_t k = 0; k < g->nans && ok; k++)
			ok = pred(&v, g->ans[k].q) == g->ans[k].yes;
		if (ok)
			copy_view(r, &g->cand[g->ncand++].v, &v);
	}
	search_unlock();
	qsort(g->cand, g->ncand, sizeof(*g->cand), gdoc_cmp);
	if (!g->ncand) {
		g->step = G_NONE;
		return 0;
	}
	if (g->pick)
		for (size_t i = 0; i < g->ncand; i++)
			if (!strcmp(g->cand[i].v.code, g->pick)) {
				g->result = g->cand[i];
				g->step = G_RESULT;
				return 0;
			}
	if (g->ncand == 1) {
		g->result = g->cand[0];
		g->step = G_RESULT;
		return 0;
	}
	if (g->nans < GUIDE_MAX_QUESTIONS) {
		/* The pool, in order: fixed questions, then the certificates the candidates issue. */
		const char *pool[64];
		size_t np = 0;
		pool[np++] = "bundle";
		pool[np++] = "replace";
		pool[np++] = "payment";
		for (size_t i = 0; i < g->ncand && np < ARRAY_LEN(pool) - 1; i++) {
			const char *o = g->cand[i].v.outcome;
			if (!o)
				continue;
			const char *id = arena_printf(r->arena, "cert.%s", o);
			bool dupl = false;
			for (size_t k = 3; k < np && !dupl; k++)
				dupl = !strcmp(pool[k], id);
			if (!dupl)
				pool[np++] = id;
		}
		pool[np++] = "online";
		size_t best = SIZE_MAX, bestd = SIZE_MAX;
		for (size_t k = 0; k < np; k++) {
			bool asked = false;
			for (size_t a = 0; a < g->nans && !asked; a++)
				asked = !strcmp(g->ans[a].q, pool[k]);
			if (asked)
				continue;
			size_t yes = 0;
			for (size_t i = 0; i < g->ncand; i++)
				yes += pred(&g->cand[i].v, pool[k]);
			if (!yes || yes == g->ncand)
				continue;
			size_t d = yes * 2 > g->ncand ? yes * 2 - g->ncand : g->ncand - yes * 2;
			if (d < bestd) {
				bestd = d;
				best = k;
			}
		}
		/* A life event with a bundle: whether to do everything at once comes first. */
		bool bundle_asked = false;
		size_t bundles = 0;
		for (size_t a = 0; a < g->nans; a++)
			bundle_asked |= !strcmp(g->ans[a].q, "bundle");
		for (size_t i = 0; i < g->ncand; i++)
			bundles += g->cand[i].v.kind == SDOC_BUNDLE;
		if (!bundle_asked && bundles && bundles < g->ncand)
			best = 0;
		if (best != SIZE_MAX) {
			snprintf(g->next_q, sizeof(g->next_q), "%s", pool[best]);
			g->step = G_QUESTION;
			return 0;
		}
	}
	g->step = G_PICK;
	return 0;
}

/* ---- wording ------------------------------------------------------------------------------ */

static const char *subst(struct req *r, const char *msg, const char *val)
{
	const char *at = strstr(msg, "{x}");
	if (!at)
		return msg;
	return arena_printf(r->arena, "%.*s%s%s", (int)(at - msg), msg, val, at + 3);
}

/* The question's text and the reason a yes / no answer gives. */
static const char *q_text(struct req *r, const char *q)
{
	if (!strncmp(q, "cert.", 5))
		return subst(r, M(r, "daoban_q_cert"), ecert_name(q + 5, IS_EN(r)));
	return M(r, arena_printf(r->arena, "daoban_q_%s", q));
}

static const char *q_reason(struct req *r, const char *q, bool yes)
{
	if (!strncmp(q, "cert.", 5))
		return subst(r, M(r, yes ? "daoban_r_cert_y" : "daoban_r_cert_n"), ecert_name(q + 5, IS_EN(r)));
	return M(r, arena_printf(r->arena, "daoban_r_%s_%c", q, yes ? 'y' : 'n'));
}

static const char *ans_str(struct req *r, const struct guide *g, size_t n, const char *extra_q, bool extra_yes)
{
	struct sb sb = SB_INIT;
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s%s:%c", sb.len ? "," : "", g->ans[i].q, g->ans[i].yes ? 'y' : 'n');
	if (extra_q)
		sb_addf(&sb, "%s%s:%c", sb.len ? "," : "", extra_q, extra_yes ? 'y' : 'n');
	const char *s = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return s;
}

static const char *guide_href(struct req *r, const char *who, const char *theme, const char *ans, const char *pick)
{
	struct sb sb = SB_INIT;
	sb_adds(&sb, "/guide");
	const char *k[] = { "who", "theme", "ans", "pick" }, *v[] = { who, theme, ans, pick };
	for (size_t i = 0; i < 4; i++)
		if (v[i] && *v[i]) {
			sb_addch(&sb, sb.len > 6 ? '&' : '?');
			sb_adds(&sb, k[i]);
			sb_addch(&sb, '=');
			sb_add_urlenc(&sb, v[i], strlen(v[i]));
		}
	const char *s = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return s;
}

static json_t *reasons(struct req *r, const struct guide *g)
{
	bool en = IS_EN(r);
	json_t *a = json_array();
	json_array_append_new(a, json_string(M(r, g->aud == 2 ? "daoban_r_who_enterprise" : "daoban_r_who_individual")));
	json_array_append_new(a, json_string(subst(r, M(r, "daoban_r_theme"), search_theme_name(g->theme, en))));
	for (size_t i = 0; i < g->nans; i++)
		json_array_append_new(a, json_string(q_reason(r, g->ans[i].q, g->ans[i].yes)));
	if (g->pick)
		json_array_append_new(a, json_string(subst(r, M(r, "daoban_r_pick"),
							   en ? g->result.v.name_en : g->result.v.name_zh)));
	return a;
}

static json_t *doc_json(struct req *r, const struct sdoc_view *v)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", v->kind == SDOC_BUNDLE ? "bundle" : "item", "code",
			      v->code, "name_zh", v->name_zh, "name_en", v->name_en ? v->name_en : v->name_zh, "href",
			      search_doc_href(r, v->kind, v->code));
	json_object_set_new(o, "name", json_string(IS_EN(r) && v->name_en ? v->name_en : v->name_zh));
	return o;
}

/* ---- the page and the API ---------------------------------------------------------------- */

static json_t *step_json(struct req *r, struct guide *g, bool page)
{
	bool en = IS_EN(r);
	json_t *j = json_object();
	static const char *const names[] = { "who", "theme", "question", "pick", "result", "none" };
	json_object_set_new(j, "step", json_string(names[g->step]));
	if (g->who)
		json_object_set_new(j, "who", json_string(g->who));
	if (g->theme)
		json_object_set_new(j, "theme", json_string(g->theme));
	const char *ans = ans_str(r, g, g->nans, NULL, false);
	json_object_set_new(j, "ans", json_string(ans));
	if (g->nans || g->theme || g->who) {
		/* one step back */
		const char *back = g->pick && g->step == G_RESULT
					   ? guide_href(r, g->who, g->theme, ans, NULL)
				   : g->nans ? guide_href(r, g->who, g->theme, ans_str(r, g, g->nans - 1, NULL, false), NULL)
				   : g->theme ? guide_href(r, g->who, NULL, NULL, NULL)
					      : "/guide";
		json_object_set_new(j, "back_href", json_string(back));
	}
	json_t *opts = json_array();
	switch (g->step) {
	case G_WHO:
		json_object_set_new(j, "question", json_string(M(r, "daoban_q_who")));
		json_array_append_new(opts, json_pack("{s:s,s:s,s:s}", "value", "individual", "label",
						      M(r, "daoban_who_individual"), "href",
						      guide_href(r, "individual", NULL, NULL, NULL)));
		json_array_append_new(opts, json_pack("{s:s,s:s,s:s}", "value", "enterprise", "label",
						      M(r, "daoban_who_enterprise"), "href",
						      guide_href(r, "enterprise", NULL, NULL, NULL)));
		break;
	case G_THEME: {
		json_object_set_new(j, "question", json_string(M(r, "daoban_q_theme")));
		size_t i;
		json_t *v;
		json_array_foreach(search_state.labels.themes, i, v)
		{
			const char *code = json_string_value(json_object_get(v, "code"));
			json_t *aud = json_object_get(v, "audience");
			bool fits = false;
			size_t k;
			json_t *a;
			json_array_foreach(aud, k, a)
			{
				const char *s = json_string_value(a);
				fits |= s && ((g->aud == 1 && !strcmp(s, "individual")) || (g->aud == 2 && !strcmp(s, "enterprise")));
			}
			if (code && fits)
				json_array_append_new(opts, json_pack("{s:s,s:s,s:s}", "value", code, "label",
								      search_theme_name(code, en), "href",
								      guide_href(r, g->who, code, NULL, NULL)));
		}
		break;
	}
	case G_QUESTION:
		json_object_set_new(j, "question_id", json_string(g->next_q));
		json_object_set_new(j, "question", json_string(q_text(r, g->next_q)));
		json_array_append_new(opts, json_pack("{s:s,s:s,s:s}", "value", "y", "label", M(r, "daoban_yes"), "href",
						      guide_href(r, g->who, g->theme, ans_str(r, g, g->nans, g->next_q, true), NULL)));
		json_array_append_new(opts, json_pack("{s:s,s:s,s:s}", "value", "n", "label", M(r, "daoban_no"), "href",
						      guide_href(r, g->who, g->theme, ans_str(r, g, g->nans, g->next_q, false), NULL)));
		break;
	case G_PICK:
		json_object_set_new(j, "question", json_string(M(r, "daoban_q_pick")));
		for (size_t i = 0; i < g->ncand && i < GUIDE_MAX_PICK; i++) {
			json_t *o = doc_json(r, &g->cand[i].v);
			json_object_set_new(o, "value", json_string(g->cand[i].v.code));
			json_object_set_new(o, "label", json_string(en && g->cand[i].v.name_en ? g->cand[i].v.name_en
											: g->cand[i].v.name_zh));
			json_object_set_new(o, "href", json_string(guide_href(r, g->who, g->theme, ans, g->cand[i].v.code)));
			json_object_set_new(o, "doc_href", json_string(search_doc_href(r, g->cand[i].v.kind, g->cand[i].v.code)));
			json_array_append_new(opts, o);
		}
		break;
	case G_RESULT: {
		json_t *res = doc_json(r, &g->result.v);
		json_object_set_new(res, "reasons", reasons(r, g));
		const char *cond = en && g->result.v.summary_en ? g->result.v.summary_en : g->result.v.summary_zh;
		if (cond)
			json_object_set_new(res, g->result.v.kind == SDOC_BUNDLE ? "description" : "conditions",
					    json_string(cond));
		if (g->result.v.kind == SDOC_BUNDLE)
			json_object_set_new(res, "is_bundle", json_true());
		json_object_set_new(j, "result", res);
		break;
	}
	case G_NONE:
		json_object_set_new(j, "message", json_string(M(r, "daoban_none")));
		break;
	}
	if (g->step != G_RESULT && g->step != G_NONE)
		json_object_set_new(j, "options", opts);
	else
		json_decref(opts);
	if (g->step == G_RESULT) {
		/* other candidates left, for reference */
		json_t *alt = json_array();
		for (size_t i = 0; i < g->ncand && json_array_size(alt) < 5; i++)
			if (strcmp(g->cand[i].v.code, g->result.v.code))
				json_array_append_new(alt, doc_json(r, &g->cand[i].v));
		json_object_set_new(j, "alternatives", alt);
	}
	(void)page;
	return j;
}

/* GET /guide and /api/v1/guide: the step the answers so far lead to. */
static int guide(struct req *r)
{
	struct guide g;
	int rc = guide_read(r, &g);
	if (!rc)
		rc = guide_run(r, &g);
	if (rc)
		return rc;
	if (r->api)
		return resp_json(r, 200, step_json(r, &g, false));
	json_t *ctx = step_json(r, &g, true);
	json_object_set_new(ctx, "title", json_string(M(r, "daoban_title")));
	json_object_set_new(ctx, "nav_guide", json_true());
	static const char *const flags[] = { "is_who", "is_theme", "is_question", "is_pick", "is_result", "is_none" };
	json_object_set_new(ctx, flags[g.step], json_true());
	if (json_array_size(json_object_get(ctx, "alternatives")))
		json_object_set_new(ctx, "has_alternatives", json_true());
	json_object_set_new(ctx, "step_no", json_integer(g.step == G_WHO ? 1 : g.step == G_THEME ? 2 : (json_int_t)(3 + g.nans)));
	return resp_page(r, 200, "search/guide", ctx);
}

const struct route guide_routes[] = {
	{ HTTP_GET, "/guide", guide, ROLE_PUBLIC, 0, "search.guide", search_cache_gen },
	{ HTTP_GET, "/api/v1/guide", guide, ROLE_PUBLIC, 0, "search.api_guide", search_cache_gen },
};
const size_t guide_routes_n = ARRAY_LEN(guide_routes);
