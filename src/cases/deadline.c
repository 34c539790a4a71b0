#include "cases/deadline.h"

#include "base/calendar.h"

int32_t deadline_due(const struct calendar *c, const struct clock_state *s)
{
	if (!s->accepted_day)
		return 0;
	if (s->due_day)
		return s->due_day;
	return calendar_add_workdays(c, s->accepted_day, s->limit_days + s->paused_workdays);
}

int32_t deadline_legal_due(const struct calendar *c, const struct clock_state *s)
{
	if (!s->accepted_day)
		return 0;
	if (s->legal_due_day)
		return s->legal_due_day;
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

/* The first day with at most the threshold of working days left before due, on c. */
static int32_t yellow_from(const struct calendar *c, const struct clock_state *s, int32_t due)
{
	int32_t d = due;
	int limit = yellow_threshold(s);
	/* Walk back while at most `limit` working days would be left. */
	while (d > s->accepted_day && calendar_workdays_between(c, d - 1, due) <= limit)
		d--;
	return d;
}

int32_t deadline_yellow_day(const struct calendar *c, const struct clock_state *s)
{
	if (!s->accepted_day)
		return 0;
	if (s->yellow_day)
		return s->yellow_day;
	return yellow_from(c, s, deadline_due(c, s));
}

enum light deadline_light(const struct calendar *c, const struct clock_state *s, int32_t today)
{
	if (!s->accepted_day)
		return LIGHT_NONE;
	int32_t seen = s->paused_since ? s->paused_since : today;
	if (seen > deadline_due(c, s))
		return LIGHT_RED;
	if (seen >= deadline_yellow_day(c, s))
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

void deadline_start(const struct calendar *c, struct clock_state *s, int32_t today)
{
	s->accepted_day = today;
	s->paused_since = 0;
	s->due_day = s->legal_due_day = s->yellow_day = 0;
	s->due_day = deadline_due(c, s);
	s->legal_due_day = deadline_legal_due(c, s);
	s->yellow_day = yellow_from(c, s, s->due_day);
}

void deadline_resume(const struct calendar *c, struct clock_state *s, int32_t today)
{
	if (!s->paused_since)
		return;
	int n = calendar_workdays_between(c, s->paused_since, today);
	s->paused_since = 0;
	if (n <= 0)
		return;
	s->paused_workdays += n;
	if (!s->accepted_day)
		return;
	/* The stored days move by the days paused, counted from themselves: the rest of the
	 * promise is kept as it was made. */
	if (s->due_day)
		s->due_day = calendar_add_workdays(c, s->due_day, n);
	if (s->legal_due_day)
		s->legal_due_day = calendar_add_workdays(c, s->legal_due_day, n);
	if (s->due_day)
		s->yellow_day = yellow_from(c, s, s->due_day);
}
