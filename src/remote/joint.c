/* joint.c: 多地联办 — an item whose steps belong to two halls runs as one application with a
 * step at each, in order (docs/federation.md).
 *
 * An item version of hall A may name a second step at hall B (catalog: "joint": {hall,
 * item_code}); its form asks the person's consent (a required field joint_consent = "yes").
 * The person applies once at A; A's staff work A's step under A's deadlines. When A approves,
 * a follower takes the system's step joint_forward (approved -> joint_step) in the same
 * transaction, and its observer forwards the application to B the one way applications leave a
 * hall (remote_forward_record: fed_forwarded, the outbox's "application.forward"), with the form,
 * the files and A's decision ("prior"); fed_joint links the two. B files and works it as any
 * forwarded application; its states come back as "application.state" (once, in order); the
 * end of B's step ends the application at A in the same write: approved there -> joint_approve
 * (joint_step -> approved: A delivers the result as usual), refused there -> joint_deny
 * (joint_step -> denied, B's reason). A refusal at A ends it at A: nothing is forwarded. */
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "cases/cases.h"
#include "federation/federation.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/sections.h"
#include "http/server.h"
#include "identity/identity.h"
#include "remote/remote_impl.h"
#include "store/cover.h"
#include "store/db.h"


static const struct cover_table cover_joint = {
	.table = "fed_joint", .key = "application_id", .cols = "forwarded_id, created_at",
};
static const struct cover_table cover_prior = {
	.table = "fed_joint_prior", .key = "application_id",
	.cols = "origin, origin_number, item_code, item_name, state, decided_at",
};

void remote_joint_register(void)
{
	cover_declare(&cover_joint);
	cover_declare(&cover_prior);
}

DB_SQL(q_joint_of, "SELECT forwarded_id FROM fed_joint WHERE application_id = ?");
DB_SQL(q_joint_by_fwd, "SELECT application_id FROM fed_joint WHERE forwarded_id = ?");
DB_SQL(q_joint_insert, "INSERT INTO fed_joint (application_id, forwarded_id, created_at) VALUES (?, ?, ?)");
DB_SQL(q_prior_insert, "INSERT INTO fed_joint_prior (application_id, origin, origin_number, item_code, item_name, state, "
		       "decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_prior_get, "SELECT origin, origin_number, item_code, item_name, state, decided_at FROM fed_joint_prior "
		    "WHERE application_id = ?");

/* The person's consent, given with the form at applying. */
static bool consented(const char *form)
{
	json_t *f = form ? json_loads(form, 0, NULL) : NULL;
	bool yes = !strcmp(json_string_value(json_object_get(f, "joint_consent")) ?: "", "yes");
	json_decref(f);
	return yes;
}

/* The follower: an approved application of an item with a second step goes on to it, once. */
static int on_follow(struct db *db, struct arena *a, const struct case_change *c, const char **next)
{
	if (!c->to_state || strcmp(c->to_state, "approved") || !*fed_self())
		return 0;
	const char *hall, *code;
	struct db_rows rows;
	int rc = catalog_item_joint(db, a, c->item_code, (long)c->item_version, &hall, &code);
	if (rc || !hall)
		return rc;
	if ((rc = db_query(db, a, &q_joint_of, DB_ARGS(DB_INT(c->application_id)), &rows)) || rows.nrows)
		return rc; /* back from the second step: done */
	if (!consented(c->form)) {
		log_warn("remote: application %s has no consent to its step at %s; it is not forwarded", c->number, hall);
		return 0;
	}
	*next = "joint_forward";
	return 0;
}

/* The observer: joint_forward sends the application to the second hall, in the step's
 * transaction (it is sent iff the step commits). */
