/* api.c: the GeoReport v2 endpoints under /open311/v2/.
 *
 * Every route is ROUTE_NOAUTH: the Open311 API never looks at cookies (like /api/, which
 * authenticates by bearer token only), so a browser's ambient credentials carry no power here
 * and the one state-changing call, POST requests, needs no CSRF token; it authenticates by its
 * api_key parameter instead. Answers and errors are in the format the resource names
 * (.json or .xml); errors are the spec's list of {code, description} with status 400, 403 or
 * 404. Texts follow the request's language (?lang=, cookie, Accept-Language; Chinese by
 * default). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/similar.h"
#include "base/str.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "cases/cases.h"
#include "cases/workflow.h"
#include "catalog/catalog.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "open311/open311.h"
#include "open311/open311_impl.h"
#include "store/db.h"

#define SPEC_URL "http://wiki.open311.org/GeoReport_v2"
#define SERVICES_MAX 5000 /* catalog items considered for the service list */

/* ---- answers ---------------------------------------------------------------------------- */

static int o311_send(struct req *r, enum open311_fmt fmt, int status, const char *root, json_t *v)
{
	arena_cleanup(r->arena, (void (*)(void *))json_decref, v);
	struct sb sb = SB_INIT;
	open311_render(&sb, fmt, root, v);
	char *body = arena_strndup(r->arena, sb.buf ? sb.buf : "", sb.len);
	size_t len = sb.len;
	sb_release(&sb);
	return resp_body(r, status, fmt == OPEN311_XML ? "text/xml; charset=utf-8" : "application/json; charset=utf-8",
			 body, len);
}

/* The spec's error answer: a list of {code, description}. */
static int fail_list(struct req *r, enum open311_fmt fmt, int status, json_t *list)
{
	return o311_send(r, fmt, status, "errors", list);
}

static int fail(struct req *r, enum open311_fmt fmt, int status, const char *description)
{
	json_t *list = json_array();
	json_array_append_new(list, json_pack("{s:i,s:s}", "code", status, "description", description));
	return fail_list(r, fmt, status, list);
}

/* The format of the last path segment (".json" / ".xml"); XML, the spec's required format,
 * when it names neither. */
static enum open311_fmt path_format(const struct req *r)
{
	size_t n = strlen(r->path);
	return n > 5 && strcmp(r->path + n - 5, ".json") == 0 ? OPEN311_JSON : OPEN311_XML;
}

/* The jurisdiction this hall answers for: the host of its public address. */
static const char *jurisdiction(struct req *r)
{
	const char *u = r->app->cfg.public_url ? r->app->cfg.public_url : "";
	const char *p = strstr(u, "://");
	p = p ? p + 3 : u;
	size_t n = strcspn(p, ":/?#");
	return arena_strndup(r->arena, p, n);
}

/* The base URL of the API, for discovery. */
static const char *base_url(struct req *r)
{
	const char *u = r->app->cfg.public_url ? r->app->cfg.public_url : "";
	size_t n = strlen(u);
	while (n && u[n - 1] == '/')
		n--;
	return arena_printf(r->arena, "%.*s/open311/v2", (int)n, u);
}

/* 404 when the request names a jurisdiction that is not ours (one hall, one jurisdiction). */
static int check_jurisdiction(struct req *r, enum open311_fmt fmt, const char *given)
{
	if (!given || !*given || strcmp(given, jurisdiction(r)) == 0)
		return 0;
	fail(r, fmt, 404, M(r, "open311_jurisdiction_id_found_endpoint_serves"));
	return 1;
}

/* ---- services --------------------------------------------------------------------------- */

/* Which catalog items are Open311 services: those anyone may file online with the form alone
 * — online depth 3 or more, open to individuals, no required material and no required file
 * field (Open311 carries no uploads, only a media_url). */
static bool eligible(const struct catalog_service *s, json_t **form_out)
{
	if (s->online_depth < 3 || !s->audience || !strstr(s->audience, "individual"))
		return false;
	json_t *mats = json_loads(s->materials ? s->materials : "[]", 0, NULL);
	bool ok = json_is_array(mats);
	size_t i;
	json_t *m;
	json_array_foreach(mats, i, m)
		if (json_is_true(json_object_get(m, "required")))
			ok = false;
	json_decref(mats);
	json_t *form = json_loads(s->form ? s->form : "[]", 0, NULL);
	if (!json_is_array(form))
		ok = false;
	json_array_foreach(form, i, m)
	{
		const char *type = json_string_value(json_object_get(m, "type"));
		if (type && strcmp(type, "file") == 0 && json_is_true(json_object_get(m, "required")))
			ok = false;
	}
	if (ok && form_out)
		*form_out = form;
	else
		json_decref(form);
	return ok;
}

/* A small per-request memo of department names. */
struct names {
	struct {
		const char *code, *name;
	} v[32];
	size_t n;
};

