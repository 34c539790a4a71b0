/* natstats.c: national supervision (全国一体化 监督).
 *
 * - A hall publishes the figures of its public statistics page by department (stats.h:
 *   stats_department_figures; the year so far unless from/to are given) as a signed document
 *   (nat.h), GET /federation/statistics: {"iss", "kind": "statistics", "iat", "exp", "from",
 *   "to", "departments": [{"code", "name_zh", "name_en", "submitted", "concluded", "on_time",
 *   "online", "evals", "bad", "rect_closed", "rect_done"}]}.
 * - The hub's duty (natcat.c) takes each approved hall's document, checked, into
 *   fed_nat_stats (the hall's rows replaced in one transaction, the token kept in
 *   fed_nat_sources). A document refused changes nothing.
 * - The hub shows /national/statistics, /api/v1/national/statistics and the exports
 *   /national/statistics/export?by=hall|department&format=csv|xlsx, ranked. National figures
 *   are the halls' combined: counts summed; every rate recomputed from the summed numerator
 *   and denominator (never an average of the halls' rates). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "federation/fed_impl.h"
#include "federation/nat.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "stats/stats.h"
#include "store/db.h"

#define NAT_COUNTS 8
#define NAT_STAT_ROWS_MAX 2000 /* departments in one hall's document */

/* The counts of a document's department, in the order of fed_nat_stats' columns. */
static const char *const count_names[NAT_COUNTS] = { "submitted", "concluded", "on_time", "online",
						     "evals",     "bad",       "rect_closed", "rect_done" };
enum { C_SUBMITTED, C_CONCLUDED, C_ON_TIME, C_ONLINE, C_EVALS, C_BAD, C_RECT_CLOSED, C_RECT_DONE };

/* The rates: numerator and denominator of each (satisfaction: reviews not bad of all). */
struct rate_def {
	const char *name, *col_key;
};
static const struct rate_def rates[] = {
	{ "online_rate", "stats_col_online_rate" },
	{ "on_time_rate", "stats_col_on_time_rate" },
	{ "satisfaction_rate", "stats_col_satisfaction_rate" },
	{ "rectification_rate", "stats_col_rectification_rate" },
};
#define NRATES (sizeof(rates) / sizeof(rates[0]))

static void rate_parts(const int64_t *c, size_t k, int64_t *num, int64_t *den)
{
	switch (k) {
	case 0: *num = c[C_ONLINE], *den = c[C_CONCLUDED]; break;
	case 1: *num = c[C_ON_TIME], *den = c[C_CONCLUDED]; break;
	case 2: *num = c[C_EVALS] - c[C_BAD], *den = c[C_EVALS]; break;
	default: *num = c[C_RECT_DONE], *den = c[C_RECT_CLOSED]; break;
	}
}

/* num / den; *ok false when den is 0 (no rate rather than a made-up one). */
static double rate_of(int64_t num, int64_t den, bool *ok)
{
	*ok = den > 0;
	return *ok ? (double)num / (double)den : 0.0;
}

/* ---- the hall's document ------------------------------------------------------------------------- */

static int statistics_doc(struct req *r)
{
	if (!fed_cfg.rp)
		return GH_ENOTFOUND;
	json_t *doc;
	const char *why;
	int rc = stats_department_figures(r->db, r->arena, req_query(r, "from"), req_query(r, "to"), &doc, &why);
	if (rc == GH_EINVAL)
		req_error_detail(r, "%s", M(r, why));
	if (rc)
		return rc;
	json_object_set_new(doc, "kind", json_string("statistics"));
	return nat_doc_answer(r, doc);
}

/* ---- the hub's collection ---------------------------------------------------------------------- */

DB_SQL(q_stats_clear, "DELETE FROM fed_nat_stats WHERE hall_id = ?");
DB_SQL(q_stats_put, "INSERT INTO fed_nat_stats (hall_id, department, dept_zh, dept_en, submitted, concluded, on_time, "
		    "online, evals, bad, rect_closed, rect_done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_stats_source, "INSERT INTO fed_nat_sources (hall_id, stats_doc, stats_from, stats_to, stats_at, error) "
		       "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (hall_id) DO UPDATE SET stats_doc = excluded.stats_doc, "
		       "stats_from = excluded.stats_from, stats_to = excluded.stats_to, stats_at = excluded.stats_at, "
		       "error = NULL");

