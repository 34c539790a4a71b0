/* tickets.c: tickets (取号) and calling (叫号) at a centre.
 *
 * The kiosk (or the app, or staff at the desk) issues a ticket for a walk-in, or checks a
 * booking in and issues its ticket. Numbers run per centre and day: Y001.. for bookings, A001..
 * for walk-ins (one conditional upsert per number, so two kiosks never give the same one).
 * A clerk calls the next ticket at their counter: tickets transferred to that counter first,
 * then booked tickets whose slot has begun (booked tickets are served first within their slot),
 * then everyone by the time their ticket was issued. The call is a guarded UPDATE (state =
 * 'waiting'), so two counters calling at once never get the same ticket. A called ticket is
 * then served, missed (a booked one is a no-show), called again, or transferred to another
 * counter of the centre, where it goes first. Every change records an event, touches the
 * ticket for the transparency log, and moves the centre's display counter, which the hall's
 * screens follow (display.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/str.h"
#include "base/util.h"
#include "booking/booking_impl.h"
#include "http/msg.h"
#include "catalog/catalog.h"
#include "identity/identity.h"
#include "stats/stats.h"
#include "store/cover.h"
#include "store/db.h"

#define CALL_TRIES 5

#define TICKET_COLS                                                                                         \
	"t.id, t.centre, t.day, t.number, t.kind, t.booking_id, t.item_code, t.department, t.account_id, "     \
	"t.name_masked, t.slot_at, t.issued_at, t.issued_by, t.via, t.state, t.counter, t.transferred_from, "   \
	"t.calls, t.called_at, t.closed_at, t.version, b.ref"
#define TICKET_FROM " FROM booking_tickets t LEFT JOIN bookings b ON b.id = t.booking_id "

DB_SQL(q_ticket, "SELECT " TICKET_COLS TICKET_FROM "WHERE t.id = ?");
DB_SQL(q_ticket_booking, "SELECT " TICKET_COLS TICKET_FROM "WHERE t.booking_id = ?");
DB_SQL(q_ticket_open, "SELECT " TICKET_COLS TICKET_FROM "WHERE t.centre = ? AND t.day = ? AND t.account_id = ? "
		      "AND t.kind = 'walkin' AND t.state IN ('waiting', 'called') ORDER BY t.id DESC LIMIT 1");
DB_SQL(q_tickets_mine, "SELECT " TICKET_COLS TICKET_FROM "WHERE t.account_id = ? AND t.day = ? ORDER BY t.id DESC LIMIT 50");
DB_SQL(q_current, "SELECT " TICKET_COLS TICKET_FROM "WHERE t.centre = ? AND t.day = ? AND t.counter = ? "
		  "AND t.state = 'called' ORDER BY t.called_at DESC LIMIT 1");

static void row_of(const struct db_rows *rows, size_t i, struct bk_ticket *t)
{
	*t = (struct bk_ticket){
		.id = db_cell_int(rows, i, 0), .centre = db_cell(rows, i, 1), .day = (int32_t)db_cell_int(rows, i, 2),
		.number = db_cell(rows, i, 3), .kind = db_cell(rows, i, 4),
		.booking_id = db_cell(rows, i, 5) ? db_cell_int(rows, i, 5) : 0, .item_code = db_cell(rows, i, 6),
		.department = db_cell(rows, i, 7), .account_id = db_cell(rows, i, 8) ? db_cell_int(rows, i, 8) : 0,
		.name_masked = db_cell(rows, i, 9), .slot_at = db_cell(rows, i, 10) ? db_cell_int(rows, i, 10) : 0,
		.issued_at = db_cell_int(rows, i, 11), .issued_by = db_cell(rows, i, 12) ? db_cell_int(rows, i, 12) : 0,
		.via = db_cell(rows, i, 13), .state = db_cell(rows, i, 14), .counter = db_cell(rows, i, 15),
		.transferred_from = db_cell(rows, i, 16), .calls = db_cell_int(rows, i, 17),
		.called_at = db_cell(rows, i, 18) ? db_cell_int(rows, i, 18) : 0,
		.closed_at = db_cell(rows, i, 19) ? db_cell_int(rows, i, 19) : 0, .version = db_cell_int(rows, i, 20),
		.booking_ref = db_cell(rows, i, 21),
	};
}

static int one(struct db *db, struct arena *a, struct db_sql *q, const struct db_val *args, size_t n,
	       struct bk_ticket *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, args, n, &rows);
	if (rc)
		return rc;
	if (rows.nrows < 1)
		return GH_ENOTFOUND;
	row_of(&rows, 0, out);
	return 0;
}

int bk_ticket_get(struct db *db, struct arena *a, int64_t id, struct bk_ticket *out)
{
	return one(db, a, &q_ticket, DB_ARGS(DB_INT(id)), out);
}

int bk_counter_current(struct db *db, struct arena *a, const char *centre, const char *counter, int32_t day,
		       struct bk_ticket *out)
{
	return one(db, a, &q_current, DB_ARGS(DB_TEXT(centre), DB_INT(day), DB_TEXT(counter)), out);
}

int bk_ticket_visible(struct req *r, int64_t id, struct bk_ticket *out)
{
	int rc = bk_ticket_get(r->db, r->arena, id, out);
	if (!rc) {
		struct identity_owner o = identity_owner_of(r);
		bool mine = o.person && out->account_id == o.person;
		if (!mine && r->role != ROLE_STAFF && r->role != ROLE_ADMIN)
			rc = GH_ENOTFOUND;
	}
	if (rc == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_ticket");
	return rc;
}

int bk_tickets_mine(struct req *r, struct bk_ticket **out, size_t *n)
{
	struct identity_owner o = identity_owner_of(r);
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_tickets_mine,
			  DB_ARGS(DB_INT(o.person), DB_INT(calendar_day_of(time(NULL)))), &rows);
	if (rc)
		return rc;
	*out = arena_array(r->arena, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		row_of(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

/* ---- who may work a counter ----------------------------------------------------------------- */

