/* complaints.c: complaints and suggestions (投诉建议).
 *
 * A complaint or suggestion goes to the department (the item's, when it names an item) and
 * is answered within complaint-days working days by its staff. When it is overdue, the
 * duties (duties.c) escalate it once to the department's heads (escalation 1), and when it is
 * still unanswered complaint-escalate-days working days after the due day, to the
 * administrators (escalation 2), who may then answer it themselves. The answer goes to the
 * complainant's inbox, who may rate it (evaluations.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/util.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/db.h"

DB_SQL(q_add, "INSERT INTO complaints (complainant_id, kind, department, item_code, subject, body, channel, state, "
	      "due_day, created_at, enterprise_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id");
DB_SQL(q_get, "SELECT c.id, c.complainant_id, c.kind, c.department, c.item_code, c.subject, c.body, c.state, c.due_day, "
	      "c.escalation, c.answer, c.answered_at, c.created_at, d.name_zh, d.name_en, s.name_zh, s.name_en, a.name, "
	      "(SELECT e.id FROM evaluations e WHERE e.subject_kind = 'complaint' AND e.subject_id = c.id), c.enterprise_id "
	      "FROM complaints c LEFT JOIN departments d ON d.code = c.department "
	      "LEFT JOIN service_items s ON s.code = c.item_code AND s.is_current = 1 "
	      "LEFT JOIN accounts a ON a.id = c.complainant_id WHERE c.id = ?");
DB_SQL(q_answer, "UPDATE complaints SET state = 'answered', answer = ?, answered_by = ?, answered_at = ? "
		 "WHERE id = ? AND state = 'open'");
DB_SQL(q_list, "SELECT c.id, c.kind, c.subject, c.state, c.due_day, c.escalation, c.created_at, c.department, d.name_zh, "
	       "d.name_en FROM complaints c LEFT JOIN departments d ON d.code = c.department "
	       "WHERE ((CAST(? AS BIGINT) = 1 AND " IDENTITY_OWNER_SQL("c.complainant_id", "c.enterprise_id") ") "
	       "OR (CAST(? AS BIGINT) = 0 AND (? = '' OR c.department = ?) AND c.escalation >= ?)) "
	       "AND (? = '' OR c.state = ?) ORDER BY CASE WHEN c.state = 'open' THEN 0 ELSE 1 END, c.due_day, c.id DESC "
	       "LIMIT 200");

static const char *pick(const struct req *r, const char *zh, const char *en)
{
	return ia_en(r) && en && *en ? en : zh;
}

int ia_complaint_create(struct req *r, const struct ia_thread_in *in0, int64_t *id)
{
	struct ia_thread_in in = *in0;
	const char *kind = in.kind && *in.kind ? in.kind : "complaint";
	if (strcmp(kind, "complaint") && strcmp(kind, "suggestion")) {
		req_error_detail(r, IA_T(r, "类型应为投诉或建议。", "kind: complaint or suggestion."));
		return GH_EVALIDATION;
	}
	int rc = ia_thread_texts(r, &in);
	if (!rc)
		rc = ia_thread_target(r, &in);
	/* A person asks a few questions a day, not hundreds: a budget per account. */
	if (!rc)
		rc = identity_rate_limit(r, arena_printf(r->arena, "%s:%lld", "complaint", (long long)r->who.account), 30, 3600);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL);
	int32_t due = ia_add_workdays(r->app, ia_today(), (int)r->app->cfg.complaint_days);
	const char *channel = in.channel ? in.channel : r->api ? "app" : "web";
	if ((rc = db_begin(r->db)))
		return rc;
	struct db_rows rows;
	rc = db_query(r->db, r->arena, &q_add,
		      DB_ARGS(DB_INT(r->who.account), DB_TEXT(kind), DB_TEXT(in.department), DB_TEXT(in.item_code),
			      DB_TEXT(in.subject), DB_TEXT(in.text), DB_TEXT(channel), DB_INT(due), DB_INT(now),
			      r->who.enterprise ? DB_INT(r->who.enterprise) : DB_NULL),
		      &rows);
	if (!rc) {
		*id = db_cell_int(&rows, 0, 0);
		rc = ia_event(r->db, "complaint", *id, r->who.account, "file", json_pack("{s:s,s:s}", "kind", kind, "channel", channel));
	}
	if (!rc)
		rc = ia_tell_department(r->db, r->arena, in.department, false, "complaint_new",
					!strcmp(kind, "complaint") ? "新的投诉" : "新的建议",
					!strcmp(kind, "complaint") ? "A new complaint" : "A new suggestion",
					arena_printf(r->arena, "请在 %s 前答复：/complaints/%lld", ia_day_str(r->arena, due), (long long)*id),
					arena_printf(r->arena, "Please answer by %s: /complaints/%lld", ia_day_str(r->arena, due), (long long)*id),
					NULL);
	if (!rc)
		rc = db_commit(r->db);
	if (rc)
		db_rollback(r->db);
	return rc;
}

