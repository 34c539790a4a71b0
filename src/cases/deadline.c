#include "cases/deadline.h"

#include "base/calendar.h"

int32_t deadline_due(const struct calendar *c, const struct clock_state *s)
{
	if (!s->accepted_day)
		return 0;
	return calendar_add_workdays(c, s->accepted_day, s->limit_days + s->paused_workdays);
}

int32_t deadline_legal_due(const struct calendar *c, const struct clock_state *s)
{
	if (!s->accepted_day)
		return 0;
	return calendar_add_workdays(c, s->accepted_day, s->legal_limit_days + s->paused_workdays);
}

int deadline_left(const struct calendar *c, const struct clock_state *s, int32_t today)
{
	int32_t seen = s->paused_since ? s->paused_since : today;
	return calendar_workdays_between(c, seen, deadline_due(c, s));
}

static int yellow_threshold(const struct clock_state *s)
{
	int fifth = s->limit_days / 5;
	return fifth > 1 ? fifth : 1;
}

int32_t deadline_yellow_day(const struct calendar *c, const struct clock_state *s)
{
	if (!s->accepted_day)
		return 0;
	int32_t due = deadline_due(c, s), d = due;
	int limit = yellow_threshold(s);
	/* Walk back while at most `limit` working days would be left. */
	while (d > s->accepted_day && calendar_workdays_between(c, d - 1, due) <= limit)
		d--;
	return d;
}

enum light deadline_light(const struct calendar *c, const struct clock_state *s, int32_t today)
{
	if (!s->accepted_day)
		return LIGHT_NONE;
	int32_t seen = s->paused_since ? s->paused_since : today;
	if (seen > deadline_due(c, s))
		return LIGHT_RED;
	if (deadline_left(c, s, today) <= yellow_threshold(s))
		return LIGHT_YELLOW;
	return LIGHT_GREEN;
}

const char *deadline_light_name(enum light l)
{
	switch (l) {
	case LIGHT_GREEN: return "green";
	case LIGHT_YELLOW: return "yellow";
	case LIGHT_RED: return "red";
	default: return "none";
	}
}

void deadline_resume(const struct calendar *c, struct clock_state *s, int32_t today)
{
	if (!s->paused_since)
		return;
	int n = calendar_workdays_between(c, s->paused_since, today);
	if (n > 0)
		s->paused_workdays += n;
	s->paused_since = 0;
}
