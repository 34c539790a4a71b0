/* detail.c: the citizen's and the staff's view of one application — my applications, the
 * detail page with the timeline, the form values (masked, revealed one at a time), the
 * materials and the action forms, and the public progress query. The view helpers the page
 * files share are in page.c (pages_impl.h).
 *
 * Every decision goes through the service layer shared with the JSON API (cases.c): case_act_async,
 * case_load_visible, case_actor_bits, case_list, case_json, cases_progress_lookup. This file
 * only reads forms and builds template contexts. Page actions answer with a redirect carrying
 * a fixed notice word (?done=...), so a reload never repeats them. The apply form is in
 * apply.c, the staff queue and overdue list in console.c, counter intake in counter.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/jsonout.h"
#include "base/util.h"
#include "cases/attach.h"
#include "cases/cases_impl.h"
#include "cases/forms.h"
#include "cases/pages_impl.h"
#include "http/multipart.h"
#include "http/sections.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "view/view.h"

#define PER_PAGE 20
#define MAX_SLOTS 50         /* material slots an item may have (the catalog allows fewer) */
#define DETAIL_MAX 8000      /* bytes of an action's detail JSON (as the API) */
#define TEXT_MAX 2000        /* characters of a legal basis */

/* How a result reaches the applicant; the words are the catalogs' cases_delivery_<word>. */
static const struct {
	const char *word;
} deliveries[] = { { "window" }, { "post" }, { "electronic" } };

static const char *delivery_label(struct req *r, const char *word)
{
	for (size_t i = 0; word && i < ARRAY_LEN(deliveries); i++)
		if (strcmp(deliveries[i].word, word) == 0)
			return MC(r, "cases_delivery_", deliveries[i].word);
	return NULL;
}

/* ---- my applications ------------------------------------------------------------------ */

/* GET /applications: the caller's applications (or the enterprise's when acting for one). */
static int mine_page(struct req *r)
{
	long page;
	int rc = req_query_long(r, "page", 1, 1, 100000, &page);
	if (rc)
		return rc;
	struct case_filter f = { .today = cases_today() };
	case_filter_mine(r, &f);
	struct application *v;
	size_t n;
	long total;
	if ((rc = case_list(r->db, r->arena, &f, page, PER_PAGE, &v, &n, &total)))
		return rc;
	json_t *ctx = cases_page_ctx(r, M(r, "cases_nav_mine"));
	json_object_set_new(ctx, "nav_mine", json_true());
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, cases_row_view(r, &v[i], f.today));
	json_object_set_new(ctx, "rows", rows);
	json_object_set_new(ctx, "has_rows", json_boolean(n > 0));
	json_t *bundles = NULL;
	if ((rc = bundles_mine_rows(r, &bundles))) {
		json_decref(ctx);
		return rc;
	}
	json_object_set_new(ctx, "has_bundles", json_boolean(json_array_size(bundles) > 0));
	json_object_set_new(ctx, "bundles", bundles);
	if ((rc = page_sections_run(r, CASES_PAGE_MINE, NULL, ctx))) {
		json_decref(ctx);
		return rc;
	}
	jset(ctx, "count", MF(r, "cases_count_total", MA("n", total)));
	json_object_set_new(ctx, "pagination", cases_pagination(r, "/applications", page, PER_PAGE, total));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "cases/mine", ctx);
}

/* ---- the detail page ------------------------------------------------------------------ */

/* The names of the material slots listed under key in an event's detail d: out[key] and
 * out["has_" key]. */
static void material_names(struct req *r, json_t *d, json_t *mdefs, const char *key, json_t *out)
{
	json_t *slots = json_object_get(d, key);
	if (!json_array_size(slots))
		return;
	json_t *names = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(slots, i, s)
	{
		if (json_is_integer(s))
			json_array_append_new(names, json_string(cases_material_name(r, mdefs, json_integer_value(s))));
	}
	json_object_set_new(out, arena_printf(r->arena, "has_%s", key), json_boolean(json_array_size(names) > 0));
	json_object_set_new(out, key, names);
}

/* An event's detail as words: missing materials, legal basis, delivery, supplied materials. */
static void event_detail(struct req *r, const char *text, json_t *mdefs, json_t *out)
{
	json_t *d = arena_json(r, json_loads(text ? text : "{}", 0, NULL));
	if (!json_is_object(d))
		return;
	material_names(r, d, mdefs, "missing", out);
	material_names(r, d, mdefs, "supplied", out);
	jset(out, "legal_basis", json_string_value(json_object_get(d, "legal_basis")));
	const char *dl = json_string_value(json_object_get(d, "delivery"));
	jset(out, "delivery", delivery_label(r, dl) ? delivery_label(r, dl) : dl);
	case_rules_words(r, d, out);
}

