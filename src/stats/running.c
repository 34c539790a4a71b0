/* running.c: the statistics' running totals at the end of each week that has ended (migration
 * 0045_stats_running).
 *
 * A week (Monday to Sunday) that has ended is summed once, in order: stats_running gets a row
 * per dimension (department, item, channel, metric) holding the total of every day up to the
 * week's last day (the running totals of the week before plus the week's own stats_daily
 * rows), stats_day_totals a row per day and metric (for the series), and stats_weeks marks the
 * week. The duty "statistics" sums them (on one node at a time: each week is summed in a
 * transaction holding stats_weeks' lock) and the generators at their end.
 *
 * The figures of a range (figures.c) take the run of consecutive summed weeks whose ends lie
 * in it: the days between the first end and the last are the difference of those two weeks'
 * running totals, whatever the range's length; the days before the first end and after the
 * last (at most a week at each end) are read from stats_daily. A difference needs only that
 * each week's totals are the week before's plus its own days, so weeks summed from a later
 * start (a day of rollups before the first one arrives) cancel out as well.
 *
 * A rollup written into a week already summed (an evaluation taken out after an appeal, by
 * its day) drops that week and every later one in the same transaction, under the same lock,
 * before it writes (their running totals include its day): figures read those days from
 * stats_daily until the duty sums them again, in order. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/clock.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "stats/stats_impl.h"
#include "store/db.h"

#define WEEKS_PER_PASS 26 /* weeks summed in one pass of the duty (more: a pass again at once) */
#define PERIOD_S 3600     /* a week ends once a week; an hour's wait is soon enough */

/* On PostgreSQL the lock orders a week's summing and its dropping: the summing reads
 * stats_daily after every dropping that committed before it, and a dropping sees the mark of
 * every summing that committed before it. SQLite's writers are one at a time already. */
DB_SQL2(q_lock, "SELECT 1", "LOCK TABLE stats_weeks IN EXCLUSIVE MODE");
DB_SQL(q_marked, "SELECT first_day FROM stats_weeks WHERE first_day >= ? ORDER BY first_day");
DB_SQL(q_first, "SELECT MIN(day) FROM stats_daily");
DB_SQL(q_is_marked, "SELECT 1 FROM stats_weeks WHERE first_day = ?");
DB_SQL(q_summed_since, "SELECT 1 FROM stats_weeks WHERE last_day >= ? LIMIT 1");
DB_SQL(q_sum_running, "INSERT INTO stats_running (last_day, department, item_code, channel, metric, value) "
		      "SELECT ?, department, item_code, channel, metric, SUM(value) FROM ("
		      "SELECT department, item_code, channel, metric, value FROM stats_running WHERE last_day = ? "
		      "UNION ALL SELECT department, item_code, channel, metric, value FROM stats_daily "
		      "WHERE day >= ? AND day <= ?) t GROUP BY department, item_code, channel, metric "
		      "HAVING SUM(value) <> 0");
DB_SQL(q_sum_days, "INSERT INTO stats_day_totals (day, metric, first_day, value) "
		   "SELECT day, metric, ?, SUM(value) FROM stats_daily WHERE day >= ? AND day <= ? GROUP BY day, metric");
DB_SQL(q_mark, "INSERT INTO stats_weeks (first_day, last_day) VALUES (?, ?)");
DB_SQL(q_drop_weeks, "DELETE FROM stats_weeks WHERE first_day >= ?");
DB_SQL(q_drop_running, "DELETE FROM stats_running WHERE last_day >= ?");
DB_SQL(q_drop_days, "DELETE FROM stats_day_totals WHERE first_day >= ?");

/* Drops week (its first day) and every later week: their marks, running totals and day totals. */
static int drop_from(struct db *db, int32_t week)
{
	int rc = db_exec(db, &q_drop_weeks, DB_ARGS(DB_INT(week)), NULL);
	if (!rc)
		rc = db_exec(db, &q_drop_running, DB_ARGS(DB_INT(week)), NULL);
	if (!rc)
		rc = db_exec(db, &q_drop_days, DB_ARGS(DB_INT(week)), NULL);
	return rc;
}

