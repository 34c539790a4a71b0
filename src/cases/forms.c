#include "cases/forms.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/str.h"
#include "base/util.h"
#include "identity/idcheck.h"
#include "view/view.h"

/* Field types, in the order of type_info[]. */
enum ftype {
	FT_TEXT,
	FT_TEXTAREA,
	FT_NUMBER,
	FT_DATE,
	FT_SELECT,
	FT_ID_NUMBER,
	FT_USCC,
	FT_PHONE,
	FT_EMAIL,
	FT_ADDRESS,
	FT_FILE,
	FT_COUNT_
};

/* The catalogs and the language of the messages (v may be NULL: messages are their keys). */
struct words {
	const struct view *v;
	const char *lang;
};

/* How a type is shown: the HTML control and its attributes (NULL / 0 = none). */
struct type_info {
	const char *name;
	const char *input_type; /* "text", "date", ... or "textarea" / "select" (not <input>) */
	const char *inputmode;
	const char *autocomplete;
	int maxlength;
	const char *accept;
	const char *hint; /* message key of the format hint */
};

static const struct type_info type_info[FT_COUNT_] = {
	[FT_TEXT] = { "text", "text", NULL, NULL, FORMS_TEXT_MAX, NULL, NULL },
	[FT_TEXTAREA] = { "textarea", "textarea", NULL, NULL, FORMS_TEXTAREA_MAX, NULL, NULL },
	[FT_NUMBER] = { "number", "text", "decimal", "off", 16, NULL, N_("forms_hint_number") },
	[FT_DATE] = { "date", "date", NULL, NULL, 0, NULL, N_("forms_hint_date") },
	[FT_SELECT] = { "select", "select", NULL, NULL, 0, NULL, NULL },
	[FT_ID_NUMBER] = { "id_number", "text", "text", "off", 18, NULL, N_("forms_hint_id_number") },
	[FT_USCC] = { "uscc", "text", "text", "off", 18, NULL, N_("forms_hint_uscc") },
	[FT_PHONE] = { "phone", "tel", "numeric", "tel", 11, NULL, N_("forms_hint_phone") },
	[FT_EMAIL] = { "email", "email", NULL, "email", FORMS_EMAIL_MAX, NULL, NULL },
	[FT_ADDRESS] = { "address", "text", NULL, "street-address", FORMS_TEXT_MAX, NULL, NULL },
	[FT_FILE] = { "file", "file", NULL, NULL, 0, ".pdf,.jpg,.jpeg,.png", N_("forms_hint_file") },
};

/* Messages for citizens (catalog keys); each names the field by its {label}. */
enum msg {
	M_MISSING,
	M_MISSING_SELECT,
	M_MISSING_FILE,
	M_FORMAT,
	M_TOO_LONG,
	M_TEXTAREA_TOO_LONG,
	M_CHARS,
	M_NUMBER,
	M_NUMBER_BIG,
	M_DATE,
	M_DATE_RANGE,
	M_SELECT,
	M_EMAIL,
	M_FILE,
	M_COUNT_
};

static const char *const messages[M_COUNT_] = {
	[M_MISSING] = N_("forms_err_missing"),
	[M_MISSING_SELECT] = N_("forms_err_missing_select"),
	[M_MISSING_FILE] = N_("forms_err_missing_file"),
	[M_FORMAT] = N_("forms_err_format"),
	[M_TOO_LONG] = N_("forms_err_too_long"),
	[M_TEXTAREA_TOO_LONG] = N_("forms_err_textarea_too_long"),
	[M_CHARS] = N_("forms_err_chars"),
	[M_NUMBER] = N_("forms_err_number"),
	[M_NUMBER_BIG] = N_("forms_err_number_big"),
	[M_DATE] = N_("forms_err_date"),
	[M_DATE_RANGE] = N_("forms_err_date_range"),
	[M_SELECT] = N_("forms_err_select"),
	[M_EMAIL] = N_("forms_err_email"),
	[M_FILE] = N_("forms_err_file"),
};

/* Bounds of a definition (the catalog enforces the same, src/catalog/validate.c). */
#define FORMS_MAX_FIELDS 100
#define FORMS_MAX_OPTIONS 200
#define FORMS_KEY_MAX 64
/* Short values (numbers, dates, identifiers) longer than this after trimming are refused
 * before they are copied, whatever they hold. */
#define SHORT_MAX 64
#define FILE_REF_LEN 64

