/* duties.c: the booking module's background duties, their thread, and `govhall booking`.
 *
 * One pass, on one node at a time (a PostgreSQL advisory lock; trivially on SQLite):
 * - holds not confirmed by their hold_until lapse and give their place back;
 * - bookings whose slot ended without a check-in become no-shows (missed); a person reaching
 *   booking-noshow-limit of them in booking-noshow-window days has online booking paused and
 *   is told why and until when (book.c, bk_noshow);
 * - the reminder of the day before goes to each booking of tomorrow (or today, when it was
 *   made today) through the notification outbox, once: claimed by a guarded UPDATE
 *   (reminded_at IS NULL) in the transaction that queues it;
 * - tickets of past days still waiting or called are closed as expired, and their checked-in
 *   bookings too (the hall closed before serving them: not a no-show).
 * Each row is its own transaction, so one bad row never blocks the others. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "booking/booking_impl.h"
#include "notify/notify.h"
#include "catalog/catalog.h"
#include "stats/stats.h"
#include "store/db.h"
#include "http/msg.h"
#include "view/view.h"

#define LOCK_KEY 4711020416 /* the booking duties' lock (db_duty_lock) */
#define BATCH 200
#define PERIOD_S 60

DB_SQL(q_held_due, "SELECT id FROM bookings WHERE state = 'held' AND hold_until < ? ORDER BY hold_until LIMIT ?");
DB_SQL(q_booked_past, "SELECT id, day, end_min FROM bookings WHERE state = 'booked' AND day <= ? ORDER BY day, end_min, id "
		      "LIMIT ?");
DB_SQL(q_remind_due, "SELECT id, day, start_min FROM bookings WHERE state = 'booked' AND reminded_at IS NULL AND day <= ? "
		     "ORDER BY day, start_min, id LIMIT ?");
DB_SQL(q_remind_claim, "UPDATE bookings SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL AND state = 'booked'");
DB_SQL(q_tickets_past, "SELECT id, booking_id, centre FROM booking_tickets WHERE day < ? AND state IN ('waiting', 'called') "
		       "ORDER BY id LIMIT ?");
DB_SQL(q_ticket_expire, "UPDATE booking_tickets SET state = 'expired', closed_at = ?, version = version + 1 "
			"WHERE id = ? AND state IN ('waiting', 'called')");

/* Runs one row's work in its own transaction; logs the first failure of a pass. */
static int in_tx(struct db *db, int (*fn)(struct app *, struct db *, struct arena *, int64_t, int64_t, int *), struct app *app,
		 struct arena *a, int64_t id, int64_t now, int *count, int *failed, const char *what)
{
	int n = 0;
	int rc = db_begin(db);
	if (!rc)
		rc = fn(app, db, a, id, now, &n);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		if (rc != GH_ECONFLICT && !(*failed)++)
			log_warn("booking: %s %lld: %s", what, (long long)id, db_last_error(db));
		return rc == GH_ECONFLICT ? 0 : rc;
	}
	*count += n;
	return 0;
}

static int lapse_one(struct app *app, struct db *db, struct arena *a, int64_t id, int64_t now, int *n)
{
	(void)app, (void)a;
	int rc = bk_end(db, id, "held", "lapsed", now, true);
	if (!rc)
		rc = bk_event(db, id, 0, "lapse", 0, NULL);
	*n = !rc;
	return rc;
}

static int noshow_one(struct app *app, struct db *db, struct arena *a, int64_t id, int64_t now, int *n)
{
	struct bk_booking b;
	bool paused = false;
	int rc = bk_get_id(db, a, id, &b);
	if (!rc)
		rc = bk_end(db, id, "booked", "missed", now, false);
	if (!rc)
		rc = bk_event(db, id, 0, "noshow", 0, NULL);
	if (!rc)
		rc = stats_count(db, a, b.day, b.department, b.item_code, b.channel, "bk_noshow", 1);
	if (!rc)
		rc = bk_noshow(app, db, a, b.account_id, now, &paused);
	*n = !rc ? (paused ? 2 : 1) : 0;
	return rc;
}

