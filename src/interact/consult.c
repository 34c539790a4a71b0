/* consult.c: consultations (咨询) about an item or a department, and the items' FAQ.
 *
 * A consultation goes to the department (the item's, when it names an item) and is answered
 * by its staff within consult-days working days. The asker says whether the answer may be
 * published; only then may staff publish it, and what is published is a public version staff
 * write from the question and the answer (personal data removed) — never the original texts
 * or the asker. Published answers of an item appear in its guide's FAQ (interact_item_faq);
 * publishing bumps catalog_generation in the same transaction so every node's cached guide
 * page is refreshed. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/db.h"

DB_SQL(q_item_dept, "SELECT department FROM service_items WHERE code = ? AND is_current = 1");
DB_SQL(q_dept_exists, "SELECT 1 FROM departments WHERE code = ?");
DB_SQL(q_consult_add, "INSERT INTO consultations (asker_id, department, item_code, subject, question, consent_public, "
		      "channel, state, due_day, created_at, enterprise_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) "
		      "RETURNING id");
DB_SQL(q_consult_get, "SELECT c.id, c.asker_id, c.department, c.item_code, c.subject, c.question, c.consent_public, "
		      "c.state, c.due_day, c.answer, c.answered_at, c.public_question, c.public_answer, c.published, "
		      "c.created_at, d.name_zh, d.name_en, s.name_zh, s.name_en, a.name, "
		      "(SELECT e.id FROM evaluations e WHERE e.subject_kind = 'consultation' AND e.subject_id = c.id), "
		      "c.enterprise_id FROM consultations c LEFT JOIN departments d ON d.code = c.department "
		      "LEFT JOIN service_items s ON s.code = c.item_code AND s.is_current = 1 "
		      "LEFT JOIN accounts a ON a.id = c.asker_id WHERE c.id = ?");
DB_SQL(q_consult_answer, "UPDATE consultations SET state = 'answered', answer = ?, answered_by = ?, answered_at = ? "
			 "WHERE id = ? AND state = 'open'");
DB_SQL(q_consult_publish, "UPDATE consultations SET published = ?, public_question = ?, public_answer = ? "
			  "WHERE id = ? AND state = 'answered' AND consent_public = 1");
DB_SQL(q_faq, "SELECT public_question, public_answer, answered_at FROM consultations WHERE item_code = ? "
	      "AND published = 1 ORDER BY answered_at DESC, id DESC LIMIT ?");
DB_SQL(q_consult_list, "SELECT c.id, c.subject, c.state, c.due_day, c.created_at, c.department, d.name_zh, d.name_en, "
		       "c.consent_public, c.published FROM consultations c LEFT JOIN departments d ON d.code = c.department "
		       "WHERE ((CAST(? AS BIGINT) = 1 AND " IDENTITY_OWNER_SQL("c.asker_id", "c.enterprise_id") ") "
		       "OR (CAST(? AS BIGINT) = 0 AND (? = '' OR c.department = ?))) "
		       "AND (? = '' OR c.state = ?) ORDER BY CASE WHEN c.state = 'open' THEN 0 ELSE 1 END, c.due_day, c.id DESC "
		       "LIMIT 200");

/* Resolves department and item of a new consultation or complaint; GH_EVALIDATION with a
 * detail. Shared with complaints.c. */
int ia_thread_target(struct req *r, struct ia_thread_in *in)
{
	struct db_rows rows;
	int rc;
	if (in->item_code && *in->item_code) {
		if (strlen(in->item_code) > 64)
			goto bad_item;
		if ((rc = db_query(r->db, r->arena, &q_item_dept, DB_ARGS(DB_TEXT(in->item_code)), &rows)))
			return rc;
		if (rows.nrows == 0)
			goto bad_item;
		in->department = db_cell(&rows, 0, 0);
		return 0;
	}
	in->item_code = NULL;
	if (!in->department || !*in->department || strlen(in->department) > 64) {
		req_error_detail(r, IA_T(r, "请选择部门或事项。", "Choose a department or a service item."));
		return GH_EVALIDATION;
	}
	if ((rc = db_query(r->db, r->arena, &q_dept_exists, DB_ARGS(DB_TEXT(in->department)), &rows)))
		return rc;
	if (rows.nrows == 0) {
		req_error_detail(r, IA_T(r, "没有这个部门。", "There is no such department."));
		return GH_EVALIDATION;
	}
	return 0;
bad_item:
	req_error_detail(r, IA_T(r, "没有这个事项。", "There is no such service item."));
	return GH_EVALIDATION;
}

