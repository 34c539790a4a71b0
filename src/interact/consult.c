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

#include "base/clock.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "interact/interact_impl.h"
#include "store/db.h"
#include "http/msg.h"

DB_SQL(q_consult_add, "INSERT INTO consultations (asker_id, department, item_code, subject, question, consent_public, "
		      "channel, state, due_day, created_at, enterprise_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) "
		      "RETURNING id");
DB_SQL(q_consult_get, IA_THREAD_COLS("asker_id", "question", "consultation") ", c.consent_public, c.public_question, "
		      "c.public_answer, c.published" IA_THREAD_FROM("consultations", "asker_id"));
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

int ia_consult_file(struct req *r, const struct ia_thread_in *in, int64_t asker, int32_t due, const char *channel,
		    json_t *detail, int64_t *id)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_consult_add,
			  DB_ARGS(DB_INT(asker), DB_TEXT(in->department), DB_TEXT(in->item_code), DB_TEXT(in->subject),
				  DB_TEXT(in->text), DB_INT(in->consent_public ? 1 : 0), DB_TEXT(channel), DB_INT(due),
				  DB_INT(clock_now()), r->who.enterprise && asker == r->who.account ? DB_INT(r->who.enterprise) : DB_NULL),
			  &rows);
	if (!rc)
		*id = db_cell_int(&rows, 0, 0);
	json_t *d = json_pack("{s:b,s:s}", "public", in->consent_public, "channel", channel);
	json_object_update(d, detail);
	json_decref(detail);
	return rc ? (json_decref(d), rc)
		  : ia_thread_opened(r, "consultation", *id, asker, "ask", d, in->department, due,
				     N_("interact_new_consultation"), N_("interact_answer_consultation_by"), "consult_new");
}

/* On the writer (r is its copy of the request): a new consultation, told to the department. */
static int create_write(struct req *r, struct ia_write *x)
{
	struct ia_thread_in in = ((const struct ia_thread_args *)x)->in;
	int32_t due;
	const char *channel;
	int rc = ia_thread_open(r, &in, "consult", r->app->cfg.consult_days, &due, &channel);
	return rc ? rc : ia_consult_file(r, &in, r->who.account, due, channel, NULL, &x->id);
}

int ia_consult_create(struct req *r, const struct ia_thread_in *in, ia_answer answer, const void *ctx)
{
	return ia_thread_submit(r, in, answer, ctx, create_write);
}

/* A consultation: the thread and what only consultations have. */
struct consult {
	struct ia_thread t;
	const char *pub_q, *pub_a;
	bool consent, published;
};

static int consult_get(struct req *r, int64_t id, struct consult *c)
{
	struct db_rows rows;
	int rc = ia_thread_get(r, &q_consult_get, id, N_("interact_such_consultation"), NULL, &c->t, &rows);
	if (rc)
		return rc;
	c->consent = db_cell_int(&rows, 0, IA_THREAD_OWN_COL) == 1;
	c->pub_q = db_cell(&rows, 0, IA_THREAD_OWN_COL + 1);
	c->pub_a = db_cell(&rows, 0, IA_THREAD_OWN_COL + 2);
	c->published = db_cell_int(&rows, 0, IA_THREAD_OWN_COL + 3) == 1;
	return 0;
}

int ia_consult_json(struct req *r, int64_t id, json_t **out)
{
	struct consult c;
	int rc = consult_get(r, id, &c);
	if (rc)
		return rc;
	const struct ia_thread *t = &c.t;
	bool staff_or_admin = t->staff || r->role == ROLE_ADMIN;
	json_t *j = ia_thread_json(r, t, "consultation");
	ia_set(j, "question", t->text);
	json_object_set_new(j, "consent_public", json_boolean(c.consent));
	json_object_set_new(j, "published", json_boolean(c.published));
	if (c.pub_q && (staff_or_admin || c.published)) {
		ia_set(j, "public_question", c.pub_q);
		ia_set(j, "public_answer", c.pub_a);
	}
	if (staff_or_admin)
		ia_set(j, "asker", t->person_name);
	json_object_set_new(j, "can_answer", json_boolean(t->staff && t->open));
	json_object_set_new(j, "can_publish", json_boolean(t->staff && !t->open && c.consent && t->item_code));
	ia_forward_json(r, "consultation", t, j);
	*out = j;
	return 0;
}

/* Publishes (or takes back) the public version of c, in the change that runs it. */
static int publish_in_tx(struct req *r, const struct consult *c, bool publish, const char *pq, const char *pa)
{
	if (!c->consent) {
		req_error_detail(r, "%s", M(r, "interact_asker_did_consent_publishing_answer"));
		return GH_ECONFLICT;
	}
	if (!c->t.item_code) {
		req_error_detail(r, "%s", M(r, "interact_only_question_about_service_item"));
		return GH_ECONFLICT;
	}
	if (publish && (!ia_text_ok(pq, INTERACT_TEXT_MAX, true) || !ia_text_ok(pa, INTERACT_ANSWER_MAX, true))) {
		req_error_detail(r, "%s", M(r, "interact_write_public_version_question_answer"));
		return GH_EVALIDATION;
	}
	int64_t changes = 0;
	int rc = db_exec(r->db, &q_consult_publish,
			 DB_ARGS(DB_INT(publish ? 1 : 0), publish ? DB_TEXT(pq) : DB_TEXT(c->pub_q), publish ? DB_TEXT(pa) : DB_TEXT(c->pub_a),
				 DB_INT(c->t.id)),
			 &changes);
	if (!rc && changes != 1) {
		req_error_detail(r, "%s", M(r, "interact_answer_first"));
		return GH_ECONFLICT;
	}
	if (!rc)
		rc = catalog_changed(r->db); /* the item's guide shows the FAQ */
	if (!rc)
		rc = ia_event(r->db, "consultation", c->t.id, r->who.account, publish ? "publish" : "unpublish", NULL);
	return rc;
}