int bk_counter_check(struct req *r, const struct bk_counter *k)
{
	if (r->role == ROLE_ADMIN)
		return 0;
	if (r->role == ROLE_STAFF && (r->who.staff_roles & STAFF_COUNTER) && r->who.department) {
		for (size_t i = 0; i < k->nitems; i++) {
			struct catalog_service svc;
			if (!bk_item(r, k->items[i], &svc) && !strcmp(svc.department, r->who.department))
				return 0;
		}
	}
	return bk_fail(r, GH_EFORBIDDEN, "booking_err_counter_forbidden");
}

/* ---- the queue ------------------------------------------------------------------------------ */

DB_SQL(q_waiting_all, "SELECT COUNT(*) FROM booking_tickets WHERE centre = ? AND day = ? AND state = 'waiting'");
DB_SQL(q_waiting_counter,
       "SELECT COUNT(*) FROM booking_tickets t WHERE t.centre = ? AND t.day = ? AND t.state = 'waiting' AND "
       "(t.counter = ? OR (t.counter IS NULL AND t.item_code IN (SELECT i.item_code FROM booking_counter_items i "
       "WHERE i.centre = t.centre AND i.counter = ?)))");
/* Those ahead of a ticket: the same order as the call, over the counters serving its item. */
DB_SQL(q_ahead,
       "SELECT COUNT(*) FROM booking_tickets t WHERE t.centre = ? AND t.day = ? AND t.state = 'waiting' AND t.id <> ? "
       "AND t.item_code IN (SELECT i2.item_code FROM booking_counter_items i2 WHERE i2.centre = t.centre AND i2.counter IN "
       "(SELECT i.counter FROM booking_counter_items i WHERE i.centre = t.centre AND i.item_code = ?)) "
       "AND (CASE WHEN t.kind = 'booked' AND t.slot_at <= ? THEN t.slot_at ELSE t.issued_at + 1000000000 END) < ?");

int bk_waiting(struct db *db, struct arena *a, const char *centre, const char *counter, int32_t day, long *n)
{
	struct db_rows rows;
	int rc = counter ? db_query(db, a, &q_waiting_counter,
				    DB_ARGS(DB_TEXT(centre), DB_INT(day), DB_TEXT(counter), DB_TEXT(counter)), &rows)
			 : db_query(db, a, &q_waiting_all, DB_ARGS(DB_TEXT(centre), DB_INT(day)), &rows);
	*n = !rc && rows.nrows == 1 ? (long)db_cell_int(&rows, 0, 0) : 0;
	return rc;
}

/* The key a ticket is called by: a booked ticket whose slot has begun by its slot's start,
 * everyone else after all of those, by the time of issue. */
