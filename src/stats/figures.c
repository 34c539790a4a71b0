/* figures.c: date ranges and periods, and the figures of a range read from the rollups. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/util.h"
#include "cases/workflow.h"
#include "stats/stats_impl.h"
#include "store/db.h"

static const char *const period_names[] = { "day", "week", "month", "year" };

const char *stats_period_name(enum stats_period p)
{
	return period_names[p];
}

int32_t stats_period_start(enum stats_period p, int32_t day)
{
	int y, m, d;
	switch (p) {
	case PERIOD_DAY:
		return day;
	case PERIOD_WEEK:
		return day - calendar_weekday(day);
	case PERIOD_MONTH:
		calendar_ymd(day, &y, &m, &d);
		return calendar_day(y, m, 1);
	case PERIOD_YEAR:
		calendar_ymd(day, &y, &m, &d);
		return calendar_day(y, 1, 1);
	}
	return day;
}

int32_t stats_period_next(enum stats_period p, int32_t start)
{
	int y, m, d;
	switch (p) {
	case PERIOD_DAY:
		return start + 1;
	case PERIOD_WEEK:
		return start + 7;
	case PERIOD_MONTH:
		calendar_ymd(start, &y, &m, &d);
		return m == 12 ? calendar_day(y + 1, 1, 1) : calendar_day(y, m + 1, 1);
	case PERIOD_YEAR:
		calendar_ymd(start, &y, &m, &d);
		return calendar_day(y + 1, 1, 1);
	}
	return start + 1;
}

static int parse_day(const char *s, int32_t *out)
{
	/* Years 1900..9998: far enough either way, and every period's next start stays valid. */
	if (calendar_parse_day(s, strlen(s), out) || *out < calendar_day(1900, 1, 1) || *out > calendar_day(9998, 12, 31))
		return -1;
	return 0;
}

int stats_parse_range(const char *from, const char *to, const char *period, int32_t today, struct stats_range *out,
		      const char **why)
{
	struct stats_range r = { 0 };
	*why = NULL;
	if (from && !*from)
		from = NULL;
	if (to && !*to)
		to = NULL;
	if (period && !*period)
		period = NULL;
	if (to) {
		if (parse_day(to, &r.to)) {
			*why = "stats_err_date";
			return GH_EINVAL;
		}
	} else {
		r.to = today;
	}
	if (from) {
		if (parse_day(from, &r.from)) {
			*why = "stats_err_date";
			return GH_EINVAL;
		}
	} else {
		r.from = stats_period_start(PERIOD_YEAR, r.to);
	}
	if (r.from > r.to) {
		*why = "stats_err_order";
		return GH_EINVAL;
	}
	if ((int64_t)r.to - r.from >= STATS_MAX_DAYS) {
		*why = "stats_err_long";
		return GH_EINVAL;
	}
	if (period) {
		size_t i;
		for (i = 0; i < 4 && strcmp(period, period_names[i]) != 0; i++)
			;
		if (i == 4) {
			*why = "stats_err_period";
			return GH_EINVAL;
		}
		r.period = (enum stats_period)i;
	} else {
		r.period = r.to - r.from < 31 ? PERIOD_DAY : r.to - r.from < 7 * 60 ? PERIOD_MONTH : PERIOD_YEAR;
		if (r.period == PERIOD_MONTH && r.to - r.from < 92)
			r.period = PERIOD_WEEK;
	}
	int64_t buckets = 0;
	for (int32_t d = stats_period_start(r.period, r.from); d <= r.to; d = stats_period_next(r.period, d))
		if (++buckets > STATS_MAX_BUCKETS) {
			*why = "stats_err_buckets";
			return GH_EINVAL;
		}
	*out = r;
	return 0;
}

double stats_rate(int64_t num, int64_t den, bool *ok)
{
	*ok = den > 0;
	return den > 0 ? (double)num / (double)den : 0.0;
}

/* Registered users as of a day: the registration rollups from the first day on (one row per
 * day and kind, read by the partial index stats_daily_plain). */
DB_SQL(q_registered, "SELECT metric, SUM(value) FROM stats_daily WHERE day <= ? AND metric IN ('reg_individual', "
		     "'reg_enterprise') AND department = '' AND item_code = '' AND channel = '' GROUP BY metric");
