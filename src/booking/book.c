/* book.c: bookings (预约) — hold, confirm, cancel, reschedule — and the limits against abuse.
 *
 * A booking takes a place in a slot of one channel (online for citizens on the web, in the app
 * and at a kiosk; phone and counter for staff booking for a caller). The place is taken by one
 * conditional write, `UPDATE booking_slots SET taken = taken + 1 WHERE id = ? AND taken < ?`,
 * after the slot's row is made (an upsert that also locks it on PostgreSQL): of two people
 * racing for the last place, one gets it and the other a clear message, on both backends. In
 * the same transaction the person's active bookings of the item are counted up by one
 * conditional upsert (booking-max-active), and the booking is written as held until now +
 * booking-hold. Confirming makes it booked; a hold not confirmed in time lapses (here, when the
 * slot is wanted, or by the duty) and gives its place back. Cancelling and moving end
 * booking-change-before minutes before the slot. A person with booking-noshow-limit no-shows in
 * booking-noshow-window days may not book online for booking-pause-days; they are told why and
 * until when, and phone and counter booking stay open to them.
 *
 * Every change writes a booking_events row and touches the booking for the transparency log:
 * bookings are covered from their confirmation on; the events of holds (hold, release, lapse)
 * are not, as a hold is no promise of the hall (docs/security.md). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/str.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "booking/booking_impl.h"
#include "http/msg.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "stats/stats.h"
#include "store/cover.h"
#include "store/db.h"
#include "store/group.h"
#include "view/view.h"
#include "http/write.h"

#define REF_ALPHABET "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
#define IDEM_MAX 128

/* ---- rows ----------------------------------------------------------------------------------- */

#define BOOKING_COLS                                                                                          \
	"b.id, b.ref, b.account_id, b.enterprise_id, b.booked_by, b.centre, b.item_code, b.department, "         \
	"b.application_id, b.application_number, b.slot_id, b.day, b.start_min, b.end_min, b.channel, b.via, "   \
	"b.state, b.hold_until, b.name_masked, b.phone_masked, b.version, b.created_at, b.confirmed_at, "       \
	"b.cancelled_at, b.checked_in_at, b.missed_at, b.updated_at, c.name_zh, c.name_en, "                     \
	"(SELECT t.number FROM booking_tickets t WHERE t.booking_id = b.id)"
#define BOOKING_FROM " FROM bookings b LEFT JOIN booking_centres c ON c.code = b.centre "

DB_SQL(q_get_ref, "SELECT " BOOKING_COLS BOOKING_FROM "WHERE b.ref = ?");
DB_SQL(q_get_id, "SELECT " BOOKING_COLS BOOKING_FROM "WHERE b.id = ?");
DB_SQL(q_get_idem, "SELECT " BOOKING_COLS BOOKING_FROM "WHERE b.account_id = ? AND b.idempotency_key = ?");
DB_SQL(q_mine, "SELECT " BOOKING_COLS BOOKING_FROM "WHERE " IDENTITY_OWNER_SQL("b.account_id", "b.enterprise_id")
	       " ORDER BY b.day DESC, b.start_min DESC, b.id DESC LIMIT 200");
DB_SQL(q_mine_active, "SELECT " BOOKING_COLS BOOKING_FROM "WHERE "
		      IDENTITY_OWNER_SQL("b.account_id", "b.enterprise_id")
		      " AND b.state IN ('held', 'booked', 'checked_in') ORDER BY b.day, b.start_min, b.id LIMIT 200");
DB_SQL(q_of_application, "SELECT " BOOKING_COLS BOOKING_FROM "WHERE b.application_id = ? "
			 "AND b.state IN ('held', 'booked', 'checked_in') ORDER BY b.day, b.start_min, b.id LIMIT 20");

/* One booking row (BOOKING_COLS) into elem (a struct bk_booking; db_query_array's row). */
static void row_of(const struct db_rows *rows, size_t i, void *elem)
{
	struct bk_booking *b = elem;
	*b = (struct bk_booking){
		.id = db_cell_int(rows, i, 0), .ref = db_cell(rows, i, 1), .account_id = db_cell_int(rows, i, 2),
		.enterprise_id = db_cell(rows, i, 3) ? db_cell_int(rows, i, 3) : 0,
		.booked_by = db_cell(rows, i, 4) ? db_cell_int(rows, i, 4) : 0, .centre = db_cell(rows, i, 5),
		.item_code = db_cell(rows, i, 6), .department = db_cell(rows, i, 7),
		.application_id = db_cell(rows, i, 8) ? db_cell_int(rows, i, 8) : 0,
		.application_number = db_cell(rows, i, 9), .slot_id = db_cell_int(rows, i, 10),
		.day = (int32_t)db_cell_int(rows, i, 11), .start_min = (int)db_cell_int(rows, i, 12),
		.end_min = (int)db_cell_int(rows, i, 13), .channel = db_cell(rows, i, 14), .via = db_cell(rows, i, 15),
		.state = db_cell(rows, i, 16), .hold_until = db_cell(rows, i, 17) ? db_cell_int(rows, i, 17) : 0,
		.name_masked = db_cell(rows, i, 18), .phone_masked = db_cell(rows, i, 19),
		.version = db_cell_int(rows, i, 20), .created_at = db_cell_int(rows, i, 21),
		.confirmed_at = db_cell(rows, i, 22) ? db_cell_int(rows, i, 22) : 0,
		.cancelled_at = db_cell(rows, i, 23) ? db_cell_int(rows, i, 23) : 0,
		.checked_in_at = db_cell(rows, i, 24) ? db_cell_int(rows, i, 24) : 0,
		.missed_at = db_cell(rows, i, 25) ? db_cell_int(rows, i, 25) : 0, .updated_at = db_cell_int(rows, i, 26),
		.centre_zh = db_cell(rows, i, 27), .centre_en = db_cell(rows, i, 28), .ticket_number = db_cell(rows, i, 29),
	};
}

