/* tables.c: the figures as tables — the page shows them beside the charts, and the exports
 * write the very same cells. Rates are percentages with one decimal; an empty cell means
 * "nothing to divide by" (no concluded case, no evaluation in the range). */
#include <string.h>

#include "base/calendar.h"
#include "base/err.h"
#include "stats/stats_impl.h"
#include "view/view.h"

const char *const stats_table_names[] = { "overview", "channels", "departments", "items", "series" };
const size_t stats_table_names_n = sizeof(stats_table_names) / sizeof(stats_table_names[0]);

struct tb {
	struct arena *a;
	struct stats_table *t;
	size_t row, col;
	const char *(*msg)(void *, const char *);
	void *ctx;
};

static void head(struct tb *b, size_t n, const char *const *keys, const bool *numeric)
{
	b->t->ncols = n;
	b->t->head = arena_array(b->a, n, sizeof(char *));
	b->t->numeric = arena_array(b->a, n, sizeof(bool));
	for (size_t i = 0; i < n; i++) {
		b->t->head[i] = b->msg(b->ctx, keys[i]);
		b->t->numeric[i] = numeric[i];
	}
}

static void rows(struct tb *b, size_t n)
{
	b->t->nrows = n;
	b->t->cells = arena_array(b->a, n * b->t->ncols + 1, sizeof(char *));
	b->row = b->col = 0;
}

static void cell(struct tb *b, const char *s)
{
	b->t->cells[b->row * b->t->ncols + b->col] = s ? s : "";
	if (++b->col == b->t->ncols) {
		b->col = 0;
		b->row++;
	}
}

static void num(struct tb *b, int64_t v)
{
	cell(b, arena_printf(b->a, "%lld", (long long)v));
}

static void pct(struct tb *b, int64_t n, int64_t d)
{
	bool ok;
	double r = stats_rate(n, d, &ok);
	cell(b, ok ? arena_printf(b->a, "%.1f", r * 100.0) : "");
}

static void avg(struct tb *b, int64_t n, int64_t d)
{
	bool ok;
	double r = stats_rate(n, d, &ok);
	cell(b, ok ? arena_printf(b->a, "%.2f", r) : "");
}

static const char *const perf_keys[] = { N_("stats_col_submitted"), N_("stats_col_concluded"), N_("stats_col_on_time_rate"),
					 N_("stats_col_online_rate"), N_("stats_col_avg_workdays"), N_("stats_col_evaluations"),
					 N_("stats_col_satisfaction_rate"), N_("stats_col_bad"), N_("stats_col_rectification_rate"),
					 N_("stats_col_revenue"), N_("stats_col_refunded") };
#define NPERF 11

/* An amount of fen in yuan with two decimals. */
static void yuan(struct tb *b, int64_t fen)
{
	cell(b, arena_printf(b->a, "%s%lld.%02lld", fen < 0 ? "-" : "", (long long)(fen < 0 ? -fen : fen) / 100,
			     (long long)(fen < 0 ? -fen : fen) % 100));
}

static void perf(struct tb *b, const struct stats_counts *c)
{
	num(b, c->submitted);
	num(b, c->concluded);
	pct(b, c->on_time, c->concluded);
	pct(b, c->online, c->concluded);
	avg(b, c->workdays, c->concluded);
	num(b, c->evals);
	pct(b, c->evals - c->bad, c->evals);
	num(b, c->bad);
	pct(b, c->rect_done, c->rect_closed);
	yuan(b, c->paid_fen);
	yuan(b, c->refunded_fen);
}

static const char *pick(const char *lang, const char *zh, const char *en, const char *code)
{
	if (!strcmp(lang, "en") && en && *en)
		return en;
	return zh && *zh ? zh : code;
}