/* Checks subject and text; GH_EVALIDATION with a detail. */
int ia_thread_texts(struct req *r, const struct ia_thread_in *in)
{
	if (!ia_text_ok(in->subject, INTERACT_SUBJECT_MAX, true)) {
		req_error_detail(r, IA_T(r, "请填写标题（不超过 100 字）。", "Please give a title (at most 100 characters)."));
		return GH_EVALIDATION;
	}
	if (!ia_text_ok(in->text, INTERACT_TEXT_MAX, true)) {
		req_error_detail(r, IA_T(r, "请填写内容（不超过 2000 字）。", "Please write your message (at most 2000 characters)."));
		return GH_EVALIDATION;
	}
	if (in->channel && strcmp(in->channel, "web") && strcmp(in->channel, "app") && strcmp(in->channel, "kiosk")) {
		req_error_detail(r, "channel: web, app or kiosk / 渠道应为 web、app 或 kiosk");
		return GH_EINVAL;
	}
	return 0;
}

int ia_consult_create(struct req *r, const struct ia_thread_in *in0, int64_t *id)
{
	struct ia_thread_in in = *in0;
	int rc = ia_thread_texts(r, &in);
	if (!rc)
		rc = ia_thread_target(r, &in);
	/* A person asks a few questions a day, not hundreds: a budget per account. */
	if (!rc)
		rc = identity_rate_limit(r, arena_printf(r->arena, "%s:%lld", "consult", (long long)r->who.account), 30, 3600);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL);
	int32_t due = ia_add_workdays(r->app, ia_today(), (int)r->app->cfg.consult_days);
	const char *channel = in.channel ? in.channel : r->api ? "app" : "web";
	if ((rc = db_begin(r->db)))
		return rc;
	struct db_rows rows;
	rc = db_query(r->db, r->arena, &q_consult_add,
		      DB_ARGS(DB_INT(r->who.account), DB_TEXT(in.department), DB_TEXT(in.item_code), DB_TEXT(in.subject),
			      DB_TEXT(in.text), DB_INT(in.consent_public ? 1 : 0), DB_TEXT(channel), DB_INT(due), DB_INT(now),
			      r->who.enterprise ? DB_INT(r->who.enterprise) : DB_NULL),
		      &rows);
	if (!rc) {
		*id = db_cell_int(&rows, 0, 0);
		rc = ia_event(r->db, "consultation", *id, r->who.account, "ask",
			      json_pack("{s:b,s:s}", "public", in.consent_public, "channel", channel));
	}
	if (!rc)
		rc = ia_tell_department(r->db, r->arena, in.department, false, "consult_new", "新的咨询", "A new consultation",
					arena_printf(r->arena, "请在 %s 前答复：/consultations/%lld", ia_day_str(r->arena, due), (long long)*id),
					arena_printf(r->arena, "Please answer by %s: /consultations/%lld", ia_day_str(r->arena, due), (long long)*id),
					NULL);
	if (!rc)
		rc = db_commit(r->db);
	if (rc)
		db_rollback(r->db);
	return rc;
}

struct consult {
	int64_t id, asker_id, answered_at, created_at, evaluation_id;
	int64_t enterprise_id; /* asked for this enterprise (0: for the asker) */
	const char *department, *item_code, *subject, *question, *state, *answer, *pub_q, *pub_a;
	const char *dept_zh, *dept_en, *item_zh, *item_en, *asker_name;
	int32_t due_day;
	bool consent, published;
};

static int consult_get(struct req *r, int64_t id, struct consult *c)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_consult_get, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 1) {
		memset(c, 0, sizeof(*c));
		c->id = db_cell_int(&rows, 0, 0);
		c->asker_id = db_cell_int(&rows, 0, 1);
		c->department = db_cell(&rows, 0, 2);
		c->item_code = db_cell(&rows, 0, 3);
		c->subject = db_cell(&rows, 0, 4);
		c->question = db_cell(&rows, 0, 5);
		c->consent = db_cell_int(&rows, 0, 6) == 1;
		c->state = db_cell(&rows, 0, 7);
		c->due_day = (int32_t)db_cell_int(&rows, 0, 8);
		c->answer = db_cell(&rows, 0, 9);
		c->answered_at = db_cell(&rows, 0, 10) ? db_cell_int(&rows, 0, 10) : 0;
		c->pub_q = db_cell(&rows, 0, 11);
		c->pub_a = db_cell(&rows, 0, 12);
		c->published = db_cell_int(&rows, 0, 13) == 1;
		c->created_at = db_cell_int(&rows, 0, 14);
		c->dept_zh = db_cell(&rows, 0, 15);
		c->dept_en = db_cell(&rows, 0, 16);
		c->item_zh = db_cell(&rows, 0, 17);
		c->item_en = db_cell(&rows, 0, 18);
		c->asker_name = db_cell(&rows, 0, 19);
		c->evaluation_id = db_cell(&rows, 0, 20) ? db_cell_int(&rows, 0, 20) : 0;
		c->enterprise_id = db_cell_int(&rows, 0, 21);
		bool mine = identity_owns(r, c->asker_id, c->enterprise_id);
		if (mine || r->role == ROLE_ADMIN || ia_is_staff_of(r, c->department))
			return 0;
	}
	req_error_detail(r, IA_T(r, "找不到该咨询。", "No such consultation."));
	return GH_ENOTFOUND;
}

