/* calendar_admin.c: the working-day calendar in the database, the copy each node holds, and
 * the administrators' page and API to edit it (see calendar_admin.h).
 *
 * Grace period of a swapped calendar: a request loads app->calendar once per use and is done
 * with it within microseconds (a binary search or two); swaps happen only in the duties
 * thread, at most once per CASES_DUTY_S seconds. So the calendar a swap replaces is
 * kept (`retired`) and freed at the next swap, seconds later at the earliest: no reader can
 * still hold it then. No reference counts, no locks on the read path.
 *
 * Page and API: one handler serves a page and its API twin, branching on r->api (as
 * identity/admin.c does). Every change is recorded as a security event "calendar.change". */
#include "cases/calendar_admin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "base/calendar.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "base/str.h"
#include "base/util.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "cases/cases_impl.h"
#include "identity/identity.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

#define NOTE_MAX 200      /* characters of a note */
#define YEAR_MIN 1970
#define YEAR_MAX 2100

/* ---- the store ------------------------------------------------------------------------ */

DB_SQL(q_gen, "SELECT value FROM catalog_meta WHERE key = 'calendar_generation'");
DB_SQL(q_bump, "UPDATE catalog_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
	       "WHERE key = 'calendar_generation'");
DB_SQL(q_seeded, "UPDATE catalog_meta SET value = '1' WHERE key = 'calendar_generation' AND value = '0'");
DB_SQL(q_count, "SELECT COUNT(*) FROM calendar_days");
DB_SQL(q_seed, "INSERT INTO calendar_days (day, kind, note) VALUES (?, ?, '') ON CONFLICT (day) DO NOTHING");
DB_SQL(q_all, "SELECT day, kind FROM calendar_days ORDER BY day");
DB_SQL(q_range, "SELECT day, kind, note FROM calendar_days WHERE day >= ? AND day <= ? ORDER BY day");
DB_SQL(q_bounds, "SELECT MIN(day), MAX(day) FROM calendar_days");
DB_SQL(q_add, "INSERT INTO calendar_days (day, kind, note) VALUES (?, ?, ?)");
DB_SQL(q_remove, "DELETE FROM calendar_days WHERE day = ?");

int calendar_db_generation(struct db *db, struct arena *a, int64_t *gen)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_gen, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*gen = rows.nrows && db_cell(&rows, 0, 0) ? strtoll(db_cell(&rows, 0, 0), NULL, 10) : 0;
	return 0;
}

/* Appends the days of a "holidays"/"workdays" array to the transaction. */
static int seed_array(struct db *db, json_t *arr, const char *kind, int *added)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		int32_t day;
		if (!s || calendar_parse_day(s, strlen(s), &day))
			return GH_EVALIDATION; /* calendar_load_json accepted it: cannot happen */
		int64_t changes = 0;
		int rc = db_exec(db, &q_seed, DB_ARGS(DB_INT(day), DB_TEXT(kind)), &changes);
		if (!rc && changes)
			rc = cover_touch_id(db, "calendar_days", day, "calendar.seed");
		if (rc)
			return rc;
		*added += (int)changes;
	}
	return 0;
}

static int seed_object(struct db *db, json_t *o, int *added)
{
	int rc = seed_array(db, json_object_get(o, "holidays"), "holiday", added);
	if (!rc)
		rc = seed_array(db, json_object_get(o, "workdays"), "workday", added);
	return rc;
}

int calendar_db_seed(struct db *db, const char *path, int *added, char *err, size_t errlen)
{
	if (added)
		*added = 0;
	if (errlen)
		*err = 0;
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	json_t *root = NULL;
	int n = 0;
	int rc = db_begin(db);
	if (rc)
		goto out;
	int64_t gen = 0;
	if ((rc = calendar_db_generation(db, a, &gen)) || (rc = db_query(db, a, &q_count, DB_NOARGS, &rows)))
		goto out;
	if (gen != 0 || db_cell_int(&rows, 0, 0) != 0)
		goto out; /* seeded or edited already: the database is the truth now */
	/* The same checks as ever for the file (dates, weekends, no day both kinds). */
	struct calendar *check = calendar_load_json(path, err, errlen);
	if (!check) {
		rc = GH_EVALIDATION;
		goto out;
	}
	calendar_free(check);
	json_error_t je;
	root = json_load_file(path, 0, &je);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s: %s", path, je.text);
		rc = GH_EIO;
		goto out;
	}
	rc = seed_object(db, root, &n);
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v)
	{
		if (!rc && json_is_object(v))
			rc = seed_object(db, v, &n);
	}
	/* Two nodes seeding at once both insert nothing twice and both set 1. */
	if (!rc)
		rc = db_exec(db, &q_seeded, DB_NOARGS, NULL);