/* How the applicant asked to receive the result: the form's "delivery" field when its value
 * is one of the ways the hall delivers (NULL otherwise). */
static const char *applicant_delivery(struct req *r, const struct application *app)
{
	json_t *masked;
	json_t *vals = arena_json(r, case_form_masked(app->form, &masked));
	arena_json(r, masked);
	const char *v = json_string_value(json_object_get(vals, "delivery"));
	return delivery_label(r, v) ? v : NULL;
}

/* The materials of the resubmission form, those the last supplement request (an action asking
 * for missing materials) named marked "asked" (events oldest first). New reference. */
static json_t *asked_materials(json_t *mats, const struct app_event *ev, size_t nev)
{
	json_t *out = json_deep_copy(mats), *m;
	size_t k;
	json_array_foreach(out, k, m) json_object_set_new(m, "asked", json_false()); /* set on each: no outer "asked" */
	for (size_t i = nev; i-- > 0;) {
		const struct wf_action *a = wf_action(ev[i].action);
		if (!a || a->input != WF_INPUT_MISSING)
			continue;
		json_t *d = json_loads(ev[i].detail ? ev[i].detail : "{}", 0, NULL);
		json_t *s;
		json_array_foreach(json_object_get(d, "missing"), k, s)
		{
			m = json_is_integer(s) ? json_array_get(out, (size_t)json_integer_value(s)) : NULL;
			if (m)
				json_object_set_new(m, "asked", json_true());
		}
		json_decref(d);
		break;
	}
	return out;
}

/* A field revealed on this page (POST .../reveal), or none. */
struct shown {
	const char *key, *value;
};

/* The form values with their labels, from the form definition the application was filed
 * under: personal fields masked (as stored; a form stored before sealing is masked here), with
 * a reveal form when the caller may reveal them, and the field in `shown` in full. */
static json_t *form_values(struct req *r, json_t *def, const struct application *app, bool may_reveal,
			   bool staff_reveal, const struct shown *shown)
{
	json_t *masked;
	json_t *vals = arena_json(r, case_form_masked(app->form, &masked));
	arena_json(r, masked);
	json_t *out = json_array();
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *val = key ? json_string_value(json_object_get(vals, key)) : NULL;
		if (!val || !*val)
			continue;
		const char *label = json_string_value(json_object_get(f, en(r) ? "label_en" : "label_zh"));
		if (!label)
			label = json_string_value(json_object_get(f, "label_zh"));
		bool is_masked = false;
		size_t k;
		json_t *m;
		json_array_foreach(masked, k, m) is_masked |= strcmp(json_string_value(m), key) == 0;
		bool revealable = may_reveal && is_masked;
		if (!is_masked && forms_field_personal(f)) {
			val = case_form_mask(r->arena, f, val); /* nothing sealed to open yet */
			is_masked = true;
		}
		json_t *op;
		json_array_foreach(is_masked ? NULL : json_object_get(f, "options"), k, op)
		{
			const char *ov = json_string_value(json_object_get(op, "value"));
			const char *ol = json_string_value(json_object_get(op, en(r) ? "label_en" : "label_zh"));
			if (ov && ol && strcmp(ov, val) == 0)
				val = ol;
		}
		json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "key", key, "label", label ? label : key, "value", val, "masked",
				      is_masked);
		if (is_masked && shown && shown->key && strcmp(shown->key, key) == 0) {
			json_object_set_new(o, "value", json_string(shown->value));
			json_object_set_new(o, "revealed", json_true());
		} else if (revealable) {
			jset(o, "reveal_href", arena_printf(r->arena, "/applications/%s/reveal", app->number));
			json_object_set_new(o, "staff_reveal", json_boolean(staff_reveal));
		}
		json_array_append_new(out, o);
	}
	return out;
}

struct act_error {
	int status;
	const char *action;   /* the form the error is about (NULL: none) */
	const char *message;
	json_t *input;        /* the posted values (borrowed; may be NULL) */
};

/* The template's flag of each input (input_<word>: the fields of the action's form). */
static const char *const input_flag[] = { [WF_INPUT_MISSING] = "missing", [WF_INPUT_FILES] = "files",
					  [WF_INPUT_DELIVERY] = "delivery", [WF_INPUT_LEGAL_BASIS] = "legal_basis" };

/* The button's look, as the workflow says. */
static const char *act_button_class(struct req *r, const struct wf_action *a)
{
	return a->button ? arena_printf(r->arena, "button-%s", a->button) : "";
}

