/* stats.h: public supervision (社会监督) — statistics kept as daily rollups, the public
 * statistics page and its JSON, SVG charts, CSV and XLSX exports.
 *
 * Invariants:
 * - Figures are read from the table stats_daily (one row per day, department, item, channel
 *   and metric) and, for weeks that have ended, from their running totals (running.c), never
 *   by scanning applications or accounts per page view. Every write of stats_daily goes
 *   through stats_add (which drops a summed week it writes into, and every later one), is of
 *   the day it happens (the registration trigger), or is followed by stats_running_clear (a
 *   rebuild, the generators of past days).
 * - Every rollup row changes in the same transaction as the event it counts: application
 *   transitions through the cases observer (stats_init registers it), registrations through a
 *   database trigger on accounts (migration 0009), evaluations and rectifications through
 *   stats_evaluation / stats_rectification, which their caller runs inside its own
 *   transaction. So the figures survive restarts and never count an event that rolled back.
 * - Days are China Standard Time day numbers (base/calendar.h), of the moment of the event.
 */
#ifndef GH_STATS_H
#define GH_STATS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"

#include "app.h"

struct db;
struct arena;
struct router;
struct calendar;

/* Registers the transition observer (cases_observe) and keeps app for its calendar. Call
 * once at start, before any transition. */
int stats_init(struct app *app);
/* The duty "statistics" of a serving node: sums the weeks that have ended (running.c), an
 * hour apart and at start. */
int stats_start(struct app *app, char *err, size_t errlen);
void stats_stop(void);
/* Forgets every week summed (a rebuild of stats_daily, or a generator that wrote rollups of
 * past days directly): the duty sums them again. Inside the caller's transaction. */
int stats_running_clear(struct db *db);
/* Sums up to max weeks that have ended (before today's week) and are not summed yet, in order
 * from the first not summed, each in a transaction of its own (not inside the caller's):
 * *summed of them; *more when others wait. What the duty runs; the generators run it to the end. */
int stats_running_sum(struct db *db, int32_t today, int max, int *summed, bool *more);
int stats_add_routes(struct router *rt);

/* One evaluation (好差评) of a case handled by department for item_code (either may be "" when
 * not about an item, e.g. a complaint), given through channel ("web", "app", "kiosk",
 * "counter"...), at level 5 (非常满意) .. 1 (非常不满意), on day; bad = level <= 2 (a bad
 * review). Adds to the rollups; call it inside the transaction that records the evaluation.
 * GH_EINVAL for a level outside 1..5 or a bad that disagrees with it. */
int stats_evaluation(struct db *db, struct arena *a, const char *department, const char *item_code,
		     const char *channel, int level, int32_t day, bool bad);

/* Takes one evaluation given with stats_evaluation out of the rollups again (an appeal against
 * it was upheld: the review no longer counts): the same arguments as the call that added it.
 * Inside the caller's transaction. GH_EINVAL as stats_evaluation. */
int stats_evaluation_exclude(struct db *db, struct arena *a, const char *department, const char *item_code,
			     const char *channel, int level, int32_t day, bool bad);

/* One rectification task (整改) closed on day: rectified = the citizen's problem was fixed
 * (the task was completed), false = closed without a fix (e.g. overdue and closed, or an
 * appeal upheld is not counted at all — do not call). Inside the caller's transaction. */
int stats_rectification(struct db *db, struct arena *a, const char *department, const char *item_code, int32_t day,
			bool rectified);

/* The rollup rows one application step adds (what the cases observer writes): add(ctx, day,
 * metric, value) for each, in the step's department, item and channel. counter_steps: whether
 * a counter clerk submitted or resupplied its material (an online application that needed a
 * counter is not counted as handled online). Stops at and returns add's first non-zero
 * result. For bulk writers (`govhall bench-scale`) too. */
struct case_change;
int stats_case_figures(const struct case_change *c, const struct calendar *cal, bool counter_steps,
		       int (*add)(void *ctx, int32_t day, const char *metric, int64_t value), void *ctx);
/* Appointments and queueing (src/booking): adds n to metric on day for department, item and
 * channel, inside the caller's transaction. Metrics: "bk_booked" (bookings confirmed),
 * "bk_attended" (checked in for a ticket), "bk_noshow" (no-shows), "bk_served" (tickets
 * served), "bk_called" (tickets called for the first time) and "bk_wait_s" (their seconds of
 * waiting, from the ticket, or from the start of a booked ticket's slot, to the call).
 * GH_EINVAL for another metric. */
int stats_count(struct db *db, struct arena *a, int32_t day, const char *department, const char *item_code,
		const char *channel, const char *metric, int64_t n);
/* One fee paid (a payment the gateway confirmed) of fen for item_code of department, on day;
 * and one refund paid out of fen. Inside the caller's transaction (src/pay). GH_EINVAL for an
 * amount below 1. */
int stats_payment(struct db *db, struct arena *a, const char *department, const char *item_code, const char *channel,
		  int32_t day, int64_t fen);
int stats_refund(struct db *db, struct arena *a, const char *department, const char *item_code, const char *channel,
		 int32_t day, int64_t fen);

/* Tables, shared by the statistics page, its CSV and XLSX, and other domains' reports (the
 * payments' reconciliation). */
struct stats_table {
	const char *name;     /* "overview", "channels", "departments", "items", "series" */
	size_t ncols, nrows;
	const char **head;    /* ncols headers */
	const char **cells;   /* nrows * ncols texts */
	bool *numeric;        /* ncols: right-aligned, written as numbers in XLSX */
};
/* Exports (export.c). CSV: RFC 4180, UTF-8 with a byte order mark, cells that a spreadsheet
 * would take for a formula prefixed with '. XLSX through libxlsxwriter into a temporary file
 * which is read back and removed. GH_ETOOBIG beyond max bytes. */
struct sb;
int stats_csv(const struct stats_table *t, struct sb *out);
int stats_xlsx(struct arena *a, const struct stats_table *t, size_t max, char **data, size_t *len);

/* Answers table t as a download (CSV, or XLSX when xlsx) named filename.csv|.xlsx, with the
 * statistics page's size limit. */
struct req;
int stats_send_table(struct req *r, const struct stats_table *t, bool xlsx, const char *filename);

/* Recomputes the application and registration metrics of every day from the raw rows
 * (applications, application_events, accounts) in one transaction; evaluation and
 * rectification metrics are left as they are. cal: the working-day calendar. Prints a
 * summary on out (may be NULL). */
int stats_rebuild(struct db *db, const struct calendar *cal, FILE *out);

/* The public statistics page's figures by department over from..to ("YYYY-MM-DD", NULL: the
 * page's defaults, the year so far), for national supervision: *out (new reference) =
 * {"from", "to", "departments": [{"code", "name_zh", "name_en", "submitted", "concluded",
 * "on_time", "online", "evals", "bad", "rect_closed", "rect_done"}]}. GH_EINVAL with *why_key
 * (a message key) for a bad range. */
#include <jansson.h>
int stats_department_figures(struct db *db, struct arena *a, const char *from, const char *to, json_t **out,
			     const char **why_key);

/* `govhall stats rebuild` (argv after the command word). */
int stats_cli(struct app *app, struct db *db, int argc, char **argv);

#endif