static int64_t call_key(const struct bk_ticket *t, int64_t now)
{
	if (!strcmp(t->kind, "booked") && t->slot_at && t->slot_at <= now)
		return t->slot_at;
	return t->issued_at + 1000000000;
}

int bk_ahead(struct db *db, struct arena *a, const struct bk_ticket *t, long *ahead)
{
	struct db_rows rows;
	int64_t now = (int64_t)time(NULL);
	*ahead = 0;
	if (strcmp(t->state, "waiting"))
		return 0;
	int rc = db_query(db, a, &q_ahead,
			  DB_ARGS(DB_TEXT(t->centre), DB_INT(t->day), DB_INT(t->id), DB_TEXT(t->item_code), DB_INT(now),
				  DB_INT(call_key(t, now))),
			  &rows);
	if (!rc && rows.nrows == 1)
		*ahead = (long)db_cell_int(&rows, 0, 0);
	return rc;
}

/* ---- issuing ---------------------------------------------------------------------------------- */

DB_SQL2(q_seq,
	"INSERT INTO booking_ticket_seq (centre, day, prefix, n) VALUES (?, ?, ?, 1) "
	"ON CONFLICT (centre, day, prefix) DO UPDATE SET n = booking_ticket_seq.n + 1 RETURNING n",
	"INSERT INTO booking_ticket_seq (centre, day, prefix, n) VALUES (?, ?, ?, 1) "
	"ON CONFLICT (centre, day, prefix) DO UPDATE SET n = booking_ticket_seq.n + 1 RETURNING n");