static int detail_render_shown(struct req *r, struct application *app, const char *notice,
			       const struct act_error *err, const struct shown *shown)
{
	case_access_view(r, app);
	int32_t today = cases_today();
	json_t *cj = arena_json(r, case_json(app, r->app->calendar, today, r));
	struct catalog_service svc;
	int rc = catalog_service_get(r->db, r->arena, app->item_code, app->item_version, &svc);
	if (rc)
		return rc;
	json_t *def = arena_json(r, json_loads(svc.form ? svc.form : "[]", 0, NULL));
	json_t *mdefs = arena_json(r, json_loads(svc.materials ? svc.materials : "[]", 0, NULL));
	bool applicant = case_is_applicant(r, app);
	bool staff = case_is_department_staff(r, app) || r->role == ROLE_ADMIN;

	const char *iname = json_string_value(json_object_get(cj, "item_name"));
	json_t *ctx = cases_page_ctx(r, MF(r, "cases_application_number", MA("number", app->number)));
	jset(ctx, "number", app->number);
	jset(ctx, "item_name", iname);
	jset(ctx, "item_code", app->item_code);
	if (applicant && svc.visits_required > 0) /* a visit for it is booked at a centre (src/booking) */
		jset(ctx, "book_href", arena_printf(r->arena, "/book?item=%s&application=%s", app->item_code, app->number));
	jset(ctx, "department_name", json_string_value(json_object_get(cj, "department_name")));
	jset(ctx, "state", app->state);
	jset(ctx, "state_name", json_string_value(json_object_get(cj, "state_name")));
	jset(ctx, "applicant_name", app->applicant_name);
	jset(ctx, "submitted", req_when(r, app->submitted_at));
	jset(ctx, "accepted", req_when(r, app->accepted_at));
	jset(ctx, "completed", req_when(r, app->completed_at));
	jset(ctx, "due_day", json_string_value(json_object_get(cj, "due_day")));
	jset(ctx, "legal_due_day", json_string_value(json_object_get(cj, "legal_due_day")));
	jset(ctx, "promised_limit", MF(r, "cases_limit_days_working_days", MA("limit_days", app->clock.limit_days)));
	cases_light_view(r, cj, ctx);
	if (applicant)
		jset(ctx, "query_code", app->query_code);
	json_object_set_new(ctx, "is_applicant", json_boolean(applicant));
	json_object_set_new(ctx, "is_staff_view", json_boolean(staff));
	if (applicant || staff)
		jset(ctx, "receipt_href", arena_printf(r->arena, "/applications/%s/receipt", app->number));
	/* A case that ended (but was not withdrawn) may be rated by its applicant (好差评; the
	 * evaluation pages say when it has been rated already). */
	const struct wf_state *ended = wf_state(app->state);
	bool over = ended && ended->terminal && ended->decided; /* as the rating duty says (interact) */
	if (applicant && over)
		jset(ctx, "rate_href", arena_printf(r->arena, "/evaluate/application/%s", app->number));
	/* What followed from it, from other domains: the certificate, the rating given. */
	struct case_page_ref ref = { app->id, app->number, app->state, applicant, over };
	if ((rc = page_sections_run(r, CASES_PAGE_DETAIL, &ref, ctx)))
		return rc;
	if (applicant)
		json_object_set_new(ctx, "nav_mine", json_true());
	else if (r->role == ROLE_STAFF)
		json_object_set_new(ctx, "nav_queue", json_true());
	jset(ctx, "notice", notice);

	/* The timeline. */
	struct app_event *ev;
	size_t nev;
	if ((rc = case_events(r->db, r->arena, app->id, &ev, &nev)))
		return rc;
	json_t *events = json_array();
	for (size_t i = 0; i < nev; i++) {

		json_t *o = json_object();
		jset(o, "action_name", MC(r, "case_event_", ev[i].action));
		jset(o, "state_name", ev[i].to_state ? MC(r, "case_state_", ev[i].to_state) : NULL);
		jset(o, "at", req_when(r, ev[i].at));
		jset(o, "at_iso", req_when_iso(r, ev[i].at));
		if (ev[i].reason && *ev[i].reason)
			jset(o, "reason", ev[i].reason);
		if (staff)
			jset(o, "actor", ev[i].actor_name);
		event_detail(r, ev[i].detail, mdefs, o);
		json_array_append_new(events, o);
	}
	json_object_set_new(ctx, "events", events);

	bool staff_reveal = case_is_department_staff(r, app) &&
			    (r->who.staff_roles & (STAFF_COUNTER | STAFF_REVIEWER | STAFF_HEAD));
	json_object_set_new(ctx, "form_values", form_values(r, def, app, applicant || staff_reveal, staff_reveal && !applicant,
							    shown));

	/* Materials: the files linked to the application per slot, and e-certificates used. */
	struct attachment *atts;
	size_t natt;
	if ((rc = attachments_of(r->db, r->arena, app->id, &atts, &natt)))
		return rc;
	json_t *given = arena_json(r, json_loads(app->materials ? app->materials : "[]", 0, NULL));
	json_t *mats = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(mdefs, i, m)
	{
		json_t *o = json_object();
		jset(o, "name", cases_material_name(r, mdefs, (json_int_t)i));
		jset(o, "slot", arena_printf(r->arena, "%zu", i));
		json_object_set_new(o, "required", json_boolean(json_is_true(json_object_get(m, "required"))));
		json_t *files = json_array();
		for (size_t k = 0; k < natt; k++) {
			if (atts[k].slot != (int)i)
				continue;
			json_array_append_new(files,
					      json_pack("{s:s,s:s,s:s}", "filename", atts[k].filename, "href",
							arena_printf(r->arena, "/applications/%s/attachments/%lld", app->number,
								     (long long)atts[k].id),
							"size", cases_size_label(r, atts[k].size)));
		}
		size_t g;
		json_t *ge;
		json_array_foreach(given, g, ge)
		{
			json_t *s = json_object_get(ge, "slot");
			const char *ec = json_string_value(json_object_get(ge, "ecert"));
			if (json_is_integer(s) && json_integer_value(s) == (json_int_t)i && ec) {
				jset(o, "ecert", cases_ecert_name(r, ec));
				/* The certificate itself, verified, on the wallet's page. */
				const char *no = json_string_value(json_object_get(ge, "ecert_number"));
				const char *hall = json_string_value(json_object_get(ge, "ecert_hall"));
				if (no && hall) {
					/* Another hall's: the copy and its checks, for whoever sees the application. */
					jset(o, "ecert_href", arena_printf(r->arena, "/api/v1/applications/%s/materials/%zu/certificate",
									   app->number, i));
					jset(o, "ecert_hall",
					     MF(r, "cases_ecert_other_hall",
						MA("hall", json_string_value(json_object_get(ge, "ecert_hall_name")) ?: hall),
						MA("at", req_when(r, json_integer_value(json_object_get(ge, "ecert_checked_at"))))));
				} else if (no)
					jset(o, "ecert_href", arena_printf(r->arena, "/certs/%s?application=%s", no, app->number));
				jset(o, "ecert_number", no);
			}
		}
		json_object_set_new(o, "has_files", json_boolean(json_array_size(files) > 0));
		json_object_set_new(o, "files", files);
		json_array_append_new(mats, o);
	}
	json_object_set_new(ctx, "has_materials", json_boolean(json_array_size(mats) > 0));
	json_object_set_new(ctx, "materials", json_deep_copy(mats));

	/* The actions the caller may take now. */
	json_t *acts = json_array();
	unsigned bits = case_actor_bits(r, app);
	for (size_t k = 0; k < wf_actions_n; k++) {
		const struct wf_action *a = &wf_actions[k];
		if (!(a->actors & bits) || !wf_allows(a, app->state) || strcmp(a->code, "submit") == 0)
			continue;
		json_t *o = json_object();
		jset(o, "code", a->code);
		jset(o, "name", MC(r, "case_action_", a->code));
		jset(o, "href", arena_printf(r->arena, "/applications/%s/actions/%s", app->number, a->code));
		jset(o, "button_class", act_button_class(r, a));
		json_object_set_new(o, "needs_reason", json_boolean(a->needs_reason));
		if (a->input)
			json_object_set_new(o, arena_printf(r->arena, "input_%s", input_flag[a->input]), json_true());
		bool mine = err && err->action && strcmp(err->action, a->code) == 0;
		if (mine && err->input) {
			jset(o, "reason", json_string_value(json_object_get(err->input, "reason")));
			jset(o, "legal_basis_value", json_string_value(json_object_get(err->input, "legal_basis")));
		}
		if (mine && err->message) {
			jset(o, "error", err->message);
			json_object_set_new(o, "has_error", json_true());
		}
		if (a->input == WF_INPUT_MISSING)
			json_object_set_new(o, "materials", json_deep_copy(mats));
		if (a->input == WF_INPUT_FILES)
			json_object_set_new(o, "materials", asked_materials(mats, ev, nev));
		if (a->input == WF_INPUT_DELIVERY) {
			/* The applicant's own choice (the form's "delivery" field) comes selected. */
			const char *chosen = applicant_delivery(r, app);
			json_t *opts = json_array();
			for (size_t d = 0; d < ARRAY_LEN(deliveries); d++)
				json_array_append_new(opts, json_pack("{s:s,s:s,s:b}", "value", deliveries[d].word, "label",
								      MC(r, "cases_delivery_", deliveries[d].word), "selected",
								      chosen && strcmp(chosen, deliveries[d].word) == 0));
			json_object_set_new(o, "deliveries", opts);
			if (chosen)
				jset(o, "delivery_chosen",
				     MF(r, "cases_delivery_chosen", MA("delivery", delivery_label(r, chosen))));
		}
		json_array_append_new(acts, o);
	}
	json_decref(mats);
	/* Work allocation: staff take an open application; the head gives it to someone. */
	const struct wf_state *st = wf_state(app->state);
	if (case_is_department_staff(r, app) && st && !st->terminal && strcmp(app->state, "draft") != 0) {
		if (app->assigned_to != r->who.account) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "code", "claim", "name", M(r, "case_action_claim"), "href",
					      arena_printf(r->arena, "/applications/%s/actions/claim", app->number),
					      "is_claim", 1);
			if (err && err->action && strcmp(err->action, "claim") == 0 && err->message) {
				json_object_set_new(o, "error", json_string(err->message));
				json_object_set_new(o, "has_error", json_true());
			}
			json_array_append_new(acts, o);
		}
		struct identity_staff *people;
		size_t ns;
		if ((r->who.staff_roles & STAFF_HEAD) &&
		    identity_department_staff(r->db, r->arena, app->department, &people, &ns) == 0) {
			json_t *opts = json_array();
			for (size_t k = 0; k < ns; k++)
				json_array_append_new(opts, json_pack("{s:I,s:s,s:b}", "value", (json_int_t)people[k].id, "label",
								      people[k].name, "selected", people[k].id == app->assigned_to));
			json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o}", "code", "assign", "name", M(r, "case_action_assign"), "href",
					      arena_printf(r->arena, "/applications/%s/actions/assign", app->number),
					      "is_assign", 1, "staff", opts);
			if (err && err->action && strcmp(err->action, "assign") == 0 && err->message) {
				json_object_set_new(o, "error", json_string(err->message));
				json_object_set_new(o, "has_error", json_true());
			}
			json_array_append_new(acts, o);
		}
	}
	jset(ctx, "assigned_name", app->assigned_name);
	json_object_set_new(ctx, "has_actions", json_boolean(json_array_size(acts) > 0));
	json_object_set_new(ctx, "actions", acts);
	jset(ctx, "version", arena_printf(r->arena, "%lld", (long long)app->version));

	json_t *list = json_array();
	if (err && err->message)
		cases_add_error(list, err->action ? arena_printf(r->arena, "act-%s", err->action) : "actions", err->message);
	cases_set_errors(ctx, list);
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, err ? err->status : 200, "cases/detail", ctx);
}

