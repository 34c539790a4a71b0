/* Unit tests for src/stats on SQLite and PostgreSQL: date ranges and periods; rollups kept by
 * the cases observer, the accounts trigger and the evaluation entry points; every figure of
 * the JSON checked against counts computed independently by SQL over applications,
 * application_events and accounts; `stats rebuild` giving the same figures; a transition that
 * rolls back leaving the rollups untouched; the weeks' running totals giving the figures of
 * the daily rows for random ranges, also after rollups written into a summed week; CSV and XLSX
 * exports; SVG charts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "stats/stats_impl.h"
#include "store/db.h"
#include "testdb.h"

static struct calendar *cal;
static struct app the_app;

static int32_t D(const char *s)
{
	int32_t d;
	if (calendar_parse_day(s, strlen(s), &d))
		fail_msg("bad date %s", s);
	return d;
}

/* ---- ranges --------------------------------------------------------------------------- */

static void test_ranges(void **state)
{
	(void)state;
	struct stats_range r;
	const char *why;
	int32_t today = D("2026-11-27");
	assert_int_equal(stats_parse_range(NULL, NULL, NULL, today, &r, &why), 0);
	assert_int_equal(r.from, D("2026-01-01"));
	assert_int_equal(r.to, today);
	assert_int_equal(r.period, PERIOD_MONTH);
	assert_int_equal(stats_parse_range("2026-11-01", "2026-11-27", NULL, today, &r, &why), 0);
	assert_int_equal(r.period, PERIOD_DAY);
	assert_int_equal(stats_parse_range("2026-09-01", "2026-11-27", NULL, today, &r, &why), 0);
	assert_int_equal(r.period, PERIOD_WEEK);
	assert_int_equal(stats_parse_range("2020-01-01", "2026-11-27", NULL, today, &r, &why), 0);
	assert_int_equal(r.period, PERIOD_YEAR);
	assert_int_equal(stats_parse_range("2026-01-01", "2026-12-31", "week", today, &r, &why), 0);
	assert_int_equal(r.period, PERIOD_WEEK);
	assert_int_equal(stats_parse_range("2026-02-30", NULL, NULL, today, &r, &why), GH_EINVAL);
	assert_string_equal(why, "stats_err_date");
	assert_int_equal(stats_parse_range("2026-05-01", "2026-04-01", NULL, today, &r, &why), GH_EINVAL);
	assert_string_equal(why, "stats_err_order");
	assert_int_equal(stats_parse_range(NULL, NULL, "fortnight", today, &r, &why), GH_EINVAL);
	assert_string_equal(why, "stats_err_period");
	assert_int_equal(stats_parse_range("2000-01-01", "2026-01-01", "day", today, &r, &why), GH_EINVAL);
	assert_string_equal(why, "stats_err_buckets");
	assert_int_equal(stats_parse_range("1900-01-01", "2026-01-01", "year", today, &r, &why), GH_EINVAL);
	assert_string_equal(why, "stats_err_long");
	assert_int_equal(stats_parse_range("0001-01-01", NULL, NULL, today, &r, &why), GH_EINVAL);
	/* Periods: weeks start on Monday; months and years clip to the range. */
	assert_int_equal(stats_period_start(PERIOD_WEEK, D("2026-11-27")), D("2026-11-23"));
	assert_int_equal(stats_period_next(PERIOD_MONTH, D("2026-12-01")), D("2027-01-01"));
	assert_int_equal(stats_period_start(PERIOD_YEAR, D("2026-11-27")), D("2026-01-01"));
}

/* ---- the database fixture ---------------------------------------------------------------- */

struct fx {
	struct testdb t;
	struct arena *a;
	int64_t people[4], firms[2], staff;
};

DB_SQL(q_dept, "INSERT INTO departments (code, name_zh, name_en) VALUES (?, ?, ?)");
DB_SQL(q_item, "INSERT INTO service_items (code, version, department, audience, theme, item_type, level, name_zh, "
	       "name_en, legal_limit_days, promised_limit_days, fee_yuan, online_depth, visits_required, materials, "
	       "form, keywords_zh, content_hash, created_at) VALUES (?, 1, ?, 'individual', 'household', "
	       "'licensing', 'city', ?, ?, 20, 10, 0, 4, 0, '[]', '[]', '[]', 'h', '2026-01-01')");
DB_SQL(q_acct, "INSERT INTO accounts (kind, name, department, staff_roles, password_hash, key_id, created_at, "
	       "password_changed_at) VALUES (?, ?, ?, ?, 'x', 1, ?, 0) RETURNING id");

