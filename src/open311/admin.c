/* admin.c: administrators manage the API keys of Open311 clients — the page /admin/open311/keys
 * and the API /api/v1/admin/open311/keys (scope admin), beside `govhall open311 key`. A key is
 * shown once, in the answer that makes it; only its keyed hash is stored. Issuing and revoking
 * are recorded as security events. Staff of a request's department merge a duplicate into
 * another open request of theirs (POST /api/v1/open311/requests/{number}/merge, or the page
 * /staff/open311/{number}, which offers the alike open requests nearby): a covered
 * open311_merges row, and the duplicate closed in the answers, naming the primary.
 * Applicants follow an open request (POST /api/v1/open311/requests/{number}/follow). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "cases/cases.h"
#include "http/handler.h"
#include "http/router.h"
#include "http/sections.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "open311/open311.h"
#include "open311/open311_impl.h"
#include "store/db.h"
#include "http/msg.h"
#include "view/view.h"

#define NAME_MAX_CHARS 100

/* "YYYY-MM-DD HH:MM" in China Standard Time, or NULL for 0. */
static const char *when(struct req *r, int64_t t)
{
	if (!t)
		return NULL;
	char buf[26];
	open311_format_time(t, buf);
	buf[10] = ' ';
	buf[16] = 0;
	return arena_strdup(r->arena, buf);
}

/* A key being issued or revoked, through the writer (http/write.h). */
struct key_job {
	bool api;
	const char *name;
	const char *key; /* the key itself, made on the loop, shown once */
	char hash[CRYPTO_HASH_HEX + 1], hint[7];
	int64_t id, now;
};

static int issue_write(struct req *w, void *arg)
{
	struct key_job *j = arg;
	int64_t applicant;
	int rc = open311_applicant_ensure(w->db, w->arena, j->now, &applicant);
	if (!rc)
		rc = open311_key_add(w->db, w->arena, j->name, j->hash, j->hint, j->now, &j->id);
	if (!rc)
		identity_event(w->db, "open311.key_issue", 0, w->who.account, w->ip,
			       arena_printf(w->arena, "key %lld", (long long)j->id));
	return rc;
}

static int keys_page(struct req *r, int status, const char *notice, const char *error, const char *name_value,
		     json_t *created);

static int issue_done(struct req *r, void *arg, int rc)
{
	struct key_job *j = arg;
	if (rc)
		return rc;
	if (j->api)
		return resp_json(r, 201, json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)j->id, "name", j->name, "key",
						   j->key, "status", "active"));
	return keys_page(r, 201, NULL, NULL, NULL,
			 json_pack("{s:I,s:s,s:s}", "id", (json_int_t)j->id, "name", j->name, "key", j->key));
}

/* Issues a key named name: GH_EVALIDATION (detail set) for a bad name; otherwise the key is
 * written and issue_done answers with it (REQ_DEFERRED). */
static int issue(struct req *r, const char *name, bool api)
{
	size_t n = name ? strlen(name) : 0;
	if (!n || str_utf8_chars(name, n) > NAME_MAX_CHARS) {
		req_error_detail(r, "%s", M(r, "open311_give_client_s_name_1"));
		return GH_EVALIDATION;
	}
	struct key_job *j = arena_zalloc(r->arena, sizeof(*j));
	char *k = arena_alloc(r->arena, CRYPTO_TOKEN_LEN + 1);
	crypto_new_token(k);
	crypto_token_hash(r->app->keys, k, j->hash);
	snprintf(j->hint, sizeof(j->hint), "%.6s", k);
	j->api = api;
	j->name = name;
	j->key = k;
	j->now = (int64_t)time(NULL);
	return req_write(r, issue_write, issue_done, j);
}

static int revoke_write(struct req *w, void *arg)
{
	struct key_job *j = arg;
	int rc = open311_key_revoke(w->db, j->id, j->now);
	if (rc == GH_ENOTFOUND)
		req_error_detail(w, "%s", M(w, "open311_there_such_active_key"));
	if (!rc)
		identity_event(w->db, "open311.key_revoke", 0, w->who.account, w->ip,
			       arena_printf(w->arena, "key %lld", (long long)j->id));
	return rc;
}

static int revoke_done(struct req *r, void *arg, int rc)
{
	struct key_job *j = arg;
	if (rc)
		return rc;
	if (j->api)
		return resp_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)j->id, "status", "revoked"));
	return resp_redirect(r, 303, "/admin/open311/keys?done=revoked");
}