static const char *pick(const struct req *r, const char *zh, const char *en)
{
	return ia_en(r) && en && *en ? en : zh;
}

int ia_consult_json(struct req *r, int64_t id, json_t **out)
{
	struct consult c;
	int rc = consult_get(r, id, &c);
	if (rc)
		return rc;
	bool staff = ia_is_staff_of(r, c.department), mine = identity_owns(r, c.asker_id, c.enterprise_id);
	bool open = !strcmp(c.state, "open");
	char key[64];
	snprintf(key, sizeof(key), "interact_thread_%s", c.state);
	json_t *j = json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:b,s:s,s:s,s:s,s:b,s:s?,s:b}", "id", (json_int_t)c.id, "department",
			      c.department, "department_name", pick(r, c.dept_zh, c.dept_en), "item_code", c.item_code, "item_name",
			      pick(r, c.item_zh, c.item_en), "subject", c.subject, "question", c.question, "consent_public",
			      c.consent, "state", c.state, "state_name", ia_msg(r, key, c.state), "due_day",
			      ia_day_str(r->arena, c.due_day), "overdue", open && c.due_day < ia_today(), "created",
			      ia_when(r->arena, c.created_at), "published", c.published);
	if (!open) {
		ia_set(j, "answer", c.answer);
		ia_set(j, "answered", ia_when(r->arena, c.answered_at));
	}
	if (c.pub_q && (staff || r->role == ROLE_ADMIN || c.published)) {
		ia_set(j, "public_question", c.pub_q);
		ia_set(j, "public_answer", c.pub_a);
	}
	if (staff || r->role == ROLE_ADMIN)
		ia_set(j, "asker", c.asker_name);
	json_object_set_new(j, "can_answer", json_boolean(staff && open));
	json_object_set_new(j, "can_publish", json_boolean(staff && !open && c.consent && c.item_code));
	json_object_set_new(j, "can_rate", json_boolean(mine && !open && !c.evaluation_id));
	if (c.evaluation_id)
		json_object_set_new(j, "evaluation", json_integer((json_int_t)c.evaluation_id));
	json_object_set_new(j, "events", ia_events_json(r, "consultation", c.id));
	*out = j;
	return 0;
}

static int publish_in_tx(struct req *r, const struct consult *c, bool publish, const char *pq, const char *pa)
{
	if (!c->consent) {
		req_error_detail(r, IA_T(r, "提问人未同意公开，不能发布。", "The asker did not consent to publishing this answer."));
		return GH_ECONFLICT;
	}
	if (!c->item_code) {
		req_error_detail(r, IA_T(r, "只有关于事项的咨询可以发布到常见问题。", "Only a question about a service item can join its FAQ."));
		return GH_ECONFLICT;
	}
	if (publish && (!ia_text_ok(pq, INTERACT_TEXT_MAX, true) || !ia_text_ok(pa, INTERACT_ANSWER_MAX, true))) {
		req_error_detail(r, IA_T(r, "请填写公开版本的问题和答复（已去除个人信息）。",
					 "Write the public version of the question and the answer (without personal data)."));
		return GH_EVALIDATION;
	}
	int64_t changes = 0;
	int rc = db_exec(r->db, &q_consult_publish,
			 DB_ARGS(DB_INT(publish ? 1 : 0), publish ? DB_TEXT(pq) : DB_TEXT(c->pub_q), publish ? DB_TEXT(pa) : DB_TEXT(c->pub_a),
				 DB_INT(c->id)),
			 &changes);
	if (!rc && changes != 1) {
		req_error_detail(r, IA_T(r, "答复后才能发布。", "Answer it first."));
		return GH_ECONFLICT;
	}
	if (!rc)
		rc = catalog_changed(r->db); /* the item's guide shows the FAQ */
	if (!rc)
		rc = ia_event(r->db, "consultation", c->id, r->who.account, publish ? "publish" : "unpublish", NULL);
	return rc;
}