out:
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		n = 0;
		if (errlen && !*err)
			snprintf(err, errlen, "cannot seed the working-day calendar: %s", db_last_error(db));
	}
	if (added)
		*added = n;
	arena_free(a);
	json_decref(root);
	return rc;
}

int cases_calendar_seed(struct db *db, const char *data_dir, FILE *out)
{
	char path[4096], err[512] = "";
	snprintf(path, sizeof(path), "%s/catalog/holidays.json", data_dir);
	int added = 0;
	if (calendar_db_seed(db, path, &added, err, sizeof(err))) {
		fprintf(out, "govhall: %s\n", err);
		return -1;
	}
	if (added)
		fprintf(out, "working-day calendar: %d days from %s\n", added, path);
	return 0;
}

int calendar_db_load(struct db *db, struct arena *a, struct calendar **out, int64_t *gen)
{
	/* The generation first, then the days: a change in between gives newer days under an
	 * older generation, which the next refresh reloads. Never the other way round. */
	int rc = calendar_db_generation(db, a, gen);
	if (rc)
		return rc;
	struct db_rows rows;
	if ((rc = db_query(db, a, &q_all, DB_NOARGS, &rows)))
		return rc;
	if (*gen == 0 && rows.nrows == 0)
		return GH_ENOTFOUND;
	int32_t *h = xcalloc(rows.nrows + 1, sizeof(*h)), *w = xcalloc(rows.nrows + 1, sizeof(*w));
	size_t nh = 0, nw = 0;
	for (size_t i = 0; i < rows.nrows; i++) {
		int32_t day = (int32_t)db_cell_int(&rows, i, 0);
		if (strcmp(db_cell(&rows, i, 1), "holiday") == 0)
			h[nh++] = day;
		else
			w[nw++] = day;
	}
	*out = calendar_new(h, nh, w, nw);
	free(h);
	free(w);
	return 0;
}

static void entry_row(const struct db_rows *rows, size_t i, void *out)
{
	const char *note = db_cell(rows, i, 2);
	*(struct calendar_entry *)out =
		(struct calendar_entry){ (int32_t)db_cell_int(rows, i, 0), db_cell(rows, i, 1), note ? note : "" };
}

int calendar_db_list(struct db *db, struct arena *a, int32_t from, int32_t to, struct calendar_entry **out,
		     size_t *n)
{
	return db_query_array(db, a, &q_range, DB_ARGS(DB_INT(from), DB_INT(to)), sizeof(**out), entry_row, out, n);
}

static bool weekend(int32_t day)
{
	return calendar_weekday(day) >= 5;
}

/* The end of a change of day (rc: how its statement went, in the transaction opened for it):
 * the row covered, the generation bumped, committed; or rolled back. */
