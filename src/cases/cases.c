/* cases.c: the service layer of applications, shared by pages and API: who may see and act on
 * an application, applying (draft, idempotent submission), taking actions. */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/calendar.h"
#include "base/config.h"
#include "base/err.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/calendar_admin.h"
#include "cases/cases_impl.h"
#include "cases/forms.h"
#include "catalog/catalog.h"
#include "http/msg.h"
#include "http/router.h"
#include "identity/identity.h"
#include "store/db.h"
#include "view/view.h"
#include "http/write.h"

int cases_workflow_load(const struct config *cfg, char *err, size_t errlen)
{
	char path[4096];
	if (cfg->workflow && *cfg->workflow)
		snprintf(path, sizeof(path), "%s", cfg->workflow);
	else if (snprintf(path, sizeof(path), "%s/workflow.json", cfg->data_dir) >= (int)sizeof(path))
		return GH_EINVAL;
	int rc = workflow_load(path, err, errlen);
	if (!rc)
		view_extra_messages(workflow_words()); /* its own words join the catalogs */
	return rc;
}

int cases_init(struct app *app, char *err, size_t errlen)
{
	if (!wf_states_n) {
		snprintf(err, errlen, "the workflow is not loaded (cases_workflow_load)");
		return GH_EINTERNAL;
	}
	/* From the database (seeded from data/catalog/holidays.json the first time), or from
	 * the file when the database cannot be read; kept fresh by the duties thread. */
	return cases_calendar_load(app, err, errlen);
}

void cases_release(struct app *app)
{
	cases_calendar_release(app);
}

extern const struct route cases_api_routes[];
extern const size_t cases_api_routes_n;
extern const struct route cases_apply_routes[];
extern const size_t cases_apply_routes_n;
extern const struct route cases_detail_routes[];
extern const size_t cases_detail_routes_n;
extern const struct route cases_console_routes[];
extern const size_t cases_console_routes_n;
extern const struct route cases_counter_routes[];
extern const size_t cases_counter_routes_n;
extern const struct route cases_bundle_routes[];
extern const size_t cases_bundle_routes_n;
extern const struct route cases_access_routes[];
extern const size_t cases_access_routes_n;

int cases_add_routes(struct router *rt)
{
	if (router_add(rt, cases_api_routes, cases_api_routes_n) || router_add(rt, cases_apply_routes, cases_apply_routes_n) ||
	    router_add(rt, cases_detail_routes, cases_detail_routes_n) ||
	    router_add(rt, cases_console_routes, cases_console_routes_n) ||
	    router_add(rt, cases_counter_routes, cases_counter_routes_n) ||
	    router_add(rt, calendar_admin_routes, calendar_admin_routes_n) ||
	    router_add(rt, cases_bundle_routes, cases_bundle_routes_n) ||
	    router_add(rt, cases_access_routes, cases_access_routes_n) ||
	    router_add(rt, cases_rules_routes, cases_rules_routes_n))
		return GH_EINVAL;
	return 0;
}

int32_t cases_today(void)
{
	return calendar_day_of((time_t)clock_now());
}

bool case_is_applicant(const struct req *r, const struct application *app)
{
	return identity_owns(r, app->applicant_id, app->enterprise_id);
}

void case_filter_mine(const struct req *r, struct case_filter *f)
{
	struct identity_owner o = identity_owner_of(r);
	f->enterprise_id = o.enterprise;
	f->applicant_id = o.enterprise ? 0 : o.person;
}

bool case_attachment_mine(const struct req *r, const struct attachment *at)
{
	/* The one who uploaded it, in the capacity they uploaded it in: a file uploaded for an
	 * enterprise is the enterprise's, for its applications only. */
	return r->who.account && at->owner_id == r->who.account && at->enterprise_id == r->who.enterprise;
}

bool case_is_department_staff(const struct req *r, const struct application *app)
{
	return r->role == ROLE_STAFF && r->who.department && strcmp(r->who.department, app->department) == 0;
}

bool case_can_view(const struct req *r, const struct application *app)
{
	return r->role == ROLE_ADMIN || case_is_applicant(r, app) || case_is_department_staff(r, app);
}

/* Staff of the department who are not, themselves, the one who applied: no one handles
 * their own application. */
static bool may_handle(const struct req *r, const struct application *app)
{
	return case_is_department_staff(r, app) && app->applicant_id != r->who.account &&
	       (!app->enterprise_id || app->enterprise_id != r->who.enterprise);
}

unsigned case_actor_bits(const struct req *r, const struct application *app)
{
	unsigned bits = 0;
	if (case_is_applicant(r, app))
		bits |= WF_APPLICANT;
	if (may_handle(r, app)) {
		if (r->who.staff_roles & STAFF_COUNTER)
			bits |= WF_COUNTER;
		if (r->who.staff_roles & STAFF_REVIEWER)
			bits |= WF_REVIEWER;
		if (r->who.staff_roles & STAFF_HEAD)
			bits |= WF_HEAD;
	}
	return bits;
}

int case_load_visible(struct req *r, const char *number, struct application *app)
{
	int rc = case_get_by_number(r->db, r->arena, number, app);
	if (rc == GH_ENOTFOUND || (!rc && !case_can_view(r, app))) {
		/* The same answer for someone else's application as for none. */
		req_error_detail(r, strcmp(r->lang, "en") == 0 ? "There is no application %.32s that you can see."
							      : "没有您可查看的办件 %.32s。",
				 number ? number : "");
		return GH_ENOTFOUND;
	}
	return rc;
}