DB_SQL(q_ticket_add,
       "INSERT INTO booking_tickets (centre, day, number, kind, booking_id, item_code, department, account_id, name_enc, "
       "name_masked, key_id, slot_at, issued_at, issued_by, via, state) "
       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting') RETURNING id");
DB_SQL2(q_display_bump,
	"INSERT INTO booking_display (centre, seq) VALUES (?, 1) ON CONFLICT (centre) DO UPDATE SET seq = booking_display.seq + 1",
	"INSERT INTO booking_display (centre, seq) VALUES (?, 1) ON CONFLICT (centre) DO UPDATE SET seq = booking_display.seq + 1");
DB_SQL(q_booking_seal, "SELECT name_enc, key_id FROM bookings WHERE id = ?");
DB_SQL(q_checkin, "UPDATE bookings SET state = 'checked_in', checked_in_at = ?, updated_at = ?, version = version + 1 "
		  "WHERE id = ? AND state = 'booked' AND version = ?");

int bk_display_bump(struct db *db, const char *centre)
{
	return db_exec(db, &q_display_bump, DB_ARGS(DB_TEXT(centre)), NULL);
}

/* The next number of prefix at centre today, in a. */
static int next_number(struct db *db, struct arena *a, const char *centre, int32_t day, const char *prefix,
		       const char **out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_seq, DB_ARGS(DB_TEXT(centre), DB_INT(day), DB_TEXT(prefix)), &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_EDB;
	if (!rc)
		*out = arena_printf(a, "%s%03lld", prefix, (long long)db_cell_int(&rows, 0, 0));
	return rc;
}

/* 0 when the centre issues tickets now: a working day, from booking-checkin-early minutes
 * before it opens until it closes. */
static int centre_open(struct req *r, const struct bk_centre *c, int64_t now)
{
	int32_t day;
	int min = bk_minute_of(now, &day);
	if (bk_workday(day) && min >= c->open_min - r->app->cfg.booking_checkin_early && min < c->close_min)
		return 0;
	char o[6], cl[6];
	bk_hhmm(c->open_min, o);
	bk_hhmm(c->close_min, cl);
	return bk_failf(r, GH_ECONFLICT, "booking_err_closed", "open", o, "close", cl, NULL);
}

static const char *via_of(struct req *r)
{
	if (r->role == ROLE_STAFF)
		return "counter";
	const char *k = req_cookie(r, "kiosk");
	if (k && !strcmp(k, "1"))
		return "kiosk";
	return r->api ? "app" : "web";
}

/* Inserts a ticket and its event, moves the display; inside the caller's transaction. */
static int add_ticket(struct req *r, const char *centre, int32_t day, const char *kind, int64_t booking_id,
		      const char *item, const char *department, int64_t account, const unsigned char *enc, size_t enc_len,
		      const char *masked, int64_t key_id, int64_t slot_at, int64_t now, int64_t *id)
{
	const char *number;
	int rc = next_number(r->db, r->arena, centre, day, !strcmp(kind, "booked") ? "Y" : "A", &number);
	struct db_rows rows;
	if (!rc)
		rc = db_query(r->db, r->arena, &q_ticket_add,
			      DB_ARGS(DB_TEXT(centre), DB_INT(day), DB_TEXT(number), DB_TEXT(kind),
				      booking_id ? DB_INT(booking_id) : DB_NULL, DB_TEXT(item), DB_TEXT(department),
				      account ? DB_INT(account) : DB_NULL, enc ? DB_BLOB(enc, enc_len) : DB_NULL, DB_TEXT(masked),
				      enc ? DB_INT(key_id) : DB_NULL, slot_at ? DB_INT(slot_at) : DB_NULL, DB_INT(now),
				      r->role == ROLE_STAFF ? DB_INT(r->who.account) : DB_NULL, DB_TEXT(via_of(r))),
			      &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_EDB;
	if (!rc)
		*id = db_cell_int(&rows, 0, 0);
	if (!rc)
		rc = bk_event(r->db, booking_id, *id, "ticket", r->who.account, json_pack("{s:s,s:s}", "number", number, "kind", kind));
	if (!rc)
		rc = bk_display_bump(r->db, centre);
	return rc;
}

int bk_ticket_walkin(struct req *r, const char *centre, const char *item, const char *name, struct bk_ticket *out,
		     bool *fresh)
{
	*fresh = false;
	int64_t now = (int64_t)time(NULL);
	int32_t today = calendar_day_of((time_t)now);
	struct bk_centre c;
	int rc = bk_centre_get(r->db, r->arena, centre, &c);
	if (rc == GH_ENOTFOUND || (!rc && !c.active))
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_centre");
	if (rc)
		return rc;
	int cap[3];
	if (!item || (rc = bk_capacity(r->db, r->arena, c.code, item, cap)) == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_not_served");
	if (rc)
		return rc;
	struct catalog_service svc;
	if ((rc = bk_item(r, item, &svc)) == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_item");
	if (rc)
		return rc;
	if ((rc = centre_open(r, &c, now)))
		return rc;
	int64_t account = 0, key_id = 0;
	const unsigned char *enc = NULL;
	size_t enc_len = 0;
	const char *masked = "*";
	if (r->role == ROLE_STAFF) {
		if (!(r->who.staff_roles & STAFF_COUNTER))
			return bk_fail(r, GH_EFORBIDDEN, "booking_err_staff_channel");
		if (name && *name) {
			if (!str_utf8_valid(name, strlen(name)) || str_utf8_chars(name, strlen(name)) > BK_NAME_MAX)
				return bk_fail(r, GH_EVALIDATION, "booking_err_name");
			if ((rc = bk_seal(r->arena, "booking_name", name, &enc, &enc_len, &key_id)))
				return rc;
			masked = bk_mask_name(r->arena, name);
		}
	} else {
		struct identity_owner o = identity_owner_of(r);
		if (!o.person)
			return bk_fail(r, GH_EFORBIDDEN, "booking_err_citizens_only");
		account = o.person;
		/* One open walk-in ticket per person and centre: asking again gives the same one. */
		if (!(rc = one(r->db, r->arena, &q_ticket_open, DB_ARGS(DB_TEXT(c.code), DB_INT(today), DB_INT(account)), out)))
			return 0;
		if (rc != GH_ENOTFOUND)
			return rc;
		char *pname = NULL;
		if ((rc = identity_contact(r->db, identity_keyring(), r->arena, account, NULL, NULL, &pname)))
			return rc;
		if ((rc = bk_seal(r->arena, "booking_name", pname ? pname : "", &enc, &enc_len, &key_id)))
			return rc;
		masked = bk_mask_name(r->arena, pname);
	}
	if ((rc = db_begin(r->db)))
		return rc;
	int64_t id = 0;
	rc = add_ticket(r, c.code, today, "walkin", 0, item, svc.department, account, enc, enc_len, masked, key_id, 0,
			now, &id);
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc;
	}
	*fresh = true;
	return bk_ticket_get(r->db, r->arena, id, out);
}

int bk_ticket_checkin(struct req *r, const char *centre, const char *ref, struct bk_ticket *out, bool *fresh)
{
	*fresh = false;
	struct bk_booking b;
	int rc = bk_load_visible(r, ref, &b);
	if (rc)
		return rc;
	bool staff = r->role == ROLE_STAFF && (r->who.staff_roles & STAFF_COUNTER);
	if (!bk_owns(r, &b) && !staff)
		return bk_fail(r, GH_EFORBIDDEN, "booking_err_not_yours");
	if (!centre || strcmp(b.centre, centre))
		return bk_failf(r, GH_ECONFLICT, "booking_err_other_centre", "centre",
				bk_en(r) && b.centre_en && *b.centre_en ? b.centre_en : b.centre_zh, NULL);
	if (!strcmp(b.state, "checked_in") || !strcmp(b.state, "served")) {
		rc = one(r->db, r->arena, &q_ticket_booking, DB_ARGS(DB_INT(b.id)), out);
		return rc == GH_ENOTFOUND ? bk_fail(r, GH_ECONFLICT, "booking_err_not_booked") : rc;
	}
	if (strcmp(b.state, "booked"))
		return bk_fail(r, GH_ECONFLICT, "booking_err_not_booked");
	int64_t now = (int64_t)time(NULL), start = bk_at(b.day, b.start_min), end = bk_at(b.day, b.end_min);
	int64_t from = start - r->app->cfg.booking_checkin_early * 60;
	if (now < from)
		return bk_failf(r, GH_ECONFLICT, "booking_err_checkin_early", "time", bk_when(r->arena, from), NULL);
	if (now > end)
		return bk_fail(r, GH_ECONFLICT, "booking_err_checkin_late");
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_booking_seal, DB_ARGS(DB_INT(b.id)), &rows)))
		return rc;
	if ((rc = db_begin(r->db)))
		return rc;
	int64_t changed = 0, id = 0;
	rc = db_exec(r->db, &q_checkin, DB_ARGS(DB_INT(now), DB_INT(now), DB_INT(b.id), DB_INT(b.version)), &changed);
	if (!rc && changed != 1)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = bk_event(r->db, b.id, 0, "checkin", r->who.account, NULL);
	/* The ticket joins today's queue (a booking checked in before midnight for a slot just after
	 * it would otherwise wait in tomorrow's). */
	if (!rc)
		rc = add_ticket(r, b.centre, calendar_day_of((time_t)now), "booked", b.id, b.item_code, b.department, b.account_id,
				(const unsigned char *)rows.cells[0], rows.lens[0], b.name_masked, db_cell_int(&rows, 0, 1), start,
				now, &id);
	if (!rc)
		rc = stats_count(r->db, r->arena, b.day, b.department, b.item_code, b.channel, "bk_attended", 1);
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc == GH_ECONFLICT ? bk_fail(r, GH_ECONFLICT, "booking_err_changed") : rc;
	}
	*fresh = true;
	return bk_ticket_get(r->db, r->arena, id, out);
}

