/* recon.c: daily reconciliation (对账) — the gateway's signed settlement file of a day against
 * what the hall's orders and refunds say of that day. Each payment or refund on one side and
 * not on the other, or of another amount, becomes a task (pay_recon_diffs) for administrators,
 * who are told in their inbox; the run's totals are kept (pay_recon_runs). Running a day again
 * adds only the differences not found before. Both tables are covered by the transparency log.
 *
 * The hall's side of a day: orders whose payment the gateway dated that day (paid_at, from its
 * account) with the amount that arrived, and refunds the gateway paid that day. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "http/msg.h"
#include "notify/notify.h"
#include "identity/identity.h"
#include "pay/pay_impl.h"
#include "store/cover.h"
#include "store/db.h"

static const struct cover_table cover_runs = {
	.table = "pay_recon_runs", .key = "id", .cols = "day, ran_at, lines, total, hall_total, differences",
};
static const struct cover_table cover_diffs = {
	.table = "pay_recon_diffs", .key = "id",
	.cols = "run_id, kind, ref, order_id, hall_amount, settled_amount, state, resolved_by, resolved_at, note",
};

void pay_recon_register(void);
void pay_recon_register(void)
{
	cover_declare(&cover_runs);
	cover_declare(&cover_diffs);
}

DB_SQL(q_paid_on, "SELECT id, number, gateway_id, paid_amount FROM pay_orders WHERE paid_at >= ? AND paid_at < ? "
		  "AND paid_amount > 0 ORDER BY id");
DB_SQL(q_refunded_on, "SELECT f.id, f.number, f.gateway_id, f.amount, o.id FROM pay_refunds f "
		      "JOIN pay_orders o ON o.id = f.order_id WHERE f.state = 'succeeded' AND f.done_at >= ? AND f.done_at < ? "
		      "ORDER BY f.id");
DB_SQL(q_run_upsert, "INSERT INTO pay_recon_runs (day, ran_at, lines, total, hall_total, differences) "
		     "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (day) DO UPDATE SET ran_at = excluded.ran_at, "
		     "lines = excluded.lines, total = excluded.total, hall_total = excluded.hall_total RETURNING id");
DB_SQL(q_diff_insert, "INSERT INTO pay_recon_diffs (run_id, kind, ref, order_id, hall_amount, settled_amount) "
		      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, kind, ref) DO NOTHING RETURNING id");
DB_SQL(q_run_count, "UPDATE pay_recon_runs SET differences = (SELECT COUNT(*) FROM pay_recon_diffs WHERE run_id = ?) "
		    "WHERE id = ? RETURNING differences");
DB_SQL(q_last_day, "SELECT COALESCE(MAX(day), '') FROM pay_recon_runs");
DB_SQL(q_admins, "SELECT id FROM accounts WHERE kind = 'admin' AND status = 'active'");

int pay_recon_last_day(struct db *db, struct arena *a, const char **day)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_last_day, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*day = rows.nrows && db_cell(&rows, 0, 0) ? db_cell(&rows, 0, 0) : "";
	return 0;
}

struct side {
	const char *key;  /* the gateway's id (payment or refund) */
	const char *ref;  /* our number (order or refund) */
	int64_t amount, order_id;
	bool matched;
};

static int add_diff(struct db *db, struct arena *a, int64_t run, const char *kind, const char *ref, int64_t order_id,
		    int64_t hall, int64_t settled, long *found)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_diff_insert,
			  DB_ARGS(DB_INT(run), DB_TEXT(kind), DB_TEXT(ref), order_id ? DB_INT(order_id) : DB_NULL, DB_INT(hall),
				  DB_INT(settled)),
			  &rows);
	if (rc || !rows.nrows)
		return rc; /* found by an earlier run of the day */
	(*found)++;
	log_warn("pay: reconciliation: %s %s (hall %" PRId64 ", settled %" PRId64 " fen)", kind, ref, hall, settled);
	return cover_touch(db, "pay_recon_diffs", db_cell(&rows, 0, 0), "pay.recon");
}

