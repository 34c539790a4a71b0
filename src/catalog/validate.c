/* validate.c: checks a parsed catalog file, record by record, without a database.
 *
 * Every problem is reported with the JSON path of the offending value ("services[3].form[1]
 * .options: select fields need at least one option") so an operator can fix a whole file in
 * one pass; validation never stops at the first error. Values quoted in messages are
 * truncated and stripped of control characters, since they come from the file. */
#include "catalog/catalog_impl.h"
#include "catalog/fields.h"

#include <stdarg.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "base/util.h"

struct vctx {
	FILE *errors;
	size_t nerrors;
	bool bad; /* the current record has an error */
	json_t *depts, *regions, *items; /* sets: known in db + seen in the file */
	json_t *bundles;
};

static void verr(struct vctx *v, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void verr(struct vctx *v, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->nerrors++;
	v->bad = true;
	if (v->errors)
		fprintf(v->errors, "%s: %s\n", path, msg);
}

/* Copies at most 60 bytes of s into buf for a message, cut on a UTF-8 boundary, with control
 * characters, quotes and backslashes replaced by '?'. */
static const char *quote(const char *s, char *buf, size_t size)
{
	size_t n = 0, i = 0;
	if (!s)
		s = "";
	while (s[i] && n + 5 < size && i < 60) {
		unsigned char c = (unsigned char)s[i];
		size_t clen = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c < 0x80) {
			buf[n++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
			i++;
			continue;
		}
		size_t k;
		for (k = 1; k < clen && s[i + k]; k++)
			;
		if (k < clen)
			break;
		memcpy(buf + n, s + i, clen);
		n += clen;
		i += clen;
	}
	if (s[i] && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = 0;
	return buf;
}

static const char *type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* Paths are bounded by the nesting of the format (a few levels), far below the buffers; a
 * longer one would only be cut short in the message. */
static void sub(char *out, size_t size, const char *base, const char *key)
{
	if (snprintf(out, size, "%s.%s", base, key) >= (int)size)
		out[size - 1] = 0;
}

static void idx(char *out, size_t size, const char *base, size_t i)
{
	if (snprintf(out, size, "%s[%zu]", base, i) >= (int)size)
		out[size - 1] = 0;
}

/* Rejects members of obj not in allowed (NULL-terminated). */
static void check_keys(struct vctx *v, json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], key) == 0)
				ok = true;
		if (!ok) {
			char p[600], q[80];
			sub(p, sizeof(p), path, quote(key, q, sizeof(q)));
			verr(v, p, "unknown field");
		}
	}
}

/* Member key of obj, its path in p; NULL when absent (or null, with null_absent), reported
 * as required unless optional. */
static json_t *member(struct vctx *v, json_t *obj, const char *path, const char *key, bool optional, bool null_absent,
		      char p[600])
{
	json_t *j = json_object_get(obj, key);
	sub(p, 600, path, key);
	if (j && !(null_absent && json_is_null(j)))
		return j;
	if (!optional)
		verr(v, p, "required");
	return NULL;
}

/* A string member; NULL when absent or bad (reported). optional: absence and null are fine. */
static const char *get_str(struct vctx *v, json_t *obj, const char *path, const char *key,
			   bool optional, size_t maxchars)
{
	char p[600];
	json_t *j = member(v, obj, path, key, optional, true, p);
	if (!j)
		return NULL;
	if (!json_is_string(j)) {
		verr(v, p, "expected a string, got %s", type_name(j));
		return NULL;
	}
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);
	if (!str_utf8_valid(s, len)) {
		verr(v, p, "not valid UTF-8 text");
		return NULL;
	}
	if (len == 0 || strspn(s, " \t\r\n") == len) {
		if (!optional)
			verr(v, p, "must not be empty");
		return NULL;
	}
	size_t n = str_utf8_chars(s, len);
	if (n > maxchars) {
		verr(v, p, "too long (%zu characters, at most %zu)", n, maxchars);
		return NULL;
	}
	return s;
}

/* An integer member in [min, max]; returns false when absent or bad (reported). */
static bool get_int(struct vctx *v, json_t *obj, const char *path, const char *key, long min,
		    long max, long *out)
{
	char p[600];
	json_t *j = member(v, obj, path, key, false, false, p);
	if (!j)
		return false;
	if (!json_is_integer(j)) {
		verr(v, p, "expected a whole number, got %s", type_name(j));
		return false;
	}
	json_int_t x = json_integer_value(j);
	if (x < min || x > max) {
		verr(v, p, "must be from %ld to %ld", min, max);
		return false;
	}
	*out = (long)x;
	return true;
}

static bool get_bool(struct vctx *v, json_t *obj, const char *path, const char *key)
{
	char p[600];
	json_t *j = member(v, obj, path, key, false, false, p);
	if (!j)
		return false;
	if (!json_is_boolean(j)) {
		verr(v, p, "expected true or false");
		return false;
	}
	return true;
}