static const char *dept_name(struct req *r, struct names *memo, const char *code)
{
	for (size_t i = 0; i < memo->n; i++)
		if (strcmp(memo->v[i].code, code) == 0)
			return memo->v[i].name;
	struct catalog_department d;
	const char *name = code;
	if (catalog_department_get(r->db, r->arena, code, &d) == 0)
		name = strcmp(r->lang, "en") == 0 && d.name_en ? d.name_en : d.name_zh;
	if (memo->n < ARRAY_LEN(memo->v)) {
		memo->v[memo->n].code = code;
		memo->v[memo->n].name = name;
		memo->n++;
	}
	return name;
}

static const char *service_notice(struct req *r, const struct catalog_service *s)
{
	return MF(r, "open311_completed_within_promised_limit_days", MA("promised_limit_days", s->promised_limit_days), MA("legal_limit_days", s->legal_limit_days));
}

static const char *svc_name(const struct req *r, const struct catalog_service *s)
{
	return strcmp(r->lang, "en") == 0 && s->name_en ? s->name_en : s->name_zh;
}

static int h_services(struct req *r)
{
	enum open311_fmt fmt = path_format(r);
	if (check_jurisdiction(r, fmt, req_query(r, "jurisdiction_id")))
		return 0;
	struct catalog_service *v;
	size_t n;
	int rc = catalog_department_services(r->db, r->arena, NULL, SERVICES_MAX, &v, &n);
	if (rc)
		return rc;
	struct names memo = { 0 };
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *form = NULL;
		if (!eligible(&v[i], &form))
			continue;
		const char *group = dept_name(r, &memo, v[i].department);
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:s}", "service_code", v[i].code,
						      "service_name", svc_name(r, &v[i]), "description",
						      service_notice(r, &v[i]), "metadata", json_array_size(form) > 0,
						      "type", "realtime", "keywords", "", "group", group));
		json_decref(form);
	}
	return o311_send(r, fmt, 200, "services", list);
}

/* Our form field types as GeoReport datatypes. No field type of ours takes several values,
 * so multivaluelist never appears. */
static const char *datatype(const char *type)
{
	if (!type)
		return "string";
	if (strcmp(type, "textarea") == 0)
		return "text";
	if (strcmp(type, "number") == 0)
		return "number";
	if (strcmp(type, "date") == 0)
		return "datetime";
	if (strcmp(type, "select") == 0)
		return "singlevaluelist";
	return "string";
}

/* The standard field a form field is filled from when its attribute is not given (see
 * fill_from_standard), or NULL. */
static const char *standard_source(json_t *field, bool *first_textarea)
{
	const char *type = json_string_value(json_object_get(field, "type"));
	const char *key = json_string_value(json_object_get(field, "key"));
	if (!type || !key)
		return NULL;
	if (strcmp(type, "phone") == 0)
		return "phone";
	if (strcmp(type, "email") == 0)
		return "email";
	if (strcmp(type, "address") == 0)
		return "address_string";
	if (strcmp(type, "textarea") == 0 && *first_textarea) {
		*first_textarea = false;
		return "description";
	}
	if (strcmp(type, "text") == 0 && (strcmp(key, "name") == 0 || strcmp(key, "applicant_name") == 0 ||
					   strcmp(key, "contact_name") == 0))
		return "first_name";
	return NULL;
}

static const char *datatype_description(struct req *r, json_t *field, const char *source)
{
	const char *type = json_string_value(json_object_get(field, "type"));
	const char *hint = "";
	if (type && strcmp(type, "date") == 0)
		hint = M(r, "open311_date_yyyy_mm_dd");
	else if (type && strcmp(type, "number") == 0)
		hint = M(r, "open311_non_negative_number_most_two");
	else if (type && strcmp(type, "id_number") == 0)
		hint = M(r, "open311_18_character_resident_id_number");
	else if (type && strcmp(type, "uscc") == 0)
		hint = M(r, "open311_18_character_unified_social_credit");
	else if (type && strcmp(type, "phone") == 0)
		hint = M(r, "open311_mobile_landline_number");
	else if (type && strcmp(type, "email") == 0)
		hint = M(r, "open311_e_mail_address");
	if (!source)
		return hint;
	if (strcmp(source, "first_name") == 0)
		return arena_printf(r->arena, "%s%s%s", hint, *hint && strcmp(r->lang, "en") == 0 ? " " : "",
				    M(r, "open311_when_omitted_taken_from_first"));
	return MF(r, "open311_hint_taken_from_source", MA("hint", hint),
		  MA("sep", *hint && strcmp(r->lang, "en") == 0 ? " " : ""), MA("source", source));
}

