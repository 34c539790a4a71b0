/* pages.c: the pages of appointments and queueing, in Chinese and English: centres, booking a
 * visit (from a guide, an application or the kiosk), the citizen's bookings, the kiosk's
 * tickets, the counter's calling console, and the hall's screen. Every decision goes through
 * booking_impl.h (shared with the API); this file reads forms and builds template contexts.
 * State-changing forms carry the CSRF token (ROUTE_CSRF) and answer with a redirect, so a
 * reload repeats nothing; a refused action comes back with the reason on the page. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/str.h"
#include "base/util.h"
#include "booking/booking_impl.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "http/msg.h"
#include "http/sections.h"
#include "http/server.h"
#include "identity/identity.h"
#include "store/db.h"
#include "view/view.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define PEOPLE (APPLICANTS | ROLE_STAFF | ROLE_ADMIN)
#define PAGE_DAYS 5 /* days of slots a booking page shows at once */

static bool kiosk(struct req *r)
{
	const char *k = req_cookie(r, "kiosk");
	return k && !strcmp(k, "1");
}

static json_t *page_ctx(struct req *r, const char *title_key)
{
	json_t *ctx = json_object();
	bk_set(ctx, "title", M(r, title_key));
	if (r->who.account)
		bk_set(ctx, "csrf", identity_csrf_token(r));
	if (kiosk(r))
		json_object_set_new(ctx, "kiosk", json_true());
	return ctx;
}

static int page(struct req *r, int status, const char *tpl, json_t *ctx)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_page(r, status, tpl, ctx);
}

/* The error of a refused action on the page that asked for it. */
static void set_error(struct req *r, json_t *ctx, int rc)
{
	bk_set(ctx, "error", r->error_detail ? r->error_detail : M_err(r, rc));
	r->error_detail = NULL;
}

static const char *done_notice(struct req *r)
{
	const char *d = req_query(r, "done");
	if (!d || strlen(d) > 24)
		return NULL;
	for (const char *p = d; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && *p != '_')
			return NULL;
	return MC(r, "booking_done_", d);
}

static const char *item_name(struct req *r, const char *code, const struct catalog_service_parsed **svc)
{
	const struct catalog_service_parsed *s;
	if (catalog_service_cached(r, code, &s))
		return code;
	if (svc)
		*svc = s;
	return bk_en(r) && s->svc.name_en && *s->svc.name_en ? s->svc.name_en : s->svc.name_zh;
}

/* ---- centres ---------------------------------------------------------------------------------- */

/* A centre for a page: bk_centre_json and its hours in words. */
static json_t *centre_view(struct req *r, const struct bk_centre *c)
{
	json_t *j = bk_centre_json(r, c);
	char o[6], cl[6], bs[6], be[6];
	bk_hhmm(c->open_min, o);
	bk_hhmm(c->close_min, cl);
	const char *text = MF(r, "booking_centre_hours_text", MA("open", o), MA("close", cl));
	if (c->break_start >= 0) {
		bk_hhmm(c->break_start, bs);
		bk_hhmm(c->break_end, be);
		text = arena_printf(r->arena, "%s · %s", text, MF(r, "booking_centre_break", MA("from", bs), MA("to", be)));
	}
	bk_set(j, "hours_text", text);
	return j;
}

static int centres_page(struct req *r)
{
	struct bk_centre *v;
	size_t n;
	int rc = bk_centres(r->db, r->arena, NULL, &v, &n);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, "booking_centres_title"), *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, centre_view(r, &v[i]));
	json_object_set_new(ctx, "centres", arr);
	json_object_set_new(ctx, "has_centres", json_boolean(n > 0));
	return page(r, 200, "booking/centres", ctx);
}

static int centre_page(struct req *r)
{
	struct bk_centre c;
	int rc = bk_centre_param(r, &c);
	const char **items;
	size_t n;
	if (rc || (rc = bk_centre_items(r->db, r->arena, c.code, &items, &n)))
		return rc;
	json_t *ctx = page_ctx(r, "booking_centres_title"), *arr = json_array();
	bk_set(ctx, "title", bk_centre_name(r, &c));
	json_object_set_new(ctx, "centre", centre_view(r, &c));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "code", items[i], "name", item_name(r, items[i], NULL), "book_href",
						     arena_printf(r->arena, "/book?item=%s&centre=%s", items[i], c.code)));
	json_object_set_new(ctx, "items", arr);
	return page(r, 200, "booking/centre", ctx);
}

