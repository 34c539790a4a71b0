/* registry.c: the hub's registry of halls and its signed directory.
 *
 * A hall registers with POST /federation/halls: a JSON body {"id", "name", "region",
 * "base_url", "keys": [{"kid", "x"}]} signed with HTTP Message Signatures (httpsig.h) by one
 * of the keys it names (so the hall proves it holds them). The id must be a client the hub's
 * operator registered (`govhall federation client add`). The registration waits for the hub's
 * administrator (`govhall federation hall approve|refuse ID`); the same registration again
 * leaves the decision standing, a changed one replaces the row and waits again (so the
 * directory shows only what an administrator approved, and a hall out of it until then).
 * GET /.well-known/govhall-directory publishes the approved halls as a JWT signed with the
 * hub's OpenID Connect key (dir.h). The administrator decides on the page
 * /admin/federation/halls or with the command; both record the decision the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/jsonout.h"
#include "federation/dir.h"
#include "federation/fed_impl.h"
#include "federation/httpsig.h"
#include "federation/jwt.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/handler.h"
#include "http/write.h"
#include "identity/identity.h"
#include "store/cover.h"
#include "store/db.h"

#define REGISTRATION_MAX 65536 /* longest registration body (with the keys document) */

/* What the hub promises about a hall: its place in the directory and the decision on it. */
static const struct cover_table cover_halls = {
	.table = "fed_halls", .key = "hall_id", .cols = "name, region, base_url, keys, state, decided_at",
};

void fed_registry_register(void)
{
	cover_declare(&cover_halls);
}

/* ---- registration ---------------------------------------------------------------------------- */

DB_SQL(q_client_known, "SELECT 1 FROM oidc_clients WHERE client_id = ?");
DB_SQL(q_hall_get, "SELECT name, region, base_url, keys, state, registration FROM fed_halls WHERE hall_id = ?");
DB_SQL(q_hall_upsert, "INSERT INTO fed_halls (hall_id, name, region, base_url, keys, registration, signature, state, "
		      "registered_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL) "
		      "ON CONFLICT (hall_id) DO UPDATE SET name = excluded.name, region = excluded.region, "
		      "base_url = excluded.base_url, keys = excluded.keys, registration = excluded.registration, "
		      "signature = excluded.signature, state = 'pending', registered_at = excluded.registered_at, "
		      "decided_at = NULL");

struct reg {
	struct fed_dir_hall h;
	const char *keys, *body, *signature;
	const char *log; /* its "log" (canonical JSON), or "" */
	const char *state; /* the answer: "pending", or "approved" when nothing changed */
};

static int key_in_body(void *ctx, const char *kid, unsigned char pk[32])
{
	struct fed_dir d = { .n = 1, .halls = ctx };
	return fed_dir_key(&d, kid, pk) ? 0 : GH_ENOTFOUND;
}

static const char *hdr_of(void *ctx, const char *name)
{
	return req_header(ctx, name);
}

/* The "log" member of a registration body as canonical JSON, or "" (a new log key is a changed
 * registration, which waits for the administrator again). */
static const char *reg_log(struct arena *a, const char *body)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL, *lg = json_object_get(j, "log");
	char *t = lg ? jsonout_dumps(lg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	const char *out = t ? arena_strdup(a, t) : "";
	free(t);
	json_decref(j);
	return out;
}

DB_SQL(q_reg_refresh, "UPDATE fed_halls SET registration = ?, signature = ? WHERE hall_id = ?");
DB_SQL(q_hall_logs, "SELECT registration FROM fed_halls WHERE hall_id <> ? AND state <> 'refused'");

