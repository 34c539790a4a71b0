/* Unit tests for src/cases: the workflow table, deadlines on the real 2025-2026 calendar, and
 * the store's transitions (numbers, clock, pauses, concurrency) on SQLite and PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/ticket.h"
#include "identity/crypto.h"
#include "store/db.h"
#include "testdb.h"
#include "view/view.h"

static struct calendar *cal;

static int32_t D(const char *s)
{
	int32_t d;
	if (calendar_parse_day(s, strlen(s), &d))
		fail_msg("bad date %s", s);
	return d;
}

static void test_workflow_sound(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(workflow_check(wf_states, wf_states_n, wf_actions, wf_actions_n, err, sizeof(err)), 0);
	/* Every action's from-states exist and lead somewhere. */
	assert_non_null(wf_action("accept"));
	assert_true(wf_allows(wf_action("accept"), "submitted"));
	assert_false(wf_allows(wf_action("accept"), "draft"));
	assert_true(wf_state("completed")->terminal);
	assert_true(wf_state("supplement")->paused);
}

/* Every state and action of the workflow has its words in both catalogs: a state's name, an
 * action's button and what a timeline says happened; the staff's claim and assign events too.
 * Adding an action is the table's row and these words (this fails otherwise; the catalogs'
 * lint checks that both languages hold each key). */
static void test_workflow_words(void **state)
{
	(void)state;
	struct view *v = NULL;
	char err[512];
	assert_int_equal(view_load_messages("data/i18n", &v, err, sizeof(err)), 0);
	char key[128];
	for (size_t i = 0; i < wf_states_n; i++) {
		snprintf(key, sizeof(key), "case_state_%s", wf_states[i].code);
		if (!view_has(v, key))
			fail_msg("%s is in no catalog", key);
	}
	const char *staff[] = { "claim", "assign" };
	for (size_t i = 0; i < wf_actions_n + 2; i++) {
		const char *code = i < wf_actions_n ? wf_actions[i].code : staff[i - wf_actions_n];
		for (size_t p = 0; p < 2; p++) {
			snprintf(key, sizeof(key), "%s%s", p ? "case_event_" : "case_action_", code);
			if (!view_has(v, key))
				fail_msg("%s is in no catalog", key);
		}
	}
	view_free(v);
}

/* The workflow file's reader refuses each kind of mistake, naming the entry at fault; a
 * sound file with an added state and action parses with every fact of the action. */
