/* orders.c: fees, orders and refunds in the database (tables of migration 0021), the workflow
 * follower and observer that make them, and pay_apply(), the one place where the gateway's
 * account of a payment changes an order.
 *
 * Every write here is to a covered row (store/cover.h) inside a transaction, followed by its
 * cover_touch, so each change of a fee, an order or a refund reaches the transparency log with
 * the change that caused it. Orders are locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
 * BEGIN IMMEDIATE serialises writers) before pay_apply reads them, so a notification and a
 * query answering at once apply one after the other. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cases/cases.h"
#include "notify/notify.h"
#include "catalog/catalog.h"
#include "pay/pay.h"
#include "pay/pay_impl.h"
#include "stats/stats.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

/* ---- coverage --------------------------------------------------------------------------- */

static const struct cover_table cover_fees = {
	.table = "pay_fees", .key = "application_id",
	.cols = "item_code, item_version, department, point, gross, amount, exemption, basis_zh, basis_en, state, "
		"assessed_at, paid_order_id",
};
static const struct cover_table cover_orders = {
	.table = "pay_orders", .key = "id",
	.cols = "number, application_id, payer_id, department, item_code, amount, state, gateway_id, paid_amount, "
		"refunded, created_at, sent_at, expires_at, paid_at, closed_at, note",
};
static const struct cover_table cover_refunds = {
	.table = "pay_refunds", .key = "id",
	.cols = "number, order_id, amount, reason, state, automatic, requested_by, gateway_id, created_at, done_at",
};

void pay_orders_register(void)
{
	cover_declare(&cover_fees);
	cover_declare(&cover_orders);
	cover_declare(&cover_refunds);
}

/* ---- rows ------------------------------------------------------------------------------- */

#define FEE_COLS "application_id, item_code, item_version, department, point, gross, amount, exemption, basis_zh, " \
		 "basis_en, state, assessed_at, paid_order_id"
#define ORDER_COLS                                                                                                   \
	"o.id, o.number, o.application_id, o.payer_id, o.department, o.item_code, o.amount, o.state, o.gateway_id, " \
	"o.pay_url, o.idem_key, o.gw_seq, o.paid_amount, o.refunded, o.refund_reserved, o.created_at, o.sent_at, "   \
	"o.expires_at, o.paid_at, o.closed_at, o.checked_at, o.note, a.number, a.channel"
#define ORDER_FROM " FROM pay_orders o JOIN applications a ON a.id = o.application_id "
#define REFUND_COLS "id, number, order_id, amount, reason, state, automatic, requested_by, gateway_id, created_at, done_at"

