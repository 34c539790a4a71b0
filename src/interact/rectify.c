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

#include "base/err.h"
#include "base/util.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/cover.h"
#include "store/db.h"

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

static const char *method_name(const char *m, bool en)
{
	if (!m)
		return NULL;
	if (!strcmp(m, "phone"))
		return en ? "Telephone" : "电话回访";
	if (!strcmp(m, "visit"))
		return en ? "In person" : "上门回访";
	if (!strcmp(m, "sms"))
		return en ? "Text message" : "短信回访";
	if (!strcmp(m, "online"))
		return en ? "Online" : "网上回访";
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
							  t->visit_method, "method_name", method_name(t->visit_method, ia_en(r)),
							  "notes", t->visit_notes));
	if (t->rectified_at)
		json_object_set_new(j, "rectification", json_pack("{s:s?,s:s?}", "at", ia_when(r->arena, t->rectified_at),
								  "notes", t->rectify_notes));
	if (t->feedback_at)
		json_object_set_new(j, "feedback", json_pack("{s:s?,s:s?}", "at", ia_when(r->arena, t->feedback_at), "text",
							     t->feedback));
	if (t->citizen_level)
		json_object_set_new(j, "citizen_rating", json_pack("{s:i,s:s,s:s?}", "level", t->citizen_level, "name",
								   ia_rect_level_name(t->citizen_level, ia_en(r)), "at",
								   ia_when(r->arena, t->citizen_rated_at)));
	return j;
}

static int wrong_order(struct req *r, const struct ia_rect *t)
{
	if (!strcmp(t->state, "cancelled"))
		req_error_detail(r, IA_T(r, "申诉成立，该整改任务已取消。", "The appeal was upheld; this task is cancelled."));
	else if (!strcmp(t->state, "closed"))
		req_error_detail(r, IA_T(r, "该整改任务已完成。", "This task is finished."));
	else
		req_error_detail(r, IA_T(r, "请按回访、整改、反馈的顺序办理（或已办理过）。",
					 "Record the return visit, the rectification and the feedback in this order (this step may be done already)."));
	return GH_ECONFLICT;
}

