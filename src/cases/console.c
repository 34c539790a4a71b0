/* console.c: the staff console — a department's queue of applications with its filters and
 * counts by light, and the overdue list (staff: their department's; administrators: every
 * department's). Acting on one application happens on its detail page (detail.c). */
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/pages_impl.h"
#include "http/server.h"

#define PER_PAGE 20

/* ---- staff: the queue and the overdue list -------------------------------------------- */

static json_t *choice_list(struct req *r, const char *selected, bool states)
{
	json_t *out = json_array();
	if (states) {
		for (size_t i = 0; i < wf_states_n; i++) {
			if (strcmp(wf_states[i].code, "draft") == 0)
				continue;
			json_array_append_new(out, json_pack("{s:s,s:s,s:b}", "value", wf_states[i].code, "label",
							     en(r) ? wf_states[i].name_en : wf_states[i].name_zh, "selected",
							     selected && strcmp(selected, wf_states[i].code) == 0));
		}
		return out;
	}
	static const struct {
		const char *code, *zh, *en;
	} lights[] = { { "green", "绿灯（正常）", "Green (on time)" },
		       { "yellow", "黄灯（临近期限）", "Yellow (due soon)" },
		       { "red", "红灯（已超期）", "Red (overdue)" } };
	for (size_t i = 0; i < ARRAY_LEN(lights); i++)
		json_array_append_new(out, json_pack("{s:s,s:s,s:b}", "value", lights[i].code, "label",
						     T(r, lights[i].zh, lights[i].en), "selected",
						     selected && strcmp(selected, lights[i].code) == 0));
	return out;
}

static int list_page(struct req *r, struct case_filter *f, bool overdue)
{
	long page;
	int rc = req_query_long(r, "page", 1, 1, 100000, &page);
	if (rc)
		return rc;
	struct application *v;
	size_t n;
	long total;
	if ((rc = case_list(r->db, r->arena, f, page, PER_PAGE, &v, &n, &total)))
		return rc;
	json_t *ctx = cases_page_ctx(r, overdue ? T(r, "超期办件", "Overdue applications") : T(r, "办件队列", "Queue"));
	json_object_set_new(ctx, overdue ? "nav_overdue" : "nav_queue", json_true());
	json_object_set_new(ctx, "is_overdue", json_boolean(overdue));
	json_object_set_new(ctx, "can_intake", json_boolean(r->role == ROLE_STAFF && (r->who.staff_roles & STAFF_COUNTER)));
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, cases_row_view(r, &v[i], f->today));
	json_object_set_new(ctx, "rows", rows);
	json_object_set_new(ctx, "has_rows", json_boolean(n > 0));
	jset(ctx, "count", en(r) ? arena_printf(r->arena, "%ld application%s", total, total == 1 ? "" : "s")
				 : arena_printf(r->arena, "共 %ld 件", total));
	if (!overdue) {
		/* How many of the department's applications (with the other filters) show each light. */
		json_t *counts = json_array();
		static const char *const lights[] = { "green", "yellow", "red" };
		long by_light[3];
		if ((rc = case_queue_lights(r->db, r->arena, f, by_light)))
			return rc;
		for (size_t i = 0; i < ARRAY_LEN(lights); i++) {
			long ct = by_light[i];
			json_t *o = json_object();
			jset(o, "light", lights[i]);
			jset(o, "label", i == 0 ? T(r, "绿灯", "Green") : i == 1 ? T(r, "黄灯", "Yellow") : T(r, "红灯", "Red"));
			json_object_set_new(o, "n", json_integer(ct));
			json_array_append_new(counts, o);
		}
		json_object_set_new(ctx, "light_counts", counts);
		json_object_set_new(ctx, "states", choice_list(r, f->state, true));
		json_object_set_new(ctx, "lights", choice_list(r, f->light, false));
		jset(ctx, "item", f->item_code);
		json_object_set_new(ctx, "assigned_me", json_boolean(f->assigned_to != 0));
		json_object_set_new(ctx, "assigned_none", json_boolean(f->unassigned));
		json_object_set_new(ctx, "filtered",
				    json_boolean(f->state || f->light || f->item_code || f->assigned_to || f->unassigned));
	}
	json_object_set_new(ctx, "pagination", cases_pagination(r, overdue ? "/overdue" : "/staff/queue", page, PER_PAGE, total));
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, 200, "cases/queue", ctx);
}

static const char *empty_null(const char *s)
{
	return s && *s ? s : NULL;
}

/* GET /staff/queue?state=&light=&item= */
static int queue_page(struct req *r)
{
	struct case_filter f = { .department = r->who.department, .state = empty_null(req_query(r, "state")),
				 .light = empty_null(req_query(r, "light")), .item_code = empty_null(req_query(r, "item")),
				 .today = cases_today() };
	if (!f.department)
		return GH_EFORBIDDEN;
	if (f.state && (!wf_state(f.state) || strcmp(f.state, "draft") == 0)) {
		req_error_detail(r, "%s", T(r, "未知的状态。", "Unknown state."));
		return GH_EINVAL;
	}
	if (f.light && strcmp(f.light, "green") && strcmp(f.light, "yellow") && strcmp(f.light, "red")) {
		req_error_detail(r, "%s", T(r, "灯色应为绿、黄或红。", "The light is green, yellow or red."));
		return GH_EINVAL;
	}
	if (f.item_code && strlen(f.item_code) > 64) {
		req_error_detail(r, "%s", T(r, "事项编码过长。", "The item code is too long."));
		return GH_EINVAL;
	}
	const char *assigned = empty_null(req_query(r, "assigned"));
	if (assigned && strcmp(assigned, "me") == 0) {
		f.assigned_to = r->who.account;
	} else if (assigned && strcmp(assigned, "none") == 0) {
		f.unassigned = true;
	} else if (assigned) {
		req_error_detail(r, "%s", T(r, "经办人筛选应为“我的”或“未认领”。", "assigned is me or none."));
		return GH_EINVAL;
	}
	return list_page(r, &f, false);
}

/* GET /overdue: staff see their department's, administrators every department's (as the
 * API's /api/v1/overdue; the route's roles say who may call it). */
static int overdue_page(struct req *r)
{
	struct case_filter f = { .overdue = true, .today = cases_today(),
				 .department = r->role == ROLE_STAFF ? r->who.department : NULL };
	return list_page(r, &f, true);
}

const struct route cases_console_routes[] = {
	{ HTTP_GET, "/staff/queue", queue_page, ROLE_STAFF, 0, "cases.queue" },
	{ HTTP_GET, "/overdue", overdue_page, ROLE_STAFF | ROLE_ADMIN, 0, "cases.overdue" },
};
const size_t cases_console_routes_n = ARRAY_LEN(cases_console_routes);