/* ---- calling ---------------------------------------------------------------------------------- */

DB_SQL(q_candidates,
       "SELECT t.id FROM booking_tickets t WHERE t.centre = ? AND t.day = ? AND t.state = 'waiting' AND "
       "(t.counter = ? OR (t.counter IS NULL AND t.item_code IN (SELECT i.item_code FROM booking_counter_items i "
       "WHERE i.centre = t.centre AND i.counter = ?))) "
       "ORDER BY CASE WHEN t.counter = ? THEN 0 ELSE 1 END, "
       "CASE WHEN t.kind = 'booked' AND t.slot_at <= ? THEN t.slot_at ELSE t.issued_at + 1000000000 END, t.id LIMIT 5");
DB_SQL(q_call, "UPDATE booking_tickets SET state = 'called', counter = ?, called_at = ?, called_by = ?, calls = calls + 1, "
	       "version = version + 1 WHERE id = ? AND state = 'waiting'");

/* The counter named by centre and code, active, and the caller's to work; GH_E code else. */
static int counter_of(struct req *r, const char *centre, const char *code, struct bk_counter *k)
{
	int rc = bk_counter_get(r->db, r->arena, centre, code, k);
	if (rc == GH_ENOTFOUND || (!rc && !k->active))
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_counter");
	if (rc)
		return rc;
	return bk_counter_check(r, k);
}

