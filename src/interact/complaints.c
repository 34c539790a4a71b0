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

#include "base/clock.h"
#include "base/err.h"
#include "base/util.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/db.h"
#include "http/msg.h"

DB_SQL(q_add, "INSERT INTO complaints (complainant_id, kind, department, item_code, subject, body, channel, state, "
	      "due_day, created_at, enterprise_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id");
DB_SQL(q_get, IA_THREAD_COLS("complainant_id", "body", "complaint") ", c.kind, c.escalation, c.merged_into"
	      IA_THREAD_FROM("complaints", "complainant_id"));
DB_SQL(q_answer, "UPDATE complaints SET state = 'answered', answer = ?, answered_by = ?, answered_at = ? "
		 "WHERE id = ? AND state = 'open'");
DB_SQL(q_list, "SELECT c.id, c.subject, CASE WHEN c.merged_into IS NULL THEN c.state ELSE 'merged' END, c.due_day, c.created_at, c.department, d.name_zh, d.name_en, c.kind, "
	       "c.escalation FROM complaints c LEFT JOIN departments d ON d.code = c.department "
	       "WHERE ((CAST(? AS BIGINT) = 1 AND " IDENTITY_OWNER_SQL("c.complainant_id", "c.enterprise_id") ") "
	       "OR (CAST(? AS BIGINT) = 0 AND (? = '' OR c.department = ?) AND c.escalation >= ?)) "
	       "AND (? = '' OR c.state = ?) ORDER BY CASE WHEN c.state = 'open' THEN 0 ELSE 1 END, c.due_day, c.id DESC "
	       "LIMIT 200");

int ia_complaint_file(struct req *r, const struct ia_thread_in *in, int64_t complainant, int32_t due, const char *channel,
		      json_t *detail, int64_t *id)
{
	const char *kind = in->kind && *in->kind ? in->kind : "complaint";
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_add,
			  DB_ARGS(DB_INT(complainant), DB_TEXT(kind), DB_TEXT(in->department), DB_TEXT(in->item_code),
				  DB_TEXT(in->subject), DB_TEXT(in->text), DB_TEXT(channel), DB_INT(due), DB_INT(clock_now()),
				  r->who.enterprise && complainant == r->who.account ? DB_INT(r->who.enterprise) : DB_NULL),
			  &rows);
	if (!rc)
		*id = db_cell_int(&rows, 0, 0);
	json_t *d = json_pack("{s:s,s:s}", "kind", kind, "channel", channel);
	json_object_update(d, detail);
	json_decref(detail);
	return rc ? (json_decref(d), rc)
		  : ia_thread_opened(r, "complaint", *id, complainant, "file", d, in->department, due,
				     !strcmp(kind, "complaint") ? N_("interact_new_complaint") : N_("interact_new_suggestion"),
				     N_("interact_answer_complaint_by"), "complaint_new");
}

/* On the writer (r is its copy of the request): a new complaint or suggestion, told to the
 * department. */
static int create_write(struct req *r, struct ia_write *x)
{
	struct ia_thread_in in = ((const struct ia_thread_args *)x)->in;
	const char *kind = in.kind && *in.kind ? in.kind : "complaint";
	if (strcmp(kind, "complaint") && strcmp(kind, "suggestion")) {
		req_error_detail(r, "%s", M(r, "interact_kind_complaint_suggestion"));
		return GH_EVALIDATION;
	}
	int32_t due;
	const char *channel;
	int rc = ia_thread_open(r, &in, "complaint", r->app->cfg.complaint_days, &due, &channel);
	return rc ? rc : ia_complaint_file(r, &in, r->who.account, due, channel, NULL, &x->id);
}

int ia_complaint_create(struct req *r, const struct ia_thread_in *in, ia_answer answer, const void *ctx)
{
	return ia_thread_submit(r, in, answer, ctx, create_write);
}

/* A complaint or suggestion: the thread and what only complaints have. */
struct complaint {
	struct ia_thread t;
	const char *kind;
	int escalation;
	int64_t merged_into; /* 0: not merged */
};

static int complaint_get(struct req *r, int64_t id, struct complaint *c)
{
	struct db_rows rows;
	int rc = ia_thread_get(r, &q_get, id, N_("interact_such_complaint_suggestion"), "complaint", &c->t, &rows);
	if (rc)
		return rc;
	c->kind = db_cell(&rows, 0, IA_THREAD_OWN_COL);
	c->escalation = (int)db_cell_int(&rows, 0, IA_THREAD_OWN_COL + 1);
	c->merged_into = db_cell_int(&rows, 0, IA_THREAD_OWN_COL + 2);
	return 0;
}

