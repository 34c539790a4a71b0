/* admin.c: administrators manage the API keys of Open311 clients — the page /admin/open311/keys
 * and the API /api/v1/admin/open311/keys (scope admin), beside `govhall open311 key`. A key is
 * shown once, in the answer that makes it; only its keyed hash is stored. Issuing and revoking
 * are recorded as security events. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/router.h"
#include "http/server.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "open311/open311.h"
#include "open311/open311_impl.h"
#include "store/db.h"

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

/* Issues a key named name: GH_EVALIDATION (detail set) for a bad name. *key (in r's arena) is
 * the key itself, to be shown once. */
static int issue(struct req *r, const char *name, int64_t *id, const char **key)
{
	size_t n = name ? strlen(name) : 0;
	if (!n || str_utf8_chars(name, n) > NAME_MAX_CHARS) {
		req_error_detail(r, "%s", T(r, "请填写客户端名称（1 到 100 个字）。", "Give the client's name (1 to 100 characters)."));
		return GH_EVALIDATION;
	}
	int64_t now = (int64_t)time(NULL), applicant;
	int rc = open311_applicant_ensure(r->db, r->arena, now, &applicant);
	if (rc)
		return rc;
	char *k = arena_alloc(r->arena, CRYPTO_TOKEN_LEN + 1);
	char hash[CRYPTO_HASH_HEX + 1], hint[7];
	crypto_new_token(k);
	crypto_token_hash(r->app->keys, k, hash);
	snprintf(hint, sizeof(hint), "%.6s", k);
	if ((rc = open311_key_add(r->db, r->arena, name, hash, hint, now, id)))
		return rc;
	identity_event(r->db, "open311.key_issue", 0, r->who.account, r->ip, arena_printf(r->arena, "key %lld", (long long)*id));
	*key = k;
	return 0;
}

static int revoke(struct req *r, int64_t *id)
{
	long v;
	const char *s = req_param(r, "id");
	if (!s || str_to_long(str_c(s), 1, 1L << 53, &v)) {
		req_error_detail(r, "%s", T(r, "没有这个有效的密钥。", "There is no such active key."));
		return GH_ENOTFOUND;
	}
	*id = v;
	int rc = open311_key_revoke(r->db, v, (int64_t)time(NULL));
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", T(r, "没有这个有效的密钥。", "There is no such active key."));
	if (!rc)
		identity_event(r->db, "open311.key_revoke", 0, r->who.account, r->ip, arena_printf(r->arena, "key %ld", v));
	return rc;
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
						      v[i].revoked_at ? T(r, "已撤销", "Revoked") : T(r, "有效", "Active"),
						      "created", when(r, v[i].created_at), "last_used",
						      v[i].last_used ? when(r, v[i].last_used) : "—"));
	json_t *ctx = json_pack("{s:s,s:o,s:b,s:s,s:s?,s:s?,s:s?}", "title", T(r, "Open311 接口密钥", "Open311 API keys"),
				"keys", keys, "has_keys", n > 0, "csrf", identity_csrf_token(r), "notice", notice,
				"error", error, "name_value", name_value);
	if (created)
		json_object_set_new(ctx, "created", created);
	return resp_page(r, status, "open311/keys", ctx);
}

static int page_get(struct req *r)
{
	const char *done = req_query(r, "done");
	return keys_page(r, 200, done && strcmp(done, "revoked") == 0 ? T(r, "密钥已撤销。", "The key was revoked.") : NULL,
			 NULL, NULL, NULL);
}

static int page_add(struct req *r)
{
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc)
		return rc;
	const char *name = kv_get(&form, "name");
	int64_t id;
	const char *key;
	rc = issue(r, name, &id, &key);
	if (rc == GH_EVALIDATION)
		return keys_page(r, err_status(rc), NULL, r->error_detail, name, NULL);
	if (rc)
		return rc;
	return keys_page(r, 201, NULL, NULL, NULL, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name, "key", key));
}

static int page_revoke(struct req *r)
{
	int64_t id;
	int rc = revoke(r, &id);
	if (rc)
		return rc;
	return resp_redirect(r, 303, "/admin/open311/keys?done=revoked");
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

static int api_add(struct req *r)
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
		req_error_detail(r, "%s", T(r, "请求体应为 JSON 对象。", "The body must be a JSON object."));
		return GH_EINVAL;
	}
	arena_cleanup(r->arena, (void (*)(void *))json_decref, in);
	const char *name = json_string_value(json_object_get(in, "name"));
	int64_t id;
	const char *key;
	int rc = issue(r, name, &id, &key);
	if (rc)
		return rc;
	return resp_json(r, 201, json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "key", key, "status", "active"));
}

static int api_revoke(struct req *r)
{
	int64_t id;
	int rc = revoke(r, &id);
	if (rc)
		return rc;
	return resp_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", "revoked"));
}

static const struct route admin_routes[] = {
	{ HTTP_GET, "/admin/open311/keys", page_get, ROLE_ADMIN, 0, "open311.admin_keys" },
	{ HTTP_POST, "/admin/open311/keys", page_add, ROLE_ADMIN, ROUTE_CSRF, "open311.admin_key_add" },
	{ HTTP_POST, "/admin/open311/keys/{id}/revoke", page_revoke, ROLE_ADMIN, ROUTE_CSRF, "open311.admin_key_revoke" },
	{ HTTP_GET, "/api/v1/admin/open311/keys", api_list, ROLE_ADMIN, 0, "open311.api_keys", NULL, SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/open311/keys", api_add, ROLE_ADMIN, 0, "open311.api_key_add", NULL, SCOPE_ADMIN },
	{ HTTP_DELETE, "/api/v1/admin/open311/keys/{id}", api_revoke, ROLE_ADMIN, 0, "open311.api_key_revoke", NULL,
	  SCOPE_ADMIN },
};

int open311_add_admin_routes(struct router *rt)
{
	return router_add(rt, admin_routes, ARRAY_LEN(admin_routes));
}
