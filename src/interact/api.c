/* api.c: the JSON API of evaluations, rectifications, appeals, consultations and complaints
 * (bearer tokens; see docs/api.md). Every decision is made by the functions of
 * interact_impl.h, shared with the pages. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/server.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/db.h"
#include "http/msg.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define VIEWERS (APPLICANTS | ROLE_STAFF | ROLE_ADMIN)

/* The request body as a JSON object (owned by the arena) and its text. */
static int body_object(struct req *r, json_t **out, const char **text, size_t *len)
{
	int rc = req_body_object(r, out);
	if (!rc && (text || len)) {
		size_t n;
		const char *body = req_body(r, &n); /* the copy req_body_object read */
		if (text)
			*text = body;
		if (len)
			*len = n;
	}
	return rc;
}

/* A string member (NULL when absent); GH_EINVAL when present but not a string. */
static int member_str(struct req *r, json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		req_error_detail(r, "%s", MF(r, "interact_must_be_string", MA("key", key)));
		return GH_EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int member_bool(struct req *r, json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);
	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		req_error_detail(r, "%s", MF(r, "interact_must_be_boolean", MA("key", key)));
		return GH_EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

static int error_why(struct req *r, int rc, const char *why)
{
	if (why)
		req_error_detail(r, "%s", M(r, why));
	return rc;
}

/* ---- evaluations ------------------------------------------------------------------------ */

static int api_tags(struct req *r)
{
	json_t *levels = json_array(), *tags = json_array();
	for (int l = 5; l >= 1; l--)
		json_array_append_new(levels, json_pack("{s:i,s:s,s:s,s:b}", "level", l, "name", M(r, ia_level_key(l)), "name_zh",
							view_msg(r->app->view, "zh", ia_level_key(l)), "bad", l <= 2));
	static const char *const groups[] = { "", "bad", "fair", "good" };
	for (size_t i = 0; i < ia_tags_n; i++)
		json_array_append_new(tags, json_pack("{s:s,s:s,s:s,s:s}", "code", ia_tags[i].code, "name_zh",
						      view_msg(r->app->view, "zh", arena_printf(r->arena, "interact_tag_%s", ia_tags[i].code)),
						      "name_en",
						      view_msg(r->app->view, "en", arena_printf(r->arena, "interact_tag_%s", ia_tags[i].code)), "group", groups[ia_tags[i].group]));
	return resp_json(r, 200, json_pack("{s:o,s:o,s:{s:[i,i],s:[i],s:[i,i]}}", "levels", levels, "tags", tags, "groups",
					   "good", 5, 4, "fair", 3, "bad", 2, 1));
}

DB_SQL(q_appeal_of, "SELECT id, state, reason, decision_note, filed_at, decided_at FROM appeals WHERE evaluation_id = ?");

json_t *ia_eval_detail_json(struct req *r, const struct ia_eval *e)
{
	json_t *j = ia_eval_json(r, e);
	bool staff = ia_is_staff_of(r, e->department), rater = identity_owns(r, e->rater_id, e->enterprise_id);
	json_t *acts = json_array(), *events = ia_events_json(r, "evaluation", e->id);
	struct ia_rect t;
	if (!ia_rect_get(r->db, r->arena, e->id, &t)) {
		json_object_set_new(j, "rectification", ia_rect_json(r, &t));
		json_t *more = ia_events_json(r, "rectification", t.id);
		json_array_extend(events, more);
		json_decref(more);
		const char *next = !strcmp(t.state, "open") ? "visit" : !strcmp(t.state, "visited") ? "rectify"
								: !strcmp(t.state, "rectified") ? "feedback" : NULL;
		if (staff && next)
			json_array_append_new(acts, json_string(next));
		if (rater && !strcmp(t.state, "awaiting_rating"))
			json_array_append_new(acts, json_string("rate"));
	}
	struct db_rows rows;
	if (!db_query(r->db, r->arena, &q_appeal_of, DB_ARGS(DB_INT(e->id)), &rows) && rows.nrows == 1) {
		if (staff || r->role == ROLE_ADMIN) {
			const char *s = db_cell(&rows, 0, 1);
			char key[64];
			snprintf(key, sizeof(key), "interact_appeal_%s", s);
			json_object_set_new(j, "appeal", json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s?}", "id", (json_int_t)db_cell_int(&rows, 0, 0),
								   "state", s, "state_name", ia_msg(r, key, s), "reason",
								   db_cell(&rows, 0, 2), "note", db_cell(&rows, 0, 3), "filed",
								   ia_when(r->arena, db_cell_int(&rows, 0, 4))));
		}
	} else if (e->bad && ia_is_head_of(r, e->department)) {
		json_array_append_new(acts, json_string("appeal"));
	}
	if (rater || staff || r->role == ROLE_ADMIN)
		json_object_set_new(j, "events", events);
	else
		json_decref(events);
	json_object_set_new(j, "actions", acts);
	return j;
}

