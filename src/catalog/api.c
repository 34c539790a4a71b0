/* api.c: the catalog's JSON API under /api/v1, and the JSON shapes and filter parsing that
 * pages.c shares. Every answer carries both languages (name_zh, name_en): clients choose.
 * Errors are returned as GH_E* codes with a detail; server.c renders
 * {"error":{"code","message","detail"}}. */
#include "catalog/catalog_impl.h"
#include "catalog/fields.h"

#include <math.h>
#include <string.h>

#include "app.h"
#include "base/err.h"
#include "base/util.h"
#include "http/http.h"
#include "store/db.h"
#include "http/msg.h"

#define IS_EN(r) (strcmp((r)->lang, "en") == 0)

/* ---- shapes --------------------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Parses JSON text stored by import.c; an empty array if it is somehow not JSON. */
static json_t *jparse(const char *s)
{
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	return j ? j : json_array();
}

static json_t *jfee(double fee)
{
	if (fee == floor(fee) && fabs(fee) < 1e15)
		return json_integer((json_int_t)fee);
	return json_real(fee);
}

static json_t *jaudience(const char *aud)
{
	json_t *a = json_array();
	if (aud && strstr(aud, "individual"))
		json_array_append_new(a, json_string("individual"));
	if (aud && strstr(aud, "enterprise"))
		json_array_append_new(a, json_string("enterprise"));
	return a;
}

json_t *catalog_item_summary_json(const struct catalog_item *it)
{
	json_t *j = json_object();
	json_object_set_new(j, "code", jstr(it->code));
	json_object_set_new(j, "version", json_integer(it->version));
	json_object_set_new(j, "name_zh", jstr(it->name_zh));
	json_object_set_new(j, "name_en", jstr(it->name_en));
	json_object_set_new(j, "department", jstr(it->department));
	json_object_set_new(j, "department_name_zh", jstr(it->dept_name_zh));
	json_object_set_new(j, "department_name_en", jstr(it->dept_name_en));
	json_object_set_new(j, "audience", jaudience(it->audience));
	json_object_set_new(j, "theme", jstr(it->theme));
	json_object_set_new(j, "item_type", jstr(it->item_type));
	json_object_set_new(j, "level", jstr(it->level));
	json_object_set_new(j, "online_depth", json_integer(it->online_depth));
	json_object_set_new(j, "visits_required", json_integer(it->visits_required));
	json_object_set_new(j, "legal_limit_days", json_integer(it->legal_limit_days));
	json_object_set_new(j, "promised_limit_days", json_integer(it->promised_limit_days));
	json_object_set_new(j, "fee_yuan", jfee(it->fee_yuan));
	return j;
}

json_t *catalog_item_full_json(const struct catalog_item *it)
{
	json_t *j = catalog_item_summary_json(it);
	json_object_set_new(j, "is_current", json_boolean(it->is_current));
	json_object_set_new(j, "conditions_zh", jstr(it->conditions_zh));
	json_object_set_new(j, "conditions_en", jstr(it->conditions_en));
	json_object_set_new(j, "legal_basis_zh", jstr(it->legal_basis_zh));
	json_object_set_new(j, "materials", jparse(it->materials));
	json_object_set_new(j, "form", jparse(it->form));
	json_t *schema = catalog_form_schema(json_object_get(j, "form"));
	if (schema)
		json_object_set_new(j, "form_schema", schema);
	json_object_set_new(j, "outcome_ecert", jstr(it->outcome_ecert));
	json_object_set_new(j, "keywords_zh", jparse(it->keywords_zh));
	json_object_set_new(j, "aliases_zh", jparse(it->aliases_zh));
	json_object_set_new(j, "aliases_en", jparse(it->aliases_en));
	json_object_set_new(j, "content_hash", jstr(it->content_hash));
	json_object_set_new(j, "created_at", jstr(it->created_at));
	return j;
}

json_t *catalog_dept_json(const struct catalog_dept *d)
{
	json_t *j = json_object();
	json_object_set_new(j, "code", jstr(d->code));
	json_object_set_new(j, "name_zh", jstr(d->name_zh));
	json_object_set_new(j, "name_en", jstr(d->name_en));
	json_object_set_new(j, "phone", jstr(d->phone));
	json_object_set_new(j, "address_zh", jstr(d->address_zh));
	json_object_set_new(j, "address_en", jstr(d->address_en));
	json_object_set_new(j, "items", json_integer(d->items));
	return j;
}

json_t *catalog_bundle_json(const struct catalog_bundle *b)
{
	json_t *j = json_object();
	json_object_set_new(j, "code", jstr(b->code));
	json_object_set_new(j, "name_zh", jstr(b->name_zh));
	json_object_set_new(j, "name_en", jstr(b->name_en));
	json_object_set_new(j, "description_zh", jstr(b->description_zh));
	json_object_set_new(j, "description_en", jstr(b->description_en));
	json_object_set_new(j, "aliases_zh", jparse(b->aliases_zh));
	json_object_set_new(j, "aliases_en", jparse(b->aliases_en));
	json_object_set_new(j, "item_count", json_integer(b->items));
	return j;
}

