/* pay_impl.h: what the files of src/pay share.
 *
 * - fee.c: an item's fee rule applied to a form (fee.h); proto.c: the gateway protocol
 *   (proto.h); http.c: one outgoing request (http.h).
 * - orders.c: fees, orders and refunds in the database, and pay_apply(), the one place where
 *   the gateway's word about a payment (a notification or a query's answer) changes an order.
 * - gateway.c: the hall's client of the gateway; notice.c: the notification endpoint;
 *   duties.c: the background duty; receipt.c: electronic receipts; recon.c: reconciliation;
 *   web.c: pages and API; paysim.c: the simulator.
 */
#ifndef GH_PAY_IMPL_H
#define GH_PAY_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "base/arena.h"
#include "http/http.h"
#include "pay/fee.h"
#include "pay/proto.h"

struct db;
struct calendar;

/* ---- settings (pay_init; read-only afterwards) ------------------------------------------- */

struct pay_settings {
	bool on;                      /* a gateway is configured */
	const char *gateway_url, *api_key, *public_url;
	struct pay_sig_keys keys;     /* what the gateway's signatures are checked with */
	long order_ttl;               /* seconds an order may be paid once sent (30 minutes) */
	long timeout_ms;              /* each call to the gateway, in all */
	long tolerance;               /* seconds a signature's time may differ from ours */
	long query_after;             /* seconds before a pending order is asked about */
	long settle_delay;            /* seconds after a day ends before it is reconciled */
	struct app *app;              /* templates and messages, the calendar */
};
extern struct pay_settings pay_cfg;

/* The app's message catalogs (NULL before pay_init: view_msg then gives the key), for texts
 * stored or printed in both languages (inbox messages, receipts) through VF and view_msg. */
struct view;
const struct view *pay_view(void);

/* ---- rows ------------------------------------------------------------------------------- */

struct pay_fee {
	int64_t application_id, item_version, gross, amount, assessed_at, paid_order_id;
	const char *item_code, *department, *point, *exemption, *basis_zh, *basis_en, *state;
};

struct pay_order {
	int64_t id, application_id, payer_id, amount, gw_seq, paid_amount, refunded, refund_reserved;
	int64_t created_at, sent_at, expires_at, paid_at, closed_at, checked_at;
	const char *number, *department, *item_code, *state, *gateway_id, *pay_url, *idem_key, *note;
	const char *application_number; /* joined */
	const char *channel;            /* the application's, for statistics */
};

struct pay_refund {
	int64_t id, order_id, amount, requested_by, created_at, done_at;
	const char *number, *reason, *state, *gateway_id;
	bool automatic;
};

/* True for an order that may still be paid (created, pending, failed). */
bool pay_order_open(const struct pay_order *o);

/* ---- orders.c --------------------------------------------------------------------------- */

void pay_orders_register(void);
/* The workflow's follower (a fee falling due) and observer (orders made and cancelled). */
void pay_register_workflow(void);
/* The citizen's fees due on a centre's kiosk page (web.c; BOOKING_PAGE_KIOSK). */
int pay_kiosk_section(struct req *r, const void *subject, json_t *ctx);
/* The staff queue's column: each application's fee, paid or due (web.c; CASES_PAGE_QUEUE). */
int pay_queue_rows(struct req *r, const void *subject, json_t *rows);
int pay_fee_get(struct db *db, struct arena *a, int64_t application_id, struct pay_fee *out);
int pay_order_get(struct db *db, struct arena *a, const char *number, struct pay_order *out);
int pay_order_get_id(struct db *db, struct arena *a, int64_t id, bool lock, struct pay_order *out);
/* The order a gateway payment id names, else the one its reference names. GH_ENOTFOUND. */
int pay_order_find(struct db *db, struct arena *a, const char *gateway_id, const char *reference, bool lock,
		   struct pay_order *out);
int pay_orders_of(struct db *db, struct arena *a, int64_t application_id, struct pay_order **out, size_t *n);
int pay_refunds_of(struct db *db, struct arena *a, int64_t order_id, struct pay_refund **out, size_t *n);
/* The order to pay the application's fee with: its open order, or a new one when the fee is
 * due and none is open (in its own transaction). GH_ECONFLICT when nothing is due. */
int pay_order_for(struct db *db, struct arena *a, int64_t application_id, struct pay_order *out);
/* The order is being sent to the gateway: pending from now, expiring after order-ttl (the first
 * time only). */
int pay_order_sending(struct db *db, struct arena *a, struct pay_order *o);
/* The gateway made the payment: its id and payer address are kept. */
int pay_order_created(struct db *db, struct arena *a, struct pay_order *o, const struct pay_gw_payment *p);

enum pay_outcome {
	PAY_APPLIED = 0,  /* the order changed */
	PAY_UNCHANGED,    /* nothing new (a repeat, or a state it was in) */
	PAY_STALE,        /* older than what the order knows (out of order): ignored */
};
/* Applies the gateway's account of o's payment p (o read with lock in the caller's
 * transaction): the order's state, and with a payment confirmed the fee, the application
 * (payment_received), the receipt, the statistics and the payer's inbox; a payment the fee no
 * longer needs (after the order expired or was cancelled, a fee paid already, a withdrawn
 * application) is refunded in full by the hall itself and the payer told; an amount other than
 * the order's is held for staff. *outcome (may be NULL) says what happened. */
int pay_apply(struct db *db, struct arena *a, struct pay_order *o, const struct pay_gw_payment *p,
	      enum pay_outcome *outcome);

/* Reserves a refund of amount from order o (paid, partly refunded or held) with one
 * conditional write (never more than was paid, whoever else refunds at the same moment) and
 * records it pending, in its own transaction. GH_ECONFLICT when it would exceed what is left,
 * GH_EINVAL for an amount below 1. */
