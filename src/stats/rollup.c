/* rollup.c: keeping stats_daily up to date as events happen, and rebuilding it from the raw
 * rows. Each event adds to a few rows by upsert, inside the event's own transaction. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/cases.h"
#include "cases/workflow.h"
#include "stats/stats_impl.h"
#include "store/db.h"

static struct app *the_app;

DB_SQL(q_add, "INSERT INTO stats_daily (day, department, item_code, channel, metric, value) VALUES (?, ?, ?, ?, ?, ?) "
	      "ON CONFLICT (day, department, item_code, channel, metric) DO UPDATE SET value = stats_daily.value + "
	      "excluded.value");

int stats_add(struct db *db, int32_t day, const char *department, const char *item_code, const char *channel,
	      const char *metric, int64_t value)
{
	int32_t today = calendar_day_of((time_t)clock_now());
	int rc = day < today ? stats_running_touch(db, day, today) : 0; /* a day past: its week may be summed */
	if (rc)
		return rc;
	return db_exec(db, &q_add,
		       DB_ARGS(DB_INT(day), DB_TEXT(department ? department : ""), DB_TEXT(item_code ? item_code : ""),
			       DB_TEXT(channel ? channel : ""), DB_TEXT(metric), DB_INT(value)),
		       NULL);
}

bool stats_online_channel(const char *ch)
{
	return ch && (!strcmp(ch, "web") || !strcmp(ch, "app") || !strcmp(ch, "miniprogram") || !strcmp(ch, "open311"));
}

bool stats_concluded_state(const char *state)
{
	const struct wf_state *s = state ? wf_state(state) : NULL; /* the workflow table says */
	return s && s->concluded;
}

int stats_handling_workdays(const struct calendar *cal, int32_t accepted_day, int32_t done_day, int paused)
{
	if (!accepted_day || !cal)
		return 0;
	int n = calendar_workdays_between(cal, accepted_day, done_day) - paused;
	return n < 0 ? 0 : n;
}

/* A counter step: material submitted or resupplied at a counter, i.e. a submit or resubmit
 * event taken by a staff account rather than by the applicant or their agent. */
DB_SQL(q_counter_steps, "SELECT COUNT(*) FROM application_events e JOIN accounts s ON s.id = e.actor_id "
			"WHERE e.application_id = ? AND e.action IN ('submit', 'resubmit') AND s.kind = 'staff'");

int stats_case_figures(const struct case_change *c, const struct calendar *cal, bool counter_steps,
		       int (*add)(void *ctx, int32_t day, const char *metric, int64_t value), void *ctx)
{
	int32_t day = calendar_day_of((time_t)c->at);
	int rc = 0;
	const struct wf_action *act = wf_action(c->action); /* the metric it counts: the workflow says */
	if (act && act->counts)
		rc = add(ctx, day, act->counts, 1);
	if (rc || !stats_concluded_state(c->to_state) || stats_concluded_state(c->from_state))
		return rc;
	rc = add(ctx, day, M_CONCLUDED, 1);
	if (!rc && c->due_day && day <= c->due_day)
		rc = add(ctx, day, M_ON_TIME, 1);
	int n = stats_handling_workdays(cal, c->accepted_day, day, c->paused_workdays);
	if (!rc && n)
		rc = add(ctx, day, M_WORKDAYS, n);
	if (!rc && stats_online_channel(c->channel) && !counter_steps)
		rc = add(ctx, day, M_ONLINE, 1);
	return rc;
}

struct observed {
	struct db *db;
	const struct case_change *c;
};

static int observe_add(void *ctx, int32_t day, const char *metric, int64_t value)
{
	struct observed *o = ctx;
	return stats_add(o->db, day, o->c->department, o->c->item_code, o->c->channel, metric, value);
}

static int observe(struct db *db, struct arena *a, const struct case_change *c)
{
	/* Whether a counter took material in: asked only when the answer counts (an online
	 * application concluding). */
	bool counter_steps = false;
	if (stats_concluded_state(c->to_state) && !stats_concluded_state(c->from_state) &&
	    stats_online_channel(c->channel)) {
		struct db_rows rows;
		int rc = db_query(db, a, &q_counter_steps, DB_ARGS(DB_INT(c->application_id)), &rows);
		if (rc)
			return rc;
		counter_steps = db_cell_int(&rows, 0, 0) != 0;
	}
	struct observed o = { db, c };
	return stats_case_figures(c, the_app ? atomic_load(&the_app->calendar) : NULL, counter_steps, observe_add, &o);
}