/* The evaluation a change made (201) or changed (200), with what the caller may do next. */
static int eval_reply(struct req *r, int rc, int64_t id, int status)
{
	struct ia_eval e;
	if (!rc)
		rc = ia_eval_get(r->db, r->arena, id, &e);
	return rc ? rc : resp_json(r, status, ia_eval_detail_json(r, &e));
}

static int eval_created(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)ctx;
	return eval_reply(r, rc, id, 201);
}

static int eval_changed(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)ctx;
	return eval_reply(r, rc, id, 200);
}

static int api_rate(struct req *r)
{
	json_t *in;
	const char *text, *why = NULL;
	size_t len;
	int rc = body_object(r, &in, &text, &len);
	if (rc)
		return rc;
	const char *subject, *ref = NULL;
	if ((rc = member_str(r, in, "subject", &subject)))
		return rc;
	json_t *rv = json_object_get(in, "ref");
	if (json_is_string(rv))
		ref = json_string_value(rv);
	else if (json_is_integer(rv))
		ref = arena_printf(r->arena, "%lld", (long long)json_integer_value(rv));
	if (!subject)
		subject = "application";
	if ((strcmp(subject, "application") && strcmp(subject, "consultation") && strcmp(subject, "complaint")) || !ref) {
		req_error_detail(r, "%s", M(r, "interact_subject_application_consultation_complaint_ref"));
		return GH_EINVAL;
	}
	struct ia_rating rating;
	if ((rc = ia_rating_parse(r->arena, text, len, &rating, &why)))
		return error_why(r, rc, why);
	return ia_rate(r, subject, ref, &rating, eval_created, NULL);
}

static int api_my_evaluations(struct req *r)
{
	struct ia_eval *v;
	size_t n;
	int rc = ia_evals_mine(r, &v, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, ia_eval_json(r, &v[i]));
	return resp_json(r, 200, json_pack("{s:o,s:o}", "items", arr, "pending", ia_pending_json(r)));
}

static int api_evaluation(struct req *r)
{
	struct ia_eval e;
	int rc = ia_eval_load_visible(r, ia_param_id(r), &e);
	if (rc)
		return rc;
	return resp_json(r, 200, ia_eval_detail_json(r, &e));
}

static int api_rect_step(struct req *r)
{
	json_t *in;
	int rc = body_object(r, &in, NULL, NULL);
	if (rc)
		return rc;
	const char *method, *notes;
	if ((rc = member_str(r, in, "method", &method)) || (rc = member_str(r, in, "notes", &notes)))
		return rc;
	json_t *lv = json_object_get(in, "level"), *at = json_object_get(in, "at");
	if ((lv && !json_is_integer(lv)) || (at && !json_is_integer(at))) {
		req_error_detail(r, "%s", M(r, "interact_level_must_whole_numbers"));
		return GH_EINVAL;
	}
	json_int_t level = lv ? json_integer_value(lv) : 0, when = at ? json_integer_value(at) : 0;
	if (level < 0 || level > 3 || when < 0 || when > (json_int_t)1 << 40) {
		req_error_detail(r, "%s", M(r, "interact_level_1_3_unix_seconds"));
		return GH_EVALIDATION;
	}
	const char *step = req_param(r, "step");
	if (strcmp(step, "visit") && strcmp(step, "rectify") && strcmp(step, "feedback") && strcmp(step, "rate"))
		return GH_ENOTFOUND;
	return ia_rect_step(r, ia_param_id(r), step, method, notes, (int64_t)when, (int)level, eval_changed, NULL);
}

