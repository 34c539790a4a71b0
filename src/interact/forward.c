/* forward.c: consultations and complaints sent to the wrong hall, forwarded to the hall they
 * belong to (一体化; docs/federation.md "Consultations and complaints across halls").
 *
 * At hall A, staff of the thread's department forward an open consultation or complaint to
 * another hall of the directory, with a reason for the person. One write: the forwarding
 * (interact_forwards), the thread's event "forward", the person told, and the message
 * "interact.forward" in the outbox (the person's name and ID number in it: the outbox seals
 * message bodies at rest). The thread stays open at A, out of A's staff's hands and duties,
 * until hall B's answer comes back.
 *
 * At hall B, the kind "interact.forward" files it in B's own queue (B's department of the
 * item, B's due day, B's staff told) for B's local account of the person (by ID number, made
 * when there is none, as forwarded applications are), and records where it came from
 * (interact_received); B's rules refusing it (no such item or department, texts) send it back
 * with B's reason. Every step B takes goes back as "interact.state" on the same subject:
 * received (B's number and due day), answered (the answer), returned (not taken, why).
 *
 * At A, "interact.state" is taken only from the hall the thread went to; the answer becomes
 * the thread's answer as any answer (the person told, rateable), a return puts the thread back
 * in A's staff's hands. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/util.h"
#include "federation/federation.h"
#include "http/msg.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "notify/notify.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

#define REASON_MAX 500 /* characters of the reason for the person */

/* What differs between the two kinds of thread. */
struct fkind {
	const char *kind, *prefix, *base;
	struct db_sql *get, *answer;
	const char *missing, *answered_title, *answered_body, *tell_kind, *forwarded_kind;
};

DB_SQL(q_consult, IA_THREAD_COLS("asker_id", "question", "consultation") ", c.consent_public, 'consultation', 0"
		  IA_THREAD_FROM("consultations", "asker_id"));
DB_SQL(q_complaint, IA_THREAD_COLS("complainant_id", "body", "complaint") ", c.escalation, c.kind, COALESCE(c.merged_into, 0)"
		    IA_THREAD_FROM("complaints", "complainant_id"));
DB_SQL(q_consult_answered, "UPDATE consultations SET state = 'answered', answer = ?, answered_by = NULL, answered_at = ? "
			   "WHERE id = ? AND state = 'open'");
DB_SQL(q_complaint_answered, "UPDATE complaints SET state = 'answered', answer = ?, answered_by = NULL, answered_at = ? "
			     "WHERE id = ? AND state = 'open'");

static const struct fkind kinds[] = {
	{ "consultation", "ZX", "/consultations", &q_consult, &q_consult_answered, N_("interact_such_consultation"),
	  N_("interact_consultation_answered_title"), N_("interact_consultation_answered_body"), "consult_answered",
	  "consult_forwarded" },
	{ "complaint", "TS", "/complaints", &q_complaint, &q_complaint_answered, N_("interact_such_complaint_suggestion"),
	  N_("interact_complaint_answered_title"), N_("interact_complaint_answered_body"), "complaint_answered",
	  "complaint_forwarded" },
};

static const struct fkind *fkind_of(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].kind, kind))
			return &kinds[i];
	return NULL;
}

/* The name the directory held gives another hall (its id when it lists none), in a. */
static const char *name_of_hall(struct arena *a, const char *id)
{
	const char **ids, **names;
	size_t n = fed_halls(a, &ids, &names);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return names[i];
	return id;
}

static int refuse(struct req *r, int code, const char *key)
{
	req_error_detail(r, "%s", M(r, key));
	return code;
}

/* ---- where a thread stands ---------------------------------------------------------------- */

DB_SQL(q_latest, "SELECT number, dest, reason, state, remote_id, remote_due, note, created_at, updated_at "
		 "FROM interact_forwards WHERE kind = ? AND thread_id = ? ORDER BY id DESC LIMIT 1");
DB_SQL(q_received, "SELECT origin, origin_number FROM interact_received WHERE kind = ? AND thread_id = ?");

