/* store.c: applications, their events and attachments in the database. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "identity/identity.h"
#include "store/cover.h"
#include "store/db.h"

/* ---- what the transparency log covers (store/cover.h) ------------------------------------
 * An application from its submission on (drafts are the applicant's own notes), its steps
 * (claiming and assigning a case is the work's distribution, not a step of it), the files
 * uploaded for it and the working-day calendar its deadlines count on. Left out, and why:
 * docs/security.md. A transition commits the rows it wrote without reading them back: the
 * submission's insert and the event from the values written (touch_submitted, touch_event),
 * a later step's update from its RETURNING clause. */
#define APP_COVERED                                                                                    \
	"number, query_code, item_code, item_version, department, applicant_id, enterprise_id, filed_by, " \
	"channel, state, return_state, form, materials, submitted_at, accepted_at, decided_at, "           \
	"completed_at, limit_days, legal_limit_days, accepted_day, paused_since, paused_workdays, due_day, " \
	"legal_due_day, yellow_day, bundle_id, created_at"
#define EVENT_COVERED "application_id, at, actor_id, action, from_state, to_state, reason, detail"

static int app_plain(struct arena *a, const char *col, const char *stored, size_t len, const char **out, size_t *outlen)
{
	(void)col; /* "form" */
	(void)len;
	int rc = case_form_plain(identity_keyring(), a, stored, out);
	if (!rc)
		*outlen = strlen(*out);
	return rc;
}

static const struct cover_table cover_applications = {
	.table = "applications", .key = "id", .cols = APP_COVERED, .where = "state <> 'draft'", .plain_cols = "form",
	.plain = app_plain,
};
static const struct cover_table cover_events = {
	.table = "application_events", .key = "id", .cols = EVENT_COVERED, .where = "action NOT IN ('claim', 'assign')",
};
static const struct cover_table cover_attachments = {
	.table = "attachments", .key = "id", .cols = "sha256, mime, size, filename, owner_id, enterprise_id, created_at",
};
static const struct cover_table cover_calendar = {
	.table = "calendar_days", .key = "day", .cols = "kind, note",
};

void cases_register(void)
{
	cover_declare(&cover_applications);
	cover_declare(&cover_events);
	cover_declare(&cover_attachments);
	cover_declare(&cover_calendar);
	cases_rules_register();
}

/* The covered columns of a row this module writes, as the database stores them (integers in
 * decimal, NULL as NULL), for cover_touch_row: the hot path of submission hashes what it wrote
 * instead of reading it back. In the order of APP_COVERED / EVENT_COVERED. */
struct cells {
	const char **v;
	size_t *len;
	size_t n;
	char (*nums)[24];
};

static void cell(struct cells *c, const char *v)
{
	c->v[c->n] = v;
	c->len[c->n++] = v ? strlen(v) : 0;
}

static void cell_int(struct cells *c, int64_t v, bool null_if_zero)
{
	if (null_if_zero && !v) {
		cell(c, NULL);
		return;
	}
	snprintf(c->nums[c->n], sizeof(c->nums[0]), "%lld", (long long)v);
	cell(c, c->nums[c->n]);
}

size_t case_row_cells(const struct case_row *row, char (*nums)[24], const char **v, size_t *lens)
{
	struct cells c = { v, lens, 0, nums };
	cell(&c, row->number);
	cell(&c, row->query_code);
	cell(&c, row->item_code);
	cell_int(&c, row->item_version, false);
	cell(&c, row->department);
	cell_int(&c, row->applicant_id, false);
	cell_int(&c, row->enterprise_id, true);
	cell_int(&c, row->filed_by, true);
	cell(&c, row->channel);
	cell(&c, row->state);
	cell(&c, row->return_state);
	cell(&c, row->form);
	cell(&c, row->materials);
	cell_int(&c, row->submitted_at, true);
	cell_int(&c, row->accepted_at, true);
	cell_int(&c, row->decided_at, true);
	cell_int(&c, row->completed_at, true);
	cell_int(&c, row->limit_days, false);
	cell_int(&c, row->legal_limit_days, false);
	cell_int(&c, row->accepted_day, true);
	cell_int(&c, row->paused_since, true);
	cell_int(&c, row->paused_workdays, false);
	cell_int(&c, row->due_day, true);
	cell_int(&c, row->legal_due_day, true);
	cell_int(&c, row->yellow_day, true);
	cell_int(&c, row->bundle_id, true);
	cell_int(&c, row->created_at, false);
	return c.n;
}

size_t case_event_cells(int64_t application_id, int64_t at, int64_t actor_id, const char *action, const char *from,
			const char *to, const char *reason, const char *detail, char (*nums)[24], const char **v,
			size_t *lens)
{
	struct cells c = { v, lens, 0, nums };
	cell_int(&c, application_id, false);
	cell_int(&c, at, false);
	cell_int(&c, actor_id, true);
	cell(&c, action);
	cell(&c, from);
	cell(&c, to);
	cell(&c, reason);
	cell(&c, detail);
	return c.n;
}

/* An application inserted already submitted (q_insert_submitted): what the row holds. */
static int touch_submitted(struct db *db, const char *id, const struct application *app, const char *state,
			   const char *number, const char *code, int64_t now)
{
	struct case_row row = {
		.number = number, .query_code = code, .item_code = app->item_code, .item_version = app->item_version,
		.department = app->department, .applicant_id = app->applicant_id, .enterprise_id = app->enterprise_id,
		.filed_by = app->filed_by, .channel = app->channel, .state = state,
		/* The form as the applicant's values: content already (see case_form_plain). */
		.form = app->form_plain ? app->form_plain : app->form, .materials = app->materials,
		.submitted_at = now, .limit_days = app->clock.limit_days,
		.legal_limit_days = app->clock.legal_limit_days, .created_at = now,
	};
	const char *v[CASE_COVERED_MAX];
	size_t lens[CASE_COVERED_MAX];
	char nums[CASE_COVERED_MAX][24];
	size_t n = case_row_cells(&row, nums, v, lens);
	return cover_touch_row(db, "applications", id, v, lens, n, true);
}