DB_SQL(q_fee_get, "SELECT " FEE_COLS " FROM pay_fees WHERE application_id = ?");
DB_SQL(q_fee_insert, "INSERT INTO pay_fees (application_id, item_code, item_version, department, point, gross, amount, "
		     "exemption, basis_zh, basis_en, state, assessed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_fee_paid, "UPDATE pay_fees SET state = 'paid', paid_order_id = ? WHERE application_id = ? AND state = 'due'");
DB_SQL(q_order_number, "SELECT " ORDER_COLS ORDER_FROM "WHERE o.number = ?");
DB_SQL(q_order_id, "SELECT " ORDER_COLS ORDER_FROM "WHERE o.id = ?");
DB_SQL2(q_order_id_lock, "SELECT " ORDER_COLS ORDER_FROM "WHERE o.id = ?",
	"SELECT " ORDER_COLS ORDER_FROM "WHERE o.id = ? FOR UPDATE OF o");
DB_SQL2(q_order_gw, "SELECT " ORDER_COLS ORDER_FROM "WHERE o.gateway_id = ?",
	"SELECT " ORDER_COLS ORDER_FROM "WHERE o.gateway_id = ? FOR UPDATE OF o");
DB_SQL2(q_order_ref, "SELECT " ORDER_COLS ORDER_FROM "WHERE o.number = ?",
	"SELECT " ORDER_COLS ORDER_FROM "WHERE o.number = ? FOR UPDATE OF o");
DB_SQL(q_orders_of, "SELECT " ORDER_COLS ORDER_FROM "WHERE o.application_id = ? ORDER BY o.id");
DB_SQL(q_order_open, "SELECT " ORDER_COLS ORDER_FROM
		     "WHERE o.application_id = ? AND o.state IN ('created', 'pending', 'failed')");
DB_SQL(q_next_no, "INSERT INTO pay_numbers (kind, day, last) VALUES (?, ?, 1) "
		  "ON CONFLICT (kind, day) DO UPDATE SET last = pay_numbers.last + 1 RETURNING last");
DB_SQL(q_order_insert, "INSERT INTO pay_orders (number, application_id, payer_id, department, item_code, amount, state, "
		       "idem_key, created_at) VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?) RETURNING id");
DB_SQL(q_order_sending, "UPDATE pay_orders SET state = 'pending', sent_at = COALESCE(sent_at, ?), "
			"expires_at = COALESCE(expires_at, ?) WHERE id = ? AND state IN ('created', 'pending', 'failed') "
			"RETURNING sent_at, expires_at, state");
DB_SQL(q_order_created, "UPDATE pay_orders SET gateway_id = ?, pay_url = ? WHERE id = ? AND (gateway_id IS NULL OR gateway_id = ?)");
DB_SQL(q_order_state, "UPDATE pay_orders SET state = ?, gw_seq = ?, paid_amount = ?, paid_at = ?, closed_at = ?, "
		      "note = ?, gateway_id = COALESCE(gateway_id, ?) WHERE id = ?");
DB_SQL(q_order_seq, "UPDATE pay_orders SET gw_seq = ?, gateway_id = COALESCE(gateway_id, ?) WHERE id = ?");
DB_SQL(q_cancel_created, "UPDATE pay_orders SET state = 'cancelled', closed_at = ?, note = 'withdrawn' "
			 "WHERE application_id = ? AND state = 'created' RETURNING id");
DB_SQL(q_refunds_of, "SELECT " REFUND_COLS " FROM pay_refunds WHERE order_id = ? ORDER BY id");
DB_SQL(q_refund_number, "SELECT " REFUND_COLS " FROM pay_refunds WHERE number = ?");
DB_SQL(q_refunds_pending, "SELECT " REFUND_COLS " FROM pay_refunds WHERE state = 'pending' ORDER BY id LIMIT 50");
/* The reservation: one conditional write, so concurrent refunds never exceed what was paid. */
DB_SQL(q_reserve, "UPDATE pay_orders SET refund_reserved = refund_reserved + ? "
		  "WHERE id = ? AND refund_reserved + ? <= paid_amount RETURNING refund_reserved");
DB_SQL(q_refund_insert, "INSERT INTO pay_refunds (number, order_id, amount, reason, state, automatic, requested_by, "
			"created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id");
DB_SQL(q_refund_done, "UPDATE pay_refunds SET state = ?, gateway_id = ?, done_at = ? WHERE id = ? AND state = 'pending'");
DB_SQL(q_order_refunded, "UPDATE pay_orders SET refunded = refunded + ? WHERE id = ? RETURNING refunded, paid_amount, state");
DB_SQL(q_order_release, "UPDATE pay_orders SET refund_reserved = refund_reserved - ? WHERE id = ?");
DB_SQL(q_order_set_state, "UPDATE pay_orders SET state = ?, closed_at = COALESCE(closed_at, ?), note = ? WHERE id = ?");
DB_SQL(q_app_state, "SELECT state FROM applications WHERE id = ?");
DB_SQL(q_to_check, "SELECT " ORDER_COLS ORDER_FROM
		   "WHERE o.state IN ('pending', 'failed') AND (o.checked_at IS NULL OR o.checked_at <= ? OR o.expires_at <= ?) "
		   "AND o.sent_at <= ? ORDER BY o.checked_at, o.id LIMIT 50");
DB_SQL(q_checked, "UPDATE pay_orders SET checked_at = ? WHERE id = ?");

bool pay_order_open(const struct pay_order *o)
{
	return !strcmp(o->state, "created") || !strcmp(o->state, "pending") || !strcmp(o->state, "failed");
}

static int64_t cell_i(const struct db_rows *r, size_t i, size_t c)
{
	return db_cell(r, i, c) ? db_cell_int(r, i, c) : 0;
}

static void fee_row(const struct db_rows *r, size_t i, struct pay_fee *f)
{
	size_t k = 0;
	f->application_id = db_cell_int(r, i, k++);
	f->item_code = db_cell(r, i, k++);
	f->item_version = db_cell_int(r, i, k++);
	f->department = db_cell(r, i, k++);
	f->point = db_cell(r, i, k++);
	f->gross = db_cell_int(r, i, k++);
	f->amount = db_cell_int(r, i, k++);
	f->exemption = db_cell(r, i, k++);
	f->basis_zh = db_cell(r, i, k++);
	f->basis_en = db_cell(r, i, k++);
	f->state = db_cell(r, i, k++);
	f->assessed_at = db_cell_int(r, i, k++);
	f->paid_order_id = cell_i(r, i, k++);
}

static void order_row(const struct db_rows *r, size_t i, struct pay_order *o)
{
	size_t k = 0;
	o->id = db_cell_int(r, i, k++);
	o->number = db_cell(r, i, k++);
	o->application_id = db_cell_int(r, i, k++);
	o->payer_id = db_cell_int(r, i, k++);
	o->department = db_cell(r, i, k++);
	o->item_code = db_cell(r, i, k++);
	o->amount = db_cell_int(r, i, k++);
	o->state = db_cell(r, i, k++);
	o->gateway_id = db_cell(r, i, k++);
	o->pay_url = db_cell(r, i, k++);
	o->idem_key = db_cell(r, i, k++);
	o->gw_seq = db_cell_int(r, i, k++);
	o->paid_amount = db_cell_int(r, i, k++);
	o->refunded = db_cell_int(r, i, k++);
	o->refund_reserved = db_cell_int(r, i, k++);
	o->created_at = db_cell_int(r, i, k++);
	o->sent_at = cell_i(r, i, k++);
	o->expires_at = cell_i(r, i, k++);
	o->paid_at = cell_i(r, i, k++);
	o->closed_at = cell_i(r, i, k++);
	o->checked_at = cell_i(r, i, k++);
	o->note = db_cell(r, i, k++);
	o->application_number = db_cell(r, i, k++);
	o->channel = db_cell(r, i, k++);
}

static void refund_row(const struct db_rows *r, size_t i, struct pay_refund *f)
{
	size_t k = 0;
	f->id = db_cell_int(r, i, k++);
	f->number = db_cell(r, i, k++);
	f->order_id = db_cell_int(r, i, k++);
	f->amount = db_cell_int(r, i, k++);
	f->reason = db_cell(r, i, k++);
	f->state = db_cell(r, i, k++);
	f->automatic = db_cell_int(r, i, k++) != 0;
	f->requested_by = cell_i(r, i, k++);
	f->gateway_id = db_cell(r, i, k++);
	f->created_at = db_cell_int(r, i, k++);
	f->done_at = cell_i(r, i, k++);
}

int pay_fee_get(struct db *db, struct arena *a, int64_t application_id, struct pay_fee *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_fee_get, DB_ARGS(DB_INT(application_id)), &rows);
	if (rc)
		return rc;
	if (!rows.nrows)
		return GH_ENOTFOUND;
	fee_row(&rows, 0, out);
	return 0;
}

