/* rectify.c: the rectification of bad reviews (差评整改) and appeals against reviews.
 *
 * A task moves open -> visited (return visit recorded: when, how, notes) -> rectified (what
 * was put right) -> awaiting_rating (feedback sent to the citizen's inbox) -> closed (the
 * citizen rated the rectification 满意, 基本满意 or 不满意). Each step is an UPDATE guarded by
 * the state it starts from, so two clerks cannot record the same step twice; each writes an
 * interact_events row in the same transaction. The deadline (rectify-days working days from
 * the bad review) is stored; duties.c warns the department heads once when it has passed and
 * the department's part (up to the feedback) is not done.
 *
 * A department head may appeal a review of the department as mistaken or malicious, once; an
 * administrator decides. Upheld: the review is excluded from the figures and an unfinished
 * task is cancelled. Rejected: everything stays. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/util.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/cover.h"
#include "store/db.h"
#include "http/msg.h"

DB_SQL(q_rect_get, "SELECT id, evaluation_id, department, state, due_day, COALESCE(visit_at, 0), visit_method, "
		   "visit_notes, rectify_notes, COALESCE(rectified_at, 0), feedback, COALESCE(feedback_at, 0), "
		   "COALESCE(citizen_level, 0), COALESCE(citizen_rated_at, 0), created_at "
		   "FROM rectifications WHERE evaluation_id = ?");
DB_SQL(q_rect_visit, "UPDATE rectifications SET state = 'visited', visit_at = ?, visit_method = ?, visit_notes = ?, "
		     "visited_by = ?, updated_at = ? WHERE id = ? AND state = 'open'");
DB_SQL(q_rect_fix, "UPDATE rectifications SET state = 'rectified', rectify_notes = ?, rectified_at = ?, "
		   "rectified_by = ?, updated_at = ? WHERE id = ? AND state = 'visited'");
DB_SQL(q_rect_feedback, "UPDATE rectifications SET state = 'awaiting_rating', feedback = ?, feedback_at = ?, "
			"feedback_by = ?, updated_at = ? WHERE id = ? AND state = 'rectified'");
DB_SQL(q_rect_rate, "UPDATE rectifications SET state = 'closed', citizen_level = ?, citizen_rated_at = ?, "
		    "updated_at = ? WHERE id = ? AND state = 'awaiting_rating'");
DB_SQL(q_rect_cancel, "UPDATE rectifications SET state = 'cancelled', updated_at = ? WHERE evaluation_id = ? "
		      "AND state NOT IN ('closed', 'cancelled')");

int ia_rect_get(struct db *db, struct arena *a, int64_t evaluation_id, struct ia_rect *t)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_rect_get, DB_ARGS(DB_INT(evaluation_id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	memset(t, 0, sizeof(*t));
	t->id = db_cell_int(&rows, 0, 0);
	t->evaluation_id = db_cell_int(&rows, 0, 1);
	t->department = db_cell(&rows, 0, 2);
	t->state = db_cell(&rows, 0, 3);
	t->due_day = (int32_t)db_cell_int(&rows, 0, 4);
	t->visit_at = db_cell_int(&rows, 0, 5);
	t->visit_method = db_cell(&rows, 0, 6);
	t->visit_notes = db_cell(&rows, 0, 7);
	t->rectify_notes = db_cell(&rows, 0, 8);
	t->rectified_at = db_cell_int(&rows, 0, 9);
	t->feedback = db_cell(&rows, 0, 10);
	t->feedback_at = db_cell_int(&rows, 0, 11);
	t->citizen_level = (int)db_cell_int(&rows, 0, 12);
	t->citizen_rated_at = db_cell_int(&rows, 0, 13);
	t->created_at = db_cell_int(&rows, 0, 14);
	return 0;
}

static const char *method_name(const struct req *r, const char *m)
{
	if (!m)
		return NULL;
	if (!strcmp(m, "phone"))
		return M(r, "interact_telephone");
	if (!strcmp(m, "visit"))
		return M(r, "interact_person");
	if (!strcmp(m, "sms"))
		return M(r, "interact_text_message");
	if (!strcmp(m, "online"))
		return M(r, "interact_online");
	return m;
}

json_t *ia_rect_json(struct req *r, const struct ia_rect *t)
{
	char key[64];
	snprintf(key, sizeof(key), "interact_rect_state_%s", t->state);
	int32_t today = ia_today();
	bool dept_done = !strcmp(t->state, "awaiting_rating") || !strcmp(t->state, "closed") || !strcmp(t->state, "cancelled");
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)t->id, "department", t->department, "state",
			      t->state, "state_name", ia_msg(r, key, t->state), "due_day", ia_day_str(r->arena, t->due_day),
			      "overdue", !dept_done && t->due_day < today);
	if (t->visit_at)
		json_object_set_new(j, "visit", json_pack("{s:s?,s:s,s:s?,s:s?}", "at", ia_when(r->arena, t->visit_at), "method",
							  t->visit_method, "method_name", method_name(r, t->visit_method),
							  "notes", t->visit_notes));
	if (t->rectified_at)
		json_object_set_new(j, "rectification", json_pack("{s:s?,s:s?}", "at", ia_when(r->arena, t->rectified_at),
								  "notes", t->rectify_notes));
	if (t->feedback_at)
		json_object_set_new(j, "feedback", json_pack("{s:s?,s:s?}", "at", ia_when(r->arena, t->feedback_at), "text",
							     t->feedback));
	if (t->citizen_level)
		json_object_set_new(j, "citizen_rating", json_pack("{s:i,s:s,s:s?}", "level", t->citizen_level, "name",
								   M(r, ia_rect_level_key(t->citizen_level)), "at",
								   ia_when(r->arena, t->citizen_rated_at)));
	return j;
}

static int wrong_order(struct req *r, const struct ia_rect *t)
{
	if (!strcmp(t->state, "cancelled"))
		req_error_detail(r, "%s", M(r, "interact_appeal_upheld_task_cancelled"));
	else if (!strcmp(t->state, "closed"))
		req_error_detail(r, "%s", M(r, "interact_task_finished"));
	else
		req_error_detail(r, "%s", M(r, "interact_record_return_visit_rectification_feedback"));
	return GH_ECONFLICT;
}

struct step_args {
	struct ia_write x;
	const char *step, *method, *notes;
	int64_t when;
	int level;
};

/* On the writer (r is its copy of the request): one step of the task of evaluation x->id. */
static int step_write(struct req *r, struct ia_write *x)
{
	const struct step_args *a = (const struct step_args *)x;
	int64_t evaluation_id = x->id, when = a->when;
	const char *step = a->step, *method = a->method, *notes = a->notes;
	int level = a->level;
	struct ia_eval e;
	struct ia_rect t;
	int rc = ia_eval_load_visible(r, evaluation_id, &e);
	if (rc)
		return rc;
	if ((rc = ia_rect_get(r->db, r->arena, evaluation_id, &t))) {
		if (rc == GH_ENOTFOUND)
			req_error_detail(r, "%s", M(r, "interact_evaluation_rectification_task"));
		return rc;
	}
	int64_t now = clock_now(), changes = 0;
	bool rate = !strcmp(step, "rate");
	if (rate) {
		if (!identity_owns(r, e.rater_id, e.enterprise_id)) {
			req_error_detail(r, "%s", M(r, "interact_only_person_who_wrote_review"));
			return GH_EFORBIDDEN;
		}
		if (level < 1 || level > 3) {
			req_error_detail(r, "%s", M(r, "interact_choose_satisfied_fairly_satisfied_dissatisfied"));
			return GH_EVALIDATION;
		}
		if (strcmp(t.state, "awaiting_rating") != 0) {
			if (strcmp(t.state, "closed") && strcmp(t.state, "cancelled")) {
				req_error_detail(r, "%s", M(r, "interact_rectification_rated_once_department_given"));
				return GH_ECONFLICT;
			}
			return wrong_order(r, &t);
		}
	} else {
		if (!ia_is_staff_of(r, e.department)) {
			req_error_detail(r, "%s", M(r, "interact_only_staff_department_handled_case"));
			return GH_EFORBIDDEN;
		}
		/* The clerk who entered the review on a counter rating device does not also put it
		 * right: the review would be judged by the one who recorded it. */
		if (e.entered_by && e.entered_by == r->who.account) {
			req_error_detail(r, "%s", M(r, "interact_entered_review_counter_another_member"));
			return GH_EFORBIDDEN;
		}
		if (!ia_text_ok(notes, INTERACT_NOTES_MAX, true)) {
			req_error_detail(r, "%s", M(r, "interact_write_notes_most_2000_characters"));
			return GH_EVALIDATION;
		}
		if (!strcmp(step, "visit")) {
			if (!method || (strcmp(method, "phone") && strcmp(method, "visit") && strcmp(method, "sms") && strcmp(method, "online"))) {
				req_error_detail(r, "%s", M(r, "interact_choose_how_visit_made_phone"));
				return GH_EVALIDATION;
			}
			if (!when)
				when = now;
			if (when > now + 300 || when < t.created_at - 300) {
				req_error_detail(r, "%s", M(r, "interact_visit_must_lie_between_review"));
				return GH_EVALIDATION;
			}
		} else if (strcmp(step, "rectify") && strcmp(step, "feedback")) {
			return GH_ENOTFOUND;
		}
	}
	json_t *detail = NULL;
	if (!strcmp(step, "visit")) {
		rc = db_exec(r->db, &q_rect_visit,
			     DB_ARGS(DB_INT(when), DB_TEXT(method), DB_TEXT(notes), DB_INT(r->who.account), DB_INT(now), DB_INT(t.id)),
			     &changes);
		detail = json_pack("{s:s,s:I}", "method", method, "at", (json_int_t)when);
	} else if (!strcmp(step, "rectify")) {
		rc = db_exec(r->db, &q_rect_fix, DB_ARGS(DB_TEXT(notes), DB_INT(now), DB_INT(r->who.account), DB_INT(now), DB_INT(t.id)),
			     &changes);
	} else if (!strcmp(step, "feedback")) {
		rc = db_exec(r->db, &q_rect_feedback,
			     DB_ARGS(DB_TEXT(notes), DB_INT(now), DB_INT(r->who.account), DB_INT(now), DB_INT(t.id)), &changes);
		if (!rc && changes == 1)
			rc = notify_message(
				r->db, r->arena, e.enterprise_id ? e.enterprise_id : e.rater_id, 0, "rectify_feedback",
				IA_WORD(r, "zh", N_("interact_rect_feedback_title")), IA_WORD(r, "en", N_("interact_rect_feedback_title")),
				IA_ZH(r, N_("interact_rect_feedback_body"), MA("notes", notes), MA("id", (long long)e.id)),
				IA_EN(r, N_("interact_rect_feedback_body"), MA("notes", notes), MA("id", (long long)e.id)));
	} else {
		rc = db_exec(r->db, &q_rect_rate, DB_ARGS(DB_INT(level), DB_INT(now), DB_INT(now), DB_INT(t.id)), &changes);
		detail = json_pack("{s:i}", "level", level);
		if (!rc && changes == 1)
			rc = interact_figures_rectification(r->db, r->arena, e.department, e.item_code, ia_today(), level >= 2);
	}
	if (!rc && changes != 1)
		rc = wrong_order(r, &t);
	if (rc) {
		json_decref(detail);
		return rc;
	}
	return ia_event(r->db, "rectification", t.id, r->who.account, step, detail);
}

