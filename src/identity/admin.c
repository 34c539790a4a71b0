/* admin.c: administrators' pages and API: accounts (list, one account, department and duties
 * of staff, disable / enable, creation of staff and administrator accounts) and the security
 * events. Every route here is ROLE_ADMIN; the /api/v1 twins need a bearer token with the
 * admin scope; page forms carry the CSRF token. One handler serves a page and its API twin,
 * branching on r->api (as login.c does); the password of a new account is hashed on the job
 * pool.
 *
 * Nothing here shows a password hash, a token or a full ID number: accounts appear through
 * account_json() (masked values). The one exception is the initial password and TOTP secret
 * of an account created here, shown once in the answer to its creation (Cache-Control:
 * no-store) and kept nowhere in clear. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/str.h"
#include "base/util.h"
#include "base/calendar.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity_impl.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

#define ACCOUNTS_PER_PAGE 20
#define EVENTS_PER_PAGE 50
#define MAX_PER_PAGE 100
#define MAX_PAGE 100000
#define ACCOUNT_EVENTS 10 /* recent events on an account's page */
#define EVENT_KIND_MAX 64

/* Unix seconds as UTC ISO 8601 ("2026-03-01T08:15:00Z"), in arena. */
static const char *iso_time(struct arena *a, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];
	if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return "";
	return arena_strdup(a, buf);
}

/* The text of a message with "{n}" (and "{n2}") replaced. */
static const char *fmt_n(struct req *r, const char *key, long n, long n2)
{
	const char *m = M(r, key);
	struct sb sb = SB_INIT;
	while (*m) {
		if (strncmp(m, "{n2}", 4) == 0) {
			sb_addf(&sb, "%ld", n2);
			m += 4;
		} else if (strncmp(m, "{n}", 3) == 0) {
			sb_addf(&sb, "%ld", n);
			m += 3;
		} else {
			sb_addch(&sb, *m++);
		}
	}
	char *s = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return s;
}

static const char *const account_kinds[] = { "individual", "enterprise", "staff", "admin" };

static bool kind_known(const char *kind)
{
	for (size_t i = 0; i < ARRAY_LEN(account_kinds); i++)
		if (strcmp(kind, account_kinds[i]) == 0)
			return true;
	return false;
}

static const char *kind_label(const struct req *r, const char *kind)
{
	char key[40];
	snprintf(key, sizeof(key), "admin_kind_%s", kind ? kind : "");
	return M(r, key);
}

static const struct {
	const char *word; /* as in account_parse_staff_roles() */
	unsigned bit;
} duties[] = {
	{ "counter", STAFF_COUNTER },
	{ "reviewer", STAFF_REVIEWER },
	{ "head", STAFF_HEAD },
};

/* "Counter clerk, reviewer" for STAFF_* bits ("" for none). */
static const char *duties_label(struct req *r, unsigned roles)
{
	struct sb sb = SB_INIT;
	for (size_t i = 0; i < ARRAY_LEN(duties); i++) {
		if (!(roles & duties[i].bit))
			continue;
		if (sb.len)
			sb_adds(&sb, M(r, "admin_"));
		char key[40];
		snprintf(key, sizeof(key), "admin_duty_%s", duties[i].word);
		sb_adds(&sb, M(r, key));
	}
	char *s = arena_strndup(r->arena, sb.buf ? sb.buf : "", sb.len);
	sb_release(&sb);
	return s;
}

/* ---- departments (for the staff forms) ------------------------------------------------ */

struct admin_dept {
	const char *code, *name_zh, *name_en;
};

DB_SQL(q_depts, "SELECT code, name_zh, name_en FROM departments ORDER BY position, code");

static void dept_row(const struct db_rows *rows, size_t i, void *out)
{
	*(struct admin_dept *)out = (struct admin_dept){ db_cell(rows, i, 0), db_cell(rows, i, 1), db_cell(rows, i, 2) };
}

static int depts_list(struct db *db, struct arena *a, struct admin_dept **out, size_t *n)
{
	return db_query_array(db, a, &q_depts, DB_NOARGS, sizeof(**out), dept_row, out, n);
}

static const struct admin_dept *dept_find(const struct admin_dept *d, size_t n, const char *code)
{
	for (size_t i = 0; code && i < n; i++)
		if (strcmp(d[i].code, code) == 0)
			return &d[i];
	return NULL;
}

static const char *dept_name(const struct req *r, const struct admin_dept *d, size_t n, const char *code)
{
	const struct admin_dept *x = dept_find(d, n, code);
	if (!x)
		return code;
	return en(r) ? x->name_en : x->name_zh;
}