/* ---- the hall's screen ---------------------------------------------------------------------- */

static int display_page(struct req *r)
{
	struct bk_centre c;
	int rc = bk_centre_param(r, &c);
	json_t *state;
	if (rc || (rc = bk_display_json(r, r->db, c.code, &state)))
		return rc;
	json_t *ctx = page_ctx(r, "booking_display_title");
	bk_set(ctx, "title", arena_printf(r->arena, "%s · %s", M(r, "booking_display_title"), bk_centre_name(r, &c)));
	json_object_set_new(ctx, "has_called", json_boolean(json_array_size(json_object_get(state, "called")) > 0));
	bk_set(ctx, "waiting_text", MF(r, "booking_display_waiting",
				   MA("n", arena_printf(r->arena, "%lld", (long long)json_integer_value(json_object_get(state, "waiting"))))));
	json_object_set_new(ctx, "state", state);
	bk_set(ctx, "events", arena_printf(r->arena, "/centres/%s/display/events?lang=%s", c.code, r->lang));
	return page(r, 200, "booking/display", ctx);
}

/* ---- booking a visit ------------------------------------------------------------------------ */

/* The slot picker: the centres serving the item, then the free slots of the chosen one.
 * action: where each slot's form posts; hidden: the fields it carries besides day and start. */
static int picker(struct req *r, json_t *ctx, const char *item, const char *centre, const char *action, json_t *hidden,
		  const char *base_href)
{
	struct bk_centre *v;
	size_t n;
	int rc = bk_centres(r->db, r->arena, item, &v, &n);
	if (rc)
		return rc;
	json_t *centres = json_array();
	const struct bk_centre *chosen = NULL;
	for (size_t i = 0; i < n; i++) {
		bool cur = centre && !strcmp(centre, v[i].code);
		if (cur || (!centre && n == 1))
			chosen = &v[i];
		json_t *cj = centre_view(r, &v[i]);
		json_object_set_new(cj, "current", json_boolean(chosen == &v[i]));
		bk_set(cj, "href", arena_printf(r->arena, "%s&centre=%s", base_href, v[i].code));
		json_array_append_new(centres, cj);
	}
	json_object_set_new(ctx, "centres", centres);
	json_object_set_new(ctx, "has_centres", json_boolean(n > 0));
	if (!chosen)
		return 0;
	int32_t from = 0;
	const char *fs = req_query(r, "from");
	if (fs && calendar_parse_day(fs, strlen(fs), &from))
		from = 0;
	json_t *days;
	if ((rc = bk_availability(r, chosen, item, BK_ONLINE, from, PAGE_DAYS, &days)))
		return rc;
	size_t i;
	json_t *d;
	bool any = false;
	json_array_foreach(days, i, d)
	{
		int32_t dn;
		const char *ds = json_string_value(json_object_get(d, "day"));
		calendar_parse_day(ds, strlen(ds), &dn);
		bk_set(d, "weekday_name", MC(r, "booking_weekday_", arena_printf(r->arena, "%d", calendar_weekday(dn) + 1)));
		size_t k;
		json_t *s;
		json_array_foreach(json_object_get(d, "slots"), k, s)
		{
			json_int_t f = json_integer_value(json_object_get(s, "free"));
			json_object_set_new(s, "open", json_boolean(f > 0));
			bk_set(s, "free_text", MF(r, "booking_book_free", MA("n", arena_printf(r->arena, "%lld", (long long)f))));
			any = any || f > 0;
		}
		if (i + 1 == json_array_size(days)) {
			int32_t next = dn + 1;
			bk_set(ctx, "later_href", arena_printf(r->arena, "%s&centre=%s&from=%s", base_href, chosen->code,
							       bk_day_str(r->arena, next)));
		}
	}
	json_object_set_new(ctx, "centre", centre_view(r, chosen));
	json_object_set_new(ctx, "days", days);
	json_object_set_new(ctx, "has_days", json_boolean(json_array_size(days) > 0));
	json_object_set_new(ctx, "any_free", json_boolean(any));
	bk_set(ctx, "action", action);
	json_object_set(ctx, "hidden", hidden);
	json_object_set_new(json_object_get(ctx, "hidden"), "centre", json_string(chosen->code));
	json_t *list = json_array();
	const char *key;
	json_t *val;
	json_object_foreach(json_object_get(ctx, "hidden"), key, val)
		json_array_append_new(list, json_pack("{s:s,s:O}", "name", key, "value", val));
	json_object_set_new(ctx, "hidden_fields", list);
	return 0;
}