int ia_rect_step(struct req *r, int64_t evaluation_id, const char *step, const char *method, const char *notes,
		 int64_t when, int level)
{
	struct ia_eval e;
	struct ia_rect t;
	int rc = ia_eval_load_visible(r, evaluation_id, &e);
	if (rc)
		return rc;
	if ((rc = ia_rect_get(r->db, r->arena, evaluation_id, &t))) {
		if (rc == GH_ENOTFOUND)
			req_error_detail(r, IA_T(r, "该评价没有整改任务。", "This evaluation has no rectification task."));
		return rc;
	}
	int64_t now = (int64_t)time(NULL), changes = 0;
	bool rate = !strcmp(step, "rate");
	if (rate) {
		if (!identity_owns(r, e.rater_id, e.enterprise_id)) {
			req_error_detail(r, IA_T(r, "只有评价人可以评价整改结果。", "Only the person who wrote the review rates its rectification."));
			return GH_EFORBIDDEN;
		}
		if (level < 1 || level > 3) {
			req_error_detail(r, IA_T(r, "请选择：满意、基本满意或不满意。", "Choose satisfied, fairly satisfied or dissatisfied."));
			return GH_EVALIDATION;
		}
		if (strcmp(t.state, "awaiting_rating") != 0) {
			if (strcmp(t.state, "closed") && strcmp(t.state, "cancelled")) {
				req_error_detail(r, IA_T(r, "部门反馈后才能评价整改结果。", "The rectification can be rated once the department has given feedback."));
				return GH_ECONFLICT;
			}
			return wrong_order(r, &t);
		}
	} else {
		if (!ia_is_staff_of(r, e.department)) {
			req_error_detail(r, IA_T(r, "只有承办部门的工作人员可以办理整改。", "Only staff of the department that handled the case put it right."));
			return GH_EFORBIDDEN;
		}
		/* The clerk who entered the review on a counter rating device does not also put it
		 * right: the review would be judged by the one who recorded it. */
		if (e.entered_by && e.entered_by == r->who.account) {
			req_error_detail(r, IA_T(r, "您录入了这条评价，整改须由部门其他工作人员办理。",
						 "You entered this review at the counter: another member of staff puts it right."));
			return GH_EFORBIDDEN;
		}
		if (!ia_text_ok(notes, INTERACT_NOTES_MAX, true)) {
			req_error_detail(r, IA_T(r, "请填写说明（不超过 2000 字）。", "Please write the notes (at most 2000 characters)."));
			return GH_EVALIDATION;
		}
		if (!strcmp(step, "visit")) {
			if (!method || (strcmp(method, "phone") && strcmp(method, "visit") && strcmp(method, "sms") && strcmp(method, "online"))) {
				req_error_detail(r, IA_T(r, "请选择回访方式：电话、上门、短信或网上。", "Choose how the visit was made: phone, visit, sms or online."));
				return GH_EVALIDATION;
			}
			if (!when)
				when = now;
			if (when > now + 300 || when < t.created_at - 300) {
				req_error_detail(r, IA_T(r, "回访时间应在差评之后、不晚于现在。", "The visit must lie between the review and now."));
				return GH_EVALIDATION;
			}
		} else if (strcmp(step, "rectify") && strcmp(step, "feedback")) {
			return GH_ENOTFOUND;
		}
	}
	if ((rc = db_begin(r->db)))
		return rc;
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
			rc = notify_inbox_message(
				r->db, r->arena, e.enterprise_id ? e.enterprise_id : e.rater_id, 0, "rectify_feedback", "差评整改反馈",
				"Feedback on your review",
				arena_printf(r->arena, "部门已就您的评价完成整改并反馈：%s 请评价整改结果：/evaluations/%lld", notes,
					     (long long)e.id),
				arena_printf(r->arena, "The department has put right what you reported: %s Please rate the rectification: /evaluations/%lld",
					     notes, (long long)e.id));
	} else {
		rc = db_exec(r->db, &q_rect_rate, DB_ARGS(DB_INT(level), DB_INT(now), DB_INT(now), DB_INT(t.id)), &changes);
		detail = json_pack("{s:i}", "level", level);
		if (!rc && changes == 1)
			rc = interact_figures_rectification(r->db, r->arena, e.department, e.item_code, ia_today(), level >= 2);
	}
	if (!rc && changes != 1) {
		db_rollback(r->db);
		json_decref(detail);
		return wrong_order(r, &t);
	}
	if (!rc)
		rc = ia_event(r->db, "rectification", t.id, r->who.account, step, detail);
	else
		json_decref(detail);
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc;
	}
	notify_nudge();
	return 0;
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
			req_error_detail(r, "state: open, visited, rectified, awaiting_rating, closed or cancelled / 状态参数有误");
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
				       !dept_done && due < today, "level", level, "level_name", ia_level_name(level, ia_en(r)),
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
DB_SQL(q_admins, "SELECT id FROM accounts WHERE kind = 'admin' AND status = 'active' ORDER BY id");
DB_SQL(q_appeal_list, "SELECT p.id, p.evaluation_id, p.department, p.reason, p.filed_at, p.state, p.decision_note, "
		      "e.level, e.comment, d.name_zh, d.name_en, a.name FROM appeals p "
		      "JOIN evaluations e ON e.id = p.evaluation_id LEFT JOIN departments d ON d.code = p.department "
		      "LEFT JOIN accounts a ON a.id = p.filed_by WHERE (? = '' OR p.state = ?) ORDER BY p.id DESC LIMIT 200");

/* Inbox messages to every active administrator. */
static int tell_admins(struct db *db, struct arena *a, const char *kind, const char *tzh, const char *ten, const char *bzh,
		       const char *ben, int *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_admins, DB_NOARGS, &rows);
	for (size_t i = 0; i < rows.nrows && !rc; i++) {
		rc = notify_inbox_message(db, a, db_cell_int(&rows, i, 0), 0, kind, tzh, ten, bzh, ben);
		if (!rc && n)
			(*n)++;
	}
	return rc;
}

int ia_tell_admins(struct db *db, struct arena *a, const char *kind, const char *tzh, const char *ten, const char *bzh,
		   const char *ben, int *n)
{
	return tell_admins(db, a, kind, tzh, ten, bzh, ben, n);
}

