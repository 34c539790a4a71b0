/* input.c: what the identity handlers share: reading a form or a JSON object into one shape,
 * field errors, answering a validation failure, safe redirects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/jsonout.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/server.h"
#include "identity/identity_impl.h"

#define MAX_INPUT_FIELDS 32

int identity_read_input(struct req *r, json_t **out)
{
	json_t *o = json_object();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, o);
	*out = o;
	if (!r->api) {
		struct kvlist form;
		int rc = req_form(r, &form);
		if (rc)
			return rc;
		for (size_t i = 0; i < form.n; i++)
			json_object_set_new(o, form.v[i].key, json_string(form.v[i].val));
		return 0;
	}
	int rc = req_json_content(r);
	if (rc)
		return rc;
	size_t len;
	const char *body = req_body(r, &len);
	struct input_problem why = { 0 };
	rc = identity_input_from_json(body, len, o, &why);
	if (rc)
		req_error_detail(r, "%s", MF(r, why.key, MA("line", why.line), MA("column", why.column), MA("field", why.field),
					      MA("max", MAX_INPUT_FIELDS)));
	return rc;
}

int identity_input_from_json(const char *body, size_t len, json_t *o, struct input_problem *why)
{
	json_error_t jerr;
	json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!in || !json_is_object(in)) {
		*why = (struct input_problem){ N_("identity_json_not_object"), in ? 1 : jerr.line, in ? 1 : jerr.column, "" };
		json_decref(in);
		return GH_EINVAL;
	}
	if (json_object_size(in) > MAX_INPUT_FIELDS) {
		why->key = N_("identity_json_too_many");
		json_decref(in);
		return GH_ETOOBIG;
	}
	const char *k;
	json_t *v;
	json_object_foreach(in, k, v)
	{
		if (json_is_string(v)) {
			json_object_set(o, k, v);
		} else if (json_is_integer(v) || json_is_boolean(v) || json_is_null(v)) {
			/* Numbers and booleans become text, so forms and JSON validate the same way. */
			char *s = jsonout_dumps(v, JSON_ENCODE_ANY);
			if (s)
				json_object_set_new(o, k, json_string(json_is_null(v) ? "" : s));
			free(s);
		} else if (json_is_array(v)) {
			/* Lists of words (scopes) become "a,b,c"; anything but strings is refused. */
			struct sb sb = SB_INIT;
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e)
			{
				if (!json_is_string(e) || i >= MAX_INPUT_FIELDS) {
					sb_release(&sb);
					why->key = N_("identity_json_not_strings");
					snprintf(why->field, sizeof(why->field), "%.40s", k);
					json_decref(in);
					return GH_EINVAL;
				}
				if (sb.len)
					sb_addch(&sb, ',');
				sb_adds(&sb, json_string_value(e));
			}
			json_object_set_new(o, k, json_stringn(sb.buf, sb.len));
			sb_release(&sb);
		} else {
			why->key = N_("identity_json_not_string");
			snprintf(why->field, sizeof(why->field), "%.40s", k);
			json_decref(in);
			return GH_EINVAL;
		}
	}
	json_decref(in);
	return 0;
}

const char *identity_field(json_t *in, const char *key)
{
	const char *s = json_string_value(json_object_get(in, key));
	return s ? s : "";
}

void identity_field_error(json_t *errs, const char *field, const char *msg)
{
	if (!json_object_get(errs, field))
		json_object_set_new(errs, field, json_string(msg));
}

const char *identity_safe_next(const char *next, const char *dflt)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 512)
		return dflt;
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\')
			return dflt;
	return next;
}
