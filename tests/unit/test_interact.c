/* Unit tests for src/interact: the rating parser and its rules (levels, tag groups, limits,
 * UTF-8), and on SQLite and PostgreSQL the cases observer (an application that ends becomes
 * rateable, a withdrawn one does not), the invitation to rate (after evaluate-invite-days,
 * once per case) and the escalation of an overdue complaint (heads, then administrators, once
 * per level). No thread and no sleeping: interact_duties_run gets chosen days. */
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
#include "cases/cases_impl.h"
#include "interact/interact_impl.h"
#include "store/db.h"
#include "testdb.h"
#include "view/view.h"

/* ---- the parser ------------------------------------------------------------------------ */

static int parse(const char *text, struct ia_rating *out, const char **why, struct arena *a)
{
	*why = NULL;
	return ia_rating_parse(a, text, strlen(text), out, why);
}

static void test_parse(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	struct ia_rating r;
	const char *why;
	assert_int_equal(parse("{\"level\":5,\"tags\":[\"efficient\",\"courteous\",\"efficient\"],\"comment\":\"好\"}", &r, &why, a), 0);
	assert_int_equal(r.level, 5);
	assert_int_equal(r.ntags, 2);
	assert_string_equal(r.comment, "好");
	assert_null(r.channel);
	assert_int_equal(parse("{\"level\":3,\"channel\":\"kiosk\"}", &r, &why, a), 0);
	assert_string_equal(r.channel, "kiosk");
	assert_int_equal(parse("{\"level\":2,\"tags\":[\"too_slow\"]}", &r, &why, a), 0);
	/* Refusals, each with a message. */
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{ "", GH_EINVAL },
		{ "[]", GH_EINVAL },
		{ "{\"level\":\"5\"}", GH_EINVAL },
		{ "{\"level\":5.0}", GH_EINVAL },
		{ "{\"level\":5,\"level\":4}", GH_EINVAL },
		{ "{\"level\":5,\"tags\":\"efficient\"}", GH_EINVAL },
		{ "{\"level\":5,\"tags\":[1]}", GH_EINVAL },
		{ "{\"level\":-1,\"tags\":[\"too_slow\",{}]}", GH_EINVAL }, /* found by fuzzing */
		{ "{\"level\":5,\"comment\":5}", GH_EINVAL },
		{ "{\"level\":0}", GH_EVALIDATION },
		{ "{\"level\":6}", GH_EVALIDATION },
		{ "{\"level\":-99999999999}", GH_EVALIDATION },
		{ "{\"level\":1}", GH_EVALIDATION },
		{ "{\"level\":5,\"tags\":[\"too_slow\"]}", GH_EVALIDATION },
		{ "{\"level\":3,\"tags\":[\"efficient\"]}", GH_EVALIDATION },
		{ "{\"level\":5,\"tags\":[\"nope\"]}", GH_EVALIDATION },
		{ "{\"level\":1,\"tags\":[\"too_slow\",\"many_trips\",\"unhelpful\",\"not_told_once\",\"extra_materials\","
		  "\"system_fault\",\"too_slow\"]}", 0 },
		{ "{\"level\":5,\"comment\":\"a\\u0000b\"}", GH_EINVAL },
		{ "{\"level\":5,\"channel\":\"fax\"}", GH_EINVAL },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int rc = parse(bad[i].text, &r, &why, a);
		if (rc != bad[i].rc)
			fail_msg("%s: %d, expected %d", bad[i].text, rc, bad[i].rc);
		if (rc)
			assert_non_null(why);
	}
	/* The comment's limit counts characters, not bytes. */
	char buf[2400];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"level\":4,\"comment\":\"");
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "字");
	snprintf(buf + n, sizeof(buf) - n, "\"}");
	assert_int_equal(parse(buf, &r, &why, a), 0);
	snprintf(buf + n, sizeof(buf) - n, "字\"}");
	assert_int_equal(parse(buf, &r, &why, a), GH_EVALIDATION);
	arena_free(a);
}