static int reg_write(struct req *w, void *arg)
{
	struct reg *g = arg;
	struct db_rows rows;
	int rc;
	/* A log's origin names one log: the witnesses find a log by it (witness.c). */
	if (g->h.nlog) {
		if ((rc = db_query(w->db, w->arena, &q_hall_logs, DB_ARGS(DB_TEXT(g->h.id)), &rows)))
			return rc;
		for (size_t i = 0; i < rows.nrows; i++) {
			json_t *j = json_loads(db_cell(&rows, i, 0), 0, NULL);
			const char *o = json_string_value(json_object_get(json_object_get(j, "log"), "origin"));
			bool same = o && !strcmp(o, g->h.log_origin);
			json_decref(j);
			if (same)
				return GH_ECONFLICT;
		}
	}
	if ((rc = db_query(w->db, w->arena, &q_hall_get, DB_ARGS(DB_TEXT(g->h.id)), &rows)))
		return rc;
	/* The same registration again leaves the decision standing. */
	if (rows.nrows == 1 && !strcmp(db_cell(&rows, 0, 0), g->h.name) && !strcmp(db_cell(&rows, 0, 1), g->h.region) &&
	    !strcmp(db_cell(&rows, 0, 2), g->h.base_url) && !strcmp(db_cell(&rows, 0, 3), g->keys) &&
	    !strcmp(reg_log(w->arena, db_cell(&rows, 0, 5)), g->log) && strcmp(db_cell(&rows, 0, 4), "refused")) {
		g->state = db_cell(&rows, 0, 4);
		/* A new keys document (a department's new certificate key), signed by the key the
		 * hub trusts already, is published as it comes: the decision stands. */
		if (strcmp(db_cell(&rows, 0, 5), g->body))
			return db_exec(w->db, &q_reg_refresh, DB_ARGS(DB_TEXT(g->body), DB_TEXT(g->signature), DB_TEXT(g->h.id)),
				       NULL);
		return 0;
	}
	g->state = "pending";
	bool own;
	if ((rc = cover_tx_begin(w->db, &own)))
		return rc;
	rc = db_exec(w->db, &q_hall_upsert,
		     DB_ARGS(DB_TEXT(g->h.id), DB_TEXT(g->h.name), DB_TEXT(g->h.region), DB_TEXT(g->h.base_url),
			     DB_TEXT(g->keys), DB_TEXT(g->body), DB_TEXT(g->signature), DB_INT(time(NULL))),
		     NULL);
	if (!rc)
		rc = cover_touch(w->db, "fed_halls", g->h.id, "federation.register");
	return cover_tx_end(w->db, own, rc);
}

static int refuse_reg(struct req *r, int code, const char *why);

static int reg_done(struct req *r, void *arg, int rc)
{
	struct reg *g = arg;
	if (rc == GH_ECONFLICT)
		return refuse_reg(r, rc, "another hall registered a transparency log of this origin");
	if (rc)
		return rc;
	if (!strcmp(g->state, "pending"))
		log_info("federation: hall %s asks to join (%s); approve with `govhall federation hall approve %s`", g->h.id,
			 g->h.base_url, g->h.id);
	return resp_json(r, !strcmp(g->state, "pending") ? 202 : 200, json_pack("{s:s,s:s}", "hall", g->h.id, "state", g->state));
}

/* A refusal, in JSON for the hall's program: {"error": slug, "error_description": why}. */
static int refuse_reg(struct req *r, int code, const char *why)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, err_status(code), json_pack("{s:s,s:s}", "error", err_slug(code), "error_description", why));
}

static int registration(struct req *r)
{
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	size_t len;
	const char *body = req_body(r, &len);
	if (!body || len == 0)
		return refuse_reg(r, GH_EINVAL, "the registration is empty");
	if (len > REGISTRATION_MAX)
		return refuse_reg(r, GH_ETOOBIG, "the registration is longer than 64 KiB");
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	struct reg *g = arena_zalloc(r->arena, sizeof(*g));
	const char *why = fed_dir_hall_from_json(r->arena, j, &g->h);
	json_decref(j);
	if (!why && !strcmp(g->h.id, FED_HUB_ID))
		why = "\"" FED_HUB_ID "\" is the hub's own identifier";
	if (why)
		return refuse_reg(r, GH_EVALIDATION, why);
	struct hsig_msg m = { .method = "POST",
			      .target_uri = arena_printf(r->arena, "%s%s", fed_cfg.issuer, r->path),
			      .path = r->path,
			      .header = hdr_of,
			      .ctx = r };
	struct hsig_input in;
	if (hsig_verify(r->arena, &m, body, len, time(NULL), key_in_body, &g->h, &in, &why)) {
		log_warn("federation: a registration for %s refused: %s", g->h.id, why);
		return refuse_reg(r, GH_EUNAUTH, why);
	}
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_client_known, DB_ARGS(DB_TEXT(g->h.id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return refuse_reg(r, GH_EFORBIDDEN, "the hub's operator has not registered this hall (federation client add)");
	json_t *hj = fed_dir_hall_json(&g->h);
	char *keys = jsonout_dumps(json_object_get(hj, "keys"), JSON_COMPACT);
	g->keys = arena_strdup(r->arena, keys);
	free(keys);
	json_decref(hj);
	g->body = arena_strndup(r->arena, body, len);
	g->log = reg_log(r->arena, g->body);
	g->signature = arena_printf(r->arena, "Signature-Input: %s\nSignature: %s", req_header(r, "Signature-Input"),
				    req_header(r, "Signature"));
	return req_write(r, reg_write, reg_done, g);
}

/* ---- the directory ----------------------------------------------------------------------------- */

DB_SQL(q_halls_approved, "SELECT hall_id, name, region, base_url, keys, registration FROM fed_halls WHERE state = 'approved' "
			 "ORDER BY hall_id");

json_t *fed_registry_claims(struct db *db, struct arena *a, int64_t now)
{
	struct db_rows rows;
	if (db_query(db, a, &q_halls_approved, DB_NOARGS, &rows))
		return NULL;
	json_t *halls = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		json_t *keys = json_loads(db_cell(&rows, i, 4), 0, NULL);
		json_array_append_new(halls, json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", db_cell(&rows, i, 0), "name",
						       db_cell(&rows, i, 1), "region", db_cell(&rows, i, 2), "base_url",
						       db_cell(&rows, i, 3), "keys", keys ? keys : json_array()));
		/* The log it registered (checked then), for the halls' witnesses (witness.c). */
		json_t *reg = json_loads(db_cell(&rows, i, 5), 0, NULL), *lg = json_object_get(reg, "log");
		if (lg)
			json_object_set(json_array_get(halls, i), "log", lg);
		json_t *kd = json_object_get(reg, "keys_document");
		if (lg && json_is_object(kd))
			json_object_set(json_array_get(halls, i), "keys_document", kd);
		json_decref(reg);
	}
	json_t *claims = json_pack("{s:s,s:I,s:I,s:o}", "iss", fed_cfg.issuer, "iat", (json_int_t)now, "exp",
				   (json_int_t)(now + FED_DIR_TTL), "halls", halls);
	/* The hub itself: its address and message key, so that halls check its messages and
	 * address theirs to it (dir.h). */
	unsigned char pk[32];
	char kid[JWT_KID_MAX + 1];
	if (claims && !fed_member_own_key(pk) && !fed_member_own_kid(kid, sizeof(kid)))
		json_object_set_new(claims, "hub",
				    json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s}]}", "id", FED_HUB_ID, "name", FED_HUB_ID, "region",
					      FED_HUB_ID, "base_url", fed_cfg.issuer, "keys", "kid", kid, "x",
					      jwt_b64url(a, pk, 32)));
	return claims;
}

