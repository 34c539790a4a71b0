/* slots.c: the slots of a centre and the days one may book them.
 *
 * A centre's day is cut into slots of slot_minutes from its opening, none overlapping its
 * break, the last ending by its closing time. Slots exist on the working days of the calendar
 * only (adjusted working weekends included, official holidays excluded), from
 * booking-min-days to booking-max-days working days after today. The places of a slot are the
 * item's capacity at the centre for the channel, less the places taken (booking_slots.taken,
 * made on first use), so a slot nobody booked costs no row. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "booking/booking_impl.h"
#include "store/db.h"

#define STARTS_MAX 288 /* five-minute slots around the clock */

size_t bk_slot_starts(const struct bk_centre *c, int *starts, size_t max)
{
	size_t n = 0;
	if (c->slot_minutes <= 0)
		return 0;
	for (int t = c->open_min; t + c->slot_minutes <= c->close_min && n < max; t += c->slot_minutes) {
		if (c->break_start >= 0 && t < c->break_end && t + c->slot_minutes > c->break_start) {
			t = c->break_end - c->slot_minutes; /* the next slot starts when the break ends */
			continue;
		}
		starts[n++] = t;
	}
	return n;
}

bool bk_slot_valid(const struct bk_centre *c, int start)
{
	int starts[STARTS_MAX];
	size_t n = bk_slot_starts(c, starts, STARTS_MAX);
	for (size_t i = 0; i < n; i++)
		if (starts[i] == start)
			return true;
	return false;
}

void bk_window(int32_t today, int32_t *first, int32_t *last)
{
	const struct config *cfg = bk_app ? &bk_app->cfg : NULL;
	int lo = cfg ? (int)cfg->booking_min_days : 1, hi = cfg ? (int)cfg->booking_max_days : 30;
	*first = bk_add_workdays(today, lo);
	*last = bk_add_workdays(today, hi < lo ? lo : hi);
}

bool bk_day_bookable(int32_t today, int32_t day)
{
	int32_t first, last;
	bk_window(today, &first, &last);
	return day >= first && day <= last && bk_workday(day);
}

DB_SQL(q_taken, "SELECT day, start_min, taken FROM booking_slots WHERE centre = ? AND item_code = ? AND channel = ? "
		"AND day BETWEEN ? AND ? ORDER BY day, start_min");

int bk_availability(struct req *r, const struct bk_centre *c, const char *item, int channel, int32_t from, int days,
		    json_t **out)
{
	int cap[3];
	int rc = bk_capacity(r->db, r->arena, c->code, item, cap);
	if (rc == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_not_served");
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL);
	int32_t today = calendar_day_of((time_t)now), first, last;
	bk_window(today, &first, &last);
	if (from < first)
		from = first;
	if (days < 1)
		days = 1;
	if (days > BK_DAYS_MAX)
		days = BK_DAYS_MAX;
	int32_t to = from;
	for (int k = 0; to <= last; to++)
		if (bk_workday(to) && ++k == days)
			break;
	if (to > last)
		to = last;
	struct db_rows rows;
	if (from <= to &&
	    (rc = db_query(r->db, r->arena, &q_taken,
			   DB_ARGS(DB_TEXT(c->code), DB_TEXT(item), DB_TEXT(bk_channel_names[channel]), DB_INT(from), DB_INT(to)),
			   &rows)))
		return rc;
	int starts[STARTS_MAX];
	size_t ns = bk_slot_starts(c, starts, STARTS_MAX), row = 0;
	json_t *list = json_array();
	for (int32_t d = from; d <= to; d++) {
		if (!bk_workday(d))
			continue;
		json_t *slots = json_array();
		for (size_t i = 0; i < ns; i++) {
			int taken = 0;
			while (row < rows.nrows && (db_cell_int(&rows, row, 0) < d ||
						    (db_cell_int(&rows, row, 0) == d && db_cell_int(&rows, row, 1) < starts[i])))
				row++;
			if (row < rows.nrows && db_cell_int(&rows, row, 0) == d && db_cell_int(&rows, row, 1) == starts[i])
				taken = (int)db_cell_int(&rows, row, 2);
			if (bk_at(d, starts[i]) <= now)
				continue;
			int free_ = cap[channel] - taken;
			char s[6], e[6];
			bk_hhmm(starts[i], s);
			bk_hhmm(starts[i] + c->slot_minutes, e);
			char d10[11];
			calendar_format_day(d, d10);
			json_array_append_new(slots, json_pack("{s:s,s:s,s:s,s:i}", "start", s, "end", e, "at",
							       arena_printf(r->arena, "%sT%s:00+08:00", d10, s), "free",
							       free_ > 0 ? free_ : 0));
		}
		json_array_append_new(list, json_pack("{s:s,s:i,s:o}", "day", bk_day_str(r->arena, d), "weekday",
						      calendar_weekday(d) + 1, "slots", slots));
	}
	*out = list;
	return 0;
}
