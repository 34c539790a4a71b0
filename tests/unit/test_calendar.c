/* Unit tests for src/base/calendar: day numbers and dates, parsing, weekdays, China Standard
 * Time, and working days on the real data/catalog/holidays.json (run from the source root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/calendar.h"
#include "base/util.h"

#define HOLIDAYS "data/catalog/holidays.json"

static int32_t D(const char *s)
{
	int32_t day = INT32_MIN;
	assert_int_equal(calendar_parse_day(s, strlen(s), &day), 0);
	return day;
}

static void assert_day(int32_t day, const char *want)
{
	char got[11];
	calendar_format_day(day, got);
	assert_string_equal(got, want);
}

static int setup_real(void **state)
{
	char err[256];
	struct calendar *c = calendar_load_json(HOLIDAYS, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown_real(void **state)
{
	calendar_free(*state);
	return 0;
}

/* The definition, day by day: what the O(log n) functions must agree with. */
static int naive_between(const struct calendar *c, int32_t from, int32_t to)
{
	int n = 0;
	if (from <= to) {
		for (int32_t d = from + 1; d <= to; d++)
			n += calendar_is_workday(c, d);
		return n;
	}
	return -naive_between(c, to, from);
}

static int32_t naive_add(const struct calendar *c, int32_t from, int n)
{
	int32_t d = from;
	while (n > 0)
		n -= calendar_is_workday(c, ++d);
	return d;
}

static void test_epoch(void **state)
{
	(void)state;
	assert_int_equal(calendar_day(1970, 1, 1), 0);
	assert_int_equal(calendar_day(1970, 1, 2), 1);
	assert_int_equal(calendar_day(1969, 12, 31), -1);
	assert_int_equal(calendar_day(2000, 3, 1), 11017);
	assert_int_equal(calendar_day(2025, 1, 1), 20089);
	assert_int_equal(calendar_day(0, 1, 1), CALENDAR_DAY_MIN);
	assert_int_equal(calendar_day(9999, 12, 31), CALENDAR_DAY_MAX);
	assert_day(CALENDAR_DAY_MIN, "0000-01-01");
	assert_day(CALENDAR_DAY_MAX, "9999-12-31");
	/* Out of range is written harmlessly. */
	assert_day(CALENDAR_DAY_MIN - 1, "0000-00-00");
	assert_day(CALENDAR_DAY_MAX + 1, "0000-00-00");
	assert_day(INT32_MIN, "0000-00-00");
	assert_day(INT32_MAX, "0000-00-00");
	/* calendar_ymd takes any day. */
	int y, m, d;
	calendar_ymd(INT32_MAX, &y, &m, &d);
	assert_true(calendar_valid_date(y, m, d));
	assert_int_equal(calendar_day(y, m, d), INT32_MAX);
	calendar_ymd(INT32_MIN, &y, &m, &d);
	assert_true(calendar_valid_date(y, m, d));
	assert_int_equal(calendar_day(y, m, d), INT32_MIN);
}

static void test_round_trip(void **state)
{
	(void)state;
	int32_t first = calendar_day(1900, 1, 1), last = calendar_day(2100, 12, 31);
	int py = 1899, pm = 12, pd = 31, leaps = 0;
	for (int32_t day = first; day <= last; day++) {
		int y, m, d;
		calendar_ymd(day, &y, &m, &d);
		assert_true(calendar_valid_date(y, m, d));
		assert_int_equal(calendar_day(y, m, d), day);
		/* Each day follows the previous one. */
		if (d == 1) {
			assert_true(m == 1 ? (y == py + 1 && pm == 12 && pd == 31) : (y == py && m == pm + 1));
			assert_false(calendar_valid_date(py, pm, pd + 1));
		} else {
			assert_true(y == py && m == pm && d == pd + 1);
		}
		leaps += m == 2 && d == 29;
		char s[11];
		calendar_format_day(day, s);
		assert_int_equal(strlen(s), 10);
		int32_t back;
		assert_int_equal(calendar_parse_day(s, 10, &back), 0);
		assert_int_equal(back, day);
		py = y, pm = m, pd = d;
	}
	assert_true(py == 2100 && pm == 12 && pd == 31);
	/* 1904..2096 every fourth year: 49, and 2000 is one of them; 1900 and 2100 are not. */
	assert_int_equal(leaps, 49);
	assert_true(calendar_valid_date(2000, 2, 29));
	assert_true(calendar_valid_date(2024, 2, 29));
	assert_false(calendar_valid_date(1900, 2, 29));
	assert_false(calendar_valid_date(2100, 2, 29));
	assert_false(calendar_valid_date(2025, 2, 29));
	assert_int_equal(calendar_day(2024, 3, 1) - calendar_day(2024, 2, 28), 2);
	assert_int_equal(calendar_day(2100, 3, 1) - calendar_day(2100, 2, 28), 1);
	assert_int_equal(calendar_day(2001, 1, 1) - calendar_day(2000, 1, 1), 366);
	assert_int_equal(calendar_day(1901, 1, 1) - calendar_day(1900, 1, 1), 365);
}