static int h_service(struct req *r)
{
	enum open311_fmt fmt;
	const char *code;
	if (open311_split_format(r->arena, req_param(r, "service"), &code, &fmt))
		return fail(r, path_format(r), 404,
			    M(r, "open311_add_json_xml_service_code"));
	if (check_jurisdiction(r, fmt, req_query(r, "jurisdiction_id")))
		return 0;
	struct catalog_service s;
	json_t *form = NULL;
	int rc = strlen(code) > 64 ? GH_ENOTFOUND : catalog_service_get(r->db, r->arena, code, 0, &s);
	if (rc == GH_ENOTFOUND || (!rc && !eligible(&s, &form)))
		return fail(r, fmt, 404, M(r, "open311_service_code_found"));
	if (rc)
		return rc;
	arena_cleanup(r->arena, (void (*)(void *))json_decref, form);
	bool en = strcmp(r->lang, "en") == 0, first_textarea = true;
	json_t *attrs = json_array();
	size_t i;
	json_t *f;
	json_array_foreach(form, i, f)
	{
		const char *type = json_string_value(json_object_get(f, "type"));
		if (type && strcmp(type, "file") == 0)
			continue; /* optional uploads: Open311 has media_url instead */
		const char *label = json_string_value(json_object_get(f, en ? "label_en" : "label_zh"));
		if (!label)
			label = json_string_value(json_object_get(f, "label_zh"));
		const char *source = standard_source(f, &first_textarea);
		json_t *a = json_pack("{s:b,s:s?,s:s,s:b,s:s,s:I,s:s?}", "variable", 1, "code",
				      json_string_value(json_object_get(f, "key")), "datatype", datatype(type), "required",
				      json_is_true(json_object_get(f, "required")), "datatype_description",
				      datatype_description(r, f, source), "order", (json_int_t)(i + 1), "description", label);
		if (type && strcmp(type, "select") == 0) {
			json_t *values = json_array();
			size_t k;
			json_t *o;
			json_array_foreach(json_object_get(f, "options"), k, o)
			{
				const char *name = json_string_value(json_object_get(o, en ? "label_en" : "label_zh"));
				const char *key = json_string_value(json_object_get(o, "value"));
				json_array_append_new(values, json_pack("{s:s?,s:s?}", "key", key, "name", name ? name : key));
			}
			json_object_set_new(a, "values", values);
		}
		json_array_append_new(attrs, a);
	}
	return o311_send(r, fmt, 200, "service_definition",
		    json_pack("{s:s,s:o}", "service_code", s.code, "attributes", attrs));
}

/* ---- discovery -------------------------------------------------------------------------- */

static int h_discovery(struct req *r)
{
	enum open311_fmt fmt = path_format(r);
	char changeset[26];
	open311_format_time((int64_t)r->app->started, changeset);
	json_t *formats = json_pack("[s,s]", "text/xml", "application/json");
	json_t *endpoint = json_pack("{s:s,s:s,s:s,s:s,s:o}", "specification", SPEC_URL, "url", base_url(r), "changeset",
				     changeset, "type", "production", "formats", formats);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:[o]}", "changeset", changeset, "contact",
			      M(r, "open311_government_services_administration_hotline_12345"),
			      "key_service",
			      M(r, "open311_api_keys_issued_hall_s"),
			      "jurisdiction_id", jurisdiction(r), "endpoints", endpoint);
	return o311_send(r, fmt, 200, "discovery", d);
}

/* ---- requests --------------------------------------------------------------------------- */

struct svc_memo {
	struct {
		const char *code;
		struct catalog_service s;
		bool ok;
	} v[32];
	size_t n;
};

static const struct catalog_service *svc_of(struct req *r, struct svc_memo *memo, const char *code)
{
	for (size_t i = 0; i < memo->n; i++)
		if (strcmp(memo->v[i].code, code) == 0)
			return memo->v[i].ok ? &memo->v[i].s : NULL;
	struct catalog_service s;
	bool ok = catalog_service_get(r->db, r->arena, code, 0, &s) == 0;
	if (memo->n < ARRAY_LEN(memo->v)) {
		memo->v[memo->n].code = code;
		memo->v[memo->n].s = s;
		memo->v[memo->n].ok = ok;
		memo->n++;
		return ok ? &memo->v[memo->n - 1].s : NULL;
	}
	if (!ok)
		return NULL;
	struct catalog_service *copy = arena_alloc(r->arena, sizeof(*copy));
	*copy = s;
	return copy;
}