static int book_render(struct req *r, int status, const char *item, const char *centre, const char *application, int err)
{
	const struct catalog_service_parsed *svc = NULL;
	if (!item || !*item || strlen(item) > BK_CODE_MAX)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_item");
	const char *name = item_name(r, item, &svc);
	if (!svc)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_item");
	json_t *ctx = page_ctx(r, "booking_book_title");
	if (err)
		set_error(r, ctx, err);
	json_object_set_new(ctx, "item", json_pack("{s:s,s:s}", "code", item, "name", name));
	bk_set(ctx, "application", application);
	struct identity_owner o = identity_owner_of(r);
	int64_t until, noshows;
	int rc = bk_pause_of(r->db, r->arena, o.person, (int64_t)time(NULL), &until, &noshows);
	if (!rc && until)
		json_object_set_new(ctx, "pause", bk_pause_json(r, until, noshows));
	json_t *hidden = json_pack("{s:s}", "item", item);
	if (application)
		json_object_set_new(hidden, "application", json_string(application));
	const char *base = application ? arena_printf(r->arena, "/book?item=%s&application=%s", item, application)
				       : arena_printf(r->arena, "/book?item=%s", item);
	if (!rc)
		rc = picker(r, ctx, item, centre, "/book", hidden, base);
	json_decref(hidden);
	if (rc) {
		json_decref(ctx);
		return rc;
	}
	return page(r, status, "booking/book", ctx);
}

static const char *valid_application(struct req *r)
{
	const char *a = req_query(r, "application");
	return a && *a && strlen(a) <= 32 ? a : NULL;
}

static int book_get(struct req *r)
{
	return book_render(r, 200, req_query(r, "item"), req_query(r, "centre"), valid_application(r), 0);
}

/* After the hold (or before it, refused): the booking, or the form again with the reason. */
static int book_answer(struct req *r, const struct bk_hold_in *in, int rc, const struct bk_booking *b, bool replayed)
{
	(void)replayed;
	if (rc) {
		if (rc != GH_EVALIDATION && rc != GH_ECONFLICT && rc != GH_EFORBIDDEN)
			return rc;
		return book_render(r, err_status(rc), in->item, in->centre, in->application, rc);
	}
	return resp_redirect(r, 303, arena_printf(r->arena, "/bookings/%s?done=held", b->ref));
}

static int book_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	struct bk_hold_in in = { .centre = kv_get(&f, "centre"), .item = kv_get(&f, "item"), .channel = BK_ONLINE,
				 .via = kiosk(r) ? "kiosk" : "web", .application = kv_get(&f, "application") };
	if (in.application && !*in.application)
		in.application = NULL;
	if (!in.centre || !in.item || bk_parse_slot(kv_get(&f, "day"), kv_get(&f, "start"), &in.day, &in.start))
		rc = bk_fail(r, GH_EVALIDATION, "booking_err_time");
	if (rc)
		return book_answer(r, &in, rc, NULL, false);
	return bk_hold_async(r, &in, book_answer);
}

/* ---- the citizen's bookings ------------------------------------------------------------------ */

static json_t *booking_view(struct req *r, const struct bk_booking *b)
{
	json_t *j = bk_booking_json(r, b);
	bk_set(j, "href", arena_printf(r->arena, "/bookings/%s", b->ref));
	json_object_set_new(j, "is_held", json_boolean(!strcmp(b->state, "held")));
	const char *hold = json_string_value(json_object_get(j, "hold_until")),
		   *change = json_string_value(json_object_get(j, "change_until"));
	if (hold)
		bk_set(j, "hold_text", MF(r, "booking_hold_until", MA("time", hold)));
	if (change)
		bk_set(j, "change_text", MF(r, "booking_change_until", MA("time", change)));
	return j;
}

