/* pages.c: the pages of evaluations, rectifications, appeals, consultations and complaints,
 * in Chinese and English. Every decision goes through interact_impl.h (shared with the API);
 * this file reads forms and builds template contexts. State-changing forms carry the CSRF
 * token (ROUTE_CSRF) and answer with a redirect (?done=...), so a reload repeats nothing; a
 * form with a problem comes back with the message and what was typed. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "federation/federation.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/server.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/db.h"
#include "view/linkify.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define VIEWERS (APPLICANTS | ROLE_STAFF | ROLE_ADMIN)

static json_t *page_ctx(struct req *r, const char *title)
{
	json_t *ctx = json_object();
	ia_set(ctx, "title", title);
	ia_set(ctx, "csrf", identity_csrf_token(r));
	const char *k = req_cookie(r, "kiosk");
	if (k && !strcmp(k, "1"))
		json_object_set_new(ctx, "kiosk", json_true());
	json_object_set_new(ctx, "is_staff", json_boolean(r->role == ROLE_STAFF));
	json_object_set_new(ctx, "is_admin", json_boolean(r->role == ROLE_ADMIN));
	json_object_set_new(ctx, "is_citizen", json_boolean(r->role != ROLE_STAFF && r->role != ROLE_ADMIN));
	return ctx;
}

static int page(struct req *r, int status, const char *tpl, json_t *ctx)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, status, tpl, ctx);
}

static const char *field(const struct kvlist *f, const char *k)
{
	return kv_get(f, k);
}

/* The notice of a ?done= word. */
static const char *done_notice(struct req *r)
{
	const char *d = req_query(r, "done");
	if (!d || strlen(d) > 32)
		return NULL;
	char key[64];
	snprintf(key, sizeof(key), "interact_done_%s", d);
	return ia_msg(r, key, NULL);
}

/* The error to show on a re-rendered page: the detail set by the failing call, else the
 * code's public message. */
static const char *error_text(struct req *r, int rc)
{
	return r->error_detail ? r->error_detail : M_err(r, rc);
}

static int status_of(int rc)
{
	return err_status(rc);
}

/* Whether a change failed for want of the database (the error page, not the form again). */
static bool unavailable(int rc)
{
	return rc == GH_EDB || rc == GH_EBUSY || rc == GH_EUNAVAILABLE;
}

/* ---- citizen: my evaluations ----------------------------------------------------------- */

static int evaluations_page(struct req *r)
{
	struct ia_eval *v;
	size_t n;
	int rc = ia_evals_mine(r, &v, &n);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, M(r, "interact_my_evaluations"));
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = ia_eval_json(r, &v[i]);
		if (v[i].rect_state && !strcmp(v[i].rect_state, "awaiting_rating"))
			json_object_set_new(j, "rate_rectification", json_true());
		if (v[i].rect_state) {
			char key[64];
			snprintf(key, sizeof(key), "interact_rect_state_%s", v[i].rect_state);
			ia_set(j, "rect_state_name", ia_msg(r, key, v[i].rect_state));
		}
		json_array_append_new(arr, j);
	}
	json_t *pending = ia_pending_json(r);
	json_object_set_new(ctx, "has_pending", json_boolean(json_array_size(pending) > 0));
	json_object_set_new(ctx, "pending", pending);
	json_object_set_new(ctx, "has_rows", json_boolean(n > 0));
	json_object_set_new(ctx, "rows", arr);
	ia_set(ctx, "notice", done_notice(r));
	return page(r, 200, "interact/evaluations", ctx);
}

/* ---- the rating form -------------------------------------------------------------------- */

/* The subject's title for the form, or a GH_E code when the caller may not rate it. */
static const char *subject_title(struct req *r, const char *kind, const char *ref)
{
	if (!strcmp(kind, "application"))
		return MF(r, "interact_application_ref", MA("ref", ref));
	if (!strcmp(kind, "consultation"))
		return MF(r, "interact_consultation_ref", MA("ref", ref));
	return MF(r, "interact_complaint_suggestion_ref", MA("ref", ref));
}