static int detail_render(struct req *r, struct application *app, const char *notice, const struct act_error *err)
{
	return detail_render_shown(r, app, notice, err, NULL);
}

static const char *done_notice(struct req *r, const struct application *app, const char *done)
{
	if (!done)
		return NULL;
	if (strcmp(done, "intake") == 0)
		return app->applicant_name
			       ? MF(r, "cases_done_intake", MA("applicant", app->applicant_name), MA("number", app->number))
			       : MF(r, "cases_done_intake_anonymous", MA("number", app->number));
	if (strcmp(done, "submitted") == 0)
		return case_is_applicant(r, app) && app->query_code
			       ? MF(r, "cases_done_submitted_code", MA("number", app->number), MA("code", app->query_code))
			       : MF(r, "cases_done_submitted", MA("number", app->number));
	if (strcmp(done, "claim") == 0)
		return M(r, "cases_taken_application");
	if (strcmp(done, "assign") == 0)
		return M(r, "cases_assigned");
	const struct wf_action *a = wf_action(done);
	if (!a)
		return NULL;
	return MF(r, "cases_done_action", MA("action", MC(r, "case_action_", a->code)));
}

/* GET /applications/{number} */
static int detail_page(struct req *r)
{
	struct application app;
	int rc = case_load_visible(r, req_param(r, "number"), &app);
	if (rc)
		return rc;
	return detail_render(r, &app, done_notice(r, &app, req_query(r, "done")), NULL);
}