int remote_joint_transition(struct db *db, struct arena *a, const struct case_change *c)
{
	if (strcmp(c->action, "joint_forward"))
		return 0;
	const char *hall, *code;
	int rc = catalog_item_joint(db, a, c->item_code, (long)c->item_version, &hall, &code);
	if (rc || !hall)
		return rc ? rc : GH_EINTERNAL;
	struct identity_claims who;
	if ((rc = identity_person_claims(db, a, c->applicant_id, &who)))
		return rc;
	json_t *form = json_loads(c->form ? c->form : "{}", 0, NULL);
	if (!json_is_object(form)) {
		json_decref(form);
		return GH_EINTERNAL;
	}
	json_object_del(form, "joint_consent");
	struct cases_file_copy *fc;
	size_t n;
	json_t *files = json_array();
	json_t *msg = json_pack("{s:s,s:s,s:I,s:{s:s,s:s},s:o,s:o,s:{s:s,s:s,s:s,s:s,s:s,s:I}}", "item_code", code, "channel",
				"web", "consent_at", (json_int_t)(c->submitted_at ? c->submitted_at : c->at), "applicant",
				"name", who.name, "id_number", who.id_number, "form", form, "files", files, "prior", "hall",
				fed_self(), "number", c->number, "item_code", c->item_code, "item_name", c->item_name_zh,
				"state", "approved", "decided_at", (json_int_t)c->at);
	if (!msg)
		return GH_EINTERNAL;
	rc = cases_application_files(db, a, c->application_id, FILES_MAX, FILES_BYTES, &fc, &n);
	for (size_t i = 0; !rc && i < n; i++)
		json_array_append_new(files, remote_file_json(a, fc[i].slot, fc[i].filename, fc[i].sha256, fc[i].data, fc[i].len));
	struct remote_forward f = { .dest = hall, .item_code = code, .channel = "web", .applicant_id = c->applicant_id,
				    .consent_at = json_integer_value(json_object_get(msg, "consent_at")), .now = c->at,
				    .msg = msg };
	const char *number;
	int64_t id;
	if (!rc)
		rc = remote_forward_record(db, a, &f, &number, &id);
	json_decref(msg);
	if (!rc)
		rc = db_exec(db, &q_joint_insert, DB_ARGS(DB_INT(c->application_id), DB_INT(id), DB_INT(c->at)), NULL);
	if (!rc)
		rc = cover_touch_id(db, "fed_joint", c->application_id, "remote.joint");
	return rc;
}

/* ---- at A: the second step's end ---------------------------------------------------------- */

int remote_joint_state(struct req *w, int64_t forwarded_id, const char *state, const char *reason)
{
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_joint_by_fwd, DB_ARGS(DB_INT(forwarded_id)), &rows);
	if (rc || !rows.nrows)
		return rc;
	const char *action = !strcmp(state, "approved") || !strcmp(state, "completed") ? "joint_approve"
			     : !strcmp(state, "denied") || !strcmp(state, "not_accepted") || !strcmp(state, "not_filed") ||
					       !strcmp(state, "withdrawn")
				     ? "joint_deny"
				     : NULL;
	if (!action)
		return 0;
	const char *why = reason && *reason ? reason : remote_state_label(w, state);
	rc = cases_system_act_reason(w->db, w->app->calendar, w->arena, db_cell_int(&rows, 0, 0), action,
				     strcmp(action, "joint_deny") ? NULL : why, NULL);
	/* A later step of B's (completed after approved) finds the application past joint_step. */
	return rc == GH_ECONFLICT ? 0 : rc;
}

/* ---- at B: the first step's decision -------------------------------------------------------- */

const char *remote_joint_prior_check(const json_t *p, const char *from)
{
	const char *hall = json_string_value(json_object_get(p, "hall")),
		   *num = json_string_value(json_object_get(p, "number")),
		   *code = json_string_value(json_object_get(p, "item_code")),
		   *name = json_string_value(json_object_get(p, "item_name")),
		   *state = json_string_value(json_object_get(p, "state"));
	if (!json_is_object(p) || !remote_word_ok(hall, 64) || !remote_word_ok(num, 64) || !remote_word_ok(code, 64) || !name ||
	    !*name || strlen(name) > 400 || !state || strcmp(state, "approved") ||
	    !json_is_integer(json_object_get(p, "decided_at")))
		return "prior takes {hall, number, item_code, item_name, state: \"approved\", decided_at}";
	if (strcmp(hall, from))
		return "prior.hall must be the sending hall: a first step is told by the hall that took it";
	return NULL;
}