static int rate_render(struct req *r, int status, const char *kind, const char *ref, const struct ia_rating *in,
		       const char *error)
{
	json_t *ctx = page_ctx(r, M(r, "interact_rate_title"));
	ia_set(ctx, "subject", subject_title(r, kind, ref));
	ia_set(ctx, "action", arena_printf(r->arena, "/evaluate/%s/%s", kind, ref));
	json_t *levels = json_array();
	for (int l = 5; l >= 1; l--)
		json_array_append_new(levels, json_pack("{s:i,s:s,s:b,s:b}", "level", l, "name", M(r, ia_level_key(l)), "checked",
							in && in->level == l, "bad", l <= 2));
	json_object_set_new(ctx, "levels", levels);
	static const char *const gkeys[] = { "", "interact_tags_bad", "interact_tags_fair", "interact_tags_good" };
	json_t *groups = json_array();
	for (int g = 3; g >= 1; g--) {
		json_t *tags = json_array();
		for (size_t i = 0; i < ia_tags_n; i++) {
			if (ia_tags[i].group != g)
				continue;
			bool on = false;
			for (size_t k = 0; in && k < in->ntags; k++)
				on = on || !strcmp(in->tags[k], ia_tags[i].code);
			json_array_append_new(tags, json_pack("{s:s,s:s,s:b}", "code", ia_tags[i].code, "name",
							      MC(r, "interact_tag_", ia_tags[i].code), "checked", on));
		}
		json_array_append_new(groups, json_pack("{s:s,s:s,s:o}", "name", ia_msg(r, gkeys[g], ""), "id",
							arena_printf(r->arena, "tags-%d", g), "tags", tags));
	}
	json_object_set_new(ctx, "groups", groups);
	ia_set(ctx, "comment", in ? in->comment : NULL);
	ia_set(ctx, "error", error);
	return page(r, status, "interact/rate", ctx);
}

static bool kind_ok(const char *k)
{
	return k && (!strcmp(k, "application") || !strcmp(k, "consultation") || !strcmp(k, "complaint"));
}

static int rate_get(struct req *r)
{
	const char *kind = req_param(r, "kind"), *ref = req_param(r, "ref");
	if (!kind_ok(kind) || strlen(ref) > 64)
		return GH_ENOTFOUND;
	int64_t rated;
	int rc = ia_rate_precheck(r, kind, ref, &rated);
	if (rc == GH_ECONFLICT && rated) /* rated already: the rating given, not an error */
		return resp_redirect(r, 303, arena_printf(r->arena, "/evaluations/%lld", (long long)rated));
	if (rc)
		return rc; /* the error page with the reason: not yours, not ended yet */
	return rate_render(r, 200, kind, ref, NULL, NULL);
}

/* The rating made (ctx: what was typed, for the form again). */
static int rated(struct req *r, int rc, int64_t id, const void *ctx)
{
	if (rc == GH_ENOTFOUND || unavailable(rc))
		return rc;
	if (rc)
		return rate_render(r, status_of(rc), req_param(r, "kind"), req_param(r, "ref"), ctx, error_text(r, rc));
	return resp_redirect(r, 303, arena_printf(r->arena, "/evaluations/%lld?done=rated", (long long)id));
}

static int rate_post(struct req *r)
{
	const char *kind = req_param(r, "kind"), *ref = req_param(r, "ref");
	if (!kind_ok(kind) || strlen(ref) > 64)
		return GH_ENOTFOUND;
	/* Someone else's case answers like none, before the form is looked at. */
	int64_t given;
	int rc = ia_rate_precheck(r, kind, ref, &given);
	if (rc == GH_ECONFLICT && given) /* a second tab, a repeated post: the rating that counts */
		return resp_redirect(r, 303, arena_printf(r->arena, "/evaluations/%lld", (long long)given));
	if (rc == GH_ENOTFOUND || rc == GH_EFORBIDDEN || rc == GH_EDB || rc == GH_EBUSY || rc == GH_EUNAVAILABLE)
		return rc;
	struct kvlist f;
	if ((rc = req_form(r, &f)))
		return rc;
	struct ia_rating in = { .comment = "" };
	const char *why = NULL;
	long level = 0;
	const char *lv = field(&f, "level");
	if (lv)
		str_to_long(str_c(lv), 1, 5, &level);
	in.level = (int)level;
	for (size_t i = 0; i < f.n && !rc; i++) {
		if (strcmp(f.v[i].key, "tags") != 0)
			continue;
		const struct ia_tag *t = ia_tag_find(f.v[i].val, strlen(f.v[i].val));
		if (!t) {
			why = N_("interact_unknown_reason");
			rc = GH_EVALIDATION;
		} else {
			rc = ia_rating_add_tag(&in, t->code, &why);
		}
	}
	const char *c = field(&f, "comment");
	in.comment = c ? c : "";
	in.channel = req_cookie(r, "kiosk") && !strcmp(req_cookie(r, "kiosk"), "1") ? "kiosk" : "web";
	if (!rc)
		rc = ia_rating_check(&in, &why);
	if (rc)
		return rate_render(r, status_of(rc), kind, ref, &in, why ? M(r, why) : error_text(r, rc));
	struct ia_rating *typed = arena_zalloc(r->arena, sizeof(*typed));
	*typed = in;
	return ia_rate(r, kind, ref, &in, rated, typed);
}