static int64_t account(struct fx *f, const char *kind, const char *name, int64_t created_at)
{
	struct db_rows rows;
	bool staff = !strcmp(kind, "staff");
	if (db_query(f->t.db, f->a, &q_acct,
		     DB_ARGS(DB_TEXT(kind), DB_TEXT(name), DB_TEXT(staff ? "psb" : NULL), DB_TEXT(staff ? "counter" : ""),
			     DB_INT(created_at)),
		     &rows) ||
	    rows.nrows != 1)
		fail_msg("account %s: %s", name, db_last_error(f->t.db));
	return db_cell_int(&rows, 0, 0);
}

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "stats");
	if (rc == 1)
		return 0;
	if (rc)
		return -1;
	char err[256];
	if (db_migrate(f->t.db, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f->a = arena_new(4096);
	if (db_exec(f->t.db, &q_dept, DB_ARGS(DB_TEXT("psb"), DB_TEXT("公安局"), DB_TEXT("Police")), NULL) ||
	    db_exec(f->t.db, &q_dept, DB_ARGS(DB_TEXT("tax"), DB_TEXT("税务局"), DB_TEXT("Tax office")), NULL) ||
	    db_exec(f->t.db, &q_dept, DB_ARGS(DB_TEXT("edu"), DB_TEXT("教育局"), DB_TEXT("Education")), NULL) ||
	    db_exec(f->t.db, &q_item, DB_ARGS(DB_TEXT("psb-0001"), DB_TEXT("psb"), DB_TEXT("户口迁移"), DB_TEXT("Move")),
		    NULL) ||
	    db_exec(f->t.db, &q_item, DB_ARGS(DB_TEXT("psb-0002"), DB_TEXT("psb"), DB_TEXT("身份证"), DB_TEXT("ID card")),
		    NULL) ||
	    db_exec(f->t.db, &q_item, DB_ARGS(DB_TEXT("tax-0001"), DB_TEXT("tax"), DB_TEXT("发票"), DB_TEXT("Invoice")),
		    NULL))
		return -1;
	/* Registrations spread over months (the trigger counts them by created_at). */
	int64_t now = (int64_t)time(NULL);
	for (int i = 0; i < 4; i++)
		f->people[i] = account(f, "individual", "张三", now - (int64_t)i * 40 * 86400);
	f->firms[0] = account(f, "enterprise", "甲公司", now);
	f->firms[1] = account(f, "enterprise", "乙公司", now - 100 * 86400);
	f->staff = account(f, "staff", "赵六", now);
	return 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, DB_SQLITE);
}

static int setup_pg(void **state)
{
	return setup(state, DB_POSTGRES);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	testdb_close(&f->t);
	if (f->a)
		arena_free(f->a);
	free(f);
	return 0;
}

static struct application new_app(struct fx *f, const char *item, const char *dept, const char *channel,
				  int64_t applicant)
{
	static int n;
	char key[32];
	snprintf(key, sizeof(key), "k%d", ++n);
	struct case_new cn = { .item_code = item, .item_version = 1, .department = dept, .limit_days = 10,
			       .legal_limit_days = 20, .applicant_id = applicant, .channel = channel, .form = "{}",
			       .materials = "[]", .idempotency_key = key };
	int64_t id;
	bool existed;
	assert_int_equal(case_create(f->t.db, f->a, &cn, &id, &existed), 0);
	struct application app;
	assert_int_equal(case_get(f->t.db, f->a, id, &app), 0);
	return app;
}

static void act(struct fx *f, struct application *app, const char *action, int64_t actor, int32_t day)
{
	int rc = case_transition(f->t.db, cal, f->a, app, wf_action(action), actor, "reason", NULL, day, NULL);
	if (rc)
		fail_msg("%s from %s: %d", action, app->state, rc);
}

static bool fail_next;

static int failing_observer(struct db *db, struct arena *a, const struct case_change *c)
{
	return fail_next ? GH_EINVAL : 0;
}

static void register_observers(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	stats_init(&the_app);
	cases_observe(failing_observer); /* after stats: its failure undoes the stats' upserts */
}

/* Evaluations the test gave, by department and item (there is no evaluation table in this
 * module: the test's own tallies are the raw data). */
struct given {
	const char *dept, *item, *ch;
	int evals, bad, closed, done;
} given[8];
static size_t ngiven;

static void evaluate(struct fx *f, const char *dept, const char *item, const char *ch, int level)
{
	assert_int_equal(stats_evaluation(f->t.db, f->a, dept, item, ch, level, calendar_day_of(time(NULL)), level <= 2), 0);
	assert_true(ngiven < 8);
	given[ngiven++] = (struct given){ .dept = dept, .item = item, .ch = ch, .evals = 1, .bad = level <= 2 };
}

static void rectify(struct fx *f, const char *dept, const char *item, bool done)
{
	assert_int_equal(stats_rectification(f->t.db, f->a, dept, item, calendar_day_of(time(NULL)), done), 0);
	assert_true(ngiven < 8);
	given[ngiven++] = (struct given){ .dept = dept, .item = item, .ch = "", .closed = 1, .done = done };
}

