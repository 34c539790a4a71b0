/* fields.c: the form field types (fields.h): one entry per type, and the parsers of a
 * citizen's input they name. */
#include "catalog/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"
#include "base/sb.h"
#include "base/util.h"
#include "identity/idcheck.h"
#include "view/view.h"

/* Short values (numbers, dates, identifiers) longer than this after trimming are refused
 * before they are copied, whatever they hold. */
#define SHORT_MAX 64
#define FILE_REF_LEN 64

/* ---- helpers ---- */

/* Checks text for control characters (C0, DEL, C1); with multiline, LF and CR pass. Returns
 * the number of characters (CR LF counted once), or -1. The text must be valid UTF-8. */
static long text_chars(struct str s, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s.p;
	long n = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned c = p[i];
		if (c < 0x20 || c == 0x7F) {
			if (!multiline || (c != '\n' && c != '\r'))
				return -1;
			if (c == '\r' && i + 1 < s.len && p[i + 1] == '\n')
				continue; /* counted with the LF */
		} else if (c == 0xC2 && i + 1 < s.len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
			return -1; /* U+0080..U+009F */
		}
		if ((c & 0xC0) != 0x80)
			n++;
	}
	return n;
}

/* Copies s (at most outlen - 1 bytes of output) into out, folding the full-width forms of
 * ASCII (U+FF01..U+FF5E) and the ideographic space that Chinese input methods produce to
 * ASCII; with drop, the ASCII characters listed in drop are left out. Other bytes are copied
 * unchanged. Returns the length, or -1 when the result does not fit. */
static long fold_ascii(struct str s, char *out, size_t outlen, const char *drop)
{
	const unsigned char *p = (const unsigned char *)s.p, *end = p + s.len;
	size_t n = 0;
	while (p < end) {
		unsigned c = *p;
		size_t step = 1;
		if (end - p >= 3 && p[0] == 0xEF && (p[1] == 0xBC || p[1] == 0xBD) && p[2] >= 0x80 && p[2] <= 0xBF) {
			unsigned cp = ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu); /* low 12 bits */
			cp |= 0xF000;
			if (cp >= 0xFF01 && cp <= 0xFF5E) {
				c = cp - 0xFEE0;
				step = 3;
			}
		} else if (end - p >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) {
			c = ' ';
			step = 3;
		}
		p += step;
		if (drop && c < 0x80 && c != 0 && strchr(drop, (int)c))
			continue;
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (long)n;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ---- the parsers ---- */

/* Text of at most max characters, no control characters (multiline: line breaks become LF). */
static const char *text_of(struct str s, bool multi, long max, const char *too_long, json_t **value)
{
	if (!str_utf8_valid(s.p, s.len))
		return N_("forms_err_chars");
	long n = text_chars(s, multi);
	if (n < 0)
		return N_("forms_err_chars");
	if (n > max)
		return too_long;
	if (!multi) {
		*value = json_stringn(s.p, s.len);
		return NULL;
	}
	/* s.len is bounded: at most max characters of 4 bytes. */
	char *out = xmalloc(s.len + 1);
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\r') {
			out[o++] = '\n';
			if (i + 1 < s.len && s.p[i + 1] == '\n')
				i++;
		} else {
			out[o++] = s.p[i];
		}
	}
	*value = json_stringn(out, o);
	free(out);
	return NULL;
}

static const char *parse_text(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def, (void)reason;
	return text_of(s, false, CATALOG_FIELD_TEXT_MAX, N_("forms_err_too_long"), value);
}

static const char *parse_textarea(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def, (void)reason;
	return text_of(s, true, CATALOG_FIELD_TEXTAREA_MAX, N_("forms_err_textarea_too_long"), value);
}

/* Non-negative decimal, at most 12 digits before the point and 2 after (trailing zeros
 * aside), in canonical form ("007.50" -> "7.5", "0.00" -> "0"). */
static const char *parse_number(json_t *def, struct str in, json_t **value, const char **reason)
{
	(void)def, (void)reason;
	char s[SHORT_MAX + 8], out[SHORT_MAX + 8];
	long len = in.len > SHORT_MAX ? -1 : fold_ascii(in, s, SHORT_MAX + 1, NULL);
	if (len < 0)
		return N_("forms_err_number");
	size_t i = 0, ib = 0, ie, fb, fe;
	while (i < (size_t)len && is_digit(s[i]))
		i++;
	ie = i;
	fb = fe = i;
	if (i < (size_t)len && s[i] == '.') {
		fb = ++i;
		while (i < (size_t)len && is_digit(s[i]))
			i++;
		fe = i;
	}
	if (i != (size_t)len || (ie == ib && fe == fb))
		return N_("forms_err_number");
	while (ib < ie && s[ib] == '0')
		ib++;
	while (fe > fb && s[fe - 1] == '0')
		fe--;
	if (ie - ib > 12)
		return N_("forms_err_number_big");
	if (fe - fb > 2)
		return N_("forms_err_number");
	size_t n = 0;
	if (ib == ie)
		out[n++] = '0';
	memcpy(out + n, s + ib, ie - ib);
	n += ie - ib;
	if (fe > fb) {
		out[n++] = '.';
		memcpy(out + n, s + fb, fe - fb);
		n += fe - fb;
	}
	*value = json_stringn(out, n);
	return NULL;
}