int ia_consult_answer(struct req *r, int64_t id, const char *answer, bool publish, const char *pq, const char *pa)
{
	struct consult c;
	int rc = consult_get(r, id, &c);
	if (rc)
		return rc;
	if (!ia_is_staff_of(r, c.department)) {
		req_error_detail(r, IA_T(r, "只有该部门的工作人员可以答复。", "Only staff of the department answer."));
		return GH_EFORBIDDEN;
	}
	if ((rc = ia_answer_begin(r, &q_consult_answer, "consultation", id, answer, "该咨询已经答复。",
				  "This consultation has been answered already.")))
		return rc;
	c.state = "answered";
	if (!rc && publish)
		rc = publish_in_tx(r, &c, true, pq, pa);
	if (!rc)
		rc = notify_inbox_message(r->db, r->arena, c.enterprise_id ? c.enterprise_id : c.asker_id, 0, "consult_answered",
					  "您的咨询已答复",
					  "Your question was answered",
					  arena_printf(r->arena, "「%s」已答复，欢迎评价：/consultations/%lld", c.subject, (long long)id),
					  arena_printf(r->arena, "\"%s\" was answered; please rate the answer: /consultations/%lld", c.subject,
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

int ia_consult_publish(struct req *r, int64_t id, bool publish, const char *pq, const char *pa)
{
	struct consult c;
	int rc = consult_get(r, id, &c);
	if (rc)
		return rc;
	if (!ia_is_staff_of(r, c.department)) {
		req_error_detail(r, IA_T(r, "只有该部门的工作人员可以发布。", "Only staff of the department publish."));
		return GH_EFORBIDDEN;
	}
	if ((rc = db_begin(r->db)))
		return rc;
	rc = publish_in_tx(r, &c, publish, pq, pa);
	if (!rc)
		rc = db_commit(r->db);
	if (rc)
		db_rollback(r->db);
	return rc;
}

int ia_consult_list(struct req *r, bool mine, const char *state, json_t **out)
{
	const char *st = state && *state ? state : "";
	if (*st && strcmp(st, "open") && strcmp(st, "answered")) {
		req_error_detail(r, "state: open or answered / 状态参数有误");
		return GH_EINVAL;
	}
	const char *dept = !mine && r->role == ROLE_STAFF ? r->who.department : "";
	struct identity_owner o = identity_owner_of(r);
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_consult_list,
			  DB_ARGS(DB_INT(mine), IDENTITY_OWNER_ARGS(o), DB_INT(mine), DB_TEXT(dept), DB_TEXT(dept), DB_TEXT(st),
				  DB_TEXT(st)),
			  &rows);
	if (rc)
		return rc;
	json_t *arr = json_array();
	int32_t today = ia_today();
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *s = db_cell(&rows, i, 2);
		char key[64];
		snprintf(key, sizeof(key), "interact_thread_%s", s);
		int32_t due = (int32_t)db_cell_int(&rows, i, 3);
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:s?,s:s,s:s?,s:b,s:b,s:s}", "id",
						     (json_int_t)db_cell_int(&rows, i, 0), "subject", db_cell(&rows, i, 1), "state", s,
						     "state_name", ia_msg(r, key, s), "due_day", ia_day_str(r->arena, due), "overdue",
						     !strcmp(s, "open") && due < today, "created",
						     ia_when(r->arena, db_cell_int(&rows, i, 4)), "department", db_cell(&rows, i, 5),
						     "department_name", pick(r, db_cell(&rows, i, 6), db_cell(&rows, i, 7)),
						     "consent_public", db_cell_int(&rows, i, 8) == 1, "published",
						     db_cell_int(&rows, i, 9) == 1, "href",
						     arena_printf(r->arena, "/consultations/%s", db_cell(&rows, i, 0))));
	}
	*out = arr;
	return 0;
}

json_t *interact_item_faq(struct db *db, struct arena *a, const char *item_code, const char *lang, int max)
{
	(void)lang; /* the public versions are written once, in the language staff answer in */
	struct db_rows rows;
	if (!item_code || db_query(db, a, &q_faq, DB_ARGS(DB_TEXT(item_code), DB_INT(max > 0 ? max : 20)), &rows))
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(arr, json_pack("{s:s?,s:s?,s:s?}", "question", db_cell(&rows, i, 0), "answer",
						     db_cell(&rows, i, 1), "answered",
						     ia_day_str(a, calendar_day_of((time_t)db_cell_int(&rows, i, 2)))));
	return arr;
}

/* The catalog guide's FAQ section (catalog_guide_section): has_faq and faq. */
void ia_faq_section(struct req *r, const char *item_code, json_t *ctx)
{
	json_t *faq = interact_item_faq(r->db, r->arena, item_code, r->lang, 20);
	json_object_set_new(ctx, "has_faq", json_boolean(faq && json_array_size(faq) > 0));
	if (faq)
		json_object_set_new(ctx, "faq", faq);
}