/* The latest forwarding of thread (kind, id): 0 with *rows (nrows 0 when none). */
static int latest(struct db *db, struct arena *a, const char *kind, int64_t id, struct db_rows *rows)
{
	return db_query(db, a, &q_latest, DB_ARGS(DB_TEXT(kind), DB_INT(id)), rows);
}

static bool active_state(const char *s)
{
	return !strcmp(s, "forwarded") || !strcmp(s, "received");
}

int ia_forward_pending(struct req *r, const char *kind, int64_t id, bool *pending)
{
	struct db_rows rows;
	int rc = latest(r->db, r->arena, kind, id, &rows);
	*pending = !rc && rows.nrows == 1 && active_state(db_cell(&rows, 0, 3));
	return rc;
}

void ia_forward_json(struct req *r, const char *kind, const struct ia_thread *t, json_t *j)
{
	struct db_rows rows;
	bool pending = false;
	if (!latest(r->db, r->arena, kind, t->id, &rows) && rows.nrows == 1) {
		const char *hall = db_cell(&rows, 0, 1), *state = db_cell(&rows, 0, 3);
		const char *name = name_of_hall(r->arena, hall);
		pending = active_state(state);
		json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?}", "hall", hall, "hall_name", name ? name : hall, "reason",
				      db_cell(&rows, 0, 2), "state", state, "state_name", MC(r, "interact_forward_state_", state), "at",
				      ia_when(r->arena, db_cell_int(&rows, 0, 7)));
		ia_set(f, "due_day", db_cell(&rows, 0, 5));
		ia_set(f, "note", db_cell(&rows, 0, 6));
		if (t->staff || r->role == ROLE_ADMIN) {
			ia_set(f, "number", db_cell(&rows, 0, 0));
			if (db_cell(&rows, 0, 4))
				json_object_set_new(f, "remote_id", json_integer(db_cell_int(&rows, 0, 4)));
		}
		json_object_set_new(j, "forwarded", f);
	}
	if (pending) { /* the other hall's to answer, by its own due day */
		json_object_set_new(j, "can_answer", json_false());
		json_object_set_new(j, "overdue", json_false());
	}
	struct db_rows rec;
	bool received = !db_query(r->db, r->arena, &q_received, DB_ARGS(DB_TEXT(kind), DB_INT(t->id)), &rec) && rec.nrows == 1;
	if (received && (t->staff || r->role == ROLE_ADMIN)) {
		const char *name = name_of_hall(r->arena, db_cell(&rec, 0, 0));
		json_object_set_new(j, "received_from", json_pack("{s:s,s:s}", "hall", db_cell(&rec, 0, 0), "hall_name",
								  name ? name : db_cell(&rec, 0, 0)));
	}
	/* Staff may forward an open thread of theirs that is not away already nor came from
	 * another hall; the words naming another hall's region suggest where. */
	bool can = t->staff && t->open && !pending && !received && !t->enterprise && *fed_self();
	json_object_set_new(j, "can_forward", json_boolean(can));
	if (can) {
		const char *hall = fed_hall_of_place(r->arena, arena_printf(r->arena, "%s %s", t->subject, t->text));
		const char *name = hall ? name_of_hall(r->arena, hall) : NULL;
		if (hall)
			json_object_set_new(j, "forward_suggested", json_pack("{s:s,s:s}", "hall", hall, "hall_name", name ? name : hall));
	}
}

/* ---- at A: forwarding --------------------------------------------------------------------- */

DB_SQL(q_forward_add, "INSERT INTO interact_forwards (number, kind, thread_id, dest, reason, forwarded_by, state, "
		      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'forwarded', ?, ?)");

struct forward_args {
	struct ia_write x;
	const struct fkind *k;
	const char *hall, *reason, *item_code;
};