static json_t *dept_options(const struct req *r, const struct admin_dept *d, size_t n, const char *selected)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s,s:s}", "value", d[i].code, "label", en(r) ? d[i].name_en : d[i].name_zh);
		if (selected && strcmp(selected, d[i].code) == 0)
			json_object_set_new(o, "selected", json_true());
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The duty checkboxes: name role_<word>, checked when in roles. */
static json_t *duty_boxes(const struct req *r, unsigned roles)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < ARRAY_LEN(duties); i++) {
		char key[40];
		snprintf(key, sizeof(key), "admin_duty_%s", duties[i].word);
		json_t *o = json_pack("{s:s,s:s}", "word", duties[i].word, "label", M(r, key));
		if (roles & duties[i].bit)
			json_object_set_new(o, "checked", json_true());
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Duties from the page form's checkboxes (role_counter=1 ...). */
static unsigned duties_from_form(json_t *in)
{
	unsigned roles = 0;
	for (size_t i = 0; i < ARRAY_LEN(duties); i++) {
		char key[40];
		snprintf(key, sizeof(key), "role_%s", duties[i].word);
		if (*identity_field(in, key))
			roles |= duties[i].bit;
	}
	return roles;
}

/* ---- security events ------------------------------------------------------------------ */

struct sec_event {
	int64_t id, at, account, actor; /* account, actor: 0 when none */
	const char *kind, *ip, *detail;
	const char *account_name, *actor_name; /* NULL when none */
};

struct event_filter {
	const char *kind_like; /* LIKE pattern (prefix, '!' escapes), or NULL */
	int64_t account;       /* 0 = any */
};

/* One statement per shape: NULL parameters switch a filter off. '!' is the LIKE escape
 * (rather than a backslash, which the two backends read differently). */
#define EVENTS_WHERE                                                                         \
	"WHERE (CAST(? AS TEXT) IS NULL OR e.kind LIKE ? ESCAPE '!') "                         \
	"AND (CAST(? AS BIGINT) IS NULL OR e.account_id = ?) "
DB_SQL(q_events, "SELECT e.id, e.at, e.kind, e.account_id, e.actor_id, e.ip, e.detail, a.name, b.name "
		 "FROM security_events e LEFT JOIN accounts a ON a.id = e.account_id "
		 "LEFT JOIN accounts b ON b.id = e.actor_id " EVENTS_WHERE "ORDER BY e.id DESC LIMIT ? OFFSET ?");
DB_SQL(q_events_count, "SELECT COUNT(*) FROM security_events e " EVENTS_WHERE);

static void sec_event_row(const struct db_rows *rows, size_t i, void *out)
{
	*(struct sec_event *)out = (struct sec_event){
		.id = db_cell_int(rows, i, 0), .at = db_cell_int(rows, i, 1), .kind = db_cell(rows, i, 2),
		.account = db_cell(rows, i, 3) ? db_cell_int(rows, i, 3) : 0,
		.actor = db_cell(rows, i, 4) ? db_cell_int(rows, i, 4) : 0, .ip = db_cell(rows, i, 5),
		.detail = db_cell(rows, i, 6), .account_name = db_cell(rows, i, 7), .actor_name = db_cell(rows, i, 8),
	};
}

/* Lists security events matching f, newest first; *total (may be NULL) gets the count of all
 * matches. Rows live in a. */
static int events_list(struct db *db, struct arena *a, const struct event_filter *f, long page, long per_page,
		       struct sec_event **out, size_t *n, long *total)
{
	struct db_val kind = f->kind_like ? DB_TEXT(f->kind_like) : DB_NULL;
	struct db_val acct = f->account ? DB_INT(f->account) : DB_NULL;
	struct db_rows rows;
	int rc;
	if (total) {
		if ((rc = db_query(db, a, &q_events_count, DB_ARGS(kind, kind, acct, acct), &rows)))
			return rc;
		*total = (long)db_cell_int(&rows, 0, 0);
	}
	return db_query_array(db, a, &q_events,
			      DB_ARGS(kind, kind, acct, acct, DB_INT(per_page), DB_INT((int64_t)(page - 1) * per_page)),
			      sizeof(**out), sec_event_row, out, n);
}

static json_t *id_or_null(int64_t id)
{
	return id ? json_integer((json_int_t)id) : json_null();
}

static json_t *event_json(struct req *r, const struct sec_event *e)
{
	return json_pack("{s:I,s:s,s:s,s:o,s:o,s:s?,s:s}", "id", (json_int_t)e->id, "at", iso_time(r->arena, e->at),
			 "kind", e->kind, "account", id_or_null(e->account), "actor", id_or_null(e->actor), "ip",
			 e->ip, "detail", e->detail ? e->detail : "");
}

/* An event as a table row of the pages. */
static json_t *event_row(struct req *r, const struct sec_event *e)
{
	json_t *o = json_pack("{s:I,s:s,s:s?,s:s,s:s,s:s?,s:s}", "id", (json_int_t)e->id, "at", iso_time(r->arena, e->at),
			      "at_text", req_when(r, e->at), "kind", e->kind, "kind_name", MC(r, "admin_event_", e->kind), "ip", e->ip,
			      "detail", e->detail ? e->detail : "");
	if (e->account) {
		json_object_set_new(o, "account", json_integer((json_int_t)e->account));
		jset(o, "account_href", arena_printf(r->arena, "/admin/accounts/%lld", (long long)e->account));
		jset(o, "account_name", e->account_name);
	}
	if (e->actor) {
		json_object_set_new(o, "actor", json_integer((json_int_t)e->actor));
		jset(o, "actor_href", arena_printf(r->arena, "/admin/accounts/%lld", (long long)e->actor));
		jset(o, "actor_name", e->actor_name);
	}
	return o;
}

/* ---- pages: shared pieces ------------------------------------------------------------- */

struct qparam {
	const char *key, *val; /* skipped when val is NULL or "" */
};

/* path?k=v&...&per_page=..&page=.. (per_page only when not the default, page when > 1). */
static const char *list_href(struct req *r, const char *path, const struct qparam *qp, size_t nqp, long per_page,
			     long def_per_page, long page)
{
	struct sb sb = SB_INIT;
	sb_adds(&sb, path);
	char sep = '?';
	for (size_t i = 0; i < nqp; i++) {
		if (!qp[i].val || !*qp[i].val)
			continue;
		sb_addch(&sb, sep);
		sep = '&';
		sb_adds(&sb, qp[i].key);
		sb_addch(&sb, '=');
		sb_add_urlenc(&sb, qp[i].val, strlen(qp[i].val));
	}
	if (per_page != def_per_page) {
		sb_addf(&sb, "%cper_page=%ld", sep, per_page);
		sep = '&';
	}
	if (page > 1)
		sb_addf(&sb, "%cpage=%ld", sep, page);
	char *s = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	return s;
}

/* The context of identity/admin_pagination (false when everything fits on one page). */
static json_t *pagination(struct req *r, const char *path, const struct qparam *qp, size_t nqp, long page,
			  long per_page, long def_per_page, long total)
{
	long pages = (total + per_page - 1) / per_page;
	if (pages <= 1)
		return json_false();
	json_t *p = json_object();
	if (page > 1)
		jset(p, "prev_href", list_href(r, path, qp, nqp, per_page, def_per_page, page - 1 < pages ? page - 1 : pages));
	if (page < pages)
		jset(p, "next_href", list_href(r, path, qp, nqp, per_page, def_per_page, page + 1));
	json_t *arr = json_array();
	long last = 0;
	for (long i = 1; i <= pages; i++) {
		if (i != 1 && i != pages && (i < page - 2 || i > page + 2))
			continue;
		json_t *o = json_pack("{s:I,s:s,s:s}", "n", (json_int_t)i, "href",
				      list_href(r, path, qp, nqp, per_page, def_per_page, i), "label",
				      fmt_n(r, "page_n", i, 0));
		if (last && i > last + 1)
			json_object_set_new(o, "gap_before", json_true());
		if (i == page)
			json_object_set_new(o, "current", json_true());
		json_array_append_new(arr, o);
		last = i;
	}
	json_object_set_new(p, "pages", arr);
	jset(p, "status", fmt_n(r, "page_of_fmt", page, pages));
	return p;
}

/* A page context with the title and a flag for the administration nav: nav_admin_accounts
 * or nav_admin_events on the two list pages (aria-current), in_admin_accounts elsewhere. */
static json_t *admin_ctx(struct req *r, const char *title, const char *section)
{
	json_t *ctx = json_pack("{s:s}", "title", title);
	json_object_set_new(ctx, section, json_true());
	return ctx;
}

/* Answers a validation failure (the form page again with "has_errors" for its summary, or
 * 422 JSON). ctx NULL means the page's context could not be built. */
static int invalid(struct req *r, const char *tpl, json_t *ctx, json_t *errs)
{
	if (!ctx)
		return GH_EDB;
	json_object_set_new(ctx, "has_errors", json_true());
	return req_invalid(r, tpl, ctx, errs);
}

/* The account the route's {id} names (GH_ENOTFOUND with a detail). */
static int account_of_page(struct req *r, int64_t *id, struct account *acc)
{
	long v;
	const char *s = req_param(r, "id");
	if (!s || str_to_long(str_c(s), 1, 1L << 62, &v)) {
		req_error_detail(r, "%s", M(r, "admin_account_number_positive_whole_number"));
		return GH_ENOTFOUND;
	}
	*id = v;
	int rc = account_get(r->db, r->arena, v, acc);
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", MF(r, "admin_no_account", MA("id", (long long)v)));
	return rc;
}

/* account_json() plus what the pages show beside it. */
static json_t *account_view(struct req *r, const struct account *acc, const struct admin_dept *d, size_t nd)
{
	json_t *o = account_json(acc);
	jset(o, "href", arena_printf(r->arena, "/admin/accounts/%lld", (long long)acc->id));
	jset(o, "kind_label", kind_label(r, acc->kind));
	jset(o, "status_label", M(r, strcmp(acc->status, "active") == 0 ? "admin_status_active" : "admin_status_disabled"));
	if (strcmp(acc->status, "active") != 0)
		json_object_set_new(o, "disabled", json_true());
	if (acc->department)
		jset(o, "department_name", dept_name(r, d, nd, acc->department));
	if (acc->staff_roles)
		jset(o, "duties_label", duties_label(r, acc->staff_roles));
	jset(o, "created", iso_time(r->arena, acc->created_at));
	return o;
}

/* ---- GET /admin/accounts -------------------------------------------------------------- */

static int accounts_list(struct req *r)
{
	const char *kind = req_query(r, "kind");
	if (kind && !*kind)
		kind = NULL;
	if (kind && !kind_known(kind)) {
		req_error_detail(r, "%s", M(r, "admin_parameter_kind_must_individual_enterprise"));
		return GH_EINVAL;
	}
	long page, per;
	int rc = req_query_long(r, "page", 1, 1, MAX_PAGE, &page);
	if (!rc)
		rc = req_query_long(r, "per_page", ACCOUNTS_PER_PAGE, 1, MAX_PER_PAGE, &per);
	if (rc)
		return rc;
	struct account *v;
	size_t n;
	long total;
	if ((rc = account_list(r->db, r->arena, kind, page, per, &v, &n, &total)))
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, account_json(&v[i]));
		return resp_json(r, 200, json_pack("{s:o,s:i,s:i,s:I}", "accounts", arr, "page", (int)page, "per_page",
						   (int)per, "total", (json_int_t)total));
	}
	struct admin_dept *d;
	size_t nd;
	if ((rc = depts_list(r->db, r->arena, &d, &nd)))
		return rc;
	json_t *ctx = admin_ctx(r, M(r, "admin_accounts_title"), "nav_admin_accounts");
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, account_view(r, &v[i], d, nd));
	json_object_set_new(ctx, "accounts", arr);
	json_object_set_new(ctx, "empty", json_boolean(n == 0));
	jset(ctx, "count", fmt_n(r, "admin_accounts_count_fmt", total, 0));
	json_t *opts = json_array();
	for (size_t i = 0; i < ARRAY_LEN(account_kinds); i++) {
		json_t *o = json_pack("{s:s,s:s}", "value", account_kinds[i], "label", kind_label(r, account_kinds[i]));
		if (kind && strcmp(kind, account_kinds[i]) == 0)
			json_object_set_new(o, "selected", json_true());
		json_array_append_new(opts, o);
	}
	json_object_set_new(ctx, "kind_options", opts);
	if (per != ACCOUNTS_PER_PAGE)
		json_object_set_new(ctx, "per_page", json_integer(per));
	json_object_set_new(ctx, "filtered", json_boolean(kind != NULL));
	struct qparam qp[] = { { "kind", kind } };
	json_object_set_new(ctx, "pagination",
			    pagination(r, "/admin/accounts", qp, ARRAY_LEN(qp), page, per, ACCOUNTS_PER_PAGE, total));
	return resp_page(r, 200, "identity/admin_accounts", ctx);
}