/* One payment or refund: counted, and its amount added (fen: at least 1). */
static int money(struct db *db, const char *department, const char *item_code, const char *channel, int32_t day,
		 int64_t fen, const char *count_metric, const char *fen_metric)
{
	if (fen < 1)
		return GH_EINVAL;
	int rc = stats_add(db, day, department, item_code, channel, count_metric, 1);
	return rc ? rc : stats_add(db, day, department, item_code, channel, fen_metric, fen);
}

int stats_payment(struct db *db, struct arena *a, const char *department, const char *item_code, const char *channel,
		  int32_t day, int64_t fen)
{
	(void)a;
	return money(db, department, item_code, channel, day, fen, M_PAID, M_PAID_FEN);
}

int stats_refund(struct db *db, struct arena *a, const char *department, const char *item_code, const char *channel,
		 int32_t day, int64_t fen)
{
	(void)a;
	return money(db, department, item_code, channel, day, fen, M_REFUNDS, M_REFUNDED_FEN);
}

int stats_init(struct app *app)
{
	the_app = app;
	cases_observe(observe);
	return 0;
}

int stats_evaluation(struct db *db, struct arena *a, const char *department, const char *item_code,
		     const char *channel, int level, int32_t day, bool bad)
{
	(void)a;
	if (level < 1 || level > 5 || bad != (level <= 2))
		return GH_EINVAL;
	int rc = stats_add(db, day, department, item_code, channel, M_EVAL, 1);
	if (!rc && bad)
		rc = stats_add(db, day, department, item_code, channel, M_EVAL_BAD, 1);
	return rc;
}

int stats_evaluation_exclude(struct db *db, struct arena *a, const char *department, const char *item_code,
			     const char *channel, int level, int32_t day, bool bad)
{
	(void)a;
	if (level < 1 || level > 5 || bad != (level <= 2))
		return GH_EINVAL;
	int rc = stats_add(db, day, department, item_code, channel, M_EVAL, -1);
	if (!rc && bad)
		rc = stats_add(db, day, department, item_code, channel, M_EVAL_BAD, -1);
	return rc;
}

int stats_count(struct db *db, struct arena *a, int32_t day, const char *department, const char *item_code,
		const char *channel, const char *metric, int64_t n)
{
	static const char *const known[] = { M_BK_BOOKED, M_BK_ATTENDED, M_BK_NOSHOW, M_BK_SERVED, M_BK_CALLED, M_BK_WAIT };
	(void)a;
	for (size_t i = 0; metric && i < ARRAY_LEN(known); i++)
		if (!strcmp(metric, known[i]))
			return stats_add(db, day, department, item_code, channel, metric, n);
	return GH_EINVAL;
}

int stats_rectification(struct db *db, struct arena *a, const char *department, const char *item_code, int32_t day,
			bool rectified)
{
	(void)a;
	int rc = stats_add(db, day, department, item_code, "", M_RECT_CLOSED, 1);
	if (!rc && rectified)
		rc = stats_add(db, day, department, item_code, "", M_RECT_DONE, 1);
	return rc;
}

/* ---- rebuild -------------------------------------------------------------------------- */

/* On PostgreSQL, transitions committing meanwhile wait for the rebuild (their upserts block on
 * the lock), so nothing is counted twice or lost; SQLite's BEGIN IMMEDIATE already excludes
 * other writers. */
DB_SQL2(q_lock, "SELECT 1", "LOCK TABLE stats_daily IN EXCLUSIVE MODE");
DB_SQL(q_clear, "DELETE FROM stats_daily WHERE metric IN ('submitted', 'concluded', 'on_time', 'online', 'workdays', "
		"'reg_individual', 'reg_enterprise')");
DB_SQL(q_accounts, "SELECT id, kind, created_at FROM accounts WHERE kind IN ('individual', 'enterprise') AND id > ? "
		   "ORDER BY id LIMIT 5000");