static int get_one(struct db *db, struct arena *a, struct db_sql *q, const struct db_val *args, size_t n,
		   struct bk_booking *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, args, n, &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	row_of(&rows, 0, out);
	return 0;
}

int bk_get(struct db *db, struct arena *a, const char *ref, struct bk_booking *out)
{
	if (!ref || strlen(ref) != BK_REF_LEN)
		return GH_ENOTFOUND;
	return get_one(db, a, &q_get_ref, DB_ARGS(DB_TEXT(ref)), out);
}

int bk_get_id(struct db *db, struct arena *a, int64_t id, struct bk_booking *out)
{
	return get_one(db, a, &q_get_id, DB_ARGS(DB_INT(id)), out);
}

bool bk_owns(const struct req *r, const struct bk_booking *b)
{
	return identity_owns(r, b->account_id, b->enterprise_id);
}

int bk_load_visible(struct req *r, const char *ref, struct bk_booking *out)
{
	int rc = bk_get(r->db, r->arena, ref, out);
	if (!rc) {
		bool staff = r->role == ROLE_STAFF && r->who.department && !strcmp(r->who.department, out->department);
		if (!bk_owns(r, out) && !staff && r->role != ROLE_ADMIN && !(out->booked_by && out->booked_by == r->who.account))
			rc = GH_ENOTFOUND;
	}
	if (rc == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_booking");
	return rc;
}

int bk_mine(struct req *r, bool active, struct bk_booking **out, size_t *n)
{
	struct identity_owner o = identity_owner_of(r);
	return db_query_array(r->db, r->arena, active ? &q_mine_active : &q_mine, DB_ARGS(IDENTITY_OWNER_ARGS(o)),
			      sizeof(**out), row_of, out, n);
}

int bk_of_application(struct db *db, struct arena *a, int64_t application_id, struct bk_booking **out, size_t *n)
{
	return db_query_array(db, a, &q_of_application, DB_ARGS(DB_INT(application_id)), sizeof(**out), row_of, out, n);
}

/* ---- events, ends, no-shows --------------------------------------------------------------- */

DB_SQL(q_event, "INSERT INTO booking_events (booking_id, ticket_id, action, actor_id, detail, at) VALUES (?, ?, ?, ?, ?, ?) "
		"RETURNING id");

int bk_event(struct db *db, int64_t booking_id, int64_t ticket_id, const char *action, int64_t actor, json_t *detail)
{
	char *d = detail ? jsonout_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(detail);
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_event,
			  DB_ARGS(booking_id ? DB_INT(booking_id) : DB_NULL, ticket_id ? DB_INT(ticket_id) : DB_NULL,
				  DB_TEXT(action), actor ? DB_INT(actor) : DB_NULL, DB_TEXT(d ? d : "{}"), DB_INT(time(NULL))),
			  &rows);
	free(d);
	if (!rc && rows.nrows != 1)
		rc = GH_EDB;
	if (!rc)
		rc = cover_touch_id(db, "booking_events", db_cell_int(&rows, 0, 0), NULL);
	if (!rc && booking_id)
		rc = cover_touch_id(db, "bookings", booking_id, NULL);
	if (!rc && ticket_id)
		rc = cover_touch_id(db, "booking_tickets", ticket_id, NULL);
	arena_free(a);
	return rc;
}

DB_SQL(q_end_cancel, "UPDATE bookings SET state = ?, cancelled_at = ?, updated_at = ?, version = version + 1 "
		     "WHERE id = ? AND state = ? RETURNING slot_id, account_id, item_code");
DB_SQL(q_end_missed, "UPDATE bookings SET state = ?, missed_at = ?, updated_at = ?, version = version + 1 "
		     "WHERE id = ? AND state = ? RETURNING slot_id, account_id, item_code");
DB_SQL(q_end_other, "UPDATE bookings SET state = ?, hold_until = NULL, updated_at = ?, version = version + 1 "
		    "WHERE id = ? AND state = ? RETURNING slot_id, account_id, item_code");
DB_SQL(q_quota_down, "UPDATE booking_quota SET active = active - 1 WHERE account_id = ? AND item_code = ? AND active > 0");
DB_SQL(q_slot_down, "UPDATE booking_slots SET taken = taken - 1 WHERE id = ? AND taken > 0");

int bk_end(struct db *db, int64_t id, const char *from, const char *to, int64_t now, bool release)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc;
	if (!strcmp(to, "cancelled"))
		rc = db_query(db, a, &q_end_cancel, DB_ARGS(DB_TEXT(to), DB_INT(now), DB_INT(now), DB_INT(id), DB_TEXT(from)), &rows);
	else if (!strcmp(to, "missed"))
		rc = db_query(db, a, &q_end_missed, DB_ARGS(DB_TEXT(to), DB_INT(now), DB_INT(now), DB_INT(id), DB_TEXT(from)), &rows);
	else
		rc = db_query(db, a, &q_end_other, DB_ARGS(DB_TEXT(to), DB_INT(now), DB_INT(id), DB_TEXT(from)), &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = db_exec(db, &q_quota_down, DB_ARGS(DB_INT(db_cell_int(&rows, 0, 1)), DB_TEXT(db_cell(&rows, 0, 2))), NULL);
	if (!rc && release)
		rc = db_exec(db, &q_slot_down, DB_ARGS(DB_INT(db_cell_int(&rows, 0, 0))), NULL);
	arena_free(a);
	return rc;
}

