/* access.c: who saw an applicant's data. Staff and administrators opening an application's
 * detail (page or API, or one of its attachments) leave one row per person, application and
 * day in access_events; a staff member revealing a personal field in full leaves one row per
 * reveal, with the reason given. The applicant (or the enterprise an application was filed
 * for) reads them at /account/access and GET /api/v1/me/access: when, which department, in
 * which duty, what was revealed and why; never the staff member's name.
 *
 * Reveals: the applicant may show their own values (not recorded: it is their data); staff
 * of the department handling the application with a duty may show one field at a time, at
 * most REVEALS_PER_HOUR per person; administrators and other departments may not. */
#include <stdio.h>
#include <string.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/str.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/forms.h"
#include "cases/pages_impl.h"
#include "catalog/catalog.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "store/db.h"
#include "view/view.h"

#define REVEALS_PER_HOUR 120 /* per staff member: a busy counter, not a harvest */
#define REASON_MAX 200       /* characters of a reveal's reason */
#define PER_PAGE 50
#define MEMO 1024            /* views remembered per thread, so a reload writes nothing */

DB_SQL(q_view,
       "INSERT INTO access_events (subject_id, application_id, actor_id, department, actor_role, kind, day, at) "
       "VALUES (?, ?, ?, ?, ?, 'view', ?, ?) ON CONFLICT DO NOTHING");
DB_SQL(q_reveal,
       "INSERT INTO access_events (subject_id, application_id, actor_id, department, actor_role, kind, field, reason, "
       "day, at) VALUES (?, ?, ?, ?, ?, 'reveal', ?, ?, ?, ?)");
DB_SQL(q_list,
       "SELECT e.at, e.kind, e.department, d.name_zh, d.name_en, e.actor_role, a.number, s.name_zh, s.name_en, "
       "e.field, e.reason, s.form FROM access_events e JOIN applications a ON a.id = e.application_id "
       "JOIN service_items s ON s.code = a.item_code AND s.version = a.item_version "
       "LEFT JOIN departments d ON d.code = e.department WHERE e.subject_id = ? ORDER BY e.id DESC LIMIT ? OFFSET ?");
DB_SQL(q_count, "SELECT COUNT(*) FROM access_events WHERE subject_id = ?");

static int64_t subject_of(const struct application *app)
{
	return app->enterprise_id ? app->enterprise_id : app->applicant_id;
}

/* "admin", or the duties of a staff member ("counter,reviewer,head"), in a. */
static const char *role_of(struct req *r)
{
	if (r->role == ROLE_ADMIN)
		return "admin";
	static const struct {
		unsigned bit;
		const char *word;
	} duties[] = { { STAFF_COUNTER, "counter" }, { STAFF_REVIEWER, "reviewer" }, { STAFF_HEAD, "head" } };
	const char *s = "";
	for (size_t i = 0; i < ARRAY_LEN(duties); i++)
		if (r->who.staff_roles & duties[i].bit)
			s = *s ? arena_printf(r->arena, "%s,%s", s, duties[i].word) : duties[i].word;
	return *s ? s : "staff";
}

static _Thread_local struct {
	int64_t application, actor;
	int32_t day;
} memo[MEMO];

/* One access event, written along with the request (req_write_also) or through it. */
struct access_row {
	int64_t subject, application, actor;
	int32_t day;
	int64_t at;
	char department[64], role[48];
	bool staff;
};

struct case_reveal_rec {
	struct access_row row;
	const char *key, *reason; /* in the request's arena */
};

static void access_row_fill(struct req *r, const struct application *app, struct access_row *e)
{
	e->subject = subject_of(app);
	e->application = app->id;
	e->actor = r->who.account;
	e->day = cases_today();
	e->at = (int64_t)time(NULL);
	e->staff = r->role == ROLE_STAFF;
	snprintf(e->department, sizeof(e->department), "%s", r->who.department ? r->who.department : "");
	snprintf(e->role, sizeof(e->role), "%s", role_of(r));
}

static int view_write(struct db *db, void *arg)
{
	const struct access_row *e = arg;
	return db_exec(db, &q_view,
		       DB_ARGS(DB_INT(e->subject), DB_INT(e->application), DB_INT(e->actor),
			       e->staff ? DB_TEXT(e->department) : DB_NULL, DB_TEXT(e->role), DB_INT(e->day), DB_INT(e->at)),
		       NULL);
}