static json_t *bookings_view(struct req *r, const struct bk_booking *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, booking_view(r, &v[i]));
	return arr;
}

/* An application's page shows the visits booked for it that are still to come or under way
 * (CASES_PAGE_DETAIL): for its applicant and for the staff who may see the page. */
static int application_bookings(struct req *r, const void *subject, json_t *ctx)
{
	const struct case_page_ref *ref = subject;
	struct bk_booking *v;
	size_t n;
	int rc = bk_of_application(r->db, r->arena, ref->id, &v, &n);
	if (!rc && n) {
		json_object_set_new(ctx, "bookings", bookings_view(r, v, n));
		json_object_set_new(ctx, "has_bookings", json_true());
	}
	return rc;
}

/* "My applications" lists the caller's active bookings beside the applications
 * (CASES_PAGE_MINE). */
static int mine_bookings(struct req *r, const void *subject, json_t *ctx)
{
	(void)subject;
	struct bk_booking *v;
	size_t n;
	int rc = bk_mine(r, true, &v, &n);
	if (!rc) {
		json_object_set_new(ctx, "bookings", bookings_view(r, v, n));
		json_object_set_new(ctx, "has_bookings", json_boolean(n > 0));
	}
	return rc;
}

void bk_cases_sections(void)
{
	page_section_add(CASES_PAGE_DETAIL, 30, application_bookings);
	page_section_add(CASES_PAGE_MINE, 10, mine_bookings);
}

static int mine_page(struct req *r)
{
	struct bk_booking *v;
	size_t n;
	int rc = bk_mine(r, false, &v, &n);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, "booking_mine_title"), *active = json_array(), *past = json_array();
	for (size_t i = 0; i < n; i++) {
		bool on = !strcmp(v[i].state, "held") || !strcmp(v[i].state, "booked") || !strcmp(v[i].state, "checked_in");
		json_array_append_new(on ? active : past, booking_view(r, &v[i]));
	}
	json_object_set_new(ctx, "has_active", json_boolean(json_array_size(active) > 0));
	json_object_set_new(ctx, "has_past", json_boolean(json_array_size(past) > 0));
	json_object_set_new(ctx, "active", active);
	json_object_set_new(ctx, "past", past);
	struct identity_owner o = identity_owner_of(r);
	int64_t until, noshows;
	if (!bk_pause_of(r->db, r->arena, o.person, (int64_t)time(NULL), &until, &noshows) && until)
		json_object_set_new(ctx, "pause", bk_pause_json(r, until, noshows));
	json_object_set_new(ctx, "nav_mine", json_true());
	return page(r, 200, "booking/mine", ctx);
}

static int booking_render(struct req *r, int status, const char *ref, int err)
{
	struct bk_booking b;
	int rc = bk_load_visible(r, ref, &b);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, "booking_booking_title");
	if (err)
		set_error(r, ctx, err);
	bk_set(ctx, "notice", done_notice(r));
	json_t *bj = booking_view(r, &b);
	json_object_set_new(ctx, "booking", bj);
	json_object_set_new(ctx, "history", bk_history_json(r, b.id, 0));
	bool own = bk_owns(r, &b) || (b.booked_by && b.booked_by == r->who.account);
	json_object_set_new(ctx, "can_act", json_boolean(own));
	if (b.application_number && own)
		bk_set(ctx, "application_href", arena_printf(r->arena, "/applications/%s", b.application_number));
	if (!strcmp(b.state, "booked") && b.day == calendar_day_of(time(NULL)) && own)
		bk_set(ctx, "kiosk_href", arena_printf(r->arena, "/centres/%s/kiosk", b.centre));
	return page(r, status, "booking/booking", ctx);
}

static int booking_page(struct req *r)
{
	return booking_render(r, 200, req_param(r, "ref"), 0);
}

static int booking_post_answer(struct req *r, struct bk_op *op, int rc)
{
	if (rc == GH_ECONFLICT || rc == GH_EFORBIDDEN)
		return booking_render(r, err_status(rc), op->ref, rc);
	if (rc)
		return rc;
	return resp_redirect(r, 303, arena_printf(r->arena, "/bookings/%s?done=%s", op->b.ref,
						  op->kind == BK_OP_CONFIRM ? "confirmed" : "cancelled"));
}