/* ---- the evaluation's detail: rectification and appeal ---------------------------------- */

static int evaluation_render(struct req *r, int64_t id, int status, const char *error)
{
	struct ia_eval e;
	int rc = ia_eval_load_visible(r, id, &e);
	if (rc)
		return rc;
	json_t *j = ia_eval_detail_json(r, &e);
	json_t *ctx = page_ctx(r, MF(r, "interact_evaluation_id", MA("id", (long long)id)));
	json_object_set_new(ctx, "e", j);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(j, "actions"), i, a) {
		json_object_set_new(ctx, arena_printf(r->arena, "can_%s", json_string_value(a)), json_true());
	}
	json_t *rect = json_object_get(j, "rectification");
	if (rect)
		json_object_set(ctx, "rect", rect);
	json_object_set_new(ctx, "methods",
			    json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "code", "phone", "name", M(r, "interact_telephone"),
				      "code", "visit", "name", M(r, "interact_person"), "code", "sms", "name",
				      M(r, "interact_text_message"), "code", "online", "name", M(r, "interact_online")));
	json_object_set_new(ctx, "rect_levels",
			    json_pack("[{s:i,s:s},{s:i,s:s},{s:i,s:s}]", "level", 3, "name", M(r, ia_rect_level_key(3)), "level", 2,
				      "name", M(r, ia_rect_level_key(2)), "level", 1, "name", M(r, ia_rect_level_key(1))));
	json_object_set_new(ctx, "has_events", json_boolean(json_array_size(json_object_get(j, "events")) > 0));
	ia_set(ctx, "notice", done_notice(r));
	ia_set(ctx, "error", error);
	return page(r, status, "interact/evaluation", ctx);
}

static int evaluation_page(struct req *r)
{
	return evaluation_render(r, ia_param_id(r), 200, NULL);
}

/* "2026-03-01T14:05" (a datetime-local field, China Standard Time) as unix seconds; 0 for
 * empty, -1 for malformed. */
static int64_t parse_local_time(const char *s)
{
	if (!s || !*s)
		return 0;
	int32_t day;
	size_t n = strlen(s);
	if (n != 16 || s[10] != 'T' || s[13] != ':' || calendar_parse_day(s, 10, &day))
		return -1;
	long hh, mm;
	if (str_to_long(str_n(s + 11, 2), 0, 23, &hh) || str_to_long(str_n(s + 14, 2), 0, 59, &mm))
		return -1;
	return (int64_t)day * 86400 + hh * 3600 + mm * 60 - CALENDAR_CST_OFFSET;
}

/* A change of evaluation id (ctx: the ?done= word). */
static int evaluation_changed(struct req *r, int rc, int64_t id, const void *ctx)
{
	if (rc == GH_ENOTFOUND || unavailable(rc))
		return rc;
	if (rc)
		return evaluation_render(r, id, status_of(rc), error_text(r, rc));
	return resp_redirect(r, 303, arena_printf(r->arena, "/evaluations/%lld?done=%s", (long long)id, (const char *)ctx));
}

static int rect_post(struct req *r)
{
	int64_t id = ia_param_id(r);
	const char *step = req_param(r, "step");
	if (strcmp(step, "visit") && strcmp(step, "rectify") && strcmp(step, "feedback") && strcmp(step, "rate"))
		return GH_ENOTFOUND;
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	long level = 0;
	if (field(&f, "level"))
		str_to_long(str_c(field(&f, "level")), 1, 3, &level);
	int64_t when = parse_local_time(field(&f, "at"));
	if (when < 0)
		return evaluation_render(r, id, 422, M(r, "interact_time_visit_valid"));
	return ia_rect_step(r, id, step, field(&f, "method"), field(&f, "notes"), when, (int)level, evaluation_changed,
			    step);
}

