/* api.c: the JSON API of appointments and queueing (bearer tokens; see docs/api.md and
 * docs/openapi.yaml). Every decision is made by the functions of booking_impl.h, shared with the
 * pages; this file reads bodies and writes JSON. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "booking/booking_impl.h"
#include "http/msg.h"
#include "http/server.h"
#include "identity/identity.h"
#include "store/db.h"
#include "view/view.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define PEOPLE (APPLICANTS | ROLE_STAFF | ROLE_ADMIN)

/* ---- the booking request's parser --------------------------------------------------------- */

int bk_parse_slot(const char *day, const char *start, int32_t *d, int *m)
{
	/* A slot starts within its day: "24:00" is a closing time, never a start. */
	if (!day || !start || calendar_parse_day(day, strlen(day), d) || bk_parse_hhmm(start, strlen(start), m) ||
	    *m >= 24 * 60)
		return -1;
	return 0;
}

/* A string member of at most max bytes, copied into a; absent: NULL. -1 when not a string. */
static int member(struct arena *a, json_t *o, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = arena_strndup(a, json_string_value(v), json_string_length(v));
	return 0;
}

int bk_hold_parse(struct arena *a, const char *text, size_t len, struct bk_hold_in *out, const char **why_key)
{
	*out = (struct bk_hold_in){ .channel = BK_ONLINE };
	json_error_t e;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	int rc = 0;
	const char *day = NULL, *start = NULL, *channel = NULL;
	if (!json_is_object(o)) {
		*why_key = N_("booking_err_body");
		rc = GH_EINVAL;
		goto out;
	}
	static const char *const known[] = { "centre", "item", "day", "start", "application", "channel", "for_id_number", NULL };
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		size_t i = 0;
		while (known[i] && strcmp(known[i], k))
			i++;
		if (!known[i]) {
			*why_key = N_("booking_err_body_member");
			rc = GH_EINVAL;
			goto out;
		}
	}
	if (member(a, o, "centre", BK_CODE_MAX, &out->centre) || member(a, o, "item", BK_CODE_MAX, &out->item) ||
	    member(a, o, "day", 10, &day) || member(a, o, "start", 5, &start) ||
	    member(a, o, "application", 32, &out->application) || member(a, o, "channel", 16, &channel) ||
	    member(a, o, "for_id_number", 32, &out->for_id_number)) {
		*why_key = N_("booking_err_body_member");
		rc = GH_EINVAL;
		goto out;
	}
	if (!out->centre || !out->item || !day || !start) {
		*why_key = N_("booking_err_body_missing");
		rc = GH_EINVAL;
		goto out;
	}
	if (bk_parse_slot(day, start, &out->day, &out->start)) {
		*why_key = N_("booking_err_time");
		rc = GH_EINVAL;
		goto out;
	}
	if (channel && (out->channel = bk_channel_of(channel)) < 0) {
		*why_key = N_("booking_err_channel");
		rc = GH_EINVAL;
	}
out:
	json_decref(o);
	return rc;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

/* The JSON body's text, after checking its content type. */
static int body_text(struct req *r, const char **text, size_t *len)
{
	const char *ct = req_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		return bk_fail(r, GH_EUNSUPPORTED, "booking_err_json");
	*text = req_body(r, len);
	return 0;
}

static int body_object(struct req *r, json_t **out)
{
	const char *text;
	size_t len;
	int rc = body_text(r, &text, &len);
	if (rc)
		return rc;
	json_error_t e;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!json_is_object(j)) {
		json_decref(j);
		return bk_fail(r, GH_EINVAL, "booking_err_body");
	}
	arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	*out = j;
	return 0;
}

static const char *str_member(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) ? json_string_value(v) : NULL;
}

static void no_store(struct req *r)
{
	resp_header(r, "Cache-Control", "no-store");
}

/* ---- centres ---------------------------------------------------------------------------------- */

static int api_centres(struct req *r)
{
	const char *item = req_query(r, "item");
	if (item && (!*item || strlen(item) > BK_CODE_MAX))
		return bk_fail(r, GH_EINVAL, "booking_err_no_item");
	struct bk_centre *v;
	size_t n;
	int rc = bk_centres(r->db, r->arena, item, &v, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, bk_centre_json(r, &v[i]));
	return resp_json(r, 200, json_pack("{s:o}", "centres", arr));
}

static int api_centre(struct req *r)
{
	struct bk_centre c;
	int rc = bk_centre_param(r, &c);
	if (rc)
		return rc;
	struct bk_counter *k;
	size_t nk, ni;
	const char **items;
	if ((rc = bk_counters(r->db, r->arena, c.code, &k, &nk)) || (rc = bk_centre_items(r->db, r->arena, c.code, &items, &ni)))
		return rc;
	json_t *j = bk_centre_json(r, &c), *counters = json_array(), *its = json_array();
	for (size_t i = 0; i < nk; i++) {
		if (!k[i].active)
			continue;
		json_t *ci = json_array();
		for (size_t m = 0; m < k[i].nitems; m++)
			json_array_append_new(ci, json_string(k[i].items[m]));
		json_array_append_new(counters, json_pack("{s:s,s:s,s:o}", "code", k[i].code, "name",
							  bk_en(r) && *k[i].name_en ? k[i].name_en : k[i].name_zh, "items", ci));
	}
	for (size_t i = 0; i < ni; i++)
		json_array_append_new(its, json_string(items[i]));
	json_object_set_new(j, "counters", counters);
	json_object_set_new(j, "items", its);
	return resp_json(r, 200, j);
}