static int order_one(struct db *db, struct arena *a, struct db_sql *q, struct db_val v, struct pay_order *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, &v, 1, &rows);
	if (rc)
		return rc;
	if (!rows.nrows)
		return GH_ENOTFOUND;
	order_row(&rows, 0, out);
	return 0;
}

int pay_order_get(struct db *db, struct arena *a, const char *number, struct pay_order *out)
{
	if (!pay_id_ok(number))
		return GH_ENOTFOUND;
	return order_one(db, a, &q_order_number, DB_TEXT(number), out);
}

int pay_order_get_id(struct db *db, struct arena *a, int64_t id, bool lock, struct pay_order *out)
{
	/* lock: the statement locks on PostgreSQL; inside a transaction on SQLite all is locked.
	 * Without: a plain read, as a page's on its loop (which refuses locking reads). */
	return order_one(db, a, lock ? &q_order_id_lock : &q_order_id, DB_INT(id), out);
}

int pay_order_find(struct db *db, struct arena *a, const char *gateway_id, const char *reference, bool lock,
		   struct pay_order *out)
{
	(void)lock;
	int rc = gateway_id ? order_one(db, a, &q_order_gw, DB_TEXT(gateway_id), out) : GH_ENOTFOUND;
	if (rc == GH_ENOTFOUND && reference) {
		rc = order_one(db, a, &q_order_ref, DB_TEXT(reference), out);
		/* A reference of ours the gateway knows by another id than ours is not ours. */
		if (rc == 0 && out->gateway_id && gateway_id && strcmp(out->gateway_id, gateway_id) != 0)
			rc = GH_ENOTFOUND;
	}
	return rc;
}

