/* format.c: the pure parts of Open311 — resource suffixes, times, coordinates, attribute
 * keys, lists, and the JSON / XML writer. No I/O; fuzzed by tests/fuzz/fuzz_open311.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "open311/open311_impl.h"

#define XML_DEPTH_MAX 16

int open311_split_format(struct arena *a, const char *seg, const char **name, enum open311_fmt *fmt)
{
	size_t n = seg ? strlen(seg) : 0;
	if (n > 5 && strcmp(seg + n - 5, ".json") == 0) {
		*fmt = OPEN311_JSON;
		n -= 5;
	} else if (n > 4 && strcmp(seg + n - 4, ".xml") == 0) {
		*fmt = OPEN311_XML;
		n -= 4;
	} else {
		return GH_EINVAL;
	}
	*name = arena_strndup(a, seg, n);
	return 0;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int open311_parse_time(const char *s, int64_t *out)
{
	if (!s)
		return GH_EINVAL;
	size_t len = strlen(s);
	if (len < 10 || len > 40)
		return GH_EINVAL;
	int32_t day;
	if (calendar_parse_day(s, 10, &day))
		return GH_EINVAL;
	const char *p = s + 10;
	int h = 0, m = 0, sec = 0;
	long offset = CALENDAR_CST_OFFSET; /* no zone: China Standard Time */
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &m) || h > 23 || m > 59)
			return GH_EINVAL;
		p += 5;
		if (*p == ':') {
			if (digits(p + 1, 2, &sec) || sec > 60)
				return GH_EINVAL;
			if (sec == 60)
				sec = 59; /* a leap second counts as the second before */
			p += 3;
			if (*p == '.' || *p == ',') {
				p++;
				size_t nd = 0;
				while (*p >= '0' && *p <= '9' && nd < 9) {
					p++;
					nd++;
				}
				if (!nd)
					return GH_EINVAL;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			offset = 0;
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om;
			int sign = *p == '-' ? -1 : 1;
			p++;
			if (digits(p, 2, &oh))
				return GH_EINVAL;
			p += 2;
			if (*p == ':')
				p++;
			if (digits(p, 2, &om) || oh > 14 || om > 59)
				return GH_EINVAL;
			p += 2;
			offset = sign * (oh * 3600L + om * 60L);
		}
	}
	if (*p)
		return GH_EINVAL;
	*out = (int64_t)day * 86400 + h * 3600 + m * 60 + sec - offset;
	return 0;
}

void open311_format_time(int64_t t, char out[26])
{
	int64_t local = t + CALENDAR_CST_OFFSET;
	int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int64_t secs = local - day * 86400;
	char d[11];
	calendar_format_day((int32_t)day, d);
	char buf[64];
	snprintf(buf, sizeof(buf), "%s%c%02d:%02d:%02d+08:00", d, 'T', (int)(secs / 3600), (int)(secs / 60 % 60),
		 (int)(secs % 60));
	memcpy(out, buf, 25);
	out[25] = 0;
}

int open311_parse_coord(const char *s, double min, double max, double *out)
{
	if (!s || !*s || strlen(s) > 32)
		return GH_EINVAL;
	/* Plain decimals only: strtod would also take hex, inf and nan. */
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	size_t nd = 0, dots = 0;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			nd++;
		else if (*p == '.' && !dots)
			dots++;
		else
			return GH_EINVAL;
	}
	if (!nd)
		return GH_EINVAL;
	char *end;
	double v = strtod(s, &end);
	if (*end || !isfinite(v) || v < min || v > max)
		return GH_EINVAL;
	*out = v;
	return 0;
}

int open311_attr_key(struct arena *a, const char *key, const char **code, bool *multi)
{
	if (!key || strncmp(key, "attribute[", 10) != 0)
		return GH_EINVAL;
	const char *c = key + 10;
	const char *close = strchr(c, ']');
	if (!close || close == c || close - c > 64)
		return GH_EINVAL;
	for (const char *p = c; p < close; p++)
		if (*p == '[')
			return GH_EINVAL;
	if (close[1] == 0)
		*multi = false;
	else if (strcmp(close + 1, "[]") == 0)
		*multi = true;
	else
		return GH_EINVAL;
	*code = arena_strndup(a, c, (size_t)(close - c));
	return 0;
}