/* A reveal on the page: the detail with the field in full, once its record (if any) is written. */
struct reveal_page {
	struct application app;
	struct shown shown;
	struct case_reveal_rec *rec;
};

static int reveal_write(struct req *w, void *arg)
{
	struct reveal_page *p = arg;
	return case_reveal_record(w->db, p->rec);
}

static int reveal_shown(struct req *r, void *arg, int rc)
{
	struct reveal_page *p = arg;
	if (rc)
		return rc;
	return detail_render_shown(r, &p->app, NULL, NULL, &p->shown);
}

/* POST /applications/{number}/reveal: field (a form key), reason (optional) -> the detail page
 * with that field in full, this once (case_reveal says what of it is recorded). */
static int reveal_post(struct req *r)
{
	struct reveal_page *p = arena_zalloc(r->arena, sizeof(*p));
	int rc = case_load_visible(r, req_param(r, "number"), &p->app);
	if (rc)
		return rc;
	struct kvlist form;
	if ((rc = req_form(r, &form)))
		return rc;
	const char *field = kv_get(&form, "field"), *reason = kv_get(&form, "reason");
	const char *label;
	p->shown.key = field;
	rc = case_reveal(r, &p->app, field, reason && *reason ? reason : NULL, &label, &p->shown.value, &p->rec);
	if (rc == GH_EFORBIDDEN || rc == GH_ENOTFOUND || rc == GH_EVALIDATION || rc == GH_ERATELIMIT) {
		struct act_error err = { .status = err_status(rc),
					 .message = r->error_detail ? r->error_detail : M_err(r, rc) };
		r->error_detail = NULL;
		return detail_render(r, &p->app, NULL, &err);
	}
	if (rc)
		return rc;
	return p->rec ? req_write(r, reveal_write, reveal_shown, p) : reveal_shown(r, p, 0);
}