int cases_mine_get(struct req *r, const char *number, int64_t *id, const char **item_code, const char **state)
{
	struct application app;
	int rc = case_get_by_number(r->db, r->arena, number, &app);
	if (!rc && !case_is_applicant(r, &app))
		rc = GH_ENOTFOUND;
	if (rc)
		return rc;
	if (id)
		*id = app.id;
	if (item_code)
		*item_code = app.item_code;
	if (state)
		*state = app.state;
	return 0;
}

int cases_brief(struct req *r, const char *number, struct case_brief *out)
{
	struct application app;
	int rc = case_load_visible(r, number, &app);
	if (rc)
		return rc;
	const char *sk = arena_printf(r->arena, "case_state_%s", app.state); /* the state's words, both languages */
	*out = (struct case_brief){ .id = app.id, .number = app.number, .state = app.state,
				    .state_zh = view_msg(r->app->view, "zh", sk), .state_en = view_msg(r->app->view, "en", sk),
				    .item_code = app.item_code, .item_name_zh = app.item_name_zh,
				    .item_name_en = app.item_name_en, .department = app.department, .channel = app.channel,
				    .applicant_id = app.applicant_id, .enterprise_id = app.enterprise_id, .materials = app.materials,
				    .applicant = case_is_applicant(r, &app), .staff = case_is_department_staff(r, &app) };
	return 0;
}

/* Claim or assign, checked (on the loop): *assignee is who gets it. */
static int claim_check(struct req *r, struct application *app, const char *action, int64_t *assignee)
{
	const struct wf_state *st = wf_state(app->state);
	if (!may_handle(r, app)) {
		req_error_detail(r, "%s", M(r, "cases_only_staff_department_take_application"));
		return GH_EFORBIDDEN;
	}
	if (!st || st->terminal || strcmp(app->state, "draft") == 0) {
		req_error_detail(r, "%s", M(r, "cases_application_open_work"));
		return GH_ECONFLICT;
	}
	if (strcmp(action, "claim") == 0) {
		*assignee = r->who.account;
		return 0;
	}
	if (!(r->who.staff_roles & STAFF_HEAD)) {
		req_error_detail(r, "%s", M(r, "cases_only_department_head_assigns_work"));
		return GH_EFORBIDDEN;
	}
	struct identity_staff *staff;
	size_t n;
	int rc = identity_department_staff(r->db, r->arena, app->department, &staff, &n);
	if (rc)
		return rc;
	bool ok = *assignee == 0;
	for (size_t i = 0; i < n; i++)
		ok |= staff[i].id == *assignee;
	if (!ok) {
		req_error_detail(r, "%s", M(r, "cases_choose_staff_member_department"));
		return GH_EVALIDATION;
	}
	return 0;
}

/* An action (or a claim) checked on the loop and written by the writer (http/write.h). */
struct case_act_job {
	struct application app, orig; /* app: as the write left it; orig: as read */
	const struct wf_action *a;    /* NULL for claim and assign */
	struct case_act_in in;        /* in.assignee: who gets a claim or an assignment */
	int32_t today;
	const struct calendar *cal;
	int (*done)(struct req *r, struct application *app, void *ctx, int rc);
	void *ctx;
};

/* The action checked (on the loop): the role, the state and the reason. */
static int act_check(struct req *r, struct case_act_job *j)
{
	struct application *app = &j->app;
	if (j->in.code && (strcmp(j->in.code, "claim") == 0 || strcmp(j->in.code, "assign") == 0)) {
		json_t *d = j->in.detail ? json_loads(j->in.detail, 0, NULL) : NULL;
		json_t *who = json_object_get(d, "assignee");
		if (strcmp(j->in.code, "assign") == 0 && !j->in.assignee)
			j->in.assignee = json_is_integer(who) ? json_integer_value(who) : 0;
		json_decref(d);
		return claim_check(r, app, j->in.code, &j->in.assignee);
	}
	const struct wf_action *a = j->a = wf_action(j->in.code);
	if (!a) {
		req_error_detail(r, "%s", M(r, "cases_unknown_action"));
		return GH_ENOTFOUND;
	}
	if (!(case_actor_bits(r, app) & a->actors)) {
		req_error_detail(r, "%s", M(r, "cases_take_action_application"));
		return GH_EFORBIDDEN;
	}
	if (!wf_allows(a, app->state)) {
		req_error_detail(r, "%s", M(r, "cases_action_does_apply_application_present"));
		return GH_ECONFLICT;
	}
	if (a->needs_reason && (!j->in.reason || !*j->in.reason)) {
		req_error_detail(r, "%s", M(r, "cases_give_reason"));
		return GH_EVALIDATION;
	}
	if (j->in.reason && str_utf8_chars(j->in.reason, strlen(j->in.reason)) > 2000) {
		req_error_detail(r, "%s", M(r, "cases_reason_too_long_most_2000"));
		return GH_EVALIDATION;
	}
	if (case_form_plain(r->app->keys, r->arena, app->form, &app->form_plain)) {
		log_error("cases: the form of application %s cannot be opened with this key file", app->number);
		return GH_EINTERNAL;
	}
	return 0;
}