/* The statistics of a first call: one more called, and the wait. */
static int figure_call(struct req *r, const struct bk_ticket *t, int64_t now)
{
	int64_t from = t->issued_at > t->slot_at ? t->issued_at : t->slot_at, wait = now > from ? now - from : 0;
	const char *ch = !strcmp(t->kind, "booked") ? "booked" : "walkin";
	int rc = stats_count(r->db, r->arena, t->day, t->department, t->item_code, ch, "bk_called", 1);
	if (!rc)
		rc = stats_count(r->db, r->arena, t->day, t->department, t->item_code, ch, "bk_wait_s", wait);
	return rc;
}

int bk_call_next(struct req *r, const char *centre, const char *counter, struct bk_ticket *out)
{
	struct bk_counter k;
	int rc = counter_of(r, centre, counter, &k);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL);
	int32_t today = calendar_day_of((time_t)now);
	struct bk_ticket cur;
	if (!(rc = bk_counter_current(r->db, r->arena, centre, counter, today, &cur)))
		return bk_failf(r, GH_ECONFLICT, "booking_err_counter_busy", "number", cur.number, NULL);
	if (rc != GH_ENOTFOUND)
		return rc;
	for (int attempt = 0; attempt < CALL_TRIES; attempt++) {
		if ((rc = db_begin(r->db)))
			return rc;
		struct db_rows rows;
		rc = db_query(r->db, r->arena, &q_candidates,
			      DB_ARGS(DB_TEXT(centre), DB_INT(today), DB_TEXT(counter), DB_TEXT(counter), DB_TEXT(counter),
				      DB_INT(now)),
			      &rows);
		if (!rc && rows.nrows == 0) {
			db_rollback(r->db);
			return bk_fail(r, GH_ENOTFOUND, "booking_err_nobody_waiting");
		}
		int64_t id = 0;
		for (size_t i = 0; !rc && !id && i < rows.nrows; i++) {
			int64_t changed = 0;
			rc = db_exec(r->db, &q_call,
				     DB_ARGS(DB_TEXT(counter), DB_INT(now), DB_INT(r->who.account), DB_INT(db_cell_int(&rows, i, 0))),
				     &changed);
			if (!rc && changed == 1)
				id = db_cell_int(&rows, i, 0);
		}
		struct bk_ticket t;
		if (!rc && id)
			rc = bk_ticket_get(r->db, r->arena, id, &t);
		if (!rc && id)
			rc = bk_event(r->db, t.booking_id, id, "call", r->who.account, json_pack("{s:s}", "counter", counter));
		if (!rc && id && t.calls == 1)
			rc = figure_call(r, &t, now);
		if (!rc && id)
			rc = bk_display_bump(r->db, centre);
		if (!rc && id)
			rc = db_commit(r->db);
		if (rc || !id) {
			db_rollback(r->db);
			if (rc)
				return rc;
			continue; /* every candidate was called by another counter meanwhile */
		}
		return bk_ticket_get(r->db, r->arena, id, out);
	}
	return bk_fail(r, GH_ECONFLICT, "booking_err_changed");
}

DB_SQL(q_close, "UPDATE booking_tickets SET state = ?, closed_at = ?, version = version + 1 WHERE id = ? AND state = 'called' "
		"AND version = ?");
DB_SQL(q_recall, "UPDATE booking_tickets SET called_at = ?, called_by = ?, calls = calls + 1, version = version + 1 "
		 "WHERE id = ? AND state = 'called' AND version = ?");
DB_SQL(q_transfer, "UPDATE booking_tickets SET state = 'waiting', counter = ?, transferred_from = ?, version = version + 1 "
		   "WHERE id = ? AND state = 'called' AND version = ?");