/* "YYYY-MM-DD" with a real date in 1900..2100. */
static const char *parse_date(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def, (void)reason;
	char buf[SHORT_MAX + 8];
	long n = s.len > SHORT_MAX ? -1 : fold_ascii(s, buf, SHORT_MAX + 1, NULL);
	int32_t day;
	int y, m, d;
	if (n < 0 || calendar_parse_day(buf, (size_t)n, &day) != 0)
		return N_("forms_err_date");
	calendar_ymd(day, &y, &m, &d);
	if (y < 1900 || y > 2100)
		return N_("forms_err_date_range");
	*value = json_stringn(buf, (size_t)n);
	return NULL;
}

/* One of the options' values. */
static const char *parse_select(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)reason;
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(def, "options"), i, o) {
		json_t *v = json_object_get(o, "value");
		if (json_is_string(v) && str_eq(s, str_n(json_string_value(v), json_string_length(v)))) {
			*value = json_string(json_string_value(v));
			return NULL;
		}
	}
	return N_("forms_err_select");
}

/* The identifiers of idcheck.h: spaces and hyphens inside (what people type to group the
 * digits) dropped, full-width folded, a mainland phone number's country code dropped. */
static const char *identifier(struct str s, int kind, json_t **value, const char **reason)
{
	char buf[SHORT_MAX + 8], norm[SHORT_MAX + 1];
	enum idcheck_err e = IDCHECK_LENGTH;
	long n = s.len > SHORT_MAX ? -1 : fold_ascii(s, buf, SHORT_MAX + 1, " \t-");
	size_t nl = n > 0 ? idcheck_normalize(buf, (size_t)n, norm, sizeof(norm)) : 0;
	if (nl > 0 && kind == 'p') {
		if (nl == 14 && memcmp(norm, "+86", 3) == 0)
			memmove(norm, norm + 3, (nl -= 3) + 1);
		else if (nl == 13 && memcmp(norm, "86", 2) == 0)
			memmove(norm, norm + 2, (nl -= 2) + 1);
	}
	if (nl > 0)
		e = kind == 'i' ? idcheck_id_number(norm, nl) : kind == 'u' ? idcheck_uscc(norm, nl) : idcheck_phone(norm, nl);
	if (e != IDCHECK_OK) {
		*reason = idcheck_reason(e, kind == 'i' ? "id_number" : kind == 'u' ? "uscc" : "phone");
		return N_("forms_err_format");
	}
	*value = json_stringn(norm, nl);
	return NULL;
}

static const char *parse_id_number(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def;
	return identifier(s, 'i', value, reason);
}

static const char *parse_uscc(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def;
	return identifier(s, 'u', value, reason);
}

static const char *parse_phone(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def;
	return identifier(s, 'p', value, reason);
}

static const char *parse_email(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def, (void)reason;
	char buf[4 * CATALOG_FIELD_EMAIL_MAX + 8];
	long n;
	if (s.len > 4 * CATALOG_FIELD_EMAIL_MAX || (n = fold_ascii(s, buf, CATALOG_FIELD_EMAIL_MAX + 1, NULL)) < 0 ||
	    !str_email_norm(buf, (size_t)n))
		return N_("forms_err_email");
	*value = json_stringn(buf, (size_t)n);
	return NULL;
}

/* An attachment reference: 64 lower-case hex digits (the caller checks it names an upload). */
static const char *parse_file(json_t *def, struct str s, json_t **value, const char **reason)
{
	(void)def, (void)reason;
	bool ok = s.len == FILE_REF_LEN;
	for (size_t i = 0; ok && i < s.len; i++)
		ok = is_digit(s.p[i]) || (s.p[i] >= 'a' && s.p[i] <= 'f');
	if (!ok)
		return N_("forms_err_file");
	*value = json_stringn(s.p, s.len);
	return NULL;
}

/* ---- the table ---- */

#define TEXT_SHOWN (4 * CATALOG_FIELD_TEXT_MAX)
#define SHORT_SHOWN (4 * CATALOG_FIELD_EMAIL_MAX)
#define STR_SCHEMA(extra) "{\"type\":\"string\"" extra "}"