int open311_split_list(struct arena *a, const char *s, size_t max, const char ***items, size_t *n)
{
	size_t cap = 1;
	for (const char *p = s; p && *p; p++)
		cap += *p == ',';
	if (cap > max)
		cap = max + 1;
	const char **v = arena_array(a, cap, sizeof(*v));
	size_t k = 0;
	while (s && *s) {
		size_t len = strcspn(s, ",");
		const char *b = s, *e = s + len;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			if (k == max)
				return GH_ETOOBIG;
			v[k++] = arena_strndup(a, b, (size_t)(e - b));
		}
		s += len;
		if (*s == ',')
			s++;
	}
	if (!k)
		return GH_EINVAL;
	*items = v;
	*n = k;
	return 0;
}

/* Decodes one UTF-8 sequence at s (n bytes left): its length, or 0 when invalid (overlong,
 * surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len;
	unsigned v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

void open311_xml_text(struct sb *sb, const char *s, size_t n)
{
	static const char repl[] = "\xEF\xBF\xBD"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned cp;
		size_t len = utf8_next(p + i, n - i, &cp);
		if (!len) {
			sb_adds(sb, repl);
			i++;
			continue;
		}
		switch (cp) {
		case '&': sb_adds(sb, "&amp;"); break;
		case '<': sb_adds(sb, "&lt;"); break;
		case '>': sb_adds(sb, "&gt;"); break;
		case '"': sb_adds(sb, "&quot;"); break;
		case '\'': sb_adds(sb, "&apos;"); break;
		default:
			if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF)
				sb_adds(sb, repl);
			else
				sb_add(sb, p + i, len);
		}
		i += len;
	}
}

/* An XML name of our own making: ASCII letters, digits, '_', '-', '.', not starting with a
 * digit, '-' or '.'. (Member names come from our code, but a writer never trusts.) */
static bool xml_name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

static const char *item_name(const char *list)
{
	static const struct {
		const char *list, *item;
	} names[] = {
		{ "services", "service" },     { "service_requests", "request" }, { "attributes", "attribute" },
		{ "values", "value" },         { "endpoints", "endpoint" },       { "formats", "format" },
		{ "errors", "error" },         { "keywords", "keyword" },
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcmp(list, names[i].list) == 0)
			return names[i].item;
	return "item";
}

static void xml_value(struct sb *sb, const char *name, json_t *v, int depth)
{
	if (!xml_name_ok(name) || depth > XML_DEPTH_MAX)
		return;
	if (!v || json_is_null(v)) {
		sb_addf(sb, "<%s/>", name);
		return;
	}
	sb_addf(sb, "<%s>", name);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *m;
		json_object_foreach(v, k, m)
			xml_value(sb, k, m, depth + 1);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *m;
		const char *item = item_name(name);
		json_array_foreach(v, i, m)
			xml_value(sb, item, m, depth + 1);
		break;
	}
	case JSON_STRING:
		open311_xml_text(sb, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		sb_addf(sb, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		sb_addf(sb, "%.10g", json_real_value(v));
		break;
	case JSON_TRUE:
		sb_adds(sb, "true");
		break;
	case JSON_FALSE:
		sb_adds(sb, "false");
		break;
	default:
		break;
	}
	sb_addf(sb, "</%s>", name);
}

void open311_xml(struct sb *sb, const char *name, json_t *v)
{
	xml_value(sb, name, v, 0);
}

void open311_render(struct sb *sb, enum open311_fmt fmt, const char *root, json_t *v)
{
	if (fmt == OPEN311_XML) {
		sb_adds(sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
		open311_xml(sb, root, v);
		sb_addch(sb, '\n');
		return;
	}
	char *s = jsonout_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (s) {
		sb_adds(sb, s);
		free(s);
	}
}
