/* page.c: the view helpers the cases module's page files share (pages_impl.h): the page
 * context, kiosk mode, rows of application lists with their lights, pagination, error
 * summaries, and the labels of sizes, materials and e-certificates. It calls no page file, so
 * the screens (apply.c, detail.c, console.c, counter.c, bundles.c, access.c) form no circle. */
#include <string.h>

#include "base/sb.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/pages_impl.h"
#include "http/server.h"
#include "identity/identity.h"
#include "view/view.h"

bool cases_kiosk(const struct req *r)
{
	const char *k = req_cookie(r, KIOSK_COOKIE);
	return k && strcmp(k, "1") == 0;
}

json_t *cases_page_ctx(struct req *r, const char *title)
{
	json_t *ctx = json_object();
	jset(ctx, "title", title);
	jset(ctx, "csrf", identity_csrf_token(r));
	if (cases_kiosk(r))
		json_object_set_new(ctx, "kiosk", json_true());
	return ctx;
}

/* A positive decimal id, or 0 when s is absent or malformed. */
int64_t cases_parse_id(const char *s)
{
	long v;
	if (!s || str_to_long(str_c(s), 1, (1L << 53), &v))
		return 0;
	return v;
}

const char *cases_size_label(struct req *r, int64_t size)
{
	if (size < 1024)
		return MF(r, "cases_size_bytes", MA("size", (long long)size));
	if (size < 1024 * 1024)
		return arena_printf(r->arena, "%.1f KB", (double)size / 1024.0);
	return arena_printf(r->arena, "%.1f MB", (double)size / (1024.0 * 1024.0));
}

/* The text of message key in the request's language, or NULL when the catalog lacks it. */
static const char *msg_or_null(struct req *r, const char *key)
{
	const char *m = view_msg(r->app->view, r->lang, key);
	return m && strcmp(m, key) != 0 ? m : NULL;
}

const char *cases_ecert_name(struct req *r, const char *code)
{
	const char *m = msg_or_null(r, arena_printf(r->arena, "cases_ecert_%s", code));
	return m ? m : code;
}

const char *cases_material_name(struct req *r, json_t *mdefs, json_int_t slot)
{
	json_t *m = slot >= 0 ? json_array_get(mdefs, (size_t)slot) : NULL;
	const char *n = json_string_value(json_object_get(m, en(r) ? "name_en" : "name_zh"));
	if (!n)
		n = json_string_value(json_object_get(m, "name_zh"));
	return n ? n : arena_printf(r->arena, "#%lld", (long long)slot + 1);
}

/* The light of a case as words and a class: "绿灯 — 剩余 5 个工作日" / "Green — 5 working days
 * left". Reads case_json's light and working_days_left (the service layer's arithmetic). */
void cases_light_view(struct req *r, json_t *cj, json_t *out)
{
	const char *light = json_string_value(json_object_get(cj, "light"));
	json_t *left = json_object_get(cj, "working_days_left");
	bool paused = json_is_true(json_object_get(cj, "paused"));
	if (!light || !strcmp(light, "none") || !json_is_integer(left)) {
		jset(out, "light_text", M(r, "cases_running"));
		jset(out, "light", "none");
		return;
	}
	long n = (long)json_integer_value(left);
	const char *pause = paused ? M(r, "cases_clock_paused") : "";
	const char *text;
	if (strcmp(light, "red") == 0)
		text = MF(r, "cases_light_text_red", MA("n", -n), MA("paused", pause));
	else if (strcmp(light, "yellow") == 0)
		text = MF(r, "cases_light_text_yellow", MA("n", n), MA("paused", pause));
	else
		text = MF(r, "cases_light_text_green", MA("n", n), MA("paused", pause));
	jset(out, "light_text", text);
	jset(out, "light", light);
}

/* One application as a row of a list (mine, queue, overdue). */
static json_t *row_json(struct req *r, const struct application *app, int32_t today)
{
	json_t *cj = arena_json(r, case_json_summary(app, r->app->calendar, today, r));
	json_t *o = json_object();
	jset(o, "number", app->number);
	jset(o, "item_name", json_string_value(json_object_get(cj, "item_name")));
	jset(o, "item_code", app->item_code);
	jset(o, "state", app->state);
	jset(o, "state_name", json_string_value(json_object_get(cj, "state_name")));
	jset(o, "applicant_name", app->applicant_name);
	jset(o, "assigned_name", app->assigned_name);
	jset(o, "due_day", json_string_value(json_object_get(cj, "due_day")));
	jset(o, "submitted", req_when(r, app->submitted_at));
	jset(o, "created", req_when(r, app->created_at));
	if (app->number)
		jset(o, "href", arena_printf(r->arena, "/applications/%s", app->number));
	else
		jset(o, "draft_href", arena_printf(r->arena, "/services/%s/apply?draft=%lld", app->item_code,
						   (long long)app->id));
	json_object_set_new(o, "is_draft", json_boolean(!app->number));
	cases_light_view(r, cj, o);
	return o;
}

json_t *cases_row_view(struct req *r, const struct application *app, int32_t today)
{
	return row_json(r, app, today);
}

/* Previous / next links keeping the other query parameters. */
json_t *cases_pagination(struct req *r, const char *base, long page, long per, long total)
{
	long pages = (total + per - 1) / per;
	if (pages <= 1)
		return json_false();
	struct sb q = SB_INIT;
	for (size_t i = 0; i < r->query.n; i++) {
		if (strcmp(r->query.v[i].key, "page") == 0 || strcmp(r->query.v[i].key, "lang") == 0)
			continue;
		sb_addch(&q, '&');
		sb_add_urlenc(&q, r->query.v[i].key, strlen(r->query.v[i].key));
		sb_addch(&q, '=');
		sb_add_urlenc(&q, r->query.v[i].val, strlen(r->query.v[i].val));
	}
	const char *rest = arena_strndup(r->arena, q.buf ? q.buf : "", q.len);
	sb_release(&q);
	json_t *p = json_object();
	jset(p, "status", MF(r, "cases_page_page_pages", MA("page", page), MA("pages", pages)));
	if (page > 1)
		jset(p, "prev_href", arena_printf(r->arena, "%s?page=%ld%s", base, page - 1, rest));
	if (page < pages)
		jset(p, "next_href", arena_printf(r->arena, "%s?page=%ld%s", base, page + 1, rest));
	return p;
}

/* Turns field -> message into the error summary's [{field (an element id), message}] and
 * sets has_errors. anchor maps an error key to the id of the element it is about. */
void cases_set_errors(json_t *ctx, json_t *list)
{
	json_object_set_new(ctx, "errors", list);
	json_object_set_new(ctx, "has_errors", json_boolean(json_array_size(list) > 0));
}

void cases_add_error(json_t *list, const char *anchor, const char *message)
{
	json_array_append_new(list, json_pack("{s:s,s:s}", "field", anchor, "message", message));
}