static int appeal_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	return ia_appeal_file(r, ia_param_id(r), field(&f, "reason"), evaluation_changed, "appealed");
}

static int rectifications_page(struct req *r)
{
	json_t *arr;
	const char *st = req_query(r, "state");
	int rc = ia_rect_list(r, r->role == ROLE_STAFF ? r->who.department : NULL, st, &arr);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, M(r, "interact_rectification_bad_reviews"));
	json_object_set_new(ctx, "has_rows", json_boolean(json_array_size(arr) > 0));
	json_object_set_new(ctx, "rows", arr);
	json_t *states = json_array();
	static const char *const codes[] = { "", "open", "visited", "rectified", "awaiting_rating", "closed", "cancelled" };
	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		char key[64];
		snprintf(key, sizeof(key), i ? "interact_rect_state_%s" : "interact_rect_state_unfinished", codes[i]);
		json_array_append_new(states, json_pack("{s:s,s:s,s:b}", "code", codes[i], "name", ia_msg(r, key, codes[i]), "selected",
							(st ? !strcmp(st, codes[i]) : i == 0)));
	}
	json_object_set_new(ctx, "states", states);
	return page(r, 200, "interact/rectifications", ctx);
}

static int appeals_render(struct req *r, int status, const char *error)
{
	json_t *arr;
	const char *st = req_query(r, "state");
	int rc = ia_appeal_list(r, st ? st : "pending", &arr);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, M(r, "interact_appeals"));
	json_object_set_new(ctx, "has_rows", json_boolean(json_array_size(arr) > 0));
	json_object_set_new(ctx, "rows", arr);
	json_object_set_new(ctx, "show_all", json_boolean(st && !*st));
	ia_set(ctx, "notice", done_notice(r));
	ia_set(ctx, "error", error);
	return page(r, status, "interact/appeals", ctx);
}

static int appeals_page(struct req *r)
{
	return appeals_render(r, 200, NULL);
}

static int decided(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)id, (void)ctx;
	if (unavailable(rc))
		return rc;
	if (rc)
		return appeals_render(r, status_of(rc), error_text(r, rc));
	return resp_redirect(r, 303, "/admin/appeals?done=decided");
}

static int decide_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	return ia_appeal_decide(r, ia_param_id(r), field(&f, "decision"), field(&f, "note"), decided, NULL);
}

/* ---- consultations and complaints ------------------------------------------------------- */

static bool is_consult(const struct req *r)
{
	return strncmp(r->path, "/consultations", 14) == 0 || strncmp(r->path, "/staff/consultations", 20) == 0;
}

static const char *base_of(const struct req *r)
{
	return is_consult(r) ? "/consultations" : "/complaints";
}

static void thread_ctx(struct req *r, json_t *ctx)
{
	bool c = is_consult(r);
	json_object_set_new(ctx, c ? "is_consult" : "is_complaint", json_true());
	ia_set(ctx, "base", base_of(r));
	ia_set(ctx, "kind_title", c ? M(r, "interact_consultations") : M(r, "interact_complaints_suggestions"));
}

static int threads_page(struct req *r, bool mine)
{
	json_t *arr;
	const char *st = req_query(r, "state");
	int rc = is_consult(r) ? ia_consult_list(r, mine, st, &arr) : ia_complaint_list(r, mine, st, &arr);
	if (rc)
		return rc;
	bool c = is_consult(r);
	const char *title = mine ? (c ? M(r, "interact_my_consultations") : M(r, "interact_my_complaints"))
				 : (c ? M(r, "interact_consult_queue")
				      : r->role == ROLE_ADMIN ? M(r, "interact_escalated")
							      : M(r, "interact_complaint_queue"));
	json_t *ctx = page_ctx(r, title);
	thread_ctx(r, ctx);
	json_object_set_new(ctx, "mine", json_boolean(mine));
	json_object_set_new(ctx, "has_rows", json_boolean(json_array_size(arr) > 0));
	json_object_set_new(ctx, "rows", arr);
	return page(r, 200, "interact/threads", ctx);
}

static int my_threads_page(struct req *r)
{
	return threads_page(r, true);
}

static int staff_threads_page(struct req *r)
{
	return threads_page(r, false);
}

DB_SQL(q_departments, "SELECT code, name_zh, name_en FROM departments ORDER BY position, code");
DB_SQL(q_item_name, "SELECT name_zh, name_en, department FROM service_items WHERE code = ? AND is_current = 1");

