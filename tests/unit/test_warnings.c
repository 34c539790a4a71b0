/* Unit tests for src/notify/warnings.c and src/cases/calendar_admin.c on SQLite and PostgreSQL:
 * yellow and red warnings to the right staff, once only, none for completed or paused
 * applications; the calendar seeded from data/catalog/holidays.json, edited through the store,
 * its generation, and a node's reload and swap. No thread and no sleeping: the tests call
 * warnings_run with chosen days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/calendar.h"
#include "base/config.h"
#include "base/err.h"
#include "base/util.h"
#include "cases/calendar_admin.h"
#include "cases/cases_impl.h"
#include "notify/warnings.h"
#include "store/db.h"
#include "testdb.h"

#define HOLIDAYS "data/catalog/holidays.json"

static struct calendar *cal;

static int32_t D(const char *s)
{
	int32_t d;
	if (calendar_parse_day(s, strlen(s), &d))
		fail_msg("bad date %s", s);
	return d;
}

struct fx {
	struct testdb t;
	struct arena *a;
	struct app app;
	int64_t citizen, counter, reviewer, head, disabled, other_dept, staff;
};

DB_SQL(q_dept, "INSERT INTO departments (code, name_zh, name_en) VALUES (?, ?, ?)");
DB_SQL(q_item, "INSERT INTO service_items (code, version, department, audience, theme, item_type, level, name_zh, "
	       "name_en, legal_limit_days, promised_limit_days, fee_yuan, online_depth, visits_required, materials, "
	       "form, keywords_zh, content_hash, created_at) VALUES ('psb-0001', 1, 'psb', 'individual', 'household', "
	       "'licensing', 'city', '户口迁移', 'Household move', 20, 10, 0, 4, 0, '[]', '[]', '[]', 'h', "
	       "'2026-01-01')");
DB_SQL(q_acct, "INSERT INTO accounts (kind, name, department, staff_roles, status, password_hash, key_id, created_at, "
	       "password_changed_at) VALUES (?, ?, ?, ?, ?, 'x', 1, 0, 0) RETURNING id");
DB_SQL(q_inbox_of, "SELECT kind, body_zh, body_en, application_id FROM inbox WHERE account_id = ? ORDER BY id");
DB_SQL(q_inbox_all, "SELECT COUNT(*) FROM inbox WHERE kind LIKE 'warn!_%' ESCAPE '!'");
DB_SQL(q_warning_rows, "SELECT colour FROM warnings WHERE application_id = ? ORDER BY colour");

static int64_t account(struct fx *f, const char *kind, const char *name, const char *dept, const char *roles,
		       const char *status)
{
	struct db_rows rows;
	if (db_query(f->t.db, f->a, &q_acct,
		     DB_ARGS(DB_TEXT(kind), DB_TEXT(name), DB_TEXT(dept), DB_TEXT(roles), DB_TEXT(status)), &rows) ||
	    rows.nrows != 1)
		fail_msg("account %s: %s", name, db_last_error(f->t.db));
	return db_cell_int(&rows, 0, 0);
}

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "warnings");
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
	    db_exec(f->t.db, &q_dept, DB_ARGS(DB_TEXT("tax"), DB_TEXT("税务局"), DB_TEXT("Tax")), NULL) ||
	    db_exec(f->t.db, &q_item, DB_NOARGS, NULL))
		return -1;
	f->citizen = account(f, "individual", "张三", NULL, "", "active");
	f->counter = account(f, "staff", "窗口", "psb", "counter", "active");
	f->reviewer = account(f, "staff", "审核", "psb", "reviewer", "active");
	f->head = account(f, "staff", "负责人", "psb", "head", "active");
	f->disabled = account(f, "staff", "停用", "psb", "counter,reviewer", "disabled");
	f->other_dept = account(f, "staff", "别部门", "tax", "counter,reviewer,head", "active");
	f->staff = f->counter;
	config_defaults(&f->app.cfg);
	if (config_set(&f->app.cfg, "db", f->t.url, err, sizeof(err)) ||
	    config_set(&f->app.cfg, "data-dir", "data", err, sizeof(err)))
		return -1;
	f->app.calendar = cal;
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
	if (f->app.calendar == cal)
		f->app.calendar = NULL;
	cases_calendar_release(&f->app);
	config_release(&f->app.cfg);
	testdb_close(&f->t);
	arena_free(f->a);
	free(f);
	return 0;
}

#define SKIP_IF_NEEDED(f) \
	do {                  \
		if (!(f)->t.db)   \
			skip();       \
	} while (0)

/* A new application taken through actions (NULL-ended), all on day `day`. */
static void new_app(struct fx *f, struct application *app, int32_t day, const char *const *actions)
{
	struct case_new n = { .item_code = "psb-0001", .item_version = 1, .department = "psb", .limit_days = 10,
			      .legal_limit_days = 20, .applicant_id = f->citizen, .channel = "web", .form = "{}",
			      .materials = "[]" };
	int64_t id;
	bool existed;
	assert_int_equal(case_create(f->t.db, f->a, &n, &id, &existed), 0);
	assert_int_equal(case_get(f->t.db, f->a, id, app), 0);
	for (size_t i = 0; actions[i]; i++) {
		int rc = case_transition(f->t.db, cal, f->a, app, wf_action(actions[i]), f->staff, "reason", NULL, day, NULL);
		if (rc)
			fail_msg("%s from %s: %d", actions[i], app->state, rc);
	}
}