static json_t *jtext(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *jcoord(const char *s)
{
	double v;
	return s && open311_parse_coord(s, -180, 180, &v) == 0 ? json_real(v) : json_null();
}

static json_t *request_json(struct req *r, const struct open311_request *q, struct svc_memo *svcs, struct names *depts)
{
	const struct catalog_service *s = svc_of(r, svcs, q->service_code);
	const struct wf_state *st = wf_state(q->state);
	const char *notes = q->status_notes;
	if (q->merged_into) /* a duplicate staff merged: closed, naming the primary */
		notes = MF(r, "open311_merged_into", MA("number", q->merged_into));
	else if (!notes)
		notes = st ? MC(r, "case_state_", q->state) : q->state;
	char requested[26], updated[26], expected[26];
	open311_format_time(q->requested_at, requested);
	open311_format_time(q->updated_at, updated);
	json_t *exp = json_null();
	if (q->expected_day && !q->closed) {
		/* by the end of the promised due day */
		open311_format_time((int64_t)q->expected_day * 86400 + 86399 - CALENDAR_CST_OFFSET, expected);
		exp = json_string(expected);
	}
	json_t *o = json_object();
	json_object_set_new(o, "service_request_id", json_string(q->number));
	json_object_set_new(o, "status", json_string(q->closed ? "closed" : "open"));
	json_object_set_new(o, "status_notes", jtext(notes));
	json_object_set_new(o, "service_name", s ? json_string(svc_name(r, s)) : json_null());
	json_object_set_new(o, "service_code", json_string(q->service_code));
	json_object_set_new(o, "description", jtext(q->description));
	json_object_set_new(o, "agency_responsible", json_string(dept_name(r, depts, q->department)));
	json_object_set_new(o, "service_notice", s ? json_string(service_notice(r, s)) : json_null());
	json_object_set_new(o, "requested_datetime", json_string(requested));
	json_object_set_new(o, "updated_datetime", json_string(updated));
	json_object_set_new(o, "expected_datetime", exp);
	json_object_set_new(o, "address", jtext(q->address_string));
	json_object_set_new(o, "address_id", jtext(q->address_id));
	json_object_set_new(o, "zipcode", json_null());
	json_object_set_new(o, "lat", jcoord(q->lat));
	json_object_set_new(o, "long", jcoord(q->lon));
	json_object_set_new(o, "media_url", jtext(q->media_url));
	if (q->merged_into) /* extension (docs/api.md) */
		json_object_set_new(o, "merged_into", json_string(q->merged_into));
	return o;
}

/* ---- duplicates: the extension of GET requests (docs/api.md) ----------------------------------
 * lat, long and radius (metres) keep the requests within that distance; description keeps
 * those whose description reads alike (base/similar.h), most alike first, at most
 * OPEN311_SIMILAR_MAX: what a client asks before posting, to offer the reports that may be
 * the same problem. */
struct nearby {
	bool located, described;
	double lat, lon;
	long radius;
	struct similar_set text;
};

/* NULL, or the problem with the look-up's parameters (in r's language). */
static const char *nearby_args(struct req *r, struct nearby *nb)
{
	memset(nb, 0, sizeof(*nb));
	const char *lat = req_query(r, "lat"), *lon = req_query(r, "long"), *rad = req_query(r, "radius");
	const char *desc = req_query(r, "description");
	bool has_lat = lat && *lat, has_lon = lon && *lon;
	if (has_lat != has_lon)
		return M(r, "open311_lat_long_go_together_give");
	if (has_lat && (open311_parse_coord(lat, -90, 90, &nb->lat) || open311_parse_coord(lon, -180, 180, &nb->lon)))
		return M(r, "open311_lat_must_within_90_90");
	nb->located = has_lat;
	nb->radius = OPEN311_RADIUS_DEFAULT;
	if (rad && *rad && (!has_lat || str_to_long(str_c(rad), 1, OPEN311_RADIUS_MAX, &nb->radius)))
		return MF(r, "open311_radius_metres", MA("max", OPEN311_RADIUS_MAX));
	if (desc && *desc) {
		size_t len = strlen(desc);
		if (!str_utf8_valid(desc, len) || str_utf8_chars(desc, len) > OPEN311_TEXT_MAX)
			return MF(r, "open311_description_most", MA("max", OPEN311_TEXT_MAX));
		similar_features(r->arena, desc, len, &nb->text);
		nb->described = true;
	}
	return NULL;
}

/* Keeps (in place) the requests of v[0..n) the look-up asks for; returns how many. */
static size_t nearby_filter(struct req *r, const struct nearby *nb, struct open311_request *v, size_t n)
{
	if (!nb->located && !nb->described)
		return n;
	struct similar_ranked *k = arena_array(r->arena, n + 1, sizeof(*k));
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		double lat, lon;
		if (nb->located && (!v[i].lat || !v[i].lon || open311_parse_coord(v[i].lat, -90, 90, &lat) ||
				    open311_parse_coord(v[i].lon, -180, 180, &lon) ||
				    similar_distance_m(nb->lat, nb->lon, lat, lon) > (double)nb->radius))
			continue;
		double score = 1;
		if (nb->described) {
			struct similar_set t;
			const char *d = v[i].description ? v[i].description : "";
			similar_features(r->arena, d, strlen(d), &t);
			if ((score = similar_score(&nb->text, &t)) < SIMILAR_THRESHOLD)
				continue;
		}
		k[m++] = (struct similar_ranked){ score, i };
	}
	if (nb->described) {
		qsort(k, m, sizeof(*k), similar_by_score);
		if (m > OPEN311_SIMILAR_MAX)
			m = OPEN311_SIMILAR_MAX;
	}
	struct open311_request *out = arena_array(r->arena, m + 1, sizeof(*out));
	for (size_t j = 0; j < m; j++)
		out[j] = v[k[j].i];
	memcpy(v, out, m * sizeof(*v));
	return m;
}

int open311_alike(struct req *r, const struct open311_request *q, json_t **out)
{
	struct nearby nb = { .radius = OPEN311_RADIUS_DEFAULT, .described = true };
	nb.located = q->lat && q->lon && !open311_parse_coord(q->lat, -90, 90, &nb.lat) &&
		     !open311_parse_coord(q->lon, -180, 180, &nb.lon);
	const char *d = q->description ? q->description : "";
	similar_features(r->arena, d, strlen(d), &nb.text);
	struct open311_query lq = { .service_code = q->service_code, .closed = 0, .limit = OPEN311_RESULTS_MAX };
	lq.to = (int64_t)time(NULL);
	lq.from = lq.to - (int64_t)OPEN311_RANGE_DAYS * 86400;
	struct open311_request *v;
	size_t n, k = 0;
	int rc = open311_request_list(r->db, r->arena, &lq, &v, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].number, q->number) != 0)
			v[k++] = v[i];
	n = nearby_filter(r, &nb, v, k);
	struct svc_memo *svcs = arena_zalloc(r->arena, sizeof(*svcs));
	struct names depts = { 0 };
	*out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(*out, request_json(r, &v[i], svcs, &depts));
	return 0;
}

