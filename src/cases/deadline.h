/* deadline.h: time limits of an application in working days (工作日), with pauses.
 *
 * The promised limit (承诺时限) and the legal limit (法定时限) count working days from the day
 * of acceptance, on the working-day calendar (base/calendar.h). While the clock is paused
 * (supplement requested, special procedure) the days do not count: when the pause ends, the
 * working days it lasted are added to both due days. A limit of 0 means on the spot (即办):
 * due the day of acceptance.
 *
 * Due days are promises: deadline_start fixes them on the calendar of the day of acceptance
 * and they are stored; a later change of the calendar (a holiday added, a working weekend
 * day) does not move them. Only the end of a pause moves them, by the working days the pause
 * lasted counted on the calendar of that day. Functions that take a clock with stored due days
 * (due_day != 0) use them; with none stored they compute them from the calendar.
 *
 * Lights: red when the due day has passed; yellow when at most a fifth of the limit (and at
 * least 1 working day) is left, that is from the yellow day on; green otherwise. Pure
 * functions.
 */
#ifndef GH_DEADLINE_H
#define GH_DEADLINE_H
#include <stdbool.h>
#include <stdint.h>

struct calendar;

enum light { LIGHT_NONE = 0, LIGHT_GREEN, LIGHT_YELLOW, LIGHT_RED };

struct clock_state {
	int32_t accepted_day;  /* 0 = not accepted (no clock) */
	int limit_days;        /* promised limit */
	int legal_limit_days;
	int paused_workdays;   /* working days paused so far (ended pauses) */
	int32_t paused_since;  /* day the current pause began, 0 = running */
	int32_t due_day;       /* stored promised due day (0 = none stored yet) */
	int32_t legal_due_day; /* stored legal due day */
	int32_t yellow_day;    /* stored first yellow day */
};

/* The promised and legal due days. */
int32_t deadline_due(const struct calendar *c, const struct clock_state *s);
int32_t deadline_legal_due(const struct calendar *c, const struct clock_state *s);
/* Working days left until the promised due day, seen from `today` (a paused clock is seen
 * from the day the pause began). Negative when overdue. */
int deadline_left(const struct calendar *c, const struct clock_state *s, int32_t today);
enum light deadline_light(const struct calendar *c, const struct clock_state *s, int32_t today);
/* "none" (no clock runs), "green", "yellow" or "red". */
const char *deadline_light_name(enum light l);
/* The first day on which the light is yellow (stored, so that queues filter by light in SQL). */
int32_t deadline_yellow_day(const struct calendar *c, const struct clock_state *s); /* "green", "yellow", "red", "" */
/* Starts the clock on day `today`: sets accepted_day and fixes the three due days on c. */
void deadline_start(const struct calendar *c, struct clock_state *s, int32_t today);
/* Ends a pause on day `today`: adds the working days it lasted (on c) to paused_workdays and
 * moves the stored due days by as many working days; the yellow day follows. */
void deadline_resume(const struct calendar *c, struct clock_state *s, int32_t today);

#endif