static int day_changed(struct db *db, int32_t day, int rc)
{
	if (!rc)
		rc = cover_touch_id(db, "calendar_days", day, "calendar.change");
	if (!rc)
		rc = db_exec(db, &q_bump, DB_NOARGS, NULL);
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

int calendar_db_add(struct db *db, int32_t day, const char *kind, const char *note)
{
	if (!kind || (strcmp(kind, "holiday") && strcmp(kind, "workday")))
		return GH_EVALIDATION;
	if (strcmp(kind, "workday") == 0 && !weekend(day))
		return GH_EVALIDATION;
	int rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_exec(db, &q_add, DB_ARGS(DB_INT(day), DB_TEXT(kind), DB_TEXT(note ? note : "")), NULL);
	return day_changed(db, day, rc);
}

int calendar_db_remove(struct db *db, int32_t day)
{
	int rc = db_begin(db);
	if (rc)
		return rc;
	int64_t changes = 0;
	rc = db_exec(db, &q_remove, DB_ARGS(DB_INT(day)), &changes);
	if (!rc && changes == 0)
		rc = GH_ENOTFOUND;
	return day_changed(db, day, rc);
}

/* ---- the node's copy ------------------------------------------------------------------ */

static pthread_mutex_t cal_mu = PTHREAD_MUTEX_INITIALIZER;
static bool cal_loaded;          /* by cases_calendar_load (from the database) */
static int64_t cal_generation;   /* of app->calendar */
static struct calendar *retired; /* the one the last swap replaced; freed at the next */
/* What the listed days are called (the holidays file's "names"), read at start, read-only
 * afterwards: the administrators' page shows a day's name where no note was entered. */
static struct calendar_name *day_names;
static size_t n_day_names;

int cases_calendar_load(struct app *app, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/catalog/holidays.json", app->cfg.data_dir);
	char why[512] = "";
	free(day_names);
	calendar_free(calendar_load_json_names(path, &day_names, &n_day_names, why, sizeof(why)));
	*why = 0;
	struct db *db;
	struct calendar *c = NULL;
	int64_t gen = 0;
	if (db_open(app->cfg.db, &db, why, sizeof(why)) == 0) {
		struct arena *a = arena_new(4096);
		int rc = calendar_db_seed(db, path, NULL, why, sizeof(why));
		if (rc == GH_EVALIDATION || rc == GH_EIO) {
			/* A bad file is an operator's mistake to fix, as before the calendar moved. */
			snprintf(err, errlen, "%s", why);
			arena_free(a);
			db_close(db);
			return rc;
		}
		if (!rc)
			rc = calendar_db_load(db, a, &c, &gen);
		if (rc)
			log_warn("calendar: cannot load it from the database (%s); using %s", db_last_error(db), path);
		arena_free(a);
		db_close(db);
	} else {
		log_warn("calendar: cannot open the database (%s); using %s", why, path);
	}
	pthread_mutex_lock(&cal_mu);
	cal_loaded = c != NULL;
	cal_generation = c ? gen : -1;
	pthread_mutex_unlock(&cal_mu);
	if (!c)
		c = calendar_load_json(path, err, errlen);
	if (!c)
		return GH_EIO;
	struct calendar *old = atomic_exchange(&app->calendar, c);
	calendar_free(old); /* start: no reader yet */
	return 0;
}

int cases_calendar_refresh(struct app *app, struct db *db)
{
	if (!app || !db)
		return 0;
	pthread_mutex_lock(&cal_mu);
	bool loaded = cal_loaded;
	int64_t have = cal_generation;
	pthread_mutex_unlock(&cal_mu);
	if (!loaded)
		return 0;
	struct arena *a = arena_new(4096);
	int64_t gen = 0;
	struct calendar *c = NULL;
	int rc = calendar_db_generation(db, a, &gen);
	if (!rc && gen != have)
		rc = calendar_db_load(db, a, &c, &gen);
	arena_free(a);
	if (rc == GH_ENOTFOUND)
		return 0; /* emptied back to never-seeded by hand: keep what we have */
	if (rc || !c)
		return rc;
	pthread_mutex_lock(&cal_mu);
	struct calendar *old = atomic_exchange(&app->calendar, c);
	calendar_free(retired);
	retired = old;
	cal_generation = gen;
	pthread_mutex_unlock(&cal_mu);
	log_info("calendar: reloaded (generation %lld)", (long long)gen);
	return 0;
}

void cases_calendar_release(struct app *app)
{
	pthread_mutex_lock(&cal_mu);
	calendar_free(atomic_exchange(&app->calendar, NULL));
	calendar_free(retired);
	retired = NULL;
	free(day_names);
	day_names = NULL;
	n_day_names = 0;
	cal_loaded = false;
	cal_generation = -1;
	pthread_mutex_unlock(&cal_mu);
}

/* ---- pages and API -------------------------------------------------------------------- */

static const char *fmt_day(struct req *r, int32_t day)
{
	char buf[11];
	calendar_format_day(day, buf);
	return arena_strdup(r->arena, buf);
}

static const char *const weekday_words[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static const char *weekday_label(struct req *r, int32_t day)
{
	char key[40];
	snprintf(key, sizeof(key), "calendar_weekday_%s", weekday_words[calendar_weekday(day)]);
	return M(r, key);
}

static int current_year(void)
{
	int y, m, d;
	calendar_ymd(calendar_day_of(time(NULL)), &y, &m, &d);
	return y;
}

/* ?year=YYYY (default: this year). */
static int year_param(struct req *r, int *year)
{
	long y;
	int rc = req_query_long(r, "year", current_year(), YEAR_MIN, YEAR_MAX, &y);
	if (rc)
		return rc;
	*year = (int)y;
	return 0;
}

static json_t *entry_json(struct req *r, const struct calendar_entry *e)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "day", fmt_day(r, e->day), "kind", e->kind, "note", e->note, "weekday",
			 weekday_words[calendar_weekday(e->day)]);
}