void cases_uploads_resolve(json_t *v, const struct case_upload *ups, size_t n)
{
	size_t i;
	json_t *x;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) cases_uploads_resolve(x, ups, n);
		return;
	}
	if (!json_is_object(v))
		return;
	json_t *id = json_object_get(v, "id");
	json_int_t ref = json_is_integer(id) ? json_integer_value(id) : 0;
	if (ref < 0 && (size_t)(-(ref + 1)) < n)
		json_object_set_new(v, "id", json_integer(ups[-(ref + 1)].id));
	const char *k;
	json_object_foreach(v, k, x) if (json_is_array(x) || json_is_object(x)) cases_uploads_resolve(x, ups, n);
}

struct keep_uploads {
	struct case_upload *ups;
	size_t n;
	json_t *kept;
	int (*then)(struct req *, void *, int);
	void *arg;
};

static int keep_write(struct req *w, void *arg)
{
	struct keep_uploads *k = arg;
	return cases_write_uploads(w, k->ups, k->n);
}

static int keep_done(struct req *r, void *arg, int rc)
{
	struct keep_uploads *k = arg;
	if (!rc)
		cases_uploads_resolve(k->kept, k->ups, k->n);
	return k->then(r, k->arg, rc);
}

int cases_keep_uploads(struct req *r, struct case_upload *ups, size_t n, json_t *kept,
		       int (*then)(struct req *r, void *arg, int rc), void *arg)
{
	if (!n)
		return then(r, arg, 0);
	struct keep_uploads *k = arena_zalloc(r->arena, sizeof(*k));
	*k = (struct keep_uploads){ ups, n, kept, then, arg };
	return req_write(r, keep_write, keep_done, k);
}

int cases_write_uploads(struct req *w, struct case_upload *ups, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = attach_put(w->db, ups[i].data, &ups[i].info);
		if (rc)
			return rc;
		struct attachment at = { .sha256 = ups[i].info.sha256, .mime = ups[i].info.mime,
					 .size = (int64_t)ups[i].info.size, .filename = ups[i].filename,
					 .owner_id = w->who.account, .enterprise_id = w->who.enterprise,
					 .slot = (int)ups[i].slot };
		if ((rc = attachment_add(w->db, w->arena, &at, &ups[i].id)))
			return rc;
	}
	return 0;
}

/* On the writer: the new files, the transition (or the assignment), the files linked to it. */
static int act_write(struct req *w, void *arg)
{
	struct case_act_job *j = arg;
	j->app = j->orig;
	int rc;
	if (!j->a) {
		rc = case_assign(w->db, w->arena, &j->app, j->in.assignee, w->who.account, j->in.code);
	} else {
		int64_t ev = 0;
		if ((rc = cases_write_uploads(w, j->in.ups, j->in.nups)))
			return rc;
		rc = case_transition(w->db, j->cal, w->arena, &j->app, j->a, w->who.account, j->in.reason, j->in.detail,
				     j->today, &ev);
		for (size_t u = 0; !rc && u < j->in.nups; u++)
			attachment_link(w->db, j->in.ups[u].id, w->who.account, j->app.id, (int)j->in.ups[u].slot, ev);
	}
	if (rc == GH_ECONFLICT)
		req_error_detail(w, "%s", M(w, "cases_application_changed_meanwhile_reload"));
	return rc;
}

static int act_written(struct req *r, void *arg, int rc)
{
	struct case_act_job *j = arg;
	return j->done(r, &j->app, j->ctx, rc);
}