static int thread_new_render(struct req *r, int status, const struct ia_thread_in *in, const char *error,
			     json_t *candidates)
{
	bool c = is_consult(r);
	json_t *ctx = page_ctx(r, c ? M(r, "interact_ask") : M(r, "interact_complain"));
	thread_ctx(r, ctx);
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_departments, DB_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *depts = json_array();
	const char *sel = in ? in->department : req_query(r, "department");
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(depts, json_pack("{s:s,s:s,s:b}", "code", db_cell(&rows, i, 0), "name",
						       ia_en(r) && db_cell(&rows, i, 2) ? db_cell(&rows, i, 2) : db_cell(&rows, i, 1),
						       "selected", sel && !strcmp(sel, db_cell(&rows, i, 0))));
	json_object_set_new(ctx, "departments", depts);
	const char *item = in ? in->item_code : req_query(r, "item");
	if (item && *item && strlen(item) <= 64 &&
	    !db_query(r->db, r->arena, &q_item_name, DB_ARGS(DB_TEXT(item)), &rows) && rows.nrows == 1) {
		ia_set(ctx, "item_code", item);
		ia_set(ctx, "item_name", ia_en(r) && db_cell(&rows, 0, 1) ? db_cell(&rows, 0, 1) : db_cell(&rows, 0, 0));
	}
	if (in) {
		ia_set(ctx, "subject", in->subject);
		ia_set(ctx, "text", in->text);
		ia_set(ctx, "typed_department", in->department);
		ia_set(ctx, "typed_subject", in->subject);
		json_object_set_new(ctx, "consent_public", json_boolean(in->consent_public));
		json_object_set_new(ctx, "is_suggestion", json_boolean(in->kind && !strcmp(in->kind, "suggestion")));
	}
	ia_set(ctx, "error", error);
	if (candidates) { /* offered before filing: the form comes back decided */
		json_object_set_new(ctx, "candidates", candidates);
		json_object_set_new(ctx, "decided", json_true());
	}
	return page(r, status, "interact/thread_new", ctx);
}

static int thread_new_get(struct req *r)
{
	return thread_new_render(r, 200, NULL, NULL, NULL);
}

/* A new consultation or complaint (ctx: what was typed, for the form again). */
static int thread_sent(struct req *r, int rc, int64_t id, const void *ctx)
{
	if (unavailable(rc))
		return rc;
	if (rc)
		return thread_new_render(r, status_of(rc), ctx, error_text(r, rc), NULL);
	return resp_redirect(r, 303, arena_printf(r->arena, "%s/%lld?done=sent", base_of(r), (long long)id));
}

static int thread_new_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	const char *pub = field(&f, "public");
	const char *k = req_cookie(r, "kiosk");
	struct ia_thread_in in = { .kind = field(&f, "kind"), .department = field(&f, "department"),
				   .item_code = field(&f, "item_code"), .subject = field(&f, "subject"), .text = field(&f, "text"),
				   .consent_public = pub && !strcmp(pub, "1"), .channel = k && !strcmp(k, "1") ? "kiosk" : "web" };
	struct ia_thread_in *typed = arena_zalloc(r->arena, sizeof(*typed));
	*typed = in;
	/* A complaint not yet decided on: similar open reports are offered first (dupes.c); a form
	 * with a problem goes on to the filing, which names it. */
	const char *decided = field(&f, "decided");
	json_t *cands = NULL;
	if (!is_consult(r) && !(decided && !strcmp(decided, "1"))) {
		struct ia_thread_in probe = in;
		if (!ia_complaint_candidates(r, &probe, &cands) && json_array_size(cands) > 0)
			return thread_new_render(r, 200, typed, NULL, cands);
		json_decref(cands);
		r->error_detail = NULL;
	}
	return is_consult(r) ? ia_consult_create(r, &in, thread_sent, typed) : ia_complaint_create(r, &in, thread_sent, typed);
}

/* The forwarding form's halls (the directory's others, the suggested one first and chosen)
 * and the suggestion in words. */