static int booking_post(struct req *r)
{
	const char *action = req_param(r, "action");
	struct bk_op *op;
	if (!strcmp(action, "confirm"))
		op = bk_op_new(r, BK_OP_CONFIRM, booking_post_answer);
	else if (!strcmp(action, "cancel"))
		op = bk_op_new(r, BK_OP_CANCEL, booking_post_answer);
	else
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_action");
	op->ref = req_param(r, "ref");
	return bk_op_write(r, op);
}

static int reschedule_render(struct req *r, int status, const char *ref, int err)
{
	struct bk_booking b;
	int rc = bk_load_visible(r, ref, &b);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, "booking_reschedule_title");
	if (err)
		set_error(r, ctx, err);
	json_object_set_new(ctx, "booking", booking_view(r, &b));
	json_object_set_new(ctx, "item", json_pack("{s:s,s:s}", "code", b.item_code, "name", item_name(r, b.item_code, NULL)));
	json_t *hidden = json_object();
	rc = picker(r, ctx, b.item_code, b.centre, arena_printf(r->arena, "/bookings/%s/reschedule", b.ref), hidden,
		    arena_printf(r->arena, "/bookings/%s/reschedule?x=1", b.ref));
	json_decref(hidden);
	if (rc) {
		json_decref(ctx);
		return rc;
	}
	json_object_set_new(ctx, "reschedule", json_true());
	return page(r, status, "booking/book", ctx);
}

static int reschedule_get(struct req *r)
{
	return reschedule_render(r, 200, req_param(r, "ref"), 0);
}

static int reschedule_answer(struct req *r, struct bk_op *op, int rc)
{
	if (rc == GH_ECONFLICT || rc == GH_EVALIDATION || rc == GH_EFORBIDDEN)
		return reschedule_render(r, err_status(rc), op->ref, rc);
	if (rc)
		return rc;
	return resp_redirect(r, 303, arena_printf(r->arena, "/bookings/%s?done=rescheduled", op->b.ref));
}

static int reschedule_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	struct bk_op *op = bk_op_new(r, BK_OP_RESCHEDULE, reschedule_answer);
	op->ref = req_param(r, "ref");
	if (bk_parse_slot(kv_get(&f, "day"), kv_get(&f, "start"), &op->day, &op->start))
		return reschedule_answer(r, op, bk_fail(r, GH_EVALIDATION, "booking_err_time"));
	return bk_op_write(r, op);
}

/* ---- the kiosk and tickets ------------------------------------------------------------------ */

static int kiosk_render(struct req *r, int status, int err)
{
	struct bk_centre c;
	int rc = bk_centre_param(r, &c);
	const char **items;
	size_t n;
	struct bk_booking *bv;
	size_t nb = 0;
	if (rc || (rc = bk_centre_items(r->db, r->arena, c.code, &items, &n)))
		return rc;
	json_t *ctx = page_ctx(r, "booking_kiosk_title");
	if (err)
		set_error(r, ctx, err);
	json_object_set_new(ctx, "centre", bk_centre_json(r, &c));
	bk_set(ctx, "action", arena_printf(r->arena, "/centres/%s/kiosk", c.code));
	json_t *its = json_array(), *today = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(its, json_pack("{s:s,s:s}", "code", items[i], "name", item_name(r, items[i], NULL)));
	int32_t day = calendar_day_of(time(NULL));
	if (r->role != ROLE_STAFF && (rc = bk_mine(r, true, &bv, &nb))) {
		json_decref(ctx);
		json_decref(its);
		json_decref(today);
		return rc;
	}
	for (size_t i = 0; i < nb; i++)
		if (bv[i].day == day && !strcmp(bv[i].centre, c.code) && strcmp(bv[i].state, "held"))
			json_array_append_new(today, booking_view(r, &bv[i]));
	json_object_set_new(ctx, "items", its);
	json_object_set_new(ctx, "today", today);
	json_object_set_new(ctx, "has_today", json_boolean(json_array_size(today) > 0));
	if (r->role != ROLE_STAFF)
		(void)page_sections_run(r, BOOKING_PAGE_KIOSK, NULL, ctx); /* one failing: left out */
	json_object_set_new(ctx, "is_staff", json_boolean(r->role == ROLE_STAFF));
	return page(r, status, "booking/kiosk", ctx);
}