static const char *const accepted[] = { "submit", "accept", NULL };

static int run(struct fx *f, int32_t today)
{
	int sent = -1;
	int rc = warnings_run(&f->app, f->t.db, today, &sent);
	if (rc)
		fail_msg("warnings_run: %d %s", rc, db_last_error(f->t.db));
	return sent;
}

static size_t inbox_n(struct fx *f, int64_t acct, struct db_rows *rows)
{
	assert_int_equal(db_query(f->t.db, f->a, &q_inbox_of, DB_ARGS(DB_INT(acct)), rows), 0);
	return rows->nrows;
}

static void test_yellow_then_red(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	struct application app;
	new_app(f, &app, D("2026-03-02"), accepted);
	assert_true(app.yellow_day > app.clock.accepted_day);
	assert_true(app.due_day >= app.yellow_day);
	/* Before yellow: nothing. */
	assert_int_equal(run(f, app.yellow_day - 1), 0);
	/* Yellow: the active counter clerk and reviewer of the department; not the head, not a
	 * disabled account, not another department's staff. */
	assert_int_equal(run(f, app.yellow_day), 2);
	struct db_rows rows;
	assert_int_equal(inbox_n(f, f->counter, &rows), 1);
	assert_string_equal(db_cell(&rows, 0, 0), "warn_yellow");
	assert_int_equal(db_cell_int(&rows, 0, 3), app.id);
	assert_non_null(strstr(db_cell(&rows, 0, 1), app.number));
	assert_non_null(strstr(db_cell(&rows, 0, 1), "户口迁移"));
	int left = calendar_workdays_between(cal, app.yellow_day, app.due_day);
	char want[64];
	snprintf(want, sizeof(want), "has %d working days left", left);
	assert_non_null(strstr(db_cell(&rows, 0, 2), want));
	assert_int_equal(inbox_n(f, f->reviewer, &rows), 1);
	assert_int_equal(inbox_n(f, f->head, &rows), 0);
	assert_int_equal(inbox_n(f, f->disabled, &rows), 0);
	assert_int_equal(inbox_n(f, f->other_dept, &rows), 0);
	/* Once only: the same day again, and the next days while yellow. */
	assert_int_equal(run(f, app.yellow_day), 0);
	assert_int_equal(run(f, app.due_day), 0);
	/* Red: the clerk, the reviewer and the head. */
	assert_int_equal(run(f, app.due_day + 1), 3);
	assert_int_equal(inbox_n(f, f->head, &rows), 1);
	assert_string_equal(db_cell(&rows, 0, 0), "warn_red");
	assert_non_null(strstr(db_cell(&rows, 0, 1), "已超期"));
	assert_int_equal(inbox_n(f, f->counter, &rows), 2);
	assert_int_equal(run(f, app.due_day + 1), 0);
	assert_int_equal(run(f, app.due_day + 30), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_inbox_all, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 5);
}