struct answer_args {
	struct ia_write x;
	const char *text, *pub_q, *pub_a;
	bool publish;
};

/* Consultation id for staff of its department (GH_EFORBIDDEN with the message key refused
 * for anyone else who may see it). */
static int consult_of_staff(struct req *r, int64_t id, const char *refused, struct consult *c)
{
	int rc = consult_get(r, id, c);
	if (!rc && !c->t.staff) {
		req_error_detail(r, "%s", M(r, refused));
		rc = GH_EFORBIDDEN;
	}
	return rc;
}

/* On the writer (r is its copy of the request): the answer to consultation x->id, published
 * along with it when asked, told to the asker. */
static int answer_write(struct req *r, struct ia_write *x)
{
	const struct answer_args *a = (const struct answer_args *)x;
	struct consult c;
	int rc = consult_of_staff(r, x->id, N_("interact_only_staff_department_answer"), &c);
	bool away, received;
	if (!rc)
		rc = ia_forward_pending(r, "consultation", x->id, &away);
	if (rc)
		return rc;
	if (away) {
		req_error_detail(r, "%s", M(r, "interact_forward_pending"));
		return GH_ECONFLICT;
	}
	if ((rc = ia_thread_answer(r, &q_consult_answer, "consultation", &c.t, a->text,
				   N_("interact_consultation_answered_already"))))
		return rc;
	if (a->publish)
		rc = publish_in_tx(r, &c, true, a->pub_q, a->pub_a);
	/* One that came from another hall: the answer goes back there, where the person is told. */
	if (!rc)
		rc = ia_forward_answered(r, "consultation", &c.t, a->text, &received);
	if (!rc && !received)
		rc = ia_thread_tell(r, &c.t, "consult_answered", N_("interact_consultation_answered_title"),
				    N_("interact_consultation_answered_body"));
	return rc;
}

/* On the writer (r is its copy of the request): consultation x->id published or taken back. */
static int publish_write(struct req *r, struct ia_write *x)
{
	const struct answer_args *a = (const struct answer_args *)x;
	struct consult c;
	int rc = consult_of_staff(r, x->id, N_("interact_only_staff_department_publish"), &c);
	return rc ? rc : publish_in_tx(r, &c, a->publish, a->pub_q, a->pub_a);
}

static int answer_submit(struct req *r, int64_t id, const char *text, bool publish, const char *pq, const char *pa,
			 ia_answer answer, const void *ctx, int (*fn)(struct req *, struct ia_write *))
{
	struct answer_args *a = ia_write_args(r, sizeof(*a), answer, ctx);
	a->x.id = id;
	a->text = text;
	a->publish = publish;
	a->pub_q = pq;
	a->pub_a = pa;
	return ia_write(r, &a->x, fn);
}

int ia_consult_answer(struct req *r, int64_t id, const char *text, bool publish, const char *pq, const char *pa,
		      ia_answer answer, const void *ctx)
{
	return answer_submit(r, id, text, publish, pq, pa, answer, ctx, answer_write);
}

int ia_consult_publish(struct req *r, int64_t id, bool publish, const char *pq, const char *pa, ia_answer answer,
		       const void *ctx)
{
	return answer_submit(r, id, NULL, publish, pq, pa, answer, ctx, publish_write);
}

int ia_consult_list(struct req *r, bool mine, const char *state, json_t **out)
{
	const char *st;
	int rc = ia_thread_state(r, state, &st);
	if (rc)
		return rc;
	const char *dept = !mine && r->role == ROLE_STAFF ? r->who.department : "";
	struct identity_owner o = identity_owner_of(r);
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_consult_list,
			   DB_ARGS(DB_INT(mine), IDENTITY_OWNER_ARGS(o), DB_INT(mine), DB_TEXT(dept), DB_TEXT(dept), DB_TEXT(st),
				   DB_TEXT(st)),
			   &rows)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		json_t *j = ia_thread_item(r, &rows, i, "/consultations");
		json_object_set_new(j, "consent_public", json_boolean(db_cell_int(&rows, i, 8) == 1));
		json_object_set_new(j, "published", json_boolean(db_cell_int(&rows, i, 9) == 1));
		json_array_append_new(arr, j);
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

/* The catalog guide's FAQ section (CATALOG_PAGE_GUIDE): has_faq and faq. */
int ia_faq_section(struct req *r, const void *item_code, json_t *ctx)
{
	json_t *faq = interact_item_faq(r->db, r->arena, item_code, r->lang, 20);
	json_object_set_new(ctx, "has_faq", json_boolean(faq && json_array_size(faq) > 0));
	if (faq)
		json_object_set_new(ctx, "faq", faq);
	return 0;
}