static int kiosk_get(struct req *r)
{
	return kiosk_render(r, 200, 0);
}

static int kiosk_answer(struct req *r, struct bk_op *op, int rc)
{
	if (rc == GH_ECONFLICT || rc == GH_EFORBIDDEN || rc == GH_EVALIDATION || (rc == GH_ENOTFOUND && r->error_detail))
		return kiosk_render(r, err_status(rc), rc);
	if (rc)
		return rc;
	return resp_redirect(r, 303,
			     arena_printf(r->arena, "/tickets/%lld%s", (long long)op->t.id, op->fresh ? "?done=ticket" : ""));
}

static int kiosk_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	const char *ref = kv_get(&f, "booking");
	struct bk_op *op = bk_op_new(r, ref && *ref ? BK_OP_CHECKIN : BK_OP_WALKIN, kiosk_answer);
	op->centre = req_param(r, "code");
	op->ref = ref;
	op->item = kv_get(&f, "item");
	op->name = kv_get(&f, "name");
	return bk_op_write(r, op);
}

static int ticket_page(struct req *r)
{
	struct bk_ticket t;
	int rc = bk_ticket_visible(r, bk_param_id(r), &t);
	if (rc)
		return rc;
	struct bk_centre c;
	json_t *ctx = page_ctx(r, "booking_ticket_title");
	bk_set(ctx, "notice", done_notice(r));
	json_t *tj = bk_ticket_json(r, &t);
	if (!strcmp(t.state, "waiting"))
		bk_set(tj, "ahead_text", MF(r, "booking_ticket_ahead",
				   MA("n", arena_printf(r->arena, "%lld", (long long)json_integer_value(json_object_get(tj, "ahead"))))));
	struct bk_counter k;
	if (!strcmp(t.state, "called") && t.counter && !bk_counter_get(r->db, r->arena, t.centre, t.counter, &k))
		bk_set(tj, "counter_text",
		       MF(r, "booking_ticket_called", MA("counter", bk_en(r) && *k.name_en ? k.name_en : k.name_zh)));
	json_object_set_new(ctx, "ticket", tj);
	if (!bk_centre_get(r->db, r->arena, t.centre, &c))
		json_object_set_new(ctx, "centre", bk_centre_json(r, &c));
	json_object_set_new(ctx, "waiting", json_boolean(!strcmp(t.state, "waiting")));
	json_object_set_new(ctx, "called", json_boolean(!strcmp(t.state, "called")));
	bk_set(ctx, "href", arena_printf(r->arena, "/tickets/%lld", (long long)t.id));
	return page(r, 200, "booking/ticket", ctx);
}

/* ---- staff: counters ------------------------------------------------------------------------ */

static int counters_page(struct req *r)
{
	struct bk_centre *v;
	size_t n;
	int rc = bk_centres(r->db, r->arena, NULL, &v, &n);
	if (rc)
		return rc;
	json_t *ctx = page_ctx(r, "booking_counters_title"), *centres = json_array();
	for (size_t i = 0; i < n; i++) {
		struct bk_counter *k;
		size_t nk;
		if ((rc = bk_counters(r->db, r->arena, v[i].code, &k, &nk))) {
			json_decref(ctx);
			json_decref(centres);
			return rc;
		}
		json_t *list = json_array();
		for (size_t j = 0; j < nk; j++) {
			if (!k[j].active || bk_counter_check(r, &k[j]))
				continue;
			json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "code", k[j].code, "name",
							      bk_en(r) && *k[j].name_en ? k[j].name_en : k[j].name_zh, "href",
							      arena_printf(r->arena, "/staff/counters/%s/%s", v[i].code, k[j].code)));
		}
		r->error_detail = NULL;
		if (json_array_size(list)) {
			json_t *cj = bk_centre_json(r, &v[i]);
			json_object_set_new(cj, "counters", list);
			json_array_append_new(centres, cj);
		} else {
			json_decref(list);
		}
	}
	json_object_set_new(ctx, "has_centres", json_boolean(json_array_size(centres) > 0));
	json_object_set_new(ctx, "centres", centres);
	return page(r, 200, "booking/counters", ctx);
}