int pay_refund_reserve(struct db *db, struct arena *a, struct pay_order *o, int64_t amount, const char *reason,
		       int64_t actor, bool automatic, struct pay_refund *out);
/* The gateway's answer to a refund: succeeded (the order's refunded total, its state, the
 * refund's receipt, statistics) or failed (the reservation released), in its own transaction.
 * A refund already settled is left as it is. */
int pay_refund_settle(struct db *db, struct arena *a, struct pay_refund *f, const struct pay_gw_refund *g);
int pay_refund_get(struct db *db, struct arena *a, const char *number, struct pay_refund *out);
int pay_refunds_pending(struct db *db, struct arena *a, struct pay_refund **out, size_t *n);

/* Staff decide a held order (an amount other than the one due arrived): accept (the order is
 * paid; what came beyond the amount due is refunded) or refund (all of it is returned, the fee
 * stays due). In its own transaction. GH_ECONFLICT when the order is not held. */
int pay_order_release(struct db *db, struct arena *a, struct pay_order *o, bool accept, int64_t actor,
		      struct pay_refund *refund, bool *has_refund);

/* Orders the duty asks the gateway about: open and sent, not asked within query-after seconds
 * of now (or expired). */
int pay_orders_to_check(struct db *db, struct arena *a, int64_t now, struct pay_order **out, size_t *n);
int pay_order_checked(struct db *db, int64_t id, int64_t now);
/* An open order the gateway never heard of, past its expiry: closed as expired. */
int pay_order_expire_unsent(struct db *db, struct arena *a, struct pay_order *o, int64_t now);

/* ---- gateway.c: the hall's calls (blocking: job pool or duty thread) ---------------------- */

/* GH_EUNAVAILABLE: no answer (down, timeout) or a 5xx; GH_ENOTFOUND: 404; GH_ECONFLICT: 409
 * (the gateway's error code in *code); GH_EINVAL: an answer that breaks the protocol. err gets
 * a line for the log. */
int pay_gw_create(struct arena *a, const struct pay_order *o, const char *description, const char *return_url,
		  struct pay_gw_payment *out, char *err, size_t errlen);
int pay_gw_get(struct arena *a, const struct pay_order *o, struct pay_gw_payment *out, char *err, size_t errlen);
int pay_gw_refund(struct arena *a, const char *gateway_id, const struct pay_refund *f, struct pay_gw_refund *out,
		  const char **code, char *err, size_t errlen);
/* The signed settlement file of a day (YYYY-MM-DD): the signature checked, the file parsed. */
int pay_gw_settlement(struct arena *a, const char *day, struct pay_settlement *out, char *err, size_t errlen);

/* ---- duties.c ----------------------------------------------------------------------------- */

/* One pass of the duty on db as at now: orders asked about, refunds retried, days
 * reconciled. *more: a batch was full. */
int pay_duty_pass(struct db *db, int64_t now, bool *more);
/* Asks the gateway about o and applies the answer (its own transaction). */
int pay_check_order(struct db *db, struct arena *a, struct pay_order *o, int64_t now);
/* Sends refund f to the gateway and settles it with the answer. GH_EUNAVAILABLE leaves it
 * pending, for the duty to send again (the same idempotency key). */
int pay_refund_send(struct db *db, struct arena *a, struct pay_refund *f);

/* ---- receipt.c ---------------------------------------------------------------------------- */

#define PAY_RECEIPT_TYPE "govhall.payreceipt/v1"
#define PAY_RECEIPT_MARK "govhall-payreceipt:"

/* Issues the receipt of a payment (refund NULL) or of a refund of order o, in the caller's
 * transaction: the document signed with the department's certificate key, stored, appended to
 * the transparency log. */
int pay_receipt_issue(struct db *db, struct arena *a, const struct pay_order *o, const struct pay_refund *refund);
struct pay_receipt {
	int64_t id, order_id, refund_id, payer_id, leaf_index, issued_at;
	const char *number, *kind, *department, *key_id, *document, *signature, *hash;
};
int pay_receipt_get(struct db *db, struct arena *a, const char *number, struct pay_receipt *out);
int pay_receipts_of(struct db *db, struct arena *a, int64_t order_id, struct pay_receipt **out, size_t *n);
/* The downloadable document (with the log's proof when it can be given). New reference. */
json_t *pay_receipt_document(struct db *db, struct arena *a, const struct pay_receipt *rc);
/* The PDF of a document (JSON text) for lang: for the job pool. */
int pay_receipt_pdf(const char *doc_json, unsigned char **pdf, size_t *len);
/* The verdict of the /verify page on a receipt document or a (number, hash) link. */
int pay_receipt_verdict(struct req *r, const json_t *doc, json_t **out);
json_t *pay_receipt_verdict_link(struct req *r, const char *number, const char *hash);
void pay_receipt_register(void);
/* An SVG QR code of text (for pages), in a. */
const char *pay_qr_svg(struct arena *a, const char *text);

/* ---- recon.c ------------------------------------------------------------------------------ */

/* Reconciles day (YYYY-MM-DD) with the gateway's settlement file: a run, and a task per
 * difference (new ones only, when the day was reconciled before); administrators are told.
 * *diffs (may be NULL) gets the differences found. GH_EUNAVAILABLE when the file cannot be had. */
int pay_reconcile(struct db *db, struct arena *a, const char *day, int64_t now, long *diffs);
/* The last day reconciled (""), for the duty. */
int pay_recon_last_day(struct db *db, struct arena *a, const char **day);

/* ---- web.c -------------------------------------------------------------------------------- */

extern const struct route pay_routes[];
extern const size_t pay_routes_n;

#endif