int case_act_async(struct req *r, const struct application *app, const struct case_act_in *in,
		   int (*done)(struct req *r, struct application *app, void *ctx, int rc), void *ctx)
{
	struct case_act_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->app = *app;
	j->in = *in;
	j->today = cases_today();
	j->cal = r->app->calendar;
	j->done = done;
	j->ctx = ctx;
	int rc = act_check(r, j);
	if (rc)
		return done(r, &j->app, ctx, rc);
	j->orig = j->app;
	return req_write(r, act_write, act_written, j);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *day_json(int32_t day)
{
	if (!day)
		return json_null();
	char buf[11];
	calendar_format_day(day, buf);
	return json_string(buf);
}

json_t *case_json_summary(const struct application *app, const struct calendar *cal, int32_t today, struct req *r)
{
	bool en = strcmp(r->lang, "en") == 0;
	const struct wf_state *st = wf_state(app->state);
	json_t *j = json_object();
	json_object_set_new(j, "number", jstr(app->number));
	json_object_set_new(j, "id", json_integer(app->id));
	json_object_set_new(j, "item_code", jstr(app->item_code));
	json_object_set_new(j, "item_version", json_integer(app->item_version));
	json_object_set_new(j, "item_name", jstr(en ? app->item_name_en : app->item_name_zh));
	json_object_set_new(j, "department", jstr(app->department));
	json_object_set_new(j, "department_name", jstr(en ? app->dept_name_en : app->dept_name_zh));
	json_object_set_new(j, "applicant_name", jstr(app->applicant_name));
	json_object_set_new(j, "channel", jstr(app->channel));
	json_object_set_new(j, "state", jstr(app->state));
	json_object_set_new(j, "state_name", jstr(MC(r, "case_state_", app->state)));
	json_object_set_new(j, "terminal", json_boolean(st && st->terminal));
	json_object_set_new(j, "paused", json_boolean(st && st->paused));
	json_object_set_new(j, "submitted_at", app->submitted_at ? json_integer(app->submitted_at) : json_null());
	json_object_set_new(j, "accepted_at", app->accepted_at ? json_integer(app->accepted_at) : json_null());
	json_object_set_new(j, "completed_at", app->completed_at ? json_integer(app->completed_at) : json_null());
	json_object_set_new(j, "promised_limit_days", json_integer(app->clock.limit_days));
	json_object_set_new(j, "legal_limit_days", json_integer(app->clock.legal_limit_days));
	json_object_set_new(j, "version", json_integer(app->version));
	json_object_set_new(j, "assigned_to", app->assigned_to ? json_integer(app->assigned_to) : json_null());
	json_object_set_new(j, "assigned_name", app->assigned_name ? json_string(app->assigned_name) : json_null());
	if (app->clock.accepted_day && !app->completed_at) {
		enum light l = deadline_light(cal, &app->clock, today);
		json_object_set_new(j, "due_day", day_json(deadline_due(cal, &app->clock)));
		json_object_set_new(j, "legal_due_day", day_json(deadline_legal_due(cal, &app->clock)));
		json_object_set_new(j, "working_days_left", json_integer(deadline_left(cal, &app->clock, today)));
		json_object_set_new(j, "light", json_string(deadline_light_name(l)));
	} else {
		json_object_set_new(j, "due_day", day_json(app->due_day));
		json_object_set_new(j, "legal_due_day", day_json(app->legal_due_day));
		json_object_set_new(j, "working_days_left", json_null());
		/* No clock runs (not accepted yet, or ended): the light is "none", never null. */
		json_object_set_new(j, "light", json_string(deadline_light_name(LIGHT_NONE)));
	}
	return j;
}

json_t *case_json(const struct application *app, const struct calendar *cal, int32_t today, struct req *r)
{
	json_t *j = case_json_summary(app, cal, today, r);
	if (app->form_shown && app->form_masked_keys) {
		json_object_set(j, "form", app->form_shown);
		json_object_set(j, "masked_fields", app->form_masked_keys);
	} else {
		json_t *masked;
		json_object_set_new(j, "form", case_form_masked(app->form, &masked));
		json_object_set_new(j, "masked_fields", masked);
	}
	json_t *mats = app->materials_shown ? json_incref(app->materials_shown)
		       : app->materials       ? json_loads(app->materials, 0, NULL)
					      : NULL;
	json_object_set_new(j, "materials", mats ? mats : json_array());
	return j;
}

json_t *case_progress_json(struct req *r, const struct application *app)
{
	/* A list of what may be shown, not a list of what to hide: a field added to case_json
	 * later stays out of here until someone decides it is progress. */
	static const char *const keys[] = { "number", "item_code", "item_name", "department", "department_name",
					    "state", "state_name", "terminal", "paused", "submitted_at",
					    "accepted_at", "completed_at", "promised_limit_days", "legal_limit_days",
					    "due_day", "legal_due_day", "working_days_left", "light" };
	json_t *full = case_json(app, r->app->calendar, cases_today(), r);
	json_t *j = json_object();
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		json_object_set(j, keys[i], json_object_get(full, keys[i]));
	json_decref(full);
	json_t *events = json_array();
	struct app_event *ev;
	size_t n = 0;
	if (case_events(r->db, r->arena, app->id, &ev, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			const struct wf_action *a = wf_action(ev[i].action);
			/* Who took a case or gave it to whom is the department's business. */
			if (!a)
				continue;
			json_array_append_new(events, json_pack("{s:I,s:s,s:s,s:s,s:s}", "at", (json_int_t)ev[i].at, "action",
								a->code, "action_name", MC(r, "case_event_", a->code),
								"state", ev[i].to_state, "state_name",
								MC(r, "case_state_", ev[i].to_state)));
		}
	}
	json_object_set_new(j, "events", events);
	return j;
}

/* Checks the materials the applicant gave against the item's material list: an array of
 * {"slot": i, "attachments": [ids]} or {"slot": i, "ecert": "<type>"}; attachments must be the
 * caller's own; required materials must be given. Returns the normalised array (new ref) or
 * NULL with errors set (object "materials" -> message). */
static json_t *check_materials(struct req *r, const struct case_apply_in *in, json_t *defs, json_t *given,
			       json_t *errors, bool submit)
{
	case_ecert_held_fn held = cases_ecert_held();
	case_ecert_remote_fn ecert_remote = cases_ecert_remote();
	bool en = strcmp(r->lang, "en") == 0;
	size_t nd = json_array_size(defs);
	json_t *out = json_array();
	for (size_t i = 0; i < nd; i++) {
		json_t *def = json_array_get(defs, i);
		json_t *slot = NULL;
		size_t k;
		json_t *g;
		json_array_foreach(given, k, g)
		{
			json_t *s = json_object_get(g, "slot");
			if (json_is_integer(s) && json_integer_value(s) == (json_int_t)i)
				slot = g;
		}
		json_t *atts = slot ? json_object_get(slot, "attachments") : NULL;
		const char *ecert = slot ? json_string_value(json_object_get(slot, "ecert")) : NULL;
		const char *allowed = json_string_value(json_object_get(def, "ecert"));
		json_t *entry = json_pack("{s:I}", "slot", (json_int_t)i);
		bool given_any = false;
		if (ecert && *ecert) {
			if (!allowed || strcmp(allowed, ecert) != 0) {
				json_object_set_new(errors, "materials",
						    json_string(M(r, "cases_e_certificate_given_material_does")));
			} else if (json_object_get(slot, "ecert_hall")) {
				/* Another hall's certificate, from the wallet, checked with that hall. */
				const char *hall = json_string_value(json_object_get(slot, "ecert_hall"));
				const char *no = json_string_value(json_object_get(slot, "ecert_number"));
				const char *why = M(r, "cases_do_hold_valid_e_certificate");
				if (!ecert_remote || !hall || !no || in->enterprise_id ||
				    ecert_remote(r, in->applicant_id, ecert, hall, no, entry, &why))
					json_object_set_new(errors, "materials", json_string(why));
				else {
					json_object_set_new(entry, "ecert", json_string(ecert));
					given_any = true;
				}
			} else {
				/* The wallet is the source: the applicant must hold one (its number goes
				 * with the slot, and the department sees that certificate). */
				const char *number = NULL;
				int hrc = held ? held(r->db, r->arena, in->applicant_id, in->enterprise_id, ecert, &number) : 0;
				if (hrc) {
					json_object_set_new(errors, "materials",
							    json_string(M(r, "cases_do_hold_valid_e_certificate")));
				} else {
					json_object_set_new(entry, "ecert", json_string(ecert));
					if (number)
						json_object_set_new(entry, "ecert_number", json_string(number));
					given_any = true;
				}
			}
		}
		if (json_is_array(atts) && json_array_size(atts) > 0) {
			json_t *ids = json_array();
			size_t ai;
			json_t *aid;
			json_array_foreach(atts, ai, aid)
			{
				struct attachment at;
				json_int_t ref = json_is_integer(aid) ? json_integer_value(aid) : 0;
				if (ai < 10 && ref < 0 && (size_t)(-(ref + 1)) < in->nups) {
					/* A file uploaded with this form: stored with it. */
					const struct case_upload *u = &in->ups[-(ref + 1)];
					json_array_append_new(ids, json_pack("{s:I,s:s,s:s,s:I}", "id", ref, "filename",
									     u->filename, "mime", u->info.mime, "size",
									     (json_int_t)u->info.size));
					continue;
				}
				if (ai >= 10 || !json_is_integer(aid) ||
				    attachment_get(r->db, r->arena, json_integer_value(aid), &at) || !case_attachment_mine(r, &at)) {
					json_object_set_new(errors, "materials",
							    json_string(M(r, "cases_attached_file_unknown_yours")));
					continue;
				}
				json_array_append_new(ids, json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)at.id, "filename",
								     at.filename, "mime", at.mime, "size", (json_int_t)at.size));
			}
			json_object_set_new(entry, "attachments", ids);
			given_any = json_array_size(ids) > 0;
		}
		if (submit && !given_any && json_is_true(json_object_get(def, "required"))) {
			const char *name = json_string_value(json_object_get(def, en ? "name_en" : "name_zh"));
			char msg[512];
			snprintf(msg, sizeof(msg), en ? "Please attach: %s." : "请提交材料：%s。", name ? name : "");
			char key[32];
			snprintf(key, sizeof(key), "material_%zu", i);
			json_object_set_new(errors, key, json_string(msg));
		}
		json_array_append_new(out, entry);
	}
	return out;
}