/* The page's context for year, with the form's values v (stolen; may be NULL). */
static json_t *page_ctx(struct req *r, int year, json_t *v)
{
	struct calendar_entry *e;
	size_t n;
	struct db_rows rows;
	if (calendar_db_list(r->db, r->arena, calendar_day(year, 1, 1), calendar_day(year, 12, 31), &e, &n) ||
	    db_query(r->db, r->arena, &q_bounds, DB_NOARGS, &rows)) {
		json_decref(v);
		return NULL;
	}
	json_t *ctx = json_pack("{s:s,s:i,s:b}", "title", M(r, "calendar_title"), "year", year, "nav_admin_calendar", 1);
	json_object_set_new(ctx, "in_admin_accounts", json_true());
	jset(ctx, "csrf", identity_csrf_token(r));
	json_t *holidays = json_array(), *workdays = json_array();
	for (size_t i = 0; i < n; i++) {
		bool hol = strcmp(e[i].kind, "holiday") == 0;
		const char *note = e[i].note;
		const struct calendar_name *nm = *note ? NULL : calendar_name_of(day_names, n_day_names, e[i].day);
		if (nm)
			note = en(r) ? nm->en : nm->zh;
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "day", fmt_day(r, e[i].day), "weekday",
				      weekday_label(r, e[i].day), "note", note, "kind_label",
				      M(r, hol ? "calendar_kind_holiday" : "calendar_kind_workday"));
		json_array_append_new(hol ? holidays : workdays, o);
	}
	json_object_set_new(ctx, "holidays", holidays);
	json_object_set_new(ctx, "workdays", workdays);
	json_object_set_new(ctx, "has_holidays", json_boolean(json_array_size(holidays) > 0));
	json_object_set_new(ctx, "has_workdays", json_boolean(json_array_size(workdays) > 0));
	/* Years to choose from: every listed year, this year and the next. */
	int lo = current_year(), hi = lo + 1, y, m, d;
	if (rows.nrows && db_cell(&rows, 0, 0)) {
		calendar_ymd((int32_t)db_cell_int(&rows, 0, 0), &y, &m, &d);
		lo = y < lo ? y : lo;
		calendar_ymd((int32_t)db_cell_int(&rows, 0, 1), &y, &m, &d);
		hi = y > hi ? y : hi;
	}
	lo = year < lo ? year : lo;
	hi = year > hi ? year : hi;
	json_t *years = json_array();
	for (int i = hi; i >= lo && hi - i < 200; i--) {
		json_t *o = json_pack("{s:i}", "year", i);
		if (i == year)
			json_object_set_new(o, "selected", json_true());
		json_array_append_new(years, o);
	}
	json_object_set_new(ctx, "years", years);
	json_object_set_new(ctx, "v", v ? v : json_object());
	const char *kind = json_string_value(json_object_get(json_object_get(ctx, "v"), "kind"));
	json_object_set_new(ctx, kind && strcmp(kind, "workday") == 0 ? "kind_workday" : "kind_holiday", json_true());
	return ctx;
}