int ia_rect_step(struct req *r, int64_t evaluation_id, const char *step, const char *method, const char *notes,
		 int64_t when, int level, ia_answer answer, const void *ctx)
{
	struct step_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = evaluation_id;
	a->step = step;
	a->method = method;
	a->notes = notes;
	a->when = when;
	a->level = level;
	return ia_write(r, &a->x, step_write);
}

DB_SQL(q_rect_list, "SELECT t.evaluation_id, t.state, t.due_day, e.level, e.subject_kind, e.subject_ref, e.created_at, "
		    "s.name_zh, s.name_en, t.department FROM rectifications t JOIN evaluations e ON e.id = t.evaluation_id "
		    "LEFT JOIN service_items s ON s.code = e.item_code AND s.is_current = 1 "
		    "WHERE (? = '' OR t.department = ?) AND ((? = '' AND t.state NOT IN ('closed', 'cancelled')) OR t.state = ?) "
		    "ORDER BY t.due_day, t.id LIMIT 200");

int ia_rect_list(struct req *r, const char *department, const char *state, json_t **out)
{
	static const char *const states[] = { "open", "visited", "rectified", "awaiting_rating", "closed", "cancelled", NULL };
	const char *st = state && *state ? state : "";
	if (*st) {
		size_t i = 0;
		while (states[i] && strcmp(states[i], st))
			i++;
		if (!states[i]) {
			req_error_detail(r, "%s", M(r, "interact_state_open_visited_rectified_awaiting"));
			return GH_EINVAL;
		}
	}
	const char *dept = department ? department : "";
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_rect_list, DB_ARGS(DB_TEXT(dept), DB_TEXT(dept), DB_TEXT(st), DB_TEXT(st)), &rows);
	if (rc)
		return rc;
	json_t *arr = json_array();
	int32_t today = ia_today();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *s = db_cell(&rows, i, 1);
		char key[64];
		snprintf(key, sizeof(key), "interact_rect_state_%s", s);
		int32_t due = (int32_t)db_cell_int(&rows, i, 2);
		int level = (int)db_cell_int(&rows, i, 3);
		bool dept_done = !strcmp(s, "awaiting_rating") || !strcmp(s, "closed") || !strcmp(s, "cancelled");
		const char *item = ia_en(r) && db_cell(&rows, i, 8) ? db_cell(&rows, i, 8) : db_cell(&rows, i, 7);
		json_array_append_new(
			arr, json_pack("{s:I,s:s,s:s,s:s,s:b,s:i,s:s,s:s,s:s,s:s?,s:s?,s:s,s:s}", "evaluation", (json_int_t)db_cell_int(&rows, i, 0),
				       "state", s, "state_name", ia_msg(r, key, s), "due_day", ia_day_str(r->arena, due), "overdue",
				       !dept_done && due < today, "level", level, "level_name", M(r, ia_level_key(level)),
				       "subject", db_cell(&rows, i, 4), "ref", db_cell(&rows, i, 5), "created",
				       ia_when(r->arena, db_cell_int(&rows, i, 6)), "item_name", item, "department", db_cell(&rows, i, 9),
				       "href", arena_printf(r->arena, "/evaluations/%s", db_cell(&rows, i, 0))));
	}
	*out = arr;
	return 0;
}