/* Applications of every kind: on time, late, denied, a counter intake, a web application
 * whose material was resupplied at a counter, withdrawn, refused, a draft. */
static void scenario(struct fx *f)
{
	int32_t today = calendar_day_of(time(NULL)), long_ago = today - 60;
	struct application a = new_app(f, "psb-0001", "psb", "web", f->people[0]);
	act(f, &a, "submit", f->people[0], today);
	act(f, &a, "accept", f->staff, today);
	act(f, &a, "start_review", f->staff, today);
	act(f, &a, "approve", f->staff, today);
	act(f, &a, "complete", f->staff, today);

	struct application b = new_app(f, "psb-0001", "psb", "app", f->people[1]);
	act(f, &b, "submit", f->people[1], long_ago);
	act(f, &b, "accept", f->staff, long_ago);
	act(f, &b, "start_review", f->staff, long_ago);
	act(f, &b, "request_supplement", f->staff, long_ago + 3);
	act(f, &b, "resubmit", f->people[1], long_ago + 10);
	act(f, &b, "approve", f->staff, today);
	act(f, &b, "complete", f->staff, today);

	struct application c = new_app(f, "tax-0001", "tax", "counter", f->people[2]);
	act(f, &c, "submit", f->staff, today);
	act(f, &c, "accept", f->staff, today - 5);
	act(f, &c, "start_review", f->staff, today);
	act(f, &c, "deny", f->staff, today);

	struct application d = new_app(f, "tax-0001", "tax", "web", f->firms[0]);
	act(f, &d, "submit", f->firms[0], today);
	act(f, &d, "accept", f->staff, today);
	act(f, &d, "start_review", f->staff, today);
	act(f, &d, "request_supplement", f->staff, today);
	act(f, &d, "resubmit", f->staff, today);
	act(f, &d, "approve", f->staff, today);
	act(f, &d, "complete", f->staff, today);

	struct application e = new_app(f, "psb-0002", "psb", "miniprogram", f->people[3]);
	act(f, &e, "submit", f->people[3], today);
	act(f, &e, "withdraw", f->people[3], today);

	struct application g = new_app(f, "psb-0002", "psb", "kiosk", f->people[3]);
	act(f, &g, "submit", f->people[3], today);
	act(f, &g, "refuse", f->staff, today);

	struct application h = new_app(f, "psb-0001", "psb", "open311", f->people[0]);
	act(f, &h, "submit", f->people[0], today);
	act(f, &h, "accept", f->staff, today);
	(void)new_app(f, "psb-0001", "psb", "web", f->people[2]); /* a draft: counts nowhere */

	ngiven = 0;
	evaluate(f, "psb", "psb-0001", "web", 5);
	evaluate(f, "psb", "psb-0001", "app", 1);
	evaluate(f, "tax", "tax-0001", "counter", 2);
	evaluate(f, "tax", "tax-0001", "web", 3);
	evaluate(f, "psb", "", "web", 4); /* a complaint's rating: the department only */
	rectify(f, "psb", "psb-0001", true);
	rectify(f, "tax", "tax-0001", false);
}

/* ---- the independent count ---------------------------------------------------------------- */

#define ONLINE_SQL "a.channel IN ('web', 'app', 'miniprogram', 'open311') AND NOT EXISTS (SELECT 1 FROM " \
		   "application_events e JOIN accounts s ON s.id = e.actor_id WHERE e.application_id = a.id AND " \
		   "s.kind = 'staff' AND e.action IN ('submit', 'resubmit'))"
DB_SQL(x_submitted, "SELECT department, item_code, channel, COUNT(*) FROM applications WHERE submitted_at >= ? AND "
		    "submitted_at < ? GROUP BY department, item_code, channel");
DB_SQL(x_concluded, "SELECT a.department, a.item_code, a.channel, COUNT(*), SUM(CASE WHEN (a.completed_at + 28800) / "
		    "86400 <= a.due_day THEN 1 ELSE 0 END), SUM(CASE WHEN " ONLINE_SQL " THEN 1 ELSE 0 END) FROM "
		    "applications a WHERE a.state IN ('completed', 'denied') AND a.completed_at >= ? AND a.completed_at "
		    "< ? GROUP BY a.department, a.item_code, a.channel");
DB_SQL(x_workdays, "SELECT department, item_code, channel, accepted_day, completed_at, paused_workdays FROM "
		   "applications WHERE state IN ('completed', 'denied') AND completed_at >= ? AND completed_at < ?");