/* GET /admin/calendar, GET /api/v1/admin/calendar */
static int calendar_get(struct req *r)
{
	int year;
	int rc = year_param(r, &year);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	if (r->api) {
		struct calendar_entry *e;
		size_t n;
		int64_t gen;
		if ((rc = calendar_db_list(r->db, r->arena, calendar_day(year, 1, 1), calendar_day(year, 12, 31), &e, &n)) ||
		    (rc = calendar_db_generation(r->db, r->arena, &gen)))
			return rc;
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, entry_json(r, &e[i]));
		return resp_json(r, 200, json_pack("{s:i,s:I,s:o}", "year", year, "generation", (json_int_t)gen, "days",
						   arr));
	}
	json_t *ctx = page_ctx(r, year, NULL);
	if (!ctx)
		return GH_EDB;
	const char *done = req_query(r, "done");
	if (done && strcmp(done, "added") == 0)
		jset(ctx, "notice", M(r, "calendar_done_added"));
	else if (done && strcmp(done, "removed") == 0)
		jset(ctx, "notice", M(r, "calendar_done_removed"));
	return resp_page(r, 200, "cases/admin_calendar", ctx);
}

/* The input as a JSON object: the API's body, or the page's form as strings. */
static int read_input(struct req *r, json_t **out)
{
	if (r->api)
		return req_body_object(r, out);
	struct kvlist form;
	int rc = req_form(r, &form);
	if (rc)
		return rc;
	json_t *j = json_object();
	for (size_t i = 0; i < form.n; i++)
		json_object_set_new(j, form.v[i].key, json_stringn(form.v[i].val, form.v[i].val_len));
	arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	*out = j;
	return 0;
}

static const char *field(json_t *in, const char *key)
{
	const char *s = json_string_value(json_object_get(in, key));
	return s ? s : "";
}

/* A refused change: 422 JSON with the fields, or the page again with the messages. */
static int invalid(struct req *r, int year, json_t *in, json_t *errs)
{
	json_t *ctx = NULL;
	if (!r->api) {
		json_t *v = json_object();
		static const char *const keep[] = { "day", "kind", "note" };
		for (size_t i = 0; i < ARRAY_LEN(keep); i++)
			json_object_set_new(v, keep[i], json_string(field(in, keep[i])));
		if (!(ctx = page_ctx(r, year, v)))
			return GH_EDB;
	}
	return req_invalid(r, "cases/admin_calendar", ctx, errs);
}

static void record(struct req *r, const char *what, int32_t day, const char *kind, const char *note)
{
	identity_event(r->db, "calendar.change", 0, r->who.account, r->ip,
		       arena_printf(r->arena, "%s %s %s%s%s", what, fmt_day(r, day), kind ? kind : "",
				    note && *note ? ": " : "", note && *note ? note : ""));
}

static int year_of(int32_t day)
{
	int y, m, d;
	calendar_ymd(day, &y, &m, &d);
	return y;
}

/* A change of the calendar through the writer (http/write.h): the day written with its
 * security event, and the generation it made, read in the same write. */
struct cal_job {
	json_t *in; /* add: the input, for the page again */
	int32_t day;
	const char *kind, *note;
	int64_t gen;
};

static int add_write(struct req *w, void *arg)
{
	struct cal_job *j = arg;
	int rc = calendar_db_add(w->db, j->day, j->kind, j->note);
	if (rc)
		return rc;
	record(w, "add", j->day, j->kind, j->note);
	return calendar_db_generation(w->db, w->arena, &j->gen);
}