/* GET /applications/{number}/attachments/{id}: for those who may see the application. */
static int attachment_page(struct req *r)
{
	struct application app;
	int rc = case_load_visible(r, req_param(r, "number"), &app);
	if (rc)
		return rc;
	struct attachment at;
	int64_t id = cases_parse_id(req_param(r, "id"));
	if (!id || attachment_get(r->db, r->arena, id, &at) || at.application_id != app.id)
		return GH_ENOTFOUND;
	case_access_view(r, &app);
	return attach_send(r, at.sha256, at.mime, at.filename);
}

/* After a claim or an assignment: on to the application, or the page again with why not. */
static int assigned(struct req *r, struct application *app, void *ctx, int rc)
{
	struct act_error *err = ctx;
	if (rc == GH_EFORBIDDEN || rc == GH_ECONFLICT || rc == GH_EVALIDATION) {
		err->status = err_status(rc);
		err->message = r->error_detail ? r->error_detail : M(r, "cases_choose_staff_member_department");
		return detail_render(r, app, NULL, err);
	}
	if (rc)
		return rc;
	return resp_redirect(r, 303, arena_printf(r->arena, "/applications/%s?done=%s", app->number, err->action));
}

/* POST /applications/{number}/actions/claim|assign: staff take an application, or the head
 * gives it to one of them (form field assignee; empty = nobody). */
static int assign_post(struct req *r, struct application *app, const char *code)
{
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc)
		return rc;
	const char *who = kv_get(&form, "assignee");
	long assignee = 0;
	if (who && *who && str_to_long(str_c(who), 1, 1L << 62, &assignee))
		assignee = -1;
	const char *version = kv_get(&form, "version");
	struct act_error err = { .action = code };
	if (version && *version && cases_parse_id(version) != app->version) {
		err.status = 409;
		err.message = M(r, "cases_application_changed_meanwhile_reload");
		return detail_render(r, app, NULL, &err);
	}
	if (assignee < 0) {
		err.status = err_status(GH_EVALIDATION);
		err.message = M(r, "cases_choose_staff_member_department");
		return detail_render(r, app, NULL, &err);
	}
	struct act_error *e = arena_zalloc(r->arena, sizeof(*e));
	*e = err;
	struct case_act_in act = { .code = code, .assignee = assignee };
	return case_act_async(r, app, &act, assigned, e);
}

/* After an action: on to the application, or the page again with why not. */
static int acted(struct req *r, struct application *app, void *ctx, int rc)
{
	struct act_error *err = ctx;
	if (rc == GH_EFORBIDDEN || rc == GH_ECONFLICT || rc == GH_EVALIDATION) {
		err->status = err_status(rc);
		err->message = r->error_detail ? r->error_detail : M_err(r, rc);
		r->error_detail = NULL;
		/* The page as it is now (a conflict means it changed). */
		struct application cur;
		if (rc == GH_ECONFLICT && case_load_visible(r, req_param(r, "number"), &cur) == 0)
			*app = cur;
		return detail_render(r, app, NULL, err);
	}
	if (rc)
		return rc;
	return resp_redirect(r, 303, arena_printf(r->arena, "/applications/%s?done=%s", app->number, err->action));
}