DB_SQL(x_registered, "SELECT COUNT(*) FROM accounts WHERE kind = ? AND created_at < ?");
DB_SQL(x_regs, "SELECT kind, COUNT(*) FROM accounts WHERE kind IN ('individual', 'enterprise') AND created_at >= ? "
	       "AND created_at < ? GROUP BY kind");

struct tally {
	char key[40];
	struct stats_counts c;
};
struct expect {
	struct stats_counts total;
	struct tally depts[8], items[8], channels[8];
	size_t ndepts, nitems, nchannels;
};

static struct stats_counts *slot(struct tally *v, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(v[i].key, key))
			return &v[i].c;
	assert_true(*n < 8);
	memset(&v[*n], 0, sizeof(v[*n]));
	snprintf(v[*n].key, sizeof(v[*n].key), "%s", key);
	return &v[(*n)++].c;
}

enum field { F_SUB, F_CONC, F_ONTIME, F_ONLINE, F_WORK, F_EVAL, F_BAD, F_RCLOSED, F_RDONE };

static void bump(struct expect *x, const char *dept, const char *item, const char *ch, enum field fld, int64_t v)
{
	struct stats_counts *cs[4] = { &x->total, *dept ? slot(x->depts, &x->ndepts, dept) : NULL,
				       *item ? slot(x->items, &x->nitems, item) : NULL,
				       *ch ? slot(x->channels, &x->nchannels, ch) : NULL };
	for (int i = 0; i < 4; i++) {
		struct stats_counts *c = cs[i];
		if (!c)
			continue;
		int64_t *p = fld == F_SUB ? &c->submitted : fld == F_CONC ? &c->concluded : fld == F_ONTIME ? &c->on_time
			   : fld == F_ONLINE ? &c->online : fld == F_WORK ? &c->workdays : fld == F_EVAL ? &c->evals
			   : fld == F_BAD ? &c->bad : fld == F_RCLOSED ? &c->rect_closed : &c->rect_done;
		*p += v;
	}
}

/* Counts of the days from..to, straight from the raw rows. */
static void expected(struct fx *f, int32_t from, int32_t to, bool evals, struct expect *x)
{
	memset(x, 0, sizeof(*x));
	int64_t t0 = (int64_t)from * 86400 - 28800, t1 = ((int64_t)to + 1) * 86400 - 28800;
	struct db_rows r;
	assert_int_equal(db_query(f->t.db, f->a, &x_submitted, DB_ARGS(DB_INT(t0), DB_INT(t1)), &r), 0);
	for (size_t i = 0; i < r.nrows; i++)
		bump(x, db_cell(&r, i, 0), db_cell(&r, i, 1), db_cell(&r, i, 2), F_SUB, db_cell_int(&r, i, 3));
	assert_int_equal(db_query(f->t.db, f->a, &x_concluded, DB_ARGS(DB_INT(t0), DB_INT(t1)), &r), 0);
	for (size_t i = 0; i < r.nrows; i++) {
		const char *d = db_cell(&r, i, 0), *it = db_cell(&r, i, 1), *ch = db_cell(&r, i, 2);
		bump(x, d, it, ch, F_CONC, db_cell_int(&r, i, 3));
		bump(x, d, it, ch, F_ONTIME, db_cell_int(&r, i, 4));
		bump(x, d, it, ch, F_ONLINE, db_cell_int(&r, i, 5));
	}
	assert_int_equal(db_query(f->t.db, f->a, &x_workdays, DB_ARGS(DB_INT(t0), DB_INT(t1)), &r), 0);
	for (size_t i = 0; i < r.nrows; i++) {
		int32_t acc = (int32_t)db_cell_int(&r, i, 3), done = calendar_day_of((time_t)db_cell_int(&r, i, 4));
		int n = acc ? calendar_workdays_between(cal, acc, done) - (int)db_cell_int(&r, i, 5) : 0;
		bump(x, db_cell(&r, i, 0), db_cell(&r, i, 1), db_cell(&r, i, 2), F_WORK, n > 0 ? n : 0);
	}
	assert_int_equal(db_query(f->t.db, f->a, &x_regs, DB_ARGS(DB_INT(t0), DB_INT(t1)), &r), 0);
	for (size_t i = 0; i < r.nrows; i++) {
		if (!strcmp(db_cell(&r, i, 0), "individual"))
			x->total.reg_individual = db_cell_int(&r, i, 1);
		else
			x->total.reg_enterprise = db_cell_int(&r, i, 1);
	}
	for (size_t i = 0; evals && i < ngiven; i++) {
		bump(x, given[i].dept, given[i].item, given[i].ch, F_EVAL, given[i].evals);
		bump(x, given[i].dept, given[i].item, given[i].ch, F_BAD, given[i].bad);
		bump(x, given[i].dept, given[i].item, given[i].ch, F_RCLOSED, given[i].closed);
		bump(x, given[i].dept, given[i].item, given[i].ch, F_RDONE, given[i].done);
	}
}