static int api_slots(struct req *r)
{
	struct bk_centre c;
	int rc = bk_centre_param(r, &c);
	if (rc)
		return rc;
	const char *item = req_query(r, "item"), *from_s = req_query(r, "from"), *ch = req_query(r, "channel");
	if (!item || !*item || strlen(item) > BK_CODE_MAX)
		return bk_fail(r, GH_EINVAL, "booking_err_item_param");
	int32_t from = 0;
	if (from_s && calendar_parse_day(from_s, strlen(from_s), &from))
		return bk_fail(r, GH_EINVAL, "booking_err_from_param");
	int channel = ch ? bk_channel_of(ch) : BK_ONLINE;
	if (channel < 0)
		return bk_fail(r, GH_EINVAL, "booking_err_channel");
	long days;
	if ((rc = req_query_long(r, "days", 10, 1, BK_DAYS_MAX, &days)))
		return rc;
	json_t *list;
	if ((rc = bk_availability(r, &c, item, channel, from, (int)days, &list)))
		return rc;
	no_store(r);
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s,s:o}", "centre", c.code, "item", item, "channel",
					   bk_channel_names[channel], "days", list));
}

static int api_display(struct req *r)
{
	json_t *j;
	int rc = bk_display_json(r, r->db, req_param(r, "code"), &j);
	if (rc)
		return rc;
	no_store(r);
	return resp_json(r, 200, j);
}

/* ---- bookings ------------------------------------------------------------------------------- */

static int booking_answer(struct req *r, int status, const struct bk_booking *b, bool history)
{
	json_t *j = bk_booking_json(r, b);
	if (history)
		json_object_set_new(j, "history", bk_history_json(r, b->id, 0));
	no_store(r);
	return resp_json(r, status, j);
}

static int book_done(struct req *r, const struct bk_hold_in *in, int rc, const struct bk_booking *b, bool replayed)
{
	(void)in;
	return rc ? rc : booking_answer(r, replayed ? 200 : 201, b, false);
}

static int api_book(struct req *r)
{
	const char *text;
	size_t len;
	int rc = body_text(r, &text, &len);
	if (rc)
		return rc;
	struct bk_hold_in in;
	const char *why;
	if ((rc = bk_hold_parse(r->arena, text, len, &in, &why)))
		return bk_fail(r, rc, why);
	in.via = r->role == ROLE_STAFF ? bk_channel_names[in.channel] : "app";
	if (r->role == ROLE_STAFF && in.channel == BK_ONLINE)
		in.channel = BK_PHONE, in.via = "phone";
	in.idempotency_key = req_header(r, "Idempotency-Key");
	return bk_hold_async(r, &in, book_done);
}

static int api_bookings(struct req *r)
{
	struct bk_booking *v;
	size_t n;
	int rc = bk_mine(r, req_query(r, "active") && !strcmp(req_query(r, "active"), "1"), &v, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, bk_booking_json(r, &v[i]));
	int64_t until, noshows;
	struct identity_owner o = identity_owner_of(r);
	if ((rc = bk_pause_of(r->db, r->arena, o.person, (int64_t)time(NULL), &until, &noshows)))
		return rc;
	json_t *p = bk_pause_json(r, until, noshows);
	no_store(r);
	return resp_json(r, 200, json_pack("{s:o,s:o}", "bookings", arr, "pause", p ? p : json_null()));
}

static int api_booking(struct req *r)
{
	struct bk_booking b;
	int rc = bk_load_visible(r, req_param(r, "ref"), &b);
	return rc ? rc : booking_answer(r, 200, &b, true);
}

static int booking_act_answer(struct req *r, struct bk_op *op, int rc)
{
	return rc ? rc : booking_answer(r, 200, &op->b, false);
}

static int api_booking_act(struct req *r)
{
	const char *action = req_param(r, "action");
	struct bk_op *op;
	if (!strcmp(action, "confirm")) {
		op = bk_op_new(r, BK_OP_CONFIRM, booking_act_answer);
	} else if (!strcmp(action, "cancel")) {
		op = bk_op_new(r, BK_OP_CANCEL, booking_act_answer);
	} else if (!strcmp(action, "reschedule")) {
		json_t *o;
		int rc = body_object(r, &o);
		if (rc)
			return rc;
		op = bk_op_new(r, BK_OP_RESCHEDULE, booking_act_answer);
		if (bk_parse_slot(str_member(o, "day"), str_member(o, "start"), &op->day, &op->start))
			return bk_fail(r, GH_EINVAL, "booking_err_time");
	} else {
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_action");
	}
	op->ref = req_param(r, "ref");
	return bk_op_write(r, op);
}

/* ---- tickets and counters ------------------------------------------------------------------- */