int ia_appeal_file(struct req *r, int64_t evaluation_id, const char *reason)
{
	struct ia_eval e;
	int rc = ia_eval_load_visible(r, evaluation_id, &e);
	if (rc)
		return rc;
	if (!ia_is_head_of(r, e.department)) {
		req_error_detail(r, IA_T(r, "只有部门负责人可以申诉。", "Only a head of the department may appeal."));
		return GH_EFORBIDDEN;
	}
	if (!e.bad) {
		req_error_detail(r, IA_T(r, "只能对差评申诉。", "Only bad reviews can be appealed."));
		return GH_ECONFLICT;
	}
	if (!ia_text_ok(reason, INTERACT_NOTES_MAX, true)) {
		req_error_detail(r, IA_T(r, "请写明申诉理由（不超过 2000 字）。", "Please give the reason for the appeal (at most 2000 characters)."));
		return GH_EVALIDATION;
	}
	if ((rc = db_begin(r->db)))
		return rc;
	struct db_rows rows;
	int64_t now = (int64_t)time(NULL);
	rc = db_query(r->db, r->arena, &q_appeal_add,
		      DB_ARGS(DB_INT(e.id), DB_TEXT(e.department), DB_TEXT(reason), DB_INT(r->who.account), DB_INT(now)), &rows);
	if (rc == GH_ECONFLICT)
		req_error_detail(r, IA_T(r, "该评价已经申诉过。", "This review has been appealed already."));
	int64_t id = rc ? 0 : db_cell_int(&rows, 0, 0);
	if (!rc)
		rc = ia_event(r->db, "evaluation", e.id, r->who.account, "appeal", json_pack("{s:I}", "appeal", (json_int_t)id));
	if (!rc)
		rc = ia_event(r->db, "appeal", id, r->who.account, "file", json_pack("{s:s}", "reason", reason));
	if (!rc)
		rc = tell_admins(r->db, r->arena, "appeal_filed", "评价申诉待裁定", "An appeal to decide",
				 arena_printf(r->arena, "部门对一条评价提出申诉，请裁定：/admin/appeals"),
				 arena_printf(r->arena, "A department appealed a review; please decide: /admin/appeals"), NULL);
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc;
	}
	notify_nudge();
	return 0;
}

int ia_appeal_decide(struct req *r, int64_t appeal_id, const char *decision, const char *note)
{
	if (r->role != ROLE_ADMIN)
		return GH_EFORBIDDEN;
	bool upheld = decision && !strcmp(decision, "upheld");
	if (!decision || (!upheld && strcmp(decision, "rejected"))) {
		req_error_detail(r, IA_T(r, "请选择：申诉成立或驳回。", "Decide: upheld or rejected."));
		return GH_EVALIDATION;
	}
	if (!ia_text_ok(note, INTERACT_NOTES_MAX, false)) {
		req_error_detail(r, IA_T(r, "说明不能超过 2000 字。", "The note may have at most 2000 characters."));
		return GH_EVALIDATION;
	}
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_appeal_get, DB_ARGS(DB_INT(appeal_id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0) {
		req_error_detail(r, IA_T(r, "找不到该申诉。", "No such appeal."));
		return GH_ENOTFOUND;
	}
	/* No one decides their own appeal (administrators file none today; should that change,
	 * another administrator decides). */
	if (db_cell_int(&rows, 0, 2) == r->who.account) {
		req_error_detail(r, IA_T(r, "不能裁定自己提出的申诉，须由其他管理员裁定。",
					 "You filed this appeal: another administrator decides it."));
		return GH_EFORBIDDEN;
	}
	struct ia_eval e;
	if ((rc = ia_eval_get(r->db, r->arena, db_cell_int(&rows, 0, 0), &e)))
		return rc;
	int64_t now = (int64_t)time(NULL), changes = 0;
	if ((rc = db_begin(r->db)))
		return rc;
	rc = db_exec(r->db, &q_appeal_decide,
		     DB_ARGS(DB_TEXT(upheld ? "upheld" : "rejected"), DB_INT(r->who.account), DB_INT(now), DB_TEXT(note ? note : ""),
			     DB_INT(appeal_id)),
		     &changes);
	if (!rc && changes != 1) {
		db_rollback(r->db);
		req_error_detail(r, IA_T(r, "该申诉已经裁定。", "This appeal has been decided already."));
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
	if (!rc)
		rc = ia_tell_department(r->db, r->arena, e.department, true, "appeal_decided", "评价申诉已裁定", "Your appeal was decided",
					arena_printf(r->arena, "申诉%s：/evaluations/%lld", upheld ? "成立，该评价不计入统计" : "被驳回",
						     (long long)e.id),
					arena_printf(r->arena, "The appeal was %s: /evaluations/%lld",
						     upheld ? "upheld; the review no longer counts" : "rejected", (long long)e.id),
					NULL);
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc;
	}
	notify_nudge();
	return 0;
}

int ia_appeal_list(struct req *r, const char *state, json_t **out)
{
	const char *st = state && *state ? state : "";
	if (*st && strcmp(st, "pending") && strcmp(st, "upheld") && strcmp(st, "rejected")) {
		req_error_detail(r, "state: pending, upheld or rejected / 状态参数有误");
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
				       "level_name", ia_level_name(level, ia_en(r)), "comment", db_cell(&rows, i, 8), "filed_by",
				       db_cell(&rows, i, 11), "href", arena_printf(r->arena, "/evaluations/%s", db_cell(&rows, i, 1))));
	}
	*out = arr;
	return 0;
}
