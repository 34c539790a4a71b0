/* console.c: the staff console — a department's queue of applications with its filters and
 * counts by light, and the overdue list (staff: their department's; administrators: every
 * department's). Acting on one application happens on its detail page (detail.c). */
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cases/cases_impl.h"
#include "cases/pages_impl.h"
#include "http/sections.h"
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
							     MC(r, "case_state_", wf_states[i].code), "selected",
							     selected && strcmp(selected, wf_states[i].code) == 0));
		}
		return out;
	}
	static const char *const lights[] = { "green", "yellow", "red" }; /* words: cases_light_name_<code> */
	for (size_t i = 0; i < ARRAY_LEN(lights); i++)
		json_array_append_new(out, json_pack("{s:s,s:s,s:b}", "value", lights[i], "label",
						     MC(r, "cases_light_name_", lights[i]), "selected",
						     selected && strcmp(selected, lights[i]) == 0));
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
	json_t *ctx = cases_page_ctx(r, overdue ? M(r, "cases_overdue_title") : M(r, "cases_nav_queue"));
	json_object_set_new(ctx, overdue ? "nav_overdue" : "nav_queue", json_true());
	json_object_set_new(ctx, "is_overdue", json_boolean(overdue));
	json_object_set_new(ctx, "can_intake", json_boolean(r->role == ROLE_STAFF && (r->who.staff_roles & STAFF_COUNTER)));
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, cases_row_view(r, &v[i], f->today));
	(void)page_sections_run(r, CASES_PAGE_QUEUE, NULL, rows); /* one failing: its column left out */
	json_object_set_new(ctx, "rows", rows);
	json_object_set_new(ctx, "has_rows", json_boolean(n > 0));
	jset(ctx, "count", MF(r, "cases_count_total", MA("n", total)));
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
			jset(o, "label", i == 0 ? M(r, "cases_green") : i == 1 ? M(r, "cases_yellow") : M(r, "cases_red"));
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
		req_error_detail(r, "%s", M(r, "cases_unknown_state_2"));
		return GH_EINVAL;
	}
	if (f.light && strcmp(f.light, "green") && strcmp(f.light, "yellow") && strcmp(f.light, "red")) {
		req_error_detail(r, "%s", M(r, "cases_light_green_yellow_red_2"));
		return GH_EINVAL;
	}
	if (f.item_code && strlen(f.item_code) > 64) {
		req_error_detail(r, "%s", M(r, "cases_item_code_too_long"));
		return GH_EINVAL;
	}
	const char *assigned = empty_null(req_query(r, "assigned"));
	if (assigned && strcmp(assigned, "me") == 0) {
		f.assigned_to = r->who.account;
	} else if (assigned && strcmp(assigned, "none") == 0) {
		f.unassigned = true;
	} else if (assigned) {
		req_error_detail(r, "%s", M(r, "cases_assigned_me_none_2"));
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