static int api_appeal(struct req *r)
{
	json_t *in;
	const char *reason;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc)
		rc = member_str(r, in, "reason", &reason);
	return rc ? rc : ia_appeal_file(r, ia_param_id(r), reason, eval_created, NULL);
}

static int api_rectifications(struct req *r)
{
	json_t *arr;
	int rc = ia_rect_list(r, r->role == ROLE_STAFF ? r->who.department : NULL, req_query(r, "state"), &arr);
	if (rc)
		return rc;
	return resp_json(r, 200, json_pack("{s:o}", "items", arr));
}

static int api_appeals(struct req *r)
{
	json_t *arr;
	const char *st = req_query(r, "state");
	int rc = ia_appeal_list(r, st ? st : "pending", &arr);
	if (rc)
		return rc;
	return resp_json(r, 200, json_pack("{s:o}", "items", arr));
}

/* The decided appeal as the list shows it. */
static int decided(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)ctx;
	json_t *arr;
	if (rc || (rc = ia_appeal_list(r, "", &arr)))
		return rc;
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) {
		if (json_integer_value(json_object_get(x, "id")) == (json_int_t)id) {
			json_t *one = json_incref(x);
			json_decref(arr);
			return resp_json(r, 200, one);
		}
	}
	return resp_json(r, 200, arr);
}

static int api_decide(struct req *r)
{
	json_t *in;
	const char *decision, *note;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc)
		rc = member_str(r, in, "decision", &decision);
	if (!rc)
		rc = member_str(r, in, "note", &note);
	return rc ? rc : ia_appeal_decide(r, ia_param_id(r), decision, note, decided, NULL);
}

/* ---- consultations and complaints -------------------------------------------------------- */

static int read_thread(struct req *r, json_t *in, struct ia_thread_in *t, const char *text_key)
{
	memset(t, 0, sizeof(*t));
	int rc;
	if ((rc = member_str(r, in, "kind", &t->kind)) || (rc = member_str(r, in, "department", &t->department)) ||
	    (rc = member_str(r, in, "item_code", &t->item_code)) || (rc = member_str(r, in, "subject", &t->subject)) ||
	    (rc = member_str(r, in, text_key, &t->text)) || (rc = member_str(r, in, "channel", &t->channel)) ||
	    (rc = member_bool(r, in, "public", &t->consent_public)))
		return rc;
	return 0;
}

/* The consultation or complaint a change made (201) or changed (200), as the caller sees it. */
static int thread_reply(struct req *r, int rc, int64_t id, int status,
			int (*get)(struct req *r, int64_t id, json_t **out))
{
	json_t *j;
	if (!rc)
		rc = get(r, id, &j);
	return rc ? rc : resp_json(r, status, j);
}

static int consult_created(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)ctx;
	return thread_reply(r, rc, id, 201, ia_consult_json);
}

static int consult_changed(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)ctx;
	return thread_reply(r, rc, id, 200, ia_consult_json);
}

static int complaint_created(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)ctx;
	return thread_reply(r, rc, id, 201, ia_complaint_json);
}

static int complaint_changed(struct req *r, int rc, int64_t id, const void *ctx)
{
	(void)ctx;
	return thread_reply(r, rc, id, 200, ia_complaint_json);
}

static int api_consult_new(struct req *r)
{
	json_t *in;
	struct ia_thread_in t;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc)
		rc = read_thread(r, in, &t, "question");
	return rc ? rc : ia_consult_create(r, &t, consult_created, NULL);
}

static int list_reply(struct req *r, int rc, json_t *arr)
{
	return rc ? rc : resp_json(r, 200, json_pack("{s:o}", "items", arr));
}

static int api_my_consults(struct req *r)
{
	json_t *arr = NULL;
	int rc = ia_consult_list(r, true, req_query(r, "state"), &arr);
	return list_reply(r, rc, arr);
}

static int api_staff_consults(struct req *r)
{
	json_t *arr = NULL;
	int rc = ia_consult_list(r, false, req_query(r, "state"), &arr);
	return list_reply(r, rc, arr);
}