static void test_levels_tags(void **state)
{
	(void)state;
	assert_int_equal(ia_level_group(5), 3);
	assert_int_equal(ia_level_group(4), 3);
	assert_int_equal(ia_level_group(3), 2);
	assert_int_equal(ia_level_group(2), 1);
	assert_int_equal(ia_level_group(1), 1);
	assert_string_equal(ia_level_key(5), "interact_level_5");
	assert_string_equal(ia_level_key(1), "interact_level_1");
	assert_string_equal(ia_level_key(6), "");
	assert_string_equal(ia_rect_level_key(3), "interact_rect_level_3");
	assert_string_equal(ia_rect_level_key(0), "");
	/* Every level and tag has its words in the catalogs. */
	struct view *v = NULL;
	char verr[512], key[96];
	assert_int_equal(view_load_messages("data/i18n", &v, verr, sizeof(verr)), 0);
	for (int l = 1; l <= 5; l++)
		assert_true(view_has(v, ia_level_key(l)));
	for (int l = 1; l <= 3; l++)
		assert_true(view_has(v, ia_rect_level_key(l)));
	int groups[4] = { 0 };
	for (size_t i = 0; i < ia_tags_n; i++) {
		assert_true(ia_tags[i].group >= 1 && ia_tags[i].group <= 3);
		groups[ia_tags[i].group]++;
		assert_ptr_equal(ia_tag_find(ia_tags[i].code, strlen(ia_tags[i].code)), &ia_tags[i]);
		snprintf(key, sizeof(key), "interact_tag_%s", ia_tags[i].code);
		assert_true(view_has(v, key));
	}
	view_free(v);
	assert_true(groups[1] > 0 && groups[2] > 0 && groups[3] > 0);
	assert_null(ia_tag_find("efficien", 8));
	assert_true(ia_text_ok("x", 1, true));
	assert_false(ia_text_ok("  \n", 10, true));
	assert_true(ia_text_ok(NULL, 10, false));
	assert_false(ia_text_ok("\xff", 10, false));
	assert_false(ia_text_ok("两个", 1, false));
}

/* ---- the observer and the duties, on both backends -------------------------------------- */

static struct calendar *cal;

struct fx {
	struct testdb t;
	struct arena *a;
	struct app app;
	int64_t citizen, head, admin;
};

DB_SQL(q_dept, "INSERT INTO departments (code, name_zh, name_en) VALUES ('psb', '公安局', 'Police')");
DB_SQL(q_item, "INSERT INTO service_items (code, version, department, audience, theme, item_type, level, name_zh, "
	       "name_en, legal_limit_days, promised_limit_days, fee_yuan, online_depth, visits_required, materials, "
	       "form, keywords_zh, content_hash, created_at) VALUES ('psb-0001', 1, 'psb', 'individual', 'household', "
	       "'licensing', 'city', '户口迁移', 'Household move', 20, 10, 0, 4, 0, '[]', '[]', '[]', 'h', "
	       "'2026-01-01')");
DB_SQL(q_acct, "INSERT INTO accounts (kind, name, department, staff_roles, status, password_hash, key_id, created_at, "
	       "password_changed_at) VALUES (?, ?, ?, ?, 'active', 'x', 1, 0, 0) RETURNING id");
DB_SQL(q_inbox_kind, "SELECT COUNT(*) FROM inbox WHERE account_id = ? AND kind = ?");
DB_SQL(q_rateable, "SELECT state, closed_day FROM rateable_cases WHERE application_id = ?");
DB_SQL(q_complaint, "INSERT INTO complaints (complainant_id, kind, department, subject, body, channel, state, due_day, "
		    "created_at) VALUES (?, 'complaint', 'psb', '慢', '太慢', 'web', 'open', ?, 0) RETURNING id");
DB_SQL(q_escalation, "SELECT escalation FROM complaints WHERE id = ?");

static int64_t account(struct fx *f, const char *kind, const char *name, const char *dept, const char *roles)
{
	struct db_rows rows;
	if (db_query(f->t.db, f->a, &q_acct, DB_ARGS(DB_TEXT(kind), DB_TEXT(name), DB_TEXT(dept), DB_TEXT(roles)), &rows) ||
	    rows.nrows != 1)
		fail_msg("account %s: %s", name, db_last_error(f->t.db));
	return db_cell_int(&rows, 0, 0);
}

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "interact");
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
	if (db_exec(f->t.db, &q_dept, DB_NOARGS, NULL) || db_exec(f->t.db, &q_item, DB_NOARGS, NULL))
		return -1;
	f->citizen = account(f, "individual", "张三", NULL, "");
	f->head = account(f, "staff", "负责人", "psb", "counter,reviewer,head");
	f->admin = account(f, "admin", "管理员", NULL, "");
	config_defaults(&f->app.cfg);
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