/* What case_apply_prepare checked, ready to be written. */
struct apply_ready {
	struct catalog_service svc;  /* without form, materials, audience (not needed) */
	const char *dept_name_zh, *dept_name_en;
	const char *applicant_name; /* NULL when the caller files for someone else */
	char *form_s, *mats_s;    /* JSON text of the form (plaintext) and the materials */
	const char *form_stored;  /* the form as stored: personal fields sealed */
	json_t *form_shown, *masked_keys; /* what is shown of it (case_form_seal_shown; the arena's) */
	int64_t form_key_id;
	json_t *mats;             /* the materials (owned by the arena), uploads by provisional id */
	struct apply_link {
		int64_t id;
		int slot;
	} *links;                 /* attachments to link to the application on submission */
	size_t nlinks;
	struct case_rules rules;  /* the item's decision rules judged on the submission */
};

/* Validates in against the item (on r->db): GH_EVALIDATION with *errors filled, or 0 with p
 * ready. Everything it makes lives in r's arena. */
static int apply_prepare(struct req *r, const struct case_apply_in *in, struct apply_ready *p, json_t **errors)
{
	*errors = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, *errors);
	const struct catalog_service_parsed *item;
	int rc = catalog_service_cached(r, in->item_code, &item);
	if (rc)
		return rc;
	/* What the writes need, copied: they may run on the writer's thread, and the worker's
	 * cache is not theirs. */
	p->svc = item->svc;
	p->svc.code = arena_strdup(r->arena, item->svc.code);
	p->svc.department = arena_strdup(r->arena, item->svc.department);
	p->svc.name_zh = arena_strdup(r->arena, item->svc.name_zh);
	p->svc.name_en = item->svc.name_en ? arena_strdup(r->arena, item->svc.name_en) : NULL;
	p->svc.audience = p->svc.outcome_ecert = p->svc.form = p->svc.materials = NULL;
	p->dept_name_zh = arena_strdup(r->arena, item->dept_name_zh);
	/* The applicant's name when it is the caller's (the writer reads nothing back). */
	p->applicant_name = in->applicant_id == r->who.account && r->who.name ? arena_strdup(r->arena, r->who.name) : NULL;
	p->dept_name_en = item->dept_name_en ? arena_strdup(r->arena, item->dept_name_en) : NULL;
	/* Online from depth 3; at the counter anything with a guide (depth 1 on) is taken in. */
	if (p->svc.online_depth < (in->channel && strcmp(in->channel, "counter") == 0 ? 1 : 3)) {
		req_error_detail(r, strcmp(r->lang, "en") == 0 ? "This service cannot be applied for online; see its guide."
							      : "该事项不支持网上申请，请查看办事指南。");
		return GH_ECONFLICT;
	}
	json_t *def = item->def, *mdefs = item->mdefs;
	json_t *values = NULL, *ferrs = NULL;
	if (!def || !mdefs || forms_validate(def, in->input, r->app->view, r->lang, &values, &ferrs))
		return GH_EINTERNAL;
	arena_cleanup(r->arena, (void (*)(void *))json_decref, values);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, ferrs);
	if (in->submit)
		json_object_update(*errors, ferrs);
	json_t *mats = check_materials(r, in, mdefs, in->materials, *errors, in->submit);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, mats);
	if (json_object_size(*errors))
		return GH_EVALIDATION;
	p->form_s = jsonout_dumps(values, JSON_COMPACT | JSON_SORT_KEYS);
	p->mats_s = jsonout_dumps(mats, JSON_COMPACT);
	p->mats = mats;
	arena_cleanup(r->arena, free, p->form_s);
	arena_cleanup(r->arena, free, p->mats_s);
	rc = case_form_seal_shown(r->app->keys, r->arena, def, values, &p->form_stored, &p->form_key_id, &p->form_shown,
				  &p->masked_keys);
	if (rc)
		return rc;
	arena_cleanup(r->arena, (void (*)(void *))json_decref, p->form_shown);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, p->masked_keys);
	if (in->submit && (rc = case_rules_judge(r, p->svc.code, p->svc.version, item->rules, values, in->applicant_id,
						 in->enterprise_id, &p->rules)))
		return rc;
	/* The attachments as plain data, so the writes need no JSON (they may run on the
	 * group-commit writer's thread). */
	size_t n = 0, i, k;
	json_t *m, *att;
	json_array_foreach(mats, i, m)
		n += json_array_size(json_object_get(m, "attachments"));
	p->links = arena_array(r->arena, n ? n : 1, sizeof(*p->links));
	p->nlinks = 0;
	json_array_foreach(mats, i, m)
		json_array_foreach(json_object_get(m, "attachments"), k, att)
			p->links[p->nlinks++] = (struct apply_link){ json_integer_value(json_object_get(att, "id")), (int)i };
	return 0;
}