/* The person's name and the subject masked as another person's words, for followers. */
static int tell_followers(struct req *r, const struct ia_thread *t, const char *hall_name, const char *reason)
{
	struct ia_message m = IA_MESSAGE(r->app->view, r->arena, N_("interact_forwarded_title"), N_("interact_forwarded_body"),
					 MA("subject", ia_others_words(r->arena, t->subject, INTERACT_SUBJECT_MAX, t->person_name)),
					 MA("path", arena_printf(r->arena, "/complaints/%lld", (long long)t->id)),
					 MA("hall", hall_name), MA("reason", reason));
	return ia_followers_tell(r, "complaint", t->id, "complaint_forwarded", &m);
}

/* On the writer (r is its copy of the request). */
static int forward_write(struct req *r, struct ia_write *x)
{
	const struct forward_args *a = (const struct forward_args *)x;
	const struct fkind *k = a->k;
	struct ia_thread t;
	struct db_rows rows;
	int rc = ia_thread_get(r, k->get, x->id, k->missing, NULL, &t, &rows);
	if (rc)
		return rc;
	bool complaint = !strcmp(k->kind, "complaint");
	bool admin_may = complaint && r->role == ROLE_ADMIN && db_cell_int(&rows, 0, IA_THREAD_OWN_COL) >= 2;
	if (!t.staff && !admin_may)
		return refuse(r, GH_EFORBIDDEN, N_("interact_forward_staff_only"));
	if (!t.open || (complaint && db_cell_int(&rows, 0, IA_THREAD_OWN_COL + 2)))
		return refuse(r, GH_ECONFLICT, N_("interact_forward_not_open"));
	if (t.enterprise)
		return refuse(r, GH_ECONFLICT, N_("interact_forward_individuals_only"));
	bool pending;
	if ((rc = ia_forward_pending(r, k->kind, t.id, &pending)))
		return rc;
	if (pending)
		return refuse(r, GH_ECONFLICT, N_("interact_forward_pending"));
	struct db_rows rec;
	if ((rc = db_query(r->db, r->arena, &q_received, DB_ARGS(DB_TEXT(k->kind), DB_INT(t.id)), &rec)))
		return rc;
	if (rec.nrows)
		return refuse(r, GH_ECONFLICT, N_("interact_forward_received"));
	struct identity_claims c;
	if ((rc = identity_person_claims(r->db, r->arena, t.person, &c)))
		return rc == GH_ENOTFOUND ? refuse(r, GH_ECONFLICT, N_("interact_forward_individuals_only")) : rc;
	const char *item = a->item_code && *a->item_code ? a->item_code : t.item_code;
	int64_t now = clock_now();
	unsigned char rnd[5];
	randombytes_buf(rnd, sizeof(rnd));
	struct tm tm;
	time_t tt = (time_t)now;
	gmtime_r(&tt, &tm);
	const char *number = arena_printf(r->arena, "%s%04d%02d%02d%02X%02X%02X%02X%02X", k->prefix, tm.tm_year + 1900,
					  tm.tm_mon + 1, tm.tm_mday, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4]);
	const char *hall_name = name_of_hall(r->arena, a->hall);
	/* What B needs to file it and nothing more: the person (to find B's own account of them),
	 * the place (the item, else the department), the texts. A complaint's followers stay here. */
	json_t *body = json_pack("{s:s,s:s,s:s*,s:s*,s:s,s:s,s:b,s:s,s:s,s:I,s:{s:s,s:s}}", "number", number, "kind", k->kind,
				 "item_code", item, "department", item ? NULL : t.department, "subject", t.subject, "text",
				 t.text, "consent_public", !complaint && db_cell_int(&rows, 0, IA_THREAD_OWN_COL) == 1, "type",
				 complaint ? db_cell(&rows, 0, IA_THREAD_OWN_COL + 1) : "consultation", "reason", a->reason,
				 "asked_at", (json_int_t)t.created_at, "person", "name", c.name, "id_number", c.id_number);
	if (!body)
		return GH_EINTERNAL;
	rc = db_exec(r->db, &q_forward_add,
		     DB_ARGS(DB_TEXT(number), DB_TEXT(k->kind), DB_INT(t.id), DB_TEXT(a->hall), DB_TEXT(a->reason),
			     DB_INT(r->who.account), DB_INT(now), DB_INT(now)),
		     NULL);
	if (!rc)
		rc = cover_touch(r->db, "interact_forwards", number, "interact.forward");
	if (!rc)
		rc = fed_outbox_add(r->db, fed_self(), a->hall, number, "interact.forward", body);
	json_decref(body);
	if (!rc)
		rc = ia_event(r->db, k->kind, t.id, r->who.account, "forward",
			      json_pack("{s:s,s:s,s:s}", "hall", a->hall, "hall_name", hall_name, "reason", a->reason));
	if (!rc) {
		struct ia_message m = IA_MESSAGE(r->app->view, r->arena, N_("interact_forwarded_title"),
						 N_("interact_forwarded_body"), MA("subject", t.subject),
						 MA("path", arena_printf(r->arena, "%s/%lld", k->base, (long long)t.id)),
						 MA("hall", hall_name), MA("reason", a->reason));
		rc = notify_message(r->db, r->arena, t.person, 0, k->forwarded_kind, m.title_zh, m.title_en, m.body_zh, m.body_en);
	}
	if (!rc && complaint)
		rc = tell_followers(r, &t, hall_name, a->reason);
	return rc;
}

