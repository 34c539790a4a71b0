/* handler.h: what every domain's handlers use to answer in the request's language and to read
 * and build JSON, written once here rather than in each handler file.
 *
 * - en(r): whether the request is answered in English (r->lang, from the language cookie or
 *   Accept-Language). The words themselves come from the catalogs: M, MF, MC (http/msg.h).
 * - jset(o, key, v): sets o[key] to the string v, or nothing when v is NULL.
 * - req_when(r, t), req_when_iso(r, t): a moment (unix seconds) for people, in China Standard
 *   Time (base/calendar.h's formatter), "2026-03-01 14:05" and, for <time datetime>,
 *   "2026-03-01T14:05+08:00", in the request's arena; NULL for 0 (never) or an impossible t.
 * - req_body_object(r, &o): the request body as a JSON object (owned by the request's arena):
 *   GH_EUNSUPPORTED unless Content-Type is application/json, GH_EINVAL when the body is not one
 *   JSON object (duplicate keys refused), each with a detail for the client.
 * - req_param_id(r, name, &id): the route parameter name as a row id, 1 .. 2^53 in decimal
 *   digits alone; GH_ENOTFOUND otherwise (a malformed id names nothing).
 * - req_pagination(r, base, page, per, total): a list's previous / next links for the
 *   templates' pagination partials ({status, prev_href, next_href}, hrefs base + "page=N";
 *   base ends in "?" or "&"), or false when it fits on one page.
 * - req_form_part(r, name, &part): the part name of a multipart/form-data body (NULL when
 *   there is none); a GH_E code with a detail for the client when the body is not one. */
#ifndef GH_HANDLER_H
#define GH_HANDLER_H
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "http/http.h"
#include "http/msg.h"
#include "view/view.h"

static inline bool en(const struct req *r)
{
	return strcmp(r->lang, "en") == 0;
}

static inline void jset(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

const char *req_when(struct req *r, int64_t t);
const char *req_when_iso(struct req *r, int64_t t);
/* Answers a validation failure: a 422 JSON error listing the fields (errs: field ->
 * message) for the API, else the page tpl again with ctx (values kept, passwords never),
 * each message as err_<field> beside its field and the list in errors (has_errors set). */
int req_invalid(struct req *r, const char *tpl, json_t *ctx, json_t *errs);
/* The file part called name of a multipart/form-data body: 0 with *out the part, or NULL
 * when the body has no such part with a file name; or the parser's GH_E code with its detail
 * (req_form_part, for file parts alone). */
struct multipart_part;
int req_file_part(struct req *r, const char *name, const struct multipart_part **out);
int req_body_object(struct req *r, json_t **out);
/* 0 when the request's Content-Type is application/json, else GH_EUNSUPPORTED with a detail
 * (for handlers that parse the JSON body themselves). */
int req_json_content(struct req *r);
int req_param_id(const struct req *r, const char *name, int64_t *out);
json_t *req_pagination(struct req *r, const char *base, long page, long per, long total);
int req_form_part(struct req *r, const char *name, const struct multipart_part **out);

#endif