/* An application ready to be written (case_apply_prepare): what apply_prepare made, with the
 * draft it continues. The writes run on the writer's connection, in one transaction and
 * possibly more than once: outputs are overwritten, never accumulated. */
struct case_apply_prep {
	struct case_apply_in in; /* a copy; in.idempotency_key may be set before the write */
	struct apply_ready p;
	int64_t draft_version;   /* of in.draft_id when it was read */
	const struct calendar *cal;
	struct arena *arena;
	int64_t actor;
	int32_t today;
	struct application app; /* out */
	bool retried;
	int (*done)(struct req *r, const struct case_apply_in *in, struct application *app, json_t *errors, int rc);
};

/* The writes of a new application: files it (or finds the one its idempotency key made),
 * submits it and links its attachments. */
/* The id of link i: a file uploaded with the form by the id it was written under. */
static int64_t link_id(const struct case_apply_prep *w, size_t i)
{
	int64_t id = w->p.links[i].id;
	return id < 0 && (size_t)(-(id + 1)) < w->in.nups ? w->in.ups[-(id + 1)].id : id;
}

static int apply_write_new(struct db *db, struct case_apply_prep *w)
{
	const struct case_apply_in *in = &w->in;
	const struct apply_ready *p = &w->p;
	struct case_new n = { .item_code = p->svc.code, .item_version = p->svc.version, .department = p->svc.department,
			      .limit_days = (int)p->svc.promised_limit_days, .legal_limit_days = (int)p->svc.legal_limit_days,
			      .applicant_id = in->applicant_id, .enterprise_id = in->enterprise_id,
			      .filed_by = in->filed_by, .channel = in->channel, .form = p->form_stored,
			      .form_key_id = p->form_key_id, .materials = p->mats_s, .idempotency_key = in->idempotency_key };
	int64_t id;
	bool existed = false;
	int rc;
	if (!in->submit) {
		if ((rc = case_create(db, w->arena, &n, &id, &existed)))
			return rc;
		return case_get(db, w->arena, id, &w->app);
	}
	/* Filed and submitted at once (case_transition inserts the row already submitted; no
	 * query reads it back: this runs on the one writer). */
	int64_t now = clock_now();
	w->app = (struct application){ .item_code = n.item_code, .item_version = n.item_version,
				       .department = n.department, .applicant_id = n.applicant_id,
				       .enterprise_id = n.enterprise_id, .filed_by = n.filed_by, .channel = n.channel,
				       .state = "draft", .form = n.form, .form_key_id = n.form_key_id, .form_plain = p->form_s,
				       .materials = n.materials, .created_at = now,
				       .updated_at = now, .item_name_zh = p->svc.name_zh, .item_name_en = p->svc.name_en,
				       .dept_name_zh = p->dept_name_zh, .dept_name_en = p->dept_name_en,
				       .applicant_name = p->applicant_name, .idempotency_key = n.idempotency_key,
				       .form_shown = p->form_shown, .form_masked_keys = p->masked_keys,
				       .materials_shown = in->nups ? NULL : p->mats };
	w->app.clock.limit_days = n.limit_days;
	w->app.clock.legal_limit_days = n.legal_limit_days;
	int64_t ev = 0;
	rc = case_transition(db, w->cal, w->arena, &w->app, wf_action("submit"), w->actor, NULL, p->rules.detail, w->today, &ev);
	if (rc == GH_ECONFLICT && !w->app.id && n.idempotency_key) {
		/* A repeated submission answers with the application it made. */
		if ((rc = case_create(db, w->arena, &n, &id, &existed)))
			return rc;
		return case_get(db, w->arena, id, &w->app);
	}
	if (rc)
		return rc;
	/* Attach the files to the application for good. */
	for (size_t i = 0; i < p->nlinks; i++)
		attachment_link(db, link_id(w, i), w->actor, w->app.id, p->links[i].slot, ev);
	return case_rules_follow(db, w->cal, w->arena, &w->app, &p->rules, w->today);
}