/* Whether d is a well-formed department of a statistics document (counts into c). */
static bool dept_ok(const json_t *d, int64_t c[NAT_COUNTS])
{
	const char *code = json_string_value(json_object_get(d, "code"));
	if (!code || !*code || strlen(code) > 64 || !json_is_string(json_object_get(d, "name_zh")) ||
	    !json_is_string(json_object_get(d, "name_en")))
		return false;
	for (size_t k = 0; k < NAT_COUNTS; k++) {
		const json_t *v = json_object_get(d, count_names[k]);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return false;
		c[k] = json_integer_value(v);
	}
	/* The parts of a figure are never more than the whole. */
	return c[C_ON_TIME] <= c[C_CONCLUDED] && c[C_ONLINE] <= c[C_CONCLUDED] && c[C_BAD] <= c[C_EVALS] &&
	       c[C_RECT_DONE] <= c[C_RECT_CLOSED];
}

const char *nat_stats_check(const json_t *doc)
{
	const json_t *depts = json_object_get(doc, "departments");
	const char *from = json_string_value(json_object_get(doc, "from")), *to = json_string_value(json_object_get(doc, "to"));
	size_t i;
	const json_t *d;
	int64_t c[NAT_COUNTS];
	if (!from || !to || strlen(from) != 10 || strlen(to) != 10 || !json_is_array(depts) ||
	    json_array_size(depts) > NAT_STAT_ROWS_MAX)
		return "the statistics document is malformed";
	json_array_foreach(depts, i, d) if (!dept_ok(d, c)) return "a department of the statistics document is malformed";
	return NULL;
}

static int store(struct db *db, const char *hall, const json_t *doc, const char *raw, const char **why)
{
	const json_t *depts = json_object_get(doc, "departments");
	const char *from = json_string_value(json_object_get(doc, "from")), *to = json_string_value(json_object_get(doc, "to"));
	size_t i;
	const json_t *d;
	int64_t c[NAT_COUNTS];
	if ((*why = nat_stats_check(doc)))
		return GH_EINVAL;
	int rc = db_begin(db);
	if (!rc)
		rc = db_exec(db, &q_stats_clear, DB_ARGS(DB_TEXT(hall)), NULL);
	json_array_foreach(depts, i, d)
	{
		if (rc)
			break;
		dept_ok(d, c);
		rc = db_exec(db, &q_stats_put,
			     DB_ARGS(DB_TEXT(hall), DB_TEXT(json_string_value(json_object_get(d, "code"))),
				     DB_TEXT(json_string_value(json_object_get(d, "name_zh"))),
				     DB_TEXT(json_string_value(json_object_get(d, "name_en"))), DB_INT(c[0]), DB_INT(c[1]),
				     DB_INT(c[2]), DB_INT(c[3]), DB_INT(c[4]), DB_INT(c[5]), DB_INT(c[6]), DB_INT(c[7])),
			     NULL);
	}
	if (!rc)
		rc = db_exec(db, &q_stats_source,
			     DB_ARGS(DB_TEXT(hall), DB_TEXT(raw), DB_TEXT(from), DB_TEXT(to), DB_INT(time(NULL))), NULL);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		*why = "the hub could not store the statistics";
	}
	return rc;
}

int nat_stats_pull(struct app *app, struct db *db, const char *hall, const char *base_url, const char *keys_json)
{
	struct arena *a = arena_new(0);
	json_t *doc;
	const char *why, *raw;
	int rc = nat_doc_fetch(app, arena_printf(a, "%s/federation/statistics", base_url), hall, keys_json, "statistics",
			       &doc, &raw, &why, a);
	if (!rc) {
		rc = store(db, hall, doc, raw, &why);
		json_decref(doc);
	}
	if (rc) {
		log_warn("federation: the statistics of %s are refused (%s); what the hub holds of them stays", hall, why);
		nat_source_error(db, hall, why);
	}
	arena_free(a);
	return rc;
}

