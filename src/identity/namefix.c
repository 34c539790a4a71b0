/* namefix.c: correcting the name an account was registered with. The name was checked with the
 * person's identity, so the person asks (the new name and a reason) and an administrator
 * decides; an approval changes accounts.name. Both the request and the change are rows the
 * transparency log covers, so a correction is a logged action and the audit stays clean.
 * One pending request per account. Phone and e-mail are corrected by the person directly
 * (recover.c, account.c). */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/write.h"
#include "identity/identity_impl.h"
#include "store/cover.h"
#include "store/db.h"
#include "store/personal.h"
#include "view/view.h"

#define REASON_MAX 200 /* characters */
#define NOTE_MAX 200
#define LIST_MAX 100   /* requests an administrator's list shows */

const struct cover_table identity_namefix_cover = {
	.table = "name_corrections", .key = "id",
	.cols = "account_id, old_name, new_name, reason, state, created_at, decided_at, decided_by, note",
};

DB_SQL(q_pending, "SELECT id FROM name_corrections WHERE account_id = ? AND state = 'pending'");
DB_SQL(q_insert, "INSERT INTO name_corrections (account_id, old_name, new_name, reason, created_at) "
		 "SELECT id, name, ?, ?, ? FROM accounts WHERE id = ? AND closed_at IS NULL RETURNING id");
DB_SQL(q_mine, "SELECT id, old_name, new_name, reason, state, created_at, decided_at, note FROM name_corrections "
	       "WHERE account_id = ? ORDER BY id DESC LIMIT 2000");
DB_SQL(q_list, "SELECT c.id, c.account_id, a.kind, c.old_name, c.new_name, c.reason, c.state, c.created_at, "
	       "c.decided_at, c.note FROM name_corrections c JOIN accounts a ON a.id = c.account_id "
	       "ORDER BY c.state = 'pending' DESC, c.id DESC LIMIT 100");
DB_SQL(q_get, "SELECT account_id, new_name, state FROM name_corrections WHERE id = ?");
DB_SQL(q_decide, "UPDATE name_corrections SET state = ?, decided_at = ?, decided_by = ?, note = ? "
		 "WHERE id = ? AND state = 'pending'");
DB_SQL(q_rename, "UPDATE accounts SET name = ? WHERE id = ? AND closed_at IS NULL");

/* The person's requests, in the export (store/personal.h): kept with the account. */
static const struct personal_part part = {
	.name = "name_corrections", .kept = true, .query = &q_mine, .words = "state=namefix_state_",
};

void identity_namefix_declare(void)
{
	personal_declare(&part);
}

static json_t *errors(struct req *r)
{
	json_t *e = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, e);
	return e;
}

/* ---- the person ----------------------------------------------------------------------- */

static int name_page(struct req *r, json_t *errs, json_t *values)
{
	struct account acc;
	int rc = account_get(r->db, r->arena, r->who.account, &acc);
	struct db_rows rows;
	if (!rc)
		rc = db_query(r->db, r->arena, &q_mine, DB_ARGS(DB_INT(r->who.account)), &rows);
	if (rc) {
		json_decref(values);
		return rc;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < rows.nrows && i < 20; i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s}", "new_name", db_cell(&rows, i, 2), "reason",
						      db_cell(&rows, i, 3), "state", MC(r, "namefix_state_", db_cell(&rows, i, 4)),
						      "when", req_when(r, db_cell_int(&rows, i, 5)), "note",
						      db_cell(&rows, i, 7) ? db_cell(&rows, i, 7) : ""));
	bool pending = rows.nrows && strcmp(db_cell(&rows, 0, 4), "pending") == 0;
	json_t *ctx = json_pack("{s:s,s:s,s:s,s:o,s:b,s:b,s:o}", "title", M(r, "namefix_title"), "csrf",
				identity_csrf_token(r), "name", acc.name, "requests", list, "has_requests",
				rows.nrows > 0, "pending", pending, "v", values ? values : json_object());
	json_object_set_new(ctx, "nav_mydata", json_true());
	resp_header(r, "Cache-Control", "no-store");
	if (errs)
		return req_invalid(r, "identity/name", ctx, errs);
	const char *done = req_query(r, "done");
	if (done && strcmp(done, "sent") == 0)
		json_object_set_new(ctx, "notice", json_string(M(r, "namefix_sent")));
	return resp_page(r, 200, "identity/name", ctx);
}

/* GET /account/name */
static int name_get(struct req *r)
{
	return name_page(r, NULL, NULL);
}

struct ask {
	const char *name, *reason;
	int64_t id;
	bool pending;
};