int pay_orders_of(struct db *db, struct arena *a, int64_t application_id, struct pay_order **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_orders_of, DB_ARGS(DB_INT(application_id)), &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		order_row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

static int refunds_query(struct db *db, struct arena *a, struct db_sql *q, const struct db_val *v, size_t nv,
			 struct pay_refund **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, v, nv, &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		refund_row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

int pay_refunds_of(struct db *db, struct arena *a, int64_t order_id, struct pay_refund **out, size_t *n)
{
	return refunds_query(db, a, &q_refunds_of, DB_ARGS(DB_INT(order_id)), out, n);
}

int pay_refunds_pending(struct db *db, struct arena *a, struct pay_refund **out, size_t *n)
{
	return refunds_query(db, a, &q_refunds_pending, DB_NOARGS, out, n);
}

int pay_refund_get(struct db *db, struct arena *a, const char *number, struct pay_refund *out)
{
	struct pay_refund *v;
	size_t n;
	if (!pay_id_ok(number))
		return GH_ENOTFOUND;
	int rc = refunds_query(db, a, &q_refund_number, DB_ARGS(DB_TEXT(number)), &v, &n);
	if (rc)
		return rc;
	if (!n)
		return GH_ENOTFOUND;
	*out = v[0];
	return 0;
}

/* "PO" / "RF" / "PR" + YYYYMMDD (China Standard Time) + a 6-digit sequence of that day. */
static int new_number(struct db *db, struct arena *a, const char *kind, int64_t now, const char **out)
{
	char day[11];
	calendar_format_day(calendar_day_of((time_t)now), day);
	char compact[9] = { day[0], day[1], day[2], day[3], day[5], day[6], day[8], day[9], 0 };
	struct db_rows rows;
	int rc = db_query(db, a, &q_next_no, DB_ARGS(DB_TEXT(kind), DB_TEXT(compact)), &rows);
	if (rc)
		return rc;
	*out = arena_printf(a, "%s%s%06" PRId64, kind, compact, db_cell_int(&rows, 0, 0));
	return 0;
}

/* ---- messages --------------------------------------------------------------------------- */

/* Tells the payer in their inbox: title and body keys of the message catalogs, in both
 * languages, with the order's number, amount and application filled in. */
static int tell(struct db *db, struct arena *a, const struct pay_order *o, const char *kind, int64_t amount)
{
	char yuan[32];
	pay_yuan(amount, yuan);
	const struct msg_arg vars[] = { MA("order", o->number), MA("amount", yuan),
					MA("application", o->application_number ? o->application_number : "") };
	const char *tk = arena_printf(a, "pay_msg_%s_title", kind), *bk = arena_printf(a, "pay_msg_%s_body", kind);
	const struct view *v = pay_view();
	return notify_message(db, a, o->payer_id, o->application_id, arena_printf(a, "pay_%s", kind),
				    view_fmt(v, "zh", a, tk, vars, ARRAY_LEN(vars)), view_fmt(v, "en", a, tk, vars, ARRAY_LEN(vars)),
				    view_fmt(v, "zh", a, bk, vars, ARRAY_LEN(vars)), view_fmt(v, "en", a, bk, vars, ARRAY_LEN(vars)));
}

/* ---- the workflow ----------------------------------------------------------------------- */

/* Makes an order for the application's fee (state created), in the caller's transaction. */
static int order_make(struct db *db, struct arena *a, const struct pay_fee *f, int64_t payer, struct pay_order *out)
{
	int64_t now = (int64_t)time(NULL);
	const char *number;
	int rc = new_number(db, a, "PO", now, &number);
	if (rc)
		return rc;
	/* The create request's key: random, so no one can guess another order's. */
	unsigned char rnd[12];
	char key[25];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(key, sizeof(key), rnd, sizeof(rnd));
	struct db_rows rows;
	if ((rc = db_query(db, a, &q_order_insert,
			   DB_ARGS(DB_TEXT(number), DB_INT(f->application_id), DB_INT(payer), DB_TEXT(f->department),
				   DB_TEXT(f->item_code), DB_INT(f->amount), DB_TEXT(key), DB_INT(now)),
			   &rows)))
		return rc;
	int64_t id = db_cell_int(&rows, 0, 0);
	if ((rc = cover_touch_id(db, "pay_orders", id, "pay.order")))
		return rc;
	return order_one(db, a, &q_order_id, DB_INT(id), out);
}

/* The follower: a fee falls due where the workflow reaches the item's payment point. */
static int on_follow(struct db *db, struct arena *a, const struct case_change *c, const char **next)
{
	if (!pay_cfg.on || !c->to_state)
		return 0;
	const char *point = !strcmp(c->to_state, "submitted") ? "before_acceptance"
			    : !strcmp(c->to_state, "approved") ? "after_approval"
							       : NULL;
	if (!point)
		return 0;
	const char *rule;
	struct pay_fee f;
	int rc = catalog_item_fee(db, a, c->item_code, (long)c->item_version, &rule);
	if (rc || !rule)
		return rc;
	if ((rc = pay_fee_get(db, a, c->application_id, &f)) != GH_ENOTFOUND)
		return rc; /* assessed once (a case back from a supplement is not charged again) */
	struct pay_assessment as;
	if (pay_fee_assess(a, rule, c->form, c->today, &as)) {
		log_error("pay: the fee rule of %s version %lld cannot be applied", c->item_code, (long long)c->item_version);
		return GH_EINTERNAL;
	}
	if (strcmp(as.point, point) != 0)
		return 0;
	const char *state = as.amount > 0 ? "due" : as.exemption ? "exempt" : "free";
	int64_t now = c->at ? c->at : (int64_t)time(NULL);
	if ((rc = db_exec(db, &q_fee_insert,
			  DB_ARGS(DB_INT(c->application_id), DB_TEXT(c->item_code), DB_INT(c->item_version),
				  DB_TEXT(c->department), DB_TEXT(point), DB_INT(as.gross), DB_INT(as.amount),
				  DB_TEXT(as.exemption), DB_TEXT(as.basis_zh), DB_TEXT(as.basis_en), DB_TEXT(state), DB_INT(now)),
			  NULL)) ||
	    (rc = cover_touch_id(db, "pay_fees", c->application_id, "pay.assess")))
		return rc;
	if (as.amount > 0)
		*next = "request_payment";
	return 0;
}

/* The observer: payment requested makes the first order; a withdrawal cancels what was never
 * sent (an order sent to the gateway expires there; paid after all, it is refunded). */
static int on_transition(struct db *db, struct arena *a, const struct case_change *c)
{
	if (!strcmp(c->action, "request_payment")) {
		struct pay_fee f;
		struct pay_order o;
		int rc = pay_fee_get(db, a, c->application_id, &f);
		if (rc)
			return rc == GH_ENOTFOUND ? GH_EINTERNAL : rc;
		return order_make(db, a, &f, c->enterprise_id ? c->enterprise_id : c->applicant_id, &o);
	}
	if (!strcmp(c->action, "withdraw") && !strcmp(c->from_state, "awaiting_payment")) {
		struct db_rows rows;
		int rc = db_query(db, a, &q_cancel_created, DB_ARGS(DB_INT(c->at), DB_INT(c->application_id)), &rows);
		for (size_t i = 0; !rc && i < rows.nrows; i++)
			rc = cover_touch(db, "pay_orders", db_cell(&rows, i, 0), "pay.cancel");
		return rc;
	}
	return 0;
}

void pay_register_workflow(void)
{
	cases_follow(on_follow);
	cases_observe(on_transition);
}

/* ---- orders from the citizen's side ----------------------------------------------------- */

int pay_order_for(struct db *db, struct arena *a, int64_t application_id, struct pay_order *out)
{
	int rc = order_one(db, a, &q_order_open, DB_INT(application_id), out);
	if (rc != GH_ENOTFOUND)
		return rc;
	struct pay_fee f;
	struct db_rows rows;
	if ((rc = db_begin(db)))
		return rc;
	if ((rc = pay_fee_get(db, a, application_id, &f)) ||
	    (rc = db_query(db, a, &q_app_state, DB_ARGS(DB_INT(application_id)), &rows)))
		goto out;
	if (strcmp(f.state, "due") != 0 || !rows.nrows || strcmp(db_cell(&rows, 0, 0), "awaiting_payment") != 0) {
		rc = GH_ECONFLICT;
		goto out;
	}
	/* The payer: whoever the last order named, else the applicant (or the enterprise). */
	struct pay_order *prev;
	size_t n;
	if ((rc = pay_orders_of(db, a, application_id, &prev, &n)))
		goto out;
	if (!n) {
		rc = GH_EINTERNAL;
		goto out;
	}
	if ((rc = order_make(db, a, &f, prev[n - 1].payer_id, out)))
		goto out;
	rc = db_commit(db);
	if (rc == GH_ECONFLICT) /* another request made it at the same moment */
		return order_one(db, a, &q_order_open, DB_INT(application_id), out);
	return rc;
out:
	db_rollback(db);
	return rc == GH_ECONFLICT && order_one(db, a, &q_order_open, DB_INT(application_id), out) == 0 ? 0 : rc;
}

int pay_order_sending(struct db *db, struct arena *a, struct pay_order *o)
{
	int64_t now = (int64_t)time(NULL);
	bool own;
	struct db_rows rows;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_query(db, a, &q_order_sending, DB_ARGS(DB_INT(now), DB_INT(now + pay_cfg.order_ttl), DB_INT(o->id)),
			      &rows);
	if (!rc && !rows.nrows)
		rc = GH_ECONFLICT;
	if (!rc) {
		o->sent_at = db_cell_int(&rows, 0, 0);
		o->expires_at = db_cell_int(&rows, 0, 1);
		o->state = arena_strdup(a, db_cell(&rows, 0, 2));
	}
	return cover_tx_end_id(db, own, rc, "pay_orders", o->id, "pay.send");
}

int pay_order_created(struct db *db, struct arena *a, struct pay_order *o, const struct pay_gw_payment *p)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_order_created, DB_ARGS(DB_TEXT(p->payment_id), DB_TEXT(p->pay_url), DB_INT(o->id),
							DB_TEXT(p->payment_id)),
			 &changed);
	if (rc)
		return rc;
	if (!changed)
		return GH_ECONFLICT; /* the gateway names another payment for it than before */
	o->gateway_id = arena_strdup(a, p->payment_id);
	o->pay_url = p->pay_url ? arena_strdup(a, p->pay_url) : NULL;
	/* gateway_id is covered: the log records which payment an order is. */
	bool own;
	if ((rc = cover_tx_begin(db, &own)))
		return rc;
	return cover_tx_end_id(db, own, 0, "pay_orders", o->id, "pay.gateway");
}

