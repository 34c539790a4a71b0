/* common.c: what the interact module's files share (interact_impl.h): text checks, days and
 * moments for people, working days, staff of a department and telling them, the message
 * catalogs, events (the history of every subject, committed to the transparency log), answers,
 * and the one place each where figures (statistics) and the transparency log are told. It
 * calls no other file of the module, so evaluations, rectifications, consultations and
 * complaints each reach only here and not into one another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/write.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "ledger/ledger.h"
#include "notify/notify.h"
#include "stats/stats.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

/* ---- the one write path ------------------------------------------------------------------ */

void *ia_write_args(struct req *r, size_t size, ia_answer answer, const void *ctx)
{
	struct ia_write *x = arena_zalloc(r->arena, size);
	x->answer = answer;
	x->ctx = ctx;
	return x;
}

/* In a transaction of its own as every covered write is (cover_tx_begin: on the writer a
 * savepoint of its batch), so the rows it covers are committed to the transparency log with
 * it, and a failure undoes all of it. */
static int write_run(struct req *w, void *p)
{
	struct ia_write *x = p;
	bool own;
	int rc = cover_tx_begin(w->db, &own);
	if (!rc)
		rc = x->fn(w, x);
	return cover_tx_end(w->db, own, rc);
}

static int write_answer(struct req *r, void *p, int rc)
{
	struct ia_write *x = p;
	if (!rc)
		notify_nudge();
	return x->answer(r, rc, x->id, x->ctx);
}

int ia_write(struct req *r, struct ia_write *x, int (*fn)(struct req *w, struct ia_write *x))
{
	x->fn = fn;
	return req_write(r, write_run, write_answer, x);
}

/* ---- small shared helpers ------------------------------------------------------------- */

bool ia_text_ok(const char *s, size_t max_chars, bool required)
{
	if (!s)
		return !required;
	size_t len = strlen(s);
	if (required) {
		size_t i = 0;
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i == len)
			return false;
	}
	return str_utf8_valid(s, len) && str_utf8_chars(s, len) <= max_chars;
}

int64_t ia_param_id(const struct req *r)
{
	int64_t id = 0;
	req_param_id(r, "id", &id);
	return id;
}

int32_t ia_today(void)
{
	return calendar_day_of((time_t)clock_now());
}

const char *ia_day_str(struct arena *a, int32_t day)
{
	char buf[11];
	calendar_format_day(day, buf);
	return arena_strdup(a, buf);
}

const char *ia_when(struct arena *a, int64_t t)
{
	char buf[CALENDAR_MINUTE_LEN];
	return t && calendar_format_minute(t, buf) ? arena_strdup(a, buf) : NULL;
}

int32_t ia_add_workdays(const struct app *app, int32_t from, int n)
{
	const struct calendar *cal = app ? app->calendar : NULL;
	if (cal)
		return calendar_add_workdays(cal, from, n);
	struct calendar *own = calendar_new(NULL, 0, NULL, 0);
	int32_t d = calendar_add_workdays(own, from, n);
	calendar_free(own);
	return d;
}

bool ia_is_staff_of(const struct req *r, const char *department)
{
	return r->role == ROLE_STAFF && r->who.department && department && strcmp(r->who.department, department) == 0;
}

bool ia_is_head_of(const struct req *r, const char *department)
{
	return ia_is_staff_of(r, department) && (r->who.staff_roles & STAFF_HEAD);
}

struct ia_message ia_message(const struct view *v, struct arena *a, const char *title_key, const char *body_key,
			     const struct msg_arg *args, size_t nargs)
{
	return (struct ia_message){ .title_zh = view_msg(v, "zh", title_key), .title_en = view_msg(v, "en", title_key),
				    .body_zh = view_fmt(v, "zh", a, body_key, args, nargs),
				    .body_en = view_fmt(v, "en", a, body_key, args, nargs) };
}

static int tell(struct db *db, struct arena *a, int64_t account, const char *kind, const struct ia_message *m, int *n)
{
	int rc = notify_inbox_message(db, a, account, 0, kind, m->title_zh, m->title_en, m->body_zh, m->body_en);
	if (!rc && n)
		(*n)++;
	return rc;
}