int ia_forward(struct req *r, const char *kind, int64_t id, const char *hall, const char *reason, const char *item_code,
	       ia_answer answer, const void *ctx)
{
	const struct fkind *k = fkind_of(kind);
	if (!k)
		return GH_ENOTFOUND;
	if (!*fed_self())
		return refuse(r, GH_ENOTFOUND, N_("interact_forward_not_federated"));
	if (!hall || !fed_hall_known(hall))
		return refuse(r, GH_EVALIDATION, N_("interact_forward_hall_unknown"));
	if (!ia_text_ok(reason, REASON_MAX, true))
		return refuse(r, GH_EVALIDATION, N_("interact_forward_reason_needed"));
	if (item_code && (strlen(item_code) > 64 || !*item_code))
		return refuse(r, GH_EVALIDATION, N_("interact_there_such_service_item"));
	struct forward_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = id;
	a->k = k;
	a->hall = hall;
	a->reason = reason;
	a->item_code = item_code;
	return ia_write(r, &a->x, forward_write);
}

/* ---- at B: the kind "interact.forward" ----------------------------------------------------- */

struct fwd_in {
	const struct fkind *k;
	struct ia_thread_in in;
	const char *number, *name, *id_number;
	const char *refused; /* B's reason when it does not take it (then nothing is filed) */
};

static bool str_ok(const char *s, size_t max)
{
	return s && *s && strlen(s) <= max;
}

const char *ia_forward_msg_check(const json_t *b, const char *subject, struct ia_forward_msg *out)
{
	const json_t *p = json_object_get(b, "person");
	const char *num = json_string_value(json_object_get(b, "number"));
	const char *kind = json_string_value(json_object_get(b, "kind"));
	memset(out, 0, sizeof(*out));
	out->complaint = kind && !strcmp(kind, "complaint");
	out->name = json_string_value(json_object_get(p, "name"));
	out->id_number = json_string_value(json_object_get(p, "id_number"));
	out->type = json_string_value(json_object_get(b, "type"));
	out->item_code = json_string_value(json_object_get(b, "item_code"));
	out->department = json_string_value(json_object_get(b, "department"));
	out->subject = json_string_value(json_object_get(b, "subject"));
	out->text = json_string_value(json_object_get(b, "text"));
	out->consent_public = json_is_true(json_object_get(b, "consent_public"));
	bool typed = out->complaint ? out->type && (!strcmp(out->type, "complaint") || !strcmp(out->type, "suggestion"))
				    : kind && !strcmp(kind, "consultation");
	if (!typed || !num || !subject || strcmp(num, subject) || !str_ok(out->name, 100) || !str_ok(out->id_number, 32) ||
	    !str_ok(out->subject, 4 * INTERACT_SUBJECT_MAX) || !str_ok(out->text, 4 * INTERACT_TEXT_MAX) ||
	    (out->item_code && !str_ok(out->item_code, 64)) || (out->department && !str_ok(out->department, 64)) ||
	    (!out->item_code && !out->department) || !json_is_boolean(json_object_get(b, "consent_public")))
		return "interact.forward takes {number (= the subject), kind (consultation|complaint), type (complaint|"
		       "suggestion for a complaint), item_code or department, subject, text, consent_public, reason, asked_at, "
		       "person: {name, id_number}}";
	return NULL;
}