static void test_parse(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"2025-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32", "2024-04-31",
		"1900-02-29", "2025-1-1", "2025-01-1", "25-01-01", "2025/01/01", "2025-01-01x",
		"2025-01-01 ", " 2025-01-01", "2025-01-01T00:00", "+025-01-01", "-025-01-01",
		"2025-+1-01", "2025-01--1", "20250101", "", "2025-01-0", "２０２５-01-01",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int32_t day = 12345;
		assert_int_equal(calendar_parse_day(bad[i], strlen(bad[i]), &day), -1);
		assert_int_equal(day, 12345); /* untouched */
	}
	/* Exactly len bytes: a longer buffer with the date first parses when len is 10 only. */
	int32_t day;
	assert_int_equal(calendar_parse_day("2025-01-01junk", 10, &day), 0);
	assert_int_equal(day, calendar_day(2025, 1, 1));
	assert_int_equal(calendar_parse_day("2025-01-01junk", 14, &day), -1);
	assert_int_equal(calendar_parse_day("2025-01-01\0", 11, &day), -1);
	assert_int_equal(calendar_parse_day("2024-02-29", 10, &day), 0);
	assert_int_equal(day, calendar_day(2024, 2, 29));
	assert_int_equal(calendar_parse_day("0000-01-01", 10, &day), 0);
	assert_int_equal(day, CALENDAR_DAY_MIN);
	assert_int_equal(calendar_parse_day("9999-12-31", 10, &day), 0);
	assert_int_equal(day, CALENDAR_DAY_MAX);
}

static void test_weekday(void **state)
{
	(void)state;
	static const struct { const char *date; int wd; } known[] = {
		{ "1970-01-01", 3 }, /* Thursday */
		{ "1969-12-31", 2 },
		{ "1900-01-01", 0 },
		{ "2000-01-01", 5 },
		{ "2024-02-29", 3 },
		{ "2025-01-01", 2 },
		{ "2025-01-26", 6 },
		{ "2025-01-27", 0 },
		{ "2025-02-08", 5 },
		{ "2025-10-01", 2 },
		{ "2026-01-04", 6 },
		{ "2026-10-01", 3 },
		{ "2100-12-31", 4 },
		{ "0000-01-01", 5 },
	};
	for (size_t i = 0; i < ARRAY_LEN(known); i++)
		assert_int_equal(calendar_weekday(D(known[i].date)), known[i].wd);
	for (int32_t day = -1000; day < 1000; day++)
		assert_int_equal(calendar_weekday(day + 1), (calendar_weekday(day) + 1) % 7);
	assert_true(calendar_weekday(INT32_MIN) >= 0 && calendar_weekday(INT32_MAX) <= 6);
}

