/* pages.c: /stats (the public statistics page), /api/v1/stats (its JSON) and the exports.
 * Parameters read: from, to, period (all pages); table, format (exports); nothing else. */
#include <string.h>

#include "app.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "http/http.h"
#include "http/router.h"
#include "stats/stats_impl.h"
#include "view/view.h"
#include "http/msg.h"

#define EXPORT_MAX (8u << 20) /* bytes of one exported table */

static const char *msg_of(void *ctx, const char *key)
{
	struct req *r = ctx;
	return view_msg(r->app->view, r->lang, key);
}

static int read_range(struct req *r, struct stats_range *range)
{
	const char *why;
	int rc = stats_parse_range(req_query(r, "from"), req_query(r, "to"), req_query(r, "period"),
				   calendar_day_of(time(NULL)), range, &why);
	if (rc)
		req_error_detail(r, "%s", msg_of(r, why));
	return rc;
}

static int load(struct req *r, struct stats_range *range, struct stats_figures *f)
{
	int rc = read_range(r, range);
	if (!rc)
		rc = stats_figures(r->db, r->arena, range, f);
	return rc;
}

static int api_stats(struct req *r)
{
	struct stats_range range;
	struct stats_figures f;
	int rc = load(r, &range, &f);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "public, max-age=60");
	return resp_json(r, 200, stats_figures_json(&f, r->lang));
}

/* "from=...&to=...&period=..." of a range, for links. */
static const char *range_query(struct req *r, const struct stats_range *g)
{
	char from[11], to[11];
	calendar_format_day(g->from, from);
	calendar_format_day(g->to, to);
	return arena_printf(r->arena, "from=%s&to=%s&period=%s", from, to, stats_period_name(g->period));
}

static json_t *table_json(struct req *r, const struct stats_table *t, const char *q, const char *chart)
{
	json_t *head = json_array(), *rows = json_array();
	for (size_t c = 0; c < t->ncols; c++)
		json_array_append_new(head, json_pack("{s:s,s:b}", "text", t->head[c], "num", t->numeric[c]));
	for (size_t i = 0; i < t->nrows; i++) {
		json_t *cells = json_array();
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[i * t->ncols + c];
			json_array_append_new(cells, json_pack("{s:s,s:b,s:b}", "text", *s ? s : "—", "num", t->numeric[c],
							       "first", c == 0));
		}
		json_array_append_new(rows, json_pack("{s:o}", "cells", cells));
	}
	json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:b}", "id", t->name, "caption",
			      msg_of(r, arena_printf(r->arena, "stats_table_%s", t->name)), "head", head, "rows", rows,
			      "csv_href", arena_printf(r->arena, "/stats/export?table=%s&format=csv&%s", t->name, q),
			      "xlsx_href", arena_printf(r->arena, "/stats/export?table=%s&format=xlsx&%s", t->name, q),
			      "empty", t->nrows == 0);
	if (chart)
		json_object_set_new(o, "chart", json_string(chart));
	return o;
}

static const char *bars(struct req *r, const char *id, const char *title_key, const struct stats_row *v, size_t n,
			bool channel)
{
	size_t k = n > 15 ? 15 : n;
	const char **labels = arena_array(r->arena, k + 1, sizeof(char *));
	double *values = arena_array(r->arena, k + 1, sizeof(double));
	bool en = !strcmp(r->lang, "en");
	struct sb desc = SB_INIT;
	for (size_t i = 0; i < k; i++) {
		if (channel)
			labels[i] = msg_of(r, arena_printf(r->arena, "stats_channel_%s", v[i].code));
		else
			labels[i] = en && v[i].name_en && *v[i].name_en ? v[i].name_en : v[i].name_zh ? v[i].name_zh : v[i].code;
		values[i] = (double)v[i].c.submitted;
		sb_addf(&desc, "%s%s: %lld", i ? (M(r, "stats_text")) : "", labels[i], (long long)v[i].c.submitted);
	}
	struct sb out = SB_INIT;
	stats_svg_bars(&out, id, msg_of(r, title_key), desc.len ? desc.buf : msg_of(r, "stats_no_data"), labels, values,
		       k);
	sb_release(&desc);
	char *s = arena_strndup(r->arena, out.buf, out.len);
	sb_release(&out);
	return s;
}