/* An enum member: one of values (NULL-terminated). */
static const char *get_enum(struct vctx *v, json_t *obj, const char *path, const char *key,
			    const char *const *values, const char *hint)
{
	const char *s = get_str(v, obj, path, key, false, 100);
	if (!s)
		return NULL;
	for (size_t i = 0; values[i]; i++)
		if (strcmp(values[i], s) == 0)
			return s;
	char p[600], q[80];
	sub(p, sizeof(p), path, key);
	verr(v, p, "unknown value \"%s\" (expected %s)", quote(s, q, sizeof(q)), hint);
	return NULL;
}

/* [a-z] then up to maxrest of [a-z0-9] plus the characters in extra. */
static bool code_ok(const char *s, size_t maxrest, const char *extra)
{
	if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	size_t i;
	for (i = 1; s[i]; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (extra && strchr(extra, c))))
			return false;
	}
	return i - 1 <= maxrest;
}

static json_t *get_obj(struct vctx *v, json_t *rec, const char *path)
{
	if (!json_is_object(rec)) {
		verr(v, path, "expected an object, got %s", type_name(rec));
		return NULL;
	}
	return rec;
}

/* The array a at path, checked: absent (absent says so; NULL: it may be absent), not an array
 * ("expected <what>, got <type>"), empty (empty says so; NULL: it may be empty), more than max
 * entries ("too many <noun> (at most max)"). Returns a, or NULL when absent or wrong (said). */
static json_t *get_list(struct vctx *v, json_t *a, const char *path, const char *absent, const char *what,
			const char *empty, size_t max, const char *noun)
{
	if (!a) {
		if (absent)
			verr(v, path, "%s", absent);
		return NULL;
	}
	if (!json_is_array(a))
		verr(v, path, "expected %s, got %s", what, type_name(a));
	else if (empty && json_array_size(a) == 0)
		verr(v, path, "%s", empty);
	else if (json_array_size(a) > max)
		verr(v, path, "too many %s (at most %zu)", noun, max);
	else
		return a;
	return NULL;
}

/* Registers code in set; reports a duplicate. */
static void add_code(struct vctx *v, json_t *seen, json_t *set, const char *code, const char *path, const char *what)
{
	if (!code)
		return;
	if (json_object_get(seen, code)) {
		char q[80];
		verr(v, path, "duplicate %s code \"%s\"", what, quote(code, q, sizeof(q)));
		return;
	}
	json_object_set_new(seen, code, json_true());
	json_object_set_new(set, code, json_true());
}

/* ---- records ------------------------------------------------------------------------- */

static void check_department(struct vctx *v, json_t *rec, const char *path, json_t *seen)
{
	static const char *const keys[] = { "code", "name_zh", "name_en", "phone", "address_zh",
					    "address_en", NULL };
	if (!get_obj(v, rec, path))
		return;
	check_keys(v, rec, path, keys);
	const char *code = get_str(v, rec, path, "code", false, 100);
	char p[600];
	sub(p, sizeof(p), path, "code");
	if (code && !code_ok(code, 15, NULL)) {
		verr(v, p, "expected a lower-case code of letters and digits (at most 16), e.g. \"psb\"");
		code = NULL;
	}
	get_str(v, rec, path, "name_zh", false, CATALOG_MAX_NAME);
	get_str(v, rec, path, "name_en", false, CATALOG_MAX_NAME);
	get_str(v, rec, path, "phone", true, 50);
	get_str(v, rec, path, "address_zh", true, CATALOG_MAX_NAME);
	get_str(v, rec, path, "address_en", true, CATALOG_MAX_NAME);
	add_code(v, seen, v->depts, code, p, "department");
}

static void check_region(struct vctx *v, json_t *rec, const char *path, json_t *seen)
{
	static const char *const keys[] = { "code", "parent", "level", "name_zh", "name_en", NULL };
	static const char *const levels[] = { "city", "district", NULL };
	if (!get_obj(v, rec, path))
		return;
	check_keys(v, rec, path, keys);
	char p[600], q[80];
	const char *code = get_str(v, rec, path, "code", false, 100);
	sub(p, sizeof(p), path, "code");
	if (code && !code_ok(code, 39, "_-")) {
		verr(v, p, "expected a lower-case code of letters, digits, '_' and '-' (at most 40)");
		code = NULL;
	}
	const char *parent = get_str(v, rec, path, "parent", true, 100);
	if (parent && !json_object_get(v->regions, parent)) {
		char pp[600];
		sub(pp, sizeof(pp), path, "parent");
		verr(v, pp, "unknown region \"%s\" (a parent must come before its children)",
		     quote(parent, q, sizeof(q)));
	}
	get_enum(v, rec, path, "level", levels, "city or district");
	get_str(v, rec, path, "name_zh", false, CATALOG_MAX_NAME);
	get_str(v, rec, path, "name_en", false, CATALOG_MAX_NAME);
	if (code && parent && strcmp(code, parent) == 0) {
		char pp[600];
		sub(pp, sizeof(pp), path, "parent");
		verr(v, pp, "a region cannot be its own parent");
	}
	add_code(v, seen, v->regions, code, p, "region");
}