/* ---- appeals ---------------------------------------------------------------------------- */

DB_SQL(q_appeal_add, "INSERT INTO appeals (evaluation_id, department, reason, filed_by, filed_at, state) "
		     "VALUES (?, ?, ?, ?, ?, 'pending') RETURNING id");
DB_SQL(q_appeal_get, "SELECT evaluation_id, state, filed_by FROM appeals WHERE id = ?");
DB_SQL(q_appeal_decide, "UPDATE appeals SET state = ?, decided_by = ?, decided_at = ?, decision_note = ? "
			"WHERE id = ? AND state = 'pending'");
DB_SQL(q_eval_exclude, "UPDATE evaluations SET excluded = 1 WHERE id = ?");
DB_SQL(q_appeal_list, "SELECT p.id, p.evaluation_id, p.department, p.reason, p.filed_at, p.state, p.decision_note, "
		      "e.level, e.comment, d.name_zh, d.name_en, a.name FROM appeals p "
		      "JOIN evaluations e ON e.id = p.evaluation_id LEFT JOIN departments d ON d.code = p.department "
		      "LEFT JOIN accounts a ON a.id = p.filed_by WHERE (? = '' OR p.state = ?) ORDER BY p.id DESC LIMIT 200");

struct appeal_args {
	struct ia_write x;
	const char *reason;
};