static void check_int(json_t *o, const char *key, int64_t want, const char *where)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) != want)
		fail_msg("%s.%s: got %lld, want %lld", where, key, (long long)(v ? json_integer_value(v) : -1),
			 (long long)want);
}

static void check_rate(json_t *o, const char *key, int64_t num, int64_t den, double scale, const char *where)
{
	json_t *v = json_object_get(o, key);
	if (den == 0) {
		if (!json_is_null(v))
			fail_msg("%s.%s: want null", where, key);
		return;
	}
	double want = round((double)num / (double)den * scale) / scale;
	if (!json_is_number(v) || fabs(json_number_value(v) - want) > 1e-9)
		fail_msg("%s.%s: got %f, want %f", where, key, v ? json_number_value(v) : -1.0, want);
}

/* Every count and every rate of one JSON object of counts. */
static void check_counts(json_t *o, const struct stats_counts *c, const char *where)
{
	assert_non_null(o);
	check_int(o, "submitted", c->submitted, where);
	check_int(o, "concluded", c->concluded, where);
	check_int(o, "on_time", c->on_time, where);
	check_int(o, "online", c->online, where);
	check_int(o, "handling_workdays", c->workdays, where);
	check_int(o, "evaluations", c->evals, where);
	check_int(o, "bad_reviews", c->bad, where);
	check_int(o, "rectifications_closed", c->rect_closed, where);
	check_int(o, "rectified", c->rect_done, where);
	check_rate(o, "online_rate", c->online, c->concluded, 1e4, where);
	check_rate(o, "on_time_rate", c->on_time, c->concluded, 1e4, where);
	check_rate(o, "average_workdays", c->workdays, c->concluded, 1e2, where);
	check_rate(o, "satisfaction_rate", c->evals - c->bad, c->evals, 1e4, where);
	check_rate(o, "rectification_rate", c->rect_done, c->rect_closed, 1e4, where);
}

static void check_rows(json_t *arr, struct tally *v, size_t n, const char *where)
{
	/* Every expected row is there with its counts; every other row is all zeros. */
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i);
		const char *code = json_string_value(json_object_get(o, "code"));
		struct stats_counts zero = { 0 }, *want = &zero;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(v[k].key, code))
				want = &v[k].c;
		char w[64];
		snprintf(w, sizeof(w), "%s[%s]", where, code);
		check_counts(o, want, w);
	}
	for (size_t k = 0; k < n; k++) {
		bool found = false;
		for (size_t i = 0; i < json_array_size(arr); i++)
			found |= !strcmp(json_string_value(json_object_get(json_array_get(arr, i), "code")), v[k].key);
		if (!found)
			fail_msg("%s: no row for %s", where, v[k].key);
	}
}

/* The figures of [from, to] by period, checked in full against the raw rows. */
static json_t *check_figures(struct fx *f, int32_t from, int32_t to, enum stats_period period)
{
	struct stats_range range = { from, to, period };
	struct stats_figures fig;
	assert_int_equal(stats_figures(f->t.db, f->a, &range, &fig), 0);
	json_t *j = stats_figures_json(&fig, "zh");
	struct expect x;
	expected(f, from, to, from <= calendar_day_of(time(NULL)) && to >= calendar_day_of(time(NULL)), &x);
	json_t *totals = json_object_get(j, "totals");
	check_counts(totals, &x.total, "totals");
	json_t *regs = json_object_get(totals, "registrations");
	check_int(regs, "individual", x.total.reg_individual, "registrations");
	check_int(regs, "enterprise", x.total.reg_enterprise, "registrations");
	check_int(regs, "total", x.total.reg_individual + x.total.reg_enterprise, "registrations");
	/* Registered users as of the end of the range: every account created before its end. */
	json_t *reg = json_object_get(j, "registered");
	int64_t total = 0;
	for (int k = 0; k < 2; k++) {
		const char *kind = k ? "enterprise" : "individual";
		struct db_rows rr;
		assert_int_equal(db_query(f->t.db, f->a, &x_registered,
					  DB_ARGS(DB_TEXT(kind), DB_INT(((int64_t)to + 1) * 86400 - 28800)), &rr), 0);
		check_int(reg, kind, db_cell_int(&rr, 0, 0), "registered");
		total += db_cell_int(&rr, 0, 0);
	}
	check_int(reg, "total", total, "registered");
	check_rows(json_object_get(j, "by_department"), x.depts, x.ndepts, "by_department");
	check_rows(json_object_get(j, "by_item"), x.items, x.nitems, "by_item");
	check_rows(json_object_get(j, "by_channel"), x.channels, x.nchannels, "by_channel");
	assert_int_equal(json_array_size(json_object_get(j, "by_channel")), 6);
	/* The series: each bucket against the raw rows of its own days. */
	json_t *series = json_object_get(j, "series");
	assert_int_equal(json_array_size(series), fig.nseries);
	int64_t sum_regs = 0;
	for (size_t i = 0; i < fig.nseries; i++) {
		json_t *b = json_array_get(series, i);
		struct expect bx;
		int32_t bfrom, bto;
		const char *sf = json_string_value(json_object_get(b, "from")), *st = json_string_value(json_object_get(b, "to"));
		assert_int_equal(calendar_parse_day(sf, strlen(sf), &bfrom), 0);
		assert_int_equal(calendar_parse_day(st, strlen(st), &bto), 0);
		assert_true(bfrom >= from && bto <= to && bfrom <= bto);
		if (i)
			assert_int_equal(bfrom, fig.series[i - 1].to + 1);
		int32_t today = calendar_day_of(time(NULL));
		expected(f, bfrom, bto, bfrom <= today && bto >= today, &bx);
		char w[48];
		snprintf(w, sizeof(w), "series[%s]", json_string_value(json_object_get(b, "label")));
		check_counts(b, &bx.total, w);
		json_t *br = json_object_get(b, "registrations");
		check_int(br, "individual", bx.total.reg_individual, w);
		check_int(br, "enterprise", bx.total.reg_enterprise, w);
		sum_regs += bx.total.reg_individual + bx.total.reg_enterprise;
	}
	assert_int_equal(fig.series[0].from, from);
	assert_int_equal(fig.series[fig.nseries - 1].to, to);
	assert_int_equal(sum_regs, x.total.reg_individual + x.total.reg_enterprise);
	return j;
}

