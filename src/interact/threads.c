/* threads.c: what consultations (consult.c) and complaints and suggestions (complaints.c)
 * share. Both are a thread: a person writes to a department (the item's, when an item is
 * named), its staff answer once by a due day, the answer goes to the person's inbox and the
 * person may rate it. Each kind's file adds what is its own (publishing to the FAQ;
 * kinds and escalation). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/util.h"
#include "http/msg.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "notify/notify.h"
#include "store/db.h"
#include "view/view.h"

DB_SQL(q_item_dept, "SELECT department FROM service_items WHERE code = ? AND is_current = 1");
DB_SQL(q_dept_exists, "SELECT 1 FROM departments WHERE code = ?");

/* Resolves department and item of a new thread; GH_EVALIDATION with a detail. */
static int target(struct req *r, struct ia_thread_in *in)
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
		req_error_detail(r, "%s", M(r, "interact_choose_department_service_item"));
		return GH_EVALIDATION;
	}
	if ((rc = db_query(r->db, r->arena, &q_dept_exists, DB_ARGS(DB_TEXT(in->department)), &rows)))
		return rc;
	if (rows.nrows == 0) {
		req_error_detail(r, "%s", M(r, "interact_there_such_department"));
		return GH_EVALIDATION;
	}
	return 0;
bad_item:
	req_error_detail(r, "%s", M(r, "interact_there_such_service_item"));
	return GH_EVALIDATION;
}

/* Checks subject, text and channel; GH_EVALIDATION / GH_EINVAL with a detail. */
static int texts(struct req *r, const struct ia_thread_in *in)
{
	if (!ia_text_ok(in->subject, INTERACT_SUBJECT_MAX, true)) {
		req_error_detail(r, "%s", M(r, "interact_give_title_most_100_characters"));
		return GH_EVALIDATION;
	}
	if (!ia_text_ok(in->text, INTERACT_TEXT_MAX, true)) {
		req_error_detail(r, "%s", M(r, "interact_write_message_most_2000_characters"));
		return GH_EVALIDATION;
	}
	if (in->channel && strcmp(in->channel, "web") && strcmp(in->channel, "app") && strcmp(in->channel, "kiosk")) {
		req_error_detail(r, "%s", M(r, "interact_channel_web_app_kiosk"));
		return GH_EINVAL;
	}
	return 0;
}

int ia_thread_submit(struct req *r, const struct ia_thread_in *in, ia_answer answer, const void *ctx,
		     int (*fn)(struct req *w, struct ia_write *x))
{
	struct ia_thread_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->in = *in;
	return ia_write(r, &a->x, fn);
}

int ia_thread_check(struct req *r, struct ia_thread_in *in)
{
	int rc = texts(r, in);
	return rc ? rc : target(r, in);
}

int ia_thread_open(struct req *r, struct ia_thread_in *in, const char *budget, long days, int32_t *due,
		   const char **channel)
{
	int rc = ia_thread_check(r, in);
	/* A person asks a few questions a day, not hundreds: a budget per account. */
	if (!rc)
		rc = identity_rate_limit(r, arena_printf(r->arena, "%s:%lld", budget, (long long)r->who.account), 30, 3600);
	if (rc)
		return rc;
	*due = ia_add_workdays(r->app, ia_today(), (int)days);
	*channel = in->channel ? in->channel : r->api ? "app" : "web";
	return 0;
}

int ia_thread_opened(struct req *r, const char *kind, int64_t id, int64_t person, const char *action, json_t *detail,
		     const char *department, int32_t due, const char *title_key, const char *body_key, const char *tell_kind)
{
	int rc = ia_event(r->db, kind, id, person, action, detail);
	if (rc)
		return rc;
	struct ia_message m = IA_MESSAGE(r->app->view, r->arena, title_key, body_key, MA("due", ia_day_str(r->arena, due)),
					 MA("id", (long long)id));
	return ia_tell_department(r->db, r->arena, department, false, tell_kind, &m, NULL);
}

