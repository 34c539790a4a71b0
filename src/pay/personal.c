/* personal.c: what pay holds about a person (store/personal.h): payment orders and receipts,
 * kept at closure (accounting records). Gateway addresses and idempotency keys are not shown. */
#include "base/util.h"
#include "pay/pay.h"
#include "store/db.h"
#include "store/personal.h"

DB_SQL(q_orders, "SELECT o.id, o.number, a.number AS application, o.department, o.item_code, o.amount, o.state, "
		 "o.paid_amount, o.refunded, o.created_at, o.paid_at, o.closed_at FROM pay_orders o "
		 "LEFT JOIN applications a ON a.id = o.application_id WHERE o.payer_id = ? ORDER BY o.id DESC LIMIT 2000");
DB_SQL(q_receipts, "SELECT r.id, r.number, r.kind, o.number AS order_number, r.department, r.hash, r.issued_at "
		   "FROM pay_receipts r JOIN pay_orders o ON o.id = r.order_id WHERE r.payer_id = ? "
		   "ORDER BY r.id DESC LIMIT 2000");

static const struct personal_part parts[] = {
	{ .name = "payments", .kept = true, .query = &q_orders, .words = "state=pay_state_" },
	{ .name = "receipts", .kept = true, .query = &q_receipts },
};

void pay_personal_declare(void)
{
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		personal_declare(&parts[i]);
}