static void check_material(struct vctx *v, json_t *m, const char *path)
{
	static const char *const keys[] = { "name_zh", "name_en", "required", "form", "ecert", NULL };
	static const char *const forms[] = { "original", "copy", "electronic", NULL };
	if (!get_obj(v, m, path))
		return;
	check_keys(v, m, path, keys);
	get_str(v, m, path, "name_zh", false, CATALOG_MAX_NAME);
	get_str(v, m, path, "name_en", false, CATALOG_MAX_NAME);
	get_bool(v, m, path, "required");
	get_enum(v, m, path, "form", forms, "original, copy or electronic");
	const char *ecert = get_str(v, m, path, "ecert", true, 100);
	if (ecert && !catalog_ecert_find(ecert)) {
		char p[600], q[80];
		sub(p, sizeof(p), path, "ecert");
		verr(v, p, "unknown e-certificate type \"%s\"", quote(ecert, q, sizeof(q)));
	}
}

static void check_field(struct vctx *v, json_t *f, const char *path, json_t *keys_seen)
{
	static const char *const keys[] = { "key", "label_zh", "label_en", "type", "required",
					    "personal", "options", NULL };
	static const char *const okeys[] = { "value", "label_zh", "label_en", NULL };
	char p[600], q[80];
	if (!get_obj(v, f, path))
		return;
	check_keys(v, f, path, keys);
	const char *key = get_str(v, f, path, "key", false, 100);
	sub(p, sizeof(p), path, "key");
	if (key && !code_ok(key, 39, "_")) {
		verr(v, p, "expected [a-z][a-z0-9_]{0,39}, got \"%s\"", quote(key, q, sizeof(q)));
	} else if (key) {
		if (json_object_get(keys_seen, key))
			verr(v, p, "duplicate field key \"%s\"", key);
		json_object_set_new(keys_seen, key, json_true());
	}
	get_str(v, f, path, "label_zh", false, CATALOG_MAX_NAME);
	get_str(v, f, path, "label_en", false, CATALOG_MAX_NAME);
	get_bool(v, f, path, "required");
	/* Optional: marks a field of another type as personal data, sealed at rest and masked on
	 * screen like an ID number (cases/forms.h). */
	if (json_object_get(f, "personal"))
		get_bool(v, f, path, "personal");
	const char *type = get_str(v, f, path, "type", false, 100);
	sub(p, sizeof(p), path, "type");
	const struct catalog_field_type *t = catalog_field_type(type);
	if (type && !t)
		verr(v, p, "unknown field type \"%s\" (expected %s)", quote(type, q, sizeof(q)), catalog_field_type_names());
	json_t *opts = json_object_get(f, "options");
	sub(p, sizeof(p), path, "options");
	if (t && !t->options) {
		if (opts)
			verr(v, p, "only select fields have options");
		return;
	}
	static const char need[] = "select fields need at least one option";
	if (!t || !get_list(v, opts, p, need, "an array", need, 200, "options"))
		return;
	json_t *values = json_object();
	size_t i;
	json_t *o;
	json_array_foreach(opts, i, o) {
		char op[600];
		idx(op, sizeof(op), p, i);
		if (!get_obj(v, o, op))
			continue;
		check_keys(v, o, op, okeys);
		const char *val = get_str(v, o, op, "value", false, 100);
		if (val) {
			if (json_object_get(values, val)) {
				char vp[600];
				sub(vp, sizeof(vp), op, "value");
				verr(v, vp, "duplicate option value \"%s\"", quote(val, q, sizeof(q)));
			}
			json_object_set_new(values, val, json_true());
		}
		get_str(v, o, op, "label_zh", false, CATALOG_MAX_NAME);
		get_str(v, o, op, "label_en", false, CATALOG_MAX_NAME);
	}
	json_decref(values);
}

/* aliases_zh / aliases_en: what people call the thing (俗称, 常用名), searched and shown on
 * the guide page; optional, at most CATALOG_MAX_ALIASES distinct non-empty strings of at
 * most CATALOG_MAX_ALIAS characters. */
static void check_aliases(struct vctx *v, json_t *rec, const char *path, const char *key)
{
	char p[600], q[80];
	size_t i;
	json_t *e, *a = json_object_get(rec, key);
	sub(p, sizeof(p), path, key);
	if (json_is_null(a) || !get_list(v, a, p, NULL, "an array of strings", NULL, CATALOG_MAX_ALIASES, "aliases"))
		return;
	json_t *seen = json_object();
	json_array_foreach(a, i, e) {
		char ap[600];
		idx(ap, sizeof(ap), p, i);
		const char *s = json_string_value(e);
		if (!s || !*s)
			verr(v, ap, "expected a non-empty string");
		else if (!str_utf8_valid(s, json_string_length(e)))
			verr(v, ap, "not valid UTF-8 text");
		else if (str_utf8_chars(s, json_string_length(e)) > CATALOG_MAX_ALIAS)
			verr(v, ap, "too long (at most %d characters)", CATALOG_MAX_ALIAS);
		else if (strpbrk(s, ";\n\r\t") || strstr(s, "；"))
			verr(v, ap, "one alias per string (no ';', tabs or line breaks)");
		else if (json_object_get(seen, s))
			verr(v, ap, "\"%s\" is listed twice", quote(s, q, sizeof(q)));
		else
			json_object_set_new(seen, s, json_true());
	}
	json_decref(seen);
}

