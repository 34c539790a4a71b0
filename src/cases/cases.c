/* cases.c: the service layer of applications, shared by pages and API: who may see and act on
 * an application, applying (draft, idempotent submission), taking actions. */
#include <stdio.h>
#include <string.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/forms.h"
#include "catalog/catalog.h"
#include "http/router.h"
#include "identity/identity.h"
#include "store/db.h"

int cases_init(struct app *app, char *err, size_t errlen)
{
	if (workflow_check(wf_states, wf_states_n, wf_actions, wf_actions_n, err, errlen))
		return GH_EINTERNAL;
	char path[4096];
	snprintf(path, sizeof(path), "%s/catalog/holidays.json", app->cfg.data_dir);
	app->calendar = calendar_load_json(path, err, errlen);
	return app->calendar ? 0 : GH_EIO;
}

void cases_release(struct app *app)
{
	calendar_free(app->calendar);
	app->calendar = NULL;
}

extern const struct route cases_api_routes[];
extern const size_t cases_api_routes_n;
extern const struct route cases_page_routes[];
extern const size_t cases_page_routes_n;

int cases_add_routes(struct router *rt)
{
	if (router_add(rt, cases_api_routes, cases_api_routes_n) || router_add(rt, cases_page_routes, cases_page_routes_n))
		return GH_EINVAL;
	return 0;
}

int32_t cases_today(void)
{
	return calendar_day_of(time(NULL));
}

bool case_is_applicant(const struct req *r, const struct application *app)
{
	if (!r->who.account)
		return false;
	if (app->enterprise_id)
		return r->who.enterprise == app->enterprise_id;
	return r->who.account == app->applicant_id && !r->who.enterprise;
}

bool case_is_department_staff(const struct req *r, const struct application *app)
{
	return r->role == ROLE_STAFF && r->who.department && strcmp(r->who.department, app->department) == 0;
}

bool case_can_view(const struct req *r, const struct application *app)
{
	return r->role == ROLE_ADMIN || case_is_applicant(r, app) || case_is_department_staff(r, app);
}