/* On the writer (r is its copy of the request): the appeal against evaluation x->id. */
static int appeal_write(struct req *r, struct ia_write *x)
{
	const char *reason = ((const struct appeal_args *)x)->reason;
	struct ia_eval e;
	int rc = ia_eval_load_visible(r, x->id, &e);
	if (rc)
		return rc;
	if (!ia_is_head_of(r, e.department)) {
		req_error_detail(r, "%s", M(r, "interact_only_head_department_appeal"));
		return GH_EFORBIDDEN;
	}
	if (!e.bad) {
		req_error_detail(r, "%s", M(r, "interact_only_bad_reviews_appealed"));
		return GH_ECONFLICT;
	}
	if (!ia_text_ok(reason, INTERACT_NOTES_MAX, true)) {
		req_error_detail(r, "%s", M(r, "interact_give_reason_appeal_most_2000"));
		return GH_EVALIDATION;
	}
	struct db_rows rows;
	int64_t now = clock_now();
	rc = db_query(r->db, r->arena, &q_appeal_add,
		      DB_ARGS(DB_INT(e.id), DB_TEXT(e.department), DB_TEXT(reason), DB_INT(r->who.account), DB_INT(now)), &rows);
	if (rc == GH_ECONFLICT)
		req_error_detail(r, "%s", M(r, "interact_review_been_appealed_already"));
	int64_t id = rc ? 0 : db_cell_int(&rows, 0, 0);
	if (!rc)
		rc = ia_event(r->db, "evaluation", e.id, r->who.account, "appeal", json_pack("{s:I}", "appeal", (json_int_t)id));
	if (!rc)
		rc = ia_event(r->db, "appeal", id, r->who.account, "file", json_pack("{s:s}", "reason", reason));
	if (!rc) {
		struct ia_message m = ia_message(r->app->view, r->arena, N_("interact_appeal_filed_title"),
						 N_("interact_appeal_filed_body"), NULL, 0);
		rc = ia_tell_admins(r->db, r->arena, "appeal_filed", &m, NULL);
	}
	return rc;
}

