/* deadline.h: time limits of an application in working days (工作日), with pauses.
 *
 * The promised limit (承诺时限) and the legal limit (法定时限) count working days from the day
 * of acceptance, on the working-day calendar (base/calendar.h). While the clock is paused
 * (supplement requested, special procedure) the days do not count: when the pause ends, the
 * working days it lasted are added to both due days. A limit of 0 means on the spot (即办):
 * due the day of acceptance.
 *
 * Lights: red when the due day has passed; yellow when at most a fifth of the limit (and at
 * least 1 working day) is left; green otherwise. Pure functions.
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
int32_t deadline_yellow_day(const struct calendar *c, const struct clock_state *s);
/* Ends a pause on day `today`: adds the working days it lasted. */
void deadline_resume(const struct calendar *c, struct clock_state *s, int32_t today);

#endif
