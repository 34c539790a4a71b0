/* stats_impl.h: what the files of src/stats share. */
#ifndef GH_STATS_IMPL_H
#define GH_STATS_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "stats/stats.h"

/* Metric names in stats_daily.metric. */
#define M_SUBMITTED "submitted"   /* applications submitted (by submission day; the workflow's submit counts it) */
#define M_CONCLUDED "concluded"   /* reached completed or denied (办结), by that day */
#define M_ON_TIME "on_time"       /* of those, concluded on or before the promised due day */
#define M_ONLINE "online"         /* of those, handled fully online (stats_fully_online) */
#define M_WORKDAYS "workdays"     /* of those, the sum of handling working days */
#define M_EVAL "eval"             /* evaluations given */
#define M_EVAL_BAD "eval_bad"     /* of those, bad reviews (levels 1 and 2) */
#define M_RECT_CLOSED "rect_closed" /* rectification tasks closed */
#define M_RECT_DONE "rect_done"   /* of those, rectified */
#define M_PAID "paid"             /* fees paid (payments confirmed), by the day paid */
#define M_PAID_FEN "paid_fen"     /* of those, the amount in fen */
#define M_REFUNDS "refunds"       /* refunds paid out, by the day the gateway paid them */
#define M_REFUNDED_FEN "refunded_fen" /* of those, the amount in fen */
#define M_REG_INDIVIDUAL "reg_individual"
#define M_REG_ENTERPRISE "reg_enterprise"
#define M_BK_BOOKED "bk_booked"     /* appointments booked (confirmed), by that day */
#define M_BK_ATTENDED "bk_attended" /* appointments checked in for a ticket */
#define M_BK_NOSHOW "bk_noshow"     /* appointments missed (no-shows) */
#define M_BK_SERVED "bk_served"     /* tickets served at a counter */
#define M_BK_CALLED "bk_called"     /* tickets called for the first time */
#define M_BK_WAIT "bk_wait_s"       /* of those, the seconds waited before the call */

/* The channels whose applications may count as handled fully online. */
bool stats_online_channel(const char *channel);
/* Whether state ends a case as concluded (办结): completed or denied. */
bool stats_concluded_state(const char *state);
/* Working days of handling: working days in (accepted_day, done_day] less paused ones, at
 * least 0; 0 when the clock never started. */
int stats_handling_workdays(const struct calendar *cal, int32_t accepted_day, int32_t done_day, int paused_workdays);

/* Adds value to one rollup row (an upsert). */
int stats_add(struct db *db, int32_t day, const char *department, const char *item_code, const char *channel,
	      const char *metric, int64_t value);

enum stats_period { PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH, PERIOD_YEAR };

/* A request for figures: days from..to inclusive, grouped into periods for the series. */
struct stats_range {
	int32_t from, to;
	enum stats_period period;
};
#define STATS_MAX_BUCKETS 400
#define STATS_MAX_DAYS (366 * 100)

/* Parses the query parameters from, to ("YYYY-MM-DD", either may be NULL) and period ("day",
 * "week", "month", "year"; NULL = month, or day for a range of at most 31 days when from/to
 * are given). Defaults: to = today, from = 1 January of to's year. Errors: GH_EINVAL with
 * *why_key set to a message key of the stats catalog (bad date, from after to, range too long,
 * too many periods for the grouping). Pure; the fuzz target calls it. */
int stats_parse_range(const char *from, const char *to, const char *period, int32_t today, struct stats_range *out,
		      const char **why_key);
const char *stats_period_name(enum stats_period p);
/* The first day of the period holding day, and the first day of the next one. */
int32_t stats_period_start(enum stats_period p, int32_t day);
int32_t stats_period_next(enum stats_period p, int32_t start);

struct stats_counts {
	int64_t submitted, concluded, on_time, online, workdays, evals, bad, rect_closed, rect_done;
	int64_t reg_individual, reg_enterprise;
	int64_t bk_booked, bk_attended, bk_noshow, bk_served, bk_called, bk_wait_s; /* src/booking */
	int64_t paid_fen, refunded_fen; /* fees collected and refunds paid out (src/pay) */
};
struct stats_row {
	const char *code, *name_zh, *name_en, *department; /* department: items only */
	struct stats_counts c;
};
struct stats_bucket {
	int32_t from, to;
	char label[16];
	struct stats_counts c;
};
struct stats_figures {
	struct stats_range range;
	struct stats_counts total;
	struct stats_row *channels, *departments, *items;
	size_t nchannels, ndepartments, nitems;
	struct stats_bucket *series;
	size_t nseries;
	int64_t registered_individual, registered_enterprise; /* all accounts up to range.to */
	/* What the workflow's counting actions added (cases/workflow.h, counts), by the index of
	 * the first action naming each metric. */
	int64_t counted[64];
};

/* The rollups of the days from..to summed (running.c): by dimensions (sorted by item,
 * department, channel, metric: strcmp; none whose sum is zero) and by day and metric (sorted by
 * day, metric). The days between two ends of summed weeks are read as the difference of their
 * running totals (stats_running) and from stats_day_totals, the other days from stats_daily. Everything lives in a. */
struct stats_dim_sum {
	const char *item, *department, *channel, *metric;
	int64_t value;
};
struct stats_day_sum {
	int32_t day;
	const char *metric;
	int64_t value;
};
int stats_sums(struct db *db, struct arena *a, int32_t from, int32_t to, struct stats_dim_sum **dims, size_t *ndims,
	       struct stats_day_sum **days, size_t *ndays);
/* Before a rollup is written for day: when day's week (one before today's) or a later one is
 * summed, drops that week and every later one (their running totals include day), so figures
 * read those days from stats_daily until they are summed again. Inside the writer's
 * transaction. */
int stats_running_touch(struct db *db, int32_t day, int32_t today);

/* Reads the figures of range from the rollups (stats_sums, the registrations up to its end,
 * and the names of departments and items). Everything lives in a. */
int stats_figures(struct db *db, struct arena *a, const struct stats_range *range, struct stats_figures *out);
/* The figures as the JSON of /api/v1/stats (documented in docs/api.md). lang picks names. */
json_t *stats_figures_json(const struct stats_figures *f, const char *lang);

/* Rates: NAN-free; *ok false when the denominator is 0. */
double stats_rate(int64_t num, int64_t den, bool *ok);

/* Charts (svg.c): accessible SVG appended to out. id: unique on the page (for
 * aria-labelledby). Labels and values are escaped here. */
struct sb;
struct stats_series_def {
	const char *name;
	const double *values;
};
void stats_svg_bars(struct sb *out, const char *id, const char *title, const char *desc, const char **labels,
		    const double *values, size_t n);
void stats_svg_lines(struct sb *out, const char *id, const char *title, const char *desc, const char **labels,
		     size_t n, const struct stats_series_def *series, size_t nseries);

/* Builds table name of f in lang; GH_ENOTFOUND for an unknown name. msg looks up messages. */
int stats_table(struct arena *a, const struct stats_figures *f, const char *name, const char *lang,
		const char *(*msg)(void *ctx, const char *key), void *msgctx, struct stats_table *out);
extern const char *const stats_table_names[];
extern const size_t stats_table_names_n;


#endif