static void forward_ctx(struct req *r, json_t *j, json_t *ctx)
{
	const char **ids, **names;
	size_t n = fed_halls(r->arena, &ids, &names);
	json_t *sug = json_object_get(j, "forward_suggested");
	const char *pick = json_string_value(json_object_get(sug, "hall"));
	json_t *halls = json_array();
	for (size_t i = 0; i < n; i++) {
		bool chosen = pick && !strcmp(pick, ids[i]);
		json_t *h = json_pack("{s:s,s:s,s:b}", "id", ids[i], "name", names[i], "selected", chosen);
		if (chosen)
			json_array_insert_new(halls, 0, h);
		else
			json_array_append_new(halls, h);
	}
	json_object_set_new(ctx, "forward_halls", halls);
	json_object_set_new(ctx, "can_forward", json_boolean(n > 0));
	if (sug)
		ia_set(ctx, "forward_suggested_text",
		       MF(r, "interact_forward_suggested", MA("hall", json_string_value(json_object_get(sug, "hall_name")))));
}

static int thread_render(struct req *r, int status, const char *error)
{
	json_t *j;
	int64_t id = ia_param_id(r);
	int rc = is_consult(r) ? ia_consult_json(r, id, &j) : ia_complaint_json(r, id, &j);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, json_string_value(json_object_get(j, "subject")));
	thread_ctx(r, ctx);
	json_object_set_new(ctx, "x", j);
	json_object_set(ctx, "can_answer", json_object_get(j, "can_answer"));
	json_object_set(ctx, "can_publish", json_object_get(j, "can_publish"));
	json_object_set(ctx, "can_rate", json_object_get(j, "can_rate"));
	json_object_set(ctx, "can_merge", json_object_get(j, "can_merge"));
	json_object_set_new(ctx, "has_merged_from", json_boolean(json_array_size(json_object_get(j, "merged_from")) > 0));
	const char *answer = json_string_value(json_object_get(j, "answer"));
	if (answer) /* its addresses as links (view/linkify.h) */
		json_object_set_new(ctx, "answer_text", json_pack("{s:o}", "runs", view_linkify(answer, strlen(answer))));
	if (json_object_get(j, "evaluation"))
		ia_set(ctx, "evaluation_href",
		       arena_printf(r->arena, "/evaluations/%lld", (long long)json_integer_value(json_object_get(j, "evaluation"))));
	ia_set(ctx, "rate_href", arena_printf(r->arena, "/evaluate/%s/%lld", is_consult(r) ? "consultation" : "complaint", (long long)id));
	if (json_is_true(json_object_get(j, "can_forward")))
		forward_ctx(r, j, ctx);
	ia_set(ctx, "notice", done_notice(r));
	ia_set(ctx, "error", error);
	return page(r, status, "interact/thread", ctx);
}

static int thread_page(struct req *r)
{
	return thread_render(r, 200, NULL);
}

/* A change of the consultation or complaint of the page (ctx: the ?done= word). */
static int thread_changed(struct req *r, int rc, int64_t id, const void *ctx)
{
	if (rc == GH_ENOTFOUND || unavailable(rc))
		return rc;
	if (rc)
		return thread_render(r, status_of(rc), error_text(r, rc));
	return resp_redirect(r, 303, arena_printf(r->arena, "%s/%lld?done=%s", base_of(r), (long long)id, (const char *)ctx));
}

static int answer_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	int64_t id = ia_param_id(r);
	const char *pub = field(&f, "publish");
	if (is_consult(r))
		return ia_consult_answer(r, id, field(&f, "answer"), pub && !strcmp(pub, "1"), field(&f, "public_question"),
					 field(&f, "public_answer"), thread_changed, "answered");
	return ia_complaint_answer(r, id, field(&f, "answer"), thread_changed, "answered");
}

/* Staff forward the thread of the page to the hall it belongs to (forward.c). */
static int forward_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	const char *item = field(&f, "item_code");
	return ia_forward(r, is_consult(r) ? "consultation" : "complaint", ia_param_id(r), field(&f, "hall"),
			  field(&f, "reason"), item && *item ? item : NULL, thread_changed, "forwarded");
}

/* "This is my problem too" (the offer before filing, or the report's page). */
static int follow_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	/* the report being written, which the offer carried along */
	struct ia_thread_in in = { .kind = field(&f, "kind"), .department = field(&f, "department"),
				   .item_code = field(&f, "item_code"), .subject = field(&f, "subject"), .text = field(&f, "text") };
	return ia_complaint_follow(r, ia_param_id(r), &in, thread_changed, "followed");
}

/* Staff merge the report of the page into another one of their department. */
static int merge_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	long into = 0;
	const char *v = field(&f, "into");
	if (!v || str_to_long(str_c(v), 1, 1L << 53, &into))
		into = 0;
	return ia_complaint_merge(r, ia_param_id(r), into, thread_changed, "merged");
}