DB_SQL(q_departments, "SELECT code, name_zh, name_en FROM departments ORDER BY code");
DB_SQL(q_items, "SELECT code, name_zh, name_en, department FROM service_items WHERE is_current = 1 ORDER BY code");

/* The first workflow action counting metric m, or -1. */
static int counting_action(const char *m)
{
	for (size_t k = 0; k < wf_actions_n && k < ARRAY_LEN(((struct stats_figures *)0)->counted); k++)
		if (wf_actions[k].counts && !strcmp(wf_actions[k].counts, m))
			return (int)k;
	return -1;
}

static void add_counted(struct stats_figures *f, const char *m, int64_t v)
{
	int k = counting_action(m);
	if (k >= 0)
		f->counted[k] += v;
}

/* {metric: n} of what the workflow's actions count. */
static json_t *counted_json(const struct stats_figures *f)
{
	json_t *o = json_object();
	for (size_t k = 0; k < wf_actions_n && k < ARRAY_LEN(f->counted); k++)
		if (wf_actions[k].counts && counting_action(wf_actions[k].counts) == (int)k)
			json_object_set_new(o, wf_actions[k].counts, json_integer((json_int_t)f->counted[k]));
	return o;
}

static void add_metric(struct stats_counts *c, const char *m, int64_t v)
{
	if (!strcmp(m, M_SUBMITTED))
		c->submitted += v;
	else if (!strcmp(m, M_CONCLUDED))
		c->concluded += v;
	else if (!strcmp(m, M_ON_TIME))
		c->on_time += v;
	else if (!strcmp(m, M_ONLINE))
		c->online += v;
	else if (!strcmp(m, M_WORKDAYS))
		c->workdays += v;
	else if (!strcmp(m, M_EVAL))
		c->evals += v;
	else if (!strcmp(m, M_EVAL_BAD))
		c->bad += v;
	else if (!strcmp(m, M_RECT_CLOSED))
		c->rect_closed += v;
	else if (!strcmp(m, M_RECT_DONE))
		c->rect_done += v;
	else if (!strcmp(m, M_REG_INDIVIDUAL))
		c->reg_individual += v;
	else if (!strcmp(m, M_REG_ENTERPRISE))
		c->reg_enterprise += v;
	else if (!strcmp(m, M_BK_BOOKED))
		c->bk_booked += v;
	else if (!strcmp(m, M_BK_ATTENDED))
		c->bk_attended += v;
	else if (!strcmp(m, M_BK_NOSHOW))
		c->bk_noshow += v;
	else if (!strcmp(m, M_BK_SERVED))
		c->bk_served += v;
	else if (!strcmp(m, M_BK_CALLED))
		c->bk_called += v;
	else if (!strcmp(m, M_BK_WAIT))
		c->bk_wait_s += v;
	else if (!strcmp(m, M_PAID_FEN))
		c->paid_fen += v;
	else if (!strcmp(m, M_REFUNDED_FEN))
		c->refunded_fen += v;
}

static const char *const channel_order[] = { "web", "app", "miniprogram", "open311", "kiosk", "counter" };

static int cmp_rows(const void *pa, const void *pb)
{
	const struct stats_row *a = pa, *b = pb;
	if (a->c.submitted != b->c.submitted)
		return a->c.submitted > b->c.submitted ? -1 : 1;
	if (a->c.evals != b->c.evals)
		return a->c.evals > b->c.evals ? -1 : 1;
	return strcmp(a->code, b->code);
}

static int cmp_code(const void *pa, const void *pb)
{
	return strcmp(((const struct stats_row *)pa)->code, ((const struct stats_row *)pb)->code);
}

static struct stats_row *find_row(struct stats_row *v, size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].code, code))
			return &v[i];
	return NULL;
}