int stats_running_touch(struct db *db, int32_t day, int32_t today)
{
	int32_t week = stats_period_start(PERIOD_WEEK, day);
	if (week >= stats_period_start(PERIOD_WEEK, today))
		return 0; /* this week is not summed before it ends */
	struct arena *a = arena_new(256);
	struct db_rows rows;
	int rc = db_in_transaction(db) ? db_exec(db, &q_lock, DB_NOARGS, NULL) : 0; /* PostgreSQL: only there */
	if (!rc)
		rc = db_query(db, a, &q_summed_since, DB_ARGS(DB_INT(week)), &rows);
	if (!rc && rows.nrows)
		rc = drop_from(db, week);
	arena_free(a);
	return rc;
}

int stats_running_clear(struct db *db)
{
	int rc = db_in_transaction(db) ? db_exec(db, &q_lock, DB_NOARGS, NULL) : 0;
	if (!rc)
		rc = drop_from(db, INT32_MIN);
	return rc;
}

/* Sums week (its first day) in a transaction of its own, unless it was summed meanwhile or the
 * week before it (when it is not the first, first) was dropped meanwhile: *done when summed. */
static int sum_week(struct db *db, struct arena *a, int32_t week, int32_t first, bool *done)
{
	int32_t last = week + 6;
	struct db_rows rows;
	int rc = db_begin(db);
	if (!rc)
		rc = db_exec(db, &q_lock, DB_NOARGS, NULL);
	if (!rc)
		rc = db_query(db, a, &q_is_marked, DB_ARGS(DB_INT(week)), &rows);
	bool go = !rc && rows.nrows == 0;
	if (go && week != first) {
		rc = db_query(db, a, &q_is_marked, DB_ARGS(DB_INT(week - 7)), &rows);
		go = !rc && rows.nrows == 1;
	}
	/* The first week's running totals are its own days: any week summed before it is
	 * dropped (a chain begins here). Later weeks' marks or rows, if any, are dropped with it:
	 * they no longer follow from it. */
	int32_t before = week == first ? INT32_MIN : week - 1;
	if (go && !(rc = drop_from(db, week == first ? INT32_MIN : week)) &&
	    !(rc = db_exec(db, &q_sum_running, DB_ARGS(DB_INT(last), DB_INT(before), DB_INT(week), DB_INT(last)), NULL)) &&
	    !(rc = db_exec(db, &q_sum_days, DB_ARGS(DB_INT(week), DB_INT(week), DB_INT(last)), NULL)))
		rc = db_exec(db, &q_mark, DB_ARGS(DB_INT(week), DB_INT(last)), NULL);
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	*done = !rc && go;
	return rc;
}

int stats_running_sum(struct db *db, int32_t today, int max, int *summed, bool *more)
{
	*summed = 0;
	*more = false;
	struct arena *a = arena_new(1 << 12);
	struct db_rows first, marked;
	int rc = db_query(db, a, &q_first, DB_NOARGS, &first);
	if (rc || !first.nrows || !db_cell(&first, 0, 0)) {
		arena_free(a);
		return rc;
	}
	int32_t from = stats_period_start(PERIOD_WEEK, (int32_t)db_cell_int(&first, 0, 0));
	int32_t end = stats_period_start(PERIOD_WEEK, today); /* the week under way: not yet */
	if ((rc = db_query(db, a, &q_marked, DB_ARGS(DB_INT(from)), &marked))) {
		arena_free(a);
		return rc;
	}
	/* The weeks summed in order from the first; the first one missing and every one after it
	 * (summing it drops any later one: they follow from it). */
	int32_t w = from;
	for (size_t k = 0; k < marked.nrows && db_cell_int(&marked, k, 0) == w; k++)
		w += 7;
	for (; w < end && !rc; w += 7) {
		if (*summed == max) {
			*more = true;
			break;
		}
		bool done;
		if ((rc = sum_week(db, a, w, from, &done)))
			break;
		if (!done) { /* changed meanwhile: the next pass starts again */
			*more = true;
			break;
		}
		(*summed)++;
	}
	arena_free(a);
	return rc;
}