/* Staff of the department answer; administrators once it is escalated to them. */
static bool may_answer(const struct req *r, const struct complaint *c)
{
	return c->t.staff || (r->role == ROLE_ADMIN && c->escalation >= 2);
}

/* The kind and escalation of a complaint, with their names, into j. */
static void kind_json(struct req *r, json_t *j, const char *kind, int escalation)
{
	char kkey[64], ekey[64];
	snprintf(kkey, sizeof(kkey), "interact_kind_%s", kind);
	snprintf(ekey, sizeof(ekey), "interact_escalation_%d", escalation);
	ia_set(j, "kind", kind);
	ia_set(j, "kind_name", ia_msg(r, kkey, kind));
	json_object_set_new(j, "escalation", json_integer(escalation));
	ia_set(j, "escalation_name", ia_msg(r, ekey, ""));
}

int ia_complaint_json(struct req *r, int64_t id, json_t **out)
{
	struct complaint c;
	int rc = complaint_get(r, id, &c);
	if (rc)
		return rc;
	json_t *j = ia_thread_json(r, &c.t, "complaint");
	ia_set(j, "body", c.t.text);
	kind_json(r, j, c.kind, c.escalation);
	if (!c.t.mine && !c.t.following)
		ia_set(j, "complainant", c.t.person_name);
	json_object_set_new(j, "can_answer", json_boolean(c.t.open && may_answer(r, &c)));
	ia_complaint_dupes_json(r, &c.t, c.merged_into, j);
	ia_forward_json(r, "complaint", &c.t, j);
	*out = j;
	return 0;
}

struct answer_args {
	struct ia_write x;
	const char *text;
};

/* On the writer (r is its copy of the request): the answer to complaint x->id, told to the
 * complainant. */
static int answer_write(struct req *r, struct ia_write *x)
{
	struct complaint c;
	int rc = complaint_get(r, x->id, &c);
	if (rc)
		return rc;
	if (!may_answer(r, &c)) {
		req_error_detail(r, "%s", M(r, "interact_only_staff_department_administrators_once"));
		return GH_EFORBIDDEN;
	}
	bool away, received;
	if ((rc = ia_forward_pending(r, "complaint", x->id, &away)))
		return rc;
	if (away) {
		req_error_detail(r, "%s", M(r, "interact_forward_pending"));
		return GH_ECONFLICT;
	}
	const char *text = ((const struct answer_args *)x)->text;
	if ((rc = ia_thread_answer(r, &q_answer, "complaint", &c.t, text, N_("interact_complaint_answered_already"))))
		return rc;
	/* One that came from another hall: the answer goes back there, where the person is told. */
	if ((rc = ia_forward_answered(r, "complaint", &c.t, text, &received)))
		return rc;
	if (!received && (rc = ia_thread_tell(r, &c.t, "complaint_answered", N_("interact_complaint_answered_title"),
					       N_("interact_complaint_answered_body"))))
		return rc;
	/* the same words to those who have the same problem (dupes.c), the subject masked */
	struct ia_message m = IA_MESSAGE(r->app->view, r->arena, N_("interact_complaint_answered_title"),
					 N_("interact_complaint_answered_body"),
					 MA("subject", ia_others_words(r->arena, c.t.subject, INTERACT_SUBJECT_MAX, c.t.person_name)),
					 MA("id", (long long)c.t.id));
	return ia_followers_tell(r, "complaint", c.t.id, "complaint_answered", &m);
}

int ia_complaint_answer(struct req *r, int64_t id, const char *text, ia_answer answer, const void *ctx)
{
	struct answer_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = id;
	a->text = text;
	return ia_write(r, &a->x, answer_write);
}

int ia_complaint_list(struct req *r, bool mine, const char *state, json_t **out)
{
	const char *st;
	int rc = ia_thread_state(r, state, &st);
	if (rc)
		return rc;
	bool admin = !mine && r->role == ROLE_ADMIN;
	const char *dept = !mine && r->role == ROLE_STAFF ? r->who.department : "";
	struct identity_owner o = identity_owner_of(r);
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_list,
			   DB_ARGS(DB_INT(mine), IDENTITY_OWNER_ARGS(o), DB_INT(mine), DB_TEXT(dept), DB_TEXT(dept),
				   DB_INT(admin ? 2 : 0), DB_TEXT(st), DB_TEXT(st)),
			   &rows)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		json_t *j = ia_thread_item(r, &rows, i, "/complaints");
		kind_json(r, j, db_cell(&rows, i, 8), (int)db_cell_int(&rows, i, 9));
		json_array_append_new(arr, j);
	}
	*out = arr;
	return 0;
}