static void test_figures_match_raw_rows(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	register_observers();
	scenario(f);
	int32_t today = calendar_day_of(time(NULL));
	/* Nothing here is trivially zero. */
	struct expect x;
	expected(f, today - 400, today, true, &x);
	assert_int_equal(x.total.submitted, 7);
	assert_int_equal(x.total.concluded, 4);
	assert_int_equal(x.total.on_time, 3);
	assert_int_equal(x.total.online, 2);
	assert_true(x.total.workdays > 20);
	assert_int_equal(x.total.reg_individual, 4);
	assert_int_equal(x.total.reg_enterprise, 2);

	json_t *year = check_figures(f, today - 400, today, PERIOD_MONTH);
	json_decref(check_figures(f, today - 30, today, PERIOD_DAY));
	json_decref(check_figures(f, today - 120, today, PERIOD_WEEK));
	json_decref(check_figures(f, today - 2000, today, PERIOD_YEAR));
	json_decref(check_figures(f, today - 50, today - 35, PERIOD_DAY)); /* one registration, nothing else */
	json_decref(check_figures(f, today, today, PERIOD_DAY));

	/* Names in the request's language; departments sorted by applications. */
	struct stats_range range = { today - 400, today, PERIOD_MONTH };
	struct stats_figures fig;
	assert_int_equal(stats_figures(f->t.db, f->a, &range, &fig), 0);
	json_t *en = stats_figures_json(&fig, "en");
	json_t *d0 = json_array_get(json_object_get(en, "by_department"), 0);
	assert_string_equal(json_string_value(json_object_get(d0, "code")), "psb");
	assert_string_equal(json_string_value(json_object_get(d0, "name")), "Police");
	json_decref(en);

	/* Rebuilding from the raw rows gives exactly the same figures. */
	assert_int_equal(stats_rebuild(f->t.db, cal, NULL), 0);
	assert_int_equal(stats_figures(f->t.db, f->a, &range, &fig), 0);
	json_t *again = stats_figures_json(&fig, "zh");
	assert_true(json_equal(year, again));
	json_decref(again);
	json_decref(year);

	/* A transition that rolls back (a later observer fails) leaves the rollups as they were. */
	struct application z = new_app(f, "psb-0001", "psb", "web", f->people[1]);
	fail_next = true;
	assert_int_equal(case_transition(f->t.db, cal, f->a, &z, wf_action("submit"), f->people[1], NULL, NULL, today, NULL),
			 GH_EINVAL);
	fail_next = false;
	json_decref(check_figures(f, today - 400, today, PERIOD_MONTH));
}