/* One field of a definition, checked by field_get(); pointers borrow from the definition. */
struct field {
	json_t *def;
	const char *key;
	enum ftype type;
	bool required;
	json_t *options; /* select only: a non-empty array of objects with a string value */
};

static bool key_ok(const char *k, size_t len)
{
	if (len == 0 || len > FORMS_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int type_from_name(const char *s)
{
	for (int t = 0; t < FT_COUNT_; t++)
		if (strcmp(s, type_info[t].name) == 0)
			return t;
	return -1;
}

/* Checks one field definition and fills *out. Returns 0 or GH_EINVAL. */
static int field_get(json_t *f, struct field *out)
{
	if (!json_is_object(f))
		return GH_EINVAL;
	json_t *k = json_object_get(f, "key"), *t = json_object_get(f, "type");
	if (!json_is_string(k) || !key_ok(json_string_value(k), json_string_length(k)))
		return GH_EINVAL;
	if (!json_is_string(t))
		return GH_EINVAL;
	int type = type_from_name(json_string_value(t));
	if (type < 0)
		return GH_EINVAL;
	json_t *req = json_object_get(f, "required"), *personal = json_object_get(f, "personal");
	if ((req && !json_is_boolean(req)) || (personal && !json_is_boolean(personal)))
		return GH_EINVAL;
	*out = (struct field){ f, json_string_value(k), (enum ftype)type, json_is_true(req), NULL };
	if (type != FT_SELECT)
		return 0;
	json_t *opts = json_object_get(f, "options");
	if (!json_is_array(opts) || json_array_size(opts) == 0 ||
	    json_array_size(opts) > FORMS_MAX_OPTIONS)
		return GH_EINVAL;
	size_t i;
	json_t *o;
	json_array_foreach(opts, i, o) {
		if (!json_is_object(o) || !json_is_string(json_object_get(o, "value")))
			return GH_EINVAL;
	}
	out->options = opts;
	return 0;
}

bool forms_field_personal(json_t *f)
{
	const char *t = json_string_value(json_object_get(f, "type"));
	if (json_is_true(json_object_get(f, "personal")))
		return true;
	return t && (strcmp(t, "id_number") == 0 || strcmp(t, "uscc") == 0 || strcmp(t, "phone") == 0 ||
		     strcmp(t, "email") == 0 || strcmp(t, "address") == 0);
}

int forms_def_check(json_t *def)
{
	if (!json_is_array(def) || json_array_size(def) > FORMS_MAX_FIELDS)
		return GH_EINVAL;
	json_t *seen = json_object();
	int rc = 0;
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f) {
		struct field fd;
		if ((rc = field_get(f, &fd)) != 0)
			break;
		if (json_object_get(seen, fd.key)) {
			rc = GH_EINVAL;
			break;
		}
		json_object_set_new(seen, fd.key, json_true());
	}
	json_decref(seen);
	return rc;
}

/* A label in lang, falling back to Chinese, then to the key. Never NULL. */
static const char *label_of(json_t *o, const struct words *w, const char *fallback)
{
	bool en = w->lang && strcmp(w->lang, "en") == 0;
	const char *s = json_string_value(json_object_get(o, en ? "label_en" : "label_zh"));
	if (!s || !s[0])
		s = json_string_value(json_object_get(o, "label_zh"));
	if (!s || !s[0])
		s = json_string_value(json_object_get(o, "label_en"));
	return s && s[0] ? s : fallback;
}

static const char *msg(const struct words *w, const char *key)
{
	return view_msg(w->v, w->lang, key);
}

/* Sets errors[key] to message m naming the field, or to "label：reason" when the key of a
 * reason is given. */
static void set_error(json_t *errors, const struct field *fd, const struct words *w, enum msg m,
		      const char *reason)
{
	const char *label = label_of(fd->def, w, fd->key);
	struct arena *a = arena_new(512);
	const struct msg_arg args[] = { MA("label", label),
					MA("max", m == M_TEXTAREA_TOO_LONG ? FORMS_TEXTAREA_MAX : FORMS_TEXT_MAX),
					MA("reason", reason ? msg(w, reason) : "") };
	const char *text = view_fmt(w->v, w->lang, a, reason ? "forms_err_reason" : messages[m], args, ARRAY_LEN(args));
	json_t *s = json_string(text);
	if (!s) /* a label that is not UTF-8 (json_string_nocheck): say it without the label */
		s = json_string(msg(w, "err_validation_failed"));
	json_object_set_new(errors, fd->key, s);
	arena_free(a);
}

/* White space a citizen's input may carry around a value: ASCII white space, NO-BREAK SPACE,
 * IDEOGRAPHIC SPACE (Chinese input methods) and a stray byte order mark. Returns its length at
 * p (up to end), or 0. */
static size_t space_at(const unsigned char *p, const unsigned char *end)
{
	if (p >= end)
		return 0;
	if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		return 1;
	if (end - p >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
		return 2;
	if (end - p >= 3 && ((p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) ||
			     (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)))
		return 3;
	return 0;
}

/* The length at p of the white space that ends just before end (a multi-byte space is
 * recognised as a whole), or 0. */
static size_t space_before(const unsigned char *start, const unsigned char *end)
{
	if (end > start && (end[-1] == ' ' || (end[-1] >= '\t' && end[-1] <= '\r')))
		return 1;
	if (end - start >= 2 && end[-2] == 0xC2 && end[-1] == 0xA0)
		return 2;
	if (end - start >= 3 && space_at(end - 3, end) == 3)
		return 3;
	return 0;
}

static struct str trim(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n;
	while ((n = space_at(p, end)) != 0)
		p += n;
	while (end > p && (n = space_before(p, end)) != 0)
		end -= n;
	return str_n((const char *)p, (size_t)(end - p));
}

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
		if (end - p >= 3 && p[0] == 0xEF && (p[1] == 0xBC || p[1] == 0xBD) &&
		    p[2] >= 0x80 && p[2] <= 0xBF) {
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

/* Non-negative decimal, at most 12 digits before the point and 2 after (trailing zeros
 * aside); writes the canonical form ("007.50" -> "7.5", "0.00" -> "0") into out (size >=
 * SHORT_MAX). Returns 0, M_NUMBER or M_NUMBER_BIG. */
static int number_norm(const char *s, size_t len, char *out)
{
	size_t i = 0, ib, ie, fb, fe;
	ib = i;
	while (i < len && is_digit(s[i]))
		i++;
	ie = i;
	fb = fe = i;
	if (i < len && s[i] == '.') {
		fb = ++i;
		while (i < len && is_digit(s[i]))
			i++;
		fe = i;
	}
	if (i != len || (ie == ib && fe == fb))
		return M_NUMBER;
	while (ib < ie && s[ib] == '0')
		ib++;
	while (fe > fb && s[fe - 1] == '0')
		fe--;
	if (ie - ib > 12)
		return M_NUMBER_BIG;
	if (fe - fb > 2)
		return M_NUMBER;
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
	out[n] = '\0';
	return 0;
}

/* "YYYY-MM-DD" with a real date: 0, M_DATE or M_DATE_RANGE (outside 1900..2100). */
static int date_check(const char *s, size_t len)
{
	int32_t day;
	int y, m, d;
	if (calendar_parse_day(s, len, &day) != 0)
		return M_DATE;
	calendar_ymd(day, &y, &m, &d);
	if (y < 1900 || y > 2100)
		return M_DATE_RANGE;
	return 0;
}

static bool file_ref_ok(const char *s, size_t len)
{
	if (len != FILE_REF_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static enum msg missing_msg(enum ftype t)
{
	return t == FT_SELECT ? M_MISSING_SELECT : t == FT_FILE ? M_MISSING_FILE : M_MISSING;
}

static const char *idcheck_what(enum ftype t)
{
	return t == FT_ID_NUMBER ? "id_number" : t == FT_USCC ? "uscc" : "phone";
}

/* Validates one field's raw input (NULL when absent) into values or errors. */
static void field_validate(const struct field *fd, json_t *in, const struct words *w, json_t *values,
			   json_t *errors)
{
	if (in && !json_is_null(in) && !json_is_string(in)) {
		set_error(errors, fd, w, M_FORMAT, NULL);
		return;
	}
	struct str s = in && json_is_string(in) ? trim(json_string_value(in), json_string_length(in))
						: STR_NULL;
	if (s.len == 0) {
		if (fd->required)
			set_error(errors, fd, w, missing_msg(fd->type), NULL);
		return;
	}
	char buf[4 * FORMS_EMAIL_MAX + 8];
	long n;

	switch (fd->type) {
	case FT_TEXT:
	case FT_ADDRESS:
	case FT_TEXTAREA: {
		bool multi = fd->type == FT_TEXTAREA;
		long max = multi ? FORMS_TEXTAREA_MAX : FORMS_TEXT_MAX;
		if (!str_utf8_valid(s.p, s.len)) {
			set_error(errors, fd, w, M_CHARS, NULL);
			return;
		}
		n = text_chars(s, multi);
		if (n < 0) {
			set_error(errors, fd, w, M_CHARS, NULL);
			return;
		}
		if (n > max) {
			set_error(errors, fd, w, multi ? M_TEXTAREA_TOO_LONG : M_TOO_LONG, NULL);
			return;
		}
		if (!multi) {
			json_object_set_new(values, fd->key, json_stringn(s.p, s.len));
			return;
		}
		/* Line breaks become LF. s.len is bounded: at most max characters of 4 bytes. */
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
		json_object_set_new(values, fd->key, json_stringn(out, o));
		free(out);
		return;
	}
	case FT_NUMBER: {
		char num[SHORT_MAX + 8];
		if (s.len > SHORT_MAX || fold_ascii(s, buf, SHORT_MAX + 1, NULL) < 0) {
			set_error(errors, fd, w, M_NUMBER, NULL);
			return;
		}
		int m = number_norm(buf, strlen(buf), num);
		if (m)
			set_error(errors, fd, w, (enum msg)m, NULL);
		else
			json_object_set_new(values, fd->key, json_string(num));
		return;
	}
	case FT_DATE: {
		if (s.len > SHORT_MAX || (n = fold_ascii(s, buf, SHORT_MAX + 1, NULL)) < 0) {
			set_error(errors, fd, w, M_DATE, NULL);
			return;
		}
		int m = date_check(buf, (size_t)n);
		if (m)
			set_error(errors, fd, w, (enum msg)m, NULL);
		else
			json_object_set_new(values, fd->key, json_stringn(buf, (size_t)n));
		return;
	}
	case FT_SELECT: {
		size_t i;
		json_t *o;
		json_array_foreach(fd->options, i, o) {
			json_t *v = json_object_get(o, "value");
			if (str_eq(s, str_n(json_string_value(v), json_string_length(v)))) {
				json_object_set_new(values, fd->key, json_string(json_string_value(v)));
				return;
			}
		}
		set_error(errors, fd, w, M_SELECT, NULL);
		return;
	}
	case FT_ID_NUMBER:
	case FT_USCC:
	case FT_PHONE: {
		char norm[SHORT_MAX + 1];
		enum idcheck_err e = IDCHECK_LENGTH;
		/* Spaces and hyphens inside are what people type to group the digits. */
		n = s.len > SHORT_MAX ? -1 : fold_ascii(s, buf, SHORT_MAX + 1, " \t-");
		size_t nl = n > 0 ? idcheck_normalize(buf, (size_t)n, norm, sizeof(norm)) : 0;
		if (nl > 0 && fd->type == FT_PHONE) {
			/* The country code of a mainland number. */
			if (nl == 14 && memcmp(norm, "+86", 3) == 0)
				memmove(norm, norm + 3, (nl -= 3) + 1);
			else if (nl == 13 && memcmp(norm, "86", 2) == 0)
				memmove(norm, norm + 2, (nl -= 2) + 1);
		}
		if (nl > 0)
			e = fd->type == FT_ID_NUMBER ? idcheck_id_number(norm, nl)
			    : fd->type == FT_USCC    ? idcheck_uscc(norm, nl)
						     : idcheck_phone(norm, nl);
		if (e != IDCHECK_OK)
			set_error(errors, fd, w, M_FORMAT, idcheck_reason(e, idcheck_what(fd->type)));
		else
			json_object_set_new(values, fd->key, json_stringn(norm, nl));
		return;
	}
	case FT_EMAIL:
		if (s.len > 4 * FORMS_EMAIL_MAX ||
		    (n = fold_ascii(s, buf, FORMS_EMAIL_MAX + 1, NULL)) < 0 ||
		    !str_email_norm(buf, (size_t)n)) {
			set_error(errors, fd, w, M_EMAIL, NULL);
			return;
		}
		json_object_set_new(values, fd->key, json_stringn(buf, (size_t)n));
		return;
	case FT_FILE:
		if (!file_ref_ok(s.p, s.len))
			set_error(errors, fd, w, M_FILE, NULL);
		else
			json_object_set_new(values, fd->key, json_stringn(s.p, s.len));
		return;
	case FT_COUNT_:
		break;
	}
	abort(); /* unreachable: field_get() accepts known types only */
}

int forms_validate(json_t *def, json_t *input, const struct view *v, const char *lang, json_t **values,
		   json_t **errors)
{
	const struct words w = { v, lang };
	*values = NULL;
	*errors = NULL;
	if (forms_def_check(def) != 0)
		return GH_EINVAL;
	json_t *vals = json_object(), *errs = json_object();
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f) {
		struct field fd;
		field_get(f, &fd); /* checked above */
		json_t *in = json_is_object(input) ? json_object_get(input, fd.key) : NULL;
		field_validate(&fd, in, &w, vals, errs);
	}
	*values = vals;
	*errors = errs;
	return 0;
}

/* The value to show in a field: values[key] if it is a string of a plausible size for the
 * type (a raw input re-shown after an error is never echoed when huge), else "". */
static json_t *view_value(const struct field *fd, json_t *values)
{
	json_t *v = json_is_object(values) ? json_object_get(values, fd->key) : NULL;
	size_t max = fd->type == FT_TEXTAREA ? 4 * FORMS_TEXTAREA_MAX
		     : fd->type == FT_TEXT || fd->type == FT_ADDRESS ? 4 * FORMS_TEXT_MAX
		     : 4 * FORMS_EMAIL_MAX;
	if (!json_is_string(v) || json_string_length(v) > max)
		return json_string("");
	return json_incref(v);
}

static json_t *field_view(const struct field *fd, json_t *values, json_t *errors, const struct words *w)
{
	const struct type_info *ti = &type_info[fd->type];
	json_t *o = json_object();
	char flag[32];

	json_object_set_new(o, "key", json_string(fd->key));
	json_object_set_new(o, "name", json_string(fd->key));
	struct sb id = SB_INIT;
	sb_addf(&id, "f_%s", fd->key);
	json_object_set_new(o, "id", json_stringn(id.buf, id.len));
	sb_release(&id);
	json_object_set_new(o, "label", json_string(label_of(fd->def, w, fd->key)));
	json_object_set_new(o, "type", json_string(ti->name));
	json_object_set_new(o, "required", json_boolean(fd->required));
	json_object_set_new(o, "input_type", json_string(ti->input_type));
	snprintf(flag, sizeof(flag), "is_%s", ti->name);
	json_object_set_new(o, flag, json_true());
	/* An <input> element (as opposed to a textarea, a select or a file upload). */
	json_object_set_new(o, "is_input", json_boolean(fd->type != FT_TEXTAREA &&
							fd->type != FT_SELECT &&
							fd->type != FT_FILE));
	if (ti->inputmode)
		json_object_set_new(o, "inputmode", json_string(ti->inputmode));
	if (ti->autocomplete)
		json_object_set_new(o, "autocomplete", json_string(ti->autocomplete));
	if (ti->maxlength)
		json_object_set_new(o, "maxlength", json_integer(ti->maxlength));
	if (ti->accept)
		json_object_set_new(o, "accept", json_string(ti->accept));
	if (ti->hint)
		json_object_set_new(o, "hint", json_string(msg(w, ti->hint)));

	json_t *value = view_value(fd, values);
	const char *cur = json_string_value(value);
	size_t curlen = json_string_length(value);
	json_object_set_new(o, "value", value);

	json_t *err = json_is_object(errors) ? json_object_get(errors, fd->key) : NULL;
	if (json_is_string(err)) {
		json_object_set(o, "error", err);
		json_object_set_new(o, "has_error", json_true());
	}

	if (fd->type == FT_SELECT) {
		json_t *opts = json_array();
		size_t i;
		json_t *op;
		json_array_foreach(fd->options, i, op) {
			json_t *v = json_object_get(op, "value");
			json_t *e = json_object();
			json_object_set_new(e, "value", json_string(json_string_value(v)));
			json_object_set_new(e, "label",
					    json_string(label_of(op, w, json_string_value(v))));
			json_object_set_new(e, "selected",
					    json_boolean(str_eq(str_n(cur, curlen),
								str_n(json_string_value(v),
								      json_string_length(v)))));
			json_array_append_new(opts, e);
		}
		json_object_set_new(o, "options", opts);
	}
	return o;
}

json_t *forms_view(json_t *def, json_t *values, json_t *errors, const struct view *v, const char *lang)
{
	if (forms_def_check(def) != 0)
		return NULL;
	const struct words w = { v, lang };
	json_t *out = json_array();
	size_t i;
	json_t *f;
	json_array_foreach(def, i, f) {
		struct field fd;
		field_get(f, &fd);
		json_array_append_new(out, field_view(&fd, values, errors, &w));
	}
	return out;
}