static int revoke(struct req *r, bool api)
{
	long v;
	const char *s = req_param(r, "id");
	if (!s || str_to_long(str_c(s), 1, 1L << 53, &v)) {
		req_error_detail(r, "%s", M(r, "open311_there_such_active_key"));
		return GH_ENOTFOUND;
	}
	struct key_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->api = api;
	j->id = v;
	j->now = (int64_t)time(NULL);
	return req_write(r, revoke_write, revoke_done, j);
}

/* ---- the page --------------------------------------------------------------------------- */

static int keys_page(struct req *r, int status, const char *notice, const char *error, const char *name_value,
		     json_t *created)
{
	struct open311_key *v;
	size_t n;
	int rc = open311_key_list(r->db, r->arena, &v, &n);
	if (rc) {
		json_decref(created);
		return rc;
	}
	json_t *keys = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(keys, json_pack("{s:I,s:s,s:s,s:b,s:s,s:s,s:s?}", "id", (json_int_t)v[i].id, "name",
						      v[i].name, "hint", v[i].hint, "active", !v[i].revoked_at, "status",
						      v[i].revoked_at ? M(r, "account_revoked") : M(r, "account_active"),
						      "created", when(r, v[i].created_at), "last_used",
						      v[i].last_used ? when(r, v[i].last_used) : "—"));
	json_t *ctx = json_pack("{s:s,s:o,s:b,s:s,s:s?,s:s?,s:s?}", "title", M(r, "open311_keys_title"),
				"keys", keys, "has_keys", n > 0, "csrf", identity_csrf_token(r), "notice", notice,
				"error", error, "name_value", name_value);
	if (created)
		json_object_set_new(ctx, "created", created);
	return resp_page(r, status, "open311/keys", ctx);
}

static int page_get(struct req *r)
{
	const char *done = req_query(r, "done");
	return keys_page(r, 200, done && strcmp(done, "revoked") == 0 ? M(r, "open311_key_revoked") : NULL,
			 NULL, NULL, NULL);
}

static int page_add(struct req *r)
{
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc)
		return rc;
	const char *name = kv_get(&form, "name");
	rc = issue(r, name, false);
	if (rc == GH_EVALIDATION)
		return keys_page(r, err_status(rc), NULL, r->error_detail, name, NULL);
	return rc;
}

static int page_revoke(struct req *r)
{
	return revoke(r, false);
}

/* ---- the API ---------------------------------------------------------------------------- */

static int api_list(struct req *r)
{
	struct open311_key *v;
	size_t n;
	int rc = open311_key_list(r->db, r->arena, &v, &n);
	if (rc)
		return rc;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I}", "id", (json_int_t)v[i].id, "name", v[i].name, "hint", v[i].hint,
				      "status", v[i].revoked_at ? "revoked" : "active", "created_at", (json_int_t)v[i].created_at);
		json_object_set_new(o, "last_used", v[i].last_used ? json_integer(v[i].last_used) : json_null());
		json_object_set_new(o, "revoked_at", v[i].revoked_at ? json_integer(v[i].revoked_at) : json_null());
		json_array_append_new(items, o);
	}
	return resp_json(r, 200, json_pack("{s:o}", "items", items));
}

/* The JSON object a request of this file's API carries (at most 4 KiB), freed with r's arena. */
static int body_object(struct req *r, json_t **out)
{
	const char *ct = req_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		return GH_EUNSUPPORTED;
	size_t len;
	const char *body = req_body(r, &len);
	if (len > 4096)
		return GH_ETOOBIG;
	json_t *in = json_loadb(body, len, 0, NULL);
	if (!json_is_object(in)) {
		json_decref(in);
		req_error_detail(r, "%s", M(r, "open311_body_must_json_object"));
		return GH_EINVAL;
	}
	arena_cleanup(r->arena, (void (*)(void *))json_decref, in);
	*out = in;
	return 0;
}

static int api_add(struct req *r)
{
	json_t *in;
	int rc = body_object(r, &in);
	if (rc)
		return rc;
	return issue(r, json_string_value(json_object_get(in, "name")), true);
}

static int api_revoke(struct req *r)
{
	return revoke(r, true);
}

/* ---- duplicates: staff of the department merge a request into another ------------------- */

struct merge_job {
	const char *number, *into;
	bool page; /* the staff page's form (else the API) */
};

static int request_page(struct req *r, int status, const char *notice, const char *error, const char *into_value);