DB_SQL(q_pause_now, "SELECT paused_until, noshows FROM booking_pauses WHERE account_id = ? AND paused_until > ? "
		    "ORDER BY paused_until DESC LIMIT 1");
DB_SQL(q_pause_last, "SELECT COALESCE(MAX(paused_from), 0) FROM booking_pauses WHERE account_id = ?");
DB_SQL(q_noshows, "SELECT COUNT(*) FROM bookings WHERE account_id = ? AND state = 'missed' AND missed_at >= ?");
DB_SQL(q_pause_add, "INSERT INTO booking_pauses (account_id, paused_from, paused_until, noshows, created_at) "
		    "VALUES (?, ?, ?, ?, ?) RETURNING id");

int bk_pause_of(struct db *db, struct arena *a, int64_t account, int64_t now, int64_t *until, int64_t *noshows)
{
	struct db_rows rows;
	*until = 0;
	if (noshows)
		*noshows = 0;
	int rc = db_query(db, a, &q_pause_now, DB_ARGS(DB_INT(account), DB_INT(now)), &rows);
	if (!rc && rows.nrows == 1) {
		*until = db_cell_int(&rows, 0, 0);
		if (noshows)
			*noshows = db_cell_int(&rows, 0, 1);
	}
	return rc;
}

int bk_noshow(struct app *app, struct db *db, struct arena *a, int64_t account, int64_t now, bool *paused)
{
	const struct config *cfg = app ? &app->cfg : NULL;
	long limit = cfg ? cfg->booking_noshow_limit : 3, window = cfg ? cfg->booking_noshow_window : 30,
	     days = cfg ? cfg->booking_pause_days : 30;
	struct db_rows rows;
	if (paused)
		*paused = false;
	int64_t until, since = now - window * 86400;
	int rc = bk_pause_of(db, a, account, now, &until, NULL);
	if (rc || until)
		return rc; /* paused already */
	/* No-shows that made an earlier pause do not count again. */
	if ((rc = db_query(db, a, &q_pause_last, DB_ARGS(DB_INT(account)), &rows)))
		return rc;
	if (rows.nrows == 1 && db_cell_int(&rows, 0, 0) >= since)
		since = db_cell_int(&rows, 0, 0) + 1;
	if ((rc = db_query(db, a, &q_noshows, DB_ARGS(DB_INT(account), DB_INT(since)), &rows)))
		return rc;
	int64_t n = rows.nrows == 1 ? db_cell_int(&rows, 0, 0) : 0;
	if (n < limit)
		return 0;
	until = now + days * 86400;
	if ((rc = db_query(db, a, &q_pause_add, DB_ARGS(DB_INT(account), DB_INT(now), DB_INT(until), DB_INT(n), DB_INT(now)),
			   &rows)))
		return rc;
	if ((rc = cover_touch_id(db, "booking_pauses", db_cell_int(&rows, 0, 0), NULL)))
		return rc;
	const struct view *v = app ? app->view : NULL;
	const char *nn = arena_printf(a, "%lld", (long long)n), *ww = arena_printf(a, "%ld", window),
		   *uu = bk_when(a, until);
	rc = notify_message(db, a, account, 0, "booking_paused", view_msg(v, "zh", "booking_msg_paused_title"),
				  view_msg(v, "en", "booking_msg_paused_title"),
				  VF(v, "zh", a, "booking_msg_paused_body", MA("n", nn), MA("days", ww), MA("until", uu)),
				  VF(v, "en", a, "booking_msg_paused_body", MA("n", nn), MA("days", ww), MA("until", uu)));
	if (!rc && paused)
		*paused = true;
	return rc;
}

json_t *bk_pause_json(struct req *r, int64_t until, int64_t noshows)
{
	if (!until)
		return NULL;
	const char *u = bk_when(r->arena, until);
	return json_pack("{s:s,s:I,s:s}", "until", u, "noshows", (json_int_t)noshows, "reason",
			 MF(r, "booking_err_paused", MA("n", arena_printf(r->arena, "%lld", (long long)noshows)),
			    MA("days", arena_printf(r->arena, "%ld", r->app->cfg.booking_noshow_window)), MA("until", u)));
}

/* ---- holds ---------------------------------------------------------------------------------- */

DB_SQL2(q_slot_make,
	"INSERT INTO booking_slots (centre, item_code, day, start_min, channel, taken) VALUES (?, ?, ?, ?, ?, 0) "
	"ON CONFLICT (centre, item_code, day, start_min, channel) DO UPDATE SET taken = booking_slots.taken RETURNING id",
	"INSERT INTO booking_slots (centre, item_code, day, start_min, channel, taken) VALUES (?, ?, ?, ?, ?, 0) "
	"ON CONFLICT (centre, item_code, day, start_min, channel) DO UPDATE SET taken = booking_slots.taken RETURNING id");
DB_SQL(q_slot_take, "UPDATE booking_slots SET taken = taken + 1 WHERE id = ? AND taken < ?");
DB_SQL(q_lapse_slot, "UPDATE bookings SET state = 'lapsed', hold_until = NULL, updated_at = ?, version = version + 1 "
		     "WHERE slot_id = ? AND state = 'held' AND hold_until < ? RETURNING id, account_id, item_code");