/* ---- applying the gateway's word -------------------------------------------------------- */

static int order_write(struct db *db, struct pay_order *o, const char *action)
{
	int rc = db_exec(db, &q_order_state,
			 DB_ARGS(DB_TEXT(o->state), DB_INT(o->gw_seq), DB_INT(o->paid_amount), o->paid_at ? DB_INT(o->paid_at) : DB_NULL,
				 o->closed_at ? DB_INT(o->closed_at) : DB_NULL, DB_TEXT(o->note ? o->note : ""),
				 DB_TEXT(o->gateway_id), DB_INT(o->id)),
			 NULL);
	return rc ? rc : cover_touch_id(db, "pay_orders", o->id, action);
}

/* Reserves and records a refund in the caller's transaction (pay_refund_reserve's body). */
static int reserve_tx(struct db *db, struct arena *a, struct pay_order *o, int64_t amount, const char *reason,
		      int64_t actor, bool automatic, struct pay_refund *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_reserve, DB_ARGS(DB_INT(amount), DB_INT(o->id), DB_INT(amount)), &rows);
	if (rc)
		return rc;
	if (!rows.nrows)
		return GH_ECONFLICT;
	o->refund_reserved = db_cell_int(&rows, 0, 0);
	int64_t now = (int64_t)time(NULL);
	const char *number;
	if ((rc = new_number(db, a, "RF", now, &number)))
		return rc;
	if ((rc = db_query(db, a, &q_refund_insert,
			   DB_ARGS(DB_TEXT(number), DB_INT(o->id), DB_INT(amount), DB_TEXT(reason), DB_INT(automatic ? 1 : 0),
				   actor ? DB_INT(actor) : DB_NULL, DB_INT(now)),
			   &rows)))
		return rc;
	*out = (struct pay_refund){ .id = db_cell_int(&rows, 0, 0), .order_id = o->id, .amount = amount, .requested_by = actor,
				    .created_at = now, .number = number, .reason = arena_strdup(a, reason), .state = "pending",
				    .automatic = automatic };
	return cover_touch_id(db, "pay_refunds", out->id, "pay.refund");
}