json_t *open311_request_public(struct req *r, const struct open311_request *q)
{
	struct svc_memo *svcs = arena_zalloc(r->arena, sizeof(*svcs));
	struct names depts = { 0 };
	return request_json(r, q, svcs, &depts);
}

static int get_requests(struct req *r, enum open311_fmt fmt)
{
	struct svc_memo *svcs = arena_zalloc(r->arena, sizeof(*svcs));
	struct names depts = { 0 };
	json_t *list = json_array();
	const char *ids = req_query(r, "service_request_id");
	if (ids && *ids) {
		/* With ids, the other filters are ignored (as the spec says). */
		const char **v;
		size_t n;
		int rc = open311_split_list(r->arena, ids, OPEN311_IDS_MAX, &v, &n);
		if (rc) {
			json_decref(list);
			return fail(r, fmt, 400,
				    MF(r, "open311_service_request_id_takes_most", MA("open311_ids_max", OPEN311_IDS_MAX)));
		}
		for (size_t i = 0; i < n; i++) {
			struct open311_request q;
			rc = strlen(v[i]) > 32 ? GH_ENOTFOUND : open311_request_get(r->db, r->arena, v[i], &q);
			if (rc == GH_ENOTFOUND)
				continue;
			if (rc) {
				json_decref(list);
				return rc;
			}
			json_array_append_new(list, request_json(r, &q, svcs, &depts));
		}
		return o311_send(r, fmt, 200, "service_requests", list);
	}
	struct open311_query q = { .closed = -1, .limit = OPEN311_RESULTS_MAX };
	const char *start = req_query(r, "start_date"), *end = req_query(r, "end_date");
	const char *code = req_query(r, "service_code"), *status = req_query(r, "status");
	int64_t span = (int64_t)OPEN311_RANGE_DAYS * 86400;
	bool has_start = start && *start, has_end = end && *end;
	if ((has_start && open311_parse_time(start, &q.from)) || (has_end && open311_parse_time(end, &q.to))) {
		json_decref(list);
		return fail(r, fmt, 400,
			    M(r, "open311_start_date_end_date_take"));
	}
	if (!has_end)
		q.to = has_start ? q.from + span : (int64_t)time(NULL);
	if (!has_start)
		q.from = q.to - span;
	if (q.from > q.to || q.to - q.from > span) {
		json_decref(list);
		return fail(r, fmt, 400,
			    MF(r, "open311_start_date_must_come_before", MA("open311_range_days", OPEN311_RANGE_DAYS)));
	}
	if (code && *code)
		q.service_code = code;
	if (status && *status) {
		const char **v;
		size_t n;
		bool open = false, closed = false, bad = open311_split_list(r->arena, status, 8, &v, &n) != 0;
		for (size_t i = 0; !bad && i < n; i++) {
			if (strcmp(v[i], "open") == 0)
				open = true;
			else if (strcmp(v[i], "closed") == 0)
				closed = true;
			else
				bad = true;
		}
		if (bad) {
			json_decref(list);
			return fail(r, fmt, 400, M(r, "open311_status_takes_open_closed_comma"));
		}
		q.closed = open && closed ? -1 : closed ? 1 : 0;
	}
	struct nearby near;
	const char *why = nearby_args(r, &near);
	if (why) {
		json_decref(list);
		return fail(r, fmt, 400, why);
	}
	struct open311_request *v;
	size_t n;
	int rc = open311_request_list(r->db, r->arena, &q, &v, &n);
	if (rc) {
		json_decref(list);
		return rc;
	}
	n = nearby_filter(r, &near, v, n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, request_json(r, &v[i], svcs, &depts));
	return o311_send(r, fmt, 200, "service_requests", list);
}

/* A field of the posted form with a length limit in characters; NULL when absent or empty. */
static int field(struct req *r, const struct kvlist *form, const char *name, size_t max, json_t *errors,
		 const char **out)
{
	const char *v = kv_get(form, name);
	*out = NULL;
	if (!v || !*v)
		return 0;
	if (str_utf8_chars(v, strlen(v)) > max) {
		json_array_append_new(errors, json_pack("{s:i,s:s}", "code", 400, "description",
							MF(r, "open311_name_too_long_most_max", MA("name", name), MA("max", max))));
		return 1;
	}
	*out = v;
	return 0;
}

static void add_error(struct req *r, json_t *errors, const char *description)
{
	(void)r;
	json_array_append_new(errors, json_pack("{s:i,s:s}", "code", 400, "description", description));
}

