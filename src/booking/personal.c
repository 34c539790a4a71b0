/* personal.c: what booking holds about a person (store/personal.h): appointments at service
 * centres (the name and phone given, masked), kept at closure with the visits they record. */
#include "base/util.h"
#include "booking/booking.h"
#include "store/db.h"
#include "store/personal.h"

DB_SQL(q_bookings, "SELECT id, ref, centre, item_code, department, application_number, day, start_min, end_min, channel, "
		   "state, name_masked, phone_masked, created_at, cancelled_at, checked_in_at FROM bookings "
		   "WHERE (enterprise_id = ? OR (account_id = ? AND enterprise_id IS NULL)) ORDER BY id DESC LIMIT 2000");

static const struct personal_part part = {
	.name = "bookings", .kept = true, .query = &q_bookings, .words = "state=booking_state_",
};

void booking_personal_declare(void)
{
	personal_declare(&part);
}