static const char *lines(struct req *r, const struct stats_figures *f)
{
	size_t n = f->nseries;
	const char **labels = arena_array(r->arena, n + 1, sizeof(char *));
	double *sub = arena_array(r->arena, n + 1, sizeof(double)), *conc = arena_array(r->arena, n + 1, sizeof(double));
	double *regs = arena_array(r->arena, n + 1, sizeof(double));
	for (size_t i = 0; i < n; i++) {
		labels[i] = f->series[i].label;
		sub[i] = (double)f->series[i].c.submitted;
		conc[i] = (double)f->series[i].c.concluded;
		regs[i] = (double)(f->series[i].c.reg_individual + f->series[i].c.reg_enterprise);
	}
	struct stats_series_def s[] = { { msg_of(r, "stats_col_submitted"), sub },
					{ msg_of(r, "stats_col_concluded"), conc },
					{ msg_of(r, "stats_col_registrations"), regs } };
	struct sb out = SB_INIT;
	const char *desc = arena_printf(r->arena, "%s %s – %s", msg_of(r, "stats_chart_series_desc"), labels[0],
					labels[n - 1]);
	stats_svg_lines(&out, "chart-series", msg_of(r, "stats_chart_series"), desc, labels, n, s, 3);
	char *str = arena_strndup(r->arena, out.buf, out.len);
	sb_release(&out);
	return str;
}

static json_t *preset(struct req *r, const char *key, int32_t from, int32_t to, enum stats_period p,
		      const struct stats_range *cur)
{
	struct stats_range g = { from, to, p };
	return json_pack("{s:s,s:s,s:b}", "label", msg_of(r, key), "href",
			 arena_printf(r->arena, "/stats?%s", range_query(r, &g)), "current",
			 cur->from == from && cur->to == to && cur->period == p);
}

static int page_stats(struct req *r)
{
	struct stats_range range;
	struct stats_figures f;
	int rc = load(r, &range, &f);
	if (rc)
		return rc;
	const char *q = range_query(r, &range);
	json_t *ctx = json_object();
	json_object_set_new(ctx, "title", json_string(msg_of(r, "stats_title")));
	json_object_set_new(ctx, "nav_stats", json_true());
	json_object_set_new(ctx, "lang_href",
			    json_string(arena_printf(r->arena, "/stats?%s&lang=%s", q, strcmp(r->lang, "en") ? "en" : "zh")));
	char from[11], to[11];
	calendar_format_day(range.from, from);
	calendar_format_day(range.to, to);
	json_object_set_new(ctx, "from", json_string(from));
	json_object_set_new(ctx, "to", json_string(to));
	json_object_set_new(ctx, "json_href", json_string(arena_printf(r->arena, "/api/v1/stats?%s", q)));
	json_t *periods = json_array();
	for (int p = PERIOD_DAY; p <= PERIOD_YEAR; p++)
		json_array_append_new(periods, json_pack("{s:s,s:s,s:b}", "value", stats_period_name(p), "label",
							 msg_of(r, arena_printf(r->arena, "stats_period_%s",
										stats_period_name(p))),
							 "selected", (int)range.period == p));
	json_object_set_new(ctx, "periods", periods);
	int32_t today = calendar_day_of(time(NULL));
	json_t *presets = json_array();
	json_array_append_new(presets, preset(r, "stats_preset_today", today, today, PERIOD_DAY, &range));
	json_array_append_new(presets, preset(r, "stats_preset_week", stats_period_start(PERIOD_WEEK, today), today,
					      PERIOD_DAY, &range));
	json_array_append_new(presets, preset(r, "stats_preset_month", stats_period_start(PERIOD_MONTH, today), today,
					      PERIOD_DAY, &range));
	json_array_append_new(presets, preset(r, "stats_preset_year", stats_period_start(PERIOD_YEAR, today), today,
					      PERIOD_MONTH, &range));
	json_object_set_new(ctx, "presets", presets);
	/* Headline figures. */
	const struct stats_counts *c = &f.total;
	bool ok;
	double v;
	json_t *cards = json_array();
#define CARD(key, text) json_array_append_new(cards, json_pack("{s:s,s:s}", "label", msg_of(r, key), "value", text))
	CARD("stats_registered_individual", arena_printf(r->arena, "%lld", (long long)f.registered_individual));
	CARD("stats_registered_enterprise", arena_printf(r->arena, "%lld", (long long)f.registered_enterprise));
	CARD("stats_reg_individual", arena_printf(r->arena, "%lld", (long long)c->reg_individual));
	CARD("stats_reg_enterprise", arena_printf(r->arena, "%lld", (long long)c->reg_enterprise));
	CARD("stats_col_submitted", arena_printf(r->arena, "%lld", (long long)c->submitted));
	v = stats_rate(c->online, c->concluded, &ok);
	CARD("stats_col_online_rate", ok ? arena_printf(r->arena, "%.1f%%", v * 100) : "—");
	v = stats_rate(c->on_time, c->concluded, &ok);
	CARD("stats_col_on_time_rate", ok ? arena_printf(r->arena, "%.1f%%", v * 100) : "—");
	v = stats_rate(c->workdays, c->concluded, &ok);
	CARD("stats_col_avg_workdays", ok ? arena_printf(r->arena, "%.2f", v) : "—");
	v = stats_rate(c->evals - c->bad, c->evals, &ok);
	CARD("stats_col_satisfaction_rate", ok ? arena_printf(r->arena, "%.1f%%", v * 100) : "—");
	v = stats_rate(c->rect_done, c->rect_closed, &ok);
	CARD("stats_col_rectification_rate", ok ? arena_printf(r->arena, "%.1f%%", v * 100) : "—");
	/* Appointments and queueing: visits booked, the share of booked visits missed, the mean wait
	 * from the ticket (or a booked ticket's slot) to its first call. */
	CARD(N_("booking_stats_booked"), arena_printf(r->arena, "%lld", (long long)c->bk_booked));
	v = stats_rate(c->bk_noshow, c->bk_noshow + c->bk_attended, &ok);
	CARD(N_("booking_stats_noshow_rate"), ok ? arena_printf(r->arena, "%.1f%%", v * 100) : "—");
	v = stats_rate(c->bk_wait_s, c->bk_called, &ok);
	CARD(N_("booking_stats_avg_wait"), ok ? arena_printf(r->arena, "%.1f", v / 60) : "—");
	CARD(N_("booking_stats_served"), arena_printf(r->arena, "%lld", (long long)c->bk_served));
#undef CARD
	json_object_set_new(ctx, "cards", cards);
	json_t *tables = json_array();
	for (size_t i = 0; i < stats_table_names_n; i++) {
		struct stats_table t;
		if ((rc = stats_table(r->arena, &f, stats_table_names[i], r->lang, msg_of, r, &t))) {
			json_decref(ctx);
			json_decref(tables);
			return rc;
		}
		const char *chart = NULL;
		if (!strcmp(t.name, "channels"))
			chart = bars(r, "chart-channels", "stats_chart_channels", f.channels, f.nchannels, true);
		else if (!strcmp(t.name, "departments"))
			chart = bars(r, "chart-departments", "stats_chart_departments", f.departments, f.ndepartments, false);
		else if (!strcmp(t.name, "series"))
			chart = lines(r, &f);
		json_array_append_new(tables, table_json(r, &t, q, chart));
	}
	json_object_set_new(ctx, "tables", tables);
	return resp_page(r, 200, "stats/index", ctx);
}