static int forward_prepare(struct req *r, const struct fed_message *m, void **ctx, const char **why)
{
	struct fwd_in *x = arena_zalloc(r->arena, sizeof(*x));
	*ctx = x;
	struct ia_forward_msg f;
	if ((*why = ia_forward_msg_check(m->body, m->subject, &f)))
		return GH_EVALIDATION;
	x->k = fkind_of(f.complaint ? "complaint" : "consultation");
	x->number = m->subject;
	x->name = f.name;
	x->id_number = f.id_number;
	x->in = (struct ia_thread_in){ .kind = f.complaint ? f.type : NULL, .item_code = f.item_code, .department = f.department,
				       .subject = f.subject, .text = f.text, .consent_public = f.consent_public };
	/* B's own rules: its catalog, its departments, the texts' sizes. What they refuse goes back
	 * with B's reason, so A's staff can answer or forward it elsewhere. */
	const char *before = r->error_detail;
	int rc = ia_thread_check(r, &x->in);
	if (rc == GH_EVALIDATION || rc == GH_EINVAL) {
		x->refused = r->error_detail ? arena_strdup(r->arena, r->error_detail) : "";
		r->error_detail = before;
	} else if (rc)
		return rc;
	return 0;
}

DB_SQL(q_received_add, "INSERT INTO interact_received (kind, thread_id, origin, origin_number, received_at) VALUES (?, ?, ?, ?, ?)");

/* The message back to A about its subject number. */
static int state_back(struct db *db, const char *origin, const char *number, json_t *b)
{
	json_object_set_new(b, "number", json_string(number));
	json_object_set_new(b, "at", json_integer(clock_now()));
	int rc = fed_outbox_add(db, fed_self(), origin, number, "interact.state", b);
	json_decref(b);
	return rc;
}

static int forward_receive(struct req *w, const struct fed_message *m, void *ctx)
{
	struct fwd_in *x = ctx;
	if (x->refused)
		return state_back(w->db, m->from, x->number, json_pack("{s:s,s:s}", "action", "returned", "note", x->refused));
	int64_t account, id;
	bool created;
	int rc = identity_external_person(w, x->id_number, x->name, &account, &created);
	if (rc == GH_EINVAL || rc == GH_EFORBIDDEN)
		return state_back(w->db, m->from, x->number,
				  json_pack("{s:s,s:s}", "action", "returned", "note",
					    view_msg(w->app->view, w->lang, "interact_forward_person_invalid")));
	if (rc)
		return rc;
	bool complaint = !strcmp(x->k->kind, "complaint");
	int32_t due = ia_add_workdays(w->app, ia_today(), (int)(complaint ? w->app->cfg.complaint_days : w->app->cfg.consult_days));
	json_t *from = json_pack("{s:s,s:s}", "from", m->from, "number", x->number);
	rc = complaint ? ia_complaint_file(w, &x->in, account, due, "federation", from, &id)
		       : ia_consult_file(w, &x->in, account, due, "federation", from, &id);
	if (rc)
		return rc;
	if ((rc = db_exec(w->db, &q_received_add,
			  DB_ARGS(DB_TEXT(x->k->kind), DB_INT(id), DB_TEXT(m->from), DB_TEXT(x->number), DB_INT(clock_now())), NULL)))
		return rc;
	if ((rc = cover_touch(w->db, "interact_received", arena_printf(w->arena, "%s:%lld", x->k->kind, (long long)id),
			      "interact.receive")))
		return rc;
	return state_back(w->db, m->from, x->number,
			  json_pack("{s:s,s:I,s:s}", "action", "received", "remote_id", (json_int_t)id, "due_day",
				    ia_day_str(w->arena, due)));
}