struct complaint {
	int64_t id, complainant_id, answered_at, created_at, evaluation_id;
	int64_t enterprise_id; /* filed for this enterprise (0: for the complainant) */
	const char *kind, *department, *item_code, *subject, *body, *state, *answer;
	const char *dept_zh, *dept_en, *item_zh, *item_en, *name;
	int32_t due_day;
	int escalation;
};

static int complaint_get(struct req *r, int64_t id, struct complaint *c)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_get, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 1) {
		memset(c, 0, sizeof(*c));
		c->id = db_cell_int(&rows, 0, 0);
		c->complainant_id = db_cell_int(&rows, 0, 1);
		c->kind = db_cell(&rows, 0, 2);
		c->department = db_cell(&rows, 0, 3);
		c->item_code = db_cell(&rows, 0, 4);
		c->subject = db_cell(&rows, 0, 5);
		c->body = db_cell(&rows, 0, 6);
		c->state = db_cell(&rows, 0, 7);
		c->due_day = (int32_t)db_cell_int(&rows, 0, 8);
		c->escalation = (int)db_cell_int(&rows, 0, 9);
		c->answer = db_cell(&rows, 0, 10);
		c->answered_at = db_cell(&rows, 0, 11) ? db_cell_int(&rows, 0, 11) : 0;
		c->created_at = db_cell_int(&rows, 0, 12);
		c->dept_zh = db_cell(&rows, 0, 13);
		c->dept_en = db_cell(&rows, 0, 14);
		c->item_zh = db_cell(&rows, 0, 15);
		c->item_en = db_cell(&rows, 0, 16);
		c->name = db_cell(&rows, 0, 17);
		c->evaluation_id = db_cell(&rows, 0, 18) ? db_cell_int(&rows, 0, 18) : 0;
		c->enterprise_id = db_cell_int(&rows, 0, 19);
		bool mine = identity_owns(r, c->complainant_id, c->enterprise_id);
		if (mine || r->role == ROLE_ADMIN || ia_is_staff_of(r, c->department))
			return 0;
	}
	req_error_detail(r, IA_T(r, "找不到该投诉建议。", "No such complaint or suggestion."));
	return GH_ENOTFOUND;
}

/* Staff of the department answer; administrators once it is escalated to them. */
static bool may_answer(const struct req *r, const struct complaint *c)
{
	return ia_is_staff_of(r, c->department) || (r->role == ROLE_ADMIN && c->escalation >= 2);
}

int ia_complaint_json(struct req *r, int64_t id, json_t **out)
{
	struct complaint c;
	int rc = complaint_get(r, id, &c);
	if (rc)
		return rc;
	bool open = !strcmp(c.state, "open");
	bool mine = identity_owns(r, c.complainant_id, c.enterprise_id);
	char key[64], ekey[64], kkey[64];
	snprintf(key, sizeof(key), "interact_thread_%s", c.state);
	snprintf(ekey, sizeof(ekey), "interact_escalation_%d", c.escalation);
	snprintf(kkey, sizeof(kkey), "interact_kind_%s", c.kind);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:s,s:s,s:s,s:b,s:i,s:s,s:s?}", "id", (json_int_t)c.id, "kind",
			      c.kind, "kind_name", ia_msg(r, kkey, c.kind), "department", c.department, "department_name",
			      pick(r, c.dept_zh, c.dept_en), "item_code", c.item_code, "item_name", pick(r, c.item_zh, c.item_en),
			      "subject", c.subject, "body", c.body, "state", c.state, "state_name", ia_msg(r, key, c.state), "due_day",
			      ia_day_str(r->arena, c.due_day), "overdue", open && c.due_day < ia_today(), "escalation", c.escalation,
			      "escalation_name", ia_msg(r, ekey, ""), "created", ia_when(r->arena, c.created_at));
	if (!open) {
		ia_set(j, "answer", c.answer);
		ia_set(j, "answered", ia_when(r->arena, c.answered_at));
	}
	if (!mine)
		ia_set(j, "complainant", c.name);
	json_object_set_new(j, "can_answer", json_boolean(open && may_answer(r, &c)));
	json_object_set_new(j, "can_rate", json_boolean(mine && !open && !c.evaluation_id));
	if (c.evaluation_id)
		json_object_set_new(j, "evaluation", json_integer((json_int_t)c.evaluation_id));
	json_object_set_new(j, "events", ia_events_json(r, "complaint", c.id));
	*out = j;
	return 0;
}

