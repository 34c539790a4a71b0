/* pages.c: the catalog's HTML pages (home, service list, service guide 办事指南, departments,
 * bundles). Each handler reads its parameters (deny-by-default: only those named here),
 * asks store.c, builds a template context in the request's language and renders
 * templates/catalog/<page>.mustache. Text comes from the message catalogs (data/i18n);
 * the handlers only choose between _zh and _en fields and format numbers. */
#include "catalog/catalog_impl.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/http.h"
#include "http/msg.h"
#include "http/sections.h"
#include "store/db.h"
#include "view/view.h"

#define IS_EN(r) (strcmp((r)->lang, "en") == 0)
#define PICK(r, obj, field) catalog_pick((r)->lang, (obj)->field##_zh, (obj)->field##_en)

/* Sets key to s when s is not NULL. */
/* msg with the first tag (e.g. "{n}") replaced by val. */
static const char *subst(struct req *r, const char *msg, const char *tag, const char *val)
{
	const char *at = strstr(msg, tag);
	if (!at)
		return msg;
	return arena_printf(r->arena, "%.*s%s%s", (int)(at - msg), msg, val, at + strlen(tag));
}

static const char *fmt_n(struct req *r, const char *msg, const char *n)
{
	return subst(r, msg, "{n}", n);
}

/* The message key with {n} = a and {n2} = b. */
static const char *fmt2(struct req *r, const char *key, long a, const char *b)
{
	return subst(r, fmt_n(r, M(r, key), arena_printf(r->arena, "%ld", a)), "{n2}", b);
}

static const char *fmt_long(struct req *r, const char *key, long n)
{
	return fmt_n(r, M(r, key), arena_printf(r->arena, "%ld", n));
}

static const char *days_label(struct req *r, long days)
{
	if (days == 0)
		return M(r, "limit_on_spot");
	return fmt_long(r, days == 1 ? "days_one" : "days_many", days);
}

static const char *fee_label(struct req *r, double fee)
{
	if (fee <= 0)
		return M(r, "fee_free");
	return fmt_n(r, M(r, "fee_fmt"), arena_printf(r->arena, "%g", fee));
}

static const char *key_msg(struct req *r, const char *prefix, const char *code)
{
	return M(r, arena_printf(r->arena, "%s%s", prefix, code ? code : ""));
}


static void add_qparam(struct sb *sb, const char *key, const char *val)
{
	sb_addch(sb, sb->len && memchr(sb->buf, '?', sb->len) ? '&' : '?');
	sb_add_urlenc(sb, key, strlen(key));
	sb_addch(sb, '=');
	sb_add_urlenc(sb, val, strlen(val));
}

static const char *sb_to_arena(struct req *r, struct sb *sb)
{
	const char *s = arena_strndup(r->arena, sb->buf, sb->len);
	sb_release(sb);
	return s;
}

/* The current address with lang switched to the other language. */

/* The context every page starts from: title, current navigation entry, language switch. */
static json_t *page_ctx(struct req *r, const char *title, const char *nav)
{
	json_t *ctx = json_object();
	jset(ctx, "title", title);
	if (nav)
		json_object_set_new(ctx, nav, json_true());
	return ctx;
}

static json_t *audience_labels(struct req *r, const char *aud)
{
	json_t *a = json_array();
	if (aud && strstr(aud, "individual"))
		json_array_append_new(a, json_string(M(r, "audience_individual")));
	if (aud && strstr(aud, "enterprise"))
		json_array_append_new(a, json_string(M(r, "audience_enterprise")));
	return a;
}