static void check_fee(struct vctx *v, json_t *rec, const char *path);
static void check_joint(struct vctx *v, json_t *rec, const char *path);

static void rules_err(void *ctx, const char *path, const char *msg)
{
	verr(ctx, path, "%s", msg);
}

static void check_item(struct vctx *v, json_t *rec, const char *path, json_t *seen)
{
	static const char *const keys[] = {
		"code", "name_zh", "name_en", "department", "audience", "theme", "item_type", "level",
		"legal_limit_days", "promised_limit_days", "fee_yuan", "online_depth",
		"visits_required", "conditions_zh", "conditions_en", "legal_basis_zh", "materials",
		"form", "outcome_ecert", "keywords_zh", "aliases_zh", "aliases_en", "fee", "rules", "joint", NULL,
	};
	static const char *const levels[] = { "city", "district", NULL };
	static const char *const types[] = { "licensing", "confirmation", "payment",
					     "public_service", "other", NULL };
	char p[600], q[80];
	size_t i;
	json_t *e;

	if (!get_obj(v, rec, path))
		return;
	check_keys(v, rec, path, keys);
	const char *code = get_str(v, rec, path, "code", false, 100);
	const char *dept = get_str(v, rec, path, "department", false, 100);
	sub(p, sizeof(p), path, "department");
	if (dept && !json_object_get(v->depts, dept)) {
		verr(v, p, "unknown department \"%s\"", quote(dept, q, sizeof(q)));
		dept = NULL;
	}
	sub(p, sizeof(p), path, "code");
	if (code) {
		const char *dash = strrchr(code, '-');
		bool ok = dash && strlen(dash + 1) == 4 && strspn(dash + 1, "0123456789") == 4 &&
			  dash > code;
		if (ok && dept)
			ok = (size_t)(dash - code) == strlen(dept) && memcmp(code, dept, strlen(dept)) == 0;
		if (!ok) {
			verr(v, p, "expected <department>-NNNN, e.g. \"%s-0001\", got \"%s\"",
			     dept ? dept : "psb", quote(code, q, sizeof(q)));
			code = NULL;
		}
	}
	add_code(v, seen, v->items, code, p, "service item");

	get_str(v, rec, path, "name_zh", false, CATALOG_MAX_NAME);
	get_str(v, rec, path, "name_en", false, CATALOG_MAX_NAME);

	json_t *aud = json_object_get(rec, "audience");
	sub(p, sizeof(p), path, "audience");
	if (!aud) {
		verr(v, p, "required");
	} else if (!json_is_array(aud) || json_array_size(aud) == 0 || json_array_size(aud) > 2) {
		verr(v, p, "expected a list with \"individual\", \"enterprise\" or both");
	} else {
		unsigned bits = 0;
		json_array_foreach(aud, i, e) {
			char ap[600];
			idx(ap, sizeof(ap), p, i);
			const char *s = json_string_value(e);
			unsigned b = !s ? 0 : !strcmp(s, "individual") ? CATALOG_AUD_INDIVIDUAL :
				     !strcmp(s, "enterprise") ? CATALOG_AUD_ENTERPRISE : 0;
			if (!b)
				verr(v, ap, "expected \"individual\" or \"enterprise\"");
			else if (bits & b)
				verr(v, ap, "listed twice");
			bits |= b;
		}
	}

	const char *theme = get_str(v, rec, path, "theme", false, 100);
	if (theme && !catalog_theme_find(theme)) {
		sub(p, sizeof(p), path, "theme");
		verr(v, p, "unknown theme \"%s\"", quote(theme, q, sizeof(q)));
	}
	get_enum(v, rec, path, "item_type", types,
		 "licensing, confirmation, payment, public_service or other");
	get_enum(v, rec, path, "level", levels, "city or district");

	long legal = 0, promised = 0, x;
	bool have_legal = get_int(v, rec, path, "legal_limit_days", 0, 3650, &legal);
	bool have_promised = get_int(v, rec, path, "promised_limit_days", 0, 3650, &promised);
	if (have_legal && have_promised && promised > legal) {
		sub(p, sizeof(p), path, "promised_limit_days");
		verr(v, p, "the promised limit (%ld) exceeds the legal limit (%ld)", promised, legal);
	}
	json_t *fee = json_object_get(rec, "fee_yuan");
	sub(p, sizeof(p), path, "fee_yuan");
	if (!fee)
		verr(v, p, "required");
	else if (!json_is_number(fee))
		verr(v, p, "expected a number, got %s", type_name(fee));
	else if (!(json_number_value(fee) >= 0 && json_number_value(fee) <= 1e9))
		verr(v, p, "must be from 0 to 1000000000");
	get_int(v, rec, path, "online_depth", 1, 4, &x);
	get_int(v, rec, path, "visits_required", 0, 2, &x);
	get_str(v, rec, path, "conditions_zh", false, CATALOG_MAX_TEXT);
	get_str(v, rec, path, "conditions_en", false, CATALOG_MAX_TEXT);
	get_str(v, rec, path, "legal_basis_zh", false, CATALOG_MAX_TEXT);

	json_t *mats = json_object_get(rec, "materials");
	sub(p, sizeof(p), path, "materials");
	if (get_list(v, mats, p, "required", "an array", NULL, 100, "materials"))
		json_array_foreach(mats, i, e) {
			char mp[600];
			idx(mp, sizeof(mp), p, i);
			check_material(v, e, mp);
		}

	json_t *form = json_object_get(rec, "form");
	sub(p, sizeof(p), path, "form");
	if (get_list(v, form, p, "required", "an array", NULL, 100, "fields")) {
		json_t *keys_seen = json_object();
		json_array_foreach(form, i, e) {
			char fp[600];
			idx(fp, sizeof(fp), p, i);
			check_field(v, e, fp, keys_seen);
		}
		json_decref(keys_seen);
	}

	const char *oc = get_str(v, rec, path, "outcome_ecert", true, 100);
	if (oc && !catalog_ecert_find(oc)) {
		sub(p, sizeof(p), path, "outcome_ecert");
		verr(v, p, "unknown e-certificate type \"%s\"", quote(oc, q, sizeof(q)));
	}

	json_t *kw = json_object_get(rec, "keywords_zh");
	sub(p, sizeof(p), path, "keywords_zh");
	if (get_list(v, kw, p, NULL, "an array of strings", NULL, 20, "keywords")) {
		json_array_foreach(kw, i, e) {
			char kp[600];
			idx(kp, sizeof(kp), p, i);
			if (!json_is_string(e) || json_string_length(e) == 0)
				verr(v, kp, "expected a non-empty string");
			else if (!str_utf8_valid(json_string_value(e), json_string_length(e)))
				verr(v, kp, "not valid UTF-8 text");
			else if (str_utf8_chars(json_string_value(e), json_string_length(e)) > 100)
				verr(v, kp, "too long (at most 100 characters)");
		}
	}
	check_aliases(v, rec, path, "aliases_zh");
	check_aliases(v, rec, path, "aliases_en");
	if (json_object_get(rec, "fee"))
		check_fee(v, rec, path);
	if (json_object_get(rec, "rules"))
		catalog_rules_check(rec, path, rules_err, v);
	if (json_object_get(rec, "joint"))
		check_joint(v, rec, path);
}