int stats_figures(struct db *db, struct arena *a, const struct stats_range *range, struct stats_figures *out)
{
	memset(out, 0, sizeof(*out));
	out->range = *range;
	struct db_rows depts, items;
	struct stats_dim_sum *dims;
	struct stats_day_sum *days;
	size_t ndims, ndays;
	int rc = stats_sums(db, a, range->from, range->to, &dims, &ndims, &days, &ndays);
	if (!rc)
		rc = db_query(db, a, &q_departments, DB_NOARGS, &depts);
	if (!rc)
		rc = db_query(db, a, &q_items, DB_NOARGS, &items);
	struct db_rows regs;
	if (!rc)
		rc = db_query(db, a, &q_registered, DB_ARGS(DB_INT(range->to)), &regs);
	if (rc)
		return rc;
	for (size_t i = 0; i < regs.nrows; i++) {
		if (!strcmp(db_cell(&regs, i, 0), M_REG_INDIVIDUAL))
			out->registered_individual = db_cell_int(&regs, i, 1);
		else
			out->registered_enterprise = db_cell_int(&regs, i, 1);
	}
	/* Channels: every known one, in a fixed order, zero or not. */
	out->nchannels = sizeof(channel_order) / sizeof(channel_order[0]);
	out->channels = arena_array(a, out->nchannels, sizeof(struct stats_row));
	for (size_t i = 0; i < out->nchannels; i++)
		out->channels[i].code = channel_order[i];
	/* Departments: every department of the catalog, plus any the rollups name. */
	out->departments = arena_array(a, depts.nrows + ndims + 1, sizeof(struct stats_row));
	for (size_t i = 0; i < depts.nrows; i++) {
		struct stats_row *d = &out->departments[out->ndepartments++];
		d->code = db_cell(&depts, i, 0);
		d->name_zh = db_cell(&depts, i, 1);
		d->name_en = db_cell(&depts, i, 2);
	}
	out->items = arena_array(a, ndims + 1, sizeof(struct stats_row));
	/* The catalog's items by code in strcmp's order (the sums' order, whatever the database's
	 * collation). */
	struct stats_row *names = arena_array(a, items.nrows + 1, sizeof(*names));
	for (size_t i = 0; i < items.nrows; i++)
		names[i] = (struct stats_row){ .code = db_cell(&items, i, 0), .name_zh = db_cell(&items, i, 1),
					       .name_en = db_cell(&items, i, 2) };
	qsort(names, items.nrows, sizeof(*names), cmp_code);
	for (size_t i = 0; i < ndims; i++) {
		const char *item = dims[i].item, *dept = dims[i].department, *ch = dims[i].channel;
		const char *m = dims[i].metric;
		int64_t v = dims[i].value;
		add_metric(&out->total, m, v);
		add_counted(out, m, v);
		if (*dept) {
			struct stats_row *d = find_row(out->departments, out->ndepartments, dept);
			if (!d) {
				d = &out->departments[out->ndepartments++];
				d->code = dept;
			}
			add_metric(&d->c, m, v);
		}
		if (*ch) {
			struct stats_row *c = find_row(out->channels, out->nchannels, ch);
			if (c)
				add_metric(&c->c, m, v);
		}
		if (*item) {
			struct stats_row *it = out->nitems ? &out->items[out->nitems - 1] : NULL;
			if (!it || strcmp(it->code, item) != 0) {
				it = &out->items[out->nitems++];
				it->code = item;
				it->department = dept;
				const struct stats_row key = { .code = item },
							*named = bsearch(&key, names, items.nrows, sizeof(*names), cmp_code);
				if (named) {
					it->name_zh = named->name_zh;
					it->name_en = named->name_en;
				}
			}
			add_metric(&it->c, m, v);
		}
	}
	qsort(out->departments, out->ndepartments, sizeof(struct stats_row), cmp_rows);
	qsort(out->items, out->nitems, sizeof(struct stats_row), cmp_rows);
	/* Series: one bucket per period from the period holding `from` to the one holding `to`,
	 * each clipped to the range. */
	size_t nb = 0;
	for (int32_t d = stats_period_start(range->period, range->from); d <= range->to;
	     d = stats_period_next(range->period, d))
		nb++;
	out->series = arena_array(a, nb ? nb : 1, sizeof(struct stats_bucket));
	for (int32_t d = stats_period_start(range->period, range->from); d <= range->to;
	     d = stats_period_next(range->period, d)) {
		struct stats_bucket *b = &out->series[out->nseries++];
		int32_t next = stats_period_next(range->period, d);
		b->from = d < range->from ? range->from : d;
		b->to = next - 1 > range->to ? range->to : next - 1;
		char day[11];
		calendar_format_day(d, day);
		if (range->period == PERIOD_MONTH)
			day[7] = 0;
		else if (range->period == PERIOD_YEAR)
			day[4] = 0;
		memcpy(b->label, day, strlen(day) + 1);
	}
	size_t bi = 0;
	for (size_t i = 0; i < ndays; i++) {
		int32_t day = days[i].day;
		while (bi < out->nseries && out->series[bi].to < day)
			bi++;
		if (bi == out->nseries)
			break;
		add_metric(&out->series[bi].c, days[i].metric, days[i].value);
	}
	return 0;
}