static const struct fed_kind kind_forward = { "interact.forward", forward_prepare, forward_receive };

int ia_forward_answered(struct req *r, const char *kind, const struct ia_thread *t, const char *text, bool *received)
{
	struct db_rows rec;
	int rc = db_query(r->db, r->arena, &q_received, DB_ARGS(DB_TEXT(kind), DB_INT(t->id)), &rec);
	*received = !rc && rec.nrows == 1;
	if (rc || !*received)
		return rc;
	return state_back(r->db, db_cell(&rec, 0, 0), db_cell(&rec, 0, 1),
			  json_pack("{s:s,s:s,s:I}", "action", "answered", "answer", text, "answered_at", (json_int_t)clock_now()));
}

bool ia_forward_received(struct req *r, const char *kind, int64_t id)
{
	struct db_rows rec;
	return !db_query(r->db, r->arena, &q_received, DB_ARGS(DB_TEXT(kind), DB_INT(id)), &rec) && rec.nrows == 1;
}

/* ---- at A: the kind "interact.state" ----------------------------------------------------- */

struct state_in {
	const struct fkind *k;
	int64_t fwd_id, thread_id;
	struct ia_forward_state s;
};

DB_SQL(q_forward_get, "SELECT id, kind, thread_id, dest FROM interact_forwards WHERE number = ?");

const char *ia_forward_state_check(const json_t *b, const char *subject, struct ia_forward_state *out)
{
	const char *num = json_string_value(json_object_get(b, "number"));
	memset(out, 0, sizeof(*out));
	out->action = json_string_value(json_object_get(b, "action"));
	out->answer = json_string_value(json_object_get(b, "answer"));
	out->note = json_string_value(json_object_get(b, "note"));
	out->due_day = json_string_value(json_object_get(b, "due_day"));
	const json_t *rid = json_object_get(b, "remote_id"), *at = json_object_get(b, "answered_at");
	bool ok = num && subject && !strcmp(num, subject) && out->action;
	if (ok && !strcmp(out->action, "received"))
		ok = json_is_integer(rid) && json_integer_value(rid) > 0 && out->due_day && strlen(out->due_day) == 10;
	else if (ok && !strcmp(out->action, "answered"))
		ok = ia_text_ok(out->answer, INTERACT_ANSWER_MAX, true) && json_is_integer(at);
	else if (ok && !strcmp(out->action, "returned"))
		ok = ia_text_ok(out->note, INTERACT_TEXT_MAX, false);
	else
		ok = false;
	if (!ok)
		return "interact.state takes {number (= the subject), action: received {remote_id, due_day} | answered "
		       "{answer, answered_at} | returned {note}, at}";
	out->remote_id = json_integer_value(rid);
	out->answered_at = json_integer_value(at);
	return NULL;
}

static int state_prepare(struct req *r, const struct fed_message *m, void **ctx, const char **why)
{
	struct state_in *x = arena_zalloc(r->arena, sizeof(*x));
	*ctx = x;
	if ((*why = ia_forward_state_check(m->body, m->subject, &x->s)))
		return GH_EVALIDATION;
	const char *num = m->subject;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_forward_get, DB_ARGS(DB_TEXT(num)), &rows);
	if (rc)
		return rc;
	/* Only the hall it was forwarded to speaks of it. */
	if (rows.nrows != 1 || strcmp(db_cell(&rows, 0, 3), m->from)) {
		*why = arena_printf(r->arena, "nothing %s was forwarded from this hall to %s", num, m->from);
		return GH_EVALIDATION;
	}
	x->fwd_id = db_cell_int(&rows, 0, 0);
	x->k = fkind_of(db_cell(&rows, 0, 1));
	x->thread_id = db_cell_int(&rows, 0, 2);
	return x->k ? 0 : GH_EINTERNAL;
}

DB_SQL(q_forward_state, "UPDATE interact_forwards SET state = ?, remote_id = COALESCE(?, remote_id), "
			"remote_due = COALESCE(?, remote_due), note = COALESCE(?, note), last_seq = ?, updated_at = ? "
			"WHERE id = ? RETURNING number");

