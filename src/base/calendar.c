#include "base/calendar.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* The listed days reduce to two sorted, duplicate-free sets: `off`, the Monday..Friday days
 * that are holidays, and `on`, the Saturday/Sunday days that are adjusted working days and not
 * holidays. Then a day is a working day iff (it is Monday..Friday and not in `off`) or it is in
 * `on`, and counting working days in a range is arithmetic on weekdays plus two binary
 * searches. `holidays` keeps every listed holiday for calendar_is_holiday. */
struct calendar {
	int32_t *holidays, *off, *on;
	size_t nholidays, noff, non;
};

#define HOLIDAYS_MAX_BYTES (1u << 20)

/* ---- Dates: Howard Hinnant's days_from_civil / civil_from_days, in int64 throughout. ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int32_t saturate32(int64_t v)
{
	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int32_t calendar_day(int y, int m, int d)
{
	return saturate32(days_from_civil(y, m, d));
}

void calendar_ymd(int32_t day, int *y, int *m, int *d)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)mm;
	*y = (int)(yoe + era * 400 + (mm <= 2));
}

static bool leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

bool calendar_valid_date(int y, int m, int d)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static int digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int calendar_parse_day(const char *s, size_t len, int32_t *day)
{
	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0 || !calendar_valid_date(y, m, d))
		return -1;
	*day = calendar_day(y, m, d);
	return 0;
}

void calendar_format_day(int32_t day, char out[11])
{
	int y = 0, m = 0, d = 0;
	if (day >= CALENDAR_DAY_MIN && day <= CALENDAR_DAY_MAX)
		calendar_ymd(day, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

int32_t calendar_day_of(time_t t)
{
	/* CST is UTC+8 all year; no gmtime_r needed. int64 keeps t + 8 h from overflowing. */
	int64_t s = (int64_t)t;
	if (s > INT64_MAX - CALENDAR_CST_OFFSET)
		return INT32_MAX;
	return saturate32(floor_div(s + CALENDAR_CST_OFFSET, 86400));
}

/* The CST day of t and the seconds into it; false beyond the calendar's days. */
static bool cst_split(int64_t t, int32_t *day, int *sec)
{
	if (t > INT64_MAX - CALENDAR_CST_OFFSET || t < INT64_MIN + CALENDAR_CST_OFFSET)
		return false;
	int64_t local = t + CALENDAR_CST_OFFSET, d = floor_div(local, 86400);
	if (d < CALENDAR_DAY_MIN || d > CALENDAR_DAY_MAX)
		return false;
	*day = (int32_t)d;
	*sec = (int)(local - d * 86400);
	return true;
}

/* t in CST as "YYYY-MM-DD HH:MM" or, iso, "YYYY-MM-DDTHH:MM:SS+08:00", into out (len bytes). */
static bool format_moment(int64_t t, char *out, size_t len, bool iso)
{
	int32_t day;
	int sec;
	out[0] = 0;
	if (!cst_split(t, &day, &sec))
		return false;
	char d[11];
	calendar_format_day(day, d);
	unsigned u = (unsigned)sec % 86400u;
	if (iso)
		snprintf(out, len, "%.10sT%02u:%02u:%02u+08:00", d, u / 3600u, u / 60u % 60u, u % 60u);
	else
		snprintf(out, len, "%.10s %02u:%02u", d, u / 3600u, u / 60u % 60u);
	return true;
}

bool calendar_format_minute(int64_t t, char out[CALENDAR_MINUTE_LEN])
{
	return format_moment(t, out, CALENDAR_MINUTE_LEN, false);
}

bool calendar_format_iso(int64_t t, char out[CALENDAR_ISO_LEN])
{
	return format_moment(t, out, CALENDAR_ISO_LEN, true);
}

static int weekday64(int64_t day)
{
	/* 1970-01-01 was a Thursday (3). */
	return (int)(((day + 3) % 7 + 7) % 7);
}

int calendar_weekday(int32_t day)
{
	return weekday64(day);
}

/* ---- Sorted sets ---- */

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Sorts v and removes duplicates; returns the new length. */
static size_t sort_unique(int32_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i32);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

static bool contains(const int32_t *v, size_t n, int32_t x)
{
	return n > 0 && bsearch(&x, v, n, sizeof(*v), cmp_i32) != NULL;
}