static int ask_write(struct req *w, void *p)
{
	struct ask *a = p;
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_pending, DB_ARGS(DB_INT(w->who.account)), &rows);
	if (rc)
		return rc;
	if ((a->pending = rows.nrows > 0))
		return 0;
	bool own;
	if ((rc = cover_tx_begin(w->db, &own)))
		return rc;
	rc = db_query(w->db, w->arena, &q_insert,
		      DB_ARGS(DB_TEXT(a->name), DB_TEXT(a->reason), DB_INT(identity_now()), DB_INT(w->who.account)), &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_ENOTFOUND;
	if (!rc) {
		a->id = db_cell_int(&rows, 0, 0);
		identity_event(w->db, "account.name_correction_asked", w->who.account, w->who.account, w->ip, "");
	}
	return cover_tx_end_id(w->db, own, rc, "name_corrections", a->id, "correction");
}

static int ask_answer(struct req *r, void *p, int rc)
{
	struct ask *a = p;
	if (rc)
		return rc;
	if (a->pending) {
		req_error_detail(r, "%s", M(r, "namefix_pending_already"));
		return GH_ECONFLICT;
	}
	if (r->api)
		return resp_json(r, 202, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)a->id, "state", "pending", "name", a->name));
	return resp_redirect(r, 303, "/account/name?done=sent");
}

/* POST /account/name (form: name, reason), POST /api/v1/me/name-corrections */
static int name_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *name = identity_trimmed(r, identity_field(in, "name")), *reason = identity_trimmed(r, identity_field(in, "reason"));
	json_t *errs = errors(r);
	size_t n = str_utf8_chars(name, strlen(name)), m = str_utf8_chars(reason, strlen(reason));
	bool ent = r->who.kind && strcmp(r->who.kind, "enterprise") == 0;
	if (n < 2 || n > (ent ? 100u : 50u))
		identity_field_error(errs, "name", M(r, "login_enter_full_name_certificate_2"));
	else if (r->who.name && strcmp(name, r->who.name) == 0)
		identity_field_error(errs, "name", M(r, "namefix_same_name"));
	if (m < 2 || m > REASON_MAX)
		identity_field_error(errs, "reason", M(r, "namefix_enter_reason"));
	if (json_object_size(errs)) {
		if (r->api)
			return req_invalid(r, NULL, NULL, errs);
		return name_page(r, errs, json_pack("{s:s,s:s}", "name", n > 200 ? "" : name, "reason", m > 400 ? "" : reason));
	}
	struct ask *a = arena_zalloc(r->arena, sizeof(*a));
	a->name = name;
	a->reason = reason;
	return req_write(r, ask_write, ask_answer, a);
}

/* ---- administrators ------------------------------------------------------------------- */

/* GET /admin/name-corrections, GET /api/v1/admin/name-corrections: pending first. */
static int list_get(struct req *r)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_list, DB_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *items = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *state = db_cell(&rows, i, 6);
		json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "id", (json_int_t)db_cell_int(&rows, i, 0),
				      "account_id", (json_int_t)db_cell_int(&rows, i, 1), "kind", db_cell(&rows, i, 2),
				      "old_name", db_cell(&rows, i, 3), "new_name", db_cell(&rows, i, 4), "reason",
				      db_cell(&rows, i, 5), "state", state, "created_at", (json_int_t)db_cell_int(&rows, i, 7),
				      "note", db_cell(&rows, i, 9));
		if (db_cell(&rows, i, 8))
			json_object_set_new(o, "decided_at", json_integer((json_int_t)db_cell_int(&rows, i, 8)));
		if (!r->api) {
			json_object_set_new(o, "state_name", json_string(MC(r, "namefix_state_", state)));
			json_object_set_new(o, "when", json_string(req_when(r, db_cell_int(&rows, i, 7))));
			json_object_set_new(o, "is_pending", json_boolean(strcmp(state, "pending") == 0));
			json_object_set_new(o, "action", json_string(arena_printf(r->arena, "/admin/name-corrections/%lld",
										   (long long)db_cell_int(&rows, i, 0))));
		}
		json_array_append_new(items, o);
	}
	resp_header(r, "Cache-Control", "no-store");
	if (r->api)
		return resp_json(r, 200, json_pack("{s:o}", "items", items));
	json_t *ctx = json_pack("{s:s,s:s,s:o,s:b,s:b}", "title", M(r, "namefix_admin_title"), "csrf",
				identity_csrf_token(r), "items", items, "has_items", rows.nrows > 0, "nav_admin", 1);
	if (req_query(r, "done"))
		json_object_set_new(ctx, "notice", json_string(M(r, "namefix_decided")));
	return resp_page(r, 200, "identity/admin_names", ctx);
}

