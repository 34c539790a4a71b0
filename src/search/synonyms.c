/* synonyms.c: synonyms and colloquial phrases edited by administrators (table
 * search_synonyms), on top of the shipped data/search/synonyms.txt. */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/err.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "search/search.h"
#include "search/search_impl.h"
#include "search/search_pages.h"
#include "store/db.h"
#include "view/view.h"

DB_SQL(q_rules, "SELECT phrases, terms FROM search_synonyms ORDER BY id");

int search_rules_load(struct db *db, struct arena *a, const struct lex *base, struct lex **out)
{
	struct db_rows rows;
	*out = NULL;
	int rc = db_query(db, a, &q_rules, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (!rows.nrows)
		return 0;
	struct sb text = SB_INIT;
	for (size_t i = 0; i < rows.nrows; i++)
		sb_addf(&text, "%s => %s\n", db_cell(&rows, i, 0), db_cell(&rows, i, 1));
	*out = lex_rules_new(base, text.buf);
	sb_release(&text);
	return 0;
}

/* ---- administrators' pages and API --------------------------------------------------------
 * GET /admin/search/synonyms lists the rules with a form to add one and a button to remove
 * each; POST there (action=add: phrases, terms; action=remove: id) changes them. The API:
 * GET/POST /api/v1/admin/search/synonyms, DELETE /api/v1/admin/search/synonyms/{id}. Every
 * change bumps catalog_meta.search_generation in its transaction; each node rebuilds its
 * index at its next search. */

#define IS_EN(r) (strcmp((r)->lang, "en") == 0)
#define SYN_FIELD_MAX 200 /* bytes of phrases or terms */
#define SYN_MAX_RULES 5000

DB_SQL(q_list, "SELECT id, phrases, terms, created_at FROM search_synonyms ORDER BY id");
DB_SQL(q_count, "SELECT count(*) FROM search_synonyms");
DB_SQL(q_insert, "INSERT INTO search_synonyms (phrases, terms, created_by, created_at) VALUES (?, ?, ?, ?)");
DB_SQL(q_last, "SELECT max(id) FROM search_synonyms WHERE created_at = ? AND phrases = ?");
DB_SQL(q_delete, "DELETE FROM search_synonyms WHERE id = ?");
DB_SQL(q_bump, "UPDATE catalog_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'search_generation'");

int search_content_changed(struct db *db)
{
	return db_exec(db, &q_bump, DB_NOARGS, NULL);
}

/* Checks one field; returns NULL or the message key of the problem. */
static const char *check_field(const char *s)
{
	if (!s || !*s)
		return "syn_err_empty";
	if (strlen(s) > SYN_FIELD_MAX)
		return "syn_err_long";
	if (strstr(s, "=>") || strchr(s, '\n') || strchr(s, '\r') || strchr(s, '#'))
		return "syn_err_chars";
	return NULL;
}

static int syn_add(struct req *r, const char *phrases, const char *terms, int64_t *id)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_count, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows && db_cell_int(&rows, 0, 0) >= SYN_MAX_RULES) {
		req_error_detail(r, "%s", M(r, "search_there_too_many_rules_already"));
		return GH_ECONFLICT;
	}
	int64_t now = (int64_t)time(NULL);
	if ((rc = db_begin(r->db)))
		return rc;
	if ((rc = db_exec(r->db, &q_insert,
			  DB_ARGS(DB_TEXT(phrases), DB_TEXT(terms), r->who.account ? DB_INT(r->who.account) : DB_NULL,
				  DB_INT(now)),
			  NULL)) ||
	    (rc = db_exec(r->db, &q_bump, DB_NOARGS, NULL)) ||
	    (rc = db_query(r->db, r->arena, &q_last, DB_ARGS(DB_INT(now), DB_TEXT(phrases)), &rows))) {
		db_rollback(r->db);
		return rc;
	}
	*id = rows.nrows ? db_cell_int(&rows, 0, 0) : 0;
	return db_commit(r->db);
}

static int syn_remove(struct req *r, int64_t id)
{
	int64_t changes = 0;
	int rc = db_begin(r->db);
	if (rc)
		return rc;
	if ((rc = db_exec(r->db, &q_delete, DB_ARGS(DB_INT(id)), &changes)) ||
	    (changes && (rc = db_exec(r->db, &q_bump, DB_NOARGS, NULL)))) {
		db_rollback(r->db);
		return rc;
	}
	if ((rc = db_commit(r->db)))
		return rc;
	return changes ? 0 : GH_ENOTFOUND;
}

static json_t *rule_json(const struct db_rows *rows, size_t i)
{
	return json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)db_cell_int(rows, i, 0), "phrases", db_cell(rows, i, 1),
			 "terms", db_cell(rows, i, 2), "created_at", (json_int_t)db_cell_int(rows, i, 3));
}

static int page(struct req *r, int status, json_t *v, const char *err_key, const char *notice)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_list, DB_NOARGS, &rows);
	if (rc) {
		json_decref(v);
		return rc;
	}
	json_t *ctx = json_pack("{s:s,s:b,s:b}", "title", M(r, "syn_title"), "in_admin_accounts", 1, "nav_admin_synonyms", 1);
	const char *csrf = identity_csrf_token(r);
	json_object_set_new(ctx, "csrf", json_string(csrf ? csrf : ""));
	json_t *list = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(list, rule_json(&rows, i));
	json_object_set_new(ctx, "rules", list);
	if (rows.nrows)
		json_object_set_new(ctx, "has_rules", json_true());
	json_object_set_new(ctx, "v", v ? v : json_object());
	if (err_key)
		json_object_set_new(ctx, "error", json_string(M(r, err_key)));
	if (notice)
		json_object_set_new(ctx, "notice", json_string(M(r, notice)));
	return resp_page(r, status, "search/admin_synonyms", ctx);
}