int ia_complaint_answer(struct req *r, int64_t id, const char *answer)
{
	struct complaint c;
	int rc = complaint_get(r, id, &c);
	if (rc)
		return rc;
	if (!may_answer(r, &c)) {
		req_error_detail(r, IA_T(r, "只有该部门的工作人员（或升级后的管理员）可以答复。",
					 "Only staff of the department (or administrators, once escalated to them) answer."));
		return GH_EFORBIDDEN;
	}
	if ((rc = ia_answer_begin(r, &q_answer, "complaint", id, answer, "已经答复。", "This has been answered already.")))
		return rc;
	rc = notify_inbox_message(r->db, r->arena, c.enterprise_id ? c.enterprise_id : c.complainant_id, 0, "complaint_answered",
				  "您的投诉建议已答复",
				  "Your complaint or suggestion was answered",
				  arena_printf(r->arena, "「%s」已答复，欢迎评价：/complaints/%lld", c.subject, (long long)id),
				  arena_printf(r->arena, "\"%s\" was answered; please rate the answer: /complaints/%lld", c.subject,
					       (long long)id));
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc;
	}
	notify_nudge();
	return 0;
}

int ia_complaint_list(struct req *r, bool mine, const char *state, json_t **out)
{
	const char *st = state && *state ? state : "";
	if (*st && strcmp(st, "open") && strcmp(st, "answered")) {
		req_error_detail(r, "state: open or answered / 状态参数有误");
		return GH_EINVAL;
	}
	bool admin = !mine && r->role == ROLE_ADMIN;
	const char *dept = !mine && r->role == ROLE_STAFF ? r->who.department : "";
	struct identity_owner o = identity_owner_of(r);
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_list,
			  DB_ARGS(DB_INT(mine), IDENTITY_OWNER_ARGS(o), DB_INT(mine), DB_TEXT(dept), DB_TEXT(dept),
				  DB_INT(admin ? 2 : 0), DB_TEXT(st), DB_TEXT(st)),
			  &rows);
	if (rc)
		return rc;
	json_t *arr = json_array();
	int32_t today = ia_today();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *s = db_cell(&rows, i, 3), *kind = db_cell(&rows, i, 1);
		char key[64], kkey[64], ekey[64];
		snprintf(key, sizeof(key), "interact_thread_%s", s);
		snprintf(kkey, sizeof(kkey), "interact_kind_%s", kind);
		int esc = (int)db_cell_int(&rows, i, 5);
		snprintf(ekey, sizeof(ekey), "interact_escalation_%d", esc);
		int32_t due = (int32_t)db_cell_int(&rows, i, 4);
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:i,s:s,s:s?,s:s,s:s?,s:s}", "id",
						     (json_int_t)db_cell_int(&rows, i, 0), "kind", kind, "kind_name",
						     ia_msg(r, kkey, kind), "subject", db_cell(&rows, i, 2), "state", s, "state_name",
						     ia_msg(r, key, s), "due_day", ia_day_str(r->arena, due), "overdue",
						     !strcmp(s, "open") && due < today, "escalation", esc, "escalation_name",
						     ia_msg(r, ekey, ""), "created", ia_when(r->arena, db_cell_int(&rows, i, 6)),
						     "department", db_cell(&rows, i, 7), "department_name",
						     pick(r, db_cell(&rows, i, 8), db_cell(&rows, i, 9)), "href",
						     arena_printf(r->arena, "/complaints/%s", db_cell(&rows, i, 0))));
	}
	*out = arr;
	return 0;
}