/* ---- the duty ---------------------------------------------------------------------------- */

static struct duty_run run;

static int pass(void *arg, bool *more)
{
	struct duty_run *d = arg;
	int summed;
	int rc = stats_running_sum(d->db, calendar_day_of((time_t)clock_now()), WEEKS_PER_PASS, &summed, more);
	if (rc)
		log_debug("statistics: summing the weeks failed: %s", db_last_error(d->db));
	else if (summed)
		log_info("statistics: %d week%s summed", summed, summed == 1 ? "" : "s");
	return rc;
}

int stats_start(struct app *app, char *err, size_t errlen)
{
	return duty_run_start(&run, "statistics", pass, app, app->duty_db, PERIOD_S, err, errlen);
}

void stats_stop(void)
{
	duty_run_stop(&run);
}

/* ---- reading a range ------------------------------------------------------------------------ */

DB_SQL(q_weeks_in, "SELECT first_day, last_day FROM stats_weeks WHERE last_day >= ? AND last_day <= ? "
		   "ORDER BY last_day");
DB_SQL(q_running, "SELECT item_code, department, channel, metric, value FROM stats_running WHERE last_day = ?");
DB_SQL(q_day_totals, "SELECT day, metric, value FROM stats_day_totals WHERE day > ? AND day <= ?");
DB_SQL(q_daily_dims, "SELECT item_code, department, channel, metric, SUM(value) FROM stats_daily WHERE day >= ? AND "
		     "day <= ? GROUP BY item_code, department, channel, metric");
DB_SQL(q_daily_days, "SELECT day, metric, SUM(value) FROM stats_daily WHERE day >= ? AND day <= ? GROUP BY day, metric");

struct sums {
	struct stats_dim_sum *dims;
	size_t ndims, dcap;
	struct stats_day_sum *days;
	size_t ndays, ycap;
};

static void grow(struct arena *a, void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	void *w = arena_array(a, n, size);
	if (*cap)
		memcpy(w, *v, *cap * size);
	*v = w;
	*cap = n;
}

/* Adds rows (item, department, channel, metric, value) to s, times sign (1 or -1). */
static void take_dims(struct arena *a, struct sums *s, const struct db_rows *r, int sign)
{
	grow(a, (void **)&s->dims, &s->dcap, s->ndims + r->nrows, sizeof(*s->dims));
	for (size_t i = 0; i < r->nrows; i++)
		s->dims[s->ndims++] = (struct stats_dim_sum){ db_cell(r, i, 0), db_cell(r, i, 1), db_cell(r, i, 2),
							     db_cell(r, i, 3), sign * db_cell_int(r, i, 4) };
}

static void take_days(struct arena *a, struct sums *s, const struct db_rows *r)
{
	grow(a, (void **)&s->days, &s->ycap, s->ndays + r->nrows, sizeof(*s->days));
	for (size_t i = 0; i < r->nrows; i++)
		s->days[s->ndays++] = (struct stats_day_sum){ (int32_t)db_cell_int(r, i, 0), db_cell(r, i, 1),
							     db_cell_int(r, i, 2) };
}

static int cmp_dim(const void *pa, const void *pb)
{
	const struct stats_dim_sum *a = pa, *b = pb;
	int c = strcmp(a->item, b->item);
	if (!c)
		c = strcmp(a->department, b->department);
	if (!c)
		c = strcmp(a->channel, b->channel);
	return c ? c : strcmp(a->metric, b->metric);
}

static int cmp_day(const void *pa, const void *pb)
{
	const struct stats_day_sum *a = pa, *b = pb;
	return a->day != b->day ? (a->day < b->day ? -1 : 1) : strcmp(a->metric, b->metric);
}