static json_t *item_card(struct req *r, const struct catalog_item *it)
{
	json_t *c = json_object();
	jset(c, "code", it->code);
	jset(c, "href", arena_printf(r->arena, "/services/%s", it->code));
	jset(c, "name", PICK(r, it, name));
	jset(c, "department", catalog_pick(r->lang, it->dept_name_zh, it->dept_name_en));
	json_object_set_new(c, "depth", json_integer(it->online_depth));
	jset(c, "depth_label", key_msg(r, "depth_", arena_printf(r->arena, "%ld", it->online_depth)));
	jset(c, "promised", days_label(r, it->promised_limit_days));
	jset(c, "fee", fee_label(r, it->fee_yuan));
	json_object_set_new(c, "audience", audience_labels(r, it->audience));
	return c;
}

static json_t *item_cards(struct req *r, const struct catalog_item *items, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, item_card(r, &items[i]));
	return arr;
}

static json_t *theme_links(struct req *r, unsigned audience)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < catalog_themes_n; i++) {
		const struct catalog_theme *t = &catalog_themes[i];
		if (!(t->audience & audience))
			continue;
		json_t *o = json_object();
		jset(o, "code", t->code);
		jset(o, "name", MC(r, "catalog_theme_", t->code));
		jset(o, "icon", MC(r, "catalog_theme_icon_", t->code));
		jset(o, "href", arena_printf(r->arena, "/services?theme=%s&audience=%s", t->code,
					     audience == CATALOG_AUD_ENTERPRISE ? "enterprise" : "individual"));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* What people call an item or a bundle, in the page's language, as one line ("又称" / "Also
 * called"): the aliases joined; NULL when there are none. */
static const char *also_called(struct req *r, const char *zh_json, const char *en_json)
{
	json_t *a = json_loads(IS_EN(r) ? (en_json ? en_json : "[]") : (zh_json ? zh_json : "[]"), 0, NULL);
	struct sb sb = SB_INIT;
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			continue;
		if (sb.len)
			sb_adds(&sb, M(r, "admin_"));
		sb_adds(&sb, json_string_value(e));
	}
	json_decref(a);
	const char *s = sb.len ? arena_strndup(r->arena, sb.buf, sb.len) : NULL;
	sb_release(&sb);
	return s;
}

static json_t *bundle_card(struct req *r, const struct catalog_bundle *b)
{
	json_t *o = json_object();
	jset(o, "code", b->code);
	jset(o, "href", arena_printf(r->arena, "/bundles/%s", b->code));
	jset(o, "name", PICK(r, b, name));
	jset(o, "description", PICK(r, b, description));
	jset(o, "count", fmt_long(r, "bundle_items_fmt", b->items));
	return o;
}

/* ---- / -------------------------------------------------------------------------------- */

int catalog_page_home(struct req *r)
{
	struct catalog_bundle *b;
	struct catalog_dept *d;
	size_t nb, nd;
	int rc;
	if ((rc = catalog_bundles_list(r->db, r->arena, &b, &nb)) ||
	    (rc = catalog_depts_list(r->db, r->arena, &d, &nd)))
		return rc;
	long items = 0;
	for (size_t i = 0; i < nd; i++)
		items += d[i].items;
	json_t *ctx = page_ctx(r, NULL, "nav_home");
	json_object_set_new(ctx, "themes_individual", theme_links(r, CATALOG_AUD_INDIVIDUAL));
	json_object_set_new(ctx, "themes_enterprise", theme_links(r, CATALOG_AUD_ENTERPRISE));
	json_t *arr = json_array();
	for (size_t i = 0; i < nb && i < 6; i++)
		json_array_append_new(arr, bundle_card(r, &b[i]));
	json_object_set_new(ctx, "bundles", arr);
	jset(ctx, "stats", subst(r, fmt_long(r, "home_stats_fmt", items), "{d}",
				 arena_printf(r->arena, "%zu", nd)));
	return resp_page(r, 200, "catalog/home", ctx);
}

/* ---- /services ------------------------------------------------------------------------ */

