/* api.c: the JSON API of applications, for apps, mini-programs and kiosks (bearer tokens). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/jsonout.h"
#include "base/util.h"
#include "cases/attach.h"
#include "cases/cases_impl.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/multipart.h"
#include "http/server.h"
#include "http/write.h"
#include "store/db.h"

static int validation_error(struct req *r, json_t *errors)
{
	json_t *j = json_pack("{s:{s:s,s:s,s:O}}", "error", "code", err_slug(GH_EVALIDATION), "message",
			      M_err(r, GH_EVALIDATION), "fields", errors);
	return resp_json(r, err_status(GH_EVALIDATION), j);
}

static int api_apply_done(struct req *r, const struct case_apply_in *in, struct application *app, json_t *errors,
			  int rc)
{
	if (rc == GH_EVALIDATION && errors)
		return validation_error(r, errors);
	if (rc)
		return rc;
	json_t *j = case_json(app, r->app->calendar, cases_today(), r);
	if (app->query_code)
		json_object_set_new(j, "query_code", json_string(app->query_code));
	return resp_json(r, in->submit ? 201 : 200, j);
}

/* POST /api/v1/services/{code}/applications: {form: {...}, materials: [...], submit: bool,
 * idempotency_key, channel: app|miniprogram|kiosk} */
static int api_apply(struct req *r)
{
	json_t *in;
	int rc = req_body_object(r, &in);
	if (rc)
		return rc;
	json_t *form = json_object_get(in, "form"), *mats = json_object_get(in, "materials");
	const char *key = json_string_value(json_object_get(in, "idempotency_key"));
	const char *channel = json_string_value(json_object_get(in, "channel"));
	if ((form && !json_is_object(form)) || (mats && !json_is_array(mats)) || (key && strlen(key) > 64) ||
	    (channel && strcmp(channel, "app") && strcmp(channel, "miniprogram") && strcmp(channel, "kiosk"))) {
		req_error_detail(r, "%s", M(r, "cases_form_must_object_materials_array"));
		return GH_EINVAL;
	}
	json_t *flat = cases_form_values(r, form);
	struct case_apply_in ai = { .item_code = req_param(r, "code"), .input = flat,
				    .materials = mats ? mats : json_array(), .submit = json_is_true(json_object_get(in, "submit")),
				    .idempotency_key = key, .channel = channel ? channel : "app",
				    .applicant_id = r->who.account, .enterprise_id = r->who.enterprise };
	if (!mats)
		arena_cleanup(r->arena, (void (*)(void *))json_decref, ai.materials);
	/* A submission is written by the group-commit writer; the response follows in
	 * api_apply_done. */
	return case_apply_async(r, &ai, api_apply_done);
}

static int upload_write(struct req *w, void *arg)
{
	return cases_write_uploads(w, arg, 1);
}

static int upload_done(struct req *r, void *arg, int rc)
{
	struct case_upload *u = arg;
	if (rc)
		return rc;
	return resp_json(r, 201, json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)u->id, "filename", u->filename, "mime",
					   u->info.mime, "size", (json_int_t)u->info.size));
}

/* POST /api/v1/attachments: multipart/form-data with one part "file". */
static int api_upload(struct req *r)
{
	const struct multipart_part *f;
	int rc = req_file_part(r, "file", &f);
	if (rc)
		return rc;
	if (!f) {
		req_error_detail(r, "%s", M(r, "cases_send_file_part_named_file"));
		return GH_EINVAL;
	}
	struct case_upload *u = arena_zalloc(r->arena, sizeof(*u));
	if ((rc = attach_check(r->arena, f->data, f->len, (size_t)r->app->cfg.max_upload, &u->info))) {
		if (rc == GH_EUNSUPPORTED)
			req_error_detail(r, "%s", M(r, "cases_only_pdf_jpeg_png_files"));
		else if (rc == GH_ETOOBIG)
			req_error_detail(r, "%s", M(r, "publish_err_file_big"));
		return rc;
	}
	u->slot = -1;
	u->filename = f->filename;
	u->data = f->data;
	return req_write(r, upload_write, upload_done, u);
}

static int list_response(struct req *r, const struct case_filter *f)
{
	long page, per;
	int rc = req_query_long(r, "page", 1, 1, 100000, &page);
	if (!rc)
		rc = req_query_long(r, "per_page", 20, 1, 100, &per);
	if (rc)
		return rc;
	struct application *v;
	size_t n;
	long total;
	if ((rc = case_list(r->db, r->arena, f, page, per, &v, &n, &total)))
		return rc;
	json_t *arr = json_array();
	int32_t today = cases_today();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, case_json(&v[i], r->app->calendar, today, r));
	return resp_json(r, 200, json_pack("{s:o,s:i,s:i,s:i}", "items", arr, "page", (int)page, "per_page", (int)per,
					   "total", (int)total));
}