/* A rate rounded to 4 decimals, or null. */
static json_t *rate(int64_t num, int64_t den)
{
	bool ok;
	double r = stats_rate(num, den, &ok);
	return ok ? json_real(round(r * 10000.0) / 10000.0) : json_null();
}

static json_t *counts_json(const struct stats_counts *c, bool regs)
{
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "submitted", (json_int_t)c->submitted, "concluded",
			      (json_int_t)c->concluded, "on_time", (json_int_t)c->on_time, "online",
			      (json_int_t)c->online, "handling_workdays", (json_int_t)c->workdays, "evaluations",
			      (json_int_t)c->evals, "bad_reviews", (json_int_t)c->bad, "rectifications_closed",
			      (json_int_t)c->rect_closed, "rectified", (json_int_t)c->rect_done);
	json_object_set_new(o, "online_rate", rate(c->online, c->concluded));
	json_object_set_new(o, "on_time_rate", rate(c->on_time, c->concluded));
	bool ok;
	double avg = stats_rate(c->workdays, c->concluded, &ok);
	json_object_set_new(o, "average_workdays", ok ? json_real(round(avg * 100.0) / 100.0) : json_null());
	json_object_set_new(o, "satisfaction_rate", rate(c->evals - c->bad, c->evals));
	json_object_set_new(o, "rectification_rate", rate(c->rect_done, c->rect_closed));
	if (regs)
		json_object_set_new(o, "registrations",
				    json_pack("{s:I,s:I,s:I}", "individual", (json_int_t)c->reg_individual, "enterprise",
					      (json_int_t)c->reg_enterprise, "total",
					      (json_int_t)(c->reg_individual + c->reg_enterprise)));
	return o;
}

static json_t *rows_json(const struct stats_row *v, size_t n, const char *lang, bool names)
{
	json_t *arr = json_array();
	bool en = !strcmp(lang, "en");
	for (size_t i = 0; i < n; i++) {
		json_t *o = counts_json(&v[i].c, false);
		json_object_set_new(o, "code", json_string(v[i].code));
		if (names) {
			const char *name = en && v[i].name_en && *v[i].name_en ? v[i].name_en : v[i].name_zh;
			json_object_set_new(o, "name", name ? json_string(name) : json_null());
		}
		if (v[i].department)
			json_object_set_new(o, "department", json_string(v[i].department));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *stats_figures_json(const struct stats_figures *f, const char *lang)
{
	char from[11], to[11];
	calendar_format_day(f->range.from, from);
	calendar_format_day(f->range.to, to);
	json_t *o = json_object();
	json_object_set_new(o, "range", json_pack("{s:s,s:s,s:s}", "from", from, "to", to, "period",
						  stats_period_name(f->range.period)));
	json_object_set_new(o, "totals", counts_json(&f->total, true));
	json_object_set_new(json_object_get(o, "totals"), "counted", counted_json(f));
	json_object_set_new(o, "registered",
			    json_pack("{s:I,s:I,s:I,s:s}", "individual", (json_int_t)f->registered_individual, "enterprise",
				      (json_int_t)f->registered_enterprise, "total",
				      (json_int_t)(f->registered_individual + f->registered_enterprise), "as_of", to));
	json_object_set_new(o, "by_channel", rows_json(f->channels, f->nchannels, lang, false));
	json_object_set_new(o, "by_department", rows_json(f->departments, f->ndepartments, lang, true));
	json_object_set_new(o, "by_item", rows_json(f->items, f->nitems, lang, true));
	json_t *series = json_array();
	for (size_t i = 0; i < f->nseries; i++) {
		const struct stats_bucket *b = &f->series[i];
		calendar_format_day(b->from, from);
		calendar_format_day(b->to, to);
		json_t *s = counts_json(&b->c, true);
		json_object_set_new(s, "label", json_string(b->label));
		json_object_set_new(s, "from", json_string(from));
		json_object_set_new(s, "to", json_string(to));
		json_array_append_new(series, s);
	}
	json_object_set_new(o, "series", series);
	json_object_set_new(o, "definitions_href", json_string("/stats#definitions"));
	return o;
}
