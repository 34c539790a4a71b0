/* duties.c: the interact module's background duties (see interact.h), its thread, and the
 * `govhall interact-duties` command.
 *
 * Each duty claims its row with a guarded UPDATE (invited_at IS NULL, warned_at IS NULL,
 * escalation = n) in the same transaction as the messages it writes, and sends only when its
 * UPDATE changed the row: once per case, task and level across passes, restarts and nodes.
 * Passes run on one node at a time (a PostgreSQL advisory lock; trivially on SQLite). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/cases.h"
#include "notify/notify.h"
#include "interact/interact_impl.h"
#include "store/db.h"
#include "http/msg.h"

#define LOCK_KEY 4711020410 /* the interact duties' lock (db_duty_lock) */
#define BATCH 200
#define PERIOD_S 60


DB_SQL(q_invite_due, "SELECT c.application_id, c.number, COALESCE(c.enterprise_id, c.applicant_id), s.name_zh, s.name_en FROM rateable_cases c "
		     "LEFT JOIN service_items s ON s.code = c.item_code AND s.is_current = 1 "
		     "WHERE c.invited_at IS NULL AND c.closed_day <= ? AND NOT EXISTS (SELECT 1 FROM evaluations e "
		     "WHERE e.subject_kind = 'application' AND e.subject_id = c.application_id) "
		     "ORDER BY c.closed_day, c.application_id LIMIT ?");
DB_SQL(q_invite_claim, "UPDATE rateable_cases SET invited_at = ? WHERE application_id = ? AND invited_at IS NULL");

DB_SQL(q_rect_due, "SELECT t.id, t.evaluation_id, t.department, t.due_day FROM rectifications t "
		   "WHERE t.warned_at IS NULL AND t.due_day < ? AND t.state IN ('open', 'visited', 'rectified') "
		   "ORDER BY t.due_day, t.id LIMIT ?");
DB_SQL(q_rect_claim, "UPDATE rectifications SET warned_at = ? WHERE id = ? AND warned_at IS NULL "
		     "AND state IN ('open', 'visited', 'rectified')");

/* A thread away at another hall (forward.c) is that hall's to answer, on its own clock. */
#define NOT_AWAY(kind, table)                                                                                       \
	"NOT EXISTS (SELECT 1 FROM interact_forwards f WHERE f.kind = '" kind "' AND f.thread_id = " table ".id "   \
	"AND f.state IN ('forwarded', 'received') AND f.id = (SELECT MAX(g.id) FROM interact_forwards g "            \
	"WHERE g.kind = f.kind AND g.thread_id = f.thread_id))"
DB_SQL(q_consult_due, "SELECT id, department, due_day, subject FROM consultations WHERE state = 'open' AND due_day < ? "
		      "AND warned_at IS NULL AND " NOT_AWAY("consultation", "consultations") " ORDER BY due_day, id LIMIT ?");
DB_SQL(q_consult_claim, "UPDATE consultations SET warned_at = ? WHERE id = ? AND warned_at IS NULL AND state = 'open'");

DB_SQL(q_complaint_due, "SELECT id, department, due_day, escalation, subject FROM complaints WHERE state = 'open' "
			"AND due_day < ? AND escalation < 2 AND " NOT_AWAY("complaint", "complaints") " ORDER BY due_day, id LIMIT ?");
DB_SQL(q_complaint_claim, "UPDATE complaints SET escalation = ?, escalated_at = ? WHERE id = ? AND escalation = ? "
			  "AND state = 'open'");

/* Runs one claimed step in its own transaction: claim (changes == 1) then send. */
typedef int (*send_fn)(struct app *app, struct db *db, struct arena *a, struct db_rows *rows, size_t i, int32_t today, int *n);

static int one(struct app *app, struct db *db, struct arena *a, struct db_sql *claim, const struct db_val *args, size_t nargs,
	       send_fn send, struct db_rows *rows, size_t i, int32_t today, int *sent)
{
	int rc = db_begin(db), n = 0;
	if (rc)
		return rc;
	int64_t changes = 0;
	rc = db_exec(db, claim, args, nargs, &changes);
	if (!rc && changes == 1)
		rc = send(app, db, a, rows, i, today, &n);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	*sent += n;
	return 0;
}

