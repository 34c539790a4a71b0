/* Fuzzes calendar_parse_day and, for an input that parses, the working-day arithmetic on a
 * small fixed calendar, asserting the invariants calendar.h promises. An input starting with
 * '{' is also fed to calendar_parse_json. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Spring Festival 2025 and National Day 2025, with their adjusted working weekends. */
static struct calendar *fixed(void)
{
	static struct calendar *c;
	if (!c) {
		int32_t hol[16], wrk[4];
		size_t nh = 0, nw = 0;
		for (int d = 28; d <= 31; d++)
			hol[nh++] = calendar_day(2025, 1, d);
		for (int d = 1; d <= 4; d++)
			hol[nh++] = calendar_day(2025, 2, d);
		for (int d = 1; d <= 8; d++)
			hol[nh++] = calendar_day(2025, 10, d);
		wrk[nw++] = calendar_day(2025, 1, 26);
		wrk[nw++] = calendar_day(2025, 2, 8);
		wrk[nw++] = calendar_day(2025, 9, 28);
		wrk[nw++] = calendar_day(2025, 10, 11);
		c = calendar_new(hol, nh, wrk, nw);
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int32_t day = 0;

	if (size > 0 && s[0] == '{' && size <= 65536) {
		char err[128];
		struct calendar *j = calendar_parse_json(s, size, "fuzz", err, sizeof(err));
		check(j != NULL || strlen(err) < sizeof(err));
		/* The names come from the same reading: the same verdict, sorted days, text names. */
		struct calendar_name *names;
		size_t nn;
		struct calendar *k = calendar_parse_json_names(s, size, "fuzz", &names, &nn, err, sizeof(err));
		check((j == NULL) == (k == NULL));
		for (size_t i = 0; i < nn; i++) {
			check(names[i].zh[0] && names[i].en[0] && strlen(names[i].zh) < CALENDAR_NAME_MAX);
			check(i == 0 || names[i - 1].day <= names[i].day);
			check(calendar_name_of(names, nn, names[i].day) != NULL);
		}
		free(names);
		calendar_free(k);
		calendar_free(j);
	}

	if (calendar_parse_day(s, size, &day) != 0)
		return 0;
	check(size == 10 && day >= CALENDAR_DAY_MIN && day <= CALENDAR_DAY_MAX);
	/* Formatting gives back the input exactly. */
	char out[11];
	calendar_format_day(day, out);
	check(out[10] == '\0' && memcmp(out, s, 10) == 0);
	int y, m, d;
	calendar_ymd(day, &y, &m, &d);
	check(calendar_valid_date(y, m, d) && calendar_day(y, m, d) == day);
	check(calendar_weekday(day) >= 0 && calendar_weekday(day) <= 6);

	const struct calendar *c = fixed();
	/* The last byte picks a small limit. */
	int n = (unsigned char)s[9] % 40;
	int32_t end = calendar_add_workdays(c, day, n);
	check(end >= day);
	check(calendar_workdays_between(c, day, end) == n);
	check(calendar_workdays_between(c, end, day) == -n);
	if (n > 0) {
		check(calendar_is_workday(c, end));
		check(calendar_workdays_between(c, day, end - 1) == n - 1);
		/* Counting on from an intermediate working day gives the same end. */
		int32_t mid = calendar_add_workdays(c, day, n / 2);
		check(calendar_add_workdays(c, mid, n - n / 2) == end);
	}
	check(calendar_add_workdays(c, day, 0) == day);
	check(calendar_add_workdays(c, day, -n) == day);
	return 0;
}