/* ---- the national figures ---------------------------------------------------------------------- */

DB_SQL(q_nat_stats, "SELECT s.hall_id, h.name, h.region, s.department, s.dept_zh, s.dept_en, s.submitted, s.concluded, "
		    "s.on_time, s.online, s.evals, s.bad, s.rect_closed, s.rect_done "
		    "FROM fed_nat_stats s JOIN fed_halls h ON h.hall_id = s.hall_id AND h.state = 'approved' "
		    "ORDER BY s.hall_id, s.department");

struct nrow {
	const char *key, *name, *region; /* region: halls only */
	int64_t c[NAT_COUNTS];
	double sortv;
	bool sort_ok;
};

struct nfig {
	const char *by, *sort;
	struct nrow *rows;
	size_t n;
	struct nrow total;
};

/* A department's name without its hall's (兰山市公安局 -> 公安局; "Lanshan Municipal Public
 * Security Bureau" -> "Public Security Bureau"), so the same department of every hall reads
 * the same. */
static const char *dept_name(struct req *r, const char *zh, const char *en, const char *hall_name)
{
	if (!strcmp(r->lang, "en")) {
		const char *m = strstr(en, "Municipal ");
		return m ? m + strlen("Municipal ") : en;
	}
	size_t n = strlen(hall_name);
	return n && !strncmp(zh, hall_name, n) && zh[n] ? zh + n : zh;
}

static struct nrow *row_for(struct req *r, struct nfig *f, const char *key, size_t max)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->rows[i].key, key))
			return &f->rows[i];
	if (f->n == max)
		return NULL;
	struct nrow *x = &f->rows[f->n++];
	memset(x, 0, sizeof(*x));
	x->key = arena_strdup(r->arena, key);
	return x;
}

static int sort_cmp(const void *pa, const void *pb)
{
	const struct nrow *a = pa, *b = pb;
	if (a->sort_ok != b->sort_ok)
		return a->sort_ok ? -1 : 1;
	if (a->sortv != b->sortv)
		return a->sortv > b->sortv ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* Reads and combines the halls' figures by hall or department, ranked by sort (a count or a
 * rate, best first). */
static int figures(struct req *r, struct nfig *f)
{
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	f->by = req_query(r, "by") ? req_query(r, "by") : "hall";
	f->sort = req_query(r, "sort") ? req_query(r, "sort") : "submitted";
	bool by_hall = !strcmp(f->by, "hall");
	if (!by_hall && strcmp(f->by, "department")) {
		req_error_detail(r, "%s", M(r, "nat_stats_bad_by"));
		return GH_EINVAL;
	}
	int sk = -1, sr = -1;
	for (size_t k = 0; k < NAT_COUNTS; k++)
		if (!strcmp(f->sort, count_names[k]))
			sk = (int)k;
	for (size_t k = 0; k < NRATES; k++)
		if (!strcmp(f->sort, rates[k].name))
			sr = (int)k;
	if (sk < 0 && sr < 0) {
		req_error_detail(r, "%s", M(r, "nat_stats_bad_sort"));
		return GH_EINVAL;
	}
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_nat_stats, DB_NOARGS, &rows);
	if (rc)
		return rc;
	size_t max = rows.nrows ? rows.nrows : 1;
	f->rows = arena_array(r->arena, max, sizeof(*f->rows));
	f->n = 0;
	memset(&f->total, 0, sizeof(f->total));
	for (size_t i = 0; i < rows.nrows; i++) {
		struct nrow *x = row_for(r, f, db_cell(&rows, i, by_hall ? 0 : 3), max);
		if (!x->name) {
			x->name = by_hall ? db_cell(&rows, i, 1)
					  : dept_name(r, db_cell(&rows, i, 4), db_cell(&rows, i, 5), db_cell(&rows, i, 1));
			x->region = by_hall ? db_cell(&rows, i, 2) : NULL;
		}
		for (size_t k = 0; k < NAT_COUNTS; k++) {
			int64_t v = db_cell_int(&rows, i, 6 + (int)k);
			x->c[k] += v;
			f->total.c[k] += v;
		}
	}
	for (size_t i = 0; i < f->n; i++) {
		struct nrow *x = &f->rows[i];
		if (sk >= 0) {
			x->sortv = (double)x->c[sk];
			x->sort_ok = true;
		} else {
			int64_t num, den;
			rate_parts(x->c, (size_t)sr, &num, &den);
			x->sortv = rate_of(num, den, &x->sort_ok);
		}
	}
	qsort(f->rows, f->n, sizeof(*f->rows), sort_cmp);
	return 0;
}