/* ---- GET /admin/accounts/{id} --------------------------------------------------------- */

/* The context of identity/admin_account. sel_dept / sel_roles preselect the staff form
 * (the account's own values, or what was posted when it is shown again with errors). */
static json_t *account_page_ctx(struct req *r, const struct account *acc, const char *sel_dept, unsigned sel_roles)
{
	struct admin_dept *d = NULL;
	size_t nd = 0;
	struct sec_event *ev = NULL;
	size_t nev = 0;
	long total = 0;
	struct event_filter f = { .account = acc->id };
	if (depts_list(r->db, r->arena, &d, &nd) ||
	    events_list(r->db, r->arena, &f, 1, ACCOUNT_EVENTS, &ev, &nev, &total))
		return NULL;
	json_t *ctx = admin_ctx(r, acc->name, "in_admin_accounts");
	json_object_set_new(ctx, "account", account_view(r, acc, d, nd));
	bool staff = strcmp(acc->kind, "staff") == 0;
	bool self = acc->id == r->who.account;
	if (staff) {
		json_object_set_new(ctx, "is_staff", json_true());
		json_object_set_new(ctx, "dept_options", dept_options(r, d, nd, sel_dept));
		json_object_set_new(ctx, "duties", duty_boxes(r, sel_roles));
	}
	if (!self && (staff || strcmp(acc->kind, "admin") == 0))
		json_object_set_new(ctx, "can_reset", json_true()); /* recover.c */
	if (self)
		json_object_set_new(ctx, "is_self", json_true());
	else if (strcmp(acc->status, "active") == 0)
		json_object_set_new(ctx, "can_disable", json_true());
	else
		json_object_set_new(ctx, "can_enable", json_true());
	json_t *arr = json_array();
	for (size_t i = 0; i < nev; i++)
		json_array_append_new(arr, event_row(r, &ev[i]));
	json_object_set_new(ctx, "events", arr);
	json_object_set_new(ctx, "events_empty", json_boolean(nev == 0));
	jset(ctx, "caption", M(r, "admin_account_events_caption"));
	if (total > (long)nev)
		jset(ctx, "events_more_href", arena_printf(r->arena, "/admin/events?account=%lld", (long long)acc->id));
	jset(ctx, "csrf", identity_csrf_token(r));
	return ctx;
}