/* On the writer (w: its copy of the request): checks who and what, then merges. */
static int merge_write(struct req *w, void *arg)
{
	struct merge_job *j = arg;
	struct open311_request d, p;
	int rc = open311_request_get(w->db, w->arena, j->number, &d);
	if (rc == GH_ENOTFOUND)
		req_error_detail(w, "%s", M(w, "open311_service_request_id_found"));
	if (rc)
		return rc;
	if (w->role != ROLE_STAFF || !w->who.department || strcmp(w->who.department, d.department)) {
		req_error_detail(w, "%s", M(w, "open311_merge_only_staff"));
		return GH_EFORBIDDEN;
	}
	if (d.closed) {
		req_error_detail(w, "%s", M(w, "open311_merge_closed"));
		return GH_ECONFLICT;
	}
	rc = open311_request_get(w->db, w->arena, j->into, &p);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	if (rc || !strcmp(p.number, d.number) || strcmp(p.department, d.department) || p.closed) {
		req_error_detail(w, "%s", M(w, "open311_merge_into_open"));
		return GH_EVALIDATION;
	}
	const struct view *v = w->app->view;
	struct open311_message told = {
		.title_zh = view_msg(v, "zh", "open311_followed_merged_title"),
		.title_en = view_msg(v, "en", "open311_followed_merged_title"),
		.body_zh = VF(v, "zh", w->arena, "open311_followed_merged_body", MA("number", d.number), MA("into", p.number)),
		.body_en = VF(v, "en", w->arena, "open311_followed_merged_body", MA("number", d.number), MA("into", p.number)),
	};
	return open311_request_merge(w->db, w->arena, d.number, p.number, w->who.account, (int64_t)time(NULL), &told);
}

static int merge_done(struct req *r, void *arg, int rc)
{
	struct merge_job *j = arg;
	if (j->page && (rc == GH_EVALIDATION || rc == GH_ECONFLICT))
		return request_page(r, err_status(rc), NULL, r->error_detail, j->into);
	if (rc)
		return rc;
	if (j->page)
		return resp_redirect(r, 303, arena_printf(r->arena, "/staff/open311/%s?done=merged", j->number));
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s}", "service_request_id", j->number, "status", "closed",
					   "merged_into", j->into));
}

static int api_merge(struct req *r)
{
	json_t *in;
	int rc = body_object(r, &in);
	if (rc)
		return rc;
	struct merge_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->number = req_param(r, "number");
	j->into = json_string_value(json_object_get(in, "into"));
	if (!j->into || !*j->into || strlen(j->into) > 32) {
		req_error_detail(r, "%s", M(r, "open311_merge_give_number"));
		return GH_EVALIDATION;
	}
	if (!j->number || strlen(j->number) > 32) {
		req_error_detail(r, "%s", M(r, "open311_service_request_id_found"));
		return GH_ENOTFOUND;
	}
	return req_write(r, merge_write, merge_done, j);
}

/* ---- the staff page of a request: its alike open requests nearby, each with a merge form -- */

/* The request of the path, for staff of its department: GH_ENOTFOUND, GH_EFORBIDDEN. */
static int staff_request(struct req *r, struct open311_request *q)
{
	const char *number = req_param(r, "number");
	int rc = number && strlen(number) <= 32 ? open311_request_get(r->db, r->arena, number, q) : GH_ENOTFOUND;
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", M(r, "open311_service_request_id_found"));
	if (!rc && (!r->who.department || strcmp(r->who.department, q->department))) {
		req_error_detail(r, "%s", M(r, "open311_merge_only_staff"));
		rc = GH_EFORBIDDEN;
	}
	return rc;
}

static int request_page(struct req *r, int status, const char *notice, const char *error, const char *into_value)
{
	struct open311_request q;
	json_t *alike = NULL;
	int rc = staff_request(r, &q);
	if (!rc && !q.closed)
		rc = open311_alike(r, &q, &alike);
	if (rc)
		return rc;
	json_t *ctx = json_pack("{s:s,s:s,s:o,s:b,s:o,s:b,s:s,s:s?,s:s?,s:s?}", "title",
				MF(r, "open311_staff_request_title", MA("number", q.number)), "alike_hint",
				MF(r, "open311_alike_hint", MA("m", OPEN311_RADIUS_DEFAULT)), "x", open311_request_public(r, &q),
				"open", !q.closed, "alike", alike ? alike : json_array(), "has_alike", json_array_size(alike) > 0,
				"csrf", identity_csrf_token(r), "notice", notice, "error", error, "into_value", into_value);
	return resp_page(r, status, "open311/request", ctx);
}

/* The application page of an Open311 request leads its department's staff to the request's
 * page (a section of CASES_PAGE_DETAIL): the alike requests nearby and the merge. */