/* The number of elements <= x. */
static size_t upper_bound(const int32_t *v, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int32_t *copy_days(const int32_t *v, size_t n)
{
	int32_t *p = xmalloc((n ? n : 1) * sizeof(*p));
	if (n)
		memcpy(p, v, n * sizeof(*p));
	return p;
}

struct calendar *calendar_new(const int32_t *holidays, size_t nholidays, const int32_t *workdays, size_t nworkdays)
{
	struct calendar *c = xcalloc(1, sizeof(*c));
	c->holidays = copy_days(holidays, nholidays);
	c->nholidays = sort_unique(c->holidays, nholidays);

	c->off = xmalloc((c->nholidays ? c->nholidays : 1) * sizeof(*c->off));
	for (size_t i = 0; i < c->nholidays; i++)
		if (calendar_weekday(c->holidays[i]) < 5)
			c->off[c->noff++] = c->holidays[i];

	c->on = copy_days(workdays, nworkdays);
	size_t n = sort_unique(c->on, nworkdays);
	for (size_t i = 0; i < n; i++)
		if (calendar_weekday(c->on[i]) >= 5 && !contains(c->holidays, c->nholidays, c->on[i]))
			c->on[c->non++] = c->on[i];
	return c;
}

void calendar_free(struct calendar *c)
{
	if (!c)
		return;
	free(c->holidays);
	free(c->off);
	free(c->on);
	free(c);
}

/* ---- Working days ---- */

bool calendar_is_workday(const struct calendar *c, int32_t day)
{
	if (calendar_weekday(day) < 5)
		return !contains(c->off, c->noff, day);
	return contains(c->on, c->non, day);
}

bool calendar_is_holiday(const struct calendar *c, int32_t day)
{
	return contains(c->holidays, c->nholidays, day);
}

/* Monday..Friday days in (anchor, x], up to a constant: counted in whole weeks from the Monday
 * 1970-01-05 (day 4). */
static int64_t weekdays_upto(int64_t x)
{
	int64_t q = floor_div(x - 4, 7), r = (x - 4) - 7 * q;
	return 5 * q + (r + 1 < 5 ? r + 1 : 5);
}

/* Working days in (a, b] for a <= b. */
static int64_t count_between(const struct calendar *c, int64_t a, int64_t b)
{
	int64_t n = weekdays_upto(b) - weekdays_upto(a);
	n -= (int64_t)(upper_bound(c->off, c->noff, b) - upper_bound(c->off, c->noff, a));
	n += (int64_t)(upper_bound(c->on, c->non, b) - upper_bound(c->on, c->non, a));
	return n;
}

int calendar_workdays_between(const struct calendar *c, int32_t from, int32_t to)
{
	int64_t n = from <= to ? count_between(c, from, to) : -count_between(c, to, from);
	return n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : (int)n;
}

int32_t calendar_add_workdays(const struct calendar *c, int32_t from, int n)
{
	if (n <= 0)
		return from;
	/* count_between(from, d) grows by 0 or 1 a day, so the answer is the least d > from with
	 * count >= n. Find an upper bound by doubling (working days are at least 5 in 7 outside
	 * holidays, so this stops after a few rounds), then bisect. */
	int64_t lo = from, hi, step = n;
	for (;;) {
		hi = (int64_t)from + step;
		if (hi >= INT32_MAX) {
			hi = INT32_MAX;
			if (count_between(c, from, hi) < n)
				return INT32_MAX;
			break;
		}
		if (count_between(c, from, hi) >= n)
			break;
		lo = hi;
		step *= 2;
	}
	/* Invariant: count(lo) < n <= count(hi). */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (count_between(c, from, mid) >= n)
			hi = mid;
		else
			lo = mid;
	}
	return (int32_t)hi;
}

/* ---- Loading ---- */

struct loader {
	const char *name;
	char *err;
	size_t errlen;
	int32_t *days[2];
	size_t n[2], cap[2];
	struct calendar_name *names; /* the days' names, when `want_names` */
	size_t nnames, capnames;
	bool want_names;
};

static const char *const list_names[2] = { "holidays", "workdays" };

/* Copies at most 40 bytes of s for a message, control characters replaced. */
static void quote(char out[48], const char *s, size_t len)
{
	size_t n = len > 40 ? 40 : len, i;
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (len > n)
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
}

static void fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct loader *l, const char *fmt, ...)
{
	if (!l->errlen)
		return;
	int k = snprintf(l->err, l->errlen, "%s: ", l->name);
	if (k < 0 || (size_t)k >= l->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err + k, l->errlen - (size_t)k, fmt, ap);
	va_end(ap);
}