/* GET /api/v1/applications: the caller's own (or the enterprise's, when acting for one). */
static int api_mine(struct req *r)
{
	struct case_filter f = { .today = cases_today() };
	case_filter_mine(r, &f);
	return list_response(r, &f);
}

static int check_light(struct req *r, const char *light)
{
	if (light && strcmp(light, "green") && strcmp(light, "yellow") && strcmp(light, "red")) {
		req_error_detail(r, "%s", M(r, "cases_light_green_yellow_red"));
		return GH_EINVAL;
	}
	return 0;
}

static int check_state(struct req *r, const char *state)
{
	if (state && !wf_state(state)) {
		req_error_detail(r, "%s", M(r, "cases_unknown_state"));
		return GH_EINVAL;
	}
	return 0;
}

/* ?assigned=me (mine) or none (nobody's yet). */
static int check_assigned(struct req *r, struct case_filter *f)
{
	const char *a = req_query(r, "assigned");
	if (!a || !*a)
		return 0;
	if (strcmp(a, "me") == 0)
		f->assigned_to = r->who.account;
	else if (strcmp(a, "none") == 0)
		f->unassigned = true;
	else {
		req_error_detail(r, "%s", M(r, "cases_assigned_me_none"));
		return GH_EINVAL;
	}
	return 0;
}

/* GET /api/v1/staff/queue: the department's running applications by due day; with ?state=, those of
 * that state (concluded ones too). */
static int api_queue(struct req *r)
{
	struct case_filter f = { .department = r->who.department, .state = req_query(r, "state"),
				 .light = req_query(r, "light"), .item_code = req_query(r, "item"), .today = cases_today() };
	int rc = check_light(r, f.light);
	if (!rc)
		rc = check_state(r, f.state);
	if (!rc && (rc = check_assigned(r, &f)))
		return rc;
	return rc ? rc : list_response(r, &f);
}

/* GET /api/v1/overdue: administrators see every department, staff their own. */
static int api_overdue(struct req *r)
{
	struct case_filter f = { .overdue = true, .today = cases_today(),
				 .department = r->role == ROLE_STAFF ? r->who.department : NULL };
	return list_response(r, &f);
}

static json_t *events_json(struct req *r, const struct application *app)
{
	struct app_event *ev;
	size_t n;
	json_t *arr = json_array();
	if (case_events(r->db, r->arena, app->id, &ev, &n))
		return arr;
	/* Who did it: for the department and administrators, as on the page. */
	bool staff = case_is_department_staff(r, app) || r->role == ROLE_ADMIN;
	for (size_t i = 0; i < n; i++) {
		json_t *detail = json_loads(ev[i].detail ? ev[i].detail : "{}", 0, NULL);
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s,s:s?,s:o}", "at", (json_int_t)ev[i].at,
						     "action", ev[i].action, "action_name",
						     MC(r, "case_event_", ev[i].action), "state", ev[i].to_state,
						     "state_name", ev[i].to_state ? MC(r, "case_state_", ev[i].to_state) : NULL, "reason",
						     ev[i].reason ? ev[i].reason : "", "actor", staff ? ev[i].actor_name : NULL,
						     "detail", detail ? detail : json_object()));
	}
	return arr;
}

/* GET /api/v1/applications/{number} */
static int api_get(struct req *r)
{
	struct application app;
	int rc = case_load_visible(r, req_param(r, "number"), &app);
	if (rc)
		return rc;
	case_access_view(r, &app);
	json_t *j = case_json(&app, r->app->calendar, cases_today(), r);
	if (case_is_applicant(r, &app) && app.query_code)
		json_object_set_new(j, "query_code", json_string(app.query_code));
	json_object_set_new(j, "events", events_json(r, &app));
	json_t *acts = json_array();
	unsigned bits = case_actor_bits(r, &app);
	for (size_t i = 0; i < wf_actions_n; i++)
		if ((wf_actions[i].actors & bits) && wf_allows(&wf_actions[i], app.state))
			json_array_append_new(acts, json_string(wf_actions[i].code));
	const struct wf_state *st = wf_state(app.state);
	if (case_is_department_staff(r, &app) && st && !st->terminal && strcmp(app.state, "draft") != 0) {
		if (app.assigned_to != r->who.account)
			json_array_append_new(acts, json_string("claim"));
		if (r->who.staff_roles & STAFF_HEAD)
			json_array_append_new(acts, json_string("assign"));
	}
	json_object_set_new(j, "actions", acts);
	return resp_json(r, 200, j);
}

static int api_acted(struct req *r, struct application *app, void *ctx, int rc)
{
	(void)ctx;
	if (rc)
		return rc;
	return resp_json(r, 200, case_json(app, r->app->calendar, cases_today(), r));
}