static void check_bundle(struct vctx *v, json_t *rec, const char *path, json_t *seen)
{
	static const char *const keys[] = { "code", "name_zh", "name_en", "items", "description_zh",
					    "description_en", "aliases_zh", "aliases_en", NULL };
	char p[600], q[80];
	if (!get_obj(v, rec, path))
		return;
	check_keys(v, rec, path, keys);
	const char *code = get_str(v, rec, path, "code", false, 100);
	sub(p, sizeof(p), path, "code");
	if (code && !code_ok(code, 39, "_-")) {
		verr(v, p, "expected a lower-case code of letters, digits, '_' and '-' (at most 40)");
		code = NULL;
	}
	add_code(v, seen, v->bundles, code, p, "bundle");
	get_str(v, rec, path, "name_zh", false, CATALOG_MAX_NAME);
	get_str(v, rec, path, "name_en", false, CATALOG_MAX_NAME);
	get_str(v, rec, path, "description_zh", false, CATALOG_MAX_TEXT);
	get_str(v, rec, path, "description_en", false, CATALOG_MAX_TEXT);
	check_aliases(v, rec, path, "aliases_zh");
	check_aliases(v, rec, path, "aliases_en");
	json_t *items = json_object_get(rec, "items");
	sub(p, sizeof(p), path, "items");
	static const char codes[] = "a non-empty array of service item codes";
	if (!get_list(v, items, p, "required", codes, "expected a non-empty array of service item codes", 100, "items"))
		return;
	json_t *dup = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(items, i, e) {
		char ip[600];
		idx(ip, sizeof(ip), p, i);
		const char *s = json_string_value(e);
		if (!s || !*s || !str_utf8_valid(s, json_string_length(e)))
			verr(v, ip, "expected a service item code");
		else if (!json_object_get(v->items, s))
			verr(v, ip, "unknown service item \"%s\"", quote(s, q, sizeof(q)));
		else if (json_object_get(dup, s))
			verr(v, ip, "listed twice");
		else
			json_object_set_new(dup, s, json_true());
	}
	json_decref(dup);
}

/* The file's "withdrawn": codes of items the hall no longer offers. Each must be an item the
 * database has a current version of (known), not one the same file also imports, and listed
 * once. */