/* An event (q_event). */
static int touch_event(struct db *db, const char *id, int64_t application, int64_t now, int64_t actor,
		       const char *action, const char *from, const char *to, const char *reason, const char *detail)
{
	const char *v[CASE_COVERED_MAX];
	size_t lens[CASE_COVERED_MAX];
	char nums[CASE_COVERED_MAX][24];
	size_t n = case_event_cells(application, now, actor, action, from, to, reason, detail, nums, v, lens);
	return cover_touch_row(db, "application_events", id, v, lens, n, false);
}

#define APP_COLS                                                                                   \
	"a.id, a.number, a.query_code, a.item_code, a.item_version, a.department, a.applicant_id, "   \
	"a.enterprise_id, a.filed_by, a.assigned_to, a.channel, a.state, a.return_state, a.form, "     \
	"a.materials, a.submitted_at, a.accepted_at, a.decided_at, a.completed_at, a.created_at, "     \
	"a.updated_at, a.limit_days, a.legal_limit_days, a.accepted_day, a.paused_since, "             \
	"a.paused_workdays, a.due_day, a.legal_due_day, a.yellow_day, a.version, s.name_zh, s.name_en, " \
	"acc.name, d.name_zh, d.name_en, asg.name "
#define APP_JOINS                                                                                  \
	"JOIN service_items s ON s.code = a.item_code AND s.version = a.item_version "                \
	"JOIN accounts acc ON acc.id = a.applicant_id JOIN departments d ON d.code = a.department "       \
	"LEFT JOIN accounts asg ON asg.id = a.assigned_to "
#define APP_FROM "FROM applications a " APP_JOINS

DB_SQL(q_insert,
       "INSERT INTO applications (item_code, item_version, department, applicant_id, enterprise_id, filed_by, "
       "channel, state, form, form_key_id, materials, idempotency_key, limit_days, legal_limit_days, created_at, "
       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?) "
       "ON CONFLICT (applicant_id, idempotency_key) DO NOTHING RETURNING id");
/* A key names one submission of one owner: replayed by the same person for another owner
 * (an agent whose authorisation ended, acting as themself), it finds nothing. */
DB_SQL(q_by_idem, "SELECT id FROM applications WHERE applicant_id = ? AND idempotency_key = ? "
		  "AND COALESCE(enterprise_id, 0) = ?");
DB_SQL(q_insert_submitted,
       "INSERT INTO applications (item_code, item_version, department, applicant_id, enterprise_id, filed_by, "
       "channel, state, number, query_code, submitted_at, form, form_key_id, materials, idempotency_key, "
       "limit_days, legal_limit_days, created_at, updated_at, version) "
       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
       "ON CONFLICT (applicant_id, idempotency_key) DO NOTHING RETURNING id");
DB_SQL(q_update_draft,
       "UPDATE applications SET form = ?, form_key_id = ?, materials = ?, updated_at = ?, version = version + 1 "
       "WHERE id = ? AND version = ? AND state = 'draft'");
DB_SQL(q_get, "SELECT " APP_COLS APP_FROM "WHERE a.id = ?");
DB_SQL(q_get_number, "SELECT " APP_COLS APP_FROM "WHERE a.number = ?");
/* SQLite answers RETURNING through a temporary table it opens and closes at every run (a
 * twentieth of the writer's instructions per submission): there the day's number is read
 * back in the same transaction instead; PostgreSQL answers it in the one round trip. */
DB_SQL2(q_next_seq,
	"INSERT INTO application_seq (day, last) VALUES (?, 1) "
	"ON CONFLICT (day) DO UPDATE SET last = application_seq.last + 1",
	"INSERT INTO application_seq (day, last) VALUES (?, 1) "
	"ON CONFLICT (day) DO UPDATE SET last = application_seq.last + 1 RETURNING last");
DB_SQL(q_seq_last, "SELECT last FROM application_seq WHERE day = ?");
DB_SQL(q_transition,
       "UPDATE applications SET state = ?, return_state = ?, number = COALESCE(number, ?), "
       "query_code = COALESCE(query_code, ?), submitted_at = COALESCE(submitted_at, ?), accepted_at = ?, "
       "decided_at = ?, completed_at = ?, accepted_day = ?, paused_since = ?, paused_workdays = ?, "
       "due_day = ?, legal_due_day = ?, yellow_day = ?, updated_at = ?, version = version + 1 "
       "WHERE id = ? AND version = ? RETURNING id, " APP_COVERED);
DB_SQL(q_event,
       "INSERT INTO application_events (application_id, at, actor_id, action, from_state, to_state, reason, "
       "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_events,
       "SELECT e.id, e.at, e.actor_id, e.action, e.from_state, e.to_state, e.reason, e.detail, acc.name "
       "FROM application_events e LEFT JOIN accounts acc ON acc.id = e.actor_id "
       "WHERE e.application_id = ? ORDER BY e.id");
DB_SQL(q_att_insert,
       "INSERT INTO attachments (sha256, mime, size, filename, owner_id, application_id, slot, created_at, "
       "enterprise_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_att_get, "SELECT id, sha256, mime, size, filename, owner_id, application_id, slot, created_at, "
		  "enterprise_id FROM attachments WHERE id = ?");
DB_SQL(q_att_link, "UPDATE attachments SET application_id = ?, slot = ?, event_id = ? "
		   "WHERE id = ? AND owner_id = ? AND (application_id IS NULL OR application_id = ?)");
DB_SQL(q_att_of, "SELECT id, sha256, mime, size, filename, owner_id, application_id, slot, created_at, "
		 "enterprise_id FROM attachments WHERE application_id = ? ORDER BY id");