const struct catalog_field_type catalog_field_types[] = {
	{ "text", false, false, parse_text, N_("forms_err_missing"), TEXT_SHOWN, "text", true, NULL, NULL,
	  CATALOG_FIELD_TEXT_MAX, NULL, NULL, STR_SCHEMA(",\"maxLength\":200") },
	{ "textarea", false, false, parse_textarea, N_("forms_err_missing"), 4 * CATALOG_FIELD_TEXTAREA_MAX, "textarea",
	  false, NULL, NULL, CATALOG_FIELD_TEXTAREA_MAX, NULL, NULL, STR_SCHEMA(",\"maxLength\":2000") },
	{ "number", false, false, parse_number, N_("forms_err_missing"), SHORT_SHOWN, "text", true, "decimal", "off", 16,
	  NULL, N_("forms_hint_number"), STR_SCHEMA(",\"pattern\":\"^(0|[1-9][0-9]{0,11})(\\\\.[0-9]?[1-9])?$\"") },
	{ "date", false, false, parse_date, N_("forms_err_missing"), SHORT_SHOWN, "date", true, NULL, NULL, 0, NULL,
	  N_("forms_hint_date"), STR_SCHEMA(",\"format\":\"date\"") },
	{ "select", true, false, parse_select, N_("forms_err_missing_select"), SHORT_SHOWN, "select", false, NULL, NULL, 0,
	  NULL, NULL, STR_SCHEMA("") /* the options' values: catalog_form_schema adds them */ },
	{ "id_number", false, true, parse_id_number, N_("forms_err_missing"), SHORT_SHOWN, "text", true, "text", "off", 18,
	  NULL, N_("forms_hint_id_number"), STR_SCHEMA(",\"pattern\":\"^[0-9]{17}[0-9X]$\"") },
	{ "uscc", false, true, parse_uscc, N_("forms_err_missing"), SHORT_SHOWN, "text", true, "text", "off", 18, NULL,
	  N_("forms_hint_uscc"), STR_SCHEMA(",\"pattern\":\"^[0-9A-HJ-NPQRTUWXY]{18}$\"") },
	{ "phone", false, true, parse_phone, N_("forms_err_missing"), SHORT_SHOWN, "tel", true, "numeric", "tel", 11, NULL,
	  N_("forms_hint_phone"), STR_SCHEMA(",\"pattern\":\"^1[3-9][0-9]{9}$\"") },
	{ "email", false, true, parse_email, N_("forms_err_missing"), SHORT_SHOWN, "email", true, NULL, "email",
	  CATALOG_FIELD_EMAIL_MAX, NULL, NULL, STR_SCHEMA(",\"format\":\"email\"") },
	{ "address", false, true, parse_text, N_("forms_err_missing"), TEXT_SHOWN, "text", true, NULL, "street-address",
	  CATALOG_FIELD_TEXT_MAX, NULL, NULL, STR_SCHEMA(",\"maxLength\":200") },
	{ "file", false, false, parse_file, N_("forms_err_missing_file"), SHORT_SHOWN, "file", false, NULL, NULL, 0,
	  ".pdf,.jpg,.jpeg,.png", N_("forms_hint_file"), STR_SCHEMA(",\"pattern\":\"^[0-9a-f]{64}$\"") },
};
const size_t catalog_field_types_n = ARRAY_LEN(catalog_field_types);

const struct catalog_field_type *catalog_field_type(const char *name)
{
	for (size_t i = 0; name && i < catalog_field_types_n; i++)
		if (strcmp(catalog_field_types[i].name, name) == 0)
			return &catalog_field_types[i];
	return NULL;
}

const char *catalog_field_type_names(void)
{
	static char names[512];
	if (names[0])
		return names;
	struct sb b = SB_INIT;
	for (size_t i = 0; i < catalog_field_types_n; i++)
		sb_addf(&b, "%s%s", i == 0 ? "" : i + 1 == catalog_field_types_n ? " or " : ", ", catalog_field_types[i].name);
	snprintf(names, sizeof(names), "%s", b.buf);
	sb_release(&b);
	return names;
}

json_t *catalog_form_schema(json_t *def)
{
	if (!json_is_array(def))
		return NULL;
	json_t *props = json_object(), *required = json_array();
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f) {
		const char *key = json_string_value(json_object_get(f, "key"));
		const struct catalog_field_type *t = catalog_field_type(json_string_value(json_object_get(f, "type")));
		json_t *s = t && key ? json_loads(t->schema, 0, NULL) : NULL;
		if (!s) {
			json_decref(props);
			json_decref(required);
			return NULL;
		}
		if (t->options) {
			json_t *values = json_array(), *o;
			size_t k;
			json_array_foreach(json_object_get(f, "options"), k, o)
				json_array_append(values, json_object_get(o, "value"));
			json_object_set_new(s, "enum", values);
		}
		json_object_set_new(props, key, s);
		if (json_is_true(json_object_get(f, "required")))
			json_array_append_new(required, json_string(key));
	}
	return json_pack("{s:s,s:o,s:o}", "type", "object", "properties", props, "required", required);
}
