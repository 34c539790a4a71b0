/* months.c: the rollups of months that have ended, kept summed (migration 0043_stats_months).
 *
 * A month that has ended is summed once into stats_monthly (a row per department, item,
 * channel and metric) and stats_day_totals (a row per day and metric) and marked in
 * stats_months, by the duty "statistics" (on one node at a time: each month is summed in a
 * transaction holding stats_months' lock) and by the generators at their end. The figures of a
 * range (figures.c) read the marked months whole inside it from those tables and every other
 * day from stats_daily, so a year reads about twelve rows per dimension instead of 365.
 *
 * A rollup written into a month already summed (an evaluation taken out after an appeal, by
 * its day) unmarks the month in the same transaction, under the same lock, before it writes:
 * figures read that month from stats_daily again until the duty sums it anew. */
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

#define MONTHS_PER_PASS 6 /* months summed in one pass of the duty (more: a pass again at once) */
#define PERIOD_S 3600     /* a month ends once a month; an hour's wait is soon enough */

/* On PostgreSQL the lock orders a month's summing and its unmarking: the summing reads
 * stats_daily after every unmarking that committed before it, and an unmarking sees the mark
 * of every summing that committed before it. SQLite's writers are one at a time already. */
DB_SQL2(q_lock, "SELECT 1", "LOCK TABLE stats_months IN EXCLUSIVE MODE");
DB_SQL(q_marked, "SELECT first_day FROM stats_months WHERE first_day >= ? ORDER BY first_day");
DB_SQL(q_first, "SELECT MIN(day) FROM stats_daily");
DB_SQL(q_is_marked, "SELECT 1 FROM stats_months WHERE first_day = ?");
DB_SQL(q_sum_dims, "INSERT INTO stats_monthly (first_day, department, item_code, channel, metric, value) "
		   "SELECT ?, department, item_code, channel, metric, SUM(value) FROM stats_daily "
		   "WHERE day >= ? AND day <= ? GROUP BY department, item_code, channel, metric");
DB_SQL(q_sum_days, "INSERT INTO stats_day_totals (day, metric, first_day, value) "
		   "SELECT day, metric, ?, SUM(value) FROM stats_daily WHERE day >= ? AND day <= ? GROUP BY day, metric");
DB_SQL(q_mark, "INSERT INTO stats_months (first_day, last_day) VALUES (?, ?)");
DB_SQL(q_unmark, "DELETE FROM stats_months WHERE first_day = ?");
DB_SQL(q_drop_dims, "DELETE FROM stats_monthly WHERE first_day = ?");
DB_SQL(q_drop_days, "DELETE FROM stats_day_totals WHERE first_day = ?");
DB_SQL(q_drop_all_months, "DELETE FROM stats_months");
DB_SQL(q_drop_all_dims, "DELETE FROM stats_monthly");
DB_SQL(q_drop_all_days, "DELETE FROM stats_day_totals");

/* Drops what month (its first day) holds summed, and its mark. */
static int drop_month(struct db *db, int32_t month)
{
	int rc = db_exec(db, &q_unmark, DB_ARGS(DB_INT(month)), NULL);
	if (!rc)
		rc = db_exec(db, &q_drop_dims, DB_ARGS(DB_INT(month)), NULL);
	if (!rc)
		rc = db_exec(db, &q_drop_days, DB_ARGS(DB_INT(month)), NULL);
	return rc;
}

int stats_months_touch(struct db *db, int32_t day, int32_t today)
{
	int32_t month = stats_period_start(PERIOD_MONTH, day);
	if (month >= stats_period_start(PERIOD_MONTH, today))
		return 0; /* this month is not summed before it ends */
	struct arena *a = arena_new(256);
	struct db_rows rows;
	int rc = db_in_transaction(db) ? db_exec(db, &q_lock, DB_NOARGS, NULL) : 0; /* PostgreSQL: only there */
	if (!rc)
		rc = db_query(db, a, &q_is_marked, DB_ARGS(DB_INT(month)), &rows);
	if (!rc && rows.nrows)
		rc = drop_month(db, month);
	arena_free(a);
	return rc;
}

int stats_months_clear(struct db *db)
{
	int rc = db_in_transaction(db) ? db_exec(db, &q_lock, DB_NOARGS, NULL) : 0;
	if (!rc)
		rc = db_exec(db, &q_drop_all_months, DB_NOARGS, NULL);
	if (!rc)
		rc = db_exec(db, &q_drop_all_dims, DB_NOARGS, NULL);
	if (!rc)
		rc = db_exec(db, &q_drop_all_days, DB_NOARGS, NULL);
	return rc;
}