/* Adds the dates of one "holidays"/"workdays" array; year is the enclosing year key or -1. */
static int load_list(struct loader *l, int which, json_t *arr, int year, const char *where)
{
	if (!json_is_array(arr)) {
		fail(l, "%s%s is not an array", where, list_names[which]);
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		char q[48];
		int32_t day;
		if (!json_is_string(v)) {
			fail(l, "%s%s[%zu] is not a string", where, list_names[which], i);
			return -1;
		}
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		quote(q, s, len);
		if (calendar_parse_day(s, len, &day) != 0) {
			fail(l, "%s%s[%zu]: \"%s\" is not a date (YYYY-MM-DD)", where, list_names[which], i, q);
			return -1;
		}
		int y, m, d;
		calendar_ymd(day, &y, &m, &d);
		if (year >= 0 && y != year) {
			fail(l, "%s%s[%zu]: \"%s\" is not in %04d", where, list_names[which], i, q, year);
			return -1;
		}
		if (which == 1 && calendar_weekday(day) < 5) {
			fail(l, "%s%s[%zu]: \"%s\" is not a Saturday or Sunday", where, list_names[which], i, q);
			return -1;
		}
		if (l->n[which] == l->cap[which]) {
			l->cap[which] = l->cap[which] ? 2 * l->cap[which] : 64;
			l->days[which] = xrealloc(l->days[which], l->cap[which] * sizeof(int32_t));
		}
		l->days[which][l->n[which]++] = day;
	}
	return 0;
}

static void add_name(struct loader *l, int32_t day, const char *zh, const char *en)
{
	if (!l->want_names)
		return;
	if (l->nnames == l->capnames) {
		l->capnames = l->capnames ? 2 * l->capnames : 64;
		l->names = xrealloc(l->names, l->capnames * sizeof(*l->names));
	}
	struct calendar_name *n = &l->names[l->nnames++];
	n->day = day;
	snprintf(n->zh, sizeof(n->zh), "%s", zh);
	snprintf(n->en, sizeof(n->en), "%s", en);
}

/* A day of a name entry: a "YYYY-MM-DD" string in year (when year >= 0). */
static int name_day(struct loader *l, json_t *v, int year, const char *where, size_t i, const char *what,
		    int32_t *day)
{
	char q[48];
	const char *s = json_string_value(v);
	if (!s) {
		fail(l, "%snames[%zu].%s is not a string", where, i, what);
		return -1;
	}
	quote(q, s, json_string_length(v));
	int y, m, d;
	if (calendar_parse_day(s, json_string_length(v), day) != 0) {
		fail(l, "%snames[%zu].%s: \"%s\" is not a date (YYYY-MM-DD)", where, i, what, q);
		return -1;
	}
	calendar_ymd(*day, &y, &m, &d);
	if (year >= 0 && y != year) {
		fail(l, "%snames[%zu].%s: \"%s\" is not in %04d", where, i, what, q, year);
		return -1;
	}
	return 0;
}

/* A name's words: a non-empty string of at most CALENDAR_NAME_MAX bytes, no control byte. */
static const char *name_text(struct loader *l, json_t *o, const char *key, const char *where, size_t i)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	size_t len = s ? json_string_length(v) : 0;
	bool ok = s && len > 0 && len < CALENDAR_NAME_MAX && strlen(s) == len;
	for (size_t k = 0; ok && k < len; k++)
		ok = (unsigned char)s[k] >= 0x20 && s[k] != 0x7f;
	if (!ok) {
		fail(l, "%snames[%zu].%s is not a name (1 to %d bytes of text)", where, i, key, CALENDAR_NAME_MAX - 1);
		return NULL;
	}
	return s;
}

/* "names": [{"zh", "en", "from", "to", "workdays": [...]}]: what each holiday period is
 * called, for its days from..to and for the adjusted working days that belong to it. */
static int load_names(struct loader *l, json_t *arr, int year, const char *where)
{
	if (!json_is_array(arr)) {
		fail(l, "%snames is not an array", where);
		return -1;
	}
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		if (!json_is_object(o)) {
			fail(l, "%snames[%zu] is not an object", where, i);
			return -1;
		}
		const char *key;
		json_t *v;
		json_object_foreach(o, key, v) {
			if (strcmp(key, "zh") && strcmp(key, "en") && strcmp(key, "from") && strcmp(key, "to") &&
			    strcmp(key, "workdays")) {
				char q[48];
				quote(q, key, strlen(key));
				fail(l, "%snames[%zu]: unknown key \"%s\" (expected zh, en, from, to, workdays)", where, i, q);
				return -1;
			}
		}
		const char *zh = name_text(l, o, "zh", where, i), *en = zh ? name_text(l, o, "en", where, i) : NULL;
		int32_t from, to;
		if (!en || name_day(l, json_object_get(o, "from"), year, where, i, "from", &from) ||
		    name_day(l, json_object_get(o, "to"), year, where, i, "to", &to))
			return -1;
		if (to < from || to - from > 31) {
			fail(l, "%snames[%zu]: \"to\" is before \"from\" or more than 31 days after it", where, i);
			return -1;
		}
		for (int32_t d = from; d <= to; d++)
			add_name(l, d, zh, en);
		json_t *w = json_object_get(o, "workdays");
		if (w && !json_is_array(w)) {
			fail(l, "%snames[%zu].workdays is not an array", where, i);
			return -1;
		}
		size_t k;
		json_array_foreach(w, k, v) {
			int32_t day;
			if (name_day(l, v, year, where, i, "workdays", &day))
				return -1;
			add_name(l, day, zh, en);
		}
	}
	return 0;
}