static int account_show(struct req *r)
{
	int64_t id;
	struct account acc;
	int rc = account_of_page(r, &id, &acc);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api) {
		struct sec_event *ev;
		size_t nev;
		struct event_filter f = { .account = id };
		if ((rc = events_list(r->db, r->arena, &f, 1, ACCOUNT_EVENTS, &ev, &nev, NULL)))
			return rc;
		json_t *arr = json_array();
		for (size_t i = 0; i < nev; i++)
			json_array_append_new(arr, event_json(r, &ev[i]));
		return resp_json(r, 200, json_pack("{s:o,s:o}", "account", account_json(&acc), "events", arr));
	}
	json_t *ctx = account_page_ctx(r, &acc, acc.department, acc.staff_roles);
	if (!ctx)
		return GH_EDB;
	const char *saved = req_query(r, "saved");
	if (saved && strcmp(saved, "staff") == 0)
		jset(ctx, "saved", M(r, "admin_saved_staff"));
	else if (saved && strcmp(saved, "status") == 0)
		jset(ctx, "saved", M(r, "admin_saved_status"));
	return resp_page(r, 200, "identity/admin_account", ctx);
}

/* ---- changes: POST /admin/accounts/{id}/staff|status, PATCH /api/v1/admin/accounts/{id} */

