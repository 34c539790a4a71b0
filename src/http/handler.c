/* handler.c: the helpers of handler.h that are not inline. */
#include "http/handler.h"

#include <strings.h>

#include "base/calendar.h"
#include "base/err.h"
#include "http/server.h"

int req_json_content(struct req *r)
{
	const char *ct = req_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		req_error_detail(r, "Send a JSON object with Content-Type: application/json / 请以 JSON 提交");
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
		req_error_detail(r, "The body is not a JSON object / 请求体不是 JSON 对象");
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