static void check_withdrawn(struct vctx *v, json_t *list, json_t *services, const struct catalog_known *known)
{
	char q[80];
	if (!json_is_array(list) || json_array_size(list) > CATALOG_MAX_RECORDS) {
		verr(v, "withdrawn", "expected an array of at most %d service item codes", CATALOG_MAX_RECORDS);
		return;
	}
	json_t *dup = json_object(), *imported = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(services, i, e)
	{
		const char *c = json_string_value(json_object_get(e, "code"));
		if (c)
			json_object_set_new(imported, c, json_true());
	}
	json_array_foreach(list, i, e)
	{
		char ip[64];
		idx(ip, sizeof(ip), "withdrawn", i);
		const char *s = json_string_value(e);
		if (!s || !*s || !str_utf8_valid(s, json_string_length(e)))
			verr(v, ip, "expected a service item code");
		else if (!known || !json_object_get(known->items, s))
			verr(v, ip, "unknown service item \"%s\" (or withdrawn already)", quote(s, q, sizeof(q)));
		else if (json_object_get(imported, s))
			verr(v, ip, "\"%s\" is also among this file's services: withdraw it or import it, not both",
			     quote(s, q, sizeof(q)));
		else if (json_object_get(dup, s))
			verr(v, ip, "listed twice");
		else
			json_object_set_new(dup, s, json_true());
	}
	json_decref(dup);
	json_decref(imported);
}

typedef void (*check_fn)(struct vctx *v, json_t *rec, const char *path, json_t *seen);

/* Checks every record of arr (a member of the file, or NULL) under the name base. */
static json_t *check_list(struct vctx *v, json_t *arr, const char *base, check_fn fn, size_t *nbad)
{
	if (!arr)
		return json_array();
	if (!json_is_array(arr)) {
		verr(v, base, "expected an array, got %s", type_name(arr));
		(*nbad)++;
		return json_array();
	}
	if (json_array_size(arr) > CATALOG_MAX_RECORDS) {
		verr(v, base, "too many records (at most %d)", CATALOG_MAX_RECORDS);
		(*nbad)++;
		return json_array();
	}
	json_t *seen = json_object();
	size_t i;
	json_t *rec;
	json_array_foreach(arr, i, rec) {
		char p[600];
		idx(p, sizeof(p), base, i);
		v->bad = false;
		fn(v, rec, p, seen);
		if (v->bad)
			(*nbad)++;
	}
	json_decref(seen);
	return json_incref(arr);
}

void catalog_set_release(struct catalog_set *set)
{
	json_decref(set->departments);
	json_decref(set->regions);
	json_decref(set->services);
	json_decref(set->bundles);
	json_decref(set->withdrawn);
	memset(set, 0, sizeof(*set));
}

static void copy_set(json_t *dst, json_t *src)
{
	if (json_is_object(src))
		json_object_update(dst, src);
}

int catalog_validate(json_t *root, const struct catalog_known *known, FILE *errors,
		     size_t *nerrors, size_t *nrecords, struct catalog_set *out)
{
	struct vctx v = { .errors = errors };
	size_t nbad = 0;
	struct catalog_set set = { 0 };
	int rc = GH_EVALIDATION;

	v.depts = json_object();
	v.regions = json_object();
	v.items = json_object();
	v.bundles = json_object();
	if (known) {
		copy_set(v.depts, known->departments);
		copy_set(v.regions, known->regions);
		copy_set(v.items, known->items);
	}
	if (json_is_array(root)) {
		set.departments = json_array();
		set.regions = json_array();
		set.services = check_list(&v, root, "services", check_item, &nbad);
		set.bundles = json_array();
		set.withdrawn = json_array();
	} else if (json_is_object(root)) {
		static const char *const keys[] = { "departments", "regions", "services", "bundles", "withdrawn", NULL };
		check_keys(&v, root, "$", keys);
		if (v.bad)
			nbad++;
		set.departments = check_list(&v, json_object_get(root, "departments"), "departments",
					     check_department, &nbad);
		set.regions = check_list(&v, json_object_get(root, "regions"), "regions", check_region,
					 &nbad);
		set.services = check_list(&v, json_object_get(root, "services"), "services", check_item,
					  &nbad);
		set.bundles = check_list(&v, json_object_get(root, "bundles"), "bundles", check_bundle,
					 &nbad);
		json_t *wd = json_object_get(root, "withdrawn");
		set.withdrawn = wd ? json_incref(wd) : json_array();
		if (wd) {
			v.bad = false;
			check_withdrawn(&v, wd, set.services, known);
			if (v.bad)
				nbad++;
		}
	} else {
		verr(&v, "$", "expected an object with departments, regions, services and bundles, or an "
		     "array of service items; got %s", root ? type_name(root) : "nothing");
		nbad++;
	}
	if (v.nerrors == 0) {
		rc = 0;
		*out = set;
	} else {
		catalog_set_release(&set);
	}
	json_decref(v.depts);
	json_decref(v.regions);
	json_decref(v.items);
	json_decref(v.bundles);
	if (nerrors)
		*nerrors = v.nerrors;
	if (nrecords)
		*nrecords = nbad;
	return rc;
}

/* ---- fees ------------------------------------------------------------------------------- */

#define FEE_FEN_MAX 100000000000LL /* fen: one billion yuan (pay/proto.h PAY_AMOUNT_MAX) */

/* An amount of fen: a JSON integer in [min, FEE_FEN_MAX]. */
static bool get_fen(struct vctx *v, json_t *obj, const char *path, const char *key, long long min, bool optional,
		    long long *out)
{
	char p[600];
	json_t *j = member(v, obj, path, key, optional, false, p);
	if (!j)
		return false;
	if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > FEE_FEN_MAX) {
		verr(v, p, "expected a whole number of fen (分) from %lld to %lld", min, FEE_FEN_MAX);
		return false;
	}
	*out = json_integer_value(j);
	return true;
}