static int export_table(struct req *r)
{
	const char *table = req_query(r, "table"), *format = req_query(r, "format");
	bool xlsx = format && !strcmp(format, "xlsx");
	if (!format || (!xlsx && strcmp(format, "csv") != 0)) {
		req_error_detail(r, "%s", msg_of(r, "stats_err_format"));
		return GH_EINVAL;
	}
	size_t i;
	for (i = 0; table && i < stats_table_names_n && strcmp(table, stats_table_names[i]) != 0; i++)
		;
	if (!table || i == stats_table_names_n) {
		req_error_detail(r, "%s", msg_of(r, "stats_err_table"));
		return GH_EINVAL;
	}
	struct stats_range range;
	struct stats_figures f;
	int rc = load(r, &range, &f);
	struct stats_table t;
	if (!rc)
		rc = stats_table(r->arena, &f, stats_table_names[i], r->lang, msg_of, r, &t);
	if (rc)
		return rc;
	char from[11], to[11];
	calendar_format_day(range.from, from);
	calendar_format_day(range.to, to);
	return stats_send_table(r, &t, xlsx, arena_printf(r->arena, "govhall-%s-%s-%s", t.name, from, to));
}

int stats_send_table(struct req *r, const struct stats_table *t, bool xlsx, const char *filename)
{
	int rc;
	const char *disposition =
		arena_printf(r->arena, "attachment; filename=\"%s.%s\"", filename, xlsx ? "xlsx" : "csv");
	if (xlsx) {
		char *data;
		size_t len;
		if ((rc = stats_xlsx(r->arena, t, EXPORT_MAX, &data, &len)))
			return rc;
		resp_header(r, "Content-Disposition", disposition);
		return resp_body(r, 200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data, len);
	}
	struct sb out = SB_INIT;
	sb_set_cap(&out, EXPORT_MAX);
	if ((rc = stats_csv(t, &out))) {
		sb_release(&out);
		return rc;
	}
	resp_header(r, "Content-Disposition", disposition);
	rc = resp_body(r, 200, "text/csv; charset=utf-8", out.buf, out.len);
	sb_release(&out);
	return rc;
}

static const struct route stats_routes[] = {
	{ HTTP_GET, "/stats", page_stats, ROLE_PUBLIC, 0, "stats.page" },
	{ HTTP_GET, "/stats/export", export_table, ROLE_PUBLIC, 0, "stats.export" },
	{ HTTP_GET, "/api/v1/stats", api_stats, ROLE_PUBLIC, 0, "stats.api" },
	{ HTTP_GET, "/api/v1/stats/export", export_table, ROLE_PUBLIC, 0, "stats.api_export" },
};

int stats_add_routes(struct router *rt)
{
	return router_add(rt, stats_routes, ARRAY_LEN(stats_routes)) ? GH_EINVAL : 0;
}