static void test_evaluation_contract(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	int32_t day = D("2026-05-06");
	assert_int_equal(stats_evaluation(f->t.db, f->a, "psb", "psb-0001", "web", 0, day, true), GH_EINVAL);
	assert_int_equal(stats_evaluation(f->t.db, f->a, "psb", "psb-0001", "web", 6, day, false), GH_EINVAL);
	assert_int_equal(stats_evaluation(f->t.db, f->a, "psb", "psb-0001", "web", 2, day, false), GH_EINVAL);
	assert_int_equal(stats_evaluation(f->t.db, f->a, "psb", "psb-0001", "web", 3, day, true), GH_EINVAL);
	for (int level = 1; level <= 5; level++)
		assert_int_equal(stats_evaluation(f->t.db, f->a, "psb", "psb-0001", "kiosk", level, day, level <= 2), 0);
	assert_int_equal(stats_rectification(f->t.db, f->a, "psb", "psb-0001", day + 3, true), 0);
	assert_int_equal(stats_rectification(f->t.db, f->a, "psb", "psb-0001", day + 4, false), 0);
	struct stats_range range = { day, day + 10, PERIOD_DAY };
	struct stats_figures fig;
	assert_int_equal(stats_figures(f->t.db, f->a, &range, &fig), 0);
	assert_int_equal(fig.total.evals, 5);
	assert_int_equal(fig.total.bad, 2);
	assert_int_equal(fig.total.rect_closed, 2);
	assert_int_equal(fig.total.rect_done, 1);
	json_t *j = stats_figures_json(&fig, "zh");
	json_t *t = json_object_get(j, "totals");
	assert_true(fabs(json_number_value(json_object_get(t, "satisfaction_rate")) - 0.6) < 1e-9);
	assert_true(fabs(json_number_value(json_object_get(t, "rectification_rate")) - 0.5) < 1e-9);
	assert_true(json_is_null(json_object_get(t, "on_time_rate")));
	/* The kiosk row of the channels carries the evaluations; the series puts them on their day. */
	json_t *kiosk = json_array_get(json_object_get(j, "by_channel"), 4);
	assert_string_equal(json_string_value(json_object_get(kiosk, "code")), "kiosk");
	assert_int_equal(json_integer_value(json_object_get(kiosk, "evaluations")), 5);
	assert_int_equal(fig.series[0].c.evals, 5);
	assert_int_equal(fig.series[3].c.rect_done, 1);
	json_decref(j);
	/* A rebuild leaves evaluation figures alone. */
	assert_int_equal(stats_rebuild(f->t.db, cal, NULL), 0);
	assert_int_equal(stats_figures(f->t.db, f->a, &range, &fig), 0);
	assert_int_equal(fig.total.evals, 5);
}


/* ---- weeks summed as running totals ---------------------------------------------------- */

/* The figures of range as JSON. */
static json_t *figures_of(struct fx *f, int32_t from, int32_t to, enum stats_period p)
{
	struct stats_range range = { from, to, p };
	struct stats_figures fig;
	assert_int_equal(stats_figures(f->t.db, f->a, &range, &fig), 0);
	return stats_figures_json(&fig, "zh");
}

static int64_t marked_weeks(struct fx *f)
{
	DB_SQL(q_marked, "SELECT COUNT(*) FROM stats_weeks");
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_marked, DB_NOARGS, &rows), 0);
	return db_cell_int(&rows, 0, 0);
}

static void sum_all(struct fx *f, int32_t today)
{
	for (bool more = true; more;) {
		int n;
		assert_int_equal(stats_running_sum(f->t.db, today, 5, &n, &more), 0);
	}
}

#define NRANGES 40

/* Every range's figures now equal want's. */
static void same_figures(struct fx *f, const struct stats_range *ranges, json_t *const *want)
{
	for (int i = 0; i < NRANGES; i++) {
		json_t *j = figures_of(f, ranges[i].from, ranges[i].to, ranges[i].period);
		if (!json_equal(j, want[i])) {
			char *got = json_dumps(j, JSON_COMPACT), *exp = json_dumps(want[i], JSON_COMPACT);
			fprintf(stderr, "range %d (%d..%d): got %.400s\nwant %.400s\n", i, ranges[i].from, ranges[i].to, got,
				exp);
			free(got);
			free(exp);
		}
		assert_true(json_equal(j, want[i]));
		json_decref(j);
	}
}

/* Every figure of a range is the same read from the weeks' running totals, from stats_daily
 * alone, and after rollups written later into summed weeks dropped them and every later one,
 * whatever the range: random rollups over fifteen months, random ranges across week ends. */