static void test_red_first(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	struct application app;
	new_app(f, &app, D("2026-03-02"), accepted);
	/* Found overdue before any yellow warning: red only, and no late yellow. */
	assert_int_equal(run(f, app.due_day + 2), 3);
	struct db_rows rows;
	assert_int_equal(inbox_n(f, f->counter, &rows), 1);
	assert_string_equal(db_cell(&rows, 0, 0), "warn_red");
	assert_int_equal(db_query(f->t.db, f->a, &q_warning_rows, DB_ARGS(DB_INT(app.id)), &rows), 0);
	assert_int_equal(rows.nrows, 2);
	assert_int_equal(run(f, app.due_day + 3), 0);
}

static void test_completed_paused(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int32_t day = D("2026-03-02");
	static const char *const completed[] = { "submit", "accept", "start_review", "approve", "complete", NULL };
	static const char *const paused[] = { "submit", "accept", "start_review", "request_supplement", NULL };
	static const char *const draft[] = { NULL };
	static const char *const submitted[] = { "submit", NULL };
	struct application a1, a2, a3, a4;
	new_app(f, &a1, day, completed);
	new_app(f, &a2, day, paused);
	new_app(f, &a3, day, draft);
	new_app(f, &a4, day, submitted);
	assert_string_equal(a1.state, "completed");
	assert_string_equal(a2.state, "supplement");
	assert_int_equal(run(f, day + 400), 0);
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_inbox_all, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 0);
}

/* ---- the calendar ---- */

static void same_calendar(const struct calendar *a, const struct calendar *b)
{
	for (int32_t d = D("2024-12-01"); d <= D("2027-01-31"); d++)
		if (calendar_is_workday(a, d) != calendar_is_workday(b, d) ||
		    calendar_is_holiday(a, d) != calendar_is_holiday(b, d))
			fail_msg("the calendars differ on day %d", d);
}