/* POST /applications/{number}/actions/{action}: a form (multipart for resubmit). */
static int act_post(struct req *r)
{
	struct application app;
	int rc = case_load_visible(r, req_param(r, "number"), &app);
	if (rc)
		return rc;
	const char *code = req_param(r, "action");
	if (strcmp(code, "claim") == 0 || strcmp(code, "assign") == 0)
		return assign_post(r, &app, code);
	const struct wf_action *a = wf_action(code);
	if (!a)
		return GH_ENOTFOUND;

	/* The posted values, from either encoding. */
	json_t *in = arena_json(r, json_object());
	json_t *missing = arena_json(r, json_array());
	struct multipart mp = { 0 };
	const char *ct = req_header(r, "Content-Type");
	bool multi = ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
	if (multi) {
		if ((rc = cases_read_multipart(r, &mp)))
			return rc;
		for (size_t i = 0; i < mp.n; i++) {
			if (mp.parts[i].filename || !mp.parts[i].value)
				continue;
			if (strcmp(mp.parts[i].name, "missing") == 0)
				json_array_append_new(missing, json_string(mp.parts[i].value));
			else
				json_object_set_new(in, mp.parts[i].name, json_string(mp.parts[i].value));
		}
	} else {
		struct kvlist form;
		if ((rc = req_form(r, &form)))
			return rc;
		for (size_t i = 0; i < form.n; i++) {
			if (strcmp(form.v[i].key, "missing") == 0)
				json_array_append_new(missing, json_string(form.v[i].val));
			else
				json_object_set_new(in, form.v[i].key, json_string(form.v[i].val));
		}
	}
	const char *reason = json_string_value(json_object_get(in, "reason"));
	const char *version = json_string_value(json_object_get(in, "version"));
	struct act_error err = { .action = code, .input = in };

	/* A form shown before somebody else acted is stale: say so rather than act on it. */
	if (version && *version && (strcmp(version, "0") == 0 ? 0 : cases_parse_id(version)) != app.version) {
		err.status = 409;
		err.message = M(r, "cases_application_changed_meanwhile_reload");
		return detail_render(r, &app, NULL, &err);
	}

	json_t *mdefs = NULL;
	struct catalog_service svc;
	if ((rc = catalog_service_get(r->db, r->arena, app.item_code, app.item_version, &svc)))
		return rc;
	mdefs = arena_json(r, json_loads(svc.materials ? svc.materials : "[]", 0, NULL));
	size_t nslots = json_array_size(mdefs);
	if (nslots > MAX_SLOTS)
		nslots = MAX_SLOTS;

	json_t *detail = arena_json(r, json_object());
	if (a->input == WF_INPUT_MISSING) {
		json_t *slots = json_array();
		size_t i;
		json_t *s;
		json_array_foreach(missing, i, s)
		{
			long v;
			if (!str_to_long(str_c(json_string_value(s)), 0, (long)nslots - 1, &v) && (size_t)v < nslots)
				json_array_append_new(slots, json_integer(v));
		}
		json_object_set_new(detail, "missing", slots);
	} else if (a->input == WF_INPUT_LEGAL_BASIS) {
		const char *lb = json_string_value(json_object_get(in, "legal_basis"));
		if (lb && *lb) {
			if (str_utf8_chars(lb, strlen(lb)) > TEXT_MAX) {
				err.status = 422;
				err.message = M(r, "cases_legal_basis_too_long_most");
				return detail_render(r, &app, NULL, &err);
			}
			json_object_set_new(detail, "legal_basis", json_string(lb));
		}
	} else if (a->input == WF_INPUT_DELIVERY) {
		const char *dl = json_string_value(json_object_get(in, "delivery"));
		if (dl && *dl) {
			if (!delivery_label(r, dl)) {
				err.status = 422;
				err.message = M(r, "cases_choose_how_result_delivered");
				return detail_render(r, &app, NULL, &err);
			}
			json_object_set_new(detail, "delivery", json_string(dl));
		}
	}

	/* Resubmission: the new files, written with the action and linked to it. */
	struct case_act_in act = { .code = code, .reason = reason && *reason ? reason : NULL };
	if (a->input == WF_INPUT_FILES && multi && (case_actor_bits(r, &app) & a->actors) && wf_allows(a, app.state)) {
		json_t *errs = arena_json(r, json_object());
		rc = cases_check_uploads(r, &mp, nslots, errs, &act.ups, &act.nups);
		if (rc == GH_ETOOBIG || rc == GH_EUNSUPPORTED) {
			err.status = err_status(rc);
			const char *k;
			json_t *e;
			json_object_foreach(errs, k, e) err.message = json_string_value(e);
			return detail_render(r, &app, NULL, &err);
		}
		if (rc)
			return rc;
		json_t *slots = json_array();
		for (size_t u = 0; u < act.nups; u++)
			json_array_append_new(slots, json_integer(act.ups[u].slot));
		json_object_set_new(detail, "supplied", slots);
	}

	char *detail_s = NULL;
	if (json_object_size(detail)) {
		detail_s = jsonout_dumps(detail, JSON_COMPACT);
		arena_cleanup(r->arena, free, detail_s);
		if (!detail_s || strlen(detail_s) > DETAIL_MAX)
			return GH_ETOOBIG;
	}
	act.detail = detail_s;
	struct act_error *e = arena_zalloc(r->arena, sizeof(*e));
	*e = err;
	return case_act_async(r, &app, &act, acted, e);
}