static bool plausible_email(const char *s)
{
	const char *at = strchr(s, '@');
	return at && at != s && strchr(at + 1, '.') && !strchr(at + 1, '@') && !strpbrk(s, " \t\r\n<>");
}

static bool plausible_url(const char *s)
{
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>')
			return false;
	return true;
}

/* A service request being written: the application and its Open311 record, in one write. */
struct o311_post {
	enum open311_fmt fmt;
	struct catalog_service svc;
	struct case_apply_prep *filing;
	struct open311_new nw;
	const char *token; /* out */
};

static int post_write(struct req *w, void *arg)
{
	struct o311_post *p = arg;
	int rc = cases_file_write(w, p->filing, &p->nw.application_id, &p->nw.number, &p->nw.state);
	if (rc)
		return rc;
	if ((rc = open311_request_add(w->db, w->arena, &p->nw, &p->token)))
		log_error("open311: application %s was not filed: its Open311 record could not be written (%s)", p->nw.number,
			  err_name(rc));
	return rc;
}

static int post_done(struct req *r, void *arg, int rc)
{
	struct o311_post *p = arg;
	if (rc == GH_ECONFLICT)
		return fail(r, p->fmt, 400, r->error_detail ? r->error_detail : M(r, "open311_service_cannot_requested_online"));
	if (rc)
		return rc;
	json_t *out = json_pack("[{s:s,s:s,s:s,s:n}]", "service_request_id", p->nw.number, "token", p->token,
				"service_notice", service_notice(r, &p->svc), "account_id");
	return o311_send(r, p->fmt, 200, "service_requests", out);
}