static void from_row(const struct db_rows *r, size_t i, void *out)
{
	struct application *o = out;
	memset(o, 0, sizeof(*o));
	size_t c = 0;
	o->id = db_cell_int(r, i, c++);
	o->number = db_cell(r, i, c++);
	o->query_code = db_cell(r, i, c++);
	o->item_code = db_cell(r, i, c++);
	o->item_version = db_cell_int(r, i, c++);
	o->department = db_cell(r, i, c++);
	o->applicant_id = db_cell_int(r, i, c++);
	o->enterprise_id = db_cell_int(r, i, c++);
	o->filed_by = db_cell_int(r, i, c++);
	o->assigned_to = db_cell_int(r, i, c++);
	o->channel = db_cell(r, i, c++);
	o->state = db_cell(r, i, c++);
	o->return_state = db_cell(r, i, c++);
	o->form = db_cell(r, i, c++);
	o->materials = db_cell(r, i, c++);
	o->submitted_at = db_cell_int(r, i, c++);
	o->accepted_at = db_cell_int(r, i, c++);
	o->decided_at = db_cell_int(r, i, c++);
	o->completed_at = db_cell_int(r, i, c++);
	o->created_at = db_cell_int(r, i, c++);
	o->updated_at = db_cell_int(r, i, c++);
	o->clock.limit_days = (int)db_cell_int(r, i, c++);
	o->clock.legal_limit_days = (int)db_cell_int(r, i, c++);
	o->clock.accepted_day = (int32_t)db_cell_int(r, i, c++);
	o->clock.paused_since = (int32_t)db_cell_int(r, i, c++);
	o->clock.paused_workdays = (int)db_cell_int(r, i, c++);
	o->due_day = (int32_t)db_cell_int(r, i, c++);
	o->legal_due_day = (int32_t)db_cell_int(r, i, c++);
	o->yellow_day = (int32_t)db_cell_int(r, i, c++);
	/* The clock works from the stored due days: a calendar changed since does not move them. */
	o->clock.due_day = o->due_day;
	o->clock.legal_due_day = o->legal_due_day;
	o->clock.yellow_day = o->yellow_day;
	o->version = db_cell_int(r, i, c++);
	o->item_name_zh = db_cell(r, i, c++);
	o->item_name_en = db_cell(r, i, c++);
	o->applicant_name = db_cell(r, i, c++);
	o->dept_name_zh = db_cell(r, i, c++);
	o->dept_name_en = db_cell(r, i, c++);
	o->assigned_name = db_cell(r, i, c++);
}

int case_create(struct db *db, struct arena *a, const struct case_new *in, int64_t *id, bool *existed)
{
	struct db_rows rows;
	*existed = false;
	/* The insert comes first: a key used before is the rare case, and the unique constraint
	 * finds it without an error that would abort a PostgreSQL transaction. */
	int64_t now = clock_now();
	int rc = db_query(db, a, &q_insert,
			  DB_ARGS(DB_TEXT(in->item_code), DB_INT(in->item_version), DB_TEXT(in->department),
				  DB_INT(in->applicant_id), in->enterprise_id ? DB_INT(in->enterprise_id) : DB_NULL,
				  in->filed_by ? DB_INT(in->filed_by) : DB_NULL, DB_TEXT(in->channel), DB_TEXT(in->form),
				  DB_INT(in->form_key_id), DB_TEXT(in->materials), DB_TEXT(in->idempotency_key), DB_INT(in->limit_days),
				  DB_INT(in->legal_limit_days), DB_INT(now), DB_INT(now)),
			  &rows);
	if (rc)
		return rc;
	if (rows.nrows == 1) {
		*id = db_cell_int(&rows, 0, 0);
		return 0;
	}
	if (!in->idempotency_key)
		return GH_EDB;
	/* The key made an application before (or another request with it just did). */
	rc = db_query(db, a, &q_by_idem,
		      DB_ARGS(DB_INT(in->applicant_id), DB_TEXT(in->idempotency_key), DB_INT(in->enterprise_id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ECONFLICT; /* a concurrent insert not yet visible (the caller retries), or the key
				      * made another owner's application */
	*id = db_cell_int(&rows, 0, 0);
	*existed = true;
	return 0;
}

int case_update_draft(struct db *db, int64_t id, int64_t version, const char *form, int64_t form_key_id,
		      const char *materials)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_update_draft,
			 DB_ARGS(DB_TEXT(form), DB_INT(form_key_id), DB_TEXT(materials), DB_INT(clock_now()), DB_INT(id), DB_INT(version)),
			 &changed);
	return rc ? rc : changed ? 0 : GH_ECONFLICT;
}

static int get_one(struct db *db, struct arena *a, struct db_sql *q, struct db_val v, struct application *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, &v, 1, &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	from_row(&rows, 0, out);
	return 0;
}

int case_get(struct db *db, struct arena *a, int64_t id, struct application *out)
{
	return get_one(db, a, &q_get, DB_INT(id), out);
}

int case_get_by_number(struct db *db, struct arena *a, const char *number, struct application *out)
{
	if (!number || strlen(number) > 32)
		return GH_ENOTFOUND;
	return get_one(db, a, &q_get_number, DB_TEXT(number), out);
}

/* 办件编号: "QH" + YYYYMMDD (China Standard Time) + a 6-digit sequence of that day. */
static int new_number(struct db *db, struct arena *a, int32_t today, char **out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_next_seq, DB_ARGS(DB_INT(today)), &rows);
	if (!rc && !rows.nrows)
		rc = db_query(db, a, &q_seq_last, DB_ARGS(DB_INT(today)), &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_EINTERNAL;
	if (rc)
		return rc;
	char day[11];
	calendar_format_day(today, day);
	*out = arena_printf(a, "QH%.4s%.2s%.2s%06lld", day, day + 5, day + 8, (long long)db_cell_int(&rows, 0, 0));
	return 0;
}

/* A query code of 8 characters from an alphabet without look-alikes (31^8 ≈ 8.5e11), each
 * uniform: random bytes below 248 (8 x 31) taken modulo 31, the others thrown away. One call
 * to the system's generator for the whole code (randombytes_uniform made one per character,
 * eight system calls on the group-commit writer for every submission). */
static char *new_query_code(struct arena *a)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ2345679";
	enum { N = sizeof(alphabet) - 1, LIMIT = 256 / N * N };
	unsigned char b[16];
	size_t used = sizeof(b);
	char *s = arena_alloc(a, 9);
	for (int i = 0; i < 8;) {
		if (used == sizeof(b)) {
			randombytes_buf(b, sizeof(b));
			used = 0;
		}
		unsigned char c = b[used++];
		if (c < LIMIT)
			s[i++] = alphabet[c % N];
	}
	sodium_memzero(b, sizeof(b));
	s[8] = 0;
	return s;
}

#define CASES_MAX_OBSERVERS 8
static case_observer_fn observers[CASES_MAX_OBSERVERS];
static size_t n_observers;
static case_follow_fn followers[CASES_MAX_OBSERVERS];
static size_t n_followers;