/* The writes of a continued draft: saved as it was read (GH_ECONFLICT when it changed
 * meanwhile), and with submit, submitted. */
static int apply_write_draft(struct db *db, struct case_apply_prep *w)
{
	const struct apply_ready *p = &w->p;
	int64_t id = w->in.draft_id;
	int rc;
	if ((rc = case_update_draft(db, id, w->draft_version, p->form_stored, p->form_key_id, p->mats_s)))
		return rc;
	if ((rc = case_get(db, w->arena, id, &w->app)))
		return rc;
	if (!w->in.submit || strcmp(w->app.state, "draft") != 0)
		return 0;
	w->app.form_plain = p->form_s;
	int64_t ev = 0;
	if ((rc = case_transition(db, w->cal, w->arena, &w->app, wf_action("submit"), w->actor, NULL, p->rules.detail,
				  w->today, &ev)))
		return rc;
	for (size_t i = 0; i < p->nlinks; i++)
		attachment_link(db, link_id(w, i), w->actor, w->app.id, p->links[i].slot, ev);
	return case_rules_follow(db, w->cal, w->arena, &w->app, &p->rules, w->today);
}

int case_apply_prepare(struct req *r, const struct case_apply_in *in, struct case_apply_prep **out, json_t **errors)
{
	struct case_apply_prep *w = arena_zalloc(r->arena, sizeof(*w));
	*out = w;
	w->in = *in;
	w->cal = r->app->calendar;
	w->arena = r->arena; /* the writer allocates in it while the request is parked */
	w->actor = r->who.account;
	w->today = cases_today();
	*errors = NULL;
	int rc;
	if (in->draft_id) {
		/* A draft continued: its sealed personal values are never sent back to the page, so
		 * a personal field left empty keeps the value saved. */
		struct application cur;
		if ((rc = case_get(r->db, r->arena, in->draft_id, &cur)))
			return rc;
		if (!case_is_applicant(r, &cur) && !(in->filed_by && cur.filed_by == in->filed_by))
			return GH_ENOTFOUND;
		if (strcmp(cur.state, "draft") != 0)
			return GH_ECONFLICT;
		const struct catalog_service_parsed *item;
		if ((rc = catalog_service_cached(r, in->item_code, &item)))
			return rc;
		w->in.input = cases_keep_saved(r, item->def, in->input, cur.form);
		w->draft_version = cur.version;
	}
	return apply_prepare(r, &w->in, &w->p, errors);
}

int case_apply_write(struct req *w, struct case_apply_prep *p, const char *key, struct application **app)
{
	if (key)
		p->in.idempotency_key = key;
	p->arena = w->arena;
	if (p->in.nups) {
		/* The files uploaded with the form were written first (cases_write_uploads): the
		 * materials name them by their ids. */
		json_t *mats = json_deep_copy(p->p.mats);
		cases_uploads_resolve(mats, p->in.ups, p->in.nups);
		p->p.mats_s = jsonout_dumps(mats, JSON_COMPACT);
		json_decref(mats);
		if (!p->p.mats_s)
			return GH_EINTERNAL;
		arena_cleanup(w->arena, free, p->p.mats_s);
	}
	int rc = p->in.draft_id ? apply_write_draft(w->db, p) : apply_write_new(w->db, p);
	*app = &p->app;
	return rc;
}

int case_apply_check(struct req *r, const struct case_apply_in *in, json_t **errors)
{
	struct case_apply_prep *p;
	return case_apply_prepare(r, in, &p, errors);
}

static bool blank(json_t *v)
{
	const char *s = json_string_value(v);
	if (!v || json_is_null(v))
		return true;
	if (!s)
		return false;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return !*s;
}