enum update_form {
	UPDATE_STAFF,  /* page form: department and duty checkboxes */
	UPDATE_STATUS, /* page form: status */
	UPDATE_JSON,   /* API: any of status, department, staff_roles */
};

/* What an administrator changes in an account. */
struct account_change {
	int64_t id;
	const char *dept, *status;
	unsigned roles;
	enum update_form form;
	bool staff_changed, status_changed;
};

/* The change in one transaction: staff duties, status (disabling ends every session). */
static int account_change_write(struct req *w, void *p)
{
	struct account_change *c = p;
	bool own;
	int rc = cover_tx_begin(w->db, &own);
	if (rc)
		return rc;
	if (c->staff_changed) {
		const char *words = account_staff_roles_str(w->arena, c->roles);
		rc = account_set_staff(w->db, c->id, c->dept, c->roles);
		if (!rc)
			identity_event(w->db, "account.roles", c->id, w->who.account, w->ip,
				       arena_printf(w->arena, "%s: %s", c->dept, words));
	}
	if (!rc && c->status_changed) {
		bool off = strcmp(c->status, "disabled") == 0;
		rc = account_set_status(w->db, c->id, c->status);
		if (!rc && off)
			rc = session_end_account(w->db, c->id, 0);
		if (!rc)
			identity_event(w->db, off ? "account.disable" : "account.enable", c->id, w->who.account, w->ip, "");
	}
	return cover_tx_end(w->db, own, rc);
}

static int account_change_done(struct req *r, void *p, int rc)
{
	struct account_change *c = p;
	if (rc)
		return rc;
	if (r->api) {
		struct account acc;
		if ((rc = account_get(r->db, r->arena, c->id, &acc)))
			return rc;
		resp_header(r, "Cache-Control", "no-store");
		return resp_json(r, 200, json_pack("{s:o}", "account", account_json(&acc)));
	}
	return resp_redirect(r, 303, arena_printf(r->arena, "/admin/accounts/%lld?saved=%s", (long long)c->id,
						  c->form == UPDATE_STAFF ? "staff" : "status"));
}

static int account_update(struct req *r, enum update_form form)
{
	int64_t id;
	struct account acc;
	int rc = account_of_page(r, &id, &acc);
	if (rc)
		return rc;
	json_t *in;
	if ((rc = identity_read_input(r, &in)))
		return rc;
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);

	if (form == UPDATE_JSON) {
		const char *k;
		json_t *x;
		json_object_foreach(in, k, x)
		{
			if (strcmp(k, "status") && strcmp(k, "department") && strcmp(k, "staff_roles"))
				identity_field_error(errs, k, M(r, "admin_field_unknown_patch"));
		}
	}

	const char *status = NULL;
	if (form != UPDATE_STAFF && json_object_get(in, "status")) {
		status = identity_field(in, "status");
		if (strcmp(status, "active") && strcmp(status, "disabled"))
			identity_field_error(errs, "status", M(r, "admin_status_must_active_disabled"));
		else if (strcmp(status, "disabled") == 0 && id == r->who.account)
			identity_field_error(errs, "status", M(r, "admin_cannot_disable_own_account_ask"));
	} else if (form == UPDATE_STATUS) {
		identity_field_error(errs, "status", M(r, "admin_choose_status"));
	}

	bool set_staff = false;
	const char *dept = acc.department;
	unsigned roles = acc.staff_roles;
	struct admin_dept *d;
	size_t nd;
	if ((rc = depts_list(r->db, r->arena, &d, &nd)))
		return rc;
	if (form == UPDATE_STAFF || (form == UPDATE_JSON && (json_object_get(in, "department") ||
							    json_object_get(in, "staff_roles")))) {
		set_staff = true;
		if (form == UPDATE_STAFF || json_object_get(in, "department"))
			dept = identity_field(in, "department");
		if (form == UPDATE_STAFF)
			roles = duties_from_form(in);
		else if (json_object_get(in, "staff_roles") && account_parse_staff_roles(identity_field(in, "staff_roles"), &roles))
			identity_field_error(errs, "staff_roles", M(r, "admin_staff_roles_one_more_counter"));
		if (strcmp(acc.kind, "staff") != 0)
			identity_field_error(errs, "department", M(r, "admin_only_staff_accounts_have_department"));
		else if (!dept_find(d, nd, dept))
			identity_field_error(errs, "department", M(r, "admin_choose_existing_department"));
		if (!roles && strcmp(acc.kind, "staff") == 0)
			identity_field_error(errs, form == UPDATE_STAFF ? "duties" : "staff_roles",
					     M(r, "admin_choose_least_one_duty"));
	}
	if (form == UPDATE_JSON && !status && !set_staff && !json_object_size(errs)) {
		req_error_detail(r, "%s", M(r, "admin_patch_empty"));
		return GH_EINVAL;
	}
	if (json_object_size(errs)) {
		json_t *ctx = r->api ? json_object() : account_page_ctx(r, &acc, dept, roles);
		return invalid(r, "identity/admin_account", ctx, errs);
	}

	struct account_change *c = arena_zalloc(r->arena, sizeof(*c));
	*c = (struct account_change){ .id = id, .dept = dept, .roles = roles, .status = status, .form = form,
				      .staff_changed = set_staff && (!acc.department || strcmp(dept, acc.department) ||
								     roles != acc.staff_roles),
				      .status_changed = status && strcmp(status, acc.status) != 0 };
	return req_write(r, account_change_write, account_change_done, c);
}