int ia_appeal_file(struct req *r, int64_t evaluation_id, const char *reason, ia_answer answer, const void *ctx)
{
	struct appeal_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = evaluation_id;
	a->reason = reason;
	return ia_write(r, &a->x, appeal_write);
}

struct decide_args {
	struct ia_write x;
	const char *decision, *note;
};

/* On the writer (r is its copy of the request): the decision on appeal x->id. */
static int decide_write(struct req *r, struct ia_write *x)
{
	const struct decide_args *a = (const struct decide_args *)x;
	const char *decision = a->decision, *note = a->note;
	int64_t appeal_id = x->id;
	if (r->role != ROLE_ADMIN)
		return GH_EFORBIDDEN;
	bool upheld = decision && !strcmp(decision, "upheld");
	if (!decision || (!upheld && strcmp(decision, "rejected"))) {
		req_error_detail(r, "%s", M(r, "interact_decide_upheld_rejected"));
		return GH_EVALIDATION;
	}
	if (!ia_text_ok(note, INTERACT_NOTES_MAX, false)) {
		req_error_detail(r, "%s", M(r, "interact_note_most_2000_characters"));
		return GH_EVALIDATION;
	}
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_appeal_get, DB_ARGS(DB_INT(appeal_id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0) {
		req_error_detail(r, "%s", M(r, "interact_such_appeal"));
		return GH_ENOTFOUND;
	}
	/* No one decides their own appeal (administrators file none today; should that change,
	 * another administrator decides). */
	if (db_cell_int(&rows, 0, 2) == r->who.account) {
		req_error_detail(r, "%s", M(r, "interact_filed_appeal_another_administrator_decides"));
		return GH_EFORBIDDEN;
	}
	struct ia_eval e;
	if ((rc = ia_eval_get(r->db, r->arena, db_cell_int(&rows, 0, 0), &e)))
		return rc;
	int64_t now = clock_now(), changes = 0;
	rc = db_exec(r->db, &q_appeal_decide,
		     DB_ARGS(DB_TEXT(upheld ? "upheld" : "rejected"), DB_INT(r->who.account), DB_INT(now), DB_TEXT(note ? note : ""),
			     DB_INT(appeal_id)),
		     &changes);
	if (!rc && changes != 1) {
		req_error_detail(r, "%s", M(r, "interact_appeal_been_decided_already"));
		return GH_ECONFLICT;
	}
	if (!rc && upheld)
		rc = db_exec(r->db, &q_eval_exclude, DB_ARGS(DB_INT(e.id)), NULL);
	if (!rc && upheld)
		rc = db_exec(r->db, &q_rect_cancel, DB_ARGS(DB_INT(now), DB_INT(e.id)), NULL);
	struct ia_rect task;
	if (!rc && upheld && ia_rect_get(r->db, r->arena, e.id, &task) == 0)
		rc = cover_touch_id(r->db, "rectifications", task.id, "rectification.cancel");
	if (!rc && upheld) {
		e.excluded = true;
		rc = interact_figures_evaluation(r->db, r->arena, &e, true);
	}
	const char *action = upheld ? "appeal_upheld" : "appeal_rejected";
	if (!rc)
		rc = ia_event(r->db, "evaluation", e.id, r->who.account, action, json_pack("{s:s}", "note", note ? note : ""));
	if (!rc)
		rc = ia_event(r->db, "appeal", appeal_id, r->who.account, upheld ? "upheld" : "rejected",
			      json_pack("{s:s}", "note", note ? note : ""));
	if (!rc)
		rc = interact_ledger(r->db, r->arena, "evaluation_appeal",
				     json_pack("{s:I,s:I,s:s,s:s}", "appeal", (json_int_t)appeal_id, "evaluation", (json_int_t)e.id,
					       "decision", upheld ? "upheld" : "rejected", "day", ia_day_str(r->arena, ia_today())));
	if (!rc) {
		struct ia_message m = IA_MESSAGE(r->app->view, r->arena, N_("interact_appeal_decided_title"),
						 upheld ? N_("interact_appeal_upheld_body") : N_("interact_appeal_rejected_body"),
						 MA("id", (long long)e.id));
		rc = ia_tell_department(r->db, r->arena, e.department, true, "appeal_decided", &m, NULL);
	}
	return rc;
}

int ia_appeal_decide(struct req *r, int64_t appeal_id, const char *decision, const char *note, ia_answer answer,
		     const void *ctx)
{
	struct decide_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = appeal_id;
	a->decision = decision;
	a->note = note;
	return ia_write(r, &a->x, decide_write);
}

int ia_appeal_list(struct req *r, const char *state, json_t **out)
{
	const char *st = state && *state ? state : "";
	if (*st && strcmp(st, "pending") && strcmp(st, "upheld") && strcmp(st, "rejected")) {
		req_error_detail(r, "%s", M(r, "interact_state_pending_upheld_rejected"));
		return GH_EINVAL;
	}
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_appeal_list, DB_ARGS(DB_TEXT(st), DB_TEXT(st)), &rows);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *s = db_cell(&rows, i, 5);
		char key[64];
		snprintf(key, sizeof(key), "interact_appeal_%s", s);
		int level = (int)db_cell_int(&rows, i, 7);
		const char *dn = ia_en(r) && db_cell(&rows, i, 10) ? db_cell(&rows, i, 10) : db_cell(&rows, i, 9);
		json_array_append_new(
			arr, json_pack("{s:I,s:I,s:s,s:s?,s:s,s:s?,s:s,s:s,s:b,s:s?,s:i,s:s,s:s?,s:s?,s:s}", "id",
				       (json_int_t)db_cell_int(&rows, i, 0), "evaluation", (json_int_t)db_cell_int(&rows, i, 1),
				       "department", db_cell(&rows, i, 2), "department_name", dn, "reason", db_cell(&rows, i, 3),
				       "filed", ia_when(r->arena, db_cell_int(&rows, i, 4)), "state", s, "state_name",
				       ia_msg(r, key, s), "pending", !strcmp(s, "pending"), "note", db_cell(&rows, i, 6), "level", level,
				       "level_name", M(r, ia_level_key(level)), "comment", db_cell(&rows, i, 8), "filed_by",
				       db_cell(&rows, i, 11), "href", arena_printf(r->arena, "/evaluations/%s", db_cell(&rows, i, 1))));
	}
	*out = arr;
	return 0;
}