/* The payment confirmed: the fee paid, the application moved on, the receipt, the figures. */
static int confirm_paid(struct db *db, struct arena *a, struct pay_order *o)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_fee_paid, DB_ARGS(DB_INT(o->id), DB_INT(o->application_id)), &changed);
	if (rc)
		return rc;
	if (!changed)
		return GH_ECONFLICT;
	if ((rc = cover_touch_id(db, "pay_fees", o->application_id, "pay.paid")))
		return rc;
	const char *detail = arena_printf(a, "{\"order\":\"%s\",\"amount\":%" PRId64 "}", o->number, o->paid_amount);
	if ((rc = cases_system_act(db, pay_cfg.app ? pay_cfg.app->calendar : NULL, a, o->application_id, "payment_received",
				   detail)))
		return rc;
	if ((rc = pay_receipt_issue(db, a, o, NULL)))
		return rc;
	if ((rc = stats_payment(db, a, o->department, o->item_code, o->channel ? o->channel : "",
				calendar_day_of((time_t)o->paid_at), o->paid_amount)))
		return rc;
	return tell(db, a, o, "paid", o->paid_amount);
}

/* Whether the application still waits for this fee. */
static bool still_due(struct db *db, struct arena *a, const struct pay_order *o)
{
	struct pay_fee f;
	struct db_rows rows;
	return pay_fee_get(db, a, o->application_id, &f) == 0 && !strcmp(f.state, "due") &&
	       db_query(db, a, &q_app_state, DB_ARGS(DB_INT(o->application_id)), &rows) == 0 && rows.nrows &&
	       !strcmp(db_cell(&rows, 0, 0), "awaiting_payment");
}