static int send_invite(struct app *app, struct db *db, struct arena *a, struct db_rows *rows, size_t i, int32_t today, int *n)
{
	(void)today;
	const char *num = db_cell(rows, i, 1);
	const char *zh = db_cell(rows, i, 3) ? db_cell(rows, i, 3) : num, *en = db_cell(rows, i, 4) ? db_cell(rows, i, 4) : zh;
	const struct view *v = app ? app->view : NULL;
	int rc = notify_message(db, a, db_cell_int(rows, i, 2), db_cell_int(rows, i, 0), "evaluate_invite",
				      view_msg(v, "zh", N_("interact_invite_title")), view_msg(v, "en", N_("interact_invite_title")),
				      VF(v, "zh", a, N_("interact_invite_body"), MA("number", num), MA("item", zh)),
				      VF(v, "en", a, N_("interact_invite_body"), MA("number", num), MA("item", en)));
	if (!rc) {
		*n = 1;
		rc = ia_event(db, "application", db_cell_int(rows, i, 0), 0, "invite", NULL);
	}
	return rc;
}

/* Tells the department (its heads only, or all its staff) that kind id is overdue, and records that
 * it was warned. */
static int tell_overdue(struct db *db, struct arena *a, const char *department, bool heads_only, const char *topic,
			const struct ia_message *m, int *n, const char *kind, int64_t id)
{
	int rc = ia_tell_department(db, a, department, heads_only, topic, m, n);
	if (!rc)
		rc = ia_event(db, kind, id, 0, "overdue_warning", NULL);
	return rc;
}

static int send_rect_warning(struct app *app, struct db *db, struct arena *a, struct db_rows *rows, size_t i, int32_t today,
			     int *n)
{
	const struct calendar *cal = app ? app->calendar : NULL;
	int32_t due = (int32_t)db_cell_int(rows, i, 3);
	int days = cal ? calendar_workdays_between(cal, due, today) : today - due;
	if (days < 1)
		days = 1;
	const char *ev = db_cell(rows, i, 1);
	const struct view *v = app ? app->view : NULL;
	struct ia_message m = IA_MESSAGE(v, a, N_("interact_rect_overdue_title"), N_("interact_rect_overdue_body"),
					 MA("days", days), MA("id", ev));
	return tell_overdue(db, a, db_cell(rows, i, 2), true, "rectify_overdue", &m, n, "rectification",
			    db_cell_int(rows, i, 0));
}

static int send_consult_warning(struct app *app, struct db *db, struct arena *a, struct db_rows *rows, size_t i,
				int32_t today, int *n)
{
	(void)today;
	const struct view *v = app ? app->view : NULL;
	const char *id = db_cell(rows, i, 0), *subject = db_cell(rows, i, 3);
	struct ia_message m = IA_MESSAGE(v, a, N_("interact_consult_overdue_title"), N_("interact_consult_overdue_body"),
					 MA("subject", subject), MA("id", id));
	return tell_overdue(db, a, db_cell(rows, i, 1), false, "consult_overdue", &m, n, "consultation",
			    db_cell_int(rows, i, 0));
}

static int send_escalation(struct app *app, struct db *db, struct arena *a, struct db_rows *rows, size_t i, int32_t today,
			   int *n)
{
	(void)today;
	const struct view *v = app ? app->view : NULL;
	int level = (int)db_cell_int(rows, i, 3) + 1;
	const char *id = db_cell(rows, i, 0), *subject = db_cell(rows, i, 4);
	int rc;
	if (level == 1) {
		struct ia_message m = IA_MESSAGE(v, a, N_("interact_complaint_overdue_title"), N_("interact_complaint_overdue_body"),
						 MA("subject", subject), MA("id", id));
		rc = ia_tell_department(db, a, db_cell(rows, i, 1), true, "complaint_escalated", &m, n);
	} else {
		struct ia_message m = IA_MESSAGE(v, a, N_("interact_complaint_escalated_title"),
						 N_("interact_complaint_escalated_body"), MA("subject", subject), MA("id", id));
		rc = ia_tell_admins(db, a, "complaint_escalated", &m, n);
	}
	if (!rc)
		rc = ia_event(db, "complaint", db_cell_int(rows, i, 0), 0, level == 1 ? "escalate_head" : "escalate_admin", NULL);
	return rc;
}

/* One pass's state: what it runs on and what it did. */
struct pass {
	struct app *app;
	struct db *db;
	struct arena *a;
	int32_t today;
	int64_t now;
	int sent, failed;
};

/* Each row of due (its arguments: a day, BATCH) claimed by claim (now, the row's id in
 * column 0) and sent, once; the pass's first failure is logged with what and column
 * name_col. */