int bk_ticket_act(struct req *r, int64_t id, const char *action, const char *to_counter, struct bk_ticket *out)
{
	struct bk_ticket t;
	int rc = bk_ticket_get(r->db, r->arena, id, &t);
	if (rc == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_ticket");
	if (rc)
		return rc;
	if (strcmp(t.state, "called") || !t.counter)
		return bk_fail(r, GH_ECONFLICT, "booking_err_not_called");
	struct bk_counter k;
	if ((rc = counter_of(r, t.centre, t.counter, &k)))
		return rc;
	bool served = !strcmp(action, "served"), missed = !strcmp(action, "missed"), recall = !strcmp(action, "recall"),
	     transfer = !strcmp(action, "transfer");
	if (!served && !missed && !recall && !transfer)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_action");
	if (transfer) {
		struct bk_counter to;
		int trc = bk_counter_get(r->db, r->arena, t.centre, to_counter, &to);
		if (trc == GH_ENOTFOUND || (!trc && !to.active))
			return bk_fail(r, GH_EVALIDATION, "booking_err_transfer_to");
		if (trc)
			return trc;
		if (!strcmp(to.code, t.counter))
			return bk_fail(r, GH_EVALIDATION, "booking_err_transfer_same");
	}
	int64_t now = (int64_t)time(NULL), changed = 0;
	if ((rc = db_begin(r->db)))
		return rc;
	if (served || missed)
		rc = db_exec(r->db, &q_close, DB_ARGS(DB_TEXT(action), DB_INT(now), DB_INT(id), DB_INT(t.version)), &changed);
	else if (recall)
		rc = db_exec(r->db, &q_recall, DB_ARGS(DB_INT(now), DB_INT(r->who.account), DB_INT(id), DB_INT(t.version)), &changed);
	else
		rc = db_exec(r->db, &q_transfer, DB_ARGS(DB_TEXT(to_counter), DB_TEXT(t.counter), DB_INT(id), DB_INT(t.version)),
			     &changed);
	if (!rc && changed != 1)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = bk_event(r->db, t.booking_id, id, action, r->who.account,
			      transfer ? json_pack("{s:s,s:s}", "from", t.counter, "to", to_counter)
				       : json_pack("{s:s}", "counter", t.counter));
	if (!rc && t.booking_id && (served || missed))
		rc = bk_end(r->db, t.booking_id, "checked_in", action, now, false);
	if (!rc && served)
		rc = stats_count(r->db, r->arena, t.day, t.department, t.item_code, strcmp(t.kind, "booked") ? "walkin" : "booked",
				 "bk_served", 1);
	if (!rc && missed && t.booking_id) {
		struct bk_booking b;
		rc = bk_get_id(r->db, r->arena, t.booking_id, &b);
		if (!rc)
			rc = stats_count(r->db, r->arena, t.day, b.department, b.item_code, b.channel, "bk_noshow", 1);
		if (!rc)
			rc = bk_noshow(r->app, r->db, r->arena, b.account_id, now, NULL);
	}
	if (!rc)
		rc = bk_display_bump(r->db, t.centre);
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc == GH_ECONFLICT ? bk_fail(r, GH_ECONFLICT, "booking_err_changed") : rc;
	}
	return bk_ticket_get(r->db, r->arena, id, out);
}

/* ---- JSON ------------------------------------------------------------------------------------- */

json_t *bk_ticket_json(struct req *r, const struct bk_ticket *t)
{
	const struct catalog_service_parsed *svc;
	const char *item = t->item_code;
	if (!catalog_service_cached(r, t->item_code, &svc))
		item = bk_en(r) && svc->svc.name_en && *svc->svc.name_en ? svc->svc.name_en : svc->svc.name_zh;
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,s:I}", "id", (json_int_t)t->id, "number",
			      t->number, "kind", t->kind, "state", t->state, "state_name", MC(r, "booking_ticket_state_", t->state), "centre", t->centre,
			      "item", "code", t->item_code, "name", item, "name", t->name_masked, "day",
			      bk_day_str(r->arena, t->day), "calls", (json_int_t)t->calls);
	json_object_set_new(j, "booking", t->booking_ref ? json_string(t->booking_ref) : json_null());
	json_object_set_new(j, "counter", t->counter && strcmp(t->state, "waiting") ? json_string(t->counter) : json_null());
	json_object_set_new(j, "slot", t->slot_at ? json_string(bk_when(r->arena, t->slot_at)) : json_null());
	bk_set(j, "issued", bk_when(r->arena, t->issued_at));
	json_object_set_new(j, "called", t->called_at ? json_string(bk_when(r->arena, t->called_at)) : json_null());
	long ahead = 0;
	if (!strcmp(t->state, "waiting"))
		bk_ahead(r->db, r->arena, t, &ahead);
	json_object_set_new(j, "ahead", json_integer(ahead));
	return j;
}