static int staff_post(struct req *r)
{
	return account_update(r, UPDATE_STAFF);
}

static int status_post(struct req *r)
{
	return account_update(r, UPDATE_STATUS);
}

static int account_patch(struct req *r)
{
	return account_update(r, UPDATE_JSON);
}

/* ---- creating staff and administrator accounts ---------------------------------------- */


static json_t *new_ctx(struct req *r, json_t *values, const char *dept, unsigned roles)
{
	struct admin_dept *d;
	size_t nd;
	if (depts_list(r->db, r->arena, &d, &nd)) {
		json_decref(values);
		return NULL;
	}
	json_t *ctx = admin_ctx(r, M(r, "admin_new_title"), "in_admin_accounts");
	json_object_set_new(ctx, "v", values ? values : json_object());
	json_object_set_new(ctx, "dept_options", dept_options(r, d, nd, dept));
	json_object_set_new(ctx, "duties", duty_boxes(r, roles));
	const char *kind = json_string_value(json_object_get(json_object_get(ctx, "v"), "kind"));
	json_object_set_new(ctx, kind && strcmp(kind, "admin") == 0 ? "kind_admin" : "kind_staff", json_true());
	jset(ctx, "csrf", identity_csrf_token(r));
	return ctx;
}

static int account_new_get(struct req *r)
{
	json_t *ctx = new_ctx(r, NULL, NULL, 0);
	if (!ctx)
		return GH_EDB;
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "identity/admin_new", ctx);
}

struct create_job {
	struct account_new acc;
	json_t *values; /* the form's values for showing it again (owned by the request) */
	char password[ACCOUNT_INITIAL_PASSWORD_LEN + 1];
	char secret[TOTP_BASE32_LEN + 1];
	int rc;
	char hash[PASSWORD_HASH_MAX];
	int64_t id; /* the account made */
};

static void create_work(void *p)
{
	struct create_job *j = p;
	j->rc = password_hash(j->password, j->hash);
}

static void create_wipe(struct create_job *j)
{
	sodium_memzero(j->password, sizeof(j->password));
	sodium_memzero(j->secret, sizeof(j->secret));
	sodium_memzero(j->hash, sizeof(j->hash));
}

/* A copy of the form's values for showing it again. */
static json_t *kept_values(json_t *in)
{
	json_t *v = json_object();
	const char *k;
	json_t *x;
	json_object_foreach(in, k, x)
	{
		if (strcmp(k, "_csrf") != 0)
			json_object_set(v, k, x);
	}
	return v;
}

/* The account, with the hash the pool made: a write. A taken phone or ID number is
 * j->rc = GH_ECONFLICT (nothing written), not a failure of the write. */
static int create_write(struct req *w, void *p)
{
	struct create_job *j = p;
	j->acc.password_hash = j->hash;
	j->id = 0;
	j->rc = account_create(w->db, w->app->keys, w->arena, &j->acc, &j->id);
	if (j->rc == GH_ECONFLICT)
		return 0;
	if (j->rc)
		return j->rc;
	identity_event(w->db, "account.create", j->id, w->who.account, w->ip, j->acc.kind);
	return 0;
}

static int create_answer(struct req *r, void *p, int rc)
{
	struct create_job *j = p;
	sodium_memzero(j->hash, sizeof(j->hash));
	if (!rc && j->rc == GH_ECONFLICT) {
		create_wipe(j);
		json_t *errs = json_object();
		arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
		identity_field_error(errs, "phone", M(r, "admin_phone_number_id_number_already"));
		json_t *ctx = r->api ? json_object() : new_ctx(r, kept_values(j->values), j->acc.department, j->acc.staff_roles);
		return invalid(r, "identity/admin_new", ctx, errs);
	}
	if (rc) {
		create_wipe(j);
		return rc;
	}
	int64_t id = j->id;
	struct account acc;
	if ((rc = account_get(r->db, r->arena, id, &acc))) {
		create_wipe(j);
		return rc;
	}
	const char *uri = j->acc.totp_secret ? totp_uri(r->arena, j->secret, j->acc.name) : NULL;
	resp_header(r, "Cache-Control", "no-store");
	resp_header(r, "Pragma", "no-cache");
	if (r->api) {
		json_t *out = json_pack("{s:o,s:s,s:s?,s:s?}", "account", account_json(&acc), "initial_password",
					j->password, "totp_secret", j->acc.totp_secret ? j->secret : NULL, "totp_uri", uri);
		resp_header(r, "Location", arena_printf(r->arena, "/api/v1/admin/accounts/%lld", (long long)id));
		create_wipe(j);
		return resp_json(r, 201, out);
	}
	struct admin_dept *d;
	size_t nd;
	if ((rc = depts_list(r->db, r->arena, &d, &nd))) {
		create_wipe(j);
		return rc;
	}
	json_t *ctx = admin_ctx(r, M(r, "admin_created_title"), "in_admin_accounts");
	json_object_set_new(ctx, "account", account_view(r, &acc, d, nd));
	jset(ctx, "initial_password", j->password);
	if (uri) {
		jset(ctx, "totp_secret", j->secret);
		jset(ctx, "totp_uri", uri);
	}
	create_wipe(j);
	return resp_page(r, 201, "identity/admin_created", ctx);
}

