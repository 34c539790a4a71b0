/* booking.c: the module's registration — what the transparency log covers, the sealed names and
 * phones for identity's key commands, the route tables. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "booking/booking_impl.h"
#include "cases/cases.h"
#include "http/router.h"
#include "http/sections.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "store/cover.h"
#include "store/db.h"

#define BATCH 200

extern const struct route booking_api_routes[], booking_page_routes[];
extern const size_t booking_api_routes_n, booking_page_routes_n;

/* ---- what the transparency log covers (store/cover.h) ---------------------------------------
 * Bookings from their confirmation on (a hold is no promise of the hall), every ticket, the
 * history of both except the events of holds, and the pauses of online booking. Names and
 * phones are committed as plaintext, so re-sealing them is no change. Left out, with the
 * reasons, in docs/security.md. */
static int plain(struct arena *a, const char *col, const char *stored, size_t len, const char **out, size_t *outlen)
{
	if (!strcmp(col, "name_enc"))
		return identity_unseal(a, "booking_name", stored, len, out, outlen);
	if (!strcmp(col, "phone_enc"))
		return identity_unseal(a, "booking_phone", stored, len, out, outlen);
	return GH_EINTERNAL;
}

static const struct cover_table cover_tables[] = {
	{ .table = "bookings", .key = "id",
	  .cols = "ref, account_id, enterprise_id, booked_by, centre, item_code, department, application_id, application_number, "
		  "day, start_min, end_min, channel, via, state, name_enc, name_masked, phone_enc, phone_masked, created_at, "
		  "confirmed_at, cancelled_at, checked_in_at, missed_at",
	  .where = "confirmed_at IS NOT NULL", .plain_cols = "name_enc, phone_enc", .plain = plain },
	{ .table = "booking_tickets", .key = "id",
	  .cols = "centre, day, number, kind, booking_id, item_code, department, account_id, name_enc, name_masked, slot_at, "
		  "issued_at, issued_by, via, state, counter, transferred_from, calls, called_at, called_by, closed_at",
	  .plain_cols = "name_enc", .plain = plain },
	{ .table = "booking_events", .key = "id", .cols = "booking_id, ticket_id, action, actor_id, detail, at",
	  .where = "action NOT IN ('hold', 'release', 'lapse')" },
	{ .table = "booking_pauses", .key = "id", .cols = "account_id, paused_from, paused_until, noshows, created_at" },
};

void booking_register(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cover_tables); i++)
		cover_declare(&cover_tables[i]);
}

/* ---- sealed names and phones: key rotation (identity's key commands) ------------------------ */

DB_SQL(q_reseal_bookings, "SELECT id, name_enc, phone_enc, key_id FROM bookings WHERE id > ? AND key_id <> ? ORDER BY id LIMIT ?");
DB_SQL(q_reseal_booking_set, "UPDATE bookings SET name_enc = ?, phone_enc = ?, key_id = ? WHERE id = ? AND key_id = ?");
DB_SQL(q_reseal_tickets, "SELECT id, name_enc, NULL, key_id FROM booking_tickets WHERE id > ? AND key_id IS NOT NULL "
			 "AND key_id <> ? ORDER BY id LIMIT ?");
DB_SQL(q_reseal_ticket_set, "UPDATE booking_tickets SET name_enc = ?, key_id = ? WHERE id = ? AND key_id = ?");
DB_SQL(q_key_counts, "SELECT k, SUM(n) FROM (SELECT key_id AS k, COUNT(*) AS n FROM bookings GROUP BY key_id UNION ALL "
		     "SELECT key_id AS k, COUNT(*) AS n FROM booking_tickets WHERE key_id IS NOT NULL GROUP BY key_id) t "
		     "GROUP BY k ORDER BY k");

/* Opens cell c of row i (field) and seals it again under k's current key; NULL stays NULL. */
static int reseal_cell(const struct keyring *k, struct arena *a, const struct db_rows *rows, size_t i, size_t c,
		       const char *field, struct db_val *out)
{
	*out = DB_NULL;
	if (!db_cell(rows, i, c))
		return 0;
	char *p;
	size_t n;
	if (crypto_open(k, a, field, (const unsigned char *)rows->cells[i * rows->ncols + c], rows->lens[i * rows->ncols + c],
			&p, &n, NULL))
		return GH_EINVAL;
	unsigned char *enc;
	size_t len;
	crypto_seal(k, a, field, p, n, &enc, &len);
	*out = DB_BLOB(enc, len);
	return 0;
}

static int reseal_batch(const struct keyring *k, struct db *db, bool tickets, int64_t *after, size_t *count, bool *more)
{
	struct arena *a = arena_new(1 << 16);
	struct db_rows rows;
	int64_t cur = keyring_current_id(k);
	int rc = db_begin(db);
	if (!rc)
		rc = db_query(db, a, tickets ? &q_reseal_tickets : &q_reseal_bookings, DB_ARGS(DB_INT(*after), DB_INT(cur), DB_INT(BATCH)),
			      &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		*after = db_cell_int(&rows, i, 0);
		struct db_val name, phone;
		if ((rc = reseal_cell(k, a, &rows, i, 1, "booking_name", &name)) ||
		    (rc = reseal_cell(k, a, &rows, i, 2, "booking_phone", &phone)))
			break;
		int64_t changed = 0;
		rc = tickets ? db_exec(db, &q_reseal_ticket_set,
				       DB_ARGS(name, DB_INT(cur), DB_INT(*after), DB_INT(db_cell_int(&rows, i, 3))), &changed)
			     : db_exec(db, &q_reseal_booking_set,
				       DB_ARGS(name, phone, DB_INT(cur), DB_INT(*after), DB_INT(db_cell_int(&rows, i, 3))), &changed);
		*count += (size_t)changed;
	}
	*more = !rc && rows.nrows == BATCH;
	if (!rc)
		rc = db_commit(db);
	else
		db_rollback(db);
	arena_free(a);
	return rc;
}

static int reseal(const struct keyring *k, struct db *db, size_t *count)
{
	int rc = 0;
	*count = 0;
	for (int tickets = 0; tickets < 2 && !rc; tickets++) {
		int64_t after = 0;
		for (bool more = true; !rc && more;)
			rc = reseal_batch(k, db, tickets, &after, count, &more);
	}
	return rc;
}

static int key_counts(struct db *db, struct arena *a, int64_t **keys, int64_t **counts, size_t *n)
{
	return cases_sealed_key_counts(db, a, &q_key_counts, keys, counts, n);
}

static const struct identity_sealed_store sealed_store = {
	.what = "booking name(s) and phone(s)",
	.reseal = reseal,
	.counts = key_counts,
};

void booking_register_sealed(void)
{
	identity_sealed_store_add(&sealed_store);
}

/* ---- start ----------------------------------------------------------------------------------- */

int booking_init(struct app *app)
{
	bk_app = app;
	bk_display_init(app);
	page_section_add(CATALOG_PAGE_GUIDE, 20, bk_guide_section);
	bk_cases_sections();
	return 0;
}

int booking_add_routes(struct router *rt)
{
	return router_add(rt, booking_api_routes, booking_api_routes_n) ||
	       router_add(rt, booking_page_routes, booking_page_routes_n);
}