void cases_observe(case_observer_fn fn)
{
	if (n_observers == CASES_MAX_OBSERVERS)
		die("cases: more than %d transition observers", CASES_MAX_OBSERVERS);
	observers[n_observers++] = fn;
}

static void (*committed[CASES_MAX_OBSERVERS])(void);
static size_t n_committed;

void cases_observe_commits(void (*fn)(void))
{
	for (size_t i = 0; i < n_committed; i++)
		if (committed[i] == fn)
			return;
	if (n_committed == CASES_MAX_OBSERVERS)
		die("cases: more than %d commit observers", CASES_MAX_OBSERVERS);
	committed[n_committed++] = fn;
}

static case_ecert_held_fn ecert_held;

void cases_ecert_source(case_ecert_held_fn held)
{
	ecert_held = held;
}

case_ecert_held_fn cases_ecert_held(void)
{
	return ecert_held;
}

static case_ecert_remote_fn ecert_remote_fn;

void cases_ecert_remote_source(case_ecert_remote_fn fn)
{
	ecert_remote_fn = fn;
}

case_ecert_remote_fn cases_ecert_remote(void)
{
	return ecert_remote_fn;
}

static case_ecert_copies_fn ecert_copies_fn;
static case_ecert_confirm_fn ecert_confirm_fn;

void cases_ecert_web_source(case_ecert_copies_fn copies, case_ecert_confirm_fn confirm)
{
	ecert_copies_fn = copies;
	ecert_confirm_fn = confirm;
}

case_ecert_copies_fn cases_ecert_copies(void)
{
	return ecert_copies_fn;
}

case_ecert_confirm_fn cases_ecert_confirm(void)
{
	return ecert_confirm_fn;
}

static int tell_observers(struct db *db, struct arena *a, const struct application *app,
			  const struct application *next, const struct wf_action *action,
			  const struct wf_state *target, int64_t actor, const char *reason,
			  const char *detail, int64_t event_id, int64_t now, int32_t today, struct case_change *out)
{
	if (!n_observers && !n_followers)
		return 0;
	struct case_change c = {
		.application_id = next->id, .event_id = event_id, .actor_id = actor,
		.applicant_id = app->applicant_id, .enterprise_id = app->enterprise_id,
		.number = next->number, .item_code = app->item_code, .department = app->department,
		.channel = app->channel, .action = action->code, .from_state = app->state,
		.to_state = next->state, .reason = reason ? reason : "", .detail = detail ? detail : "{}",
		.at = now, .submitted_at = next->submitted_at, .accepted_at = next->accepted_at,
		.today = today, .accepted_day = next->clock.accepted_day, .due_day = next->due_day,
		.paused_workdays = next->clock.paused_workdays, .terminal = target->terminal,
		.decided = target->decided, .paused = target->paused,
		.item_version = app->item_version, .applicant_name = app->applicant_name,
		.item_name_zh = app->item_name_zh, .item_name_en = app->item_name_en,
		.form = app->form_plain, .materials = app->materials ? app->materials : "[]",
	};
	/* Observers get the plaintext (the caller's, or the stored form when nothing in it is
	 * sealed); a sealed form nobody opened fails the transition rather than mislead them. */
	if (!c.form) {
		int rc = case_form_plain(NULL, a, app->form, &c.form);
		if (rc) {
			log_error("cases: a transition of application %lld came without its form's plaintext",
				  (long long)app->id);
			return GH_EINTERNAL;
		}
	}
	for (size_t i = 0; i < n_observers; i++) {
		int rc = observers[i](db, a, &c);
		if (rc)
			return rc;
	}
	*out = c;
	return 0;
}

/* The row after action at now (day today): state, return state, clock, due days and times, as
 * a transition stores them. NULL when the action leads nowhere from the row's state (a return
 * from a state that was not entered from anywhere). The one place a step's values are made:
 * case_transition writes them, case_row_step hands them to bulk generators. */
static const struct wf_state *step_next(const struct calendar *cal, const struct application *app,
					const struct wf_action *action, int64_t now, int32_t today, struct application *next)
{
	const char *to = action->to ? action->to : app->return_state;
	if (!to || !wf_state(to))
		return NULL;
	*next = *app;
	next->state = to;
	next->return_state = NULL;
	const struct wf_state *target = wf_state(to);
	if (target->paused)
		next->return_state = app->state;
	switch (action->clock) {
	case WF_CLOCK_START:
		next->accepted_at = now;
		deadline_start(cal, &next->clock, today);
		break;
	case WF_CLOCK_PAUSE:
		if (next->clock.accepted_day)
			next->clock.paused_since = today;
		break;
	case WF_CLOCK_RESUME:
		deadline_resume(cal, &next->clock, today);
		break;
	case WF_CLOCK_STOP:
		if (target->decided)
			next->decided_at = now;
		deadline_resume(cal, &next->clock, today);
		break;
	case WF_CLOCK_NONE:
		break;
	}
	if (target->terminal)
		next->completed_at = now;
	if (next->clock.accepted_day) {
		/* Fixed at acceptance, moved only by the end of a pause (cases/deadline.h). */
		next->due_day = deadline_due(cal, &next->clock);
		next->legal_due_day = deadline_legal_due(cal, &next->clock);
		next->yellow_day = deadline_yellow_day(cal, &next->clock);
	}
	return target;
}

/* The transition inside the caller's open transaction: *out gets the application as it is
 * afterwards (the stored row's version included). Then the followers may name a step the hall
 * takes next (cases_follow), which runs here too, up to depth 2. */