static void test_calendar_store(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	struct db *db = f->t.db;
	char err[256];
	int64_t gen = -1;
	struct calendar *c = NULL;
	assert_int_equal(calendar_db_generation(db, f->a, &gen), 0);
	assert_int_equal(gen, 0);
	assert_int_equal(calendar_db_load(db, f->a, &c, &gen), GH_ENOTFOUND);
	/* Seeding from the file: once. */
	int added = 0;
	assert_int_equal(calendar_db_seed(db, HOLIDAYS, &added, err, sizeof(err)), 0);
	assert_true(added > 20);
	assert_int_equal(calendar_db_generation(db, f->a, &gen), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(calendar_db_seed(db, HOLIDAYS, &added, err, sizeof(err)), 0);
	assert_int_equal(added, 0);
	/* The reload builds the same calendar as the file. */
	assert_int_equal(calendar_db_load(db, f->a, &c, &gen), 0);
	assert_int_equal(gen, 1);
	same_calendar(c, cal);
	calendar_free(c);
	struct calendar_entry *e;
	size_t n;
	assert_int_equal(calendar_db_list(db, f->a, D("2026-10-01"), D("2026-10-31"), &e, &n), 0);
	assert_true(n >= 7);
	assert_string_equal(e[0].kind, "holiday");
	/* Adding: a Tuesday holiday, then a Saturday working day. */
	int32_t tue = D("2026-03-10"), sat = D("2026-03-14");
	assert_true(calendar_is_workday(cal, tue));
	assert_int_equal(calendar_db_add(db, tue, "holiday", "测试假日"), 0);
	assert_int_equal(calendar_db_generation(db, f->a, &gen), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(calendar_db_add(db, tue, "holiday", NULL), GH_ECONFLICT);
	assert_int_equal(calendar_db_add(db, tue, "workday", NULL), GH_EVALIDATION); /* not a weekend day */
	assert_int_equal(calendar_db_add(db, D("2026-03-11"), "workday", NULL), GH_EVALIDATION);
	assert_int_equal(calendar_db_add(db, sat, "bogus", NULL), GH_EVALIDATION);
	assert_int_equal(calendar_db_add(db, sat, "workday", "调休"), 0);
	assert_int_equal(calendar_db_generation(db, f->a, &gen), 0);
	assert_int_equal(gen, 3);
	assert_int_equal(calendar_db_list(db, f->a, tue, tue, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].note, "测试假日");
	assert_int_equal(calendar_db_load(db, f->a, &c, &gen), 0);
	assert_false(calendar_is_workday(c, tue));
	assert_true(calendar_is_workday(c, sat));
	calendar_free(c);
	/* Removing both: the file's calendar again. */
	assert_int_equal(calendar_db_remove(db, tue), 0);
	assert_int_equal(calendar_db_remove(db, sat), 0);
	assert_int_equal(calendar_db_remove(db, sat), GH_ENOTFOUND);
	assert_int_equal(calendar_db_generation(db, f->a, &gen), 0);
	assert_int_equal(gen, 5);
	assert_int_equal(calendar_db_load(db, f->a, &c, &gen), 0);
	same_calendar(c, cal);
	calendar_free(c);
	/* Once seeded, the file is not read again (the database is the truth). */
	assert_int_equal(calendar_db_seed(db, "data/catalog/no-such-file.json", &added, err, sizeof(err)), 0);
}

static void test_calendar_bad_file(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	char err[256];
	int added = -1;
	assert_int_not_equal(calendar_db_seed(f->t.db, "data/catalog/no-such-file.json", &added, err, sizeof(err)), 0);
	assert_int_equal(added, 0);
	assert_true(strlen(err) > 0);
	int64_t gen = -1;
	assert_int_equal(calendar_db_generation(f->t.db, f->a, &gen), 0);
	assert_int_equal(gen, 0);
}

/* A node's copy: loaded (and seeded) at start, swapped when the generation changes. */
static void test_calendar_refresh(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	char err[256];
	f->app.calendar = NULL;
	assert_int_equal(cases_calendar_load(&f->app, err, sizeof(err)), 0);
	struct calendar *first = f->app.calendar;
	assert_non_null(first);
	same_calendar(first, cal);
	int64_t gen;
	assert_int_equal(calendar_db_generation(f->t.db, f->a, &gen), 0);
	assert_int_equal(gen, 1);
	/* Nothing changed: the same pointer. */
	assert_int_equal(cases_calendar_refresh(&f->app, f->t.db), 0);
	assert_ptr_equal(f->app.calendar, first);
	int32_t tue = D("2026-03-10");
	assert_int_equal(calendar_db_add(f->t.db, tue, "holiday", NULL), 0);
	assert_int_equal(cases_calendar_refresh(&f->app, f->t.db), 0);
	struct calendar *second = f->app.calendar;
	assert_ptr_not_equal(second, first);
	assert_false(calendar_is_workday(second, tue));
	/* The replaced one is still readable (kept until the next swap). */
	assert_true(calendar_is_workday(first, tue));
	assert_int_equal(calendar_db_remove(f->t.db, tue), 0);
	assert_int_equal(cases_calendar_refresh(&f->app, f->t.db), 0);
	assert_true(calendar_is_workday(f->app.calendar, tue));
	/* Warnings count on the swapped calendar; release frees both (teardown). */
	assert_int_equal(run(f, D("2026-03-02")), 0);
}

int main(void)
{
	char err[256];
	cal = calendar_load_json(HOLIDAYS, err, sizeof(err));
	if (!cal) {
		fprintf(stderr, "test_warnings: %s\n", err);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_yellow_then_red, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_red_first, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_completed_paused, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_calendar_store, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_calendar_bad_file, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_calendar_refresh, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_yellow_then_red, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_red_first, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_completed_paused, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_calendar_store, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_calendar_bad_file, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_calendar_refresh, setup_pg, teardown),
	};
	int rc = cmocka_run_group_tests_name("warnings", tests, NULL, NULL);
	calendar_free(cal);
	return rc;
}