static json_t *row_json(const struct nrow *x, size_t rank)
{
	json_t *j = json_object();
	if (rank)
		json_object_set_new(j, "rank", json_integer((json_int_t)rank));
	if (x->key) {
		json_object_set_new(j, "key", json_string(x->key));
		json_object_set_new(j, "name", json_string(x->name ? x->name : x->key));
	}
	if (x->region)
		json_object_set_new(j, "region", json_string(x->region));
	for (size_t k = 0; k < NAT_COUNTS; k++)
		json_object_set_new(j, count_names[k], json_integer(x->c[k]));
	for (size_t k = 0; k < NRATES; k++) {
		int64_t num, den;
		bool ok;
		rate_parts(x->c, k, &num, &den);
		double v = rate_of(num, den, &ok);
		json_object_set_new(j, rates[k].name, ok ? json_real(v) : json_null());
	}
	return j;
}

/* GET /api/v1/national/statistics?by=hall|department&sort= */
static int api_statistics(struct req *r)
{
	struct nfig f;
	int rc = figures(r, &f);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < f.n; i++)
		json_array_append_new(arr, row_json(&f.rows[i], i + 1));
	return resp_json(r, 200, json_pack("{s:s,s:s,s:o,s:o}", "by", f.by, "sort", f.sort, "rows", arr, "total",
					   row_json(&f.total, 0)));
}

/* The figures as a table (stats.h) for CSV and XLSX and the page. */
static void table_of(struct req *r, const struct nfig *f, struct stats_table *t)
{
	static const char *const count_keys[NAT_COUNTS] = {
		N_("stats_col_submitted"), N_("stats_col_concluded"), N_("nat_stats_col_on_time"), N_("nat_stats_col_online"),
		N_("stats_col_evaluations"), N_("stats_col_bad"), N_("nat_stats_col_rect_closed"), N_("nat_stats_col_rect_done"),
	};
	bool by_hall = !strcmp(f->by, "hall");
	size_t lead = by_hall ? 3 : 2;
	t->name = by_hall ? "halls" : "departments";
	t->ncols = lead + NAT_COUNTS + NRATES;
	t->nrows = f->n + 1;
	t->head = arena_array(r->arena, t->ncols, sizeof(*t->head));
	t->numeric = arena_array(r->arena, t->ncols, sizeof(*t->numeric));
	t->cells = arena_array(r->arena, t->ncols * t->nrows, sizeof(*t->cells));
	size_t c = 0;
	t->head[c++] = M(r, "nat_stats_col_rank");
	t->head[c++] = M(r, by_hall ? "nat_stats_col_hall" : "nat_stats_col_department");
	if (by_hall)
		t->head[c++] = M(r, "nat_stats_col_region");
	for (size_t k = 0; k < NAT_COUNTS; k++)
		t->head[c++] = M(r, count_keys[k]);
	for (size_t k = 0; k < NRATES; k++)
		t->head[c++] = M(r, rates[k].col_key);
	for (size_t k = 0; k < t->ncols; k++)
		t->numeric[k] = k == 0 || k >= lead;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct nrow *x = i < f->n ? &f->rows[i] : &f->total;
		const char **row = &t->cells[i * t->ncols];
		size_t k = 0;
		row[k++] = i < f->n ? arena_printf(r->arena, "%zu", i + 1) : "";
		row[k++] = i < f->n ? x->name : M(r, "nat_stats_national");
		if (by_hall)
			row[k++] = i < f->n ? x->region : "";
		for (size_t m = 0; m < NAT_COUNTS; m++)
			row[k++] = arena_printf(r->arena, "%lld", (long long)x->c[m]);
		for (size_t m = 0; m < NRATES; m++) {
			int64_t num, den;
			bool ok;
			rate_parts(x->c, m, &num, &den);
			double v = rate_of(num, den, &ok);
			row[k++] = ok ? arena_printf(r->arena, "%.1f%%", v * 100.0) : "";
		}
	}
}