static int transition_tx(struct db *db, const struct calendar *cal, struct arena *a, const struct application *app,
			 const struct wf_action *action, int64_t actor, const char *reason, const char *detail,
			 int32_t today, int64_t *event_id, int depth, struct application *out)
{
	if (!wf_allows(action, app->state))
		return GH_ECONFLICT;
	int64_t now = clock_now();
	struct application next;
	const struct wf_state *target = step_next(cal, app, action, now, today, &next);
	if (!target)
		return GH_ECONFLICT;
	const char *to = next.state;
	char *number = NULL, *code = NULL;
	int rc = 0;
	if (strcmp(action->code, "submit") == 0 && !app->number) {
		if ((rc = new_number(db, a, today, &number)))
			goto fail;
		code = new_query_code(a);
	}
	if (!app->id) {
		/* Filed and submitted at once: the row is written once, already submitted. */
		struct db_rows ins;
		if (!number || strcmp(action->code, "submit") != 0) {
			rc = GH_EINVAL;
			goto fail;
		}
		rc = db_query(db, a, &q_insert_submitted,
			      DB_ARGS(DB_TEXT(app->item_code), DB_INT(app->item_version), DB_TEXT(app->department),
				      DB_INT(app->applicant_id), app->enterprise_id ? DB_INT(app->enterprise_id) : DB_NULL,
				      app->filed_by ? DB_INT(app->filed_by) : DB_NULL, DB_TEXT(app->channel),
				      DB_TEXT(next.state), DB_TEXT(number), DB_TEXT(code), DB_INT(now), DB_TEXT(app->form),
				      DB_INT(app->form_key_id), DB_TEXT(app->materials), DB_TEXT(app->idempotency_key), DB_INT(app->clock.limit_days),
				      DB_INT(app->clock.legal_limit_days), DB_INT(now), DB_INT(now)),
			      &ins);
		if (!rc && ins.nrows != 1)
			rc = GH_ECONFLICT; /* the key was used before: the caller finds what it made */
		if (!rc)
			rc = touch_submitted(db, db_cell(&ins, 0, 0), app, next.state, number, code, now);
		if (rc)
			goto fail;
		next.id = db_cell_int(&ins, 0, 0);
		next.created_at = now;
		goto stored;
	}
	struct db_rows upd;
	rc = db_query(db, a, &q_transition,
		     DB_ARGS(DB_TEXT(next.state), DB_TEXT(next.return_state), DB_TEXT(number), DB_TEXT(code),
			     number ? DB_INT(now) : DB_NULL, next.accepted_at ? DB_INT(next.accepted_at) : DB_NULL,
			     next.decided_at ? DB_INT(next.decided_at) : DB_NULL,
			     next.completed_at ? DB_INT(next.completed_at) : DB_NULL,
			     next.clock.accepted_day ? DB_INT(next.clock.accepted_day) : DB_NULL,
			     next.clock.paused_since ? DB_INT(next.clock.paused_since) : DB_NULL,
			     DB_INT(next.clock.paused_workdays), next.due_day ? DB_INT(next.due_day) : DB_NULL,
			     next.legal_due_day ? DB_INT(next.legal_due_day) : DB_NULL,
			     next.yellow_day ? DB_INT(next.yellow_day) : DB_NULL, DB_INT(now), DB_INT(app->id),
			     DB_INT(app->version)),
		     &upd);
	if (!rc && upd.nrows != 1)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = cover_touch_row(db, "applications", db_cell(&upd, 0, 0), (const char *const *)upd.cells + 1, upd.lens + 1,
				     upd.ncols - 1, false);
	if (rc)
		goto fail;
stored:;
	struct db_rows rows;
	rc = db_query(db, a, &q_event,
		      DB_ARGS(DB_INT(next.id), DB_INT(now), actor ? DB_INT(actor) : DB_NULL, DB_TEXT(action->code),
			      DB_TEXT(app->state), DB_TEXT(to), DB_TEXT(reason ? reason : ""),
			      DB_TEXT(detail ? detail : "{}")),
		      &rows);
	if (!rc)
		rc = touch_event(db, db_cell(&rows, 0, 0), next.id, now, actor, action->code, app->state, to,
				 reason ? reason : "", detail ? detail : "{}");
	if (rc)
		goto fail;
	if (event_id)
		*event_id = db_cell_int(&rows, 0, 0);
	if (number) {
		next.number = number;
		next.query_code = code;
		next.submitted_at = now;
	}
	struct case_change change = { 0 };
	rc = tell_observers(db, a, app, &next, action, target, actor, reason, detail,
			    event_id ? *event_id : db_cell_int(&rows, 0, 0), now, today, &change);
	if (rc)
		goto fail;
	next.version = app->version + 1;
	next.updated_at = now;
	/* A step the hall takes by itself next (a fee falling due), in the same transaction. */
	for (size_t i = 0; i < n_followers && change.action; i++) {
		const char *step = NULL;
		if ((rc = followers[i](db, a, &change, &step)))
			goto fail;
		if (!step)
			continue;
		const struct wf_action *then = wf_action(step);
		if (!then || !(then->actors & WF_SYSTEM) || depth >= 2) {
			log_error("cases: a follower named %s after %s, which the hall cannot take", step, action->code);
			rc = GH_EINTERNAL;
			goto fail;
		}
		struct application after;
		if ((rc = transition_tx(db, cal, a, &next, then, 0, NULL, NULL, today, NULL, depth + 1, &after)))
			goto fail;
		next = after;
		break;
	}
	*out = next;
	return 0;
fail:
	return rc;
}

int case_transition(struct db *db, const struct calendar *cal, struct arena *a, struct application *app,
		    const struct wf_action *action, int64_t actor, const char *reason, const char *detail,
		    int32_t today, int64_t *event_id)
{
	if (!wf_allows(action, app->state))
		return GH_ECONFLICT;
	int rc = db_begin(db);
	if (rc)
		return rc;
	struct application next;
	if ((rc = transition_tx(db, cal, a, app, action, actor, reason, detail, today, event_id, 0, &next)) ||
	    (rc = db_commit(db))) {
		db_rollback(db);
		return rc;
	}
	for (size_t i = 0; i < n_committed; i++)
		committed[i]();
	*app = next;
	return 0;
}

int cases_system_act(struct db *db, const struct calendar *cal, struct arena *a, int64_t application_id,
		     const char *action, const char *detail)
{
	return cases_system_act_reason(db, cal, a, application_id, action, NULL, detail);
}

int cases_system_act_reason(struct db *db, const struct calendar *cal, struct arena *a, int64_t application_id,
			    const char *action, const char *reason, const char *detail)
{
	const struct wf_action *act = wf_action(action);
	if (!act || !(act->actors & WF_SYSTEM) || !db_in_transaction(db))
		return GH_EINTERNAL;
	struct application app, next;
	int rc = case_get(db, a, application_id, &app);
	if (rc)
		return rc;
	/* The plaintext the observers need: the hall's own key ring opens sealed fields. */
	if ((rc = case_form_plain(identity_keyring(), a, app.form, &app.form_plain)))
		return rc;
	return transition_tx(db, cal, a, &app, act, 0, reason, detail, cases_today(), NULL, 0, &next);
}