json_t *cases_keep_saved(struct req *r, json_t *def, json_t *input, const char *stored)
{
	json_t *out = json_is_object(input) ? json_copy(input) : json_object();
	json_t *masks = case_form_masked(stored, NULL);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, out);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, masks);
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *v;
		/* Left empty, or the mask sent back as it was shown: the saved value stays. */
		json_t *in = key ? json_object_get(out, key) : NULL;
		if (key && forms_field_personal(f) && (blank(in) || json_equal(in, json_object_get(masks, key))) &&
		    case_form_is_sealed(stored, key) && case_form_reveal(r->app->keys, r->arena, stored, key, &v) == 0)
			json_object_set_new(out, key, json_string(v));
	}
	return out;
}

static int apply_write_req(struct req *w, void *arg)
{
	struct case_apply_prep *p = arg;
	struct application *app;
	int rc = cases_write_uploads(w, p->in.ups, p->in.nups);
	return rc ? rc : case_apply_write(w, p, NULL, &app);
}

static int apply_done(struct req *r, void *arg, int rc)
{
	struct case_apply_prep *w = arg;
	if ((rc == GH_ECONFLICT || rc == GH_EDB) && w->in.idempotency_key && !w->in.draft_id && !w->retried) {
		/* Another node raced in with the same idempotency key (PostgreSQL aborts the
		 * transaction on the duplicate, so the writer could not look the winner up): now
		 * that it has committed, the key finds it, in a write of its own. */
		w->retried = true;
		return req_write(r, apply_write_req, apply_done, w);
	}
	return w->done(r, &w->in, &w->app, NULL, rc);
}

int case_apply_async(struct req *r, const struct case_apply_in *in,
		     int (*done)(struct req *r, const struct case_apply_in *in, struct application *app, json_t *errors, int rc))
{
	struct case_apply_prep *w;
	json_t *errors = NULL;
	int rc = case_apply_prepare(r, in, &w, &errors);
	w->done = done;
	if (rc)
		return done(r, &w->in, &w->app, errors, rc);
	return req_write(r, apply_write_req, apply_done, w);
}

/* Progress queries per address and hour: the number is easy to guess, the code is not. */
#define PROGRESS_QUERIES_PER_HOUR 60

int cases_progress_lookup(struct req *r, const char *number, const char *code, struct application *app)
{
	if (!number || !code || !*number || !*code || strlen(number) > 32 || strlen(code) > 16) {
		req_error_detail(r, "%s", M(r, "cases_enter_application_number_query_code"));
		return GH_EINVAL;
	}
	char key[96];
	snprintf(key, sizeof(key), "progress:ip:%s", r->ip);
	int rc = identity_rate_limit(r, key, PROGRESS_QUERIES_PER_HOUR, 3600);
	if (rc)
		return rc;
	rc = case_get_by_number(r->db, r->arena, number, app);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	char upper[17];
	size_t n = strlen(code);
	for (size_t i = 0; i <= n; i++)
		upper[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
	if (rc || !app->query_code || strcmp(app->query_code, upper) != 0) {
		req_error_detail(r, "%s", M(r, "cases_application_matches_number_query_code"));
		return GH_ENOTFOUND;
	}
	return 0;
}

json_t *cases_form_values(struct req *r, json_t *form)
{
	json_t *flat = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, flat);
	const char *k;
	json_t *v;
	json_object_foreach(form, k, v)
	{
		if (json_is_string(v))
			json_object_set(flat, k, v);
		else if (json_is_integer(v))
			json_object_set_new(flat, k, json_sprintf("%lld", (long long)json_integer_value(v)));
		else if (json_is_real(v))
			json_object_set_new(flat, k, json_sprintf("%.2f", json_real_value(v)));
	}
	return flat;
}

int cases_file_prepare(struct req *r, const char *item_code, json_t *form, const char *channel, int64_t applicant_id,
		       struct case_apply_prep **f, json_t **errors)
{
	json_t *none = json_array();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, none);
	struct case_apply_in in = { .item_code = item_code, .input = form, .materials = none, .submit = true,
				    .channel = channel, .applicant_id = applicant_id };
	return case_apply_prepare(r, &in, f, errors);
}

int cases_file_write(struct req *w, struct case_apply_prep *f, int64_t *id, const char **number, const char **state)
{
	struct application *app;
	int rc = case_apply_write(w, f, NULL, &app);
	if (rc)
		return rc;
	*id = app->id;
	*number = app->number;
	*state = app->state;
	return 0;
}

/* cases.h: the write of an application another hall forwarded (prepared by filing.c). */
int cases_file_write_for(struct req *w, struct case_apply_prep *f, int64_t applicant_id, int64_t *id,
			 const char **number, const char **state)
{
	/* The files are the applicant's own, as if they had uploaded them here. */
	int64_t who = w->who.account, ent = w->who.enterprise;
	w->who.account = applicant_id;
	w->who.enterprise = 0;
	int rc = cases_write_uploads(w, f->in.ups, f->in.nups);
	w->who.account = who;
	w->who.enterprise = ent;
	if (rc)
		return rc;
	f->in.applicant_id = applicant_id;
	struct application *app;
	if ((rc = case_apply_write(w, f, NULL, &app)))
		return rc;
	*id = app->id;
	*number = app->number;
	*state = app->state;
	return 0;
}