DB_SQL2(q_quota_up,
	"INSERT INTO booking_quota (account_id, item_code, active) VALUES (?, ?, 1) ON CONFLICT (account_id, item_code) "
	"DO UPDATE SET active = booking_quota.active + 1 WHERE booking_quota.active < ?",
	"INSERT INTO booking_quota (account_id, item_code, active) VALUES (?, ?, 1) ON CONFLICT (account_id, item_code) "
	"DO UPDATE SET active = booking_quota.active + 1 WHERE booking_quota.active < ?");
DB_SQL(q_insert,
       "INSERT INTO bookings (ref, account_id, enterprise_id, booked_by, centre, item_code, department, application_id, "
       "application_number, slot_id, day, start_min, end_min, channel, via, state, hold_until, name_enc, name_masked, "
       "phone_enc, phone_masked, key_id, idempotency_key, created_at, updated_at) "
       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'held', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");

/* Releases the holds of a slot that were not confirmed in time (inside the caller's
 * transaction): each lapses, gives its place and its person's count back. */
static int lapse_slot(struct db *db, struct arena *a, int64_t slot, int64_t now)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_lapse_slot, DB_ARGS(DB_INT(now), DB_INT(slot), DB_INT(now)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		rc = db_exec(db, &q_quota_down, DB_ARGS(DB_INT(db_cell_int(&rows, i, 1)), DB_TEXT(db_cell(&rows, i, 2))), NULL);
		if (!rc)
			rc = db_exec(db, &q_slot_down, DB_ARGS(DB_INT(slot)), NULL);
		if (!rc)
			rc = bk_event(db, db_cell_int(&rows, i, 0), 0, "lapse", 0, NULL);
	}
	return rc;
}

/* Makes the slot's row (once) and takes one of its cap places: 0, or GH_ECONFLICT when full. */
static int take_place(struct db *db, struct arena *a, const char *centre, const char *item, int32_t day, int start,
		      int channel, int cap, int64_t now, int64_t *slot)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_slot_make,
			  DB_ARGS(DB_TEXT(centre), DB_TEXT(item), DB_INT(day), DB_INT(start), DB_TEXT(bk_channel_names[channel])),
			  &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_EDB;
	if (rc)
		return rc;
	*slot = db_cell_int(&rows, 0, 0);
	if ((rc = lapse_slot(db, a, *slot, now)))
		return rc;
	int64_t changed = 0;
	if ((rc = db_exec(db, &q_slot_take, DB_ARGS(DB_INT(*slot), DB_INT(cap)), &changed)))
		return rc;
	return changed == 1 ? 0 : GH_ECONFLICT;
}

static void new_ref(char out[BK_REF_LEN + 1])
{
	out[0] = 'B';
	for (int i = 1; i < BK_REF_LEN; i++)
		out[i] = REF_ALPHABET[randombytes_uniform(sizeof(REF_ALPHABET) - 1)];
	out[BK_REF_LEN] = 0;
}

/* The time of a slot as the citizen reads it: "2026-03-02 09:30". */
static const char *slot_text(struct arena *a, int32_t day, int start)
{
	return bk_when(a, bk_at(day, start));
}

/* Who the booking is for: the caller (online), or the citizen staff name by ID number. */
static int person_of(struct req *r, const struct bk_hold_in *in, int64_t *account, int64_t *enterprise,
		     int64_t *booked_by)
{
	*booked_by = 0;
	if (in->channel == BK_ONLINE) {
		struct identity_owner o = identity_owner_of(r);
		if (!o.person)
			return bk_fail(r, GH_EFORBIDDEN, "booking_err_citizens_only");
		*account = o.person;
		*enterprise = o.enterprise;
		return 0;
	}
	if (r->role != ROLE_STAFF || !(r->who.staff_roles & STAFF_COUNTER))
		return bk_fail(r, GH_EFORBIDDEN, "booking_err_staff_channel");
	if (!in->for_id_number || !*in->for_id_number)
		return bk_fail(r, GH_EVALIDATION, "booking_err_for_missing");
	struct identity_person p;
	int rc = identity_find_individual(r->app, r->db, r->arena, in->for_id_number, &p);
	if (rc == GH_ENOTFOUND)
		return bk_fail(r, GH_EVALIDATION, "booking_err_for_unknown");
	if (rc)
		return rc;
	*account = p.id;
	*enterprise = 0;
	*booked_by = r->who.account;
	return 0;
}

/* A hold checked and ready to write: everything the write needs, so that it can run on the
 * group-commit writer's connection (store/group.h) — and again, alone, when its batch is
 * retried — without the request. */
struct hold_write {
	struct bk_hold_in in;
	const char *centre, *department;
	int slot_minutes, cap;
	int64_t now, account, enterprise, booked_by, application_id, actor, max_active, hold_until, key_id;
	const unsigned char *name_enc, *phone_enc;
	size_t name_len, phone_len;
	const char *name_mask, *phone_mask;
	char ref[BK_REF_LEN + 1];
	struct arena *arena; /* the request's: the writer allocates in it while the request is parked */
	const char *why;     /* what refused the write: booking_err_full or booking_err_limit */
	int (*done)(struct req *r, const struct bk_hold_in *in, int rc, const struct bk_booking *b, bool replayed);
};

/* Checks a booking request and makes it ready to write in w (the person, the centre, the item
 * and its places, the day and time, the application, the pause of online booking, the sealed
 * name and phone, the reference). 0 with *replayed when the Idempotency-Key names a booking
 * already made (then *out is it). */