int stats_table(struct arena *a, const struct stats_figures *f, const char *name, const char *lang,
		const char *(*msg)(void *ctx, const char *key), void *msgctx, struct stats_table *out)
{
	memset(out, 0, sizeof(*out));
	struct tb b = { .a = a, .t = out, .msg = msg, .ctx = msgctx };
	bool numeric[NPERF + 2];
	const char *keys[NPERF + 2];
	out->name = name;
	if (!strcmp(name, "overview")) {
		static const char *const k[] = { "stats_col_indicator", "stats_col_value" };
		static const bool nm[] = { false, true };
		head(&b, 2, k, nm);
		rows(&b, 14);
		const struct stats_counts *c = &f->total;
		cell(&b, msg(msgctx, "stats_registered_individual"));
		num(&b, f->registered_individual);
		cell(&b, msg(msgctx, "stats_registered_enterprise"));
		num(&b, f->registered_enterprise);
		cell(&b, msg(msgctx, "stats_reg_individual"));
		num(&b, c->reg_individual);
		cell(&b, msg(msgctx, "stats_reg_enterprise"));
		num(&b, c->reg_enterprise);
		cell(&b, msg(msgctx, "stats_col_submitted"));
		num(&b, c->submitted);
		cell(&b, msg(msgctx, "stats_col_concluded"));
		num(&b, c->concluded);
		cell(&b, msg(msgctx, "stats_col_on_time_rate"));
		pct(&b, c->on_time, c->concluded);
		cell(&b, msg(msgctx, "stats_col_online_rate"));
		pct(&b, c->online, c->concluded);
		cell(&b, msg(msgctx, "stats_col_avg_workdays"));
		avg(&b, c->workdays, c->concluded);
		cell(&b, msg(msgctx, "stats_col_evaluations"));
		num(&b, c->evals);
		cell(&b, msg(msgctx, "stats_col_satisfaction_rate"));
		pct(&b, c->evals - c->bad, c->evals);
		cell(&b, msg(msgctx, "stats_col_bad"));
		num(&b, c->bad);
		cell(&b, msg(msgctx, "stats_col_rectified"));
		num(&b, c->rect_done);
		cell(&b, msg(msgctx, "stats_col_rectification_rate"));
		pct(&b, c->rect_done, c->rect_closed);
		return 0;
	}
	if (!strcmp(name, "channels")) {
		static const char *const k[] = { "stats_col_channel", "stats_col_submitted", "stats_col_concluded",
						 "stats_col_online", "stats_col_online_rate", "stats_col_evaluations" };
		static const bool nm[] = { false, true, true, true, true, true };
		head(&b, 6, k, nm);
		rows(&b, f->nchannels);
		for (size_t i = 0; i < f->nchannels; i++) {
			const struct stats_row *r = &f->channels[i];
			cell(&b, msg(msgctx, arena_printf(a, "stats_channel_%s", r->code)));
			num(&b, r->c.submitted);
			num(&b, r->c.concluded);
			num(&b, r->c.online);
			pct(&b, r->c.online, r->c.concluded);
			num(&b, r->c.evals);
		}
		return 0;
	}
	if (!strcmp(name, "departments") || !strcmp(name, "items")) {
		bool items = !strcmp(name, "items");
		size_t lead = items ? 2 : 1;
		keys[0] = items ? "stats_col_item_code" : "stats_col_department";
		keys[1] = "stats_col_item";
		numeric[0] = numeric[1] = false;
		for (size_t i = 0; i < NPERF; i++) {
			keys[lead + i] = perf_keys[i];
			numeric[lead + i] = true;
		}
		head(&b, lead + NPERF, keys, numeric);
		size_t n = items ? f->nitems : f->ndepartments;
		const struct stats_row *v = items ? f->items : f->departments;
		rows(&b, n);
		for (size_t i = 0; i < n; i++) {
			if (items)
				cell(&b, v[i].code);
			cell(&b, pick(lang, v[i].name_zh, v[i].name_en, v[i].code));
			perf(&b, &v[i].c);
		}
		return 0;
	}
	if (!strcmp(name, "series")) {
		static const char *const k[] = { "stats_col_period", "stats_col_registrations", "stats_col_submitted",
						 "stats_col_concluded", "stats_col_on_time_rate", "stats_col_online_rate",
						 "stats_col_evaluations", "stats_col_bad" };
		static const bool nm[] = { false, true, true, true, true, true, true, true };
		head(&b, 8, k, nm);
		rows(&b, f->nseries);
		for (size_t i = 0; i < f->nseries; i++) {
			const struct stats_bucket *s = &f->series[i];
			cell(&b, s->label);
			num(&b, s->c.reg_individual + s->c.reg_enterprise);
			num(&b, s->c.submitted);
			num(&b, s->c.concluded);
			pct(&b, s->c.on_time, s->c.concluded);
			pct(&b, s->c.online, s->c.concluded);
			num(&b, s->c.evals);
			num(&b, s->c.bad);
		}
		return 0;
	}
	return GH_ENOTFOUND;
}