void case_access_view(struct req *r, const struct application *app)
{
	if (r->role != ROLE_STAFF && r->role != ROLE_ADMIN)
		return;
	int32_t day = cases_today();
	size_t slot = (size_t)((uint64_t)app->id * 2654435761u + (uint64_t)r->who.account) % MEMO;
	if (memo[slot].application == app->id && memo[slot].actor == r->who.account && memo[slot].day == day)
		return;
	struct access_row e;
	access_row_fill(r, app, &e);
	if (req_write_also(r, view_write, &e, sizeof(e))) {
		log_error("cases: the view of application %lld by account %lld was not recorded", (long long)app->id,
			  (long long)r->who.account);
		return;
	}
	memo[slot].application = app->id;
	memo[slot].actor = r->who.account;
	memo[slot].day = day;
}

/* The label of a form field in the request's language (the key when it has none). */
static const char *label_of(struct req *r, json_t *f, const char *key)
{
	const char *l = json_string_value(json_object_get(f, en(r) ? "label_en" : "label_zh"));
	if (!l || !*l)
		l = json_string_value(json_object_get(f, "label_zh"));
	return l && *l ? l : key;
}

/* The field of definition text def (an item version's form) with key, or NULL. */
static json_t *def_field(struct req *r, const char *def_text, const char *key)
{
	json_t *def = arena_json(r, json_loads(def_text ? def_text : "[]", 0, NULL));
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f)
	{
		const char *k = json_string_value(json_object_get(f, "key"));
		if (k && key && strcmp(k, key) == 0)
			return f;
	}
	return NULL;
}

int case_reveal(struct req *r, const struct application *app, const char *key, const char *reason, const char **label,
		const char **value, struct case_reveal_rec **record)
{
	*record = NULL;
	bool applicant = case_is_applicant(r, app);
	bool staff = case_is_department_staff(r, app) &&
		     (r->who.staff_roles & (STAFF_COUNTER | STAFF_REVIEWER | STAFF_HEAD));
	if (!applicant && !staff) {
		req_error_detail(r, "%s", M(r, "privacy_reveal_forbidden"));
		return GH_EFORBIDDEN;
	}
	if (reason && str_utf8_chars(reason, strlen(reason)) > REASON_MAX) {
		req_error_detail(r, "%s", M(r, "privacy_reason_too_long"));
		return GH_EVALIDATION;
	}
	struct catalog_service svc;
	int rc = catalog_service_get(r->db, r->arena, app->item_code, app->item_version, &svc);
	if (rc)
		return rc;
	json_t *f = key && strlen(key) <= 64 ? def_field(r, svc.form, key) : NULL;
	if (!f || !forms_field_personal(f) || !case_form_is_sealed(app->form, key)) {
		req_error_detail(r, "%s", M(r, "privacy_no_such_field"));
		return GH_ENOTFOUND;
	}
	if (staff && !applicant) {
		char limit[64];
		snprintf(limit, sizeof(limit), "reveal:%lld", (long long)r->who.account);
		if ((rc = identity_rate_limit(r, limit, REVEALS_PER_HOUR, 3600)))
			return rc;
	}
	if ((rc = case_form_reveal(r->app->keys, r->arena, app->form, key, value))) {
		log_error("cases: a field of application %s cannot be opened with this key file", app->number);
		return GH_EINTERNAL;
	}
	*label = label_of(r, f, key);
	if (applicant)
		return 0; /* their own data */
	/* No record, no reveal: the caller writes it (case_reveal_record) before it answers. */
	struct case_reveal_rec *rec = arena_zalloc(r->arena, sizeof(*rec));
	access_row_fill(r, app, &rec->row);
	rec->key = key;
	rec->reason = reason && *reason ? reason : NULL;
	*record = rec;
	return 0;
}

int case_reveal_record(struct db *db, const struct case_reveal_rec *rec)
{
	const struct access_row *e = &rec->row;
	return db_exec(db, &q_reveal,
		       DB_ARGS(DB_INT(e->subject), DB_INT(e->application), DB_INT(e->actor), DB_TEXT(e->department),
			       DB_TEXT(e->role), DB_TEXT(rec->key), rec->reason ? DB_TEXT(rec->reason) : DB_NULL,
			       DB_INT(e->day), DB_INT(e->at)),
		       NULL);
}

/* ---- the applicant's list ---------------------------------------------------------------- */