static int add_done(struct req *r, void *arg, int rc)
{
	struct cal_job *j = arg;
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
	if (rc == GH_ECONFLICT) {
		struct calendar_entry *e;
		size_t n;
		const char *now = NULL;
		if (calendar_db_list(r->db, r->arena, j->day, j->day, &e, &n) == 0 && n == 1)
			now = e[0].kind;
		json_object_set_new(errs, "day",
				    json_string(M(r, now && strcmp(now, j->kind) == 0 ? "calendar_err_listed"
										      : "calendar_err_listed_other")));
		if (r->api) {
			req_error_detail(r, "%s", M(r, "calendar_err_listed"));
			return GH_ECONFLICT;
		}
	} else if (rc == GH_EVALIDATION) {
		json_object_set_new(errs, "day", json_string(M(r, "calendar_err_workday_weekend")));
	} else if (rc) {
		return rc;
	}
	if (json_object_size(errs))
		return invalid(r, year_of(j->day), j->in, errs);
	if (!r->api)
		return resp_redirect(r, 303, arena_printf(r->arena, "/admin/calendar?year=%d&done=added", year_of(j->day)));
	struct calendar_entry e = { j->day, j->kind, j->note };
	resp_header(r, "Cache-Control", "no-store");
	resp_header(r, "Location", arena_printf(r->arena, "/api/v1/admin/calendar/%s", fmt_day(r, j->day)));
	return resp_json(r, 201, json_pack("{s:o,s:I}", "day", entry_json(r, &e), "generation", (json_int_t)j->gen));
}

/* Adds the day in `in` (page form or API body). */
static int add_day(struct req *r, json_t *in)
{
	json_t *errs = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, errs);
	if (r->api) {
		const char *k;
		json_t *x;
		json_object_foreach(in, k, x)
		{
			if (strcmp(k, "day") && strcmp(k, "kind") && strcmp(k, "note"))
				json_object_set_new(errs, k, json_string(M(r, "cases_calendar_unknown_field")));
			else if (!json_is_string(x))
				json_object_set_new(errs, k, json_string(M(r, "cases_must_string")));
		}
	}
	const char *ds = field(in, "day"), *kind = field(in, "kind"), *note = field(in, "note");
	int32_t day = 0;
	bool day_ok = *ds && calendar_parse_day(ds, strlen(ds), &day) == 0 && year_of(day) >= YEAR_MIN &&
		      year_of(day) <= YEAR_MAX;
	if (!day_ok)
		json_object_set_new(errs, "day", json_string(M(r, "calendar_err_day")));
	bool hol = strcmp(kind, "holiday") == 0, work = strcmp(kind, "workday") == 0;
	if (!hol && !work)
		json_object_set_new(errs, "kind", json_string(M(r, "calendar_err_kind")));
	else if (work && day_ok && !weekend(day))
		json_object_set_new(errs, "day", json_string(M(r, "calendar_err_workday_weekend")));
	bool ctl = false;
	for (const char *p = note; *p; p++)
		ctl = ctl || (unsigned char)*p < 0x20 || *p == 0x7f;
	if (ctl || str_utf8_chars(note, strlen(note)) > NOTE_MAX)
		json_object_set_new(errs, "note", json_string(M(r, "calendar_err_note")));
	if (json_object_size(errs))
		return invalid(r, day_ok ? year_of(day) : current_year(), in, errs);
	struct cal_job *j = arena_zalloc(r->arena, sizeof(*j));
	*j = (struct cal_job){ .in = in, .day = day, .kind = hol ? "holiday" : "workday", .note = note };
	return req_write(r, add_write, add_done, j);
}

static int remove_write(struct req *w, void *arg)
{
	struct cal_job *j = arg;
	int rc = calendar_db_remove(w->db, j->day);
	if (rc == GH_ENOTFOUND)
		req_error_detail(w, "%s", M(w, "calendar_err_not_listed"));
	if (rc)
		return rc;
	record(w, "remove", j->day, NULL, NULL);
	return calendar_db_generation(w->db, w->arena, &j->gen);
}

static int remove_done(struct req *r, void *arg, int rc)
{
	struct cal_job *j = arg;
	if (rc)
		return rc;
	if (!r->api)
		return resp_redirect(r, 303, arena_printf(r->arena, "/admin/calendar?year=%d&done=removed", year_of(j->day)));
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:s,s:I}", "removed", fmt_day(r, j->day), "generation", (json_int_t)j->gen));
}

/* Removes the day ds. */
static int remove_day(struct req *r, const char *ds)
{
	int32_t day;
	if (!ds || !*ds || calendar_parse_day(ds, strlen(ds), &day)) {
		req_error_detail(r, "%s", M(r, "calendar_err_day"));
		return GH_EINVAL;
	}
	struct cal_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->day = day;
	return req_write(r, remove_write, remove_done, j);
}