static int each_due(struct pass *p, struct db_sql *due, int32_t day, struct db_sql *claim, send_fn send,
		    const char *what, int name_col, struct db_rows *rows)
{
	int rc = db_query(p->db, p->a, due, DB_ARGS(DB_INT(day), DB_INT(BATCH)), rows);
	for (size_t i = 0; !rc && i < rows->nrows; i++)
		if (one(p->app, p->db, p->a, claim, DB_ARGS(DB_INT(p->now), DB_INT(db_cell_int(rows, i, 0))), send, rows, i,
			p->today, &p->sent) &&
		    !p->failed++)
			log_warn("interact: %s %s: %s", what, db_cell(rows, i, name_col), db_last_error(p->db));
	return rc;
}

int interact_duties_run(struct app *app, struct db *db, int32_t today, int *sent)
{
	if (sent)
		*sent = 0;
	struct pass p = { .app = app, .db = db, .a = arena_new(16384), .today = today, .now = (int64_t)time(NULL) };
	struct arena *a = p.a;
	struct db_rows rows;
	bool locked;
	int rc = db_duty_lock(db, LOCK_KEY, &locked);
	if (rc || !locked)
		goto out;
	long invite_days = app ? app->cfg.evaluate_invite_days : 3;
	/* Invitations: cases ended on or before today - invite_days, still unrated. */
	if ((rc = each_due(&p, &q_invite_due, today - (int32_t)invite_days, &q_invite_claim, send_invite,
			   "invitation for application", 1, &rows)))
		goto out;
	/* Overdue rectifications: the department's part not done by the due day. */
	if ((rc = each_due(&p, &q_rect_due, today, &q_rect_claim, send_rect_warning, "rectification warning", 0, &rows)))
		goto out;
	/* Consultations not answered by the due day: the department's staff, once. */
	if ((rc = each_due(&p, &q_consult_due, today, &q_consult_claim, send_consult_warning, "consultation warning", 0,
			   &rows)))
		goto out;
	/* Complaints: overdue -> heads; escalate-days working days later still open -> admins. */
	if ((rc = db_query(db, a, &q_complaint_due, DB_ARGS(DB_INT(today), DB_INT(BATCH)), &rows)))
		goto out;
	long esc_days = app ? app->cfg.complaint_escalate_days : 2;
	for (size_t i = 0; i < rows.nrows; i++) {
		int level = (int)db_cell_int(&rows, i, 3);
		int32_t due = (int32_t)db_cell_int(&rows, i, 2);
		if (level == 1 && today <= ia_add_workdays(app, due, (int)esc_days))
			continue;
		if (one(app, db, a, &q_complaint_claim,
			DB_ARGS(DB_INT(level + 1), DB_INT(p.now), DB_INT(db_cell_int(&rows, i, 0)), DB_INT(level)), send_escalation,
			&rows, i, today, &p.sent) &&
		    !p.failed++)
			log_warn("interact: complaint escalation %s: %s", db_cell(&rows, i, 0), db_last_error(db));
	}
out:
	if (locked)
		db_duty_unlock(db, LOCK_KEY);
	arena_free(a);
	if (sent)
		*sent = p.sent;
	if (p.sent)
		notify_nudge();
	return rc;
}

/* ---- the thread and the command ------------------------------------------------------ */

static struct duty_run run;

static int pass(void *arg, bool *more)
{
	struct duty_run *d = arg;
	int sent = 0;
	int rc = interact_duties_run(d->app, d->db, calendar_day_of(time(NULL)), &sent);
	if (rc)
		log_debug("interact: duties pass failed: %s", db_last_error(d->db));
	else if (sent)
		log_info("interact: %d message%s (invitations, warnings, escalations)", sent, sent == 1 ? "" : "s");
	*more = false;
	return rc;
}

int interact_start(struct app *app, char *err, size_t errlen)
{
	return duty_run_start(&run, "interact", pass, app, app->duty_db, PERIOD_S, err, errlen);
}

void interact_stop(void)
{
	duty_run_stop(&run);
}

int interact_cli_duties(struct app *app, int argc, char **argv)
{
	int32_t today = calendar_day_of(time(NULL));
	if (argc > 1 || (argc == 1 && calendar_parse_day(argv[0], strlen(argv[0]), &today))) {
		fprintf(stderr, "usage: govhall interact-duties [YYYY-MM-DD]\n");
		return 2;
	}
	struct db *db;
	char err[512];
	if (db_open(app->cfg.db, &db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return 1;
	}
	if (db_migrate(db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		db_close(db);
		return 1;
	}
	int sent = 0;
	int rc = interact_duties_run(app, db, today, &sent);
	if (rc)
		fprintf(stderr, "govhall: interact duties: %s\n", db_last_error(db));
	else
		printf("%d message%s written\n", sent, sent == 1 ? "" : "s");
	db_close(db);
	return rc ? 1 : 0;
}
