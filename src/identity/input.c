/* input.c: what the identity handlers share: reading a form or a JSON object into one shape,
 * field errors, answering a validation failure, safe redirects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/sb.h"
#include "http/handler.h"
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
	char detail[160];
	rc = identity_input_from_json(body, len, o, detail, sizeof(detail));
	if (rc)
		req_error_detail(r, "%s", detail);
	return rc;
}

int identity_input_from_json(const char *body, size_t len, json_t *o, char *detail, size_t detail_len)
{
	json_error_t jerr;
	json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!in || !json_is_object(in)) {
		snprintf(detail, detail_len, "The body is not a JSON object (line %d, column %d) / 请求体不是 JSON 对象",
			 in ? 1 : jerr.line, in ? 1 : jerr.column);
		json_decref(in);
		return GH_EINVAL;
	}
	if (json_object_size(in) > MAX_INPUT_FIELDS) {
		snprintf(detail, detail_len, "Too many fields (at most %d) / 字段过多", MAX_INPUT_FIELDS);
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
			char *s = json_dumps(v, JSON_ENCODE_ANY);
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
					snprintf(detail, detail_len, "Field '%.40s' must be a list of strings / 字段应为字符串列表", k);
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
			snprintf(detail, detail_len, "Field '%.40s' must be a string / 字段应为字符串", k);
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

int identity_invalid(struct req *r, const char *tpl, json_t *ctx, json_t *errs)
{
	if (r->api) {
		json_t *j = json_pack("{s:{s:s,s:s,s:O}}", "error", "code", err_slug(GH_EVALIDATION), "message",
				      err_message(GH_EVALIDATION, r->lang), "fields", errs);
		json_decref(ctx);
		return resp_json(r, err_status(GH_EVALIDATION), j);
	}
	/* The page again, with each message beside its field and a summary on top. */
	json_t *list = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(errs, k, v)
	{
		json_array_append_new(list, json_pack("{s:s,s:O}", "field", k, "message", v));
		char key[80];
		snprintf(key, sizeof(key), "err_%s", k);
		json_object_set(ctx, key, v);
	}
	json_object_set_new(ctx, "errors", list);
	json_object_set_new(ctx, "has_errors", json_true());
	return resp_page(r, err_status(GH_EVALIDATION), tpl, ctx);
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