/* Matches the settlement's lines of one kind (payments, or refunds) with the hall's side. */
static int match(struct db *db, struct arena *a, int64_t run, const struct pay_settlement *s, bool refunds,
		 struct side *hall, size_t nhall, long *found)
{
	int rc = 0;
	for (size_t i = 0; i < s->n && !rc; i++) {
		const struct pay_settle_line *l = &s->lines[i];
		if (l->refund != refunds)
			continue;
		const char *key = refunds ? l->refund_id : l->payment_id;
		int64_t amount = refunds ? -l->amount : l->amount;
		struct side *h = NULL;
		for (size_t k = 0; k < nhall && !h; k++)
			if (!hall[k].matched && hall[k].key && !strcmp(hall[k].key, key))
				h = &hall[k];
		if (!h) {
			rc = add_diff(db, a, run, "missing_in_hall", key, 0, 0, amount, found);
			continue;
		}
		h->matched = true;
		if (h->amount != amount)
			rc = add_diff(db, a, run, "amount_differs", h->ref, h->order_id, h->amount, amount, found);
	}
	for (size_t k = 0; k < nhall && !rc; k++)
		if (!hall[k].matched)
			rc = add_diff(db, a, run, "missing_in_settlement", hall[k].ref, hall[k].order_id, hall[k].amount, 0, found);
	return rc;
}

static struct side *sides(struct arena *a, const struct db_rows *rows, bool refunds)
{
	struct side *v = arena_array(a, rows->nrows ? rows->nrows : 1, sizeof(*v));
	for (size_t i = 0; i < rows->nrows; i++)
		v[i] = (struct side){ .ref = db_cell(rows, i, 1), .key = db_cell(rows, i, 2), .amount = db_cell_int(rows, i, 3),
				      .order_id = db_cell_int(rows, i, refunds ? 4 : 0) };
	return v;
}

int pay_reconcile(struct db *db, struct arena *a, const char *day, int64_t now, long *diffs)
{
	int32_t d;
	if (!day || calendar_parse_day(day, strlen(day), &d))
		return GH_EINVAL;
	struct pay_settlement s;
	char err[512];
	int rc = pay_gw_settlement(a, day, &s, err, sizeof(err));
	if (rc) {
		log_warn("pay: the settlement of %s could not be had: %s", day, err);
		return rc == GH_EINVAL ? GH_EUNAVAILABLE : rc;
	}
	int64_t from = (int64_t)d * 86400 - 8 * 3600, to = from + 86400;
	if ((rc = db_begin(db)))
		return rc;
	struct db_rows pr, rr, rows;
	long found = 0;
	if ((rc = db_query(db, a, &q_paid_on, DB_ARGS(DB_INT(from), DB_INT(to)), &pr)) ||
	    (rc = db_query(db, a, &q_refunded_on, DB_ARGS(DB_INT(from), DB_INT(to)), &rr)))
		goto out;
	int64_t hall_total = 0;
	for (size_t i = 0; i < pr.nrows; i++)
		hall_total += db_cell_int(&pr, i, 3);
	for (size_t i = 0; i < rr.nrows; i++)
		hall_total -= db_cell_int(&rr, i, 3);
	if ((rc = db_query(db, a, &q_run_upsert,
			   DB_ARGS(DB_TEXT(day), DB_INT(now), DB_INT((int64_t)s.n), DB_INT(s.total), DB_INT(hall_total)), &rows)))
		goto out;
	int64_t run = db_cell_int(&rows, 0, 0);
	if ((rc = match(db, a, run, &s, false, sides(a, &pr, false), pr.nrows, &found)) ||
	    (rc = match(db, a, run, &s, true, sides(a, &rr, true), rr.nrows, &found)) ||
	    (rc = db_query(db, a, &q_run_count, DB_ARGS(DB_INT(run), DB_INT(run)), &rows)) ||
	    (rc = cover_touch_id(db, "pay_recon_runs", run, "pay.recon")))
		goto out;
	if (found) {
		/* Administrators hear of new differences. */
		char n[24];
		snprintf(n, sizeof(n), "%ld", found);
		const struct view *v = pay_view();
		struct db_rows admins;
		if ((rc = db_query(db, a, &q_admins, DB_NOARGS, &admins)))
			goto out;
		for (size_t i = 0; i < admins.nrows && !rc; i++)
			rc = notify_inbox_message(db, a, db_cell_int(&admins, i, 0), 0, "pay_recon",
						  VF(v, "zh", a, "pay_msg_recon_title", MA("day", day), MA("count", n)),
						  VF(v, "en", a, "pay_msg_recon_title", MA("day", day), MA("count", n)),
						  VF(v, "zh", a, "pay_msg_recon_body", MA("day", day), MA("count", n)),
						  VF(v, "en", a, "pay_msg_recon_body", MA("day", day), MA("count", n)));
		if (rc)
			goto out;
	}
	if ((rc = db_commit(db)))
		goto out;
	log_info("pay: reconciled %s: %zu settled lines, %" PRId64 " fen settled, %" PRId64 " fen by the hall, %ld new difference(s)",
		 day, s.n, s.total, hall_total, found);
	if (diffs)
		*diffs = found;
	return 0;
out:
	db_rollback(db);
	return rc;
}
