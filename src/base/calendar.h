/* calendar.h: the working-day calendar (工作日) for legal and promised time limits.
 *
 * A day is a count of days since 1970-01-01 (int32_t), always a date in China Standard Time
 * (UTC+8): a time limit is counted on the calendar of the people it binds. Saturdays and
 * Sundays are rest days unless listed as adjusted working days (调休上班); any day listed as a
 * holiday is a rest day (even if it is also listed as a working day). A struct calendar is
 * immutable after calendar_new(); to change it, build a new one and swap the pointer (readers
 * keep the old one until they are done). Being immutable, it may be read from any number of
 * threads at once.
 *
 * Cost: calendar_is_workday and calendar_workdays_between are O(log n) in the number of listed
 * days (binary search over sorted arrays); calendar_add_workdays is O(log n · log k) for a
 * limit of k working days. Nothing allocates except calendar_new and calendar_load_json.
 * Arithmetic on days past the int32 range saturates (see each function).
 */
#ifndef GH_CALENDAR_H
#define GH_CALENDAR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct calendar;

/* The days calendar_parse_day and calendar_format_day handle: 0000-01-01 .. 9999-12-31. */
#define CALENDAR_DAY_MIN (-719528)
#define CALENDAR_DAY_MAX 2932896

/* Builds a calendar from sorted or unsorted arrays of days (duplicates allowed; an array may
 * be NULL when its count is 0). Copies the arrays; never returns NULL (out of memory aborts).
 * Free with calendar_free. */
struct calendar *calendar_new(const int32_t *holidays, size_t nholidays, const int32_t *workdays, size_t nworkdays);
/* Loads a holidays file such as data/catalog/holidays.json: a JSON object whose "holidays"
 * and "workdays" arrays of "YYYY-MM-DD" strings list the days, either at the top level or
 * inside per-year objects keyed by the year:
 *   {"note": "...", "2025": {"holidays": ["2025-01-01", ...], "workdays": [...]}, ...}
 * A date must be valid, a date inside a year object must lie in that year, a working day must
 * be a Saturday or Sunday, and no day may be both a holiday and a working day; "names" (below) and "note" are the
 * only other keys allowed (an unknown key is likely a typo, so it is an error). On error returns
 * NULL and a message naming the file and the bad entry in err (always NUL-terminated when
 * errlen > 0). The file may be at most 1 MiB. */
struct calendar *calendar_load_json(const char *path, char *err, size_t errlen);
/* The same from JSON text in memory; `name` prefixes error messages (may be NULL). */
struct calendar *calendar_parse_json(const char *text, size_t len, const char *name, char *err, size_t errlen);

/* What a listed day is called, in both languages: a year object may also hold
 *   "names": [{"zh": "春节", "en": "Spring Festival", "from": "2025-01-28", "to": "2025-02-04",
 *              "workdays": ["2025-01-26", "2025-02-08"]}]
 * naming the days from..to (at most 31 days apart, both in the year) and the adjusted working
 * days of that period. Names are 1 to CALENDAR_NAME_MAX - 1 bytes without control bytes; an
 * unknown key is an error, as everywhere in the file. */
#define CALENDAR_NAME_MAX 64
struct calendar_name {
	int32_t day;
	char zh[CALENDAR_NAME_MAX], en[CALENDAR_NAME_MAX];
};
/* As calendar_load_json / calendar_parse_json, and the names of the days into *names (sorted
 * by day, *nnames of them; free() it; NULL and 0 on error or when the file names none). */
struct calendar *calendar_load_json_names(const char *path, struct calendar_name **names, size_t *nnames, char *err,
					  size_t errlen);
struct calendar *calendar_parse_json_names(const char *text, size_t len, const char *name, struct calendar_name **names,
					   size_t *nnames, char *err, size_t errlen);
/* The name of day among names (as calendar_load_json_names gives them), or NULL. */
const struct calendar_name *calendar_name_of(const struct calendar_name *names, size_t n, int32_t day);
/* Frees c; NULL is a no-op. */
void calendar_free(struct calendar *c);

/* Day numbers and dates (proleptic Gregorian). calendar_day requires a valid date (see
 * calendar_valid_date); calendar_ymd accepts any day. calendar_parse_day accepts exactly
 * "YYYY-MM-DD" (len bytes, no NUL needed, four-digit year 0000..9999) with a real date and
 * returns 0, else -1 (*day untouched). calendar_format_day writes "YYYY-MM-DD" and a NUL
 * (11 bytes); a day outside CALENDAR_DAY_MIN..CALENDAR_DAY_MAX is written as "0000-00-00". */
int32_t calendar_day(int y, int m, int d);
void calendar_ymd(int32_t day, int *y, int *m, int *d);
bool calendar_valid_date(int y, int m, int d);
int calendar_parse_day(const char *s, size_t len, int32_t *day);
void calendar_format_day(int32_t day, char out[11]);
/* The China Standard Time date of a moment (no time zone database involved: CST has no
 * daylight saving). Saturates at INT32_MIN / INT32_MAX for moments beyond that. */
int32_t calendar_day_of(time_t t);
/* China Standard Time's offset from UTC, in seconds (UTC+8 all year). */
#define CALENDAR_CST_OFFSET (8 * 3600)
/* The one formatter of moments for people: t (unix seconds) in China Standard Time as
 * "2026-03-01 14:05" (calendar_format_minute, 17 bytes with the NUL) or, for <time datetime>
 * and APIs, "2026-03-01T14:05:09+08:00" (calendar_format_iso, 26 bytes). Return false (out
 * holds "") for a moment outside the calendar's days. */
#define CALENDAR_MINUTE_LEN 17
#define CALENDAR_ISO_LEN 26
bool calendar_format_minute(int64_t t, char out[CALENDAR_MINUTE_LEN]);
bool calendar_format_iso(int64_t t, char out[CALENDAR_ISO_LEN]);
/* 0 = Monday .. 6 = Sunday. */
int calendar_weekday(int32_t day);

bool calendar_is_workday(const struct calendar *c, int32_t day);
/* Whether day is listed as a holiday (an official holiday period, weekend days included). */
bool calendar_is_holiday(const struct calendar *c, int32_t day);
/* The day on which a limit of n working days counted from `from` ends: the n-th working day
 * after `from` (the day of acceptance itself does not count). n = 0 gives `from` (on the
 * spot), whether or not it is a working day. n < 0 is not a limit: it also gives `from`.
 * Saturates at INT32_MAX if the day would lie beyond it. */
int32_t calendar_add_workdays(const struct calendar *c, int32_t from, int n);
/* Working days in (from, to]; negative when to < from (the count of (to, from], negated).
 * So for n >= 0, calendar_workdays_between(c, d, calendar_add_workdays(c, d, n)) == n.
 * Saturates at INT_MIN / INT_MAX. */
int calendar_workdays_between(const struct calendar *c, int32_t from, int32_t to);

#endif