int remote_joint_prior_record(struct db *db, struct arena *a, int64_t id, const char *origin, const json_t *p)
{
	(void)a;
	int rc = db_exec(db, &q_prior_insert,
			 DB_ARGS(DB_INT(id), DB_TEXT(origin), DB_TEXT(json_string_value(json_object_get(p, "number"))),
				 DB_TEXT(json_string_value(json_object_get(p, "item_code"))),
				 DB_TEXT(json_string_value(json_object_get(p, "item_name"))),
				 DB_TEXT(json_string_value(json_object_get(p, "state"))),
				 DB_INT(json_integer_value(json_object_get(p, "decided_at")))),
			 NULL);
	return rc ? rc : cover_touch_id(db, "fed_joint_prior", id, "remote.joint_prior");
}

/* ---- what people see ---------------------------------------------------------------------- */

static const char *hall_label(struct req *r, const char *id)
{
	const char *n = fed_hall_name(r->arena, id);
	return n ? n : id;
}

static const char *step_title(struct req *r, int n, const char *hall_name)
{
	return MF(r, "joint_step_at", MA("n", n), MA("hall", hall_name ? hall_name : ""));
}

/* The steps of application (its brief b) as JSON: its own at this hall, and the second: at
 * the other hall for a joint item (with that hall's timeline once forwarded), or the first step
 * at the hall it came from. NULL when it has neither. */
static int steps_json(struct req *r, const struct case_brief *b, int64_t version, json_t **out)
{
	*out = NULL;
	struct db_rows rows;
	const char *hall, *code;
	int rc = catalog_item_joint(r->db, r->arena, b->item_code, (long)version, &hall, &code);
	if (rc)
		return rc;
	const char *self = fed_self();
	json_t *steps = json_array();
	if (hall) {
		if ((rc = db_query(r->db, r->arena, &q_joint_of, DB_ARGS(DB_INT(b->id)), &rows)))
			goto fail;
		bool sent = rows.nrows == 1;
		const char *own = sent || !strcmp(b->state, "denied") || !strcmp(b->state, "not_accepted") ? NULL : b->state;
		json_array_append_new(steps, json_pack("{s:i,s:s,s:s,s:s,s:s,s:s}", "step", 1, "hall", self, "hall_name",
						       hall_label(r, self), "item_code", b->item_code, "state",
						       own ? own : sent ? "approved" : b->state, "number", b->number));
		json_t *second = NULL;
		if (sent && (rc = remote_forwarded_get(r, db_cell_int(&rows, 0, 0), &second)))
			goto fail;
		if (!second)
			second = json_pack("{s:s,s:s,s:s}", "hall", hall, "item_code", code, "state", "waiting");
		json_object_set_new(second, "step", json_integer(2));
		json_object_set_new(second, "hall_name", json_string(hall_label(r, hall)));
		json_array_append_new(steps, second);
	} else {
		if ((rc = db_query(r->db, r->arena, &q_prior_get, DB_ARGS(DB_INT(b->id)), &rows)))
			goto fail;
		if (!rows.nrows) {
			json_decref(steps);
			return 0;
		}
		json_array_append_new(steps, json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "step", 1, "hall",
						       db_cell(&rows, 0, 0), "hall_name", hall_label(r, db_cell(&rows, 0, 0)),
						       "number", db_cell(&rows, 0, 1), "item_code", db_cell(&rows, 0, 2),
						       "item_name", db_cell(&rows, 0, 3), "state", db_cell(&rows, 0, 4),
						       "decided_at", (json_int_t)db_cell_int(&rows, 0, 5)));
		json_array_append_new(steps, json_pack("{s:i,s:s,s:s,s:s,s:s,s:s}", "step", 2, "hall", self, "hall_name",
						       hall_label(r, self), "item_code", b->item_code, "state", b->state,
						       "number", b->number));
	}
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s) {
		json_object_set_new(s, "state_label",
				    json_string(remote_state_label(r, json_string_value(json_object_get(s, "state")))));
		json_object_set_new(s, "title", json_string(step_title(r, (int)i + 1, json_string_value(json_object_get(s, "hall_name")))));
	}
	*out = steps;
	return 0;