/* ---- the public progress query -------------------------------------------------------- */

/* GET /progress?number=&code= */
static int progress_page(struct req *r)
{
	const char *number = req_query(r, "number"), *code = req_query(r, "code");
	json_t *ctx = cases_page_ctx(r, M(r, "cases_progress_title"));
	json_object_set_new(ctx, "nav_progress", json_true());
	json_t *v = json_object();
	jset(v, "number", number && strlen(number) <= 64 ? number : NULL);
	json_object_set_new(ctx, "v", v);
	resp_header(r, "Cache-Control", "no-store");
	resp_header(r, "Referrer-Policy", "no-referrer");
	if (!number && !code)
		return resp_page(r, 200, "cases/progress", ctx);
	struct application app;
	int rc = cases_progress_lookup(r, number, code, &app);
	if (rc == GH_EINVAL || rc == GH_ENOTFOUND) {
		json_t *list = json_array();
		const char *msg = r->error_detail ? r->error_detail : M_err(r, rc);
		cases_add_error(list, number && *number ? "code" : "number", msg);
		jset(ctx, number && *number ? "err_code" : "err_number", msg);
		r->error_detail = NULL;
		cases_set_errors(ctx, list);
		return resp_page(r, rc == GH_EINVAL ? 400 : 404, "cases/progress", ctx);
	}
	if (rc)
		return rc;
	/* Progress only: no names, reasons nor form content for whoever holds the code. */
	json_t *pj = arena_json(r, case_progress_json(r, &app));
	json_t *res = json_object();
	jset(res, "number", app.number);
	jset(res, "item_name", json_string_value(json_object_get(pj, "item_name")));
	jset(res, "department_name", json_string_value(json_object_get(pj, "department_name")));
	jset(res, "state", app.state);
	jset(res, "state_name", json_string_value(json_object_get(pj, "state_name")));
	jset(res, "due_day", json_string_value(json_object_get(pj, "due_day")));
	cases_light_view(r, pj, res);
	json_t *events = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(pj, "events"), i, e)
	{
		int64_t at = json_integer_value(json_object_get(e, "at"));
		json_array_append_new(events, json_pack("{s:s,s:s,s:s?,s:s?}", "action_name",
							json_string_value(json_object_get(e, "action_name")), "state_name",
							json_string_value(json_object_get(e, "state_name")), "at",
							req_when(r, at), "at_iso", req_when_iso(r, at)));
	}
	json_object_set_new(res, "events", events);
	json_object_set_new(ctx, "result", res);
	return resp_page(r, 200, "cases/progress", ctx);
}

const struct route cases_detail_routes[] = {
	{ HTTP_GET, "/applications", mine_page, APPLICANTS, 0, "cases.mine" },
	{ HTTP_GET, "/applications/{number}", detail_page, CASE_VIEWERS, 0, "cases.detail" },
	{ HTTP_GET, "/applications/{number}/attachments/{id}", attachment_page, CASE_VIEWERS, 0, "cases.attachment" },
	{ HTTP_POST, "/applications/{number}/actions/{action}", act_post, APPLICANTS | ROLE_STAFF, ROUTE_CSRF, "cases.act" },
	{ HTTP_POST, "/applications/{number}/reveal", reveal_post, APPLICANTS | ROLE_STAFF, ROUTE_CSRF, "cases.reveal" },
	{ HTTP_GET, "/progress", progress_page, ROLE_PUBLIC, 0, "cases.progress" },
};
const size_t cases_detail_routes_n = ARRAY_LEN(cases_detail_routes);