int ia_tell_department(struct db *db, struct arena *a, const char *department, bool heads_only, const char *kind,
		       const struct ia_message *m, int *n)
{
	struct identity_staff *st;
	size_t ns;
	int rc = identity_department_staff(db, a, department, &st, &ns);
	for (size_t i = 0; i < ns && !rc; i++)
		if (!heads_only || (st[i].staff_roles & STAFF_HEAD))
			rc = tell(db, a, st[i].id, kind, m, n);
	return rc;
}

DB_SQL(q_admins, "SELECT id FROM accounts WHERE kind = 'admin' AND status = 'active' ORDER BY id");

int ia_tell_admins(struct db *db, struct arena *a, const char *kind, const struct ia_message *m, int *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_admins, DB_NOARGS, &rows);
	for (size_t i = 0; i < rows.nrows && !rc; i++)
		rc = tell(db, a, db_cell_int(&rows, i, 0), kind, m, n);
	return rc;
}

const char *ia_pick(const struct req *r, const char *zh, const char *en)
{
	return ia_en(r) && en && *en ? en : zh;
}

const char *ia_msg(struct req *r, const char *key, const char *fallback)
{
	const char *m = view_msg(r->app->view, r->lang, key);
	return m && strcmp(m, key) != 0 ? m : fallback;
}

DB_SQL(q_event, "INSERT INTO interact_events (subject_kind, subject_id, at, actor_id, action, detail) "
		"VALUES (?, ?, ?, ?, ?, ?) RETURNING id");

/* ---- what the transparency log covers (store/cover.h) ------------------------------------
 * Every evaluation, rectification task, appeal, consultation and complaint, and their
 * history. Every change of one of them records an event (ia_event), which touches the event
 * and its subject: so each change is committed to the log in its transaction. */
static const struct cover_table cover_tables[] = {
	{ .table = "evaluations", .key = "id",
	  .cols = "subject_kind, subject_id, subject_ref, rater_id, enterprise_id, entered_by, department, item_code, channel, level, "
		  "tags, comment, bad, excluded, day, created_at" },
	{ .table = "rectifications", .key = "id",
	  .cols = "evaluation_id, department, state, due_day, visit_at, visit_method, visit_notes, visited_by, "
		  "rectify_notes, rectified_at, rectified_by, feedback, feedback_at, feedback_by, citizen_level, "
		  "citizen_rated_at, warned_at, created_at, updated_at" },
	{ .table = "appeals", .key = "id",
	  .cols = "evaluation_id, department, reason, filed_by, filed_at, state, decided_by, decided_at, decision_note" },
	{ .table = "consultations", .key = "id",
	  .cols = "asker_id, enterprise_id, department, item_code, subject, question, consent_public, channel, state, due_day, answer, "
		  "answered_by, answered_at, public_question, public_answer, published, warned_at, created_at" },
	{ .table = "complaints", .key = "id",
	  .cols = "complainant_id, enterprise_id, kind, department, item_code, application_number, subject, body, channel, state, "
		  "due_day, escalation, escalated_at, answer, answered_by, answered_at, created_at" },
	{ .table = "interact_events", .key = "id", .cols = "subject_kind, subject_id, at, actor_id, action, detail" },
	/* who has the same problem as a report's reporter (dupes.c) */
	{ .table = "report_followers", .key = "id",
	  .cols = "subject_kind, subject_id, account_id, enterprise_id, via, created_at" },
	/* consultations and complaints forwarded to another hall, and received from one (forward.c) */
	{ .table = "interact_forwards", .key = "number",
	  .cols = "kind, thread_id, dest, reason, forwarded_by, state, remote_id, remote_due, note, last_seq, created_at" },
	{ .table = "interact_received", .key = "kind, thread_id", .cols = "origin, origin_number, received_at" },
};

void interact_register(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cover_tables); i++)
		cover_declare(&cover_tables[i]);
}

/* The table of an event's subject ("application": an invitation to rate, which changes no row
 * of this module). */
static const char *subject_table(const char *kind)
{
	static const char *const map[][2] = { { "evaluation", "evaluations" }, { "rectification", "rectifications" },
					      { "appeal", "appeals" }, { "consultation", "consultations" },
					      { "complaint", "complaints" } };
	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (!strcmp(kind, map[i][0]))
			return map[i][1];
	return NULL;
}