DB_SQL(q_apps, "SELECT a.id, a.department, a.item_code, a.channel, a.state, a.submitted_at, a.completed_at, "
	       "a.accepted_day, a.due_day, a.paused_workdays, (SELECT COUNT(*) FROM application_events e JOIN accounts s "
	       "ON s.id = e.actor_id WHERE e.application_id = a.id AND e.action IN ('submit', 'resubmit') AND "
	       "s.kind = 'staff') FROM applications a WHERE a.id > ? AND a.submitted_at IS NOT NULL ORDER BY a.id "
	       "LIMIT 5000");

int stats_rebuild(struct db *db, const struct calendar *cal, FILE *out)
{
	struct arena *a = arena_new(1 << 16);
	int64_t naccounts = 0, napps = 0, nconcluded = 0;
	int rc = db_begin(db);
	if (!rc)
		rc = db_exec(db, &q_lock, DB_NOARGS, NULL);
	if (!rc)
		rc = db_exec(db, &q_clear, DB_NOARGS, NULL);
	if (!rc)
		rc = stats_running_clear(db);
	for (int64_t last = 0; !rc;) {
		struct db_rows rows;
		arena_reset(a);
		if ((rc = db_query(db, a, &q_accounts, DB_ARGS(DB_INT(last)), &rows)) || rows.nrows == 0)
			break;
		for (size_t i = 0; i < rows.nrows && !rc; i++) {
			last = db_cell_int(&rows, i, 0);
			const char *kind = db_cell(&rows, i, 1);
			rc = stats_add(db, calendar_day_of((time_t)db_cell_int(&rows, i, 2)), "", "", "",
				       !strcmp(kind, "individual") ? M_REG_INDIVIDUAL : M_REG_ENTERPRISE, 1);
			naccounts++;
		}
	}
	for (int64_t last = 0; !rc;) {
		struct db_rows rows;
		arena_reset(a);
		if ((rc = db_query(db, a, &q_apps, DB_ARGS(DB_INT(last)), &rows)) || rows.nrows == 0)
			break;
		for (size_t i = 0; i < rows.nrows && !rc; i++) {
			last = db_cell_int(&rows, i, 0);
			const char *dept = db_cell(&rows, i, 1), *item = db_cell(&rows, i, 2), *ch = db_cell(&rows, i, 3);
			const char *state = db_cell(&rows, i, 4);
			rc = stats_add(db, calendar_day_of((time_t)db_cell_int(&rows, i, 5)), dept, item, ch, M_SUBMITTED, 1);
			napps++;
			if (rc || !stats_concluded_state(state) || !db_cell(&rows, i, 6))
				continue;
			nconcluded++;
			int32_t day = calendar_day_of((time_t)db_cell_int(&rows, i, 6));
			int32_t accepted = (int32_t)db_cell_int(&rows, i, 7), due = (int32_t)db_cell_int(&rows, i, 8);
			rc = stats_add(db, day, dept, item, ch, M_CONCLUDED, 1);
			if (!rc && due && day <= due)
				rc = stats_add(db, day, dept, item, ch, M_ON_TIME, 1);
			int n = stats_handling_workdays(cal, accepted, day, (int)db_cell_int(&rows, i, 9));
			if (!rc && n)
				rc = stats_add(db, day, dept, item, ch, M_WORKDAYS, n);
			if (!rc && stats_online_channel(ch) && db_cell_int(&rows, i, 10) == 0)
				rc = stats_add(db, day, dept, item, ch, M_ONLINE, 1);
		}
	}
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		log_error("stats rebuild failed: %s (%s)", err_name(rc), db_last_error(db));
	} else if (out) {
		fprintf(out, "statistics rebuilt: %lld registrations, %lld applications (%lld concluded)\n",
			(long long)naccounts, (long long)napps, (long long)nconcluded);
	}
	arena_free(a);
	return rc;
}

int stats_cli(struct app *app, struct db *db, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "rebuild") != 0) {
		fprintf(stderr, "usage: govhall stats rebuild\n"
				"  recomputes the application and registration figures from the raw rows\n");
		return 2;
	}
	struct calendar *cal = atomic_load(&app->calendar);
	int rc = stats_rebuild(db, cal, stdout);
	if (rc)
		fprintf(stderr, "govhall: the statistics could not be rebuilt (%s): %s\n", err_name(rc), db_last_error(db));
	return rc ? 1 : 0;
}