static int api_consult(struct req *r)
{
	json_t *j;
	int rc = ia_consult_json(r, ia_param_id(r), &j);
	return rc ? rc : resp_json(r, 200, j);
}

static int api_consult_answer(struct req *r)
{
	json_t *in;
	const char *answer, *pq, *pa;
	bool publish;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc && !(rc = member_str(r, in, "answer", &answer)) && !(rc = member_str(r, in, "public_question", &pq)) &&
	    !(rc = member_str(r, in, "public_answer", &pa)) && !(rc = member_bool(r, in, "publish", &publish)))
		return ia_consult_answer(r, ia_param_id(r), answer, publish, pq, pa, consult_changed, NULL);
	return rc;
}

static int api_consult_publish(struct req *r)
{
	json_t *in;
	const char *pq, *pa;
	bool publish;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc && !(rc = member_str(r, in, "public_question", &pq)) && !(rc = member_str(r, in, "public_answer", &pa)) &&
	    !(rc = member_bool(r, in, "publish", &publish)))
		return ia_consult_publish(r, ia_param_id(r), publish, pq, pa, consult_changed, NULL);
	return rc;
}

static int api_faq(struct req *r)
{
	const char *code = req_param(r, "code");
	if (!code || strlen(code) > 64)
		return GH_ENOTFOUND;
	json_t *arr = interact_item_faq(r->db, r->arena, code, r->lang, 50);
	if (!arr)
		return GH_EDB;
	return resp_json(r, 200, json_pack("{s:s,s:o}", "item_code", code, "items", arr));
}

static int api_complaint_new(struct req *r)
{
	json_t *in;
	struct ia_thread_in t;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc)
		rc = read_thread(r, in, &t, "body");
	return rc ? rc : ia_complaint_create(r, &t, complaint_created, NULL);
}

static int api_my_complaints(struct req *r)
{
	json_t *arr = NULL;
	int rc = ia_complaint_list(r, true, req_query(r, "state"), &arr);
	return list_reply(r, rc, arr);
}

static int api_staff_complaints(struct req *r)
{
	json_t *arr = NULL;
	int rc = ia_complaint_list(r, false, req_query(r, "state"), &arr);
	return list_reply(r, rc, arr);
}

static int api_complaint(struct req *r)
{
	json_t *j;
	int rc = ia_complaint_json(r, ia_param_id(r), &j);
	return rc ? rc : resp_json(r, 200, j);
}

static int api_complaint_answer(struct req *r)
{
	json_t *in;
	const char *answer;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc && !(rc = member_str(r, in, "answer", &answer)))
		return ia_complaint_answer(r, ia_param_id(r), answer, complaint_changed, NULL);
	return rc;
}

/* POST .../{id}/forward {"hall", "reason", "item_code"}: to the hall it belongs to (forward.c). */
static int api_forward(struct req *r, const char *kind, ia_answer changed)
{
	json_t *in;
	const char *hall, *reason, *item;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc && !(rc = member_str(r, in, "hall", &hall)) && !(rc = member_str(r, in, "reason", &reason)) &&
	    !(rc = member_str(r, in, "item_code", &item)))
		return ia_forward(r, kind, ia_param_id(r), hall, reason, item, changed, NULL);
	return rc;
}

static int api_consult_forward(struct req *r)
{
	return api_forward(r, "consultation", consult_changed);
}

static int api_complaint_forward(struct req *r)
{
	return api_forward(r, "complaint", complaint_changed);
}

/* Open complaints like the one about to be filed (nothing is written). */
static int api_complaint_candidates(struct req *r)
{
	json_t *in, *arr;
	struct ia_thread_in t;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc)
		rc = read_thread(r, in, &t, "body");
	if (!rc)
		rc = ia_complaint_candidates(r, &t, &arr);
	return rc ? rc : resp_json(r, 200, json_pack("{s:o}", "items", arr));
}