static int directory(struct req *r)
{
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	json_t *claims = fed_registry_claims(r->db, r->arena, time(NULL));
	if (!claims)
		return GH_EUNAVAILABLE;
	char *tok;
	int rc = fed_hub_sign(r->arena, claims, &tok);
	json_decref(claims);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "public, max-age=60");
	return resp_body(r, 200, "application/jwt", tok, strlen(tok));
}

DB_SQL(q_regs_approved, "SELECT registration FROM fed_halls WHERE state = 'approved'");

json_t *fed_registry_keys_doc(struct db *db, const char *origin)
{
	struct arena *a = arena_new(0);
	struct db_rows rows;
	json_t *out = NULL;
	if (!db_query(db, a, &q_regs_approved, DB_NOARGS, &rows))
		for (size_t i = 0; i < rows.nrows && !out; i++) {
			json_t *j = json_loads(db_cell(&rows, i, 0), 0, NULL);
			const char *o = json_string_value(json_object_get(json_object_get(j, "log"), "origin"));
			json_t *kd = json_object_get(j, "keys_document");
			if (o && !strcmp(o, origin) && json_is_object(kd))
				out = json_incref(kd);
			json_decref(j);
		}
	arena_free(a);
	return out;
}

/* ---- the administrator's decision: the page and the command ----------------------------------- */

DB_SQL(q_halls_all, "SELECT hall_id, state, region, name, base_url, keys FROM fed_halls ORDER BY hall_id");
DB_SQL(q_hall_decide, "UPDATE fed_halls SET state = ?, decided_at = ? WHERE hall_id = ? AND state <> ?");

/* Records the decision approve (or refuse) on hall id, in a transaction of db's or its own:
 * 0, GH_ENOTFOUND when no registration of id waits for that decision. */
static int decide(struct db *db, const char *id, bool approve)
{
	const char *state = approve ? "approved" : "refused";
	int64_t changed = 0;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (rc)
		return rc;
	rc = db_exec(db, &q_hall_decide, DB_ARGS(DB_TEXT(state), DB_INT(time(NULL)), DB_TEXT(id), DB_TEXT(state)), &changed);
	if (!rc && !changed)
		rc = GH_ENOTFOUND;
	if (!rc)
		rc = cover_touch(db, "fed_halls", id, approve ? "federation.approve" : "federation.refuse");
	return cover_tx_end(db, own, rc);
}