/* The query string of the filters (without page), "" when none. */
static void filter_query(struct sb *sb, const struct catalog_filter *f, long per_page)
{
	sb_adds(sb, "/services");
	if (f->q)
		add_qparam(sb, "q", f->q);
	if (f->theme)
		add_qparam(sb, "theme", f->theme);
	if (f->department)
		add_qparam(sb, "department", f->department);
	if (f->audience)
		add_qparam(sb, "audience", f->audience);
	if (per_page != 20) {
		char n[24];
		snprintf(n, sizeof(n), "%ld", per_page);
		add_qparam(sb, "per_page", n);
	}
}

static const char *page_href(struct req *r, const struct catalog_filter *f, long per_page, long page)
{
	struct sb sb = SB_INIT;
	filter_query(&sb, f, per_page);
	if (page > 1) {
		char n[24];
		snprintf(n, sizeof(n), "%ld", page);
		add_qparam(&sb, "page", n);
	}
	return sb_to_arena(r, &sb);
}

static json_t *pagination(struct req *r, const struct catalog_filter *f, long page, long per_page,
			  long total)
{
	long pages = (total + per_page - 1) / per_page;
	json_t *p = json_object();
	if (pages <= 1) {
		json_decref(p);
		return json_false();
	}
	if (page > 1)
		jset(p, "prev_href", page_href(r, f, per_page, page - 1));
	if (page < pages)
		jset(p, "next_href", page_href(r, f, per_page, page + 1));
	json_t *arr = json_array();
	long last_shown = 0;
	for (long i = 1; i <= pages; i++) {
		if (i != 1 && i != pages && (i < page - 2 || i > page + 2))
			continue;
		json_t *o = json_object();
		if (last_shown && i > last_shown + 1)
			json_object_set_new(o, "gap_before", json_true());
		json_object_set_new(o, "n", json_integer(i));
		jset(o, "href", page_href(r, f, per_page, i));
		if (i == page)
			json_object_set_new(o, "current", json_true());
		jset(o, "label", fmt_long(r, "page_n", i));
		json_array_append_new(arr, o);
		last_shown = i;
	}
	json_object_set_new(p, "pages", arr);
	jset(p, "status", fmt2(r, "page_of_fmt", page, arena_printf(r->arena, "%ld", pages)));
	return p;
}

static json_t *option(const char *value, const char *label, bool selected)
{
	json_t *o = json_pack("{s:s,s:s}", "value", value, "label", label);
	if (selected)
		json_object_set_new(o, "selected", json_true());
	return o;
}

int catalog_page_services(struct req *r)
{
	struct catalog_filter f;
	long page, per_page, total;
	struct catalog_item *items;
	struct catalog_dept *d;
	size_t n, nd;
	int rc = catalog_read_filter(r, &f, &page, &per_page);
	if (rc)
		return rc;
	if ((rc = catalog_items_list(r->db, r->arena, &f, page, per_page, &items, &n, &total)) ||
	    (rc = catalog_depts_list(r->db, r->arena, &d, &nd)))
		return rc;

	const char *title = M(r, "services_title");
	const struct catalog_theme *th = catalog_theme_find(f.theme);
	if (th)
		title = arena_printf(r->arena, "%s - %s", MC(r, "catalog_theme_", th->code), title);
	json_t *ctx = page_ctx(r, title, "nav_services");
	jset(ctx, "heading", th ? MC(r, "catalog_theme_", th->code) : M(r, "services_title"));
	jset(ctx, "q", f.q);

	json_t *opts = json_array();
	for (size_t i = 0; i < catalog_themes_n; i++)
		json_array_append_new(opts, option(catalog_themes[i].code,
						   MC(r, "catalog_theme_", catalog_themes[i].code),
						   f.theme && !strcmp(f.theme, catalog_themes[i].code)));
	json_object_set_new(ctx, "theme_options", opts);
	opts = json_array();
	for (size_t i = 0; i < nd; i++)
		json_array_append_new(opts, option(d[i].code, PICK(r, &d[i], name),
						   f.department && !strcmp(f.department, d[i].code)));
	json_object_set_new(ctx, "department_options", opts);
	opts = json_array();
	json_array_append_new(opts, option("individual", M(r, "audience_individual"),
					   f.audience && !strcmp(f.audience, "individual")));
	json_array_append_new(opts, option("enterprise", M(r, "audience_enterprise"),
					   f.audience && !strcmp(f.audience, "enterprise")));
	json_object_set_new(ctx, "audience_options", opts);
	if (per_page != 20)
		json_object_set_new(ctx, "per_page", json_integer(per_page));

	jset(ctx, "count", fmt_long(r, "results_fmt", total));
	json_object_set_new(ctx, "items", item_cards(r, items, n));
	json_object_set_new(ctx, "empty", json_boolean(n == 0));
	json_object_set_new(ctx, "pagination", pagination(r, &f, page, per_page, total));
	json_object_set_new(ctx, "filtered", json_boolean(f.q || f.theme || f.department || f.audience));
	return resp_page(r, 200, "catalog/services", ctx);
}