/* POST /api/v1/applications/{number}/actions/{action}: {reason, detail: {...}} */
static int api_act(struct req *r)
{
	json_t *in;
	int rc = req_body_object(r, &in);
	if (rc)
		return rc;
	struct application app;
	if ((rc = case_load_visible(r, req_param(r, "number"), &app)))
		return rc;
	json_t *detail = json_object_get(in, "detail");
	char *detail_s = NULL;
	if (detail) {
		if (!json_is_object(detail)) {
			req_error_detail(r, "%s", M(r, "cases_detail_must_object"));
			return GH_EINVAL;
		}
		detail_s = jsonout_dumps(detail, JSON_COMPACT);
		arena_cleanup(r->arena, free, detail_s);
		if (strlen(detail_s) > 8000)
			return GH_ETOOBIG;
	}
	struct case_act_in act = { .code = req_param(r, "action"),
				   .reason = json_string_value(json_object_get(in, "reason")), .detail = detail_s };
	return case_act_async(r, &app, &act, api_acted, NULL);
}

/* GET /api/v1/progress?number=&code=: progress without logging in. */
static int api_progress(struct req *r)
{
	const char *number = req_query(r, "number"), *code = req_query(r, "code");
	struct application app;
	int rc = cases_progress_lookup(r, number, code, &app);
	if (rc)
		return rc;
	/* Anyone with the number and code sees progress, not the content. */
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, case_progress_json(r, &app));
}

/* GET /api/v1/applications/{number}/attachments/{id} */
static int api_attachment(struct req *r)
{
	struct application app;
	int rc = case_load_visible(r, req_param(r, "number"), &app);
	if (rc)
		return rc;
	long id;
	struct attachment at;
	if (str_to_long(str_c(req_param(r, "id")), 1, 1L << 62, &id) || attachment_get(r->db, r->arena, id, &at) ||
	    at.application_id != app.id)
		return GH_ENOTFOUND;
	case_access_view(r, &app);
	return attach_send(r, at.sha256, at.mime, at.filename);
}

/* A reveal being answered: the value, once its record (if any) is written. */
struct reveal_answer {
	struct application app;
	const char *field, *label, *value;
	struct case_reveal_rec *rec;
};

static int reveal_write(struct req *w, void *arg)
{
	struct reveal_answer *a = arg;
	return case_reveal_record(w->db, a->rec);
}

static int reveal_answer(struct req *r, void *arg, int rc)
{
	struct reveal_answer *a = arg;
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s}", "field", a->field, "label", a->label, "value", a->value));
}

/* POST /api/v1/applications/{number}/reveal: {"field": key, "reason": "..."} -> the field's full
 * value, once; a staff member's reveal is an access event the applicant sees. */
static int api_reveal(struct req *r)
{
	/* Whose application it is comes first: to anyone else it does not exist, whatever they send. */
	struct reveal_answer *a = arena_zalloc(r->arena, sizeof(*a));
	int rc = case_load_visible(r, req_param(r, "number"), &a->app);
	if (rc)
		return rc;
	json_t *in;
	if ((rc = req_body_object(r, &in)))
		return rc;
	json_t *field = json_object_get(in, "field"), *reason = json_object_get(in, "reason");
	if (!json_is_string(field) || (reason && !json_is_null(reason) && !json_is_string(reason))) {
		req_error_detail(r, "%s", M(r, "cases_field_must_key_form_field"));
		return GH_EINVAL;
	}
	a->field = json_string_value(field);
	if ((rc = case_reveal(r, &a->app, a->field, json_string_value(reason), &a->label, &a->value, &a->rec)))
		return rc;
	return a->rec ? req_write(r, reveal_write, reveal_answer, a) : reveal_answer(r, a, 0);
}

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define CASE_VIEWERS (APPLICANTS | ROLE_STAFF | ROLE_ADMIN)

const struct route cases_api_routes[] = {
	{ HTTP_POST, "/api/v1/services/{code}/applications", api_apply, APPLICANTS, 0, "cases.api_apply", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/attachments", api_upload, APPLICANTS | ROLE_STAFF, 0, "cases.api_upload", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/applications", api_mine, APPLICANTS, 0, "cases.api_mine", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/applications/{number}", api_get, CASE_VIEWERS, 0, "cases.api_get", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/applications/{number}/actions/{action}", api_act, APPLICANTS | ROLE_STAFF, 0, "cases.api_act",
	  NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/applications/{number}/reveal", api_reveal, APPLICANTS | ROLE_STAFF, 0, "cases.api_reveal",
	  NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/applications/{number}/attachments/{id}", api_attachment, CASE_VIEWERS, 0,
	  "cases.api_attachment", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/progress", api_progress, ROLE_PUBLIC, 0, "cases.api_progress" },
	{ HTTP_GET, "/api/v1/staff/queue", api_queue, ROLE_STAFF, 0, "cases.api_queue", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/overdue", api_overdue, ROLE_STAFF | ROLE_ADMIN, 0, "cases.api_overdue", NULL, SCOPE_APPLY },
};
const size_t cases_api_routes_n = ARRAY_LEN(cases_api_routes);