int ia_thread_get(struct req *r, struct db_sql *q, int64_t id, const char *missing, const char *follow_kind,
		  struct ia_thread *t, struct db_rows *rows)
{
	int rc = db_query(r->db, r->arena, q, DB_ARGS(DB_INT(id)), rows);
	if (rc)
		return rc;
	if (rows->nrows == 1) {
		memset(t, 0, sizeof(*t));
		t->id = db_cell_int(rows, 0, 0);
		t->person = db_cell_int(rows, 0, 1);
		t->enterprise = db_cell_int(rows, 0, 2);
		t->department = db_cell(rows, 0, 3);
		t->item_code = db_cell(rows, 0, 4);
		t->subject = db_cell(rows, 0, 5);
		t->text = db_cell(rows, 0, 6);
		t->state = db_cell(rows, 0, 7);
		t->due_day = (int32_t)db_cell_int(rows, 0, 8);
		t->answer = db_cell(rows, 0, 9);
		t->answered_at = db_cell(rows, 0, 10) ? db_cell_int(rows, 0, 10) : 0;
		t->created_at = db_cell_int(rows, 0, 11);
		t->dept_name = ia_pick(r, db_cell(rows, 0, 12), db_cell(rows, 0, 13));
		t->item_name = ia_pick(r, db_cell(rows, 0, 14), db_cell(rows, 0, 15));
		t->person_name = db_cell(rows, 0, 16);
		t->evaluation_id = db_cell(rows, 0, 17) ? db_cell_int(rows, 0, 17) : 0;
		t->mine = identity_owns(r, t->person, t->enterprise);
		t->staff = ia_is_staff_of(r, t->department);
		t->open = !strcmp(t->state, "open");
		if (t->mine || r->role == ROLE_ADMIN || t->staff)
			return 0;
		if (follow_kind && (t->following = ia_following(r, follow_kind, t->id)))
			return 0;
	}
	req_error_detail(r, "%s", M(r, missing));
	return GH_ENOTFOUND;
}

json_t *ia_thread_json(struct req *r, const struct ia_thread *t, const char *kind)
{
	char key[64];
	snprintf(key, sizeof(key), "interact_thread_%s", t->state);
	json_t *j = json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:s,s:s,s:b,s:s?,s:b}", "id", (json_int_t)t->id, "department",
			      t->department, "department_name", t->dept_name, "item_code", t->item_code, "item_name",
			      t->item_name, "subject", t->subject, "state", t->state, "state_name", ia_msg(r, key, t->state),
			      "due_day", ia_day_str(r->arena, t->due_day), "overdue", t->open && t->due_day < ia_today(),
			      "created", ia_when(r->arena, t->created_at), "can_rate", t->mine && !t->open && !t->evaluation_id);
	if (!t->open) {
		ia_set(j, "answer", t->answer);
		ia_set(j, "answered", ia_when(r->arena, t->answered_at));
	}
	if (t->evaluation_id)
		json_object_set_new(j, "evaluation", json_integer((json_int_t)t->evaluation_id));
	json_object_set_new(j, "events", ia_events_json(r, kind, t->id));
	return j;
}

int ia_thread_answer(struct req *r, struct db_sql *q, const char *kind, const struct ia_thread *t, const char *text,
		     const char *answered)
{
	if (!ia_text_ok(text, INTERACT_ANSWER_MAX, true)) {
		req_error_detail(r, "%s", M(r, "interact_write_answer_most_4000_characters"));
		return GH_EVALIDATION;
	}
	int64_t changes = 0, now = clock_now();
	int rc = db_exec(r->db, q, DB_ARGS(DB_TEXT(text), DB_INT(r->who.account), DB_INT(now), DB_INT(t->id)), &changes);
	if (!rc && changes != 1) {
		req_error_detail(r, "%s", M(r, answered));
		rc = GH_ECONFLICT;
	}
	if (!rc)
		rc = ia_event(r->db, kind, t->id, r->who.account, "answer", NULL);
	return rc;
}

int ia_thread_tell(struct req *r, const struct ia_thread *t, const char *kind, const char *title_key,
		   const char *body_key)
{
	struct ia_message m = IA_MESSAGE(r->app->view, r->arena, title_key, body_key, MA("subject", t->subject),
					 MA("id", (long long)t->id));
	return notify_message(r->db, r->arena, t->enterprise ? t->enterprise : t->person, 0, kind, m.title_zh,
				    m.title_en, m.body_zh, m.body_en);
}

int ia_thread_state(struct req *r, const char *state, const char **out)
{
	*out = state && *state ? state : "";
	if (**out && strcmp(*out, "open") && strcmp(*out, "answered")) {
		req_error_detail(r, "%s", M(r, "interact_state_open_answered"));
		return GH_EINVAL;
	}
	return 0;
}

json_t *ia_thread_item(struct req *r, const struct db_rows *rows, size_t i, const char *base)
{
	const char *s = db_cell(rows, i, 2);
	char key[64];
	snprintf(key, sizeof(key), "interact_thread_%s", s);
	int32_t due = (int32_t)db_cell_int(rows, i, 3);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:s?,s:s,s:s?,s:s}", "id", (json_int_t)db_cell_int(rows, i, 0), "subject",
			 db_cell(rows, i, 1), "state", s, "state_name", ia_msg(r, key, s), "due_day", ia_day_str(r->arena, due),
			 "overdue", !strcmp(s, "open") && due < ia_today(), "created", ia_when(r->arena, db_cell_int(rows, i, 4)),
			 "department", db_cell(rows, i, 5), "department_name", ia_pick(r, db_cell(rows, i, 6), db_cell(rows, i, 7)),
			 "href", arena_printf(r->arena, "%s/%s", base, db_cell(rows, i, 0)));
}