/* The ranked figures of the request and their table. */
static int ranked_table(struct req *r, struct nfig *f, struct stats_table *t)
{
	int rc = figures(r, f);
	if (!rc)
		table_of(r, f, t);
	return rc;
}

/* GET /national/statistics/export?by=&sort=&format=csv|xlsx */
static int export(struct req *r)
{
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	const char *format = req_query(r, "format");
	bool xlsx = format && !strcmp(format, "xlsx");
	if (!format || (!xlsx && strcmp(format, "csv"))) {
		req_error_detail(r, "%s", M(r, "stats_err_format"));
		return GH_EINVAL;
	}
	struct nfig f;
	struct stats_table t;
	int rc = ranked_table(r, &f, &t);
	return rc ? rc : stats_send_table(r, &t, xlsx, arena_printf(r->arena, "govhall-national-%s", t.name));
}

/* GET /national/statistics?by=&sort=: the ranking as a page, the national row last. */
static int page_statistics(struct req *r)
{
	struct nfig f;
	struct stats_table t;
	int rc = ranked_table(r, &f, &t);
	if (rc)
		return rc;
	json_t *head = json_array(), *body = json_array();
	for (size_t k = 0; k < t.ncols; k++)
		json_array_append_new(head, json_pack("{s:s,s:b}", "label", t.head[k], "numeric", t.numeric[k]));
	for (size_t i = 0; i < t.nrows; i++) {
		json_t *cells = json_array();
		for (size_t k = 0; k < t.ncols; k++)
			json_array_append_new(cells, json_pack("{s:s,s:b,s:b}", "text", t.cells[i * t.ncols + k], "numeric",
							       t.numeric[k], "first", k == 1));
		json_array_append_new(body, json_pack("{s:o,s:b}", "cells", cells, "national", i == f.n));
	}
	bool by_hall = !strcmp(f.by, "hall");
	/* The rankings the page offers (the API takes every count too). */
	static const char *const sort_opts[][2] = {
		{ "submitted", N_("nat_stats_sort_submitted") },
		{ "concluded", N_("nat_stats_sort_concluded") },
		{ "evals", N_("nat_stats_sort_evals") },
		{ "online_rate", N_("nat_stats_sort_online_rate") },
		{ "on_time_rate", N_("nat_stats_sort_on_time_rate") },
		{ "satisfaction_rate", N_("nat_stats_sort_satisfaction_rate") },
		{ "rectification_rate", N_("nat_stats_sort_rectification_rate") },
	};
	json_t *sorts = json_array();
	for (size_t k = 0; k < sizeof(sort_opts) / sizeof(sort_opts[0]); k++)
		json_array_append_new(sorts, json_pack("{s:s,s:s,s:b}", "value", sort_opts[k][0], "label",
						       M(r, sort_opts[k][1]), "selected", !strcmp(sort_opts[k][0], f.sort)));
	json_t *ctx = json_pack("{s:s,s:o,s:o,s:o,s:b,s:b,s:s,s:s,s:b}", "title", M(r, "nat_stats_title"), "head", head,
				"rows", body, "sorts", sorts, "by_hall", by_hall, "by_department", !by_hall, "by", f.by,
				"sort", f.sort, "has_rows", f.n > 0);
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "federation/national_statistics", ctx);
}

const struct route nat_stats_routes[] = {
	{ HTTP_GET, "/federation/statistics", statistics_doc, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.statistics_doc" },
	{ HTTP_GET, "/api/v1/national/statistics", api_statistics, ROLE_PUBLIC, 0, "federation.national_statistics_api" },
	{ HTTP_GET, "/national/statistics", page_statistics, ROLE_PUBLIC, 0, "federation.national_statistics" },
	{ HTTP_GET, "/national/statistics/export", export, ROLE_PUBLIC, 0, "federation.national_statistics_export" },
};
const size_t nat_stats_routes_n = sizeof(nat_stats_routes) / sizeof(nat_stats_routes[0]);