static int remind_one(struct app *app, struct db *db, struct arena *a, int64_t id, int64_t now, int *n)
{
	int64_t changed = 0;
	struct bk_booking b;
	int rc = db_exec(db, &q_remind_claim, DB_ARGS(DB_INT(now), DB_INT(id)), &changed);
	if (rc || changed != 1)
		return rc;
	if ((rc = bk_get_id(db, a, id, &b)))
		return rc;
	struct catalog_service svc;
	const char *item_zh = b.item_code, *item_en = b.item_code;
	if (!catalog_service_get(db, a, b.item_code, 0, &svc)) {
		item_zh = svc.name_zh;
		item_en = svc.name_en && *svc.name_en ? svc.name_en : svc.name_zh;
	}
	const struct view *v = app ? app->view : NULL;
	const char *when = bk_when(a, bk_at(b.day, b.start_min));
	const char *centre_en = b.centre_en && *b.centre_en ? b.centre_en : b.centre_zh;
	rc = notify_message(
		db, a, b.enterprise_id ? b.enterprise_id : b.account_id, b.application_id, "booking_reminder",
		view_msg(v, "zh", "booking_msg_reminder_title"), view_msg(v, "en", "booking_msg_reminder_title"),
		VF(v, "zh", a, "booking_msg_reminder_body", MA("ref", b.ref), MA("item", item_zh), MA("centre", b.centre_zh),
		   MA("time", when)),
		VF(v, "en", a, "booking_msg_reminder_body", MA("ref", b.ref), MA("item", item_en), MA("centre", centre_en),
		   MA("time", when)));
	if (!rc)
		rc = bk_event(db, id, 0, "remind", 0, NULL);
	*n = !rc;
	return rc;
}

static int expire_one(struct app *app, struct db *db, struct arena *a, int64_t id, int64_t now, int *n)
{
	(void)app;
	struct bk_ticket t;
	int64_t changed = 0;
	int rc = bk_ticket_get(db, a, id, &t);
	if (!rc)
		rc = db_exec(db, &q_ticket_expire, DB_ARGS(DB_INT(now), DB_INT(id)), &changed);
	if (!rc && changed != 1)
		return GH_ECONFLICT;
	if (!rc)
		rc = bk_event(db, t.booking_id, id, "expire", 0, NULL);
	if (!rc && t.booking_id)
		rc = bk_end(db, t.booking_id, "checked_in", "expired", now, false);
	if (rc == GH_ECONFLICT && t.booking_id)
		rc = 0; /* its booking was closed otherwise */
	*n = !rc;
	return rc;
}

int booking_duties_run(struct app *app, struct db *db, int64_t now, struct booking_pass *out)
{
	struct booking_pass p = { 0 };
	struct arena *a = arena_new(16384);
	struct db_rows rows;
	int failed = 0;
	bool locked;
	int rc = db_duty_lock(db, LOCK_KEY, &locked);
	if (rc || !locked)
		goto out;
	int32_t today = calendar_day_of((time_t)now);
	if ((rc = db_query(db, a, &q_held_due, DB_ARGS(DB_INT(now), DB_INT(BATCH)), &rows)))
		goto out;
	for (size_t i = 0; !rc && i < rows.nrows; i++)
		rc = in_tx(db, lapse_one, app, a, db_cell_int(&rows, i, 0), now, &p.lapsed, &failed, "lapsing hold");
	if (rc || (rc = db_query(db, a, &q_booked_past, DB_ARGS(DB_INT(today), DB_INT(BATCH)), &rows)))
		goto out;
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		if (bk_at((int32_t)db_cell_int(&rows, i, 1), (int)db_cell_int(&rows, i, 2)) >= now)
			continue; /* its slot has not ended */
		int n = 0;
		rc = in_tx(db, noshow_one, app, a, db_cell_int(&rows, i, 0), now, &n, &failed, "no-show");
		p.missed += n ? 1 : 0;
		p.paused += n == 2;
	}
	if (rc || (rc = db_query(db, a, &q_remind_due, DB_ARGS(DB_INT(today + 1), DB_INT(BATCH)), &rows)))
		goto out;
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		if (bk_at((int32_t)db_cell_int(&rows, i, 1), (int)db_cell_int(&rows, i, 2)) <= now)
			continue; /* too late to remind */
		rc = in_tx(db, remind_one, app, a, db_cell_int(&rows, i, 0), now, &p.reminded, &failed, "reminder");
	}
	if (rc || (rc = db_query(db, a, &q_tickets_past, DB_ARGS(DB_INT(today), DB_INT(BATCH)), &rows)))
		goto out;
	for (size_t i = 0; !rc && i < rows.nrows; i++)
		rc = in_tx(db, expire_one, app, a, db_cell_int(&rows, i, 0), now, &p.expired, &failed, "expiring ticket");
