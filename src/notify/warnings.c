/* warnings.c: deadline warnings to staff, and the duties thread (see warnings.h).
 *
 * A pass selects the applications that are yellow (yellow_day <= today) or red (due_day <
 * today) without the matching row in `warnings`, running (accepted, not completed, not
 * paused), oldest due day first. For each it opens a transaction, inserts the warning row
 * (ON CONFLICT DO NOTHING) and, only when a row was inserted, writes one inbox message per
 * eligible staff account; then commits. Another node or an earlier pass that got there first
 * leaves nothing to insert, so nothing is sent twice. Days left or overdue are counted on the
 * node's calendar at the time of the pass; the stored due day is the promise and is not
 * recomputed.
 *
 * The warning passes run on one node at a time (PostgreSQL advisory lock; trivially on
 * SQLite). They share the duties thread (base/duty.h) with the cases module's calendar
 * refresh, so the calendar a pass loaded is not swapped twice under it (calendar_admin.h). */
#include "notify/warnings.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "notify/notify.h"
#include "http/http.h"
#include "store/db.h"

#define LOCK_KEY 4711020402 /* the warning pass's lock ("notify" + 1; db_duty_lock) */

/* Running applications with a warning due and not yet recorded: has_yellow, has_red tell
 * which rows exist. */
DB_SQL(q_due, "SELECT a.id, a.number, a.department, a.due_day, a.yellow_day, s.name_zh, s.name_en, "
	      "CASE WHEN EXISTS (SELECT 1 FROM warnings w WHERE w.application_id = a.id AND w.colour = 'yellow') "
	      "THEN 1 ELSE 0 END, "
	      "CASE WHEN EXISTS (SELECT 1 FROM warnings w WHERE w.application_id = a.id AND w.colour = 'red') "
	      "THEN 1 ELSE 0 END "
	      "FROM applications a JOIN service_items s ON s.code = a.item_code AND s.version = a.item_version "
	      "WHERE a.due_day IS NOT NULL AND a.accepted_day IS NOT NULL AND a.completed_at IS NULL "
	      "AND a.paused_since IS NULL AND a.state <> 'draft' "
	      "AND ((a.yellow_day <= ? AND NOT EXISTS (SELECT 1 FROM warnings w WHERE w.application_id = a.id "
	      "AND w.colour = 'yellow')) "
	      "OR (a.due_day < ? AND NOT EXISTS (SELECT 1 FROM warnings w WHERE w.application_id = a.id "
	      "AND w.colour = 'red'))) "
	      "ORDER BY a.due_day, a.id LIMIT ?");
DB_SQL(q_record, "INSERT INTO warnings (application_id, colour, at) VALUES (?, ?, ?) "
		 "ON CONFLICT (application_id, colour) DO NOTHING");
DB_SQL(q_staff, "SELECT id, staff_roles FROM accounts WHERE kind = 'staff' AND status = 'active' "
		"AND department = ? ORDER BY id");

/* Whether the comma-separated duty words of staff_roles include one of words (NULL-ended). */
static bool has_duty(const char *roles, const char *const *words)
{
	while (roles && *roles) {
		size_t n = strcspn(roles, ",");
		for (size_t i = 0; words[i]; i++)
			if (strlen(words[i]) == n && strncmp(words[i], roles, n) == 0)
				return true;
		roles += n;
		if (*roles == ',')
			roles++;
	}
	return false;
}

struct due_app {
	int64_t id;
	const char *number, *department, *item_zh, *item_en;
	int32_t due_day, yellow_day;
	bool has_yellow, has_red;
};