void cases_follow(case_follow_fn fn)
{
	if (n_followers == CASES_MAX_OBSERVERS)
		die("cases: more than %d followers", CASES_MAX_OBSERVERS);
	followers[n_followers++] = fn;
}

DB_SQL(q_set_bundle, "UPDATE applications SET bundle_id = ? WHERE id = ? AND (bundle_id IS NULL OR bundle_id = ?)");

int case_set_bundle(struct db *db, int64_t id, int64_t bundle_id)
{
	int64_t changed = 0;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_exec(db, &q_set_bundle, DB_ARGS(DB_INT(bundle_id), DB_INT(id), DB_INT(bundle_id)), &changed);
	if (!rc && !changed)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = cover_touch_id(db, "applications", id, "application.bundle");
	return cover_tx_end(db, own, rc);
}

DB_SQL(q_assign, "UPDATE applications SET assigned_to = ?, updated_at = ?, version = version + 1 "
		 "WHERE id = ? AND version = ?");

int case_assign(struct db *db, struct arena *a, struct application *app, int64_t assignee, int64_t actor,
		const char *action)
{
	int64_t now = clock_now(), changed = 0;
	int rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_exec(db, &q_assign, DB_ARGS(assignee ? DB_INT(assignee) : DB_NULL, DB_INT(now), DB_INT(app->id),
					   DB_INT(app->version)), &changed);
	if (!rc && changed != 1)
		rc = GH_ECONFLICT;
	struct db_rows rows;
	char *detail = arena_printf(a, "{\"assigned_to\":%lld}", (long long)assignee);
	if (!rc)
		rc = db_query(db, a, &q_event,
			      DB_ARGS(DB_INT(app->id), DB_INT(now), DB_INT(actor), DB_TEXT(action), DB_TEXT(app->state),
				      DB_TEXT(app->state), DB_TEXT(""), DB_TEXT(detail)),
			      &rows);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	app->assigned_to = assignee;
	app->version++;
	app->updated_at = now;
	return 0;
}

int case_row_step(const struct calendar *cal, struct case_row *row, const char *action, int64_t now, int32_t today,
		  struct case_change *change)
{
	const struct wf_action *act = wf_action(action);
	if (!act)
		return GH_EINVAL;
	if (!row->state || !wf_allows(act, row->state))
		return GH_ECONFLICT;
	struct application app = {
		.id = row->id, .number = row->number, .query_code = row->query_code, .item_code = row->item_code,
		.item_version = row->item_version, .department = row->department, .applicant_id = row->applicant_id,
		.enterprise_id = row->enterprise_id, .filed_by = row->filed_by, .channel = row->channel,
		.state = row->state, .return_state = row->return_state, .form = row->form, .materials = row->materials,
		.form_key_id = row->form_key_id, .submitted_at = row->submitted_at, .accepted_at = row->accepted_at,
		.decided_at = row->decided_at, .completed_at = row->completed_at, .created_at = row->created_at,
		.updated_at = row->updated_at, .version = row->version,
		.clock = { .accepted_day = row->accepted_day, .limit_days = row->limit_days,
			   .legal_limit_days = row->legal_limit_days, .paused_workdays = row->paused_workdays,
			   .paused_since = row->paused_since, .due_day = row->due_day, .legal_due_day = row->legal_due_day,
			   .yellow_day = row->yellow_day },
		.due_day = row->due_day, .legal_due_day = row->legal_due_day, .yellow_day = row->yellow_day,
	};
	struct application next;
	const struct wf_state *target = step_next(cal, &app, act, now, today, &next);
	if (!target)
		return GH_ECONFLICT;
	const char *from = row->state;
	/* As case_transition stores it: submitted (and created, when filed at once) at the
	 * submission, the version bumped by every step (a row filed and submitted at once starts
	 * at 1). */
	if (!strcmp(action, "submit") && !row->submitted_at)
		row->submitted_at = now;
	if (!row->created_at)
		row->created_at = now;
	row->state = next.state;
	row->return_state = next.return_state;
	row->accepted_at = next.accepted_at;
	row->decided_at = next.decided_at;
	row->completed_at = next.completed_at;
	row->accepted_day = next.clock.accepted_day;
	row->paused_since = next.clock.paused_since;
	row->paused_workdays = next.clock.paused_workdays;
	row->due_day = next.due_day;
	row->legal_due_day = next.legal_due_day;
	row->yellow_day = next.yellow_day;
	row->updated_at = now;
	row->version++;
	if (change)
		*change = (struct case_change){
			.application_id = row->id, .applicant_id = row->applicant_id, .enterprise_id = row->enterprise_id,
			.number = row->number, .item_code = row->item_code, .department = row->department,
			.channel = row->channel, .action = act->code, .from_state = from, .to_state = row->state,
			.reason = "", .detail = "{}", .at = now, .submitted_at = row->submitted_at,
			.accepted_at = row->accepted_at, .today = today, .accepted_day = row->accepted_day,
			.due_day = row->due_day, .paused_workdays = row->paused_workdays, .terminal = target->terminal,
			.decided = target->decided, .paused = target->paused, .item_version = row->item_version,
			.materials = row->materials ? row->materials : "[]",
		};
	return 0;
}

static void event_row(const struct db_rows *rows, size_t i, void *out)
{
	*(struct app_event *)out = (struct app_event){
		.id = db_cell_int(rows, i, 0), .at = db_cell_int(rows, i, 1), .actor_id = db_cell_int(rows, i, 2),
		.action = db_cell(rows, i, 3), .from_state = db_cell(rows, i, 4), .to_state = db_cell(rows, i, 5),
		.reason = db_cell(rows, i, 6), .detail = db_cell(rows, i, 7), .actor_name = db_cell(rows, i, 8),
	};
}

int case_events(struct db *db, struct arena *a, int64_t id, struct app_event **out, size_t *n)
{
	return db_query_array(db, a, &q_events, DB_ARGS(DB_INT(id)), sizeof(**out), event_row, out, n);
}