static int hold_prepare(struct req *r, const struct bk_hold_in *in, struct hold_write *w, struct bk_booking *out,
			bool *replayed)
{
	int64_t now = (int64_t)time(NULL), account, enterprise, booked_by;
	*replayed = false;
	int rc = person_of(r, in, &account, &enterprise, &booked_by);
	if (rc)
		return rc;
	if (in->idempotency_key && (strlen(in->idempotency_key) > IDEM_MAX || !*in->idempotency_key))
		return bk_fail(r, GH_EINVAL, "booking_err_idempotency");
	if (in->idempotency_key &&
	    !get_one(r->db, r->arena, &q_get_idem, DB_ARGS(DB_INT(account), DB_TEXT(in->idempotency_key)), out)) {
		*replayed = true;
		return 0;
	}
	struct bk_centre c;
	if ((rc = bk_centre_get(r->db, r->arena, in->centre, &c)) == GH_ENOTFOUND || (!rc && !c.active))
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_centre");
	if (rc)
		return rc;
	const struct catalog_service_parsed *svc;
	if ((rc = catalog_service_cached(r, in->item, &svc)) == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_item");
	if (rc)
		return rc;
	int cap[3];
	if ((rc = bk_capacity(r->db, r->arena, c.code, in->item, cap)) == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_not_served");
	if (rc)
		return rc;
	if (booked_by && (!r->who.department || strcmp(r->who.department, svc->svc.department)))
		return bk_fail(r, GH_EFORBIDDEN, "booking_err_other_department");
	int32_t today = calendar_day_of((time_t)now);
	if (!bk_day_bookable(today, in->day)) {
		int32_t first, last;
		bk_window(today, &first, &last);
		return bk_failf(r, GH_EVALIDATION, "booking_err_day", "from", bk_day_str(r->arena, first), "to",
				bk_day_str(r->arena, last), NULL);
	}
	if (!bk_slot_valid(&c, in->start) || bk_at(in->day, in->start) <= now)
		return bk_fail(r, GH_EVALIDATION, "booking_err_time");
	if (cap[in->channel] <= 0)
		return bk_fail(r, GH_ECONFLICT, "booking_err_channel_closed");
	int64_t application_id = 0;
	const char *app_item = NULL;
	if (in->application && *in->application) {
		if (booked_by)
			return bk_fail(r, GH_EVALIDATION, "booking_err_no_application");
		if ((rc = cases_mine_get(r, in->application, &application_id, &app_item, NULL)) == GH_ENOTFOUND)
			return bk_fail(r, GH_EVALIDATION, "booking_err_no_application");
		if (rc)
			return rc;
		if (strcmp(app_item, in->item))
			return bk_fail(r, GH_EVALIDATION, "booking_err_application_item");
	}
	if (in->channel == BK_ONLINE) {
		int64_t until, noshows;
		if ((rc = bk_pause_of(r->db, r->arena, account, now, &until, &noshows)))
			return rc;
		if (until) {
			json_t *p = bk_pause_json(r, until, noshows);
			req_error_detail(r, "%s", json_string_value(json_object_get(p, "reason")));
			json_decref(p);
			return GH_EFORBIDDEN;
		}
	}
	/* The person's name and phone, sealed, with masks. */
	char *phone = NULL, *name = NULL;
	if ((rc = identity_contact(r->db, identity_keyring(), r->arena, account, &phone, NULL, &name)))
		return rc;
	const unsigned char *name_enc, *phone_enc = NULL;
	size_t name_len, phone_len = 0;
	int64_t key_id;
	if ((rc = bk_seal(r->arena, "booking_name", name ? name : "", &name_enc, &name_len, &key_id)) ||
	    (phone && (rc = bk_seal(r->arena, "booking_phone", phone, &phone_enc, &phone_len, &key_id))))
		return rc;
	w->in = *in;
	w->centre = c.code;
	w->department = svc->svc.department;
	w->slot_minutes = c.slot_minutes;
	w->cap = cap[in->channel];
	w->now = now;
	w->account = account;
	w->enterprise = enterprise;
	w->booked_by = booked_by;
	w->application_id = application_id;
	w->actor = r->who.account;
	w->max_active = r->app->cfg.booking_max_active;
	w->hold_until = now + r->app->cfg.booking_hold;
	w->name_enc = name_enc;
	w->name_len = name_len;
	w->phone_enc = phone_enc;
	w->phone_len = phone_len;
	w->key_id = key_id;
	w->name_mask = bk_mask_name(r->arena, name);
	w->phone_mask = bk_mask_phone(r->arena, phone);
	w->arena = r->arena;
	new_ref(w->ref);
	return 0;
}

/* Takes the place (one conditional write), counts the person's active bookings of the item up
 * (one conditional upsert) and writes the booking as held, in one transaction of db (nested as
 * a savepoint inside a group commit's batch). */
static int hold_write(struct db *db, void *arg)
{
	struct hold_write *w = arg;
	w->why = NULL;
	int rc = db_begin(db);
	if (rc)
		return rc;
	int64_t slot, changed = 0;
	rc = take_place(db, w->arena, w->centre, w->in.item, w->in.day, w->in.start, w->in.channel, w->cap, w->now, &slot);
	if (rc == GH_ECONFLICT)
		w->why = "booking_err_full";
	if (!rc)
		rc = db_exec(db, &q_quota_up, DB_ARGS(DB_INT(w->account), DB_TEXT(w->in.item), DB_INT(w->max_active)), &changed);
	if (!rc && changed != 1) {
		rc = GH_ECONFLICT;
		w->why = N_("booking_err_limit");
	}
	struct db_rows rows;
	if (!rc)
		rc = db_query(db, w->arena, &q_insert,
			      DB_ARGS(DB_TEXT(w->ref), DB_INT(w->account), w->enterprise ? DB_INT(w->enterprise) : DB_NULL,
				      w->booked_by ? DB_INT(w->booked_by) : DB_NULL, DB_TEXT(w->centre), DB_TEXT(w->in.item),
				      DB_TEXT(w->department), w->application_id ? DB_INT(w->application_id) : DB_NULL,
				      DB_TEXT(w->application_id ? w->in.application : NULL), DB_INT(slot), DB_INT(w->in.day),
				      DB_INT(w->in.start), DB_INT(w->in.start + w->slot_minutes),
				      DB_TEXT(bk_channel_names[w->in.channel]), DB_TEXT(w->in.via), DB_INT(w->hold_until),
				      DB_BLOB(w->name_enc, w->name_len), DB_TEXT(w->name_mask),
				      w->phone_enc ? DB_BLOB(w->phone_enc, w->phone_len) : DB_NULL, DB_TEXT(w->phone_mask),
				      DB_INT(w->key_id), DB_TEXT(w->in.idempotency_key), DB_INT(w->now), DB_INT(w->now)),
			      &rows);
	if (!rc)
		rc = bk_event(db, db_cell_int(&rows, 0, 0), 0, "hold", w->actor,
			      json_pack("{s:s,s:s}", "channel", bk_channel_names[w->in.channel], "via", w->in.via));
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

/* After the write, on the request's connection: the booking made, or why not. */
static int hold_end(struct req *r, struct hold_write *w, int rc, struct bk_booking *out, bool *replayed)
{
	if (!rc)
		return bk_get(r->db, r->arena, w->ref, out);
	if (w->why && !strcmp(w->why, "booking_err_full"))
		return bk_failf(r, GH_ECONFLICT, w->why, "time", slot_text(r->arena, w->in.day, w->in.start), NULL);
	if (w->why)
		return bk_failf(r, GH_ECONFLICT, w->why, "n", arena_printf(r->arena, "%lld", (long long)w->max_active), NULL);
	/* The same key used by a concurrent request of the same person (PostgreSQL aborts a batch's
	 * statement on the duplicate): that one's booking, now that it has committed. */
	if ((rc == GH_ECONFLICT || rc == GH_EDB) && w->in.idempotency_key &&
	    !get_one(r->db, r->arena, &q_get_idem, DB_ARGS(DB_INT(w->account), DB_TEXT(w->in.idempotency_key)), out)) {
		*replayed = true;
		return 0;
	}
	return rc;
}

/* hold_write on the writer's connection (http/write.h). */
static int hold_write_req(struct req *w, void *arg)
{
	return hold_write(w->db, arg);
}

static int hold_done(struct req *r, void *arg, int rc)
{
	struct hold_write *w = arg;
	struct bk_booking b;
	bool replayed = false;
	rc = hold_end(r, w, rc, &b, &replayed);
	return w->done(r, &w->in, rc, rc ? NULL : &b, replayed);
}

int bk_hold_async(struct req *r, const struct bk_hold_in *in,
		  int (*done)(struct req *r, const struct bk_hold_in *in, int rc, const struct bk_booking *b, bool replayed))
{
	struct hold_write *w = arena_zalloc(r->arena, sizeof(*w));
	struct bk_booking b;
	bool replayed = false;
	int rc = hold_prepare(r, in, w, &b, &replayed);
	if (rc || replayed)
		return done(r, in, rc, rc ? NULL : &b, replayed);
	if (!r->app->group) {
		rc = hold_end(r, w, hold_write(r->db, w), &b, &replayed);
		return done(r, in, rc, rc ? NULL : &b, replayed);
	}
	w->done = done;
	return req_write(r, hold_write_req, hold_done, w);
}

/* ---- confirm, cancel, reschedule ---------------------------------------------------------- */

DB_SQL(q_confirm, "UPDATE bookings SET state = 'booked', confirmed_at = ?, hold_until = NULL, updated_at = ?, "
		  "version = version + 1 WHERE id = ? AND state = 'held' AND version = ?");
DB_SQL(q_move, "UPDATE bookings SET slot_id = ?, day = ?, start_min = ?, end_min = ?, reminded_at = NULL, updated_at = ?, "
	       "version = version + 1 WHERE id = ? AND state = 'booked' AND version = ?");

/* The booking as the one who may change it: its person, or the staff member who made it. */
static int load_own(struct req *r, const char *ref, struct bk_booking *b)
{
	int rc = bk_load_visible(r, ref, b);
	if (rc)
		return rc;
	if (!bk_owns(r, b) && !(b->booked_by && b->booked_by == r->who.account))
		return bk_fail(r, GH_EFORBIDDEN, "booking_err_not_yours");
	return 0;
}

/* Tells the person of booking b in their inbox (texts in both languages). */
static int tell(struct req *r, const struct bk_booking *b, const char *kind, const char *title_key, const char *body_key)
{
	struct catalog_service svc;
	const char *item_zh = b->item_code, *item_en = b->item_code;
	if (!bk_item(r, b->item_code, &svc)) {
		item_zh = svc.name_zh;
		item_en = svc.name_en && *svc.name_en ? svc.name_en : item_zh;
	}
	const struct view *v = r->app->view;
	const char *when = slot_text(r->arena, b->day, b->start_min);
	int64_t to = b->enterprise_id ? b->enterprise_id : b->account_id;
	return notify_message(
		r->db, r->arena, to, b->application_id, kind, view_msg(v, "zh", title_key),
		view_msg(v, "en", title_key),
		VF(v, "zh", r->arena, body_key, MA("ref", b->ref), MA("item", item_zh), MA("centre", b->centre_zh),
		   MA("time", when)),
		VF(v, "en", r->arena, body_key, MA("ref", b->ref), MA("item", item_en),
		   MA("centre", b->centre_en && *b->centre_en ? b->centre_en : b->centre_zh), MA("time", when)));
}

/* The end of a change of booking ref begun with db_begin: commits when rc is 0 and answers the
 * booking as it is now; otherwise rolls back, a lost race (GH_ECONFLICT) told as such. */
static int finish(struct req *r, int rc, const char *ref, struct bk_booking *out)
{
	if (!rc)
		rc = db_commit(r->db);
	if (rc) {
		db_rollback(r->db);
		return rc == GH_ECONFLICT ? bk_fail(r, GH_ECONFLICT, "booking_err_changed") : rc;
	}
	return bk_get(r->db, r->arena, ref, out);
}

int bk_confirm(struct req *r, const char *ref, struct bk_booking *out)
{
	struct bk_booking b;
	int rc = load_own(r, ref, &b);
	if (rc)
		return rc;
	if (!strcmp(b.state, "booked")) {
		*out = b; /* confirmed already: the same answer again */
		return 0;
	}
	if (strcmp(b.state, "held"))
		return bk_fail(r, GH_ECONFLICT, "booking_err_not_held");
	int64_t now = (int64_t)time(NULL);
	if ((rc = db_begin(r->db)))
		return rc;
	if (b.hold_until < now) {
		rc = bk_end(r->db, b.id, "held", "lapsed", now, true);
		if (!rc)
			rc = bk_event(r->db, b.id, 0, "lapse", 0, NULL);
		if (!rc)
			rc = db_commit(r->db);
		if (rc) {
			db_rollback(r->db);
			return rc == GH_ECONFLICT ? bk_fail(r, GH_ECONFLICT, "booking_err_not_held") : rc;
		}
		return bk_get(r->db, r->arena, ref, out); /* lapsed: the caller tells why */
	}
	int64_t changed = 0;
	rc = db_exec(r->db, &q_confirm, DB_ARGS(DB_INT(now), DB_INT(now), DB_INT(b.id), DB_INT(b.version)), &changed);
	if (!rc && changed != 1)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = bk_event(r->db, b.id, 0, "confirm", r->who.account, NULL);
	if (!rc)
		rc = stats_count(r->db, r->arena, calendar_day_of((time_t)now), b.department, b.item_code, b.channel, "bk_booked", 1);
	if (!rc)
		rc = tell(r, &b, "booking_confirmed", N_("booking_msg_confirmed_title"), N_("booking_msg_confirmed_body"));
	return finish(r, rc, ref, out);
}

/* 0 when booking b may still be changed (booking-change-before minutes before its slot). */
static int change_allowed(struct req *r, const struct bk_booking *b, int64_t now)
{
	int64_t until = bk_at(b->day, b->start_min) - r->app->cfg.booking_change_before * 60;
	if (now <= until)
		return 0;
	return bk_failf(r, GH_ECONFLICT, "booking_err_too_late", "minutes",
			arena_printf(r->arena, "%ld", r->app->cfg.booking_change_before), NULL);
}

int bk_cancel(struct req *r, const char *ref, struct bk_booking *out)
{
	struct bk_booking b;
	int rc = load_own(r, ref, &b);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL);
	bool held = !strcmp(b.state, "held");
	if (!strcmp(b.state, "cancelled")) {
		*out = b;
		return 0;
	}
	if (!held && strcmp(b.state, "booked"))
		return bk_fail(r, GH_ECONFLICT, "booking_err_not_active");
	if (!held && (rc = change_allowed(r, &b, now)))
		return rc;
	if ((rc = db_begin(r->db)))
		return rc;
	rc = bk_end(r->db, b.id, b.state, "cancelled", now, true);
	if (!rc)
		rc = bk_event(r->db, b.id, 0, held ? "release" : "cancel", r->who.account, NULL);
	if (!rc && !held)
		rc = tell(r, &b, "booking_cancelled", N_("booking_msg_cancelled_title"), N_("booking_msg_cancelled_body"));
	return finish(r, rc, ref, out);
}

int bk_reschedule(struct req *r, const char *ref, int32_t day, int start, struct bk_booking *out)
{
	struct bk_booking b;
	int rc = load_own(r, ref, &b);
	if (rc)
		return rc;
	if (strcmp(b.state, "booked"))
		return bk_fail(r, GH_ECONFLICT, "booking_err_not_booked");
	int64_t now = (int64_t)time(NULL);
	if ((rc = change_allowed(r, &b, now)))
		return rc;
	if (day == b.day && start == b.start_min) {
		*out = b;
		return 0;
	}
	struct bk_centre c;
	if ((rc = bk_centre_get(r->db, r->arena, b.centre, &c)) == GH_ENOTFOUND || (!rc && !c.active))
		return bk_fail(r, GH_ENOTFOUND, "booking_err_no_centre");
	if (rc)
		return rc;
	int32_t today = calendar_day_of((time_t)now);
	if (!bk_day_bookable(today, day)) {
		int32_t first, last;
		bk_window(today, &first, &last);
		return bk_failf(r, GH_EVALIDATION, "booking_err_day", "from", bk_day_str(r->arena, first), "to",
				bk_day_str(r->arena, last), NULL);
	}
	if (!bk_slot_valid(&c, start) || bk_at(day, start) <= now)
		return bk_fail(r, GH_EVALIDATION, "booking_err_time");
	int cap[3], channel = bk_channel_of(b.channel);
	if ((rc = bk_capacity(r->db, r->arena, b.centre, b.item_code, cap)) == GH_ENOTFOUND)
		return bk_fail(r, GH_ENOTFOUND, "booking_err_not_served");
	if (rc)
		return rc;
	if (channel < 0)
		return GH_EINTERNAL;
	if ((rc = db_begin(r->db)))
		return rc;
	int64_t slot;
	rc = take_place(r->db, r->arena, b.centre, b.item_code, day, start, channel, cap[channel], now, &slot);
	if (rc == GH_ECONFLICT) {
		db_rollback(r->db);
		return bk_failf(r, GH_ECONFLICT, "booking_err_full", "time", slot_text(r->arena, day, start), NULL);
	}
	int64_t changed = 0;
	if (!rc)
		rc = db_exec(r->db, &q_slot_down, DB_ARGS(DB_INT(b.slot_id)), NULL);
	if (!rc)
		rc = db_exec(r->db, &q_move,
			     DB_ARGS(DB_INT(slot), DB_INT(day), DB_INT(start), DB_INT(start + c.slot_minutes), DB_INT(now),
				     DB_INT(b.id), DB_INT(b.version)),
			     &changed);
	if (!rc && changed != 1)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = bk_event(r->db, b.id, 0, "reschedule", r->who.account,
			      json_pack("{s:s,s:s}", "from", slot_text(r->arena, b.day, b.start_min), "to",
					slot_text(r->arena, day, start)));
	if (!rc) {
		b.day = day;
		b.start_min = start;
		rc = tell(r, &b, "booking_rescheduled", N_("booking_msg_rescheduled_title"), N_("booking_msg_rescheduled_body"));
	}
	return finish(r, rc, ref, out);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

DB_SQL(q_history, "SELECT e.at, e.action, e.detail, a.name FROM booking_events e LEFT JOIN accounts a ON a.id = e.actor_id "
		  "WHERE (CAST(? AS BIGINT) <> 0 AND e.booking_id = ?) OR (CAST(? AS BIGINT) <> 0 AND e.ticket_id = ?) "
		  "ORDER BY e.id");

json_t *bk_history_json(struct req *r, int64_t booking_id, int64_t ticket_id)
{
	struct db_rows rows;
	json_t *arr = json_array();
	if (db_query(r->db, r->arena, &q_history,
		     DB_ARGS(DB_INT(booking_id), DB_INT(booking_id), DB_INT(ticket_id), DB_INT(ticket_id)), &rows))
		return arr;
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *action = db_cell(&rows, i, 1);
		json_t *d = json_loads(db_cell(&rows, i, 2), 0, NULL);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o}", "at", bk_when(r->arena, db_cell_int(&rows, i, 0)),
						     "action", action, "action_name", MC(r, "booking_action_", action), "detail",
						     json_is_object(d) ? d : json_object()));
		if (!json_is_object(d))
			json_decref(d);
	}
	return arr;
}