/* ---- request parsing ------------------------------------------------------------------ */

const char *catalog_clip(struct req *r, const char *s)
{
	size_t n = strlen(s);
	if (n <= 60)
		return s;
	n = 60;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--; /* back to the start of a character */
	return arena_printf(r->arena, "%.*s...", (int)n, s);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int catalog_read_filter(struct req *r, struct catalog_filter *f, long *page, long *per_page)
{
	int rc;
	memset(f, 0, sizeof(*f));
	if ((rc = req_query_long(r, "page", 1, 1, 100000, page)) ||
	    (rc = req_query_long(r, "per_page", 20, 1, 100, per_page)))
		return rc;
	f->theme = nonempty(req_query(r, "theme"));
	if (f->theme && !catalog_theme_find(f->theme)) {
		req_error_detail(r, "%s",
				 MF(r, r->api ? "catalog_unknown_theme_api" : "catalog_unknown_theme",
				    MA("code", catalog_clip(r, f->theme))));
		return GH_EINVAL;
	}
	f->audience = nonempty(req_query(r, "audience"));
	if (f->audience && strcmp(f->audience, "individual") != 0 && strcmp(f->audience, "enterprise") != 0) {
		req_error_detail(r, "%s", M(r, "catalog_parameter_audience_must_individual_enterprise"));
		return GH_EINVAL;
	}
	f->q = nonempty(req_query(r, "q"));
	if (f->q && strlen(f->q) > 400) {
		req_error_detail(r, "%s", M(r, "catalog_search_text_too_long_most"));
		return GH_EINVAL;
	}
	f->department = nonempty(req_query(r, "department"));
	if (f->department) {
		bool exists = false;
		if (strlen(f->department) <= 100 &&
		    (rc = catalog_dept_exists(r->db, r->arena, f->department, &exists)))
			return rc;
		if (!exists) {
			req_error_detail(r, "%s",
					 MF(r, r->api ? "catalog_unknown_department_api" : "catalog_unknown_department",
					    MA("code", catalog_clip(r, f->department))));
			return GH_EINVAL;
		}
	}
	return 0;
}

int catalog_not_found(struct req *r, const char *what, const char *code)
{
	req_error_detail(r, "%s", MF(r, what, MA("code", catalog_clip(r, code))));
	return GH_ENOTFOUND;
}

/* ---- handlers ------------------------------------------------------------------------- */

static int api_services(struct req *r)
{
	struct catalog_filter f;
	long page, per_page, total;
	struct catalog_item *items;
	size_t n;
	int rc = catalog_read_filter(r, &f, &page, &per_page);
	if (rc)
		return rc;
	if ((rc = catalog_items_list(r->db, r->arena, &f, page, per_page, &items, &n, &total)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, catalog_item_summary_json(&items[i]));
	return resp_json(r, 200, json_pack("{s:o,s:i,s:i,s:I}", "items", arr, "page", (int)page,
					   "per_page", (int)per_page, "total", (json_int_t)total));
}

static int api_service(struct req *r)
{
	const char *code = req_param(r, "code");
	struct catalog_item it;
	long version;
	int rc = req_query_long(r, "version", 0, 1, 1000000, &version);
	if (rc)
		return rc;
	rc = catalog_item_get(r->db, r->arena, code, version, &it);
	if (rc == GH_ENOTFOUND && version) {
		req_error_detail(r, "%s",
				 MF(r, "catalog_no_version", MA("code", catalog_clip(r, code)), MA("version", version)));
		return rc;
	}
	if (rc == GH_ENOTFOUND)
		return catalog_not_found(r, N_("catalog_no_such_item"), code);
	if (rc)
		return rc;
	return resp_json(r, 200, catalog_item_full_json(&it));
}

static int api_versions(struct req *r)
{
	const char *code = req_param(r, "code");
	struct catalog_item *v;
	size_t n;
	int rc = catalog_item_versions(r->db, r->arena, code, &v, &n);
	if (rc == GH_ENOTFOUND)
		return catalog_not_found(r, N_("catalog_no_such_item"), code);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:i,s:b,s:s?,s:s?,s:s?,s:s?}", "version",
						     (int)v[i].version, "is_current", v[i].is_current,
						     "name_zh", v[i].name_zh, "name_en", v[i].name_en,
						     "content_hash", v[i].content_hash, "created_at",
						     v[i].created_at));
	return resp_json(r, 200, json_pack("{s:s,s:o}", "code", code, "versions", arr));
}

static int api_departments(struct req *r)
{
	struct catalog_dept *d;
	size_t n;
	int rc = catalog_depts_list(r->db, r->arena, &d, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, catalog_dept_json(&d[i]));
	return resp_json(r, 200, json_pack("{s:o}", "departments", arr));
}

int catalog_dept_load(struct req *r, struct catalog_dept *d, struct catalog_item **items, size_t *n)
{
	const char *code = req_param(r, "code");
	long total;
	int rc = catalog_dept_get(r->db, r->arena, code, d);
	if (rc == GH_ENOTFOUND)
		return catalog_not_found(r, N_("catalog_no_such_department"), code);
	if (rc)
		return rc;
	struct catalog_filter f = { .department = code };
	return catalog_items_list(r->db, r->arena, &f, 1, 10000, items, n, &total);
}