static void test_workflow_file(void **state)
{
	(void)state;
	static const char *const base_states = "{\"code\":\"draft\"},{\"code\":\"submitted\"},"
					       "{\"code\":\"approved\",\"decided\":true},{\"code\":\"done\",\"terminal\":true}";
	static const char *const base_actions =
		"{\"code\":\"submit\",\"from\":[\"draft\"],\"to\":\"submitted\",\"actors\":[\"applicant\"]},"
		"{\"code\":\"instant_approve\",\"from\":[\"submitted\"],\"to\":\"approved\",\"actors\":[\"system\"]},"
		"{\"code\":\"request_payment\",\"from\":[\"approved\"],\"to\":\"done\",\"actors\":[\"system\"]},"
		"{\"code\":\"payment_received\",\"from\":[\"approved\"],\"to\":\"done\",\"actors\":[\"system\"]},"
		"{\"code\":\"joint_forward\",\"from\":[\"approved\"],\"to\":\"done\",\"actors\":[\"system\"]},"
		"{\"code\":\"joint_approve\",\"from\":[\"approved\"],\"to\":\"done\",\"actors\":[\"system\"]},"
		"{\"code\":\"joint_deny\",\"from\":[\"approved\"],\"to\":\"done\",\"actors\":[\"system\"]}";
	static const struct {
		const char *states, *actions, *extra, *says;
	} bad[] = {
		{ "", "", "", "\"states\" must be a list" },
		{ NULL, "{\"code\":\"look\",\"from\":[\"submitted\"],\"to\":\"done\",\"actors\":[\"boss\"]}", "",
		  "action look: unknown actor \"boss\"" },
		{ NULL, "{\"code\":\"look\",\"from\":[\"nowhere\"],\"to\":\"done\",\"actors\":[\"head\"]}", "",
		  "action look starts from unknown state nowhere" },
		{ NULL, "{\"code\":\"look\",\"from\":[\"submitted\"],\"to\":\"done\",\"actors\":[\"head\"],\"clock\":\"later\"}",
		  "", "action look: \"clock\" must be" },
		{ NULL, "{\"code\":\"look\",\"from\":[\"submitted\"],\"to\":\"done\",\"actors\":[\"head\"],\"input\":\"photo\"}",
		  "", "action look: \"input\" must be" },
		{ NULL, "{\"code\":\"look\",\"from\":[\"submitted\"],\"to\":\"done\",\"actors\":[\"head\"],\"colour\":1}", "",
		  "action look: unknown member \"colour\"" },
		{ NULL, "{\"code\":\"Look!\",\"from\":[\"submitted\"],\"to\":\"done\",\"actors\":[\"head\"]}", "",
		  "actions[7]: \"code\" must be a code" },
		{ NULL, "{\"code\":\"submit\",\"from\":[\"submitted\"],\"to\":\"done\",\"actors\":[\"head\"]}", "",
		  "action submit is defined twice" },
		{ NULL, "{\"code\":\"claim\",\"from\":[\"submitted\"],\"to\":\"done\",\"actors\":[\"head\"]}", "",
		  "claim and assign are the staff's own" },
		{ NULL, "", ",\"words\":{\"zh\":{\"case_event_x\":\"x\"},\"en\":{}}", "words.zh.case_event_x has no twin" },
		{ NULL, "", ",\"words\":{\"zh\":{\"layout_title\":\"x\"},\"en\":{\"layout_title\":\"x\"}}",
		  "a workflow brings only" },
		{ NULL, "", ",\"steps\":[]", "the workflow: unknown member \"steps\"" },
	};
	char text[4096], err[600];
	struct workflow *w;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (bad[i].states)
			snprintf(text, sizeof(text), "{\"states\":[%s],\"actions\":[%s]%s}", bad[i].states, bad[i].actions,
				 bad[i].extra);
		else
			snprintf(text, sizeof(text), "{\"states\":[%s],\"actions\":[%s%s%s]%s}", base_states, base_actions,
				 *bad[i].actions ? "," : "", bad[i].actions, bad[i].extra);
		err[0] = 0;
		assert_int_equal(workflow_parse(text, strlen(text), "wf.json", &w, err, sizeof(err)), GH_EINVAL);
		assert_null(w);
		if (!strstr(err, bad[i].says) || strncmp(err, "wf.json: ", 9) != 0)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].says);
	}
	/* Without an action the hall takes itself, or with another first state. */
	snprintf(text, sizeof(text), "{\"states\":[%s],\"actions\":[%s]}", base_states,
		 "{\"code\":\"submit\",\"from\":[\"draft\"],\"to\":\"submitted\",\"actors\":[\"applicant\"]},"
		 "{\"code\":\"end\",\"from\":[\"submitted\"],\"to\":\"approved\",\"actors\":[\"head\"]},"
		 "{\"code\":\"close\",\"from\":[\"approved\"],\"to\":\"done\",\"actors\":[\"head\"]}");
	assert_int_equal(workflow_parse(text, strlen(text), "wf.json", &w, err, sizeof(err)), GH_EINVAL);
	assert_non_null(strstr(err, "action instant_approve is missing"));
	snprintf(text, sizeof(text), "{\"states\":[{\"code\":\"start\"},%s],\"actions\":[%s]}", base_states, base_actions);
	assert_int_equal(workflow_parse(text, strlen(text), "wf.json", &w, err, sizeof(err)), GH_EINVAL);
	assert_non_null(strstr(err, "the first state must be draft"));
	/* A sound file with a state and an action of its own. */
	snprintf(text, sizeof(text),
		 "{\"states\":[%s,{\"code\":\"inspection\"}],\"actions\":[%s,{\"code\":\"inspect\",\"from\":[\"submitted\"],"
		 "\"to\":\"inspection\",\"actors\":[\"reviewer\",\"head\"],\"counts\":\"inspections\",\"logged\":true,"
		 "\"asks_applicant\":true,\"button\":\"secondary\"},{\"code\":\"pass\",\"from\":[\"inspection\"],\"to\":\"approved\","
		 "\"actors\":[\"reviewer\"],\"clock\":\"stop\"}],\"words\":{\"zh\":{\"case_event_inspect\":\"现场核查\"},"
		 "\"en\":{\"case_event_inspect\":\"Field inspection\"}}}",
		 base_states, base_actions);
	if (workflow_parse(text, strlen(text), "wf.json", &w, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(w->ns, 5);
	assert_int_equal(w->na, 9);
	const struct wf_action *a = &w->actions[7];
	assert_string_equal(a->code, "inspect");
	assert_int_equal(a->actors, WF_REVIEWER | WF_HEAD);
	assert_string_equal(a->counts, "inspections");
	assert_true(a->logged && a->asks_applicant && !a->needs_reason);
	assert_string_equal(a->button, "secondary");
	assert_int_equal(w->actions[8].clock, WF_CLOCK_STOP);
	assert_string_equal(json_string_value(json_object_get(json_object_get(w->words, "en"), "case_event_inspect")),
			    "Field inspection");
	workflow_free(w);
	/* The shipped file is in force (tests/unit/testdb.c loads it, as govhall does). */
	assert_string_equal(wf_action("submit")->counts, "submitted");
	assert_true(wf_action("request_supplement")->asks_applicant);
	assert_int_equal(wf_action("request_supplement")->input, WF_INPUT_MISSING);
	assert_int_equal(wf_action("resubmit")->input, WF_INPUT_FILES);
	assert_int_equal(wf_action("deny")->input, WF_INPUT_LEGAL_BASIS);
	assert_int_equal(wf_action("complete")->input, WF_INPUT_DELIVERY);
	assert_int_equal(wf_action("approve")->input, WF_INPUT_NONE);
	assert_true(wf_action("approve")->logged && !wf_action("start_review")->logged);
}

static void test_workflow_broken(void **state)
{
	(void)state;
	char err[256];
	const struct wf_state st[] = {
		{ "a", false, false, false },
		{ "b", false, false, false },
		{ "end", true, false, false },
		{ "island", true, false, false },
	};
	/* "island" cannot be reached. */
	const struct wf_action ok[] = {
		{ "go", { "a", NULL }, "b", WF_APPLICANT, WF_CLOCK_NONE, false, false },
		{ "finish", { "b", NULL }, "end", WF_APPLICANT, WF_CLOCK_NONE, false, false },
	};
	assert_int_equal(workflow_check(st, 4, ok, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "island"));
	/* "b" is a dead end. */
	assert_int_equal(workflow_check(st, 3, ok, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "dead end"));
	/* An action nobody may take. */
	const struct wf_action nobody[] = {
		{ "go", { "a", NULL }, "b", WF_APPLICANT, WF_CLOCK_NONE, false, false },
		{ "finish", { "b", NULL }, "end", 0, WF_CLOCK_NONE, false, false },
	};
	assert_int_equal(workflow_check(st, 3, nobody, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nobody"));
	/* Leaving a terminal state. */
	const struct wf_action out[] = {
		{ "go", { "a", NULL }, "end", WF_APPLICANT, WF_CLOCK_NONE, false, false },
		{ "back", { "end", NULL }, "a", WF_APPLICANT, WF_CLOCK_NONE, false, false },
	};
	assert_int_equal(workflow_check(st, 3, out, 2, err, sizeof(err)), -1);
}

static void test_deadline_holidays(void **state)
{
	(void)state;
	/* Accepted Monday 2025-09-29, 5 working days: 30 Sep, then the National Day holiday
	 * (1-8 Oct), then Thu 9, Fri 10 Oct, Sat 11 Oct is an adjusted working day, Mon 13. */
	struct clock_state s = { .accepted_day = D("2025-09-29"), .limit_days = 5, .legal_limit_days = 20 };
	int32_t due = deadline_due(cal, &s);
	int n = 0;
	for (int32_t d = s.accepted_day + 1; d <= due; d++)
		n += calendar_is_workday(cal, d);
	assert_int_equal(n, 5);
	assert_true(calendar_is_workday(cal, due));
	assert_true(due > D("2025-10-08"));
	/* Left and lights along the way. */
	assert_int_equal(deadline_left(cal, &s, s.accepted_day), 5);
	assert_int_equal(deadline_light(cal, &s, s.accepted_day), LIGHT_GREEN);
	assert_int_equal(deadline_light(cal, &s, due), LIGHT_YELLOW); /* 0 left */
	assert_int_equal(deadline_light(cal, &s, due + 1), LIGHT_RED);
	assert_true(deadline_left(cal, &s, due + 3) < 0);
	/* The legal limit counts the same way. */
	assert_int_equal(calendar_workdays_between(cal, s.accepted_day, deadline_legal_due(cal, &s)), 20);
	/* On the spot: due the day of acceptance. */
	struct clock_state now = { .accepted_day = D("2026-03-02"), .limit_days = 0, .legal_limit_days = 0 };
	assert_int_equal(deadline_due(cal, &now), D("2026-03-02"));
}

static void test_deadline_yellow_day(void **state)
{
	(void)state;
	/* For every acceptance day of 2025-2026 and several limits, the stored yellow day agrees
	 * with the light computed day by day. */
	int limits[] = { 1, 3, 5, 10, 15, 20, 60 };
	for (int32_t acc = D("2025-01-02"); acc < D("2026-11-01"); acc += 7) {
		for (size_t k = 0; k < ARRAY_LEN(limits); k++) {
			struct clock_state s = { .accepted_day = acc, .limit_days = limits[k], .legal_limit_days = limits[k] };
			int32_t yd = deadline_yellow_day(cal, &s), due = deadline_due(cal, &s);
			for (int32_t d = acc; d <= due; d++) {
				enum light l = deadline_light(cal, &s, d);
				if ((d >= yd) != (l == LIGHT_YELLOW))
					fail_msg("accepted %d limit %d day %d: yellow day %d, light %d", acc, limits[k], d, yd, l);
			}
		}
	}
}

static void test_deadline_pause(void **state)
{
	(void)state;
	/* 10 working days from Mon 2026-03-02; a supplement requested on Wed 4 March and supplied
	 * on Wed 11 March: the 5 working days in between do not count. */
	struct clock_state s = { .accepted_day = D("2026-03-02"), .limit_days = 10, .legal_limit_days = 20 };
	int32_t due0 = deadline_due(cal, &s);
	s.paused_since = D("2026-03-04");
	/* Paused: seen from the pause, the light and days left stand still. */
	int left_at_pause = deadline_left(cal, &s, D("2026-03-04"));
	assert_int_equal(deadline_left(cal, &s, D("2026-03-20")), left_at_pause);
	deadline_resume(cal, &s, D("2026-03-11"));
	assert_int_equal(s.paused_since, 0);
	assert_int_equal(s.paused_workdays, 5);
	assert_int_equal(calendar_workdays_between(cal, due0, deadline_due(cal, &s)), 5);
}

/* Due days are fixed at acceptance: a holiday added afterwards does not move them (nor the
 * yellow day); the end of a pause moves them by the days paused, counted on the calendar of
 * that day; and only clocks started on the new calendar count with its holidays. */
static void test_deadline_stored(void **state)
{
	(void)state;
	/* Plain weekdays and weekends only: no official holiday in March 2026 (Mon 2 March). */
	struct calendar *before = calendar_new(NULL, 0, NULL, 0);
	struct clock_state s = { .limit_days = 10, .legal_limit_days = 20 };
	deadline_start(before, &s, D("2026-03-02"));
	int32_t due = s.due_day, legal = s.legal_due_day, yellow = s.yellow_day;
	assert_int_equal(due, D("2026-03-16"));
	assert_int_equal(legal, D("2026-03-30"));
	assert_true(yellow > s.accepted_day && yellow <= due);
	/* Administrators add a holiday week inside the limit. */
	int32_t hol[] = { D("2026-03-09"), D("2026-03-10"), D("2026-03-11"), D("2026-03-12"), D("2026-03-13") };
	struct calendar *after = calendar_new(hol, ARRAY_LEN(hol), NULL, 0);
	assert_int_equal(deadline_due(after, &s), due);
	assert_int_equal(deadline_legal_due(after, &s), legal);
	assert_int_equal(deadline_yellow_day(after, &s), yellow);
	assert_int_equal(deadline_light(after, &s, due), LIGHT_YELLOW);
	assert_int_equal(deadline_light(after, &s, due + 1), LIGHT_RED);
	assert_int_equal(deadline_light(after, &s, yellow - 1), LIGHT_GREEN);
	/* An application accepted on the new calendar counts its holidays. */
	struct clock_state t = { .limit_days = 10, .legal_limit_days = 20 };
	deadline_start(after, &t, D("2026-03-02"));
	assert_int_equal(t.due_day, D("2026-03-23"));
	/* A pause from Wed 4 to Wed 18 March: its working days are counted on the calendar of
	 * the day it ends (the holiday week does not count), and the stored days move by them,
	 * counted from themselves. */
	s.paused_since = D("2026-03-04");
	int n = calendar_workdays_between(after, D("2026-03-04"), D("2026-03-18"));
	deadline_resume(after, &s, D("2026-03-18"));
	assert_int_equal(s.paused_since, 0);
	assert_int_equal(s.paused_workdays, n);
	assert_int_equal(s.due_day, calendar_add_workdays(after, due, n));
	assert_int_equal(s.legal_due_day, calendar_add_workdays(after, legal, n));
	assert_true(s.yellow_day > yellow && s.yellow_day <= s.due_day);
	calendar_free(before);
	calendar_free(after);
}

/* ---- the store, on both backends ---- */

struct fx {
	struct testdb t;
	struct arena *a;
	int64_t citizen, staff;
};

DB_SQL(q_dept, "INSERT INTO departments (code, name_zh, name_en) VALUES ('psb', '公安局', 'Police')");
DB_SQL(q_item, "INSERT INTO service_items (code, version, department, audience, theme, item_type, level, name_zh, "
	       "name_en, legal_limit_days, promised_limit_days, fee_yuan, online_depth, visits_required, materials, "
	       "form, keywords_zh, content_hash, created_at) VALUES ('psb-0001', 1, 'psb', 'individual', 'household', "
	       "'licensing', 'city', '事项', 'Item', 20, 10, 0, 4, 0, '[]', '[]', '[]', 'h', '2026-01-01')");
DB_SQL(q_acct, "INSERT INTO accounts (kind, name, password_hash, key_id, created_at, password_changed_at) "
	       "VALUES (?, ?, 'x', 1, 0, 0) RETURNING id");

static int setup(void **state, enum db_kind kind)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	*state = f;
	int rc = testdb_open(&f->t, kind, "cases");
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
	struct db_rows rows;
	if (db_exec(f->t.db, &q_dept, DB_NOARGS, NULL) || db_exec(f->t.db, &q_item, DB_NOARGS, NULL) ||
	    db_query(f->t.db, f->a, &q_acct, DB_ARGS(DB_TEXT("individual"), DB_TEXT("张三")), &rows))
		return -1;
	f->citizen = db_cell_int(&rows, 0, 0);
	if (db_query(f->t.db, f->a, &q_acct, DB_ARGS(DB_TEXT("staff"), DB_TEXT("赵六")), &rows))
		return -1;
	f->staff = db_cell_int(&rows, 0, 0);
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
	arena_free(f->a);
	free(f);
	return 0;
}

static int64_t new_app(struct fx *f, const char *key, bool *existed)
{
	struct case_new n = { .item_code = "psb-0001", .item_version = 1, .department = "psb", .limit_days = 10,
			      .legal_limit_days = 20, .applicant_id = f->citizen, .channel = "web", .form = "{}",
			      .materials = "[]", .idempotency_key = key };
	int64_t id;
	assert_int_equal(case_create(f->t.db, f->a, &n, &id, existed), 0);
	return id;
}

static void act(struct fx *f, struct application *app, const char *action, int32_t day)
{
	int rc = case_transition(f->t.db, cal, f->a, app, wf_action(action), f->staff, "reason", NULL, day, NULL);
	if (rc)
		fail_msg("%s from %s: %d", action, app->state, rc);
}

static void test_store_lifecycle(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	bool existed;
	int64_t id = new_app(f, "key-1", &existed);
	assert_false(existed);
	/* The same key: the same application. */
	assert_int_equal(new_app(f, "key-1", &existed), id);
	assert_true(existed);
	struct application app;
	assert_int_equal(case_get(f->t.db, f->a, id, &app), 0);
	assert_string_equal(app.state, "draft");
	assert_null(app.number);
	int32_t day = D("2026-03-02");
	act(f, &app, "submit", day);
	assert_non_null(app.number);
	assert_string_equal(app.number, "QH20260302000001");
	assert_int_equal(strlen(app.query_code), 8);
	/* A second submission the same day gets the next number. */
	struct application other;
	assert_int_equal(case_get(f->t.db, f->a, new_app(f, "key-2", &existed), &other), 0);
	act(f, &other, "submit", day);
	assert_string_equal(other.number, "QH20260302000002");

	act(f, &app, "accept", day);
	assert_int_equal(app.clock.accepted_day, day);
	assert_int_equal(app.due_day, deadline_due(cal, &app.clock));
	act(f, &app, "start_review", day);
	act(f, &app, "request_supplement", D("2026-03-04"));
	assert_string_equal(app.state, "supplement");
	assert_string_equal(app.return_state, "under_review");
	assert_int_equal(app.clock.paused_since, D("2026-03-04"));
	act(f, &app, "resubmit", D("2026-03-11"));
	assert_string_equal(app.state, "under_review");
	assert_int_equal(app.clock.paused_workdays, 5);
	act(f, &app, "approve", D("2026-03-12"));
	act(f, &app, "complete", D("2026-03-12"));
	assert_string_equal(app.state, "completed");
	assert_true(app.completed_at > 0);
	/* What is stored is what we hold. */
	struct application again;
	assert_int_equal(case_get_by_number(f->t.db, f->a, app.number, &again), 0);
	assert_string_equal(again.state, "completed");
	assert_int_equal(again.clock.paused_workdays, 5);
	assert_int_equal(again.version, app.version);
	struct app_event *ev;
	size_t n;
	assert_int_equal(case_events(f->t.db, f->a, id, &ev, &n), 0);
	assert_int_equal(n, 7);
	assert_string_equal(ev[0].action, "submit");
	assert_string_equal(ev[6].to_state, "completed");
	/* An action that does not apply to the state. */
	assert_int_equal(case_transition(f->t.db, cal, f->a, &app, wf_action("accept"), f->staff, NULL, NULL, day, NULL),
			 GH_ECONFLICT);
}

/* Observers see every transition inside its transaction; one that fails rolls it back. */
static struct {
	bool on, fail;
	char seen[256];
	int32_t due_day;
	int64_t event_id;
} obs;

static int observer(struct db *db, struct arena *a, const struct case_change *c)
{
	if (!obs.on)
		return 0;
	if (obs.fail)
		return GH_EINVAL;
	size_t len = strlen(obs.seen);
	snprintf(obs.seen + len, sizeof(obs.seen) - len, "%s%s:%s>%s", len ? "," : "", c->action,
		 c->from_state, c->to_state);
	obs.due_day = c->due_day;
	obs.event_id = c->event_id;
	assert_non_null(c->number);
	assert_string_equal(c->department, "psb");
	return 0;
}

static void test_store_observers(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	static bool registered;
	if (!registered)
		cases_observe(observer);
	registered = true;
	memset(&obs, 0, sizeof(obs));
	obs.on = true;
	bool existed;
	struct application app;
	assert_int_equal(case_get(f->t.db, f->a, new_app(f, NULL, &existed), &app), 0);
	act(f, &app, "submit", D("2026-03-02"));
	act(f, &app, "accept", D("2026-03-02"));
	assert_string_equal(obs.seen, "submit:draft>submitted,accept:submitted>accepted");
	assert_int_equal(obs.due_day, app.due_day);
	struct app_event *ev;
	size_t n;
	assert_int_equal(case_events(f->t.db, f->a, app.id, &ev, &n), 0);
	assert_int_equal(obs.event_id, ev[n - 1].id);
	obs.fail = true;
	struct application before = app;
	assert_int_equal(case_transition(f->t.db, cal, f->a, &app, wf_action("start_review"), f->staff, NULL,
					 NULL, D("2026-03-03"), NULL),
			 GH_EINVAL);
	assert_int_equal(app.version, before.version);
	struct application now;
	assert_int_equal(case_get(f->t.db, f->a, app.id, &now), 0);
	assert_string_equal(now.state, "accepted");
	assert_int_equal(case_events(f->t.db, f->a, app.id, &ev, &n), 0);
	assert_int_equal(n, 2);
	obs.on = false;
}

static void test_store_concurrent(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	bool existed;
	int64_t id = new_app(f, NULL, &existed);
	struct application a1, a2;
	assert_int_equal(case_get(f->t.db, f->a, id, &a1), 0);
	act(f, &a1, "submit", D("2026-03-02"));
	/* Two clerks load the same submitted application; the first accept wins, the second
	 * (holding the old version) is refused and nothing is lost. */
	assert_int_equal(case_get(f->t.db, f->a, id, &a1), 0);
	a2 = a1;
	act(f, &a1, "accept", D("2026-03-02"));
	assert_int_equal(case_transition(f->t.db, cal, f->a, &a2, wf_action("refuse"), f->staff, "no", NULL,
					 D("2026-03-02"), NULL),
			 GH_ECONFLICT);
	struct application now;
	assert_int_equal(case_get(f->t.db, f->a, id, &now), 0);
	assert_string_equal(now.state, "accepted");
	struct app_event *ev;
	size_t n;
	assert_int_equal(case_events(f->t.db, f->a, id, &ev, &n), 0);
	assert_int_equal(n, 2);
}

static void test_store_assign(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	bool existed;
	struct application app, stale;
	assert_int_equal(case_get(f->t.db, f->a, new_app(f, NULL, &existed), &app), 0);
	act(f, &app, "submit", D("2026-03-02"));
	stale = app;
	assert_int_equal(case_assign(f->t.db, f->a, &app, f->staff, f->staff, "claim"), 0);
	struct application now;
	assert_int_equal(case_get(f->t.db, f->a, app.id, &now), 0);
	assert_int_equal(now.assigned_to, f->staff);
	assert_string_equal(now.assigned_name, "赵六");
	assert_string_equal(now.state, "submitted"); /* taking work is not a transition */
	/* Someone holding the old version is refused. */
	assert_int_equal(case_assign(f->t.db, f->a, &stale, 0, f->staff, "assign"), GH_ECONFLICT);
	/* The queue of what nobody has, and of what this staff member has. */
	struct application *v;
	size_t n;
	long total;
	struct case_filter mine = { .department = "psb", .assigned_to = f->staff, .today = D("2026-03-02") };
	assert_int_equal(case_list(f->t.db, f->a, &mine, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 1);
	struct case_filter none = { .department = "psb", .unassigned = true, .today = D("2026-03-02") };
	assert_int_equal(case_list(f->t.db, f->a, &none, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 0);
	/* Given back to nobody. */
	assert_int_equal(case_assign(f->t.db, f->a, &app, 0, f->staff, "assign"), 0);
	assert_int_equal(case_list(f->t.db, f->a, &none, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 1);
}

static void test_store_queue(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	bool existed;
	struct application app;
	int32_t day = D("2026-03-02");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(case_get(f->t.db, f->a, new_app(f, NULL, &existed), &app), 0);
		act(f, &app, "submit", day);
		if (i > 0)
			act(f, &app, "accept", day);
	}
	struct application *v;
	size_t n;
	long total;
	struct case_filter q = { .department = "psb", .today = day };
	assert_int_equal(case_list(f->t.db, f->a, &q, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 3);
	q.state = "accepted";
	assert_int_equal(case_list(f->t.db, f->a, &q, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 2);
	/* Green on the day of acceptance; red after the due day. */
	q.state = NULL;
	q.light = "green";
	assert_int_equal(case_list(f->t.db, f->a, &q, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 2);
	q.light = "red";
	q.today = v[0].due_day + 1;
	assert_int_equal(case_list(f->t.db, f->a, &q, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 2);
	struct case_filter overdue = { .overdue = true, .today = q.today };
	assert_int_equal(case_list(f->t.db, f->a, &overdue, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 2);
	/* The applicant's own list includes everything they filed. */
	struct case_filter mine = { .applicant_id = f->citizen, .today = day };
	assert_int_equal(case_list(f->t.db, f->a, &mine, 1, 20, &v, &n, &total), 0);
	assert_int_equal(total, 3);
}

/* ---- sealed personal fields (sealed.c) ---------------------------------------------------- */

static const char SEAL_DEF[] =
	"[{\"key\":\"id_number\",\"type\":\"id_number\"},{\"key\":\"phone\",\"type\":\"phone\"},"
	"{\"key\":\"email\",\"type\":\"email\"},{\"key\":\"home\",\"type\":\"address\"},"
	"{\"key\":\"bank\",\"type\":\"text\",\"personal\":true},{\"key\":\"note\",\"type\":\"text\"}]";
static const char SEAL_VALUES[] =
	"{\"bank\":\"6222020200112233\",\"email\":\"zhang.san@example.com\",\"home\":\"清河市和平路1号院3单元\","
	"\"id_number\":\"11010519491231002X\",\"note\":\"普通说明\",\"phone\":\"13800000001\"}";
static const char *const SEAL_SECRETS[] = { "6222020200112233", "zhang.san@example.com", "清河市和平路1号院3单元",
					    "11010519491231002X", "13800000001" };

/* A key file in a temporary folder; its path in path (64 bytes). */
static struct keyring *ring_new(char path[64])
{
	char err[256];
	snprintf(path, 64, "/tmp/test_cases_key.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(keyring_create(path, err, sizeof(err)), 0);
	struct keyring *k = NULL;
	assert_int_equal(keyring_load(path, &k, err, sizeof(err)), 0);
	return k;
}

static const char *seal_values(struct keyring *k, struct arena *a, int64_t *kid)
{
	json_t *def = json_loads(SEAL_DEF, 0, NULL), *vals = json_loads(SEAL_VALUES, 0, NULL);
	const char *stored;
	assert_int_equal(case_form_seal(k, a, def, vals, &stored, kid), 0);
	json_decref(def);
	json_decref(vals);
	return stored;
}

/* The intake ticket parser takes exactly one spelling of a ticket: what sscanf("%lld") would
 * also have taken (a sign, spaces, leading zeros, upper-case hex, overflow) is refused. */
static void test_ticket_parse(void **state)
{
	(void)state;
	const char *mac = "0123456789abcdef0123456789abcdef";
	char buf[160];
	struct intake_ticket t;
	snprintf(buf, sizeof buf, "42.1893456000.%s", mac);
	assert_int_equal(ticket_parse(buf, strlen(buf), &t), 0);
	assert_int_equal(t.account, 42);
	assert_int_equal(t.expires, 1893456000);
	assert_string_equal(t.mac, mac);
	const char *bad[] = {"+42.1893456000.%s", " 42.1893456000.%s", "042.1893456000.%s", "42. 1893456000.%s",
			     "-1.1893456000.%s", "0.1893456000.%s", "42..%s", "42.1893456000%s",
			     "1234567890123456789.1.%s", "42.1893456000.%s0", "42.1893456000.%s ", ".42.1.%s"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(buf, sizeof buf, bad[i], mac);
		assert_int_equal(ticket_parse(buf, strlen(buf), &t), GH_EINVAL);
	}
	snprintf(buf, sizeof buf, "42.1893456000.%.31sF", mac);
	assert_int_equal(ticket_parse(buf, strlen(buf), &t), GH_EINVAL);
	snprintf(buf, sizeof buf, "42.1893456000.%.31s", mac);
	assert_int_equal(ticket_parse(buf, strlen(buf), &t), GH_EINVAL);
	snprintf(buf, sizeof buf, "42.1893456000.%s", mac);
	buf[20] = 0; /* a NUL inside: the length given counts, not the C string */
	assert_int_equal(ticket_parse(buf, 14 + 32, &t), GH_EINVAL);
}

static void test_form_sealing(void **state)
{
	(void)state;
	char path[64];
	struct keyring *k = ring_new(path);
	struct arena *a = arena_new(4096);
	int64_t kid = -1;
	const char *stored = seal_values(k, a, &kid);
	assert_int_equal(kid, 1);
	for (size_t i = 0; i < ARRAY_LEN(SEAL_SECRETS); i++)
		assert_null(strstr(stored, SEAL_SECRETS[i]));
	assert_non_null(strstr(stored, "普通说明")); /* not personal: as it is */

	json_t *keys;
	json_t *m = case_form_masked(stored, &keys);
	assert_string_equal(json_string_value(json_object_get(m, "id_number")), "1101**********002X");
	assert_string_equal(json_string_value(json_object_get(m, "phone")), "138****0001");
	assert_string_equal(json_string_value(json_object_get(m, "email")), "z***@example.com");
	assert_string_equal(json_string_value(json_object_get(m, "home")), "清河市和****");
	assert_string_equal(json_string_value(json_object_get(m, "bank")), "6****");
	assert_string_equal(json_string_value(json_object_get(m, "note")), "普通说明");
	assert_int_equal(json_array_size(keys), 5);
	json_decref(m);
	json_decref(keys);

	/* The plaintext is the text the values were validated into; each value reveals whole. */
	const char *plain;
	assert_int_equal(case_form_plain(k, a, stored, &plain), 0);
	assert_string_equal(plain, SEAL_VALUES);
	const char *v;
	assert_int_equal(case_form_reveal(k, a, stored, "home", &v), 0);
	assert_string_equal(v, "清河市和平路1号院3单元");
	assert_int_equal(case_form_reveal(k, a, stored, "note", &v), 0);
	assert_int_equal(case_form_reveal(k, a, stored, "nothing", &v), GH_ENOTFOUND);
	assert_true(case_form_is_sealed(stored, "phone"));
	assert_false(case_form_is_sealed(stored, "note"));

	/* A sealed value moved to another field does not open there. */
	json_t *j = json_loads(stored, 0, NULL);
	json_object_set(j, "id_number", json_object_get(j, "phone"));
	char *moved = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_int_equal(case_form_reveal(k, a, moved, "id_number", &v), GH_EINVAL);
	assert_int_equal(case_form_plain(k, a, moved, &plain), GH_EINVAL);
	free(moved);
	/* Without the key file nothing opens, and nothing personal is stored in the clear. */
	assert_int_equal(case_form_plain(NULL, a, stored, &plain), GH_EINVAL);
	json_t *def = json_loads(SEAL_DEF, 0, NULL), *vals = json_loads(SEAL_VALUES, 0, NULL);
	assert_int_equal(case_form_seal(NULL, a, def, vals, &plain, &kid), GH_EUNAVAILABLE);
	json_object_del(vals, "bank"), json_object_del(vals, "email"), json_object_del(vals, "home");
	json_object_del(vals, "id_number"), json_object_del(vals, "phone");
	assert_int_equal(case_form_seal(NULL, a, def, vals, &plain, &kid), 0); /* nothing to seal */
	assert_int_equal(kid, 0);
	assert_int_equal(case_form_plain(NULL, a, plain, &plain), 0);
	json_decref(def);
	json_decref(vals);
	assert_int_equal(case_form_plain(k, a, "[1]", &plain), GH_EINVAL);
	keyring_free(k);
	unlink(path);
	arena_free(a);
}

DB_SQL(q_seal_item, "INSERT INTO service_items (code, version, department, audience, theme, item_type, level, name_zh, "
		    "name_en, legal_limit_days, promised_limit_days, fee_yuan, online_depth, visits_required, materials, "
		    "form, keywords_zh, content_hash, created_at) VALUES ('psb-0002', 1, 'psb', 'individual', 'household', "
		    "'licensing', 'city', '事项', 'Item', 20, 10, 0, 4, 0, '[]', ?, '[]', 'h', '2026-01-01')");
DB_SQL(q_seal_get, "SELECT form, form_key_id FROM applications WHERE id = ?");
DB_SQL(q_seal_legacy, "UPDATE applications SET form = ?, form_key_id = NULL WHERE id = ?");

/* Key rotation re-seals every stored form without changing its plaintext; a form stored in
 * the clear before sealing existed is sealed by the item's definition. */
static void test_form_reseal(void **state)
{
	struct fx *f = *state;
	if (!f->t.db)
		skip();
	char path[64], err[256];
	struct keyring *k = ring_new(path);
	assert_int_equal(db_exec(f->t.db, &q_seal_item, DB_ARGS(DB_TEXT(SEAL_DEF)), NULL), 0);
	int64_t kid;
	const char *stored = seal_values(k, f->a, &kid);
	struct case_new n = { .item_code = "psb-0002", .item_version = 1, .department = "psb", .limit_days = 10,
			      .legal_limit_days = 20, .applicant_id = f->citizen, .channel = "web", .form = stored,
			      .form_key_id = kid, .materials = "[]" };
	int64_t id;
	bool existed;
	assert_int_equal(case_create(f->t.db, f->a, &n, &id, &existed), 0);

	uint32_t newid;
	assert_int_equal(keyring_add_key(path, &newid, err, sizeof(err)), 0);
	assert_int_equal(newid, 2);
	struct keyring *k2 = NULL;
	assert_int_equal(keyring_load(path, &k2, err, sizeof(err)), 0);
	size_t count = 0;
	assert_int_equal(cases_forms_reseal(k2, f->t.db, &count), 0);
	assert_int_equal(count, 1);
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_seal_get, DB_ARGS(DB_INT(id)), &rows), 0);
	const char *after = db_cell(&rows, 0, 0), *plain;
	assert_int_equal(db_cell_int(&rows, 0, 1), 2);
	assert_string_not_equal(after, stored);
	assert_int_equal(case_form_plain(k2, f->a, after, &plain), 0);
	assert_string_equal(plain, SEAL_VALUES);
	assert_int_equal(case_form_plain(k, f->a, after, &plain), GH_EINVAL); /* not under key 1 any more */
	count = 0;
	assert_int_equal(cases_forms_reseal(k2, f->t.db, &count), 0);
	assert_int_equal(count, 0); /* nothing left */

	/* Stored in the clear (before sealing existed): sealed by the pass. */
	assert_int_equal(db_exec(f->t.db, &q_seal_legacy, DB_ARGS(DB_TEXT(SEAL_VALUES), DB_INT(id)), NULL), 0);
	bool more = true;
	count = 0;
	assert_int_equal(cases_forms_seal_legacy(k2, f->t.db, &count, &more), 0);
	assert_int_equal(count, 1);
	assert_false(more);
	assert_int_equal(db_query(f->t.db, f->a, &q_seal_get, DB_ARGS(DB_INT(id)), &rows), 0);
	for (size_t i = 0; i < ARRAY_LEN(SEAL_SECRETS); i++)
		assert_null(strstr(db_cell(&rows, 0, 0), SEAL_SECRETS[i]));
	assert_int_equal(db_cell_int(&rows, 0, 1), 2);
	assert_int_equal(case_form_plain(k2, f->a, db_cell(&rows, 0, 0), &plain), 0);
	assert_string_equal(plain, SEAL_VALUES);
	keyring_free(k);
	keyring_free(k2);
	unlink(path);
}

/* Who may act on an application: its owner as applicant (an enterprise's agent only while
 * acting for it), staff of its department for their duties, and no one on their own. */
static void test_actor_bits(void **state)
{
	(void)state;
	struct application app = { .department = "psb", .applicant_id = 7 };
	struct req r = { .role = ROLE_STAFF, .who = { .account = 9, .department = "psb",
						      .staff_roles = STAFF_REVIEWER | STAFF_HEAD } };
	assert_int_equal(case_actor_bits(&r, &app), WF_REVIEWER | WF_HEAD);
	r.who.department = "civ";
	assert_int_equal(case_actor_bits(&r, &app), 0);
	/* Staff whose own application it is get no duty on it. */
	r.who.department = "psb";
	r.who.account = 7;
	assert_int_equal(case_actor_bits(&r, &app), 0);
	/* The applicant, as themself. */
	struct req c = { .role = ROLE_CITIZEN, .who = { .account = 7 } };
	assert_int_equal(case_actor_bits(&c, &app), WF_APPLICANT);
	/* Filed for an enterprise: its agent while acting for it, not as themself. */
	app.enterprise_id = 50;
	assert_int_equal(case_actor_bits(&c, &app), 0);
	struct req agent = { .role = ROLE_AGENT, .who = { .account = 7, .enterprise = 50 } };
	assert_int_equal(case_actor_bits(&agent, &app), WF_APPLICANT);
	struct req ent = { .role = ROLE_ENTERPRISE, .who = { .account = 50, .enterprise = 50 } };
	assert_int_equal(case_actor_bits(&ent, &app), WF_APPLICANT);
	struct req other = { .role = ROLE_AGENT, .who = { .account = 7, .enterprise = 51 } };
	assert_int_equal(case_actor_bits(&other, &app), 0);
	assert_false(case_can_view(&other, &app));
}

int main(void)
{
	char err[256];
	cal = calendar_load_json("data/catalog/holidays.json", err, sizeof(err));
	if (!cal) {
		fprintf(stderr, "test_cases: %s\n", err);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workflow_sound),
		cmocka_unit_test(test_actor_bits),
		cmocka_unit_test(test_workflow_broken),
		cmocka_unit_test(test_workflow_file),
		cmocka_unit_test(test_workflow_words),
		cmocka_unit_test(test_deadline_holidays),
		cmocka_unit_test(test_deadline_yellow_day),
		cmocka_unit_test(test_deadline_pause),
		cmocka_unit_test(test_deadline_stored),
		cmocka_unit_test_setup_teardown(test_store_lifecycle, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_store_concurrent, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_store_queue, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_store_assign, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_store_observers, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_store_observers, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_store_lifecycle, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_store_concurrent, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_store_queue, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_store_assign, setup_pg, teardown),
		cmocka_unit_test(test_ticket_parse),
		cmocka_unit_test(test_form_sealing),
		cmocka_unit_test_setup_teardown(test_form_reseal, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_form_reseal, setup_pg, teardown),
	};
	int rc = cmocka_run_group_tests_name("cases", tests, NULL, NULL);
	calendar_free(cal);
	return rc;
}