/* The password was hashed on the pool. */
static int create_done(struct req *r, void *p)
{
	struct create_job *j = p;
	if (j->rc) {
		create_wipe(j);
		return j->rc;
	}
	return req_write(r, create_write, create_answer, j);
}

static void check_name(struct req *r, json_t *errs, const char *v)
{
	size_t n = str_utf8_chars(v, strlen(v));
	bool ctl = false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ctl = true;
	if (n < 2 || n > 50 || ctl)
		identity_field_error(errs, "name", M(r, "admin_enter_full_name_id_card"));
}

static bool truthy(const char *s)
{
	return !strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes");
}

static int account_create_post(struct req *r)
{
	json_t *in;
	int rc = identity_read_input(r, &in);
	if (rc)
		return rc;
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
	if (r->api) {
		static const char *const known[] = { "kind", "name", "phone", "id_number", "department", "staff_roles", "totp" };
		const char *k;
		json_t *x;
		json_object_foreach(in, k, x)
		{
			bool ok = false;
			for (size_t i = 0; i < ARRAY_LEN(known); i++)
				ok = ok || strcmp(k, known[i]) == 0;
			if (!ok)
				identity_field_error(errs, k, M(r, "admin_field_unknown"));
		}
	}
	const char *kind = identity_field(in, "kind"), *name = identity_field(in, "name");
	const char *phone_in = identity_field(in, "phone"), *id_in = identity_field(in, "id_number");
	bool staff = strcmp(kind, "staff") == 0, admin = strcmp(kind, "admin") == 0;
	if (!staff && !admin)
		identity_field_error(errs, "kind", M(r, "admin_choose_staff_administrator"));
	check_name(r, errs, name);
	char phone[32], idn[32];
	size_t pl = idcheck_normalize(phone_in, strlen(phone_in), phone, sizeof(phone));
	enum idcheck_err pe = pl ? idcheck_phone(phone, pl) : IDCHECK_LENGTH;
	if (pe != IDCHECK_OK)
		identity_field_error(errs, "phone", M(r, idcheck_reason(pe, "phone")));
	size_t il = 0;
	if (*id_in) {
		il = idcheck_normalize(id_in, strlen(id_in), idn, sizeof(idn));
		enum idcheck_err ie = il ? idcheck_id_number(idn, il) : IDCHECK_LENGTH;
		if (ie != IDCHECK_OK)
			identity_field_error(errs, "id_number", M(r, idcheck_reason(ie, "id_number")));
	}
	const char *dept = identity_field(in, "department");
	unsigned roles = 0;
	if (staff) {
		struct admin_dept *d;
		size_t nd;
		if ((rc = depts_list(r->db, r->arena, &d, &nd)))
			return rc;
		if (!dept_find(d, nd, dept))
			identity_field_error(errs, "department", M(r, "admin_choose_department"));
		if (r->api) {
			if (account_parse_staff_roles(identity_field(in, "staff_roles"), &roles))
				identity_field_error(errs, "staff_roles", M(r, "admin_duties_unknown"));
		} else {
			roles = duties_from_form(in);
		}
		if (!roles)
			identity_field_error(errs, r->api ? "staff_roles" : "duties",
					     M(r, "admin_choose_least_one_duty"));
	}
	if (json_object_size(errs)) {
		json_t *ctx = r->api ? json_object() : new_ctx(r, kept_values(in), dept, roles);
		return invalid(r, "identity/admin_new", ctx, errs);
	}

	struct create_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->values = in;
	j->acc.kind = staff ? "staff" : "admin";
	j->acc.name = arena_strdup(r->arena, name);
	j->acc.phone = arena_strdup(r->arena, phone);
	j->acc.id_number = il ? arena_strdup(r->arena, idn) : NULL;
	if (staff) {
		j->acc.department = arena_strdup(r->arena, dept);
		j->acc.staff_roles = roles;
	}
	account_random_password(j->password);
	/* Administrators always get a second factor (log-in refuses them without one). */
	if (admin || truthy(identity_field(in, "totp"))) {
		totp_new_secret(j->secret);
		j->acc.totp_secret = j->secret;
	}
	rc = req_job(r, create_work, create_done, j);
	if (rc < 0)
		create_wipe(j);
	return rc;
}

/* ---- GET /admin/events ---------------------------------------------------------------- */