/* Records and sends the warnings one application is due, in one transaction. */
static int warn_one(struct db *db, struct arena *a, const struct calendar *cal, const struct due_app *x,
		    int32_t today, int *sent)
{
	*sent = 0;
	bool red = x->due_day < today && !x->has_red;
	bool yellow = x->yellow_day <= today && !x->has_yellow;
	int64_t now = (int64_t)time(NULL), inserted = 0;
	int n = 0;
	int rc = db_begin(db);
	if (rc)
		return rc;
	if (yellow) {
		/* Recorded even when red comes with it: a late yellow would only confuse. */
		if ((rc = db_exec(db, &q_record, DB_ARGS(DB_INT(x->id), DB_TEXT("yellow"), DB_INT(now)), &inserted)))
			goto out;
		if (red)
			inserted = 0;
	}
	const char *colour = "yellow";
	if (red) {
		colour = "red";
		if ((rc = db_exec(db, &q_record, DB_ARGS(DB_INT(x->id), DB_TEXT("red"), DB_INT(now)), &inserted)))
			goto out;
	}
	if (inserted != 1)
		goto out; /* someone else recorded it: they send */
	static const char *const yellow_duties[] = { "counter", "reviewer", NULL };
	static const char *const red_duties[] = { "counter", "reviewer", "head", NULL };
	const char *const *duties = red ? red_duties : yellow_duties;
	int days = red ? calendar_workdays_between(cal, x->due_day, today)
		       : calendar_workdays_between(cal, today, x->due_day);
	if (days < 0)
		days = 0;
	struct db_rows rows;
	if ((rc = db_query(db, a, &q_staff, DB_ARGS(DB_TEXT(x->department)), &rows)))
		goto out;
	for (size_t i = 0; i < rows.nrows && !rc; i++) {
		if (!has_duty(db_cell(&rows, i, 1), duties))
			continue;
		rc = notify_staff_warning(db, a, db_cell_int(&rows, i, 0), x->id, x->number, colour, x->item_zh,
					  x->item_en, days);
		n++;
	}
out:
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db); /* nothing of this application was kept: the next pass tries again */
		return rc;
	}
	*sent = n;
	return 0;
}

int warnings_run(struct app *app, struct db *db, int32_t today, int *sent)
{
	if (sent)
		*sent = 0;
	struct arena *a = arena_new(16384);
	struct db_rows rows;
	bool locked;
	struct calendar *own = NULL;
	int rc = db_duty_lock(db, LOCK_KEY, &locked);
	if (rc || !locked)
		goto out; /* another node warns */
	/* One load for the pass: the calendar may be swapped meanwhile, and the old one stays
	 * valid until the next swap (calendar_admin.h), far longer than a pass over a batch. */
	const struct calendar *cal = app ? app->calendar : NULL;
	if (!cal)
		cal = own = calendar_new(NULL, 0, NULL, 0);
	if ((rc = db_query(db, a, &q_due, DB_ARGS(DB_INT(today), DB_INT(today), DB_INT(WARNINGS_BATCH)), &rows)))
		goto out;
	int failed = 0;
	for (size_t i = 0; i < rows.nrows; i++) {
		struct due_app x = {
			.id = db_cell_int(&rows, i, 0),
			.number = db_cell(&rows, i, 1),
			.department = db_cell(&rows, i, 2),
			.due_day = (int32_t)db_cell_int(&rows, i, 3),
			.yellow_day = db_cell(&rows, i, 4) ? (int32_t)db_cell_int(&rows, i, 4) : (int32_t)db_cell_int(&rows, i, 3),
			.item_zh = db_cell(&rows, i, 5),
			.item_en = db_cell(&rows, i, 6),
			.has_yellow = db_cell_int(&rows, i, 7) == 1,
			.has_red = db_cell_int(&rows, i, 8) == 1,
		};
		int n = 0;
		int one = warn_one(db, a, cal, &x, today, &n);
		if (!one && sent)
			*sent += n;
		if (one) {
			if (!failed++)
				log_warn("warnings: application %lld: %s", (long long)x.id, db_last_error(db));
			if (!rc)
				rc = one;
		}
	}
out:
	if (locked) {
		int urc = db_duty_unlock(db, LOCK_KEY);
		if (!rc)
			rc = urc;
	}
	calendar_free(own);
	arena_free(a);
	return rc;
}

/* ---- the duty --------------------------------------------------------------------------- */

static struct duty_run run;

/* Every WARNINGS_PERIOD_S, and at once again after a full batch. */
static int warnings_pass(void *arg, bool *more)
{
	struct duty_run *d = arg;
	time_t now = time(NULL);
	int sent = 0;
	int wrc = warnings_run(d->app, d->db, calendar_day_of(now), &sent);
	if (wrc)
		log_debug("warnings: pass failed: %s", db_last_error(d->db));
	else if (sent)
		log_info("warnings: %d message%s to staff", sent, sent == 1 ? "" : "s");
	/* A full batch: more are waiting, go on at once. */
	*more = !wrc && sent >= WARNINGS_BATCH;
	return wrc;
}

int warnings_start(struct app *app, char *err, size_t errlen)
{
	return duty_run_start(&run, "warnings", warnings_pass, app, app->duty_db, WARNINGS_PERIOD_S, err, errlen);
}

void warnings_stop(void)
{
	duty_run_stop(&run);
}