/* The words for a stored role ("counter,reviewer" -> "窗口受理、审核"). */
static const char *role_words(struct req *r, const char *role)
{
	const char *out = "";
	while (role && *role) {
		size_t n = strcspn(role, ",");
		const char *w = arena_printf(r->arena, "privacy_role_%.*s", (int)n, role);
		const char *m = M(r, w);
		out = *out ? arena_printf(r->arena, "%s%s%s", out, M(r, "admin_"), m) : m;
		role += n;
		if (*role == ',')
			role++;
	}
	return out;
}

/* The caller's access events, page p: {items, page, per_page, total} (new reference). */
static int access_list(struct req *r, long page, json_t **out)
{
	int64_t subject = r->who.enterprise ? r->who.enterprise : r->who.account;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_count, DB_ARGS(DB_INT(subject)), &rows);
	if (rc)
		return rc;
	long total = (long)db_cell_int(&rows, 0, 0);
	if ((rc = db_query(r->db, r->arena, &q_list,
			   DB_ARGS(DB_INT(subject), DB_INT(PER_PAGE), DB_INT((int64_t)(page - 1) * PER_PAGE)), &rows)))
		return rc;
	json_t *items = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *kind = db_cell(&rows, i, 1), *field = db_cell(&rows, i, 9);
		const char *dept_zh = db_cell(&rows, i, 3), *dept_en = db_cell(&rows, i, 4);
		json_t *f = field ? def_field(r, db_cell(&rows, i, 11), field) : NULL;
		const char *role = db_cell(&rows, i, 5);
		json_t *o = json_pack("{s:I,s:s?,s:s,s:s,s:s?,s:s?,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s?}", "at",
				      (json_int_t)db_cell_int(&rows, i, 0), "at_text", req_when(r, db_cell_int(&rows, i, 0)),
				      "kind", kind, "kind_name", M(r, strcmp(kind, "reveal") == 0 ? "privacy_kind_reveal" : "privacy_kind_view"),
				      "department", db_cell(&rows, i, 2), "department_name",
				      en(r) && dept_en && *dept_en ? dept_en : dept_zh, "role", role, "role_name",
				      role_words(r, role), "application", db_cell(&rows, i, 6), "item_name",
				      en(r) && db_cell(&rows, i, 8) && *db_cell(&rows, i, 8) ? db_cell(&rows, i, 8) : db_cell(&rows, i, 7),
				      "field", field, "field_label", field ? label_of(r, f, field) : NULL, "reason",
				      db_cell(&rows, i, 10));
		if (!o) {
			json_decref(items);
			return GH_EINTERNAL;
		}
		if (strcmp(role, "admin") == 0)
			json_object_set_new(o, "department_name", json_string(M(r, "privacy_admin_department")));
		json_array_append_new(items, o);
	}
	*out = json_pack("{s:o,s:i,s:i,s:i}", "items", items, "page", (int)page, "per_page", PER_PAGE, "total", (int)total);
	return *out ? 0 : GH_EINTERNAL;
}

/* GET /account/access and GET /api/v1/me/access?page= */
static int access_get(struct req *r)
{
	long page;
	int rc = req_query_long(r, "page", 1, 1, 100000, &page);
	json_t *list = NULL;
	if (!rc)
		rc = access_list(r, page, &list);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	if (strncmp(r->path, "/api/", 5) == 0)
		return resp_json(r, 200, list);
	arena_json(r, list);
	json_t *ctx = cases_page_ctx(r, M(r, "privacy_access_title"));
	json_object_set(ctx, "items", json_object_get(list, "items"));
	json_object_set_new(ctx, "has_items", json_boolean(json_array_size(json_object_get(list, "items")) > 0));
	long total = (long)json_integer_value(json_object_get(list, "total"));
	long pages = (total + PER_PAGE - 1) / PER_PAGE;
	if (page > 1)
		jset(ctx, "prev_href", arena_printf(r->arena, "/account/access?page=%ld", page - 1));
	if (page < pages)
		jset(ctx, "next_href", arena_printf(r->arena, "/account/access?page=%ld", page + 1));
	return resp_page(r, 200, "cases/access", ctx);
}

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)

const struct route cases_access_routes[] = {
	{ HTTP_GET, "/account/access", access_get, APPLICANTS, 0, "cases.access" },
	{ HTTP_GET, "/api/v1/me/access", access_get, APPLICANTS, 0, "cases.api_access", NULL, SCOPE_PROFILE },
};
const size_t cases_access_routes_n = ARRAY_LEN(cases_access_routes);