/* The body names the report the caller was about to file, as for the candidates. */
static int api_complaint_follow(struct req *r)
{
	json_t *in;
	struct ia_thread_in t;
	int rc = body_object(r, &in, NULL, NULL);
	if (!rc)
		rc = read_thread(r, in, &t, "body");
	return rc ? rc : ia_complaint_follow(r, ia_param_id(r), &t, complaint_changed, NULL);
}

static int api_complaint_merge(struct req *r)
{
	json_t *in;
	int rc = body_object(r, &in, NULL, NULL);
	if (rc)
		return rc;
	json_t *into = json_object_get(in, "into");
	if (!json_is_integer(into) || json_integer_value(into) <= 0) {
		req_error_detail(r, "%s", M(r, "interact_merge_give_number"));
		return GH_EVALIDATION;
	}
	return ia_complaint_merge(r, ia_param_id(r), (int64_t)json_integer_value(into), complaint_changed, NULL);
}

const struct route interact_api_routes[] = {
	{ HTTP_GET, "/api/v1/evaluation-tags", api_tags, ROLE_PUBLIC, 0, "interact.api_tags" },
	{ HTTP_POST, "/api/v1/evaluations", api_rate, APPLICANTS | ROLE_STAFF, 0, "interact.api_rate", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/me/evaluations", api_my_evaluations, APPLICANTS, 0, "interact.api_my_evaluations", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/evaluations/{id}", api_evaluation, VIEWERS, 0, "interact.api_evaluation", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/evaluations/{id}/rectification/{step}", api_rect_step, APPLICANTS | ROLE_STAFF, 0,
	  "interact.api_rect_step", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/evaluations/{id}/appeal", api_appeal, ROLE_STAFF, 0, "interact.api_appeal", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/staff/rectifications", api_rectifications, ROLE_STAFF | ROLE_ADMIN, 0, "interact.api_rectifications",
	  NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/admin/appeals", api_appeals, ROLE_ADMIN, 0, "interact.api_appeals", NULL, SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/appeals/{id}/decision", api_decide, ROLE_ADMIN, 0, "interact.api_decide", NULL, SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/consultations", api_consult_new, APPLICANTS, 0, "interact.api_consult_new", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/me/consultations", api_my_consults, APPLICANTS, 0, "interact.api_my_consults", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/consultations/{id}", api_consult, VIEWERS, 0, "interact.api_consult", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/consultations/{id}/answer", api_consult_answer, ROLE_STAFF, 0, "interact.api_consult_answer", NULL,
	  SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/consultations/{id}/publish", api_consult_publish, ROLE_STAFF, 0, "interact.api_consult_publish",
	  NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/staff/consultations", api_staff_consults, ROLE_STAFF | ROLE_ADMIN, 0, "interact.api_staff_consults",
	  NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/services/{code}/faq", api_faq, ROLE_PUBLIC, 0, "interact.api_faq" },
	{ HTTP_POST, "/api/v1/complaints", api_complaint_new, APPLICANTS, 0, "interact.api_complaint_new", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/me/complaints", api_my_complaints, APPLICANTS, 0, "interact.api_my_complaints", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/complaints/{id}", api_complaint, VIEWERS, 0, "interact.api_complaint", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/complaints/candidates", api_complaint_candidates, APPLICANTS, 0, "interact.api_complaint_candidates",
	  NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/complaints/{id}/follow", api_complaint_follow, APPLICANTS, 0, "interact.api_complaint_follow", NULL,
	  SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/complaints/{id}/merge", api_complaint_merge, ROLE_STAFF, 0, "interact.api_complaint_merge", NULL,
	  SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/complaints/{id}/answer", api_complaint_answer, ROLE_STAFF | ROLE_ADMIN, 0,
	  "interact.api_complaint_answer", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/staff/complaints", api_staff_complaints, ROLE_STAFF | ROLE_ADMIN, 0, "interact.api_staff_complaints",
	  NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/consultations/{id}/forward", api_consult_forward, ROLE_STAFF, 0, "interact.api_consult_forward",
	  NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/complaints/{id}/forward", api_complaint_forward, ROLE_STAFF | ROLE_ADMIN, 0,
	  "interact.api_complaint_forward", NULL, SCOPE_APPLY },
};
const size_t interact_api_routes_n = ARRAY_LEN(interact_api_routes);