/* Sorts v and adds up the entries of equal keys (a difference of running totals beside days'
 * rows of the same dimensions): the number left. With drop_zero, the entries that add up to
 * zero are left out (dimensions without a change in the range). */
static size_t merge(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *), size_t value_at,
		    bool drop_zero)
{
	if (!n)
		return 0;
	qsort(v, n, size, cmp);
	char *b = v;
	size_t out = 0; /* entries kept, before the one being added up (at out) */
	for (size_t i = 1; i <= n; i++) {
		char *cur = b + out * size;
		if (i < n && cmp(cur, b + i * size) == 0) {
			int64_t x, y;
			memcpy(&x, cur + value_at, sizeof(x));
			memcpy(&y, b + i * size + value_at, sizeof(y));
			x += y;
			memcpy(cur + value_at, &x, sizeof(x));
			continue;
		}
		int64_t x;
		memcpy(&x, cur + value_at, sizeof(x));
		if (!drop_zero || x)
			out++;
		if (i < n && b + out * size != b + i * size)
			memcpy(b + out * size, b + i * size, size);
	}
	return out;
}

/* Adds the days lo..hi (none when lo > hi) from stats_daily. */
static int add_daily(struct db *db, struct arena *a, struct sums *s, int32_t lo, int32_t hi)
{
	if (lo > hi)
		return 0;
	struct db_rows r;
	int rc = db_query(db, a, &q_daily_dims, DB_ARGS(DB_INT(lo), DB_INT(hi)), &r);
	if (!rc) {
		take_dims(a, s, &r, 1);
		rc = db_query(db, a, &q_daily_days, DB_ARGS(DB_INT(lo), DB_INT(hi)), &r);
	}
	if (!rc)
		take_days(a, s, &r);
	return rc;
}

int stats_sums(struct db *db, struct arena *a, int32_t from, int32_t to, struct stats_dim_sum **dims, size_t *ndims,
	       struct stats_day_sum **days, size_t *ndays)
{
	struct sums s = { 0 };
	struct db_rows weeks, r;
	int rc = db_query(db, a, &q_weeks_in, DB_ARGS(DB_INT(from - 1), DB_INT(to)), &weeks);
	if (rc)
		return rc;
	/* The last run of consecutive summed weeks ending in from-1..to: the days after its first
	 * end up to its last are the difference of their running totals. */
	size_t last = weeks.nrows, first = last;
	while (first > 0 && (first == last || db_cell_int(&weeks, first - 1, 1) == db_cell_int(&weeks, first, 0) - 1))
		first--;
	int32_t lo = from, hi = to; /* what is left to read from stats_daily: lo..a and b+1..hi */
	if (last - first >= 2) {
		int32_t ea = (int32_t)db_cell_int(&weeks, first, 1), eb = (int32_t)db_cell_int(&weeks, last - 1, 1);
		rc = db_query(db, a, &q_running, DB_ARGS(DB_INT(eb)), &r);
		if (!rc) {
			take_dims(a, &s, &r, 1);
			rc = db_query(db, a, &q_running, DB_ARGS(DB_INT(ea)), &r);
		}
		if (!rc) {
			take_dims(a, &s, &r, -1);
			rc = db_query(db, a, &q_day_totals, DB_ARGS(DB_INT(ea), DB_INT(eb)), &r);
		}
		if (!rc)
			take_days(a, &s, &r);
		if (!rc)
			rc = add_daily(db, a, &s, from, ea);
		lo = eb + 1;
	}
	if (!rc)
		rc = add_daily(db, a, &s, lo, hi);
	if (rc)
		return rc;
	*ndims = merge(s.dims, s.ndims, sizeof(*s.dims), cmp_dim, offsetof(struct stats_dim_sum, value), true);
	*ndays = merge(s.days, s.ndays, sizeof(*s.days), cmp_day, offsetof(struct stats_day_sum, value), false);
	*dims = s.dims;
	*days = s.days;
	return 0;
}