/* Sums month (its first day) in a transaction of its own, unless it was summed meanwhile. */
static int sum_month(struct db *db, struct arena *a, int32_t month)
{
	int32_t last = stats_period_next(PERIOD_MONTH, month) - 1;
	struct db_rows rows;
	int rc = db_begin(db);
	if (!rc)
		rc = db_exec(db, &q_lock, DB_NOARGS, NULL);
	if (!rc)
		rc = db_query(db, a, &q_is_marked, DB_ARGS(DB_INT(month)), &rows);
	if (!rc && rows.nrows == 0) {
		/* Rows an unmarking left are dropped with it; dropped again, in case. */
		if (!(rc = drop_month(db, month)) &&
		    !(rc = db_exec(db, &q_sum_dims, DB_ARGS(DB_INT(month), DB_INT(month), DB_INT(last)), NULL)) &&
		    !(rc = db_exec(db, &q_sum_days, DB_ARGS(DB_INT(month), DB_INT(month), DB_INT(last)), NULL)))
			rc = db_exec(db, &q_mark, DB_ARGS(DB_INT(month), DB_INT(last)), NULL);
	}
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

int stats_months_sum(struct db *db, int32_t today, int max, int *summed, bool *more)
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
	int32_t from = stats_period_start(PERIOD_MONTH, (int32_t)db_cell_int(&first, 0, 0));
	int32_t end = stats_period_start(PERIOD_MONTH, today); /* the month under way: not yet */
	if ((rc = db_query(db, a, &q_marked, DB_ARGS(DB_INT(from)), &marked))) {
		arena_free(a);
		return rc;
	}
	size_t k = 0;
	for (int32_t m = from; m < end && !rc; m = stats_period_next(PERIOD_MONTH, m)) {
		while (k < marked.nrows && db_cell_int(&marked, k, 0) < m)
			k++;
		if (k < marked.nrows && db_cell_int(&marked, k, 0) == m)
			continue;
		if (*summed == max) {
			*more = true;
			break;
		}
		if (!(rc = sum_month(db, a, m)))
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
	int rc = stats_months_sum(d->db, calendar_day_of((time_t)clock_now()), MONTHS_PER_PASS, &summed, more);
	if (rc)
		log_debug("statistics: summing the months failed: %s", db_last_error(d->db));
	else if (summed)
		log_info("statistics: %d month%s summed", summed, summed == 1 ? "" : "s");
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

DB_SQL(q_marks, "SELECT first_day, last_day FROM stats_months WHERE first_day >= ? AND last_day <= ? "
		"ORDER BY first_day");
DB_SQL(q_month_dims, "SELECT m.item_code, m.department, m.channel, m.metric, SUM(m.value) FROM stats_monthly m "
		     "JOIN stats_months s ON s.first_day = m.first_day WHERE s.first_day >= ? AND s.last_day <= ? "
		     "GROUP BY m.item_code, m.department, m.channel, m.metric");
DB_SQL(q_month_days, "SELECT t.day, t.metric, t.value FROM stats_day_totals t JOIN stats_months s ON "
		     "s.first_day = t.first_day WHERE s.first_day >= ? AND s.last_day <= ?");
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

static void take_dims(struct arena *a, struct sums *s, const struct db_rows *r)
{
	grow(a, (void **)&s->dims, &s->dcap, s->ndims + r->nrows, sizeof(*s->dims));
	for (size_t i = 0; i < r->nrows; i++)
		s->dims[s->ndims++] = (struct stats_dim_sum){ db_cell(r, i, 0), db_cell(r, i, 1), db_cell(r, i, 2),
							     db_cell(r, i, 3), db_cell_int(r, i, 4) };
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

/* Sorts v and adds up the entries of equal keys (a month's sum beside a day's rows of the same
 * dimensions): the number left. */
static size_t merge(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *), size_t value_at)
{
	if (!n)
		return 0;
	qsort(v, n, size, cmp);
	char *b = v;
	size_t out = 0;
	for (size_t i = 1; i < n; i++) {
		char *last = b + out * size, *e = b + i * size;
		if (cmp(last, e) == 0) {
			int64_t x, y;
			memcpy(&x, last + value_at, sizeof(x));
			memcpy(&y, e + value_at, sizeof(y));
			x += y;
			memcpy(last + value_at, &x, sizeof(x));
		} else {
			memcpy(b + ++out * size, e, size);
		}
	}
	return out + 1;
}

/* Adds the days lo..hi (none when lo > hi) from stats_daily. */
static int add_daily(struct db *db, struct arena *a, struct sums *s, int32_t lo, int32_t hi)
{
	if (lo > hi)
		return 0;
	struct db_rows r;
	int rc = db_query(db, a, &q_daily_dims, DB_ARGS(DB_INT(lo), DB_INT(hi)), &r);
	if (!rc) {
		take_dims(a, s, &r);
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
	struct db_rows marks, r;
	int rc = db_query(db, a, &q_marks, DB_ARGS(DB_INT(from), DB_INT(to)), &marks);
	if (rc)
		return rc;
	if (marks.nrows) {
		rc = db_query(db, a, &q_month_dims, DB_ARGS(DB_INT(from), DB_INT(to)), &r);
		if (!rc) {
			take_dims(a, &s, &r);
			rc = db_query(db, a, &q_month_days, DB_ARGS(DB_INT(from), DB_INT(to)), &r);
		}
		if (!rc)
			take_days(a, &s, &r);
	}
	/* The days outside the months summed: before, between and after them. */
	int32_t day = from;
	for (size_t i = 0; i < marks.nrows && !rc; i++) {
		rc = add_daily(db, a, &s, day, (int32_t)db_cell_int(&marks, i, 0) - 1);
		day = (int32_t)db_cell_int(&marks, i, 1) + 1;
	}
	if (!rc)
		rc = add_daily(db, a, &s, day, to);
	if (rc)
		return rc;
	*ndims = merge(s.dims, s.ndims, sizeof(*s.dims), cmp_dim, offsetof(struct stats_dim_sum, value));
	*ndays = merge(s.days, s.ndays, sizeof(*s.days), cmp_day, offsetof(struct stats_day_sum, value));
	*dims = s.dims;
	*days = s.days;
	return 0;
}