static int state_write(struct req *w, const struct fed_message *m, void *ctx)
{
	struct state_in *x = ctx;
	const struct fkind *k = x->k;
	bool received = !strcmp(x->s.action, "received"), answered = !strcmp(x->s.action, "answered");
	const char *state = received ? "received" : answered ? "answered" : "returned";
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_forward_state,
			  DB_ARGS(DB_TEXT(state), received ? DB_INT(x->s.remote_id) : DB_NULL, DB_TEXT(x->s.due_day), DB_TEXT(x->s.note),
				  DB_INT(m->seq), DB_INT(clock_now()), DB_INT(x->fwd_id)),
			  &rows);
	if (!rc)
		rc = cover_touch(w->db, "interact_forwards", db_cell(&rows, 0, 0), "interact.forward_state");
	if (rc)
		return rc;
	const char *hall_name = name_of_hall(w->arena, m->from);
	struct ia_thread t;
	struct db_rows trows;
	/* The thread as its staff would read it (the writer's copy has no caller): its person. */
	if ((rc = db_query(w->db, w->arena, k->get, DB_ARGS(DB_INT(x->thread_id)), &trows)))
		return rc;
	if (trows.nrows != 1)
		return GH_EINTERNAL;
	memset(&t, 0, sizeof(t));
	t.id = x->thread_id;
	t.person = db_cell_int(&trows, 0, 1);
	t.enterprise = db_cell_int(&trows, 0, 2);
	t.department = db_cell(&trows, 0, 3);
	t.subject = db_cell(&trows, 0, 5);
	t.person_name = db_cell(&trows, 0, 16);
	if (received)
		return ia_event(w->db, k->kind, t.id, 0, "forward_received",
				json_pack("{s:s,s:s,s:s}", "hall", m->from, "hall_name", hall_name, "due_day", x->s.due_day));
	if (!answered) {
		/* Not taken there: back in this hall's staff's hands, with the other hall's reason. */
		if ((rc = ia_event(w->db, k->kind, t.id, 0, "forward_returned",
				   json_pack("{s:s,s:s,s:s}", "hall", m->from, "hall_name", hall_name, "note", x->s.note ? x->s.note : ""))))
			return rc;
		struct ia_message msg = IA_MESSAGE(w->app->view, w->arena, N_("interact_forward_returned_title"),
						   N_("interact_forward_returned_body"), MA("hall", hall_name),
						   MA("note", x->s.note ? x->s.note : ""),
						   MA("path", arena_printf(w->arena, "%s/%lld", k->base, (long long)t.id)));
		return ia_tell_department(w->db, w->arena, t.department, false, "forward_returned", &msg, NULL);
	}
	/* The other hall's answer is the thread's answer: the person reads and rates it as any. */
	int64_t changes = 0;
	if ((rc = db_exec(w->db, k->answer, DB_ARGS(DB_TEXT(x->s.answer), DB_INT(x->s.answered_at), DB_INT(t.id)), &changes)))
		return rc;
	if (changes != 1)
		return GH_ECONFLICT; /* answered here meanwhile: cannot be, as answering waits for it */
	if ((rc = ia_event(w->db, k->kind, t.id, 0, "answer", json_pack("{s:s,s:s}", "hall", m->from, "hall_name", hall_name))))
		return rc;
	if ((rc = ia_thread_tell(w, &t, k->tell_kind, k->answered_title, k->answered_body)))
		return rc;
	if (strcmp(k->kind, "complaint"))
		return 0;
	struct ia_message msg = IA_MESSAGE(w->app->view, w->arena, k->answered_title, k->answered_body,
					   MA("subject", ia_others_words(w->arena, t.subject, INTERACT_SUBJECT_MAX, t.person_name)),
					   MA("id", (long long)t.id));
	return ia_followers_tell(w, "complaint", t.id, "complaint_answered", &msg);
}

static const struct fed_kind kind_state = { "interact.state", state_prepare, state_write };

void ia_forward_init(void)
{
	fed_kind_register(&kind_forward);
	fed_kind_register(&kind_state);
}