/* Lists. The first condition picks the rows by an index (the department's running
 * applications, the department's whole queue when a state is asked for, the applicant's or the
 * enterprise's own, or every overdue one); the optional filters after it are
 * "? IS NULL OR column = ?", so one prepared statement per kind of list serves every
 * combination. The queue's order, COALESCE(due_day, ...), id, is the order of the
 * applications_queue and applications_running indexes, so a page of a department with a
 * million applications is read without sorting them. Without a state filter the queue is the
 * department's running applications (its work; the concluded ones, nearly all of them after
 * years, are found by their state); it, a running state's list and a department's overdue list
 * are ranges of applications_running: bounded by the work in hand, not by the history
 * (docs/performance.md). */
#define NO_DUE "2147483647"
#define LIST_DEPT "AND (CAST(? AS TEXT) IS NULL OR a.department = ?) "
#define LIST_FILTERS                                                                                \
	"AND (CAST(? AS BIGINT) IS NULL OR a.assigned_to = ?) "                                       \
	"AND (CAST(? AS BIGINT) IS NULL OR a.assigned_to IS NULL) "                                   \
	"AND (CAST(? AS TEXT) IS NULL OR a.state = ?) "                                               \
	"AND (CAST(? AS TEXT) IS NULL OR a.item_code = ?) "                                           \
	"AND (CAST(? AS TEXT) IS NULL "                                                               \
	"  OR (? = 'red' AND a.due_day < ? AND a.completed_at IS NULL) "                            \
	"  OR (? = 'yellow' AND a.yellow_day <= ? AND a.due_day >= ? AND a.completed_at IS NULL) "  \
	"  OR (? = 'green' AND a.yellow_day > ? AND a.completed_at IS NULL)) "
#define QUEUE_WHERE "WHERE a.department = ? AND a.state <> 'draft' " LIST_DEPT LIST_FILTERS
#define RUNNING_COND "a.completed_at IS NULL AND a.state <> 'draft' "
#define RUNNING_WHERE "WHERE a.department = ? AND " RUNNING_COND LIST_DEPT LIST_FILTERS
/* A department's overdue: its two bound values (in LIST_DEPT's place) are both today. */
#define DEPT_OVERDUE_WHERE                                                                          \
	"WHERE a.department = ? AND " RUNNING_COND "AND COALESCE(a.due_day, " NO_DUE ") < ? "       \
	"AND COALESCE(a.due_day, " NO_DUE ") < ? " LIST_FILTERS
#define QUEUE_ORDER "ORDER BY COALESCE(a.due_day, " NO_DUE "), a.id LIMIT ? OFFSET ?"
#define OVERDUE_WHERE "WHERE a.due_day < ? AND a.completed_at IS NULL AND a.state <> 'draft' " LIST_DEPT LIST_FILTERS
#define MINE_WHERE "WHERE a.applicant_id = ? AND a.enterprise_id IS NULL " LIST_DEPT LIST_FILTERS
#define ENTERPRISE_WHERE "WHERE a.enterprise_id = ? " LIST_DEPT LIST_FILTERS
#define OWN_ORDER "ORDER BY a.id DESC LIMIT ? OFFSET ?"
DB_SQL(q_queue, "SELECT " APP_COLS APP_FROM QUEUE_WHERE QUEUE_ORDER);
DB_SQL(q_queue_count, "SELECT COUNT(*) FROM applications a " QUEUE_WHERE);
/* A page of the running ones: its ids from the applications_running index alone (it holds
 * every column the filters read), then their rows. As one plan for every filter (a prepared
 * statement's generic plan), the index's own order and LIMIT are taken only so. */
#define RUNNING_PAGE(where)                                                                          \
	"SELECT " APP_COLS "FROM (SELECT a.id, COALESCE(a.due_day, " NO_DUE ") AS gh_due FROM applications a " \
	where "ORDER BY 2, 1 LIMIT ? OFFSET ?) p JOIN applications a ON a.id = p.id " APP_JOINS        \
	"ORDER BY p.gh_due, p.id"
DB_SQL(q_running, RUNNING_PAGE(RUNNING_WHERE));
DB_SQL(q_running_count, "SELECT COUNT(*) FROM applications a " RUNNING_WHERE);
DB_SQL(q_overdue, "SELECT " APP_COLS APP_FROM OVERDUE_WHERE QUEUE_ORDER);
DB_SQL(q_overdue_count, "SELECT COUNT(*) FROM applications a " OVERDUE_WHERE);
DB_SQL(q_dept_overdue, RUNNING_PAGE(DEPT_OVERDUE_WHERE));
DB_SQL(q_dept_overdue_count, "SELECT COUNT(*) FROM applications a " DEPT_OVERDUE_WHERE);
DB_SQL(q_mine, "SELECT " APP_COLS APP_FROM MINE_WHERE OWN_ORDER);
DB_SQL(q_mine_count, "SELECT COUNT(*) FROM applications a " MINE_WHERE);
DB_SQL(q_ent, "SELECT " APP_COLS APP_FROM ENTERPRISE_WHERE OWN_ORDER);
DB_SQL(q_ent_count, "SELECT COUNT(*) FROM applications a " ENTERPRISE_WHERE);