out:
	if (locked)
		db_duty_unlock(db, LOCK_KEY);
	arena_free(a);
	if (out)
		*out = p;
	if (p.reminded || p.paused)
		notify_nudge();
	return rc;
}

/* ---- the thread and the command ------------------------------------------------------------- */

static struct duty_run run;

static int pass(void *arg, bool *more)
{
	struct duty_run *d = arg;
	struct booking_pass p;
	int rc = booking_duties_run(d->app, d->db, (int64_t)time(NULL), &p);
	if (rc)
		log_debug("booking: duties pass failed: %s", db_last_error(d->db));
	else if (p.lapsed || p.missed || p.reminded || p.expired)
		log_info("booking: %d hold(s) lapsed, %d no-show(s) (%d paused), %d reminder(s), %d ticket(s) expired", p.lapsed,
			 p.missed, p.paused, p.reminded, p.expired);
	*more = !rc && (p.lapsed == BATCH || p.missed == BATCH || p.reminded == BATCH || p.expired == BATCH);
	return rc;
}

int booking_start(struct app *app, char *err, size_t errlen)
{
	return duty_run_start(&run, "booking", pass, app, app->duty_db, PERIOD_S, err, errlen);
}

void booking_stop(void)
{
	duty_run_stop(&run);
}

/* "YYYY-MM-DDTHH:MM" (China Standard Time) or "YYYY-MM-DD" (its 00:00) as Unix seconds. */
static int parse_moment(const char *s, int64_t *t)
{
	size_t n = strlen(s);
	int32_t day;
	int min = 0;
	if ((n != 10 && n != 16) || calendar_parse_day(s, 10, &day) || (n == 16 && (s[10] != 'T' || bk_parse_hhmm(s + 11, 5, &min))))
		return -1;
	*t = bk_at(day, min);
	return 0;
}

static int open_db(struct app *app, struct db **db)
{
	char err[512];
	if (db_open(app->cfg.db, db, err, sizeof(err)) || db_migrate(*db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		if (*db)
			db_close(*db);
		return -1;
	}
	return 0;
}

int booking_cli(struct app *app, int argc, char **argv)
{
	static const char usage[] = "usage: govhall booking import FILE.json | duties [YYYY-MM-DD[THH:MM]]\n";
	struct db *db = NULL;
	if (argc >= 1 && !strcmp(argv[0], "import")) {
		if (argc != 2) {
			fputs(usage, stderr);
			return 2;
		}
		if (open_db(app, &db))
			return 1;
		size_t n = 0;
		int rc = booking_import_file(db, argv[1], stderr, &n);
		db_close(db);
		if (rc) {
			fprintf(stderr, "govhall: %s was not imported; fix what is listed above and run again\n", argv[1]);
			return 1;
		}
		printf("imported: %zu centre%s\n", n, n == 1 ? "" : "s");
		return 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "duties")) {
		int64_t now = (int64_t)time(NULL);
		if (argc > 2 || (argc == 2 && parse_moment(argv[1], &now))) {
			fputs(usage, stderr);
			return 2;
		}
		if (open_db(app, &db))
			return 1;
		struct booking_pass p;
		int rc = booking_duties_run(app, db, now, &p);
		if (rc)
			fprintf(stderr, "govhall: booking duties: %s\n", db_last_error(db));
		else
			printf("%d hold(s) lapsed, %d no-show(s), %d paused, %d reminder(s), %d ticket(s) expired\n", p.lapsed,
			       p.missed, p.paused, p.reminded, p.expired);
		db_close(db);
		return rc ? 1 : 0;
	}
	fputs(usage, stderr);
	return 2;
}