static int counter_render(struct req *r, int status, int err)
{
	const char *centre = req_param(r, "code"), *code = req_param(r, "counter");
	struct bk_centre c;
	struct bk_counter k;
	int rc = bk_centre_param(r, &c);
	if (rc)
		return rc;
	if ((rc = bk_counter_get(r->db, r->arena, c.code, code, &k)) == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_counter");
	if (rc || (rc = bk_counter_check(r, &k)))
		return rc;
	int32_t today = calendar_day_of(time(NULL));
	long waiting;
	struct bk_ticket cur;
	if ((rc = bk_waiting(r->db, r->arena, centre, code, today, &waiting)))
		return rc;
	if ((rc = bk_counter_current(r->db, r->arena, centre, code, today, &cur)) && rc != GH_ENOTFOUND)
		return rc;
	json_t *ctx = page_ctx(r, N_("booking_counter_title"));
	if (err)
		set_error(r, ctx, err);
	bk_set(ctx, "notice", done_notice(r));
	const char *kname = bk_en(r) && *k.name_en ? k.name_en : k.name_zh;
	bk_set(ctx, "title", arena_printf(r->arena, "%s · %s", bk_centre_name(r, &c), kname));
	json_object_set_new(ctx, "centre", bk_centre_json(r, &c));
	json_object_set_new(ctx, "counter", json_pack("{s:s,s:s}", "code", k.code, "name", kname));
	json_object_set_new(ctx, "waiting", json_integer(waiting));
	bk_set(ctx, "call_action", arena_printf(r->arena, "/staff/counters/%s/%s/call", c.code, k.code));
	bk_set(ctx, "waiting_text", MF(r, "booking_counter_waiting", MA("n", arena_printf(r->arena, "%ld", waiting))));
	bk_set(ctx, "display_href", arena_printf(r->arena, "/centres/%s/display", c.code));
	if (!rc) {
		json_t *tj = bk_ticket_json(r, &cur);
		bk_set(tj, "act", arena_printf(r->arena, "/staff/tickets/%lld", (long long)cur.id));
		json_object_set_new(ctx, "current", tj);
		json_object_set_new(ctx, "history", bk_history_json(r, 0, cur.id));
		struct bk_counter *all;
		size_t na;
		json_t *others = json_array();
		if (!bk_counters(r->db, r->arena, c.code, &all, &na))
			for (size_t i = 0; i < na; i++)
				if (all[i].active && strcmp(all[i].code, k.code))
					json_array_append_new(others,
							      json_pack("{s:s,s:s}", "code", all[i].code, "name",
									bk_en(r) && *all[i].name_en ? all[i].name_en : all[i].name_zh));
		json_object_set_new(ctx, "others", others);
		json_object_set_new(ctx, "has_others", json_boolean(json_array_size(others) > 0));
	}
	json_t *its = json_array();
	for (size_t i = 0; i < k.nitems; i++)
		json_array_append_new(its, json_pack("{s:s,s:s}", "code", k.items[i], "name", item_name(r, k.items[i], NULL)));
	json_object_set_new(ctx, "items", its);
	bk_set(ctx, "back", arena_printf(r->arena, "/staff/counters/%s/%s", c.code, k.code));
	return page(r, status, "booking/counter", ctx);
}

static int counter_page(struct req *r)
{
	return counter_render(r, 200, 0);
}

static int call_answer(struct req *r, struct bk_op *op, int rc)
{
	if (rc == GH_ECONFLICT || (rc == GH_ENOTFOUND && r->error_detail))
		return counter_render(r, err_status(rc), rc);
	if (rc)
		return rc;
	return resp_redirect(r, 303, arena_printf(r->arena, "/staff/counters/%s/%s?done=called", op->centre, op->counter));
}

static int call_post(struct req *r)
{
	struct bk_op *op = bk_op_new(r, BK_OP_CALL, call_answer);
	op->centre = req_param(r, "code");
	op->counter = req_param(r, "counter");
	return bk_op_write(r, op);
}

/* The counter page to go back to: a form field "back" of the caller's own site, else /staff/counters. */
static const char *back_of(struct req *r, const struct kvlist *f)
{
	const char *b = kv_get(f, "back");
	if (b && !strncmp(b, "/staff/counters/", 16) && strlen(b) < 200 && !strpbrk(b, "\r\n?#\\") && !strstr(b, "//"))
		return b;
	return "/staff/counters";
}

static int ticket_act_answer(struct req *r, struct bk_op *op, int rc)
{
	if (rc == GH_ECONFLICT || rc == GH_EVALIDATION) {
		/* Back to the counter with the reason. */
		struct bk_ticket cur;
		if (!bk_ticket_get(r->db, r->arena, op->id, &cur) && cur.counter) {
			r->params.n = 0;
			struct kv *p = arena_alloc(r->arena, 2 * sizeof(*p));
			p[0] = (struct kv){ "code", cur.centre, strlen(cur.centre) };
			p[1] = (struct kv){ "counter", cur.counter, strlen(cur.counter) };
			r->params = (struct kvlist){ p, 2 };
			return counter_render(r, err_status(rc), rc);
		}
	}
	if (rc)
		return rc;
	return resp_redirect(r, 303, arena_printf(r->arena, "%s?done=%s", (const char *)op->ctx, op->action));
}

static int ticket_act_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	struct bk_op *op = bk_op_new(r, BK_OP_TICKET, ticket_act_answer);
	op->id = bk_param_id(r);
	op->action = req_param(r, "action");
	op->counter = kv_get(&f, "counter");
	op->ctx = back_of(r, &f);
	return bk_op_write(r, op);
}