static void test_day_of(void **state)
{
	(void)state;
	/* 2025-01-01T15:59:59Z is 23:59:59 in Beijing; a second later it is the 2nd. */
	assert_int_equal(calendar_day_of(1735747199), D("2025-01-01"));
	assert_int_equal(calendar_day_of(1735747200), D("2025-01-02"));
	/* 2024-12-31T16:00:00Z is midnight of 2025-01-01 in Beijing. */
	assert_int_equal(calendar_day_of(1735660799), D("2024-12-31"));
	assert_int_equal(calendar_day_of(1735660800), D("2025-01-01"));
	assert_int_equal(calendar_day_of(0), 0);
	assert_int_equal(calendar_day_of(16 * 3600 - 1), 0);
	assert_int_equal(calendar_day_of(16 * 3600), 1);
	/* Before 1970: floor, not truncation. */
	assert_int_equal(calendar_day_of(-8 * 3600), 0);
	assert_int_equal(calendar_day_of(-8 * 3600 - 1), -1);
	assert_int_equal(calendar_day_of(-8 * 3600 - 86400), -1);
	assert_int_equal(calendar_day_of(-8 * 3600 - 86401), -2);
	if (sizeof(time_t) == 8) {
		assert_int_equal(calendar_day_of((time_t)INT64_MAX), INT32_MAX);
		assert_int_equal(calendar_day_of((time_t)INT64_MIN), INT32_MIN);
	}
	/* Agrees with gmtime_r on t + 8 h. */
	for (time_t t = 1700000000; t < 1800000000; t += 7919 * 13) {
		time_t s = t + 8 * 3600;
		struct tm tm;
		assert_non_null(gmtime_r(&s, &tm));
		assert_int_equal(calendar_day_of(t), calendar_day(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
	}
}

/* Asserts the working-day status of every day from `first` to `last` from a string of
 * 'W' (working) and 'R' (rest). */
/* The one formatter of moments: China Standard Time, minute and ISO forms, day boundaries at
 * 16:00 UTC, moments before 1970, impossible moments refused; and the same text as the C
 * library's gmtime_r of t + 8 h over a sweep of moments. */
static void test_format_moment(void **state)
{
	(void)state;
	char m[CALENDAR_MINUTE_LEN], iso[CALENDAR_ISO_LEN];
	assert_true(calendar_format_minute(0, m));
	assert_string_equal(m, "1970-01-01 08:00");
	assert_true(calendar_format_iso(0, iso));
	assert_string_equal(iso, "1970-01-01T08:00:00+08:00");
	assert_true(calendar_format_minute(1772323199, m)); /* 2026-02-28 23:59:59 UTC */
	assert_string_equal(m, "2026-03-01 07:59");
	assert_true(calendar_format_iso(1772294399, iso)); /* 15:59:59 UTC: still that day in CST */
	assert_string_equal(iso, "2026-02-28T23:59:59+08:00");
	assert_true(calendar_format_iso(1772294400, iso)); /* 16:00 UTC: the next CST day */
	assert_string_equal(iso, "2026-03-01T00:00:00+08:00");
	assert_true(calendar_format_minute(-28801, m)); /* before 1970 in CST too */
	assert_string_equal(m, "1969-12-31 23:59");
	assert_false(calendar_format_minute(INT64_MAX, m));
	assert_string_equal(m, "");
	assert_false(calendar_format_iso(INT64_MIN, iso));
	assert_string_equal(iso, "");
	for (int64_t t = -86400LL * 400; t < 86400LL * 365 * 80; t += 86400LL * 7 + 3599) {
		time_t x = (time_t)(t + CALENDAR_CST_OFFSET);
		struct tm tm;
		char want[32];
		assert_non_null(gmtime_r(&x, &tm));
		strftime(want, sizeof(want), "%Y-%m-%d %H:%M", &tm);
		assert_true(calendar_format_minute(t, m));
		assert_string_equal(m, want);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S+08:00", &tm);
		assert_true(calendar_format_iso(t, iso));
		assert_string_equal(iso, want);
		assert_int_equal(calendar_day_of((time_t)t), D((want[10] = 0, want)));
	}
}

static void assert_days(const struct calendar *c, const char *first, const char *pattern)
{
	int32_t d = D(first);
	for (const char *p = pattern; *p; p++, d++) {
		if (calendar_is_workday(c, d) != (*p == 'W')) {
			char s[11];
			calendar_format_day(d, s);
			fail_msg("%s: expected %s", s, *p == 'W' ? "working day" : "rest day");
		}
	}
}

static void test_real_workdays(void **state)
{
	const struct calendar *c = *state;
	/* Spring Festival 2025: 01-28 .. 02-04 off; Sunday 01-26 and Saturday 02-08 worked. */
	assert_days(c, "2025-01-24", "WRWWRRRRRRRRWWWWRW");
	/*            01-24 Fri .. 02-10 Mon: 24W 25R(Sat) 26W(Sun) 27W 28..02-04 R 05..07W 08W(Sat)
	 *            09R(Sun) 10W. */
	assert_days(c, "2025-02-05", "WWWWRW");
	assert_true(calendar_is_holiday(c, D("2025-02-01")));
	assert_false(calendar_is_holiday(c, D("2025-02-08")));
	/* Labour Day 2025: 05-01 .. 05-05 off; Sunday 04-27 worked. */
	assert_days(c, "2025-04-26", "RWWWWRRRRRWWWWRRW");
	/* National Day and Mid-Autumn 2025: 10-01 .. 10-08 off; Sunday 09-28, Saturday 10-11 worked. */
	assert_days(c, "2025-09-27", "RWWWRRRRRRRRWWWRWW");
	/* New Year 2026: 01-01 .. 01-03 off; Sunday 01-04 worked. */
	assert_days(c, "2025-12-31", "WRRRWWW");
	/* Spring Festival 2026: 02-15 .. 02-23 off; Saturdays 02-14 and 02-28 worked. */
	assert_days(c, "2026-02-13", "WWRRRRRRRRRWWWWWRW");
	/* Labour Day 2026: 05-01 .. 05-05 off; Saturday 05-09 worked. */
	assert_days(c, "2026-04-30", "WRRRRRWWWWR");
	/* Mid-Autumn 2026 (09-25 .. 09-27) and National Day 2026 (10-01 .. 10-07); Sunday 09-20
	 * and Saturday 10-10 worked. */
	assert_days(c, "2026-09-19", "RWWWWWRRRWWWRRRRRRRWWWRW");
	/* Ordinary weekends outside the listed periods rest; ordinary weekdays work. */
	assert_days(c, "2025-03-01", "RRWWWWWRR");
	assert_days(c, "2027-01-01", "WRRWWWWWRR"); /* no 2027 data yet: plain weeks */

	/* The file's own lists, re-checked. */
	int holidays = 0, worked = 0;
	for (int32_t d = D("2025-01-01"); d <= D("2026-12-31"); d++) {
		holidays += calendar_is_holiday(c, d);
		worked += calendar_weekday(d) >= 5 && calendar_is_workday(c, d);
		if (calendar_is_holiday(c, d))
			assert_false(calendar_is_workday(c, d));
	}
	assert_int_equal(holidays, 28 + 33);
	assert_int_equal(worked, 5 + 6);
}

static void test_real_add(void **state)
{
	const struct calendar *c = *state;
	/* Monday before the Spring Festival: the next working day is the Wednesday after it. */
	assert_day(calendar_add_workdays(c, D("2025-01-27"), 1), "2025-02-05");
	/* Accepted on the adjusted working Sunday: Monday, then after the holiday. */
	assert_day(calendar_add_workdays(c, D("2025-01-26"), 1), "2025-01-27");
	assert_day(calendar_add_workdays(c, D("2025-01-26"), 2), "2025-02-05");
	/* Accepted during the holiday. */
	assert_day(calendar_add_workdays(c, D("2025-01-30"), 1), "2025-02-05");
	assert_day(calendar_add_workdays(c, D("2025-01-30"), 4), "2025-02-08"); /* a Saturday */
	assert_day(calendar_add_workdays(c, D("2025-01-30"), 5), "2025-02-10");
	/* 20 working days from 2025-01-20: 21..24, 26, 27 (6), 02-05..08 (10), 10..14 (15),
	 * 17..21 (20). */
	assert_day(calendar_add_workdays(c, D("2025-01-20"), 20), "2025-02-21");
	/* Labour Day 2025. */
	assert_day(calendar_add_workdays(c, D("2025-04-25"), 1), "2025-04-27");
	assert_day(calendar_add_workdays(c, D("2025-04-30"), 1), "2025-05-06");
	/* National Day 2025 and 2026. */
	assert_day(calendar_add_workdays(c, D("2025-09-30"), 1), "2025-10-09");
	assert_day(calendar_add_workdays(c, D("2025-09-30"), 3), "2025-10-11");
	assert_day(calendar_add_workdays(c, D("2026-09-30"), 1), "2026-10-08");
	assert_day(calendar_add_workdays(c, D("2026-09-24"), 1), "2026-09-28");
	/* Across the year boundary: 2026-01-04 (Sunday, worked), 05, 06. */
	assert_day(calendar_add_workdays(c, D("2025-12-31"), 3), "2026-01-06");
	assert_day(calendar_add_workdays(c, D("2025-12-30"), 1), "2025-12-31");
	/* n = 0 is the day itself, working or not; n < 0 is not a limit. */
	assert_day(calendar_add_workdays(c, D("2025-01-30"), 0), "2025-01-30");
	assert_day(calendar_add_workdays(c, D("2025-03-01"), 0), "2025-03-01");
	assert_day(calendar_add_workdays(c, D("2025-03-03"), -5), "2025-03-03");
	/* Common statutory limits agree with counting day by day. */
	static const int limits[] = { 1, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 250, 365, 500 };
	for (int32_t from = D("2024-12-01"); from <= D("2027-01-31"); from += 3)
		for (size_t i = 0; i < ARRAY_LEN(limits); i++)
			assert_int_equal(calendar_add_workdays(c, from, limits[i]), naive_add(c, from, limits[i]));
}

static void test_real_property(void **state)
{
	const struct calendar *c = *state;
	for (int32_t d = D("2025-01-01"); d <= D("2026-12-31"); d++) {
		for (int n = 0; n <= 30; n++) {
			int32_t end = calendar_add_workdays(c, d, n);
			assert_int_equal(calendar_workdays_between(c, d, end), n);
			assert_int_equal(calendar_workdays_between(c, end, d), -n);
			if (n > 0) {
				/* The end is a working day and the earliest such. */
				assert_true(calendar_is_workday(c, end));
				assert_int_equal(calendar_workdays_between(c, d, end - 1), n - 1);
			}
		}
		assert_int_equal(calendar_workdays_between(c, d, d), 0);
	}
	/* Against the definition over random ranges. */
	srand(11643);
	int32_t base = D("2024-06-01");
	for (int i = 0; i < 5000; i++) {
		int32_t a = base + rand() % 1000, b = base + rand() % 1000;
		assert_int_equal(calendar_workdays_between(c, a, b), naive_between(c, a, b));
	}
}

static void test_synthetic(void **state)
{
	(void)state;
	/* Unsorted, duplicated input; a day both holiday and workday rests; a working day listed
	 * on a weekday changes nothing. */
	int32_t hol[] = { D("2025-05-02"), D("2025-05-01"), D("2025-05-03"), D("2025-05-01"), D("2025-05-10") };
	int32_t wrk[] = { D("2025-05-10"), D("2025-04-27"), D("2025-05-07"), D("2025-04-27") };
	struct calendar *c = calendar_new(hol, ARRAY_LEN(hol), wrk, ARRAY_LEN(wrk));
	assert_days(c, "2025-04-26", "RWWWWRRRRWWWWWRR");
	/*            04-26 Sat R, 27 Sun W, 28..30 W, 05-01 Thu R, 02 R, 03 Sat R, 04 Sun R,
	 *            05..09 W, 10 Sat R (both lists), 11 R. */
	assert_true(calendar_is_holiday(c, D("2025-05-10")));
	assert_false(calendar_is_holiday(c, D("2025-04-27")));
	assert_int_equal(calendar_workdays_between(c, D("2025-04-25"), D("2025-05-12")), 10);
	calendar_free(c);

	/* An empty calendar is plain weeks. */
	c = calendar_new(NULL, 0, NULL, 0);
	assert_day(calendar_add_workdays(c, D("2025-05-02"), 1), "2025-05-05");
	assert_day(calendar_add_workdays(c, D("2025-05-02"), 5), "2025-05-09");
	assert_day(calendar_add_workdays(c, D("2025-05-03"), 5), "2025-05-09");
	assert_int_equal(calendar_workdays_between(c, D("2025-01-01"), D("2025-12-31")), 260);
	assert_int_equal(calendar_workdays_between(c, -1000, 1000), naive_between(c, -1000, 1000));
	for (int32_t d = -400; d < 400; d++)
		assert_int_equal(calendar_add_workdays(c, d, 37), naive_add(c, d, 37));
	/* Saturation at the ends of the range. */
	assert_int_equal(calendar_add_workdays(c, INT32_MAX - 5, 100), INT32_MAX);
	assert_int_equal(calendar_add_workdays(c, INT32_MAX, 1), INT32_MAX);
	assert_int_equal(calendar_add_workdays(c, 0, INT_MAX), INT32_MAX); /* ~3e9 days away */
	int32_t far = calendar_add_workdays(c, 0, 1000000000);
	assert_int_equal(calendar_workdays_between(c, 0, far), 1000000000);
	assert_true(calendar_is_workday(c, far));
	assert_int_equal(calendar_workdays_between(c, INT32_MIN, INT32_MAX), INT_MAX);
	assert_int_equal(calendar_workdays_between(c, INT32_MAX, INT32_MIN), INT_MIN);
	calendar_free(c);
	calendar_free(NULL);
}

/* Writes text to a temporary file and loads it; returns the calendar, err filled. */
static struct calendar *load_text(const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/test_calendar-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	struct calendar *c = calendar_load_json(path, err, errlen);
	unlink(path);
	return c;
}

static void expect_error(const char *text, const char *needle)
{
	char err[256] = "unchanged";
	struct calendar *c = load_text(text, err, sizeof(err));
	if (c)
		fail_msg("loaded: %s", text);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	assert_non_null(strstr(err, "/tmp/test_calendar-")); /* names the file */
}

static void test_load(void **state)
{
	(void)state;
	char err[256];
	/* The documented top-level form and the per-year form. */
	struct calendar *c = load_text("{\"holidays\": [\"2025-10-01\"], \"workdays\": [\"2025-09-28\"]}",
		err, sizeof(err));
	assert_non_null(c);
	assert_false(calendar_is_workday(c, D("2025-10-01")));
	assert_true(calendar_is_workday(c, D("2025-09-28")));
	calendar_free(c);
	c = load_text("{\"note\": \"x\", \"2025\": {\"note\": \"y\", \"holidays\": [], \"workdays\": []}}",
		err, sizeof(err));
	assert_non_null(c);
	calendar_free(c);
	c = load_text("{}", err, sizeof(err));
	assert_non_null(c);
	calendar_free(c);

	expect_error("{\"2025\": {\"holidays\": [\"2025-01-01\", \"2025-02-30\"]}}", "\"2025-02-30\"");
	expect_error("{\"2025\": {\"holidays\": [\"2025-01-01\", \"2025-02-30\"]}}", "holidays[1]");
	expect_error("{\"holidays\": [\"2025-1-1\"]}", "\"2025-1-1\"");
	expect_error("{\"holidays\": [\"2025-01-01 \"]}", "\"2025-01-01 \"");
	expect_error("{\"holidays\": [20250101]}", "not a string");
	expect_error("{\"holidays\": \"2025-01-01\"}", "not an array");
	expect_error("[\"2025-01-01\"]", "not a JSON object");
	expect_error("\"2025-01-01\"", "not a JSON object");
	expect_error("null", "not a JSON object");
	expect_error("{\"holidays\": [", "line");
	expect_error("", "line");
	expect_error("{\"holidays\": [], \"holidays\": []}", "duplicate");
	expect_error("{\"2026\": {\"holidays\": [\"2025-10-01\"]}}", "not in 2026");
	expect_error("{\"2025\": {\"workdays\": [\"2025-10-01\"]}}", "not a Saturday or Sunday");
	expect_error("{\"2025\": {\"holiday\": [\"2025-10-01\"]}}", "unknown key \"holiday\"");
	expect_error("{\"hoIidays\": []}", "unknown key \"hoIidays\"");
	expect_error("{\"2025\": [\"2025-10-01\"]}", "\"2025\" is not an object");
	expect_error("{\"2025\": {\"holidays\": [\"2025-10-04\"]}, \"workdays\": [\"2025-10-04\"]}",
		"\"2025-10-04\" is listed both");
	/* A long or control-character entry is shortened and made printable (NUL is rejected by
	 * the JSON parser itself). */
	expect_error("{\"holidays\": [\"2025-01-01\\u0000\"]}", "not allowed");
	expect_error("{\"holidays\": [\"2025-01-01\\n\\u0001xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]}",
		"\"2025-01-01??xxx");

	/* A missing file names the path and the cause. */
	c = calendar_load_json("/nonexistent/holidays.json", err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/holidays.json"));
	assert_non_null(strstr(err, "No such file"));
	/* A tiny buffer is still terminated; none at all is allowed. */
	char tiny[8];
	assert_null(calendar_load_json("/nonexistent/holidays.json", tiny, sizeof(tiny)));
	assert_int_equal(strlen(tiny), 7);
	assert_null(calendar_load_json("/nonexistent/holidays.json", NULL, 0));
	assert_null(calendar_parse_json("[]", 2, NULL, NULL, 0));
	assert_null(calendar_parse_json("{\"holidays\": [\"x\"]}", 19, NULL, tiny, sizeof(tiny)));
	assert_int_equal(strlen(tiny), 7);
}

/* The days' names: read from the shipped file and from text, and refused when malformed. */
static void test_names(void **state)
{
	(void)state;
	char err[256];
	struct calendar_name *names;
	size_t n;
	struct calendar *c = calendar_load_json_names(HOLIDAYS, &names, &n, err, sizeof(err));
	assert_non_null(c);
	/* Every listed day of the shipped file has a name. */
	for (int32_t d = D("2025-01-01"); d <= D("2026-12-31"); d++) {
		bool listed = calendar_is_holiday(c, d) || (calendar_weekday(d) >= 5 && calendar_is_workday(c, d));
		const struct calendar_name *nm = calendar_name_of(names, n, d);
		if (listed && !nm) {
			char s[11];
			calendar_format_day(d, s);
			fail_msg("%s is listed but has no name", s);
		}
	}
	assert_string_equal(calendar_name_of(names, n, D("2026-02-17"))->zh, "春节");
	assert_string_equal(calendar_name_of(names, n, D("2026-02-14"))->en, "Spring Festival");
	assert_null(calendar_name_of(names, n, D("2026-03-03")));
	free(names);
	calendar_free(c);

	const char *ok = "{\"2027\": {\"holidays\": [\"2027-01-01\"], \"names\": [{\"zh\": \"元旦\", \"en\": \"New Year\", "
			 "\"from\": \"2027-01-01\", \"to\": \"2027-01-01\"}]}}";
	c = calendar_parse_json_names(ok, strlen(ok), "t", &names, &n, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(n, 1);
	free(names);
	calendar_free(c);
	/* The plain loader accepts the same file. */
	c = calendar_parse_json(ok, strlen(ok), "t", err, sizeof(err));
	assert_non_null(c);
	calendar_free(c);

	static const struct {
		const char *text, *needle;
	} bad[] = {
		{ "{\"2027\": {\"names\": {}}}", "names is not an array" },
		{ "{\"2027\": {\"names\": [{\"zh\": \"a\", \"en\": \"b\", \"from\": \"2026-01-01\", \"to\": \"2026-01-01\"}]}}", "not in 2027" },
		{ "{\"2027\": {\"names\": [{\"zh\": \"\", \"en\": \"b\", \"from\": \"2027-01-01\", \"to\": \"2027-01-01\"}]}}", "zh is not a name" },
		{ "{\"2027\": {\"names\": [{\"zh\": \"a\", \"en\": \"b\", \"from\": \"2027-01-05\", \"to\": \"2027-01-01\"}]}}", "before" },
		{ "{\"2027\": {\"names\": [{\"zh\": \"a\", \"en\": \"b\", \"from\": \"2027-01-01\", \"to\": \"2027-03-01\"}]}}", "31 days" },
		{ "{\"2027\": {\"names\": [{\"zh\": \"a\", \"en\": \"b\", \"from\": \"2027-01-01\", \"to\": \"2027-01-01\", \"colour\": 1}]}}", "unknown key" },
		{ "{\"2027\": {\"names\": [{\"zh\": \"a\", \"en\": \"b\", \"from\": \"2027-01-01\", \"to\": \"2027-01-01\", \"workdays\": [\"x\"]}]}}", "not a date" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = calendar_parse_json_names(bad[i].text, strlen(bad[i].text), "t", &names, &n, err, sizeof(err));
		if (c)
			fail_msg("accepted: %s", bad[i].text);
		assert_null(names);
		if (!strstr(err, bad[i].needle))
			fail_msg("error \"%s\" does not mention \"%s\"", err, bad[i].needle);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_weekday),
		cmocka_unit_test(test_day_of),
		cmocka_unit_test(test_format_moment),
		cmocka_unit_test_setup_teardown(test_real_workdays, setup_real, teardown_real),
		cmocka_unit_test_setup_teardown(test_real_add, setup_real, teardown_real),
		cmocka_unit_test_setup_teardown(test_real_property, setup_real, teardown_real),
		cmocka_unit_test(test_synthetic),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests_name("calendar", tests, NULL, NULL);
}