int pay_apply(struct db *db, struct arena *a, struct pay_order *o, const struct pay_gw_payment *p,
	      enum pay_outcome *outcome)
{
	enum pay_outcome dummy;
	if (!outcome)
		outcome = &dummy;
	*outcome = PAY_UNCHANGED;
	if (o->gateway_id && strcmp(o->gateway_id, p->payment_id) != 0)
		return GH_EINVAL;
	if (p->seq <= o->gw_seq) {
		*outcome = PAY_STALE; /* the order knows a newer account of this payment */
		return 0;
	}
	o->gw_seq = p->seq;
	if (!o->gateway_id)
		o->gateway_id = arena_strdup(a, p->payment_id);
	int64_t now = (int64_t)time(NULL);
	const char *was = o->state;
	int rc;
	if (!strcmp(p->state, "success")) {
		if (o->paid_amount > 0) /* paid before: nothing new */
			return db_exec(db, &q_order_seq, DB_ARGS(DB_INT(o->gw_seq), DB_TEXT(o->gateway_id), DB_INT(o->id)), NULL);
		o->paid_amount = p->paid_amount;
		o->paid_at = p->paid_at ? p->paid_at : now;
		*outcome = PAY_APPLIED;
		if (pay_order_open(o) && p->paid_amount != o->amount) {
			/* Not what was asked: held for staff, who accept it or send it back. */
			o->state = "held";
			o->note = "amount_mismatch";
			log_warn("pay: order %s: %" PRId64 " fen arrived, %" PRId64 " due: held for staff", o->number,
				 p->paid_amount, o->amount);
			if ((rc = order_write(db, o, "pay.held")))
				return rc;
			return tell(db, a, o, "held", p->paid_amount);
		}
		if (pay_order_open(o) && still_due(db, a, o)) {
			o->state = "paid";
			o->note = "";
			if ((rc = order_write(db, o, "pay.paid")))
				return rc;
			return confirm_paid(db, a, o);
		}
		/* Money for an order that was closed (expired, cancelled), a fee paid already by
		 * another order or an application withdrawn: the hall gives it all back by itself. */
		o->note = pay_order_open(o) ? "not_due" : "late";
		if (pay_order_open(o)) {
			o->state = "cancelled";
			o->closed_at = now;
		}
		log_warn("pay: order %s (%s): a payment of %" PRId64 " fen arrived that is not due (%s): refunded", o->number,
			 was, p->paid_amount, o->note);
		if ((rc = order_write(db, o, "pay.late")))
			return rc;
		struct pay_refund f;
		if ((rc = reserve_tx(db, a, o, o->paid_amount, o->note, 0, true, &f)))
			return rc;
		return tell(db, a, o, "late", o->paid_amount);
	}
	if (!strcmp(p->state, "failed") || !strcmp(p->state, "expired") || !strcmp(p->state, "cancelled")) {
		if (!pay_order_open(o) || !strcmp(o->state, p->state))
			return db_exec(db, &q_order_seq, DB_ARGS(DB_INT(o->gw_seq), DB_TEXT(o->gateway_id), DB_INT(o->id)), NULL);
		o->state = p->state;
		if (strcmp(p->state, "failed") != 0)
			o->closed_at = now; /* a failed attempt may be followed by another until it expires */
		*outcome = PAY_APPLIED;
		if ((rc = order_write(db, o, "pay.state")))
			return rc;
		return tell(db, a, o, p->state, o->amount);
	}
	/* created, started: the gateway has it, nothing paid yet. */
	if (!strcmp(o->state, "created")) {
		o->state = "pending";
		*outcome = PAY_APPLIED;
		return order_write(db, o, "pay.state");
	}
	return db_exec(db, &q_order_seq, DB_ARGS(DB_INT(o->gw_seq), DB_TEXT(o->gateway_id), DB_INT(o->id)), NULL);
}

int pay_order_expire_unsent(struct db *db, struct arena *a, struct pay_order *o, int64_t now)
{
	(void)a;
	if (!pay_order_open(o) || !o->expires_at || o->expires_at > now)
		return 0;
	o->state = "expired";
	o->closed_at = now;
	o->note = "unknown_to_gateway";
	return order_write(db, o, "pay.state");
}

int pay_orders_to_check(struct db *db, struct arena *a, int64_t now, struct pay_order **out, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_to_check,
			  DB_ARGS(DB_INT(now - pay_cfg.query_after), DB_INT(now), DB_INT(now - pay_cfg.query_after)), &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		order_row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

int pay_order_checked(struct db *db, int64_t id, int64_t now)
{
	return db_exec(db, &q_checked, DB_ARGS(DB_INT(now), DB_INT(id)), NULL);
}

/* ---- refunds ------------------------------------------------------------------------------ */

int pay_refund_reserve(struct db *db, struct arena *a, struct pay_order *o, int64_t amount, const char *reason,
		       int64_t actor, bool automatic, struct pay_refund *out)
{
	if (amount < 1 || amount > PAY_AMOUNT_MAX)
		return GH_EINVAL;
	int rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = reserve_tx(db, a, o, amount, reason, actor, automatic, out)) || (rc = db_commit(db))) {
		db_rollback(db);
		return rc;
	}
	return 0;
}