/* ---- /services/{code}: the guide ------------------------------------------------------ */

static json_t *guide_materials(struct req *r, const char *text)
{
	json_t *in = text ? json_loads(text, 0, NULL) : NULL;
	json_t *out = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(in, i, m) {
		json_t *o = json_object();
		jset(o, "name", catalog_pick(r->lang, json_string_value(json_object_get(m, "name_zh")),
					     json_string_value(json_object_get(m, "name_en"))));
		bool req = json_is_true(json_object_get(m, "required"));
		json_object_set_new(o, "required", json_boolean(req));
		jset(o, "required_label", M(r, req ? "material_required" : "material_optional"));
		jset(o, "form_label", key_msg(r, "material_form_", json_string_value(json_object_get(m, "form"))));
		const struct catalog_label *ec = catalog_ecert_find(json_string_value(json_object_get(m, "ecert")));
		if (ec)
			jset(o, "ecert", fmt_n(r, M(r, "material_ecert_fmt"),
						MC(r, "cases_ecert_", ec->code)));
		json_array_append_new(out, o);
	}
	json_decref(in);
	return out;
}

static json_t *guide_fields(struct req *r, const char *text)
{
	json_t *in = text ? json_loads(text, 0, NULL) : NULL;
	json_t *out = json_array();
	size_t i, j;
	json_t *f, *o;
	json_array_foreach(in, i, f) {
		json_t *x = json_object();
		jset(x, "label", catalog_pick(r->lang, json_string_value(json_object_get(f, "label_zh")),
					      json_string_value(json_object_get(f, "label_en"))));
		bool req = json_is_true(json_object_get(f, "required"));
		json_object_set_new(x, "required", json_boolean(req));
		const char *meta = subst(r, M(r, "field_meta_fmt"), "{type}",
					 key_msg(r, "field_type_", json_string_value(json_object_get(f, "type"))));
		jset(x, "meta", subst(r, meta, "{req}", M(r, req ? "field_required" : "field_optional")));
		json_t *opts = json_array();
		json_array_foreach(json_object_get(f, "options"), j, o)
			json_array_append_new(opts, json_string(catalog_pick(
				r->lang, json_string_value(json_object_get(o, "label_zh")),
				json_string_value(json_object_get(o, "label_en")))));
		if (json_array_size(opts)) {
			json_object_set_new(x, "options", opts);
			json_object_set_new(x, "has_options", json_true());
		}
		else
			json_decref(opts);
		json_array_append_new(out, x);
	}
	json_decref(in);
	return out;
}