static int events_page(struct req *r)
{
	long page, per, account;
	int rc = req_query_long(r, "page", 1, 1, MAX_PAGE, &page);
	if (!rc)
		rc = req_query_long(r, "per_page", EVENTS_PER_PAGE, 1, MAX_PER_PAGE, &per);
	if (!rc)
		rc = req_query_long(r, "account", 0, 1, 1L << 62, &account);
	if (rc)
		return rc;
	const char *kind = req_query(r, "kind");
	struct event_filter f = { .account = account };
	char *lower = NULL;
	if (kind && *kind) {
		size_t n = strlen(kind);
		bool ok = n <= EVENT_KIND_MAX;
		struct sb like = SB_INIT;
		lower = arena_strdup(r->arena, kind);
		for (size_t i = 0; ok && i < n; i++) {
			char c = kind[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			lower[i] = c;
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
				ok = false;
			if (c == '_')
				sb_addch(&like, '!'); /* '_' is a LIKE wildcard */
			sb_addch(&like, c);
		}
		sb_addch(&like, '%');
		f.kind_like = arena_strndup(r->arena, like.buf, like.len);
		sb_release(&like);
		if (!ok) {
			req_error_detail(r, "%s", M(r, "admin_parameter_kind_start_event_kind"));
			return GH_EINVAL;
		}
	}
	struct sec_event *ev;
	size_t n;
	long total;
	if ((rc = events_list(r->db, r->arena, &f, page, per, &ev, &n, &total)))
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, event_json(r, &ev[i]));
		return resp_json(r, 200, json_pack("{s:o,s:i,s:i,s:I}", "events", arr, "page", (int)page, "per_page",
						   (int)per, "total", (json_int_t)total));
	}
	json_t *ctx = admin_ctx(r, M(r, "admin_events_title"), "nav_admin_events");
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, event_row(r, &ev[i]));
	json_object_set_new(ctx, "events", arr);
	json_object_set_new(ctx, "empty", json_boolean(n == 0));
	jset(ctx, "count", fmt_n(r, "admin_events_count_fmt", total, 0));
	jset(ctx, "caption", M(r, "admin_events_caption"));
	json_object_set_new(ctx, "show_account", json_true());
	jset(ctx, "kind", lower);
	const char *acct = account ? arena_printf(r->arena, "%ld", account) : NULL;
	jset(ctx, "account", acct);
	if (per != EVENTS_PER_PAGE)
		json_object_set_new(ctx, "per_page", json_integer(per));
	json_object_set_new(ctx, "filtered", json_boolean(lower || account));
	static const char *const common_kinds[] = { "login", "login.fail", "login.factor_fail", "login.factor_locked", "login.ceiling", "logout", "register",
						    "account.", "account.create", "account.roles", "account.disable",
						    "account.enable", "password.", "token.", "key." };
	json_t *kinds = json_array();
	for (size_t i = 0; i < ARRAY_LEN(common_kinds); i++)
		json_array_append_new(kinds, json_string(common_kinds[i]));
	json_object_set_new(ctx, "kind_suggestions", kinds);
	struct qparam qp[] = { { "kind", lower }, { "account", acct } };
	json_object_set_new(ctx, "pagination",
			    pagination(r, "/admin/events", qp, ARRAY_LEN(qp), page, per, EVENTS_PER_PAGE, total));
	return resp_page(r, 200, "identity/admin_events", ctx);
}

static int admin_home(struct req *r)
{
	return resp_redirect(r, 303, "/admin/accounts");
}

const struct route identity_admin_routes[] = {
	{ HTTP_GET, "/admin", admin_home, ROLE_ADMIN, 0, "identity.admin" },
	{ HTTP_GET, "/admin/accounts", accounts_list, ROLE_ADMIN, 0, "identity.admin_accounts" },
	{ HTTP_POST, "/admin/accounts", account_create_post, ROLE_ADMIN, ROUTE_CSRF, "identity.admin_account_create" },
	{ HTTP_GET, "/admin/accounts/new", account_new_get, ROLE_ADMIN, 0, "identity.admin_account_new" },
	{ HTTP_GET, "/admin/accounts/{id}", account_show, ROLE_ADMIN, 0, "identity.admin_account" },
	{ HTTP_POST, "/admin/accounts/{id}/staff", staff_post, ROLE_ADMIN, ROUTE_CSRF, "identity.admin_account_staff" },
	{ HTTP_POST, "/admin/accounts/{id}/status", status_post, ROLE_ADMIN, ROUTE_CSRF, "identity.admin_account_status" },
	{ HTTP_GET, "/admin/events", events_page, ROLE_ADMIN, 0, "identity.admin_events" },
	{ HTTP_GET, "/api/v1/admin/accounts", accounts_list, ROLE_ADMIN, 0, "identity.api_admin_accounts", NULL,
	  SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/accounts", account_create_post, ROLE_ADMIN, 0, "identity.api_admin_account_create",
	  NULL, SCOPE_ADMIN },
	{ HTTP_GET, "/api/v1/admin/accounts/{id}", account_show, ROLE_ADMIN, 0, "identity.api_admin_account", NULL,
	  SCOPE_ADMIN },
	{ HTTP_PATCH, "/api/v1/admin/accounts/{id}", account_patch, ROLE_ADMIN, 0, "identity.api_admin_account_patch",
	  NULL, SCOPE_ADMIN },
	{ HTTP_GET, "/api/v1/admin/events", events_page, ROLE_ADMIN, 0, "identity.api_admin_events", NULL, SCOPE_ADMIN },
};
const size_t identity_admin_routes_n = sizeof(identity_admin_routes) / sizeof(identity_admin_routes[0]);