int catalog_with_services(struct req *r, json_t *j, const struct catalog_item *items, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, catalog_item_summary_json(&items[i]));
	json_object_set_new(j, "services", arr);
	return resp_json(r, 200, j);
}

static int api_bundles(struct req *r)
{
	struct catalog_bundle *b;
	size_t n;
	int rc = catalog_bundles_list(r->db, r->arena, &b, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, catalog_bundle_json(&b[i]));
	return resp_json(r, 200, json_pack("{s:o}", "bundles", arr));
}

int catalog_bundle_load(struct req *r, struct catalog_bundle *b, struct catalog_item **items, size_t *n)
{
	const char *code = req_param(r, "code");
	int rc = catalog_bundle_get(r->db, r->arena, code, b);
	if (rc == GH_ENOTFOUND)
		return catalog_not_found(r, N_("catalog_no_such_bundle"), code);
	return rc ? rc : catalog_bundle_items(r->db, r->arena, code, items, n);
}

static int api_themes(struct req *r)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < catalog_themes_n; i++) {
		const struct catalog_theme *t = &catalog_themes[i];
		const char *key = arena_printf(r->arena, "catalog_theme_%s", t->code);
		const struct view *v = r->app->view;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:s}", "code", t->code, "name_zh",
						     view_msg(v, "zh", key), "name_en", view_msg(v, "en", key), "audience",
						     jaudience(t->audience == (CATALOG_AUD_INDIVIDUAL | CATALOG_AUD_ENTERPRISE) ?
								       "individual,enterprise" :
								       t->audience == CATALOG_AUD_ENTERPRISE ? "enterprise" : "individual"),
						     "icon", MC(r, "catalog_theme_icon_", t->code)));
	}
	return resp_json(r, 200, json_pack("{s:o}", "themes", arr));
}

static int api_regions(struct req *r)
{
	struct catalog_region *g;
	size_t n;
	int rc = catalog_regions_list(r->db, r->arena, &g, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s?,s:s,s:s,s:s}", "code", g[i].code, "parent",
						     g[i].parent, "level", g[i].level, "name_zh",
						     g[i].name_zh, "name_en", g[i].name_en));
	return resp_json(r, 200, json_pack("{s:o}", "regions", arr));
}

/* ---- the route table (HTML handlers live in pages.c) ---------------------------------- */

const struct route catalog_routes[] = {
	{ HTTP_GET, "/", catalog_page_home, ROLE_PUBLIC, 0, "catalog.home", catalog_generation },
	{ HTTP_GET, "/services", catalog_page_services, ROLE_PUBLIC, 0, "catalog.services", catalog_generation },
	{ HTTP_GET, "/services/{code}", catalog_page_service, ROLE_PUBLIC, 0, "catalog.service", catalog_generation },
	{ HTTP_GET, "/departments", catalog_page_departments, ROLE_PUBLIC, 0, "catalog.departments", catalog_generation },
	{ HTTP_GET, "/departments/{code}", catalog_page_department, ROLE_PUBLIC, 0, "catalog.department", catalog_generation },
	{ HTTP_GET, "/bundles", catalog_page_bundles, ROLE_PUBLIC, 0, "catalog.bundles", catalog_generation },
	{ HTTP_GET, "/bundles/{code}", catalog_page_bundle, ROLE_PUBLIC, 0, "catalog.bundle", catalog_generation },
	{ HTTP_GET, "/api/v1/services", api_services, ROLE_PUBLIC, 0, "catalog.api_services", catalog_generation },
	{ HTTP_GET, "/api/v1/services/{code}", api_service, ROLE_PUBLIC, 0, "catalog.api_service", catalog_generation },
	{ HTTP_GET, "/api/v1/services/{code}/versions", api_versions, ROLE_PUBLIC, 0, "catalog.api_versions", catalog_generation },
	{ HTTP_GET, "/api/v1/departments", api_departments, ROLE_PUBLIC, 0, "catalog.api_departments", catalog_generation },
	{ HTTP_GET, "/api/v1/departments/{code}", catalog_page_department, ROLE_PUBLIC, 0, "catalog.api_department", catalog_generation },
	{ HTTP_GET, "/api/v1/bundles", api_bundles, ROLE_PUBLIC, 0, "catalog.api_bundles", catalog_generation },
	{ HTTP_GET, "/api/v1/bundles/{code}", catalog_page_bundle, ROLE_PUBLIC, 0, "catalog.api_bundle", catalog_generation },
	{ HTTP_GET, "/api/v1/themes", api_themes, ROLE_PUBLIC, 0, "catalog.api_themes", catalog_generation },
	{ HTTP_GET, "/api/v1/regions", api_regions, ROLE_PUBLIC, 0, "catalog.api_regions", catalog_generation },
};
const size_t catalog_routes_n = ARRAY_LEN(catalog_routes);