static int post_request(struct req *r, enum open311_fmt fmt)
{
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc == GH_EUNSUPPORTED)
		return fail(r, fmt, 400, M(r, "open311_send_request_application_x_www"));
	if (rc)
		return fail(r, fmt, 400, M(r, "cases_form_data_malformed"));
	int64_t key_id;
	bool stale;
	rc = open311_key_check(r->db, r->arena, r->app->keys, kv_get(&form, "api_key"), &key_id, &stale);
	if (rc == GH_ENOTFOUND)
		return fail(r, fmt, 403, M(r, "open311_invalid_api_key_received_t"));
	if (rc)
		return rc;
	if (stale)
		req_write_also(r, open311_key_touch, &key_id, sizeof(key_id));
	/* A client that floods is slowed down, whatever it sends (shared by all nodes). */
	char limit_key[64];
	snprintf(limit_key, sizeof(limit_key), "open311:key:%lld", (long long)key_id);
	if ((rc = identity_rate_limit(r, limit_key, OPEN311_POSTS_PER_HOUR, 3600)) == GH_ERATELIMIT)
		return fail(r, fmt, 429, M(r, "open311_too_many_requests_api_key"));
	if (rc)
		return rc;
	if (check_jurisdiction(r, fmt, kv_get(&form, "jurisdiction_id")))
		return 0;
	const char *code = kv_get(&form, "service_code");
	if (!code || !*code)
		return fail(r, fmt, 400, M(r, "open311_service_code_required"));
	struct catalog_service s;
	json_t *def = NULL;
	rc = strlen(code) > 64 ? GH_ENOTFOUND : catalog_service_get(r->db, r->arena, code, 0, &s);
	if (rc == GH_ENOTFOUND || (!rc && !eligible(&s, &def)))
		return fail(r, fmt, 404, M(r, "open311_service_code_found"));
	if (rc)
		return rc;
	arena_cleanup(r->arena, (void (*)(void *))json_decref, def);

	json_t *errors = json_array();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errors);
	const char *lat_s = kv_get(&form, "lat"), *lon_s = kv_get(&form, "long");
	double lat = 0, lon = 0;
	bool has_lat = lat_s && *lat_s, has_lon = lon_s && *lon_s;
	if (has_lat != has_lon)
		add_error(r, errors, M(r, "open311_lat_long_go_together_give"));
	else if (has_lat && (open311_parse_coord(lat_s, -90, 90, &lat) || open311_parse_coord(lon_s, -180, 180, &lon)))
		add_error(r, errors, M(r, "open311_lat_must_within_90_90"));
	const char *address, *address_id, *description, *first, *last, *email, *phone, *media;
	field(r, &form, "address_string", OPEN311_FIELD_MAX, errors, &address);
	field(r, &form, "address_id", OPEN311_FIELD_MAX, errors, &address_id);
	field(r, &form, "description", OPEN311_TEXT_MAX, errors, &description);
	field(r, &form, "first_name", OPEN311_FIELD_MAX, errors, &first);
	field(r, &form, "last_name", OPEN311_FIELD_MAX, errors, &last);
	field(r, &form, "email", OPEN311_FIELD_MAX, errors, &email);
	field(r, &form, "phone", OPEN311_FIELD_MAX, errors, &phone);
	field(r, &form, "media_url", OPEN311_URL_MAX, errors, &media);
	if (!has_lat && !address && !address_id)
		add_error(r, errors, M(r, "open311_location_required_lat_long_address"));
	if (email && !plausible_email(email))
		add_error(r, errors, M(r, "open311_email_valid_e_mail_address"));
	if (media && !plausible_url(media))
		add_error(r, errors, M(r, "open311_media_url_must_http_https"));

	/* attribute[code]=value, checked against the service's fields. */
	json_t *input = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, input);
	for (size_t i = 0; i < form.n; i++) {
		const char *acode;
		bool multi;
		if (strncmp(form.v[i].key, "attribute", 9) != 0)
			continue;
		bool known = false;
		if (open311_attr_key(r->arena, form.v[i].key, &acode, &multi) == 0) {
			size_t k;
			json_t *f;
			json_array_foreach(def, k, f)
			{
				const char *key = json_string_value(json_object_get(f, "key"));
				const char *type = json_string_value(json_object_get(f, "type"));
				if (key && strcmp(key, acode) == 0 && !(type && strcmp(type, "file") == 0))
					known = true;
			}
		}
		if (!known) {
			add_error(r, errors, MF(r, "open311_key_attribute_service", MA("key", form.v[i].key)));
			continue;
		}
		if (multi || json_object_get(input, acode)) {
			add_error(r, errors, MF(r, "open311_attribute_acode_takes_single_value", MA("acode", acode)));
			continue;
		}
		json_object_set_new(input, acode, json_string(form.v[i].val));
	}
	/* Fields the client left out are filled from the standard fields they correspond to. */
	char coords[64] = "";
	if (has_lat)
		snprintf(coords, sizeof(coords), "%.6f,%.6f", lat, lon);
	const char *fullname = first && last ? arena_printf(r->arena, "%s %s", first, last) : first ? first : last;
	bool first_textarea = true;
	size_t k;
	json_t *f;
	json_array_foreach(def, k, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *src = standard_source(f, &first_textarea);
		if (!key || !src || json_object_get(input, key))
			continue;
		const char *val = strcmp(src, "phone") == 0	      ? phone
				  : strcmp(src, "email") == 0	      ? email
				  : strcmp(src, "address_string") == 0 ? (address ? address : *coords ? coords : NULL)
				  : strcmp(src, "description") == 0    ? description
								       : fullname;
		if (val)
			json_object_set_new(input, key, json_string(val));
	}
	if (json_array_size(errors))
		return fail_list(r, fmt, 400, json_incref(errors));

	int64_t applicant;
	rc = open311_applicant(r->db, r->arena, &applicant);
	if (rc)
		return rc == GH_ENOTFOUND ? GH_EINTERNAL : rc; /* a key exists, so the applicant does */
	struct o311_post *w = arena_zalloc(r->arena, sizeof(*w));
	json_t *ferrs = NULL;
	rc = cases_file_prepare(r, s.code, input, "open311", applicant, &w->filing, &ferrs);
	if (rc == GH_EVALIDATION) {
		const char *fk;
		json_t *msg;
		json_object_foreach(ferrs, fk, msg)
		{
			const char *m = json_string_value(msg);
			add_error(r, errors,
				  strncmp(fk, "material_", 9) == 0 ? m : arena_printf(r->arena, "attribute[%s]: %s", fk, m));
		}
		return fail_list(r, fmt, 400, json_incref(errors));
	}
	if (rc == GH_ECONFLICT)
		return fail(r, fmt, 400, r->error_detail ? r->error_detail : M(r, "open311_service_cannot_requested_online"));
	if (rc)
		return rc;

	/* The reporter's contact details are personal data: sealed, never returned. */
	json_t *contact = json_pack("{s:s?,s:s?,s:s?,s:s?}", "first_name", first, "last_name", last, "email", email,
				    "phone", phone);
	char *contact_s = jsonout_dumps(contact, JSON_COMPACT);
	json_decref(contact);
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	if (contact_s && (first || last || email || phone))
		crypto_seal(r->app->keys, r->arena, "open311.contact", contact_s, strlen(contact_s), &sealed, &sealed_len);
	free(contact_s);
	char *lat_t = NULL, *lon_t = NULL;
	if (has_lat) {
		lat_t = arena_printf(r->arena, "%.8f", lat);
		lon_t = arena_printf(r->arena, "%.8f", lon);
	}
	w->fmt = fmt;
	w->svc = s;
	w->nw = (struct open311_new){ .key_id = key_id, .service_code = s.code, .department = s.department,
				      .lat = lat_t, .lon = lon_t, .address_string = address, .address_id = address_id,
				      .description = description, .media_url = media, .contact_enc = sealed,
				      .contact_len = sealed_len, .now = (int64_t)time(NULL) };
	return req_write(r, post_write, post_done, w);
}

static int h_requests(struct req *r)
{
	enum open311_fmt fmt = path_format(r);
	if (r->method == HTTP_POST)
		return post_request(r, fmt);
	if (check_jurisdiction(r, fmt, req_query(r, "jurisdiction_id")))
		return 0;
	return get_requests(r, fmt);
}