int ia_event(struct db *db, const char *kind, int64_t id, int64_t actor, const char *action, json_t *detail)
{
	char *d = detail ? jsonout_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_event,
			  DB_ARGS(DB_TEXT(kind), DB_INT(id), DB_INT(clock_now()), actor ? DB_INT(actor) : DB_NULL,
				  DB_TEXT(action), DB_TEXT(d ? d : "{}")),
			  &rows);
	char what[64];
	snprintf(what, sizeof(what), "%s.%s", kind, action);
	if (!rc)
		rc = cover_touch(db, "interact_events", db_cell(&rows, 0, 0), what);
	if (!rc && subject_table(kind))
		rc = cover_touch_id(db, subject_table(kind), id, what);
	arena_free(a);
	free(d);
	json_decref(detail);
	return rc;
}

DB_SQL(q_events, "SELECT e.at, e.action, e.detail, a.name FROM interact_events e "
		 "LEFT JOIN accounts a ON a.id = e.actor_id WHERE e.subject_kind = ? AND e.subject_id = ? ORDER BY e.id");

json_t *ia_events_json(struct req *r, const char *kind, int64_t id)
{
	json_t *arr = json_array();
	struct db_rows rows;
	if (db_query(r->db, r->arena, &q_events, DB_ARGS(DB_TEXT(kind), DB_INT(id)), &rows))
		return arr;
	for (size_t i = 0; i < rows.nrows; i++) {
		json_t *d = json_loads(db_cell(&rows, i, 2), 0, NULL);
		int64_t at = db_cell_int(&rows, i, 0);
		const char *action = db_cell(&rows, i, 1);
		char key[64];
		snprintf(key, sizeof(key), "interact_event_%s", action);
		const char *name = ia_msg(r, key, action);
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:o}", "at", (json_int_t)at, "when",
						     ia_when(r->arena, at), "action", action, "action_name", name,
						     "actor", db_cell(&rows, i, 3), "detail", d ? d : json_object()));
	}
	return arr;
}

/* ---- the hooks: figures and the transparency log ---------------------------------------- */

/* The one place statistics learn of an evaluation, inside the transaction that records it
 * (excluded == false) or that excludes it after an upheld appeal (excluded == true: the same
 * evaluation is taken out of the rollups again, on its own day). Returns 0 or a GH_E code
 * (which rolls the transaction back). */
int interact_figures_evaluation(struct db *db, struct arena *a, const struct ia_eval *e, bool excluded)
{
	const char *item = e->item_code ? e->item_code : "";
	if (excluded)
		return stats_evaluation_exclude(db, a, e->department, item, e->channel, e->level, e->day, e->bad);
	return stats_evaluation(db, a, e->department, item, e->channel, e->level, e->day, e->bad);
}

/* The one place statistics learn of rectification tasks: called once, when the citizen rates
 * the rectification and the task closes, with rectified == true for 满意 or 基本满意 (the
 * problem was put right) and false for 不满意. A task cancelled by an upheld appeal is not
 * counted (stats.h). */
int interact_figures_rectification(struct db *db, struct arena *a, const char *department, const char *item_code,
				   int32_t day, bool rectified)
{
	return stats_rectification(db, a, department, item_code ? item_code : "", day, rectified);
}

/* The one place the transparency log learns of evaluations ("evaluation", when one is
 * recorded) and of appeal decisions ("evaluation_appeal"), inside their transactions, as
 * ledger leaves referring to the row ("<kind>:<id>"). canonical holds no personal data (no
 * rater, no comment); its "kind" member is set here. Steals canonical. Returns 0 or a GH_E
 * code. */
int interact_ledger(struct db *db, struct arena *a, const char *kind, json_t *canonical)
{
	json_object_set_new(canonical, "kind", json_string(kind));
	const char *ref = arena_printf(a, "%s:%lld", kind,
				       (long long)json_integer_value(json_object_get(canonical, !strcmp(kind, "evaluation") ? "id" : "appeal")));
	char *text = ledger_canonical(a, canonical);
	json_decref(canonical);
	if (!text)
		return GH_EINVAL;
	return ledger_append_ref(db, a, kind, ref, NULL, text, NULL);
}