fail:
	json_decref(steps);
	return rc;
}

DB_SQL(q_app_version, "SELECT item_version FROM applications WHERE id = ?");

static int brief_steps(struct req *r, const struct case_brief *b, json_t **steps)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_app_version, DB_ARGS(DB_INT(b->id)), &rows);
	if (rc || rows.nrows != 1)
		return rc ? rc : GH_ENOTFOUND;
	return steps_json(r, b, db_cell_int(&rows, 0, 0), steps);
}

/* GET /api/v1/applications/{number}/steps: an application's steps at each hall, for those who
 * may see the application; 404 for an application of one hall only. */
static int api_steps(struct req *r)
{
	struct case_brief b;
	json_t *steps;
	int rc = cases_brief(r, req_param(r, "number"), &b);
	if (!rc)
		rc = brief_steps(r, &b, &steps);
	if (rc)
		return rc;
	if (!steps)
		return GH_ENOTFOUND;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s,s:o}", "number", b.number, "state", b.state, "state_label",
					   remote_state_label(r, b.state), "steps", steps));
}

/* The application's page shows its steps at each hall (CASES_PAGE_DETAIL). */
static int detail_steps(struct req *r, const void *subject, json_t *ctx)
{
	const struct case_page_ref *ref = subject;
	struct case_brief b;
	json_t *steps;
	int rc = cases_brief(r, ref->number, &b);
	if (!rc)
		rc = brief_steps(r, &b, &steps);
	if (rc || !steps)
		return rc == GH_ENOTFOUND ? 0 : rc;
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s)
		json_object_set_new(s, "has_events", json_boolean(json_array_size(json_object_get(s, "events")) > 0));
	json_object_set_new(ctx, "joint_steps", steps);
	json_object_set_new(ctx, "has_joint_steps", json_true());
	return 0;
}

/* The guide says where each step is done (CATALOG_PAGE_GUIDE). */
static int guide_steps(struct req *r, const void *subject, json_t *ctx)
{
	const struct catalog_service_parsed *item;
	const char *hall, *code;
	int rc = catalog_service_cached(r, subject, &item);
	if (!rc)
		rc = catalog_item_joint(r->db, r->arena, item->svc.code, item->svc.version, &hall, &code);
	if (rc || !hall)
		return rc;
	json_object_set_new(ctx, "joint_steps",
			    json_pack("[{s:s},{s:s,s:s}]", "title", step_title(r, 1, hall_label(r, fed_self())), "title",
				      step_title(r, 2, hall_label(r, hall)), "item_code", code));
	json_object_set_new(ctx, "has_joint_steps", json_true());
	return 0;
}

void remote_joint_init(struct app *app)
{
	(void)app;
	cases_follow(on_follow);
	page_section_add(CASES_PAGE_DETAIL, 25, detail_steps);
	page_section_add(CATALOG_PAGE_GUIDE, 25, guide_steps);
}

static const struct route joint_routes[] = {
	{ HTTP_GET, "/api/v1/applications/{number}/steps", api_steps, ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE | ROLE_STAFF | ROLE_ADMIN,
	  0, "remote.api_steps", NULL, SCOPE_APPLY, 0 },
};

int remote_joint_add_routes(struct router *rt)
{
	return router_add(rt, joint_routes, sizeof(joint_routes) / sizeof(joint_routes[0])) ? GH_EINVAL : 0;
}