static int h_request(struct req *r)
{
	enum open311_fmt fmt;
	const char *id;
	if (open311_split_format(r->arena, req_param(r, "request"), &id, &fmt))
		return fail(r, path_format(r), 404,
			    M(r, "open311_add_json_xml_service_request"));
	if (check_jurisdiction(r, fmt, req_query(r, "jurisdiction_id")))
		return 0;
	struct open311_request q;
	int rc = strlen(id) > 32 ? GH_ENOTFOUND : open311_request_get(r->db, r->arena, id, &q);
	if (rc == GH_ENOTFOUND)
		return fail(r, fmt, 404, M(r, "open311_service_request_id_found"));
	if (rc)
		return rc;
	struct svc_memo *svcs = arena_zalloc(r->arena, sizeof(*svcs));
	struct names depts = { 0 };
	json_t *list = json_array();
	json_array_append_new(list, request_json(r, &q, svcs, &depts));
	return o311_send(r, fmt, 200, "service_requests", list);
}

static int h_token(struct req *r)
{
	enum open311_fmt fmt;
	const char *token;
	if (open311_split_format(r->arena, req_param(r, "token"), &token, &fmt))
		return fail(r, path_format(r), 404, M(r, "open311_add_json_xml_token"));
	if (check_jurisdiction(r, fmt, req_query(r, "jurisdiction_id")))
		return 0;
	const char *number;
	int rc = strlen(token) > 64 ? GH_ENOTFOUND : open311_token_get(r->db, r->arena, token, &number);
	if (rc == GH_ENOTFOUND)
		return fail(r, fmt, 404, M(r, "open311_token_found"));
	if (rc)
		return rc;
	return o311_send(r, fmt, 200, "service_requests",
		    json_pack("[{s:s,s:s}]", "service_request_id", number, "token", token));
}

/* Anything else under /open311/v2/, in the spec's error format rather than the hall's HTML
 * page: a resource that exists with other methods is 405 (with Allow), anything else 404. */
static int h_unknown(struct req *r)
{
	const struct route *resource;
	struct kvlist params = { 0 };
	unsigned allowed = 0;
	if (router_match(r->app->router, r->arena, HTTP_GET, r->path, &resource, &params, &allowed) == ROUTER_FOUND &&
	    resource->fn != h_unknown) {
		char buf[96];
		unsigned m = resource->methods | HTTP_OPTIONS | ((resource->methods & HTTP_GET) ? HTTP_HEAD : 0);
		resp_header(r, "Allow", http_methods_str(m, buf, sizeof(buf)));
		return fail(r, path_format(r), 405, M(r, "open311_resource_does_take_method"));
	}
	return fail(r, path_format(r), 404, M(r, "open311_such_resource"));
}

#define O311 ROLE_PUBLIC, ROUTE_NOAUTH
static const struct route open311_routes[] = {
	{ HTTP_GET, "/open311/v2/discovery.json", h_discovery, O311, "open311.discovery_json" },
	{ HTTP_GET, "/open311/v2/discovery.xml", h_discovery, O311, "open311.discovery_xml" },
	{ HTTP_GET, "/open311/discovery.json", h_discovery, O311, "open311.discovery_root_json" },
	{ HTTP_GET, "/open311/discovery.xml", h_discovery, O311, "open311.discovery_root_xml" },
	{ HTTP_GET, "/open311/v2/services.json", h_services, O311, "open311.services_json" },
	{ HTTP_GET, "/open311/v2/services.xml", h_services, O311, "open311.services_xml" },
	{ HTTP_GET, "/open311/v2/services/{service}", h_service, O311, "open311.service" },
	{ HTTP_GET | HTTP_POST, "/open311/v2/requests.json", h_requests, O311, "open311.requests_json" },
	{ HTTP_GET | HTTP_POST, "/open311/v2/requests.xml", h_requests, O311, "open311.requests_xml" },
	{ HTTP_GET, "/open311/v2/requests/{request}", h_request, O311, "open311.request" },
	{ HTTP_GET, "/open311/v2/tokens/{token}", h_token, O311, "open311.token" },
	{ HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_DELETE | HTTP_PATCH, "/open311/v2/{rest*}", h_unknown, O311, "open311.unknown" },
};

int open311_add_routes(struct router *rt)
{
	return router_add(rt, open311_routes, ARRAY_LEN(open311_routes)) || open311_add_admin_routes(rt) ? GH_EINVAL : 0;
}

/* The catalogs of the app the observer serves (set once at start, only read afterwards). */
static const struct view *words;

const struct open311_message *open311_followed_news(struct arena *a, const struct case_change *c)
{
	static const char *const langs[2] = { "zh", "en" };
	const char *title[2], *body[2];
	for (int l = 0; l < 2; l++) {
		const char *item = l && c->item_name_en && *c->item_name_en ? c->item_name_en : c->item_name_zh;
		title[l] = view_msg(words, langs[l], "open311_followed_news_title");
		body[l] = VF(words, langs[l], a, "open311_followed_news_body", MA("number", c->number ? c->number : ""),
			     MA("item", item ? item : ""),
			     MA("state", view_msg(words, langs[l], arena_printf(a, "case_state_%s", c->to_state))));
	}
	struct open311_message *m = arena_zalloc(a, sizeof(*m));
	*m = (struct open311_message){ title[0], title[1], body[0], body[1] };
	return m;
}

int open311_init(struct app *app)
{
	words = app->view;
	cases_observe(open311_observe);
	open311_annotate_init();
	return 0;
}