static void test_weeks_summed_match_daily(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	int32_t today = calendar_day_of(time(NULL));
	static const char *const depts[] = { "psb", "tax", "" }, *const items[] = { "psb-0001", "psb-0002", "tax-0001", "" },
				 *const chans[] = { "web", "kiosk", "counter", "" },
				 *const metrics[] = { M_SUBMITTED, M_CONCLUDED, M_ON_TIME, M_EVAL, M_EVAL_BAD, M_WORKDAYS };
	unsigned seed = 20261207;
	assert_int_equal(db_begin(f->t.db), 0);
	for (int i = 0; i < 2500; i++) {
		int32_t day = today - (int32_t)(rand_r(&seed) % 460);
		assert_int_equal(stats_add(f->t.db, day, depts[rand_r(&seed) % 3], items[rand_r(&seed) % 4],
					   chans[rand_r(&seed) % 4], metrics[rand_r(&seed) % 6], 1 + rand_r(&seed) % 5),
				 0);
	}
	assert_int_equal(db_commit(f->t.db), 0);
	struct stats_range ranges[NRANGES];
	for (int i = 0; i < NRANGES; i++) {
		int32_t from = today - 470 + (int32_t)(rand_r(&seed) % 470), to = from + (int32_t)(rand_r(&seed) % 420);
		ranges[i] = (struct stats_range){ from, to > today ? today : to,
						  to - from <= 90 ? PERIOD_DAY : (i % 2 ? PERIOD_WEEK : PERIOD_MONTH) };
	}
	ranges[0] = (struct stats_range){ today - 460, today, PERIOD_MONTH }; /* everything */
	json_t *daily[NRANGES];
	assert_int_equal(marked_weeks(f), 0);
	for (int i = 0; i < NRANGES; i++)
		daily[i] = figures_of(f, ranges[i].from, ranges[i].to, ranges[i].period);
	assert_true(json_integer_value(json_object_get(json_object_get(daily[0], "totals"), "submitted")) > 100);

	sum_all(f, today);
	int64_t marked = marked_weeks(f);
	int32_t week_now = stats_period_start(PERIOD_WEEK, today);
	assert_true(marked >= 60); /* every week of the 460 days but the one under way */
	same_figures(f, ranges, daily);

	/* Rollups written later into three summed weeks (an evaluation taken out, by its day)
	 * drop the earliest of them and every later week; the figures are read around them. */
	assert_int_equal(db_begin(f->t.db), 0);
	for (int k = 1; k <= 3; k++)
		assert_int_equal(stats_add(f->t.db, today - 95 * k, "psb", "psb-0001", "web", M_EVAL, -1), 0);
	assert_int_equal(db_commit(f->t.db), 0);
	assert_int_equal(marked_weeks(f), marked - (week_now - stats_period_start(PERIOD_WEEK, today - 285)) / 7);
	json_t *later[NRANGES];
	for (int i = 0; i < NRANGES; i++)
		later[i] = figures_of(f, ranges[i].from, ranges[i].to, ranges[i].period);
	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(stats_running_clear(f->t.db), 0);
	assert_int_equal(db_commit(f->t.db), 0);
	assert_int_equal(marked_weeks(f), 0);
	same_figures(f, ranges, later);
	/* Summed part of the way (ten weeks), then to the end. */
	int n;
	bool more;
	assert_int_equal(stats_running_sum(f->t.db, today, 10, &n, &more), 0);
	assert_true(n == 10 && more);
	same_figures(f, ranges, later);
	sum_all(f, today);
	assert_int_equal(marked_weeks(f), marked);
	same_figures(f, ranges, later);
	/* The later rollups are in the figures of a range holding them. */
	int64_t before = json_integer_value(json_object_get(json_object_get(daily[0], "totals"), "evaluations"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(later[0], "totals"), "evaluations")), before - 3);

	/* A rollup on a day before every other one (the first week moves earlier) drops every
	 * week; summed again from there, a range from that day on still matches. */
	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(stats_add(f->t.db, today - 500, "tax", "tax-0001", "counter", M_SUBMITTED, 7), 0);
	assert_int_equal(db_commit(f->t.db), 0);
	assert_int_equal(marked_weeks(f), 0);
	ranges[1] = (struct stats_range){ today - 503, today - 100, PERIOD_MONTH };
	json_t *early[NRANGES];
	for (int i = 0; i < NRANGES; i++)
		early[i] = figures_of(f, ranges[i].from, ranges[i].to, ranges[i].period);
	sum_all(f, today);
	assert_true(marked_weeks(f) > marked);
	same_figures(f, ranges, early);
	for (int i = 0; i < NRANGES; i++) {
		json_decref(daily[i]);
		json_decref(later[i]);
		json_decref(early[i]);
	}
}

int main(void)
{
	char err[256];
	cal = calendar_load_json("data/catalog/holidays.json", err, sizeof(err));
	if (!cal) {
		fprintf(stderr, "test_stats: %s\n", err);
		return 1;
	}
	the_app.calendar = cal;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test_setup_teardown(test_figures_match_raw_rows, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_figures_match_raw_rows, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_evaluation_contract, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_evaluation_contract, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_weeks_summed_match_daily, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_weeks_summed_match_daily, setup_pg, teardown),
	};
	int rc = cmocka_run_group_tests_name("stats", tests, NULL, NULL);
	calendar_free(cal);
	return rc;
}