/* The form field of the item whose key is the member `key` of obj (reported when absent, not a
 * field of the form, or not of type `type`, or not required when `required`). */
static json_t *fee_field(struct vctx *v, json_t *rec, json_t *obj, const char *path, const char *key, const char *type,
			 bool required)
{
	char p[600], q[80];
	const char *k = get_str(v, obj, path, key, false, 64);
	sub(p, sizeof(p), path, key);
	if (!k)
		return NULL;
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(rec, "form"), i, f)
	{
		const char *fk = json_string_value(json_object_get(f, "key"));
		if (!fk || strcmp(fk, k) != 0)
			continue;
		const char *ft = json_string_value(json_object_get(f, "type"));
		if (type && (!ft || strcmp(ft, type) != 0))
			verr(v, p, "the field \"%s\" must be of type %s", quote(k, q, sizeof(q)), type);
		else if (required && !json_is_true(json_object_get(f, "required")))
			verr(v, p, "the field \"%s\" must be required, or the fee could be left unassessed", quote(k, q, sizeof(q)));
		else
			return f;
		return NULL;
	}
	verr(v, p, "no field \"%s\" in the item's form", quote(k, q, sizeof(q)));
	return NULL;
}

/* The item's fee rule (docs/payments.md, "Fees in the catalog"): where in the workflow it is
 * due, its legal basis, exactly one way to price it (a fixed amount, per unit of a number field,
 * or by the option chosen in a select field), and exemptions by rule. */
/* "joint": {"hall", "item_code"}: the item's second step is the other hall's item (多地联办,
 * docs/federation.md). What goes there is the person's, so the item is for individuals and its
 * form asks their consent: a required select field "joint_consent" whose one option is "yes". */
static void check_joint(struct vctx *v, json_t *rec, const char *path)
{
	static const char *const keys[] = { "hall", "item_code", NULL };
	char p[600], fp[600];
	sub(p, sizeof(p), path, "joint");
	json_t *j = json_object_get(rec, "joint");
	if (!json_is_object(j)) {
		verr(v, p, "expected an object {hall, item_code}, got %s", type_name(j));
		return;
	}
	check_keys(v, j, p, keys);
	get_str(v, j, p, "hall", false, 64);
	get_str(v, j, p, "item_code", false, 64);
	json_t *aud = json_object_get(rec, "audience");
	if (json_array_size(aud) != 1 || strcmp(json_string_value(json_array_get(aud, 0)) ?: "", "individual"))
		verr(v, p, "an item with a step at another hall is for individuals only (audience [\"individual\"])");
	size_t i;
	json_t *f, *consent = NULL;
	json_array_foreach(json_object_get(rec, "form"), i, f)
		if (!strcmp(json_string_value(json_object_get(f, "key")) ?: "", "joint_consent"))
			consent = f;
	json_t *opts = json_object_get(consent, "options");
	sub(fp, sizeof(fp), path, "form");
	if (!consent || !json_is_true(json_object_get(consent, "required")) ||
	    strcmp(json_string_value(json_object_get(consent, "type")) ?: "", "select") || json_array_size(opts) != 1 ||
	    strcmp(json_string_value(json_object_get(json_array_get(opts, 0), "value")) ?: "", "yes"))
		verr(v, fp, "an item with a step at another hall needs a required select field \"joint_consent\" with the one "
			    "option \"yes\" (the person's consent to send the application there)");
}