int catalog_page_service(struct req *r)
{
	const char *code = req_param(r, "code");
	struct catalog_item it, cur;
	struct catalog_bundle *b;
	size_t nb;
	long version;
	int rc = req_query_long(r, "version", 0, 1, 1000000, &version);
	if (rc)
		return rc;
	rc = catalog_item_get(r->db, r->arena, code, 0, &cur);
	if (rc == GH_ENOTFOUND)
		return catalog_not_found(r, N_("catalog_no_such_item"), code);
	if (rc)
		return rc;
	it = cur;
	if (version && version != cur.version) {
		rc = catalog_item_get(r->db, r->arena, code, version, &it);
		if (rc == GH_ENOTFOUND) {
			req_error_detail(r, "%s", MF(r, "catalog_item_no_version", MA("version", version)));
		}
		if (rc)
			return rc;
	}
	if ((rc = catalog_item_bundles(r->db, r->arena, code, &b, &nb)))
		return rc;

	const char *name = PICK(r, &it, name);
	json_t *ctx = page_ctx(r, name, "nav_services");
	jset(ctx, "name", name);
	jset(ctx, "name_other", IS_EN(r) ? it.name_zh : it.name_en);
	jset(ctx, "also_called", also_called(r, it.aliases_zh, it.aliases_en));
	jset(ctx, "code", it.code);
	if (it.version != cur.version) {
		json_object_set_new(ctx, "old_version", json_true());
		jset(ctx, "old_notice", fmt2(r, "old_version_fmt", it.version,
					     arena_printf(r->arena, "%ld", cur.version)));
		jset(ctx, "current_href", arena_printf(r->arena, "/services/%s", it.code));
	}
	jset(ctx, "dept_name", catalog_pick(r->lang, it.dept_name_zh, it.dept_name_en));
	jset(ctx, "dept_href", arena_printf(r->arena, "/departments/%s", it.department));
	jset(ctx, "dept_phone", it.dept_phone);
	jset(ctx, "dept_address", catalog_pick(r->lang, it.dept_address_zh, it.dept_address_en));
	jset(ctx, "item_type", key_msg(r, "item_type_", it.item_type));
	json_object_set_new(ctx, "audience", audience_labels(r, it.audience));
	jset(ctx, "level", key_msg(r, "level_", it.level));
	const struct catalog_theme *th = catalog_theme_find(it.theme);
	if (th) {
		jset(ctx, "theme", MC(r, "catalog_theme_", th->code));
		jset(ctx, "theme_href", arena_printf(r->arena, "/services?theme=%s", th->code));
	}
	json_object_set_new(ctx, "depth", json_integer(it.online_depth));
	const char *depth = arena_printf(r->arena, "%ld", it.online_depth);
	if (it.online_depth >= 3) /* applications are filed online from depth 3 on */
		json_object_set_new(ctx, "can_apply", json_true());
	jset(ctx, "depth_label", key_msg(r, "depth_", depth));
	jset(ctx, "depth_desc", key_msg(r, "depth_desc_", depth));
	jset(ctx, "visits", key_msg(r, "visits_", arena_printf(r->arena, "%ld", it.visits_required)));
	jset(ctx, "legal_limit", days_label(r, it.legal_limit_days));
	jset(ctx, "promised_limit", days_label(r, it.promised_limit_days));
	jset(ctx, "fee", fee_label(r, it.fee_yuan));
	jset(ctx, "conditions", PICK(r, &it, conditions));
	jset(ctx, "legal_basis", it.legal_basis_zh);
	json_t *mats = guide_materials(r, it.materials), *fields = guide_fields(r, it.form);
	json_object_set_new(ctx, "has_materials", json_boolean(json_array_size(mats) > 0));
	json_object_set_new(ctx, "has_fields", json_boolean(json_array_size(fields) > 0));
	json_object_set_new(ctx, "materials", mats);
	json_object_set_new(ctx, "fields", fields);
	if (IS_EN(r))
		jset(ctx, "legal_basis_note", M(r, "guide_legal_basis_note"));
	const struct catalog_label *oc = catalog_ecert_find(it.outcome_ecert);
	if (oc)
		jset(ctx, "outcome", MC(r, "cases_ecert_", oc->code));
	json_object_set_new(ctx, "version", json_integer(it.version));
	jset(ctx, "version_label", fmt2(r, "version_fmt", it.version,
					it.created_at ? arena_strndup(r->arena, it.created_at, 10) : ""));
	jset(ctx, "api_href", arena_printf(r->arena, "/api/v1/services/%s", it.code));
	json_t *arr = json_array();
	for (size_t i = 0; i < nb; i++)
		json_array_append_new(arr, bundle_card(r, &b[i]));
	json_object_set_new(ctx, "has_bundles", json_boolean(nb > 0));
	json_object_set_new(ctx, "bundles", arr);
	/* Other domains' sections (the FAQ of public consultations): changing one bumps
	 * catalog_generation. */
	(void)page_sections_run(r, CATALOG_PAGE_GUIDE, it.code, ctx); /* one left out: the page still serves */
	return resp_page(r, 200, "catalog/service", ctx);
}