static int publish_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	const char *pub = field(&f, "publish");
	return ia_consult_publish(r, ia_param_id(r), pub && !strcmp(pub, "1"), field(&f, "public_question"),
				  field(&f, "public_answer"), thread_changed, "published");
}

const struct route interact_page_routes[] = {
	{ HTTP_GET, "/evaluations", evaluations_page, APPLICANTS, 0, "interact.evaluations" },
	{ HTTP_GET, "/evaluate/{kind}/{ref}", rate_get, APPLICANTS, 0, "interact.rate" },
	{ HTTP_POST, "/evaluate/{kind}/{ref}", rate_post, APPLICANTS, ROUTE_CSRF, "interact.rate_post" },
	{ HTTP_GET, "/evaluations/{id}", evaluation_page, VIEWERS, 0, "interact.evaluation" },
	{ HTTP_POST, "/evaluations/{id}/rectification/{step}", rect_post, APPLICANTS | ROLE_STAFF, ROUTE_CSRF, "interact.rect_post" },
	{ HTTP_POST, "/evaluations/{id}/appeal", appeal_post, ROLE_STAFF, ROUTE_CSRF, "interact.appeal_post" },
	{ HTTP_GET, "/staff/rectifications", rectifications_page, ROLE_STAFF | ROLE_ADMIN, 0, "interact.rectifications" },
	{ HTTP_GET, "/admin/appeals", appeals_page, ROLE_ADMIN, 0, "interact.appeals" },
	{ HTTP_POST, "/admin/appeals/{id}", decide_post, ROLE_ADMIN, ROUTE_CSRF, "interact.decide_post" },
	{ HTTP_GET, "/consultations", my_threads_page, APPLICANTS, 0, "interact.consultations" },
	{ HTTP_GET, "/consultations/new", thread_new_get, APPLICANTS, 0, "interact.consult_new" },
	{ HTTP_POST, "/consultations/new", thread_new_post, APPLICANTS, ROUTE_CSRF, "interact.consult_new_post" },
	{ HTTP_GET, "/consultations/{id}", thread_page, VIEWERS, 0, "interact.consultation" },
	{ HTTP_POST, "/consultations/{id}/answer", answer_post, ROLE_STAFF, ROUTE_CSRF, "interact.consult_answer" },
	{ HTTP_POST, "/consultations/{id}/publish", publish_post, ROLE_STAFF, ROUTE_CSRF, "interact.consult_publish" },
	{ HTTP_POST, "/consultations/{id}/forward", forward_post, ROLE_STAFF, ROUTE_CSRF, "interact.consult_forward" },
	{ HTTP_GET, "/staff/consultations", staff_threads_page, ROLE_STAFF | ROLE_ADMIN, 0, "interact.staff_consultations" },
	{ HTTP_GET, "/complaints", my_threads_page, APPLICANTS, 0, "interact.complaints" },
	{ HTTP_GET, "/complaints/new", thread_new_get, APPLICANTS, 0, "interact.complaint_new" },
	{ HTTP_POST, "/complaints/new", thread_new_post, APPLICANTS, ROUTE_CSRF, "interact.complaint_new_post" },
	{ HTTP_GET, "/complaints/{id}", thread_page, VIEWERS, 0, "interact.complaint" },
	{ HTTP_POST, "/complaints/{id}/answer", answer_post, ROLE_STAFF | ROLE_ADMIN, ROUTE_CSRF, "interact.complaint_answer" },
	{ HTTP_POST, "/complaints/{id}/follow", follow_post, APPLICANTS, ROUTE_CSRF, "interact.complaint_follow" },
	{ HTTP_POST, "/complaints/{id}/merge", merge_post, ROLE_STAFF, ROUTE_CSRF, "interact.complaint_merge" },
	{ HTTP_POST, "/complaints/{id}/forward", forward_post, ROLE_STAFF | ROLE_ADMIN, ROUTE_CSRF, "interact.complaint_forward" },
	{ HTTP_GET, "/staff/complaints", staff_threads_page, ROLE_STAFF | ROLE_ADMIN, 0, "interact.staff_complaints" },
};
const size_t interact_page_routes_n = ARRAY_LEN(interact_page_routes);

int interact_add_routes(struct router *rt)
{
	return router_add(rt, interact_api_routes, interact_api_routes_n) ||
	       router_add(rt, interact_page_routes, interact_page_routes_n);
}