static int syn_get(struct req *r)
{
	if (r->api) {
		struct db_rows rows;
		int rc = db_query(r->db, r->arena, &q_list, DB_NOARGS, &rows);
		if (rc)
			return rc;
		json_t *list = json_array();
		for (size_t i = 0; i < rows.nrows; i++)
			json_array_append_new(list, rule_json(&rows, i));
		resp_header(r, "Cache-Control", "no-store");
		return resp_json(r, 200, json_pack("{s:o}", "synonyms", list));
	}
	const char *done = req_query(r, "done");
	return page(r, 200, NULL, NULL,
		    done && !strcmp(done, "added") ? "syn_added" : done && !strcmp(done, "removed") ? "syn_removed" : NULL);
}

/* The input as a JSON object (API: the JSON body; pages: the form). */
static int read_input(struct req *r, json_t **out)
{
	json_t *j;
	if (r->api) {
		size_t len;
		const char *body = req_body(r, &len);
		json_error_t e;
		j = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &e);
		if (!json_is_object(j)) {
			json_decref(j);
			req_error_detail(r, "%s", M(r, "search_send_json_object_phrases_terms"));
			return GH_EINVAL;
		}
	} else {
		struct kvlist form;
		int rc = req_form(r, &form);
		if (rc)
			return rc;
		j = json_object();
		for (size_t i = 0; i < form.n; i++)
			json_object_set_new(j, form.v[i].key, json_stringn(form.v[i].val, form.v[i].val_len));
	}
	arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	*out = j;
	return 0;
}

/* A change, on the writer (write.h): the rule to add (id set when added) or the id to remove. */
struct syn_change {
	const char *phrases, *terms;
	int64_t id;
};

static int syn_add_write(struct req *w, void *p)
{
	struct syn_change *c = p;
	return syn_add(w, c->phrases, c->terms, &c->id);
}

static int syn_added(struct req *r, void *p, int rc)
{
	struct syn_change *c = p;
	if (rc)
		return rc;
	if (r->api)
		return resp_json(r, 201,
				 json_pack("{s:I,s:s,s:s}", "id", (json_int_t)c->id, "phrases", c->phrases, "terms", c->terms));
	return resp_redirect(r, 303, "/admin/search/synonyms?done=added");
}

static int syn_remove_write(struct req *w, void *p)
{
	return syn_remove(w, ((struct syn_change *)p)->id);
}

/* The page's removal: a rule already gone is removed all the same. */
static int syn_removed(struct req *r, void *p, int rc)
{
	(void)p;
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	return resp_redirect(r, 303, "/admin/search/synonyms?done=removed");
}

static int syn_post(struct req *r)
{
	json_t *in;
	int rc = read_input(r, &in);
	if (rc)
		return rc;
	struct syn_change *c = arena_zalloc(r->arena, sizeof(*c));
	const char *action = json_string_value(json_object_get(in, "action"));
	if (!r->api && action && !strcmp(action, "remove")) {
		long id;
		const char *s = json_string_value(json_object_get(in, "id"));
		if (!s || str_to_long(str_c(s), 1, LONG_MAX, &id))
			return GH_EINVAL;
		c->id = id;
		return req_write(r, syn_remove_write, syn_removed, c);
	}
	const char *phrases = json_string_value(json_object_get(in, "phrases"));
	const char *terms = json_string_value(json_object_get(in, "terms"));
	const char *bad = check_field(phrases);
	const char *which = "phrases";
	if (!bad) {
		bad = check_field(terms);
		which = "terms";
	}
	if (bad) {
		if (r->api) {
			json_t *j = json_pack("{s:{s:s,s:s,s:{s:s}}}", "error", "code", err_slug(GH_EVALIDATION), "message",
					      M_err(r, GH_EVALIDATION), "fields", which, M(r, bad));
			return resp_json(r, err_status(GH_EVALIDATION), j);
		}
		return page(r, 422, json_pack("{s:s,s:s}", "phrases", phrases ? phrases : "", "terms", terms ? terms : ""),
			    bad, NULL);
	}
	c->phrases = phrases;
	c->terms = terms;
	return req_write(r, syn_add_write, syn_added, c);
}

static int syn_delete(struct req *r)
{
	long id;
	const char *s = req_param(r, "id");
	if (!s || str_to_long(str_c(s), 1, LONG_MAX, &id))
		return GH_ENOTFOUND;
	struct syn_change *c = arena_zalloc(r->arena, sizeof(*c));
	c->id = id;
	resp_body(r, 204, "text/plain", "", 0);
	return req_write(r, syn_remove_write, NULL, c);
}

const struct route search_admin_routes[] = {
	{ HTTP_GET, "/admin/search/synonyms", syn_get, ROLE_ADMIN, 0, "search.admin_synonyms" },
	{ HTTP_POST, "/admin/search/synonyms", syn_post, ROLE_ADMIN, ROUTE_CSRF, "search.admin_synonyms_change" },
	{ HTTP_GET, "/api/v1/admin/search/synonyms", syn_get, ROLE_ADMIN, 0, "search.api_admin_synonyms", NULL, SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/search/synonyms", syn_post, ROLE_ADMIN, 0, "search.api_admin_synonyms_add", NULL,
	  SCOPE_ADMIN },
	{ HTTP_DELETE, "/api/v1/admin/search/synonyms/{id}", syn_delete, ROLE_ADMIN, 0, "search.api_admin_synonyms_remove",
	  NULL, SCOPE_ADMIN },
};
const size_t search_admin_routes_n = ARRAY_LEN(search_admin_routes);