/* Loads "holidays", "workdays", "names" and "note" from obj; year keys too when year < 0 (top level). */
static int load_object(struct loader *l, json_t *obj, int year)
{
	char where[16] = "";
	if (year >= 0)
		snprintf(where, sizeof(where), "%04d.", year);
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		size_t klen = strlen(key);
		char q[48];
		quote(q, key, klen);
		if (strcmp(key, "holidays") == 0 || strcmp(key, "workdays") == 0) {
			if (load_list(l, key[0] == 'w', v, year, where) != 0)
				return -1;
		} else if (strcmp(key, "names") == 0) {
			if (load_names(l, v, year, where) != 0)
				return -1;
		} else if (strcmp(key, "note") == 0) {
			if (!json_is_string(v)) {
				fail(l, "%snote is not a string", where);
				return -1;
			}
		} else if (year < 0 && klen == 4 && digits(key, 4) >= 0) {
			if (!json_is_object(v)) {
				fail(l, "\"%s\" is not an object", q);
				return -1;
			}
			if (load_object(l, v, digits(key, 4)) != 0)
				return -1;
		} else {
			fail(l, "%sunknown key \"%s\" (expected holidays, workdays, names, note%s)", where, q,
				year < 0 ? " or a year" : "");
			return -1;
		}
	}
	return 0;
}

static struct calendar *parse(struct loader *l_, const char *text, size_t len, char *err, size_t errlen)
{
	struct loader l = *l_;
	struct calendar *c = NULL;
	if (errlen)
		err[0] = '\0';
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root) {
		fail(&l, "line %d: %s", je.line, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		fail(&l, "not a JSON object");
		goto out;
	}
	if (load_object(&l, root, -1) != 0)
		goto out;
	c = calendar_new(l.days[0], l.n[0], l.days[1], l.n[1]);
	/* A day that is both is a contradiction in the file, not something to resolve silently. */
	for (size_t i = 0; i < l.n[1]; i++) {
		if (calendar_is_holiday(c, l.days[1][i])) {
			char s[11];
			calendar_format_day(l.days[1][i], s);
			fail(&l, "\"%s\" is listed both in holidays and in workdays", s);
			calendar_free(c);
			c = NULL;
			goto out;
		}
	}
out:
	json_decref(root);
	free(l.days[0]);
	free(l.days[1]);
	l_->names = l.names;
	l_->nnames = l.nnames;
	return c;
}

struct calendar *calendar_parse_json(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
	struct loader l = { .name = name ? name : "holidays", .err = err, .errlen = errlen };
	struct calendar *c = parse(&l, text, len, err, errlen);
	free(l.names);
	return c;
}

static int name_cmp(const void *a, const void *b)
{
	int32_t x = ((const struct calendar_name *)a)->day, y = ((const struct calendar_name *)b)->day;
	return (x > y) - (x < y);
}

struct calendar *calendar_parse_json_names(const char *text, size_t len, const char *name, struct calendar_name **names,
					   size_t *nnames, char *err, size_t errlen)
{
	struct loader l = { .name = name ? name : "holidays", .err = err, .errlen = errlen, .want_names = true };
	struct calendar *c = parse(&l, text, len, err, errlen);
	if (!c) {
		free(l.names);
		*names = NULL;
		*nnames = 0;
		return NULL;
	}
	if (l.nnames)
		qsort(l.names, l.nnames, sizeof(*l.names), name_cmp);
	*names = l.names;
	*nnames = l.nnames;
	return c;
}

const struct calendar_name *calendar_name_of(const struct calendar_name *names, size_t n, int32_t day)
{
	struct calendar_name key = { .day = day };
	return n ? bsearch(&key, names, n, sizeof(*names), name_cmp) : NULL;
}

struct calendar *calendar_load_json_names(const char *path, struct calendar_name **names, size_t *nnames, char *err,
					  size_t errlen)
{
	size_t len;
	char *text = read_file(path, HOLIDAYS_MAX_BYTES, &len);
	if (!text) {
		*names = NULL;
		*nnames = 0;
		if (errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct calendar *c = calendar_parse_json_names(text, len, path, names, nnames, err, errlen);
	free(text);
	return c;
}

struct calendar *calendar_load_json(const char *path, char *err, size_t errlen)
{
	struct calendar_name *names;
	size_t n;
	struct calendar *c = calendar_load_json_names(path, &names, &n, err, errlen);
	free(names);
	return c;
}
