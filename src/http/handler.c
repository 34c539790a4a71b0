/* handler.c: the helpers of handler.h that are not inline. */
#include "http/handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "http/msg.h"
#include "http/multipart.h"
#include "http/server.h"

int req_json_content(struct req *r)
{
	const char *ct = req_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		req_error_detail(r, "%s", M(r, "cases_send_json_object_content_type"));
		return GH_EUNSUPPORTED;
	}
	return 0;
}

int req_body_object(struct req *r, json_t **out)
{
	int rc = req_json_content(r);
	if (rc)
		return rc;
	size_t len;
	const char *body = req_body(r, &len);
	json_t *j = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, NULL);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		req_error_detail(r, "%s", M(r, "cases_body_json_object"));
		return GH_EINVAL;
	}
	arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	*out = j;
	return 0;
}

const char *req_when(struct req *r, int64_t t)
{
	char buf[CALENDAR_MINUTE_LEN];
	return t && calendar_format_minute(t, buf) ? arena_strdup(r->arena, buf) : NULL;
}

const char *req_when_iso(struct req *r, int64_t t)
{
	const char *w = req_when(r, t);
	if (!w)
		return NULL;
	char *s = arena_printf(r->arena, "%s+08:00", w);
	s[10] = 'T';
	return s;
}

int req_invalid(struct req *r, const char *tpl, json_t *ctx, json_t *errs)
{
	if (r->api) {
		json_t *j = json_pack("{s:{s:s,s:s,s:O}}", "error", "code", err_slug(GH_EVALIDATION), "message",
				      M_err(r, GH_EVALIDATION), "fields", errs);
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

int req_param_id(const struct req *r, const char *name, int64_t *out)
{
	const char *s = req_param(r, name);
	long v;
	if (!s || *s < '1' || *s > '9' || str_to_long(str_c(s), 1, 1L << 53, &v))
		return GH_ENOTFOUND;
	*out = v;
	return 0;
}

json_t *req_pagination(struct req *r, const char *base, long page, long per, long total)
{
	long pages = (total + per - 1) / per;
	if (pages <= 1)
		return json_false();
	json_t *p = json_object();
	jset(p, "status", MF(r, "cases_page_page_pages", MA("page", page), MA("pages", pages)));
	if (page > 1)
		jset(p, "prev_href", arena_printf(r->arena, "%spage=%ld", base, page - 1));
	if (page < pages)
		jset(p, "next_href", arena_printf(r->arena, "%spage=%ld", base, page + 1));
	return p;
}

int req_form_part(struct req *r, const char *name, const struct multipart_part **out)
{
	const struct multipart *mp;
	const char *why = NULL;
	int rc = req_multipart(r, &mp, &why);
	if (rc) {
		if (why)
			req_error_detail(r, "%s", why);
		return rc;
	}
	*out = multipart_get(mp, name);
	return 0;
}

int req_file_part(struct req *r, const char *name, const struct multipart_part **out)
{
	const struct multipart_part *f = NULL;
	int rc = req_form_part(r, name, &f);
	*out = f && f->filename ? f : NULL;
	return rc;
}
