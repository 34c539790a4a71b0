#include "cases/forms.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/str.h"
#include "base/util.h"
#include "catalog/fields.h"
#include "view/view.h"

/* The catalogs and the language of the messages (v may be NULL: messages are their keys). */
struct words {
	const struct view *v;
	const char *lang;
};

/* Bounds of a definition (the catalog enforces the same, src/catalog/validate.c). */
#define FORMS_MAX_FIELDS 100
#define FORMS_MAX_OPTIONS 200
#define FORMS_KEY_MAX 64

/* One field of a definition, checked by field_get(); pointers borrow from the definition. */
struct field {
	json_t *def;
	const char *key;
	const struct catalog_field_type *type; /* catalog/fields.h */
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
	const struct catalog_field_type *type = catalog_field_type(json_string_value(t));
	if (!type)
		return GH_EINVAL;
	json_t *req = json_object_get(f, "required"), *personal = json_object_get(f, "personal");
	if ((req && !json_is_boolean(req)) || (personal && !json_is_boolean(personal)))
		return GH_EINVAL;
	*out = (struct field){ f, json_string_value(k), type, json_is_true(req), NULL };
	if (!type->options)
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
	const struct catalog_field_type *t = catalog_field_type(json_string_value(json_object_get(f, "type")));
	return json_is_true(json_object_get(f, "personal")) || (t && t->personal);
}

/* Field i of def checked (field_get) into *fd, its key not one of keys[0..i) (the keys of
 * the fields before it, which the caller keeps); 0 or GH_EINVAL. */
static int field_at(json_t *def, size_t i, const char **keys, struct field *fd)
{
	if (i >= FORMS_MAX_FIELDS || field_get(json_array_get(def, i), fd) != 0)
		return GH_EINVAL;
	for (size_t k = 0; k < i; k++)
		if (strcmp(keys[k], fd->key) == 0)
			return GH_EINVAL; /* a key twice */
	keys[i] = fd->key;
	return 0;
}

int forms_def_check(json_t *def)
{
	if (!json_is_array(def) || json_array_size(def) > FORMS_MAX_FIELDS)
		return GH_EINVAL;
	const char *keys[FORMS_MAX_FIELDS];
	struct field fd;
	for (size_t i = 0; i < json_array_size(def); i++)
		if (field_at(def, i, keys, &fd))
			return GH_EINVAL;
	return 0;
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

/* Sets errors[key] to the message of key m naming the field, or to "label：reason" when the
 * key of a reason is given. */
static void set_error(json_t *errors, const struct field *fd, const struct words *w, const char *m,
		      const char *reason)
{
	const char *label = label_of(fd->def, w, fd->key);
	struct arena *a = arena_new(512);
	bool area = strcmp(m, "forms_err_textarea_too_long") == 0;
	const struct msg_arg args[] = { MA("label", label), MA("max", area ? FORMS_TEXTAREA_MAX : FORMS_TEXT_MAX),
					MA("reason", reason ? msg(w, reason) : "") };
	const char *text = view_fmt(w->v, w->lang, a, reason ? "forms_err_reason" : m, args, ARRAY_LEN(args));
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

/* Validates one field's raw input (NULL when absent) into values or errors: the type's
 * parser (catalog/fields.h) on the trimmed input. */
static void field_validate(const struct field *fd, json_t *in, const struct words *w, json_t *values,
			   json_t *errors)
{
	if (in && !json_is_null(in) && !json_is_string(in)) {
		set_error(errors, fd, w, N_("forms_err_format"), NULL);
		return;
	}
	struct str s = in && json_is_string(in) ? trim(json_string_value(in), json_string_length(in))
						: STR_NULL;
	if (s.len == 0) {
		if (fd->required)
			set_error(errors, fd, w, fd->type->missing, NULL);
		return;
	}
	json_t *value = NULL;
	const char *reason = NULL;
	const char *m = fd->type->parse(fd->def, s, &value, &reason);
	if (m)
		set_error(errors, fd, w, m, reason);
	else
		json_object_set_new(values, fd->key, value);
}

int forms_validate(json_t *def, json_t *input, const struct view *v, const char *lang, json_t **values,
		   json_t **errors)
{
	const struct words w = { v, lang };
	*values = NULL;
	*errors = NULL;
	if (!json_is_array(def) || json_array_size(def) > FORMS_MAX_FIELDS)
		return GH_EINVAL;
	/* The definition is checked as it is read (forms_def_check's checks, one pass). */
	const char *keys[FORMS_MAX_FIELDS];
	json_t *vals = json_object(), *errs = json_object();
	for (size_t i = 0; i < json_array_size(def); i++) {
		struct field fd;
		if (field_at(def, i, keys, &fd)) {
			json_decref(vals);
			json_decref(errs);
			return GH_EINVAL;
		}
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
	if (!json_is_string(v) || json_string_length(v) > fd->type->shown_max)
		return json_string("");
	return json_incref(v);
}

static json_t *field_view(const struct field *fd, json_t *values, json_t *errors, const struct words *w)
{
	const struct catalog_field_type *ti = fd->type;
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
	json_object_set_new(o, "input_type", json_string(ti->control));
	snprintf(flag, sizeof(flag), "is_%s", ti->name);
	json_object_set_new(o, flag, json_true());
	/* An <input> element (as opposed to a textarea, a select or a file upload). */
	json_object_set_new(o, "is_input", json_boolean(ti->is_input));
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

	if (ti->options) {
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