struct decision {
	int64_t id;
	bool approve;
	const char *note;
	bool gone; /* not pending any more (or no such request) */
};

static int decide_write(struct req *w, void *p)
{
	struct decision *d = p;
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_get, DB_ARGS(DB_INT(d->id)), &rows);
	if (rc)
		return rc;
	if ((d->gone = rows.nrows == 0 || strcmp(db_cell(&rows, 0, 2), "pending") != 0))
		return 0;
	int64_t account = db_cell_int(&rows, 0, 0);
	const char *name = db_cell(&rows, 0, 1);
	bool own;
	if ((rc = cover_tx_begin(w->db, &own)))
		return rc;
	rc = db_exec(w->db, &q_decide,
		     DB_ARGS(DB_TEXT(d->approve ? "approved" : "rejected"), DB_INT(identity_now()), DB_INT(w->who.account),
			     DB_TEXT(d->note), DB_INT(d->id)),
		     NULL);
	if (!rc)
		rc = cover_touch_id(w->db, "name_corrections", d->id, "correction");
	if (!rc && d->approve) {
		int64_t changed = 0;
		rc = db_exec(w->db, &q_rename, DB_ARGS(DB_TEXT(name), DB_INT(account)), &changed);
		if (!rc && changed)
			rc = cover_touch_id(w->db, "accounts", account, "correction");
	}
	if (!rc)
		identity_event(w->db, d->approve ? "account.name_corrected" : "account.name_correction_rejected", account,
			       w->who.account, w->ip, "");
	return cover_tx_end(w->db, own, rc);
}

static int decide_answer(struct req *r, void *p, int rc)
{
	struct decision *d = p;
	if (rc)
		return rc;
	if (d->gone) {
		req_error_detail(r, "%s", M(r, "namefix_not_pending"));
		return GH_ECONFLICT;
	}
	if (r->api)
		return resp_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)d->id, "state",
						   d->approve ? "approved" : "rejected"));
	return resp_redirect(r, 303, "/admin/name-corrections?done=1");
}

/* POST /admin/name-corrections/{id}, POST /api/v1/admin/name-corrections/{id}:
 * decision approve | reject, note (optional, at most 200 characters). */
static int decide_post(struct req *r)
{
	struct decision *d = arena_zalloc(r->arena, sizeof(*d));
	int rc = req_param_id(r, "id", &d->id);
	json_t *in;
	if (!rc)
		rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	const char *decision = identity_field(in, "decision");
	d->note = identity_trimmed(r, identity_field(in, "note"));
	json_t *errs = errors(r);
	if (strcmp(decision, "approve") && strcmp(decision, "reject"))
		identity_field_error(errs, "decision", M(r, "namefix_choose_decision"));
	if (str_utf8_chars(d->note, strlen(d->note)) > NOTE_MAX)
		identity_field_error(errs, "note", M(r, "namefix_note_long"));
	if (json_object_size(errs)) {
		if (r->api)
			return req_invalid(r, NULL, NULL, errs);
		req_error_detail(r, "%s", M(r, "namefix_choose_decision"));
		return GH_EVALIDATION;
	}
	d->approve = strcmp(decision, "approve") == 0;
	return req_write(r, decide_write, decide_answer, d);
}

#define OWNERS (ROLE_CITIZEN | ROLE_ENTERPRISE)

const struct route identity_namefix_routes[] = {
	{ HTTP_GET, "/account/name", name_get, OWNERS, 0, "identity.name" },
	{ HTTP_POST, "/account/name", name_post, OWNERS, ROUTE_CSRF, "identity.name_post" },
	{ HTTP_POST, "/api/v1/me/name-corrections", name_post, OWNERS, 0, "identity.api_name_correction", NULL,
	  SCOPE_ACCOUNT },
	{ HTTP_GET, "/admin/name-corrections", list_get, ROLE_ADMIN, 0, "identity.admin_names" },
	{ HTTP_POST, "/admin/name-corrections/{id}", decide_post, ROLE_ADMIN, ROUTE_CSRF, "identity.admin_name_decide" },
	{ HTTP_GET, "/api/v1/admin/name-corrections", list_get, ROLE_ADMIN, 0, "identity.api_admin_names", NULL,
	  SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/name-corrections/{id}", decide_post, ROLE_ADMIN, 0, "identity.api_admin_name_decide",
	  NULL, SCOPE_ADMIN },
};
const size_t identity_namefix_routes_n = ARRAY_LEN(identity_namefix_routes);