/* GET /admin/federation/halls: the registrations, with the decisions still open. */
static int halls_page(struct req *r)
{
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_halls_all, DB_NOARGS, &rows);
	if (rc)
		return rc;
	const char *csrf = identity_csrf_token(r);
	json_t *halls = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *state = db_cell(&rows, i, 1);
		json_t *keys = json_loads(db_cell(&rows, i, 5), 0, NULL), *kids = json_array();
		size_t k;
		json_t *key;
		json_array_foreach(keys, k, key)
			json_array_append_new(kids, json_pack("{s:s}", "kid", json_string_value(json_object_get(key, "kid")) ?: ""));
		json_decref(keys);
		json_t *h = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "id", db_cell(&rows, i, 0), "state", state, "state_label",
				      M(r, !strcmp(state, "approved") ? "fed_hall_state_approved" : !strcmp(state, "refused") ? "fed_hall_state_refused" : "fed_hall_state_pending"), "region", db_cell(&rows, i, 2),
				      "name", db_cell(&rows, i, 3), "base_url", db_cell(&rows, i, 4), "kids", kids);
		json_object_set_new(h, "can_approve", json_boolean(strcmp(state, "approved")));
		json_object_set_new(h, "can_refuse", json_boolean(strcmp(state, "refused")));
		jset(h, "csrf", csrf);
		json_array_append_new(halls, h);
	}
	json_t *ctx = json_pack("{s:s,s:o,s:b}", "title", M(r, "fed_halls_title"), "halls", halls, "has_halls", rows.nrows > 0);
	const char *done = req_query(r, "done");
	if (done && (!strcmp(done, "approved") || !strcmp(done, "refused")))
		jset(ctx, "notice", M(r, !strcmp(done, "approved") ? "fed_halls_done_approved" : "fed_halls_done_refused"));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "federation/admin_halls", ctx);
}

struct decision {
	const char *id;
	bool approve;
};

static int decision_write(struct req *w, void *arg)
{
	struct decision *d = arg;
	int rc = decide(w->db, d->id, d->approve);
	if (rc == GH_ENOTFOUND) {
		req_error_detail(w, "%s", M(w, "fed_halls_err_no_change"));
		rc = GH_ECONFLICT;
	}
	return rc;
}

static int decision_done(struct req *r, void *arg, int rc)
{
	struct decision *d = arg;
	if (rc)
		return rc;
	return resp_redirect(r, 303, d->approve ? "/admin/federation/halls?done=approved" : "/admin/federation/halls?done=refused");
}

/* POST /admin/federation/halls/{id}/decision, decision=approve|refuse */
static int decision_post(struct req *r)
{
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc)
		return rc;
	const char *v = kv_get(&form, "decision"), *id = req_param(r, "id");
	if (!v || (strcmp(v, "approve") && strcmp(v, "refuse")) || !fed_dir_id_ok(id)) {
		req_error_detail(r, "%s", M(r, "fed_halls_err_decision"));
		return GH_EINVAL;
	}
	struct decision *d = arena_zalloc(r->arena, sizeof(*d));
	*d = (struct decision){ .id = id, .approve = v[0] == 'a' };
	return req_write(r, decision_write, decision_done, d);
}

const struct route fed_registry_routes[] = {
	{ HTTP_POST, "/federation/halls", registration, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.register" },
	{ HTTP_GET, "/.well-known/govhall-directory", directory, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.directory" },
	{ HTTP_GET, "/admin/federation/halls", halls_page, ROLE_ADMIN, 0, "federation.admin_halls" },
	{ HTTP_POST, "/admin/federation/halls/{id}/decision", decision_post, ROLE_ADMIN, ROUTE_CSRF, "federation.admin_hall_decide" },
};
const size_t fed_registry_routes_n = sizeof(fed_registry_routes) / sizeof(fed_registry_routes[0]);


int fed_registry_cli(struct db *db, int argc, char **argv)
{
	struct arena *a = arena_new(0);
	int rc = 2;
	if (argc == 1 && !strcmp(argv[0], "list")) {
		struct db_rows rows;
		rc = db_query(db, a, &q_halls_all, DB_NOARGS, &rows);
		for (size_t i = 0; !rc && i < rows.nrows; i++)
			printf("%s\t%s\t%s\t%s\t%s\tkeys %s\n", db_cell(&rows, i, 0), db_cell(&rows, i, 1), db_cell(&rows, i, 2),
			       db_cell(&rows, i, 3), db_cell(&rows, i, 4), db_cell(&rows, i, 5));
		if (rc)
			fprintf(stderr, "govhall: the halls cannot be read (%s)\n", err_slug(rc));
		rc = rc ? 1 : 0;
	} else if (argc == 2 && (!strcmp(argv[0], "approve") || !strcmp(argv[0], "refuse"))) {
		bool approve = argv[0][0] == 'a';
		rc = decide(db, argv[1], approve);
		if (rc == GH_ENOTFOUND) {
			fprintf(stderr, "govhall: no registration of %s waits for that decision (`govhall federation hall list`)\n",
				argv[1]);
			rc = 1;
		} else if (rc) {
			fprintf(stderr, "govhall: the decision could not be recorded (%s)\n", err_slug(rc));
			rc = 1;
		} else
			printf("%s %s: %s\n", argv[1], approve ? "approved" : "refused",
			       approve ? "it is in the directory the hub publishes from now on"
				       : "it is left out of the directory the hub publishes");
	}
	arena_free(a);
	return rc;
}