static int annotate(struct req *r, const void *subject, json_t *ctx)
{
	const struct case_page_ref *ref = subject;
	struct open311_request q;
	if (ref->applicant || r->role != ROLE_STAFF || !r->who.department)
		return 0;
	int rc = open311_request_get(r->db, r->arena, ref->number, &q);
	if (rc == GH_ENOTFOUND || (!rc && strcmp(q.department, r->who.department)))
		return 0;
	if (!rc)
		json_object_set_new(ctx, "open311_href", json_string(arena_printf(r->arena, "/staff/open311/%s", q.number)));
	return rc;
}

void open311_annotate_init(void)
{
	page_section_add(CASES_PAGE_DETAIL, 40, annotate);
}

static int page_request(struct req *r)
{
	const char *done = req_query(r, "done");
	return request_page(r, 200, done && !strcmp(done, "merged") ? M(r, "open311_merged_done") : NULL, NULL, NULL);
}

static int page_merge(struct req *r)
{
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc)
		return rc;
	struct merge_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->page = true;
	j->number = req_param(r, "number");
	j->into = kv_get(&form, "into");
	if (!j->number || strlen(j->number) > 32) {
		req_error_detail(r, "%s", M(r, "open311_service_request_id_found"));
		return GH_ENOTFOUND;
	}
	if (!j->into || !*j->into || strlen(j->into) > 32) {
		req_error_detail(r, "%s", M(r, "open311_merge_give_number"));
		return request_page(r, 422, NULL, r->error_detail, j->into);
	}
	return req_write(r, merge_write, merge_done, j);
}

/* ---- "this is my problem too": an applicant follows an open request (extension) --------- */

/* On the writer: the request w names exists and is open; the caller follows it. */
static int follow_write(struct req *w, void *arg)
{
	const char *number = arg;
	struct open311_request q;
	int rc = open311_request_get(w->db, w->arena, number, &q);
	if (rc == GH_ENOTFOUND)
		req_error_detail(w, "%s", M(w, "open311_service_request_id_found"));
	if (rc)
		return rc;
	if (q.closed && !open311_following(w->db, w->arena, number, w->who.account)) {
		req_error_detail(w, "%s", M(w, "open311_follow_closed"));
		return GH_ECONFLICT;
	}
	return q.closed ? 0 : open311_request_follow(w->db, w->arena, number, w->who.account, w->who.enterprise,
						     (int64_t)time(NULL));
}

static int follow_done(struct req *r, void *arg, int rc)
{
	return rc ? rc : resp_json(r, 200, json_pack("{s:s,s:b}", "service_request_id", (const char *)arg, "following", 1));
}

static int api_follow(struct req *r)
{
	const char *number = req_param(r, "number");
	if (!number || strlen(number) > 32) {
		req_error_detail(r, "%s", M(r, "open311_service_request_id_found"));
		return GH_ENOTFOUND;
	}
	return req_write(r, follow_write, follow_done, (void *)number);
}

static const struct route admin_routes[] = {
	{ HTTP_GET, "/admin/open311/keys", page_get, ROLE_ADMIN, 0, "open311.admin_keys" },
	{ HTTP_POST, "/admin/open311/keys", page_add, ROLE_ADMIN, ROUTE_CSRF, "open311.admin_key_add" },
	{ HTTP_POST, "/admin/open311/keys/{id}/revoke", page_revoke, ROLE_ADMIN, ROUTE_CSRF, "open311.admin_key_revoke" },
	{ HTTP_GET, "/api/v1/admin/open311/keys", api_list, ROLE_ADMIN, 0, "open311.api_keys", NULL, SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/open311/keys", api_add, ROLE_ADMIN, 0, "open311.api_key_add", NULL, SCOPE_ADMIN },
	{ HTTP_DELETE, "/api/v1/admin/open311/keys/{id}", api_revoke, ROLE_ADMIN, 0, "open311.api_key_revoke", NULL,
	  SCOPE_ADMIN },
	{ HTTP_GET, "/staff/open311/{number}", page_request, ROLE_STAFF, 0, "open311.staff_request" },
	{ HTTP_POST, "/staff/open311/{number}/merge", page_merge, ROLE_STAFF, ROUTE_CSRF, "open311.staff_merge" },
	{ HTTP_POST, "/api/v1/open311/requests/{number}/merge", api_merge, ROLE_STAFF, 0, "open311.api_merge", NULL,
	  SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/open311/requests/{number}/follow", api_follow, ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE,
	  0, "open311.api_follow", NULL, SCOPE_APPLY },
};

int open311_add_admin_routes(struct router *rt)
{
	return router_add(rt, admin_routes, ARRAY_LEN(admin_routes));
}