/* Runs the count (and, when out is not NULL, the page) of f's list. */
static int list_or_count(struct db *db, struct arena *a, const struct case_filter *f, long page, long per_page,
			 struct application **out, size_t *n, long *total)
{
	const char *light = f->light;
	struct db_sql *list, *count;
	struct db_val first;
	struct db_val second = DB_NULL; /* LIST_DEPT's pair: the first condition picks the department */
	if (f->department && !f->overdue) {
		/* A state still running (completed_at is set with a terminal state) is among the
		 * running ones; only a concluded state reads the department's history. */
		const struct wf_state *st = f->state ? wf_state(f->state) : NULL;
		bool running = !f->state || (st && !st->terminal);
		list = running ? &q_running : &q_queue, count = running ? &q_running_count : &q_queue_count;
		first = DB_TEXT(f->department);
	} else if (f->overdue && f->department) {
		list = &q_dept_overdue, count = &q_dept_overdue_count, first = DB_TEXT(f->department);
		second = DB_INT(f->today);
	} else if (f->overdue) {
		/* Every department's overdue applications. */
		list = &q_overdue, count = &q_overdue_count, first = DB_INT(f->today);
	} else if (f->enterprise_id) {
		list = &q_ent, count = &q_ent_count, first = DB_INT(f->enterprise_id);
	} else {
		list = &q_mine, count = &q_mine_count, first = DB_INT(f->applicant_id);
	}
	struct db_val args[] = {
		first,
		second, second,
		f->assigned_to ? DB_INT(f->assigned_to) : DB_NULL, DB_INT(f->assigned_to),
		f->unassigned ? DB_INT(1) : DB_NULL,
		DB_TEXT(f->state), DB_TEXT(f->state),
		DB_TEXT(f->item_code), DB_TEXT(f->item_code),
		DB_TEXT(light),
		DB_TEXT(light), DB_INT(f->today),
		DB_TEXT(light), DB_INT(f->today), DB_INT(f->today),
		DB_TEXT(light), DB_INT(f->today),
		DB_INT(per_page), DB_INT((int64_t)(page - 1) * per_page),
	};
	struct db_rows rows;
	int rc = db_query(db, a, count, args, ARRAY_LEN(args) - 2, &rows);
	if (rc)
		return rc;
	*total = (long)db_cell_int(&rows, 0, 0);
	if (!out)
		return 0;
	return db_query_array(db, a, list, args, ARRAY_LEN(args), sizeof(**out), from_row, out, n);
}

int case_list(struct db *db, struct arena *a, const struct case_filter *f, long page, long per_page,
	      struct application **out, size_t *n, long *total)
{
	return list_or_count(db, a, f, page, per_page, out, n, total);
}

/* Every light is of an application still running: said in the WHERE too, so the department's
 * applications concluded long ago (most of them, after years) are skipped inside the index
 * instead of read (EXPLAIN ANALYZE on 100,000 generated applications: 46 of the department's
 * 5,348 rows read, 0.5 ms instead of 13.8). */
DB_SQL(q_queue_lights,
       "SELECT COALESCE(SUM(CASE WHEN a.completed_at IS NULL AND a.yellow_day > ? THEN 1 ELSE 0 END), 0), "
       "COALESCE(SUM(CASE WHEN a.completed_at IS NULL AND a.yellow_day <= ? AND a.due_day >= ? THEN 1 ELSE 0 END), 0), "
       "COALESCE(SUM(CASE WHEN a.completed_at IS NULL AND a.due_day < ? THEN 1 ELSE 0 END), 0) "
       "FROM applications a " RUNNING_WHERE);

int case_queue_lights(struct db *db, struct arena *a, const struct case_filter *f, long counts[3])
{
	struct db_val args[] = {
		DB_INT(f->today), DB_INT(f->today), DB_INT(f->today), DB_INT(f->today),
		DB_TEXT(f->department),
		DB_NULL, DB_NULL,
		f->assigned_to ? DB_INT(f->assigned_to) : DB_NULL, DB_INT(f->assigned_to),
		f->unassigned ? DB_INT(1) : DB_NULL,
		DB_TEXT(f->state), DB_TEXT(f->state),
		DB_TEXT(f->item_code), DB_TEXT(f->item_code),
		DB_NULL, DB_NULL, DB_INT(f->today), DB_NULL, DB_INT(f->today), DB_INT(f->today), DB_NULL, DB_INT(f->today),
	};
	struct db_rows rows;
	int rc = db_query(db, a, &q_queue_lights, args, ARRAY_LEN(args), &rows);
	if (rc)
		return rc;
	for (int i = 0; i < 3; i++)
		counts[i] = (long)db_cell_int(&rows, 0, (size_t)i);
	return 0;
}

int case_count(struct db *db, struct arena *a, const struct case_filter *f, long *total)
{
	return list_or_count(db, a, f, 1, 1, NULL, NULL, total);
}

static void att_row(const struct db_rows *r, size_t i, void *out)
{
	struct attachment *o = out;
	o->id = db_cell_int(r, i, 0);
	o->sha256 = db_cell(r, i, 1);
	o->mime = db_cell(r, i, 2);
	o->size = db_cell_int(r, i, 3);
	o->filename = db_cell(r, i, 4);
	o->owner_id = db_cell_int(r, i, 5);
	o->application_id = db_cell_int(r, i, 6);
	o->slot = db_cell(r, i, 7) ? (int)db_cell_int(r, i, 7) : -1;
	o->created_at = db_cell_int(r, i, 8);
	o->enterprise_id = db_cell_int(r, i, 9);
}

int attachment_add(struct db *db, struct arena *a, const struct attachment *in, int64_t *id)
{
	struct db_rows rows;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_query(db, a, &q_att_insert,
			      DB_ARGS(DB_TEXT(in->sha256), DB_TEXT(in->mime), DB_INT(in->size), DB_TEXT(in->filename),
				      DB_INT(in->owner_id), in->application_id ? DB_INT(in->application_id) : DB_NULL,
				      in->slot >= 0 ? DB_INT(in->slot) : DB_NULL, DB_INT(clock_now()),
				      in->enterprise_id ? DB_INT(in->enterprise_id) : DB_NULL),
			      &rows);
	if (!rc) {
		*id = db_cell_int(&rows, 0, 0);
		rc = cover_touch_id(db, "attachments", *id, "upload");
	}
	return cover_tx_end(db, own, rc);
}

int attachment_get(struct db *db, struct arena *a, int64_t id, struct attachment *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_att_get, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	att_row(&rows, 0, out);
	return 0;
}

int attachment_link(struct db *db, int64_t id, int64_t owner, int64_t application, int slot, int64_t event)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_att_link,
			 DB_ARGS(DB_INT(application), slot >= 0 ? DB_INT(slot) : DB_NULL, event ? DB_INT(event) : DB_NULL,
				 DB_INT(id), DB_INT(owner), DB_INT(application)),
			 &changed);
	return rc ? rc : changed ? 0 : GH_ENOTFOUND;
}

int attachments_of(struct db *db, struct arena *a, int64_t application, struct attachment **out, size_t *n)
{
	return db_query_array(db, a, &q_att_of, DB_ARGS(DB_INT(application)), sizeof(**out), att_row, out, n);
}