json_t *bk_booking_json(struct req *r, const struct bk_booking *b)
{
	char s[6], e[6], d10[11];
	bk_hhmm(b->start_min, s);
	bk_hhmm(b->end_min, e);
	calendar_format_day(b->day, d10);
	const struct catalog_service_parsed *svc;
	const char *item = b->item_code;
	if (!catalog_service_cached(r, b->item_code, &svc))
		item = bk_en(r) && svc->svc.name_en && *svc->svc.name_en ? svc->svc.name_en : svc->svc.name_zh;
	int64_t now = (int64_t)time(NULL), change_until = bk_at(b->day, b->start_min) - r->app->cfg.booking_change_before * 60;
	bool active = !strcmp(b->state, "booked") || !strcmp(b->state, "held");
	json_t *j = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "ref", b->ref,
			      "state", b->state, "state_name", MC(r, "booking_state_", b->state), "centre", "code", b->centre, "name",
			      bk_en(r) && b->centre_en && *b->centre_en ? b->centre_en : (b->centre_zh ? b->centre_zh : b->centre),
			      "item", "code", b->item_code, "name", item, "department", b->department, "day", d10, "start", s,
			      "end", e, "at", arena_printf(r->arena, "%sT%s:00+08:00", d10, s), "channel", b->channel, "via", b->via,
			      "name", b->name_masked, "can_cancel", active && (!strcmp(b->state, "held") || now <= change_until),
			      "can_reschedule", !strcmp(b->state, "booked") && now <= change_until);
	json_object_set_new(j, "phone", b->phone_masked ? json_string(b->phone_masked) : json_null());
	json_object_set_new(j, "application", b->application_number ? json_string(b->application_number) : json_null());
	json_object_set_new(j, "hold_until", !strcmp(b->state, "held") && b->hold_until
						     ? json_string(bk_when(r->arena, b->hold_until))
						     : json_null());
	json_object_set_new(j, "change_until", active ? json_string(bk_when(r->arena, change_until)) : json_null());
	json_object_set_new(j, "ticket", b->ticket_number ? json_string(b->ticket_number) : json_null());
	bk_set(j, "created", bk_when(r->arena, b->created_at));
	json_object_set_new(j, "confirmed", b->confirmed_at ? json_string(bk_when(r->arena, b->confirmed_at)) : json_null());
	return j;
}