unsigned case_actor_bits(const struct req *r, const struct application *app)
{
	unsigned bits = 0;
	if (case_is_applicant(r, app))
		bits |= WF_APPLICANT;
	if (case_is_department_staff(r, app)) {
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

int case_act(struct req *r, struct application *app, const char *action_code, const char *reason,
	     const char *detail)
{
	const struct wf_action *a = wf_action(action_code);
	bool en = strcmp(r->lang, "en") == 0;
	if (!a) {
		req_error_detail(r, en ? "Unknown action." : "未知的操作。");
		return GH_ENOTFOUND;
	}
	if (!(case_actor_bits(r, app) & a->actors)) {
		req_error_detail(r, en ? "You may not take this action on this application." : "您无权对该办件执行此操作。");
		return GH_EFORBIDDEN;
	}
	if (!wf_allows(a, app->state)) {
		req_error_detail(r, en ? "This action does not apply to the application in its present state."
				       : "办件当前状态下不能执行此操作。");
		return GH_ECONFLICT;
	}
	if (a->needs_reason && (!reason || !*reason)) {
		req_error_detail(r, en ? "Please give the reason." : "请填写理由。");
		return GH_EVALIDATION;
	}
	if (reason && str_utf8_chars(reason, strlen(reason)) > 2000) {
		req_error_detail(r, en ? "The reason is too long (at most 2000 characters)." : "理由过长（最多 2000 字）。");
		return GH_EVALIDATION;
	}
	int64_t ev;
	int rc = case_transition(r->db, r->app->calendar, r->arena, app, a, r->who.account, reason, detail, cases_today(), &ev);
	if (rc == GH_ECONFLICT)
		req_error_detail(r, en ? "The application was changed meanwhile; please reload it."
				       : "办件已被他人处理，请刷新后重试。");
	return rc;
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

json_t *case_json(const struct application *app, const struct calendar *cal, int32_t today, const char *lang)
{
	bool en = lang && strcmp(lang, "en") == 0;
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
	json_object_set_new(j, "state_name", jstr(st ? (en ? st->name_en : st->name_zh) : app->state));
	json_object_set_new(j, "terminal", json_boolean(st && st->terminal));
	json_object_set_new(j, "paused", json_boolean(st && st->paused));
	json_object_set_new(j, "submitted_at", app->submitted_at ? json_integer(app->submitted_at) : json_null());
	json_object_set_new(j, "accepted_at", app->accepted_at ? json_integer(app->accepted_at) : json_null());
	json_object_set_new(j, "completed_at", app->completed_at ? json_integer(app->completed_at) : json_null());
	json_object_set_new(j, "promised_limit_days", json_integer(app->clock.limit_days));
	json_object_set_new(j, "legal_limit_days", json_integer(app->clock.legal_limit_days));
	json_object_set_new(j, "version", json_integer(app->version));
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
		json_object_set_new(j, "light", json_null());
	}
	json_t *form = app->form ? json_loads(app->form, 0, NULL) : NULL;
	json_object_set_new(j, "form", form ? form : json_object());
	json_t *mats = app->materials ? json_loads(app->materials, 0, NULL) : NULL;
	json_object_set_new(j, "materials", mats ? mats : json_array());
	return j;
}

/* Checks the materials the applicant gave against the item's material list: an array of
 * {"slot": i, "attachments": [ids]} or {"slot": i, "ecert": "<type>"}; attachments must be the
 * caller's own; required materials must be given. Returns the normalised array (new ref) or
 * NULL with errors set (object "materials" -> message). */
static json_t *check_materials(struct req *r, json_t *defs, json_t *given, json_t *errors, bool submit)
{
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
						    json_string(en ? "An e-certificate was given for a material that does not accept it."
								   : "该材料不能用电子证照代替。"));
			} else {
				json_object_set_new(entry, "ecert", json_string(ecert));
				given_any = true;
			}
		}
		if (json_is_array(atts) && json_array_size(atts) > 0) {
			json_t *ids = json_array();
			size_t ai;
			json_t *aid;
			json_array_foreach(atts, ai, aid)
			{
				struct attachment at;
				if (ai >= 10 || !json_is_integer(aid) ||
				    attachment_get(r->db, r->arena, json_integer_value(aid), &at) || at.owner_id != r->who.account) {
					json_object_set_new(errors, "materials",
							    json_string(en ? "An attached file is unknown or not yours."
									   : "附件不存在或不属于您。"));
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

int case_apply(struct req *r, const struct case_apply_in *in, struct application *app, json_t **errors)
{
	struct catalog_service svc;
	*errors = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, *errors);
	int rc = catalog_service_get(r->db, r->arena, in->item_code, 0, &svc);
	if (rc)
		return rc;
	if (svc.online_depth < 3) {
		req_error_detail(r, strcmp(r->lang, "en") == 0 ? "This service cannot be applied for online; see its guide."
							      : "该事项不支持网上申请，请查看办事指南。");
		return GH_ECONFLICT;
	}
	json_t *def = json_loads(svc.form, 0, NULL), *mdefs = json_loads(svc.materials, 0, NULL);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, def);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, mdefs);
	json_t *values = NULL, *ferrs = NULL;
	if (!def || !mdefs || forms_validate(def, in->input, r->lang, &values, &ferrs))
		return GH_EINTERNAL;
	arena_cleanup(r->arena, (void (*)(void *))json_decref, values);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, ferrs);
	if (in->submit)
		json_object_update(*errors, ferrs);
	json_t *mats = check_materials(r, mdefs, in->materials, *errors, in->submit);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, mats);
	if (json_object_size(*errors))
		return GH_EVALIDATION;
	char *form_s = json_dumps(values, JSON_COMPACT | JSON_SORT_KEYS), *mats_s = json_dumps(mats, JSON_COMPACT);
	arena_cleanup(r->arena, free, form_s);
	arena_cleanup(r->arena, free, mats_s);
	int64_t id;
	bool existed = false;
	if (in->draft_id) {
		id = in->draft_id;
		struct application cur;
		if ((rc = case_get(r->db, r->arena, id, &cur)))
			return rc;
		if (!case_is_applicant(r, &cur) && !(in->filed_by && cur.filed_by == in->filed_by))
			return GH_ENOTFOUND;
		if (strcmp(cur.state, "draft") != 0)
			return GH_ECONFLICT;
		if ((rc = case_update_draft(r->db, id, cur.version, form_s, mats_s)))
			return rc;
	} else {
		struct case_new n = { .item_code = svc.code, .item_version = svc.version, .department = svc.department,
				      .limit_days = (int)svc.promised_limit_days, .legal_limit_days = (int)svc.legal_limit_days,
				      .applicant_id = in->applicant_id, .enterprise_id = in->enterprise_id,
				      .filed_by = in->filed_by, .channel = in->channel, .form = form_s, .materials = mats_s,
				      .idempotency_key = in->idempotency_key };
		if ((rc = case_create(r->db, r->arena, &n, &id, &existed)))
			return rc;
	}
	if ((rc = case_get(r->db, r->arena, id, app)))
		return rc;
	if (existed || !in->submit || strcmp(app->state, "draft") != 0)
		return 0; /* a repeated submission answers with the application it made */
	const struct wf_action *submit = wf_action("submit");
	int64_t ev = 0;
	if ((rc = case_transition(r->db, r->app->calendar, r->arena, app, submit, r->who.account, NULL, NULL,
				  cases_today(), &ev)))
		return rc;
	/* Attach the files to the application for good. */
	size_t i;
	json_t *m;
	json_array_foreach(mats, i, m)
	{
		size_t k;
		json_t *att;
		json_array_foreach(json_object_get(m, "attachments"), k, att)
			attachment_link(r->db, json_integer_value(json_object_get(att, "id")), r->who.account, app->id, (int)i, ev);
	}
	return 0;
}

/* Progress queries per address and hour: the number is easy to guess, the code is not. */
#define PROGRESS_QUERIES_PER_HOUR 60

int cases_progress_lookup(struct req *r, const char *number, const char *code, struct application *app)
{
	bool en = strcmp(r->lang, "en") == 0;
	if (!number || !code || !*number || !*code || strlen(number) > 32 || strlen(code) > 16) {
		req_error_detail(r, en ? "Enter the application number and its query code." : "请输入办件编号和查询码。");
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
		req_error_detail(r, en ? "No application matches this number and query code." : "办件编号或查询码不正确。");
		return GH_ENOTFOUND;
	}
	return 0;
}