int pay_refund_settle(struct db *db, struct arena *a, struct pay_refund *f, const struct pay_gw_refund *g)
{
	bool ok = !strcmp(g->state, "success");
	if (!ok && strcmp(g->state, "failed") != 0)
		return 0; /* still pending at the gateway */
	int rc = db_begin(db);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL), changed = 0;
	struct pay_order o;
	if ((rc = pay_order_get_id(db, a, f->order_id, true, &o)))
		goto out;
	if ((rc = db_exec(db, &q_refund_done,
			  DB_ARGS(DB_TEXT(ok ? "succeeded" : "failed"), DB_TEXT(g->refund_id), DB_INT(g->created_at ? g->created_at : now),
				  DB_INT(f->id)),
			  &changed)))
		goto out;
	if (!changed) {
		db_rollback(db); /* settled before */
		return 0;
	}
	if ((rc = cover_touch_id(db, "pay_refunds", f->id, "pay.refund")))
		goto out;
	f->state = ok ? "succeeded" : "failed";
	f->gateway_id = arena_strdup(a, g->refund_id);
	f->done_at = g->created_at ? g->created_at : now;
	if (!ok) {
		log_warn("pay: refund %s of order %s failed at the gateway", f->number, o.number);
		rc = db_exec(db, &q_order_release, DB_ARGS(DB_INT(f->amount), DB_INT(o.id)), NULL);
		goto done;
	}
	struct db_rows rows;
	if ((rc = db_query(db, a, &q_order_refunded, DB_ARGS(DB_INT(f->amount), DB_INT(o.id)), &rows)))
		goto out;
	o.refunded = db_cell_int(&rows, 0, 0);
	/* Paid orders become partly or fully refunded; money that was never due (held, late) is
	 * settled when all of it went back. */
	const char *next = NULL;
	if (!strcmp(o.state, "paid") || !strcmp(o.state, "partly_refunded"))
		next = o.refunded >= o.paid_amount ? "refunded" : "partly_refunded";
	else if (o.refunded >= o.paid_amount)
		next = "refunded";
	if (next && strcmp(next, o.state) != 0) {
		if ((rc = db_exec(db, &q_order_set_state, DB_ARGS(DB_TEXT(next), DB_INT(now), DB_TEXT(o.note), DB_INT(o.id)), NULL)))
			goto out;
		o.state = next;
	}
	if ((rc = cover_touch_id(db, "pay_orders", o.id, "pay.refunded")) || (rc = pay_receipt_issue(db, a, &o, f)) ||
	    (rc = stats_refund(db, a, o.department, o.item_code, o.channel ? o.channel : "", calendar_day_of((time_t)f->done_at),
			       f->amount)))
		goto out;
	rc = tell(db, a, &o, "refunded", f->amount);
done:
	if (rc || (rc = db_commit(db)))
		goto out;
	return 0;
out:
	db_rollback(db);
	return rc;
}

int pay_order_release(struct db *db, struct arena *a, struct pay_order *o, bool accept, int64_t actor,
		      struct pay_refund *refund, bool *has_refund)
{
	*has_refund = false;
	int rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = pay_order_get_id(db, a, o->id, true, o)))
		goto out;
	if (strcmp(o->state, "held") != 0) {
		rc = GH_ECONFLICT;
		goto out;
	}
	if (accept) {
		/* Accepted: the amount due is the payment; anything more goes back. */
		if (o->paid_amount < o->amount || !still_due(db, a, o)) {
			rc = GH_ECONFLICT;
			goto out;
		}
		int64_t excess = o->paid_amount - o->amount;
		o->state = "paid";
		o->note = "accepted";
		if ((rc = order_write(db, o, "pay.accept")) || (rc = confirm_paid(db, a, o)))
			goto out;
		if (excess > 0) {
			if ((rc = reserve_tx(db, a, o, excess, "excess", actor, false, refund)))
				goto out;
			*has_refund = true;
		}
	} else {
		o->note = "returned";
		if ((rc = order_write(db, o, "pay.return")) ||
		    (rc = reserve_tx(db, a, o, o->paid_amount - o->refund_reserved, "returned", actor, false, refund)))
			goto out;
		*has_refund = true;
	}
	if ((rc = db_commit(db)))
		goto out;
	return 0;
out:
	db_rollback(db);
	return rc;
}