/* POST /admin/calendar (action=add|remove), POST /api/v1/admin/calendar (add) */
static int calendar_post(struct req *r)
{
	json_t *in;
	int rc = read_input(r, &in);
	if (rc)
		return rc;
	if (r->api)
		return add_day(r, in);
	const char *action = field(in, "action");
	if (strcmp(action, "remove") == 0)
		return remove_day(r, field(in, "day"));
	if (*action && strcmp(action, "add") != 0) {
		req_error_detail(r, "%s", M(r, "cases_unknown_action"));
		return GH_EINVAL;
	}
	json_object_del(in, "action");
	json_object_del(in, "_csrf");
	json_object_del(in, "year");
	return add_day(r, in);
}

/* DELETE /api/v1/admin/calendar/{day}, DELETE /api/v1/admin/calendar?day=YYYY-MM-DD */
static int calendar_delete(struct req *r)
{
	const char *ds = req_param(r, "day");
	return remove_day(r, ds ? ds : req_query(r, "day"));
}

static int calendar_api_delete_q(struct req *r)
{
	return calendar_delete(r);
}

const struct route calendar_admin_routes[] = {
	{ HTTP_GET, "/admin/calendar", calendar_get, ROLE_ADMIN, 0, "cases.admin_calendar" },
	{ HTTP_POST, "/admin/calendar", calendar_post, ROLE_ADMIN, ROUTE_CSRF, "cases.admin_calendar_change" },
	{ HTTP_GET, "/api/v1/admin/calendar", calendar_get, ROLE_ADMIN, 0, "cases.api_admin_calendar", NULL,
	  SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/calendar", calendar_post, ROLE_ADMIN, 0, "cases.api_admin_calendar_add", NULL,
	  SCOPE_ADMIN },
	{ HTTP_DELETE, "/api/v1/admin/calendar", calendar_api_delete_q, ROLE_ADMIN, 0,
	  "cases.api_admin_calendar_remove_q", NULL, SCOPE_ADMIN },
	{ HTTP_DELETE, "/api/v1/admin/calendar/{day}", calendar_delete, ROLE_ADMIN, 0,
	  "cases.api_admin_calendar_remove", NULL, SCOPE_ADMIN },
};
const size_t calendar_admin_routes_n = ARRAY_LEN(calendar_admin_routes);

/* ---- the cases module's duty ------------------------------------------------------------ */

static struct duty *cases_duty;
static struct app *duty_app;
static bool forms_sealed; /* forms stored before sealing existed are sealed (sealed.c) */

/* First, in batches, the personal fields of forms stored before they were sealed; then, every
 * CASES_DUTY_S, the calendar. */
static int cases_pass(void *arg, bool *more)
{
	(void)arg;
	struct db *db = duty_app->duty_db;
	if (!forms_sealed) {
		size_t n = 0;
		bool again = false;
		int src = cases_forms_seal_legacy(duty_app->keys, db, &n, &again);
		if (src) /* not again until the next start: `govhall key reseal` does it too */
			log_error("cases: sealing stored forms failed (%s); run `govhall key reseal`", err_name(src));
		else if (n)
			log_info("cases: %zu stored form%s sealed", n, n == 1 ? "" : "s");
		forms_sealed = src || !again;
		if (again) {
			*more = true;
			return 0;
		}
	}
	int rc = cases_calendar_refresh(duty_app, db);
	if (rc)
		log_debug("calendar: refresh failed: %s", db_last_error(db));
	return rc;
}

int cases_start(struct app *app, char *err, size_t errlen)
{
	if (cases_duty)
		return 0;
	if (!app->duty_db) {
		snprintf(err, errlen, "cases: the duties' database connection is not open");
		return GH_EINTERNAL;
	}
	duty_app = app;
	forms_sealed = false;
	if (!(cases_duty = duty_start("calendar", cases_pass, NULL, CASES_DUTY_S))) {
		duty_app = NULL;
		snprintf(err, errlen, "cases: cannot start the duties thread");
		return GH_EINTERNAL;
	}
	return 0;
}

void cases_stop(void)
{
	duty_stop(cases_duty);
	cases_duty = NULL;
	duty_app = NULL;
}