const struct route booking_page_routes[] = {
	{ HTTP_GET, "/centres", centres_page, ROLE_PUBLIC, 0, "booking.centres" },
	{ HTTP_GET, "/centres/{code}", centre_page, ROLE_PUBLIC, 0, "booking.centre" },
	{ HTTP_GET, "/centres/{code}/display", display_page, ROLE_PUBLIC, 0, "booking.display" },
	{ HTTP_GET, "/centres/{code}/display/events", bk_display_stream, ROLE_PUBLIC, 0, "booking.display_events" },
	{ HTTP_GET, "/centres/{code}/kiosk", kiosk_get, APPLICANTS | ROLE_STAFF, 0, "booking.kiosk" },
	{ HTTP_POST, "/centres/{code}/kiosk", kiosk_post, APPLICANTS | ROLE_STAFF, ROUTE_CSRF, "booking.kiosk_post" },
	{ HTTP_GET, "/book", book_get, APPLICANTS, 0, "booking.book" },
	{ HTTP_POST, "/book", book_post, APPLICANTS, ROUTE_CSRF, "booking.book_post" },
	{ HTTP_GET, "/bookings", mine_page, APPLICANTS, 0, "booking.mine" },
	{ HTTP_GET, "/bookings/{ref}", booking_page, PEOPLE, 0, "booking.booking" },
	{ HTTP_GET, "/bookings/{ref}/reschedule", reschedule_get, APPLICANTS, 0, "booking.reschedule" },
	{ HTTP_POST, "/bookings/{ref}/reschedule", reschedule_post, APPLICANTS, ROUTE_CSRF, "booking.reschedule_post" },
	{ HTTP_POST, "/bookings/{ref}/{action}", booking_post, APPLICANTS, ROUTE_CSRF, "booking.booking_post" },
	{ HTTP_GET, "/tickets/{id}", ticket_page, PEOPLE, 0, "booking.ticket" },
	{ HTTP_GET, "/staff/counters", counters_page, ROLE_STAFF | ROLE_ADMIN, 0, "booking.counters" },
	{ HTTP_GET, "/staff/counters/{code}/{counter}", counter_page, ROLE_STAFF | ROLE_ADMIN, 0, "booking.counter" },
	{ HTTP_POST, "/staff/counters/{code}/{counter}/call", call_post, ROLE_STAFF | ROLE_ADMIN, ROUTE_CSRF, "booking.call" },
	{ HTTP_POST, "/staff/tickets/{id}/{action}", ticket_act_post, ROLE_STAFF | ROLE_ADMIN, ROUTE_CSRF, "booking.ticket_act" },
};
const size_t booking_page_routes_n = ARRAY_LEN(booking_page_routes);

int bk_guide_section(struct req *r, const void *item_code, json_t *ctx)
{
	struct bk_centre *v;
	size_t n;
	if (bk_centres(r->db, r->arena, item_code, &v, &n) || n == 0)
		return 0;
	json_object_set_new(ctx, "book_visit", json_true());
	return 0;
}
