/* duties.c: the payment duty — a thread of its own (it waits on the gateway) with its own
 * database connection, on one node at a time (a PostgreSQL advisory lock), a pass at start and
 * every 10 s, sooner when nudged:
 * - orders sent to the gateway and still open, not asked about within pay-query-after seconds
 *   (or past their expiry), are asked about (GET), and the answer applied as a notification
 *   would be: a payment whose notification was lost, or that was made while the hall could not
 *   be reached, is found this way; an order the gateway never heard of closes at its expiry;
 * - refunds not yet confirmed are sent (again: the same idempotency key, so never twice);
 * - each day before today, once pay-settle-delay seconds have passed since it ended, is
 *   reconciled with the gateway's settlement file (recon.c).
 * A gateway that does not answer leaves everything as it is for the next pass. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "pay/pay.h"
#include "pay/pay_impl.h"
#include "store/db.h"

#define PAY_DUTY_PERIOD 10
#define PAY_DUTY_LOCK 736201 /* the advisory lock of the payment duty */
#define RECON_DAYS_BACK 7

static struct duty *the_duty;
static struct db *duty_db;

DB_SQL2(q_lock, "SELECT 1", "SELECT pg_try_advisory_lock(736201)::int");

void pay_duty_nudge(void);
void pay_duty_nudge(void)
{
	duty_nudge(the_duty);
}

int pay_check_order(struct db *db, struct arena *a, struct pay_order *o, int64_t now)
{
	struct pay_gw_payment p;
	char err[512];
	int rc = pay_gw_get(a, o, &p, err, sizeof(err));
	if (rc == GH_ENOTFOUND) {
		/* The gateway never made it (the create request did not arrive): closed at expiry. */
		if ((rc = db_begin(db)))
			return rc;
		struct pay_order locked;
		if ((rc = pay_order_get_id(db, a, o->id, true, &locked)) || (rc = pay_order_expire_unsent(db, a, &locked, now)) ||
		    (rc = pay_order_checked(db, o->id, now)) || (rc = db_commit(db)))
			db_rollback(db);
		return rc;
	}
	if (rc) {
		log_info("pay: order %s could not be checked: %s", o->number, err);
		return rc;
	}
	if ((rc = db_begin(db)))
		return rc;
	struct pay_order locked;
	enum pay_outcome outcome;
	if ((rc = pay_order_get_id(db, a, o->id, true, &locked)) || (rc = pay_apply(db, a, &locked, &p, &outcome)) ||
	    (rc = pay_order_checked(db, o->id, now)) || (rc = db_commit(db))) {
		db_rollback(db);
		return rc;
	}
	if (outcome == PAY_APPLIED)
		log_info("pay: order %s is %s, as the gateway says when asked", locked.number, locked.state);
	*o = locked;
	return 0;
}

int pay_refund_send(struct db *db, struct arena *a, struct pay_refund *f)
{
	struct pay_order o;
	int rc = pay_order_get_id(db, a, f->order_id, false, &o);
	if (rc)
		return rc;
	if (!o.gateway_id)
		return GH_EINTERNAL;
	struct pay_gw_refund g;
	const char *code;
	char err[512];
	rc = pay_gw_refund(a, o.gateway_id, f, &g, &code, err, sizeof(err));
	if (rc == GH_ECONFLICT) {
		/* Refused for good (more than was paid, not paid): the reservation is released. */
		log_warn("pay: refund %s of order %s refused by the gateway: %s", f->number, o.number, code);
		g = (struct pay_gw_refund){ .refund_id = f->number, .payment_id = o.gateway_id, .state = "failed",
					    .amount = f->amount, .created_at = (int64_t)time(NULL) };
		return pay_refund_settle(db, a, f, &g);
	}
	if (rc) {
		log_info("pay: refund %s of order %s not sent yet: %s", f->number, o.number, err);
		return rc;
	}
	return pay_refund_settle(db, a, f, &g);
}

/* Days before today not reconciled yet, oldest first, whose end is settle-delay behind now. */
static int reconcile_due(struct db *db, struct arena *a, int64_t now)
{
	int32_t today = calendar_day_of((time_t)now);
	const char *last;
	int rc = pay_recon_last_day(db, a, &last);
	if (rc)
		return rc;
	for (int32_t d = today - RECON_DAYS_BACK; d < today; d++) {
		char day[11];
		calendar_format_day(d, day);
		if (*last && strcmp(day, last) <= 0)
			continue;
		int64_t end = (int64_t)(d + 1) * 86400 - 8 * 3600; /* midnight, China Standard Time */
		if (now < end + pay_cfg.settle_delay)
			break;
		if ((rc = pay_reconcile(db, a, day, now, NULL)))
			return rc;
	}
	return 0;
}

int pay_duty_pass(struct db *db, int64_t now, bool *more)
{
	*more = false;
	if (!pay_cfg.on)
		return 0;
	struct arena *a = arena_new(0);
	struct db_rows rows;
	int rc = db_query(db, a, &q_lock, DB_NOARGS, &rows);
	if (rc || !rows.nrows || db_cell_int(&rows, 0, 0) != 1) {
		arena_free(a); /* another node has the duty */
		return rc;
	}
	struct pay_order *orders;
	size_t n;
	if ((rc = pay_orders_to_check(db, a, now, &orders, &n)) == 0) {
		for (size_t i = 0; i < n; i++)
			if (pay_check_order(db, a, &orders[i], now) == GH_EUNAVAILABLE)
				break; /* the gateway is down: next pass */
		*more = n == 50;
	}
	struct pay_refund *refunds;
	if (!rc && (rc = pay_refunds_pending(db, a, &refunds, &n)) == 0)
		for (size_t i = 0; i < n; i++)
			if (pay_refund_send(db, a, &refunds[i]) == GH_EUNAVAILABLE)
				break;
	int rr = rc ? rc : reconcile_due(db, a, now);
	if (rr && rr != GH_EUNAVAILABLE)
		rc = rr;
	arena_free(a);
	return rc;
}

static int pass(void *arg, bool *more)
{
	(void)arg;
	return pay_duty_pass(duty_db, (int64_t)time(NULL), more);
}

int pay_start(struct app *app, char *err, size_t errlen)
{
	if (!pay_cfg.on)
		return 0;
	if (db_open_named(app->cfg.db, "govhall payments", &duty_db, err, errlen))
		return GH_EUNAVAILABLE;
	the_duty = duty_start_alone("payments", pass, NULL, PAY_DUTY_PERIOD);
	if (!the_duty) {
		snprintf(err, errlen, "the payment duty could not start");
		db_close(duty_db);
		duty_db = NULL;
		return GH_EINTERNAL;
	}
	return 0;
}

void pay_stop(void)
{
	duty_stop(the_duty);
	the_duty = NULL;
	db_close(duty_db);
	duty_db = NULL;
}