static int ticket_answer(struct req *r, int status, const struct bk_ticket *t)
{
	no_store(r);
	return resp_json(r, status, bk_ticket_json(r, t));
}

/* A ticket issued before (the same booking, or the person's open walk-in ticket): 200. */
static int ticket_new_answer(struct req *r, struct bk_op *op, int rc)
{
	return rc ? rc : ticket_answer(r, op->fresh ? 201 : 200, &op->t);
}

static int api_ticket_new(struct req *r)
{
	json_t *o;
	int rc = body_object(r, &o);
	if (rc)
		return rc;
	const char *item = str_member(o, "item"), *ref = str_member(o, "booking");
	if ((!item) == (!ref))
		return bk_fail(r, GH_EINVAL, "booking_err_ticket_body");
	struct bk_op *op = bk_op_new(r, ref ? BK_OP_CHECKIN : BK_OP_WALKIN, ticket_new_answer);
	op->centre = req_param(r, "code");
	op->ref = ref;
	op->item = item;
	op->name = str_member(o, "name");
	return bk_op_write(r, op);
}

static int api_ticket(struct req *r)
{
	struct bk_ticket t;
	int rc = bk_ticket_visible(r, bk_param_id(r), &t);
	return rc ? rc : ticket_answer(r, 200, &t);
}

static int api_counter(struct req *r)
{
	struct bk_counter k;
	const char *centre = req_param(r, "code"), *code = req_param(r, "counter");
	int rc = bk_counter_get(r->db, r->arena, centre, code, &k);
	if (rc == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_counter");
	if (rc || (rc = bk_counter_check(r, &k)))
		return rc;
	int32_t today = calendar_day_of(time(NULL));
	struct bk_ticket cur;
	long waiting;
	if ((rc = bk_waiting(r->db, r->arena, centre, code, today, &waiting)))
		return rc;
	rc = bk_counter_current(r->db, r->arena, centre, code, today, &cur);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	no_store(r);
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s,s:o,s:i}", "centre", centre, "counter", k.code, "name",
					   bk_en(r) && *k.name_en ? k.name_en : k.name_zh, "current",
					   rc ? json_null() : bk_ticket_json(r, &cur), "waiting", (int)waiting));
}

static int ticket_op_answer(struct req *r, struct bk_op *op, int rc)
{
	return rc ? rc : ticket_answer(r, 200, &op->t);
}

static int api_call(struct req *r)
{
	struct bk_op *op = bk_op_new(r, BK_OP_CALL, ticket_op_answer);
	op->centre = req_param(r, "code");
	op->counter = req_param(r, "counter");
	return bk_op_write(r, op);
}

static int api_ticket_act(struct req *r)
{
	struct bk_op *op = bk_op_new(r, BK_OP_TICKET, ticket_op_answer);
	op->id = bk_param_id(r);
	op->action = req_param(r, "action");
	if (!strcmp(op->action, "transfer")) {
		json_t *o;
		int rc = body_object(r, &o);
		if (rc)
			return rc;
		if (!(op->counter = str_member(o, "counter")) || strlen(op->counter) > BK_CODE_MAX)
			return bk_fail(r, GH_EVALIDATION, "booking_err_transfer_to");
	}
	return bk_op_write(r, op);
}

const struct route booking_api_routes[] = {
	{ HTTP_GET, "/api/v1/centres", api_centres, ROLE_PUBLIC, 0, "booking.api_centres" },
	{ HTTP_GET, "/api/v1/centres/{code}", api_centre, ROLE_PUBLIC, 0, "booking.api_centre" },
	{ HTTP_GET, "/api/v1/centres/{code}/slots", api_slots, ROLE_PUBLIC, 0, "booking.api_slots" },
	{ HTTP_GET, "/api/v1/centres/{code}/display", api_display, ROLE_PUBLIC, 0, "booking.api_display" },
	{ HTTP_POST, "/api/v1/centres/{code}/tickets", api_ticket_new, APPLICANTS | ROLE_STAFF, 0, "booking.api_ticket_new",
	  NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/centres/{code}/counters/{counter}", api_counter, ROLE_STAFF | ROLE_ADMIN, 0,
	  "booking.api_counter", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/centres/{code}/counters/{counter}/call", api_call, ROLE_STAFF | ROLE_ADMIN, 0,
	  "booking.api_call", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/bookings", api_bookings, APPLICANTS, 0, "booking.api_bookings", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/bookings", api_book, APPLICANTS | ROLE_STAFF, 0, "booking.api_book", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/bookings/{ref}", api_booking, PEOPLE, 0, "booking.api_booking", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/bookings/{ref}/{action}", api_booking_act, APPLICANTS | ROLE_STAFF, 0, "booking.api_booking_act",
	  NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/tickets/{id}", api_ticket, PEOPLE, 0, "booking.api_ticket", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/tickets/{id}/{action}", api_ticket_act, ROLE_STAFF | ROLE_ADMIN, 0, "booking.api_ticket_act",
	  NULL, SCOPE_APPLY },
};
const size_t booking_api_routes_n = ARRAY_LEN(booking_api_routes);