static void check_fee(struct vctx *v, json_t *rec, const char *path)
{
	static const char *const keys[] = { "point", "basis_zh", "basis_en", "amount_fen", "per_unit", "by_option",
					    "exemptions", NULL };
	static const char *const points[] = { "before_acceptance", "after_approval", NULL };
	char p[600], q[80];
	sub(p, sizeof(p), path, "fee");
	json_t *fee = json_object_get(rec, "fee");
	if (!json_is_object(fee)) {
		verr(v, p, "expected an object, got %s", type_name(fee));
		return;
	}
	check_keys(v, fee, p, keys);
	get_enum(v, fee, p, "point", points, "before_acceptance or after_approval");
	get_str(v, fee, p, "basis_zh", false, 300);
	get_str(v, fee, p, "basis_en", false, 300);
	json_t *fixed = json_object_get(fee, "amount_fen"), *pu = json_object_get(fee, "per_unit"),
	       *bo = json_object_get(fee, "by_option");
	if ((fixed != NULL) + (pu != NULL) + (bo != NULL) != 1) {
		verr(v, p, "give exactly one of amount_fen, per_unit and by_option");
	} else if (fixed) {
		long long amount;
		if (get_fen(v, fee, p, "amount_fen", 1, false, &amount)) {
			/* The guide's headline fee says the same. */
			double yuan = json_number_value(json_object_get(rec, "fee_yuan"));
			if (json_is_number(json_object_get(rec, "fee_yuan")) && (long long)(yuan * 100 + 0.5) != amount) {
				char ap[600];
				sub(ap, sizeof(ap), p, "amount_fen");
				verr(v, ap, "%lld fen disagrees with fee_yuan (%g)", amount, yuan);
			}
		}
	} else if (pu) {
		char pp[600];
		sub(pp, sizeof(pp), p, "per_unit");
		long long x;
		long units;
		if (!json_is_object(pu)) {
			verr(v, pp, "expected an object, got %s", type_name(pu));
		} else {
			static const char *const pkeys[] = { "field", "unit_fen", "base_fen", "max_units", NULL };
			check_keys(v, pu, pp, pkeys);
			fee_field(v, rec, pu, pp, "field", "number", true);
			get_fen(v, pu, pp, "unit_fen", 1, false, &x);
			get_fen(v, pu, pp, "base_fen", 0, true, &x);
			get_int(v, pu, pp, "max_units", 1, 100000, &units);
		}
	} else {
		char bp[600];
		sub(bp, sizeof(bp), p, "by_option");
		if (!json_is_object(bo)) {
			verr(v, bp, "expected an object, got %s", type_name(bo));
		} else {
			static const char *const bkeys[] = { "field", "amounts_fen", NULL };
			check_keys(v, bo, bp, bkeys);
			json_t *f = fee_field(v, rec, bo, bp, "field", "select", true);
			json_t *amounts = json_object_get(bo, "amounts_fen");
			char ap[600];
			sub(ap, sizeof(ap), bp, "amounts_fen");
			if (!json_is_object(amounts)) {
				verr(v, ap, "expected an object of option -> fen");
			} else if (f) {
				/* Every option priced, and nothing but the options. */
				size_t i;
				json_t *o;
				json_array_foreach(json_object_get(f, "options"), i, o)
				{
					const char *ov = json_string_value(json_object_get(o, "value"));
					if (ov && !json_object_get(amounts, ov))
						verr(v, ap, "no amount for the option \"%s\"", quote(ov, q, sizeof(q)));
				}
				const char *k;
				json_t *val;
				json_object_foreach(amounts, k, val)
				{
					bool known = false;
					long long x;
					json_array_foreach(json_object_get(f, "options"), i, o)
					{
						const char *ov = json_string_value(json_object_get(o, "value"));
						known |= ov && !strcmp(ov, k);
					}
					if (!known)
						verr(v, ap, "\"%s\" is not an option of the field", quote(k, q, sizeof(q)));
					else
						get_fen(v, amounts, ap, k, 0, false, &x);
				}
			}
		}
	}
	json_t *ex = json_object_get(fee, "exemptions");
	char ep[600];
	sub(ep, sizeof(ep), p, "exemptions");
	if (!ex)
		return;
	if (!json_is_array(ex) || json_array_size(ex) > 10) {
		verr(v, ep, "expected a list of at most 10 exemptions");
		return;
	}
	json_t *codes = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(ex, i, e)
	{
		static const char *const ekeys[] = { "code", "name_zh", "name_en", "when", NULL };
		char xp[600];
		idx(xp, sizeof(xp), ep, i);
		if (!json_is_object(e)) {
			verr(v, xp, "expected an object, got %s", type_name(e));
			continue;
		}
		check_keys(v, e, xp, ekeys);
		const char *code = get_str(v, e, xp, "code", false, 32);
		char cp[600];
		sub(cp, sizeof(cp), xp, "code");
		if (code && !code_ok(code, 31, "_"))
			verr(v, cp, "expected a lower-case code of letters, digits and '_' (at most 32)");
		else if (code && json_object_get(codes, code))
			verr(v, cp, "\"%s\" is listed twice", quote(code, q, sizeof(q)));
		else if (code)
			json_object_set_new(codes, code, json_true());
		get_str(v, e, xp, "name_zh", false, 100);
		get_str(v, e, xp, "name_en", false, 100);
		json_t *when = json_object_get(e, "when");
		char wp[600];
		sub(wp, sizeof(wp), xp, "when");
		if (!json_is_array(when) || json_array_size(when) == 0 || json_array_size(when) > 4) {
			verr(v, wp, "expected a list of 1 to 4 conditions, all of which must hold");
			continue;
		}
		size_t k;
		json_t *c;
		json_array_foreach(when, k, c)
		{
			static const char *const ckeys[] = { "field", "equals", "age_at_least", NULL };
			char kp[600];
			idx(kp, sizeof(kp), wp, k);
			if (!json_is_object(c)) {
				verr(v, kp, "expected an object, got %s", type_name(c));
				continue;
			}
			check_keys(v, c, kp, ckeys);
			json_t *eq = json_object_get(c, "equals"), *age = json_object_get(c, "age_at_least");
			if ((eq != NULL) == (age != NULL)) {
				verr(v, kp, "give exactly one of equals and age_at_least");
			} else if (eq) {
				fee_field(v, rec, c, kp, "field", NULL, false);
				get_str(v, c, kp, "equals", false, 200);
			} else {
				long years;
				fee_field(v, rec, c, kp, "field", "id_number", false);
				get_int(v, c, kp, "age_at_least", 1, 150, &years);
			}
		}
	}
	json_decref(codes);
}