/* ---- departments ---------------------------------------------------------------------- */

int catalog_page_departments(struct req *r)
{
	struct catalog_dept *d;
	size_t n;
	int rc = catalog_depts_list(r->db, r->arena, &d, &n);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, M(r, "departments_title"), "nav_departments");
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		jset(o, "name", PICK(r, &d[i], name));
		jset(o, "href", arena_printf(r->arena, "/departments/%s", d[i].code));
		jset(o, "count", fmt_long(r, "results_fmt", d[i].items));
		jset(o, "phone", d[i].phone);
		json_array_append_new(arr, o);
	}
	json_object_set_new(ctx, "departments", arr);
	return resp_page(r, 200, "catalog/departments", ctx);
}

int catalog_page_department(struct req *r)
{
	struct catalog_dept d;
	struct catalog_item *items;
	size_t n;
	int rc = catalog_dept_load(r, &d, &items, &n);
	if (rc || r->api)
		return rc ? rc : catalog_with_services(r, catalog_dept_json(&d), items, n);
	const char *name = PICK(r, &d, name);
	json_t *ctx = page_ctx(r, name, "nav_departments");
	jset(ctx, "name", name);
	jset(ctx, "href", arena_printf(r->arena, "/departments/%s", d.code));
	jset(ctx, "phone", d.phone);
	jset(ctx, "address", PICK(r, &d, address));
	jset(ctx, "count", fmt_long(r, "results_fmt", (long)n));
	json_object_set_new(ctx, "items", item_cards(r, items, n));
	return resp_page(r, 200, "catalog/department", ctx);
}

/* ---- bundles -------------------------------------------------------------------------- */

int catalog_page_bundles(struct req *r)
{
	struct catalog_bundle *b;
	size_t n;
	int rc = catalog_bundles_list(r->db, r->arena, &b, &n);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, M(r, "bundles_title"), "nav_bundles");
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, bundle_card(r, &b[i]));
	json_object_set_new(ctx, "bundles", arr);
	return resp_page(r, 200, "catalog/bundles", ctx);
}

int catalog_page_bundle(struct req *r)
{
	struct catalog_bundle b;
	struct catalog_item *items;
	size_t n;
	int rc = catalog_bundle_load(r, &b, &items, &n);
	if (rc || r->api)
		return rc ? rc : catalog_with_services(r, catalog_bundle_json(&b), items, n);
	const char *name = PICK(r, &b, name);
	json_t *ctx = page_ctx(r, name, "nav_bundles");
	jset(ctx, "name", name);
	jset(ctx, "code", b.code);
	jset(ctx, "description", PICK(r, &b, description));
	jset(ctx, "also_called", also_called(r, b.aliases_zh, b.aliases_en));
	jset(ctx, "count", fmt_long(r, "bundle_items_fmt", (long)n));
	json_object_set_new(ctx, "items", item_cards(r, items, n));
	/* One application for all: offered when at least one item is applied for online. */
	bool online = false;
	for (size_t i = 0; i < n; i++)
		online |= items[i].online_depth >= 3;
	if (online)
		jset(ctx, "apply_href", arena_printf(r->arena, "/bundles/%s/apply", b.code));
	return resp_page(r, 200, "catalog/bundle", ctx);
}