static int64_t new_app(struct fx *f, int32_t day, const char *const *actions)
{
	struct case_new n = { .item_code = "psb-0001", .item_version = 1, .department = "psb", .limit_days = 10,
			      .legal_limit_days = 20, .applicant_id = f->citizen, .channel = "web", .form = "{}",
			      .materials = "[]" };
	int64_t id;
	bool existed;
	struct application app;
	assert_int_equal(case_create(f->t.db, f->a, &n, &id, &existed), 0);
	assert_int_equal(case_get(f->t.db, f->a, id, &app), 0);
	for (size_t i = 0; actions[i]; i++)
		if (case_transition(f->t.db, cal, f->a, &app, wf_action(actions[i]), f->head, "reason", NULL, day, NULL))
			fail_msg("%s from %s", actions[i], app.state);
	return id;
}

static long count(struct fx *f, int64_t acct, const char *kind)
{
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_inbox_kind, DB_ARGS(DB_INT(acct), DB_TEXT(kind)), &rows), 0);
	return (long)db_cell_int(&rows, 0, 0);
}

static int run(struct fx *f, int32_t today)
{
	int sent = -1;
	if (interact_duties_run(&f->app, f->t.db, today, &sent))
		fail_msg("interact_duties_run: %s", db_last_error(f->t.db));
	return sent;
}

static void test_observer_invitation(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int32_t day = calendar_day(2026, 3, 2);
	static const char *const done[] = { "submit", "accept", "start_review", "approve", "complete", NULL };
	static const char *const denied[] = { "submit", "accept", "start_review", "deny", NULL };
	static const char *const withdrawn[] = { "submit", "withdraw", NULL };
	static const char *const running[] = { "submit", "accept", NULL };
	int64_t a = new_app(f, day, done), b = new_app(f, day, denied), c = new_app(f, day, withdrawn), d = new_app(f, day, running);
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_rateable, DB_ARGS(DB_INT(a)), &rows), 0);
	assert_int_equal(rows.nrows, 1);
	assert_string_equal(db_cell(&rows, 0, 0), "completed");
	assert_int_equal(db_cell_int(&rows, 0, 1), day);
	assert_int_equal(db_query(f->t.db, f->a, &q_rateable, DB_ARGS(DB_INT(b)), &rows), 0);
	assert_int_equal(rows.nrows, 1);
	assert_int_equal(db_query(f->t.db, f->a, &q_rateable, DB_ARGS(DB_INT(c)), &rows), 0);
	assert_int_equal(rows.nrows, 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_rateable, DB_ARGS(DB_INT(d)), &rows), 0);
	assert_int_equal(rows.nrows, 0);
	assert_int_equal(run(f, day + 2), 0);
	assert_int_equal(count(f, f->citizen, "evaluate_invite"), 0);
	assert_int_equal(run(f, day + 3), 2);
	assert_int_equal(count(f, f->citizen, "evaluate_invite"), 2);
	assert_int_equal(run(f, day + 4), 0);
	assert_int_equal(count(f, f->citizen, "evaluate_invite"), 2);
}

static void test_escalation(void **state)
{
	struct fx *f = *state;
	SKIP_IF_NEEDED(f);
	int32_t due = calendar_day(2026, 3, 6); /* a Friday */
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_complaint, DB_ARGS(DB_INT(f->citizen), DB_INT(due)), &rows), 0);
	int64_t id = db_cell_int(&rows, 0, 0);
	assert_int_equal(run(f, due), 0);
	assert_int_equal(run(f, due + 1), 1); /* overdue: the head */
	assert_int_equal(count(f, f->head, "complaint_escalated"), 1);
	/* Two working days after the due day (Monday, Tuesday) it stays with the head. */
	assert_int_equal(run(f, calendar_day(2026, 3, 10)), 0);
	assert_int_equal(run(f, calendar_day(2026, 3, 11)), 1); /* then the administrators */
	assert_int_equal(count(f, f->admin, "complaint_escalated"), 1);
	assert_int_equal(run(f, calendar_day(2026, 4, 1)), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_escalation, DB_ARGS(DB_INT(id)), &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 2);
	assert_int_equal(count(f, f->head, "complaint_escalated"), 1);
}

int main(void)
{
	char err[256];
	cal = calendar_load_json("data/catalog/holidays.json", err, sizeof(err));
	if (!cal) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	char ierr[64];
	interact_init(NULL, ierr, sizeof(ierr));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_levels_tags),
		cmocka_unit_test_setup_teardown(test_observer_invitation, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_escalation, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_observer_invitation, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_escalation, setup_pg, teardown),
	};
	int rc = cmocka_run_group_tests_name("interact", tests, NULL, NULL);
	calendar_free(cal);
	return rc;
}
