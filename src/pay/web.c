/* web.c: pages and JSON API of payments.
 *
 * - The applicant: the payment page of an application (the amount, its legal basis, an
 *   exemption, the orders and receipts), paying (the order sent to the gateway on the job
 *   pool, then off to the gateway's payer page or its QR code), coming back (a query to the
 *   gateway on the job pool: the address the browser comes back to proves nothing), receipts.
 * - Staff of the department: its orders (paid, unpaid, held), refunds (department heads),
 *   deciding held orders. Administrators: everything, and the reconciliation report with its
 *   CSV and XLSX export.
 * - Anyone: verifying a receipt (/verify/receipts/{number}?h=, its QR code).
 * Who may see an order: who may see its application (cases.h cases_brief). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "cases/cases.h"
#include "certs/certs.h"
#include "catalog/catalog.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "pay/pay.h"
#include "pay/pay_impl.h"
#include "stats/stats.h"
#include "store/cover.h"
#include "store/db.h"
#include "view/view.h"

#define APPLICANTS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)
#define REASON_MAX 200
#define VERIFY_PER_HOUR 600

int pay_notify_handler(struct req *r);
void pay_duty_nudge(void);

static bool en(const struct req *r)
{
	return strcmp(r->lang, "en") == 0;
}

static json_t *aj(struct req *r, json_t *j)
{
	arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	return j;
}

static const char *yuan(struct req *r, int64_t fen)
{
	char b[32];
	pay_yuan(fen, b);
	return arena_strdup(r->arena, b);
}

static const char *when(struct req *r, int64_t t)
{
	if (!t)
		return "";
	time_t x = (time_t)(t + 8 * 3600);
	struct tm tm;
	char buf[32];
	if (!gmtime_r(&x, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm))
		return "";
	return arena_strdup(r->arena, buf);
}

static json_t *page_ctx(struct req *r, const char *title_key)
{
	json_t *ctx = json_object();
	json_object_set_new(ctx, "title", json_string(M(r, title_key)));
	const char *csrf = identity_csrf_token(r);
	if (csrf)
		json_object_set_new(ctx, "csrf", json_string(csrf));
	return ctx;
}

static json_t *body_object(struct req *r)
{
	size_t len;
	const char *b = req_body(r, &len);
	json_t *j = b && len ? json_loadb(b, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		req_error_detail(r, "%s", M(r, N_("pay_err_body")));
		return NULL;
	}
	return aj(r, j);
}

static const char *state_name(struct req *r, const char *state)
{
	return MC(r, "pay_state_", state);
}

/* Staff who may refund and decide held orders: heads of the order's department; and
 * administrators. */
static bool may_decide(const struct req *r, const struct pay_order *o)
{
	return r->role == ROLE_ADMIN || (r->role == ROLE_STAFF && (r->who.staff_roles & STAFF_HEAD) && r->who.department &&
					 !strcmp(r->who.department, o->department));
}

/* An order the caller may see (who may see its application), or GH_ENOTFOUND. */
static int order_visible(struct req *r, const char *number, struct pay_order *o, struct case_brief *b)
{
	int rc = pay_order_get(r->db, r->arena, number, o);
	if (rc == 0)
		rc = cases_brief(r, o->application_number, b);
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", M(r, N_("pay_err_no_order")));
	return rc;
}

/* ---- JSON of the things ------------------------------------------------------------------- */

static json_t *order_json(struct req *r, const struct pay_order *o)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:I,s:I,s:I}", "number", o->number, "application",
			      o->application_number, "amount_fen", (json_int_t)o->amount, "state", o->state, "state_name",
			      state_name(r, o->state), "paid_fen", (json_int_t)o->paid_amount, "refunded_fen",
			      (json_int_t)o->refunded, "refund_reserved_fen", (json_int_t)o->refund_reserved, "created_at",
			      (json_int_t)o->created_at);
	json_object_set_new(j, "expires_at", o->expires_at ? json_integer(o->expires_at) : json_null());
	json_object_set_new(j, "paid_at", o->paid_at ? json_integer(o->paid_at) : json_null());
	json_object_set_new(j, "pay_url", o->pay_url && pay_order_open(o) ? json_string(o->pay_url) : json_null());
	json_object_set_new(j, "note", json_string(o->note ? o->note : ""));
	return j;
}

static json_t *refund_json(struct req *r, const struct pay_refund *f)
{
	json_t *j = json_pack("{s:s,s:I,s:s,s:s,s:s,s:b,s:I}", "number", f->number, "amount_fen", (json_int_t)f->amount,
			      "reason", f->reason ? f->reason : "", "state", f->state, "state_name",
			      MC(r, "pay_refund_", f->state), "automatic", f->automatic, "created_at",
			      (json_int_t)f->created_at);
	json_object_set_new(j, "done_at", f->done_at ? json_integer(f->done_at) : json_null());
	return j;
}

static json_t *receipt_json(struct req *r, const struct pay_receipt *rc, bool api)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "number", rc->number, "kind", rc->kind, "hash", rc->hash, "issued_at",
			      (json_int_t)rc->issued_at);
	json_t *c = json_loads(rc->document, 0, NULL);
	json_object_set_new(j, "amount_fen", json_integer(json_integer_value(json_object_get(c, "amount_fen"))));
	json_decref(c);
	const char *base = api ? "/api/v1/pay/receipts" : "/pay/receipts";
	json_object_set_new(j, "pdf_href", json_sprintf("%s/%s/pdf", base, rc->number));
	json_object_set_new(j, "json_href", json_sprintf("/pay/receipts/%s/json", rc->number));
	json_object_set_new(j, "verify_href", json_sprintf("/verify/receipts/%s?h=%s", rc->number, rc->hash));
	return j;
}

/* Everything about the payment of an application: {fee, orders, refunds, receipts}. */
static int payment_json(struct req *r, const struct case_brief *b, bool api, json_t **out)
{
	struct pay_order *orders;
	size_t n;
	struct pay_fee f;
	/* Separate statements, one moment: the run's read snapshot (http/write.h), so an order
	 * seen paid comes with its fee seen paid whatever the writer commits meanwhile. */
	int rc = pay_fee_get(r->db, r->arena, b->id, &f);
	if (!rc)
		rc = pay_orders_of(r->db, r->arena, b->id, &orders, &n);
	if (rc == GH_ENOTFOUND)
		req_error_detail(r, "%s", M(r, N_("pay_err_no_fee")));
	if (rc)
		return rc;
	json_t *jo = json_array(), *jr = json_array(), *jf = json_array();
	for (size_t i = 0; i < n && !rc; i++) {
		json_array_append_new(jo, order_json(r, &orders[i]));
		struct pay_receipt *rcs;
		struct pay_refund *fs;
		size_t nr, nf;
		if ((rc = pay_receipts_of(r->db, r->arena, orders[i].id, &rcs, &nr)) ||
		    (rc = pay_refunds_of(r->db, r->arena, orders[i].id, &fs, &nf)))
			break;
		for (size_t k = 0; k < nr; k++)
			json_array_append_new(jr, receipt_json(r, &rcs[k], api));
		for (size_t k = 0; k < nf; k++) {
			json_t *x = refund_json(r, &fs[k]);
			json_object_set_new(x, "order", json_string(orders[i].number));
			json_array_append_new(jf, x);
		}
	}
	if (rc) {
		json_decref(jo), json_decref(jr), json_decref(jf);
		return rc;
	}
	json_t *fee = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s}", "amount_fen", (json_int_t)f.amount, "gross_fen",
				(json_int_t)f.gross, "state", f.state, "state_name", MC(r, "pay_fee_", f.state),
				"point", f.point, "basis", en(r) ? f.basis_en : f.basis_zh, "assessed_at", when(r, f.assessed_at));
	json_object_set_new(fee, "exemption", f.exemption ? json_string(f.exemption) : json_null());
	*out = json_pack("{s:s,s:o,s:o,s:o,s:o,s:b}", "application", b->number, "fee", fee, "orders", jo, "refunds", jf,
			 "receipts", jr, "can_pay",
			 b->applicant && pay_cfg.on && !strcmp(f.state, "due") && !strcmp(b->state, "awaiting_payment"));
	return 0;
}

/* ---- the applicant's page ------------------------------------------------------------------ */

static int payment_page(struct req *r)
{
	struct case_brief b;
	int rc = cases_brief(r, req_param(r, "number"), &b);
	if (rc)
		return rc;
	json_t *p;
	if ((rc = payment_json(r, &b, false, &p)))
		return rc;
	aj(r, p);
	json_t *ctx = page_ctx(r, "pay_page_title");
	json_object_set(ctx, "payment", p);
	json_object_set_new(ctx, "number", json_string(b.number));
	json_object_set_new(ctx, "item_name", json_string(en(r) ? b.item_name_en : b.item_name_zh));
	json_object_set_new(ctx, "app_state", json_string(en(r) ? b.state_en : b.state_zh));
	json_object_set_new(ctx, "nav_mine", json_boolean(b.applicant));
	json_t *fee = json_object_get(p, "fee");
	json_object_set_new(ctx, "amount", json_string(yuan(r, json_integer_value(json_object_get(fee, "amount_fen")))));
	json_object_set_new(ctx, "gross", json_string(yuan(r, json_integer_value(json_object_get(fee, "gross_fen")))));
	json_object_set_new(ctx, "is_due", json_boolean(!strcmp(json_string_value(json_object_get(fee, "state")), "due")));
	json_object_set_new(ctx, "is_exempt", json_boolean(!strcmp(json_string_value(json_object_get(fee, "state")), "exempt")));
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(p, "orders"), i, o)
	{
		json_object_set_new(o, "amount", json_string(yuan(r, json_integer_value(json_object_get(o, "amount_fen")))));
		json_object_set_new(o, "created", json_string(when(r, json_integer_value(json_object_get(o, "created_at")))));
		json_object_set_new(o, "paid", json_string(when(r, json_integer_value(json_object_get(o, "paid_at")))));
		const char *url = json_string_value(json_object_get(o, "pay_url"));
		if (url && json_is_true(json_object_get(p, "can_pay"))) {
			/* The payer page's address as a QR code, for a phone (or at a kiosk). */
			json_object_set_new(ctx, "open_order", json_pack("{s:s,s:s,s:s}", "number",
									   json_string_value(json_object_get(o, "number")), "pay_url",
									   url, "qr_svg", pay_qr_svg(r->arena, url)));
		}
	}
	json_array_foreach(json_object_get(p, "receipts"), i, o)
	{
		json_object_set_new(o, "amount", json_string(yuan(r, json_integer_value(json_object_get(o, "amount_fen")))));
		json_object_set_new(o, "kind_name", json_string(M(r, !strcmp(json_string_value(json_object_get(o, "kind")), "refund")
									      ? "pay_receipt_kind_refund"
									      : "pay_receipt_kind_payment")));
		json_object_set_new(o, "issued", json_string(when(r, json_integer_value(json_object_get(o, "issued_at")))));
	}
	json_array_foreach(json_object_get(p, "refunds"), i, o)
		json_object_set_new(o, "amount", json_string(yuan(r, json_integer_value(json_object_get(o, "amount_fen")))));
	json_object_set_new(p, "has_refunds", json_boolean(json_array_size(json_object_get(p, "refunds")) > 0));
	json_object_set_new(p, "has_receipts", json_boolean(json_array_size(json_object_get(p, "receipts")) > 0));
	/* What happened last, told once (the query string of a redirect). */
	const char *msg = req_query(r, "msg");
	static const char *const msgs[] = { "retry", "waiting", "paid", "failed", "expired" };
	for (size_t k = 0; msg && k < ARRAY_LEN(msgs); k++)
		if (!strcmp(msg, msgs[k])) {
			json_object_set_new(ctx, "message", json_string(MC(r, "pay_flash_", msg)));
			json_object_set_new(ctx, "message_error", json_boolean(!strcmp(msg, "retry") || !strcmp(msg, "failed")));
		}
	return resp_page(r, 200, "pay/payment", ctx);
}

static int api_payment(struct req *r)
{
	struct case_brief b;
	int rc = cases_brief(r, req_param(r, "number"), &b);
	if (rc)
		return rc;
	json_t *p;
	if ((rc = payment_json(r, &b, true, &p)))
		return rc;
	return resp_json(r, 200, p);
}

/* ---- fees due, for the kiosk ---------------------------------------------------------------- */

DB_SQL(q_due_mine, "SELECT a.number, f.item_code, f.amount FROM pay_fees f JOIN applications a ON a.id = f.application_id "
		   "WHERE f.state = 'due' AND a.state = 'awaiting_payment' AND ((? <> 0 AND a.enterprise_id = ?) OR "
		   "(? = 0 AND a.applicant_id = ? AND a.enterprise_id IS NULL)) ORDER BY a.id DESC LIMIT 20");

/* The kiosk's section (BOOKING_PAGE_KIOSK): has_fees, and fees [{number, item, amount (yuan),
 * href}], the caller's applications with a fee due now (their own, or those of the enterprise
 * they act for), newest first, at most 20, each with its payment page (its QR code is paid by
 * phone). Nothing when fees are not collected online. */
int pay_kiosk_section(struct req *r, const void *subject, json_t *ctx)
{
	(void)subject;
	json_t *out = json_array();
	struct identity_owner who = identity_owner_of(r);
	struct db_rows rows;
	if (!pay_cfg.on || !who.person ||
	    db_query(r->db, r->arena, &q_due_mine,
		     DB_ARGS(DB_INT(who.enterprise), DB_INT(who.enterprise), DB_INT(who.enterprise), DB_INT(who.person)), &rows))
		rows.nrows = 0;
	for (size_t i = 0; i < rows.nrows; i++) {
		const char *number = db_cell(&rows, i, 0), *item = db_cell(&rows, i, 1);
		const struct catalog_service_parsed *svc;
		if (!catalog_service_cached(r, item, &svc))
			item = en(r) && svc->svc.name_en && *svc->svc.name_en ? svc->svc.name_en : svc->svc.name_zh;
		json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s}", "number", number, "item", item, "amount",
						     yuan(r, db_cell_int(&rows, i, 2)), "href",
						     arena_printf(r->arena, "/applications/%s/payment", number)));
	}
	json_object_set_new(ctx, "has_fees", json_boolean(json_array_size(out) > 0));
	json_object_set_new(ctx, "fees", out);
	return 0;
}

/* ---- the staff queue's column ------------------------------------------------------------- */

/* The fees of up to FEES_AT_ONCE applications by number, in one statement (a queue page's rows;
 * the places left over are NULL, which matches nothing). */
#define FEES_AT_ONCE 20
DB_SQL(q_fees_of, "SELECT a.number, f.state FROM pay_fees f JOIN applications a ON a.id = f.application_id "
		  "WHERE a.number IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

/* CASES_PAGE_QUEUE: each row of an application with a fee gets fee {state, state_name} (due,
 * paid or exempt; an item without a fee, none). */
int pay_queue_rows(struct req *r, const void *subject, json_t *rows)
{
	(void)subject;
	size_t nrows = json_array_size(rows);
	for (size_t from = 0; from < nrows; from += FEES_AT_ONCE) {
		struct db_val args[FEES_AT_ONCE];
		for (size_t k = 0; k < FEES_AT_ONCE; k++) {
			const char *number = from + k < nrows ?
						     json_string_value(json_object_get(json_array_get(rows, from + k), "number")) :
						     NULL;
			args[k] = DB_TEXT(number); /* NULL: SQL NULL */
		}
		struct db_rows fr;
		int rc = db_query(r->db, r->arena, &q_fees_of, args, FEES_AT_ONCE, &fr);
		if (rc)
			return rc;
		for (size_t i = 0; i < fr.nrows; i++) {
			const char *number = db_cell(&fr, i, 0), *state = db_cell(&fr, i, 1);
			if (!strcmp(state, "free"))
				continue;
			for (size_t k = from; k < nrows && k < from + FEES_AT_ONCE; k++) {
				json_t *row = json_array_get(rows, k);
				const char *n = json_string_value(json_object_get(row, "number"));
				if (n && !strcmp(n, number))
					json_object_set_new(row, "fee", json_pack("{s:s,s:s}", "state", state, "state_name",
										 MC(r, "pay_fee_", state)));
			}
		}
	}
	return 0;
}

/* ---- paying --------------------------------------------------------------------------------- */

struct start_job {
	struct arena *a;
	int64_t application_id;
	bool ready; /* the gateway has the order already */
	struct pay_order o;
	const char *description, *return_url;
	struct pay_gw_payment p;
	int rc;
	char err[512];
};

static void start_work(void *arg)
{
	struct start_job *j = arg;
	j->rc = pay_gw_create(j->a, &j->o, j->description, j->return_url, &j->p, j->err, sizeof(j->err));
}

static int start_answer(struct req *r, struct start_job *j, int rc)
{
	if (rc == GH_EUNAVAILABLE) {
		/* The gateway did not answer: the order stays pending (the duty will ask about it),
		 * and the citizen is asked to try again in a moment. */
		log_warn("pay: order %s could not be sent: %s", j->o.number, j->err);
		if (r->api) {
			resp_header(r, "Retry-After", "30");
			req_error_detail(r, "%s", M(r, "pay_flash_retry"));
			return GH_EUNAVAILABLE;
		}
		return resp_redirect(r, 303, arena_printf(r->arena, "/applications/%s/payment?msg=retry", j->o.application_number));
	}
	if (rc) {
		log_error("pay: order %s: the gateway's answer was refused: %s", j->o.number, j->err);
		return rc == GH_ECONFLICT ? GH_ECONFLICT : GH_EINTERNAL;
	}
	if (r->api)
		return resp_json(r, 200, json_pack("{s:s,s:s,s:I,s:s,s:I,s:s}", "order", j->o.number, "pay_url", j->o.pay_url,
						   "amount_fen", (json_int_t)j->o.amount, "state", j->o.state, "expires_at",
						   (json_int_t)j->o.expires_at, "qr_text", j->o.pay_url));
	/* Back to the payment page, which shows the gateway's payer page as a link and a QR code:
	 * a form may not lead to another site (the pages' policy is form-action 'self'). */
	return resp_redirect(r, 303, arena_printf(r->arena, "/applications/%s/payment", j->o.application_number));
}

/* On the writer: the gateway's payment recorded with its order. */
static int start_record(struct req *w, void *arg)
{
	struct start_job *j = arg;
	return pay_order_created(w->db, w->arena, &j->o, &j->p);
}

static int start_recorded(struct req *r, void *arg, int rc)
{
	struct start_job *j = arg;
	if (!rc && strcmp(j->p.state, "success") == 0)
		pay_duty_nudge(); /* paid already (a repeated call): the query answer settles it */
	return start_answer(r, j, rc);
}

/* The gateway answered (job pool). */
static int start_done(struct req *r, void *arg)
{
	struct start_job *j = arg;
	int rc = j->rc;
	if (!rc && !j->p.pay_url)
		rc = GH_EINVAL;
	if (rc)
		return start_answer(r, j, rc);
	return req_write(r, start_record, start_recorded, j);
}

/* On the writer: the application's open order (made now when none is), marked as being sent
 * unless the gateway has it and it is still open. */
static int start_prepare(struct req *w, void *arg)
{
	struct start_job *j = arg;
	j->ready = false;
	int rc = pay_order_for(w->db, w->arena, j->application_id, &j->o);
	if (rc == GH_ECONFLICT)
		req_error_detail(w, "%s", M(w, N_("pay_err_nothing_due")));
	if (rc)
		return rc;
	if (j->o.gateway_id && j->o.pay_url && j->o.expires_at > (int64_t)time(NULL)) {
		j->ready = true;
		return 0;
	}
	return pay_order_sending(w->db, w->arena, &j->o);
}

static int start_prepared(struct req *r, void *arg, int rc)
{
	struct start_job *j = arg;
	if (rc)
		return rc;
	if (j->ready)
		return start_answer(r, j, 0); /* the gateway has it: pay there */
	j->return_url = arena_printf(r->arena, "%s/pay/orders/%s/return", pay_cfg.public_url, j->o.number);
	return req_job(r, start_work, start_done, j);
}

static int start(struct req *r)
{
	if (!pay_cfg.on)
		return GH_ENOTFOUND;
	struct case_brief b;
	int rc = cases_brief(r, req_param(r, "number"), &b);
	if (rc)
		return rc;
	if (!b.applicant) {
		req_error_detail(r, "%s", M(r, N_("pay_err_not_payer")));
		return GH_EFORBIDDEN;
	}
	struct start_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->application_id = b.id;
	j->a = r->arena;
	j->description = arena_printf(r->arena, "%s %s", en(r) ? b.item_name_en : b.item_name_zh, b.number);
	return req_write(r, start_prepare, start_prepared, j);
}

/* Coming back from the gateway, or asking now: the hall asks the gateway (job pool). */
struct check_job {
	struct arena *a;
	struct pay_order o, checked; /* as read; as the gateway's answer left it */
	bool unsent;                 /* never sent: nothing asked */
	int (*answer)(struct req *r, void *arg, int rc);
	struct pay_gw_payment p;
	int rc;
	char err[512];
};

static void check_work(void *arg)
{
	struct check_job *j = arg;
	j->rc = pay_gw_get(j->a, &j->o, &j->p, j->err, sizeof(j->err));
}

/* On the writer: the gateway's answer applied to the order. */
static int check_write(struct req *w, void *arg)
{
	struct check_job *j = arg;
	int rc = db_begin(w->db);
	if (rc)
		return rc;
	struct pay_order o;
	if ((rc = pay_order_get_id(w->db, w->arena, j->o.id, true, &o)) || (rc = pay_apply(w->db, w->arena, &o, &j->p, NULL)) ||
	    (rc = pay_order_checked(w->db, o.id, (int64_t)time(NULL))) || (rc = db_commit(w->db))) {
		db_rollback(w->db);
		return rc;
	}
	j->checked = o;
	return 0;
}

/* The gateway answered (job pool): its answer applied through the writer, then the answer. */
static int check_done(struct req *r, void *arg)
{
	struct check_job *j = arg;
	if (j->rc)
		return j->answer(r, j, j->rc);
	return req_write(r, check_write, j->answer, j);
}

/* Asks the gateway about the caller's order {order} and answers with answer(r, j, rc): j->checked
 * is the order as its answer left it (as it was, with unsent set, when it never went to the
 * gateway: nothing to ask). */
static int check_begin(struct req *r, int (*answer)(struct req *r, void *arg, int rc))
{
	struct case_brief b;
	struct check_job *j = arena_zalloc(r->arena, sizeof(*j));
	int rc = order_visible(r, req_param(r, "order"), &j->o, &b);
	if (rc)
		return rc;
	j->a = r->arena;
	j->answer = answer;
	if (!j->o.sent_at) {
		j->checked = j->o;
		j->unsent = true;
		return answer(r, j, 0);
	}
	return req_job(r, check_work, check_done, j);
}

/* Coming back from the gateway's payer page: to the payment page with what the gateway said. */
static int return_answer(struct req *r, void *arg, int rc)
{
	struct check_job *j = arg;
	if (j->unsent)
		return resp_redirect(r, 303, arena_printf(r->arena, "/applications/%s/payment", j->o.application_number));
	if (!rc) {
		j->o = j->checked;
		pay_duty_nudge();
	}
	if (rc && rc != GH_EUNAVAILABLE && rc != GH_ENOTFOUND)
		log_warn("pay: order %s could not be checked on return: %s", j->o.number, j->err);
	const char *msg = !strcmp(j->o.state, "paid") ? "paid" : !strcmp(j->o.state, "failed") ? "failed"
			  : !strcmp(j->o.state, "expired") ? "expired" : "waiting";
	return resp_redirect(r, 303, arena_printf(r->arena, "/applications/%s/payment?msg=%s", j->o.application_number, msg));
}

static int return_page(struct req *r)
{
	return check_begin(r, return_answer);
}

static int check_answer_api(struct req *r, void *arg, int rc)
{
	struct check_job *j = arg;
	if (rc == GH_EUNAVAILABLE) {
		resp_header(r, "Retry-After", "30");
		req_error_detail(r, "%s", M(r, "pay_flash_retry"));
	}
	if (rc)
		return rc;
	if (!j->unsent)
		pay_duty_nudge();
	return resp_json(r, 200, order_json(r, &j->checked));
}

static int api_check(struct req *r)
{
	return check_begin(r, check_answer_api);
}

/* ---- receipts ------------------------------------------------------------------------------ */

static int receipt_visible(struct req *r, const char *number, struct pay_receipt *rc)
{
	int e = pay_receipt_get(r->db, r->arena, number, rc);
	struct pay_order o;
	struct case_brief b;
	if (!e)
		e = pay_order_get_id(r->db, r->arena, rc->order_id, false, &o);
	if (!e)
		e = cases_brief(r, o.application_number, &b);
	if (e == GH_ENOTFOUND)
		req_error_detail(r, "%s", M(r, N_("pay_err_no_receipt")));
	return e;
}

/* The receipt r's path names, if the caller may see it, once the log has signed a checkpoint
 * that proves its leaf (signing is a write: ledger_signed_rerun runs handler again after it):
 * 0 and *rc, REQ_DEFERRED, or a GH_E code. */
static int receipt_ready(struct req *r, int (*handler)(struct req *r), struct pay_receipt *rc)
{
	return ledger_leaf_signed(r, receipt_visible(r, req_param(r, "number"), rc), &rc->leaf_index, handler);
}

static int receipt_json_download(struct req *r)
{
	struct pay_receipt rc;
	int e = receipt_ready(r, receipt_json_download, &rc);
	if (e)
		return e;
	json_t *doc = pay_receipt_document(r->db, r->arena, &rc);
	if (r->api)
		return resp_json(r, 200, doc);
	return certs_json_download(r, doc, arena_printf(r->arena, "receipt-%s.json", rc.number));
}

/* certs_pdf_download's renderer (receipts are drawn in their own words). */
static int receipt_render(const char *doc, const struct view *v, unsigned char **pdf, size_t *len)
{
	(void)v;
	return pay_receipt_pdf(doc, pdf, len);
}

static int receipt_pdf(struct req *r)
{
	struct pay_receipt rc;
	int e = receipt_ready(r, receipt_pdf, &rc);
	if (e)
		return e;
	return certs_pdf_download(r, pay_receipt_document(r->db, r->arena, &rc), receipt_render,
				  arena_printf(r->arena, "receipt-%s.pdf", rc.number));
}

static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* The verdict on the receipt the link names; handler runs again once the log has signed a
 * checkpoint that proves its leaf (ledger_signed_rerun), before the rate limit counts it. */
static int verify_link(struct req *r, int (*handler)(struct req *r), json_t **res)
{
	struct pay_receipt known;
	if (pay_receipt_get(r->db, r->arena, req_param(r, "number"), &known) == 0 && known.leaf_index >= 0) {
		int e = ledger_signed_rerun(r, known.leaf_index + 1, handler);
		if (e)
			return e;
	}
	int rc = identity_rate_limit(r, arena_printf(r->arena, "payverify:ip:%s", r->ip), VERIFY_PER_HOUR, 3600);
	if (rc)
		return rc;
	const char *h = req_query(r, "h");
	if (!hex64(h)) {
		req_error_detail(r, "%s", M(r, N_("pay_verify_no_hash")));
		return GH_EVALIDATION;
	}
	*res = aj(r, pay_receipt_verdict_link(r, req_param(r, "number"), h));
	return 0;
}

static int verify_page(struct req *r)
{
	json_t *res = NULL;
	int rc = verify_link(r, verify_page, &res);
	if (rc == REQ_DEFERRED)
		return rc;
	json_t *ctx = page_ctx(r, "pay_verify_title");
	json_object_set_new(ctx, "nav_verify", json_true());
	if (rc == GH_EVALIDATION) {
		json_object_set_new(ctx, "error", json_string(r->error_detail));
		return resp_page(r, 422, "pay/verify", ctx);
	}
	if (rc) {
		json_decref(ctx);
		return rc;
	}
	json_t *v = json_deep_copy(res);
	const char *st = json_string_value(json_object_get(res, "status"));
	json_object_set_new(v, "status_text", json_string(MC(r, "pay_verify_status_", st)));
	json_object_set_new(v, "is_valid", json_boolean(!strcmp(st, "valid")));
	json_object_set_new(v, "is_unknown", json_boolean(!strcmp(st, "unknown")));
	json_object_set_new(v, "is_document", json_true());
	json_object_set_new(ctx, "result", v);
	resp_header(r, "Referrer-Policy", "no-referrer");
	return resp_page(r, 200, "pay/verify", ctx);
}

static int api_verify(struct req *r)
{
	json_t *res = NULL;
	int rc = verify_link(r, api_verify, &res);
	if (rc)
		return rc;
	return resp_json(r, 200, json_incref(res));
}

/* ---- staff ----------------------------------------------------------------------------------- */

DB_SQL(q_dept_orders, "SELECT o.number FROM pay_orders o WHERE (? = '' OR o.department = ?) AND (? = '' OR o.state = ?) "
		      "ORDER BY o.id DESC LIMIT 200");

static const char *const order_states[] = { "created", "pending", "paid", "failed", "expired", "cancelled",
					    "held", "partly_refunded", "refunded" };

static int staff_orders(struct req *r, json_t **out, const char **filter)
{
	const char *state = req_query(r, "state");
	bool known = !state || !*state;
	for (size_t i = 0; state && i < ARRAY_LEN(order_states); i++)
		known |= !strcmp(state, order_states[i]);
	if (!known) {
		req_error_detail(r, "%s", M(r, N_("pay_err_state")));
		return GH_EINVAL;
	}
	*filter = state && *state ? state : "";
	const char *dept = r->role == ROLE_ADMIN ? (req_query(r, "department") ? req_query(r, "department") : "")
						 : r->who.department;
	if (!dept)
		return GH_EFORBIDDEN;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_dept_orders,
			  DB_ARGS(DB_TEXT(dept), DB_TEXT(dept), DB_TEXT(*filter), DB_TEXT(*filter)), &rows);
	if (rc)
		return rc;
	json_t *list = aj(r, json_array());
	for (size_t i = 0; i < rows.nrows; i++) {
		struct pay_order o;
		if ((rc = pay_order_get(r->db, r->arena, db_cell(&rows, i, 0), &o)))
			return rc;
		json_t *j = order_json(r, &o);
		json_object_set_new(j, "item", json_string(o.item_code));
		json_object_set_new(j, "department", json_string(o.department));
		json_object_set_new(j, "may_decide", json_boolean(may_decide(r, &o)));
		json_array_append_new(list, j);
	}
	*out = list;
	return 0;
}

static int staff_page(struct req *r)
{
	json_t *list;
	const char *filter;
	int rc = staff_orders(r, &list, &filter);
	if (rc)
		return rc;
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
	{
		const char *st = json_string_value(json_object_get(o, "state"));
		int64_t paid = json_integer_value(json_object_get(o, "paid_fen")),
			reserved = json_integer_value(json_object_get(o, "refund_reserved_fen"));
		json_object_set_new(o, "amount", json_string(yuan(r, json_integer_value(json_object_get(o, "amount_fen")))));
		json_object_set_new(o, "paid", json_string(yuan(r, paid)));
		json_object_set_new(o, "refunded", json_string(yuan(r, json_integer_value(json_object_get(o, "refunded_fen")))));
		json_object_set_new(o, "refundable", json_string(yuan(r, paid - reserved)));
		json_object_set_new(o, "is_held", json_boolean(!strcmp(st, "held")));
		bool can_refund = json_is_true(json_object_get(o, "may_decide")) && paid > reserved &&
				  (!strcmp(st, "paid") || !strcmp(st, "partly_refunded"));
		json_object_set_new(o, "can_refund", json_boolean(can_refund));
		json_object_set_new(o, "is_paid", json_boolean(paid > 0));
	}
	json_t *ctx = page_ctx(r, "pay_staff_title");
	json_object_set_new(ctx, "nav_payments", json_true());
	json_object_set(ctx, "orders", list);
	json_object_set_new(ctx, "has_orders", json_boolean(json_array_size(list) > 0));
	json_t *states = json_array();
	for (size_t k = 0; k < ARRAY_LEN(order_states); k++)
		json_array_append_new(states, json_pack("{s:s,s:s,s:b}", "value", order_states[k], "name",
							state_name(r, order_states[k]), "selected", !strcmp(filter, order_states[k])));
	json_object_set_new(ctx, "states", states);
	const char *err = req_query(r, "error");
	if (err && (!strcmp(err, "amount") || !strcmp(err, "exceeds") || !strcmp(err, "reason")))
		json_object_set_new(ctx, "error", json_string(MC(r, "pay_err_refund_", err)));
	return resp_page(r, 200, "pay/staff", ctx);
}

static int api_staff_orders(struct req *r)
{
	json_t *list;
	const char *filter;
	int rc = staff_orders(r, &list, &filter);
	if (rc)
		return rc;
	return resp_json(r, 200, json_pack("{s:O,s:I}", "items", list, "total", (json_int_t)json_array_size(list)));
}

/* "12", "12.5", "12.50" yuan into fen; false for anything else. */
static bool parse_yuan(const char *s, int64_t *fen)
{
	if (!s)
		return false;
	int64_t y = 0;
	int digits = 0;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (digits >= 10)
			return false;
		y = y * 10 + (*s - '0');
	}
	if (!digits)
		return false;
	int64_t f = 0;
	if (*s == '.') {
		s++;
		int d = 0;
		for (; *s >= '0' && *s <= '9'; s++, d++) {
			if (d >= 2)
				return false;
			f = f * 10 + (*s - '0');
		}
		if (!d)
			return false;
		if (d == 1)
			f *= 10;
	}
	if (*s)
		return false;
	*fen = y * 100 + f;
	return true;
}

struct refund_job {
	struct arena *a;
	struct pay_order o;
	int64_t amount;
	const char *reason;
	const char *gateway_id;
	struct pay_refund f;
	struct pay_gw_refund g;
	const char *code;
	int rc;
	char err[512];
	const char *back; /* the page to go back to; NULL for the API */
};

static void refund_work(void *arg)
{
	struct refund_job *j = arg;
	j->rc = pay_gw_refund(j->a, j->gateway_id, &j->f, &j->g, &j->code, j->err, sizeof(j->err));
}

/* On the writer: the gateway's answer to the refund recorded. */
static int refund_record(struct req *w, void *arg)
{
	struct refund_job *j = arg;
	return pay_refund_settle(w->db, w->arena, &j->f, &j->g);
}

static int refund_recorded(struct req *r, void *arg, int rc)
{
	struct refund_job *j = arg;
	if (rc)
		return rc;
	pay_duty_nudge();
	if (j->back)
		return resp_redirect(r, 303, j->back);
	return resp_json(r, j->rc ? 202 : 201, refund_json(r, &j->f));
}

/* The gateway answered (job pool). */
static int refund_done(struct req *r, void *arg)
{
	struct refund_job *j = arg;
	if (j->rc == GH_ECONFLICT)
		j->g = (struct pay_gw_refund){ .refund_id = j->f.number, .state = "failed", .amount = j->f.amount };
	if (!j->rc || j->rc == GH_ECONFLICT)
		return req_write(r, refund_record, refund_recorded, j);
	log_info("pay: refund %s not sent yet (%s): the duty sends it again", j->f.number, j->err);
	return refund_recorded(r, j, 0);
}

/* On the writer: the refund reserved (never more than is left to refund, whatever else runs)
 * and the security event written. */
static int refund_reserve(struct req *w, void *arg)
{
	struct refund_job *j = arg;
	int rc = pay_refund_reserve(w->db, w->arena, &j->o, j->amount, j->reason, w->who.account, false, &j->f);
	if (rc == GH_EINVAL) {
		req_error_detail(w, "%s", M(w, "pay_err_refund_amount"));
		return GH_EVALIDATION;
	}
	if (rc == GH_ECONFLICT) {
		req_error_detail(w, "%s", M(w, "pay_err_refund_exceeds"));
		return GH_ECONFLICT;
	}
	if (rc)
		return rc;
	identity_event(w->db, "pay_refund", j->o.payer_id, w->who.account, w->ip,
		       arena_printf(w->arena, "{\"order\":\"%s\",\"refund\":\"%s\",\"amount\":%" PRId64 "}", j->o.number,
				    j->f.number, j->amount));
	return 0;
}

static int refund_reserved(struct req *r, void *arg, int rc)
{
	struct refund_job *j = arg;
	if (rc == GH_ECONFLICT && j->back && r->error_detail && !strcmp(r->error_detail, M(r, "pay_err_refund_exceeds")))
		return resp_redirect(r, 303, "/staff/payments?error=exceeds");
	if (rc)
		return rc;
	return req_job(r, refund_work, refund_done, j);
}

/* Refunds amount of order number with reason, for the caller (a head of its department or an
 * administrator): reserved at once through the writer, then sent to the gateway on the job
 * pool, and its answer recorded through the writer. */
static int refund(struct req *r, const char *number, int64_t amount, const char *reason, const char *back)
{
	struct refund_job *j = arena_zalloc(r->arena, sizeof(*j));
	struct case_brief b;
	int rc = order_visible(r, number, &j->o, &b);
	if (rc)
		return rc;
	if (!may_decide(r, &j->o)) {
		req_error_detail(r, "%s", M(r, N_("pay_err_not_head")));
		return GH_EFORBIDDEN;
	}
	if (strcmp(j->o.state, "paid") != 0 && strcmp(j->o.state, "partly_refunded") != 0) {
		req_error_detail(r, "%s", M(r, N_("pay_err_not_refundable")));
		return GH_ECONFLICT;
	}
	size_t rl = reason ? strlen(reason) : 0;
	if (!rl || rl > REASON_MAX * 4 || str_utf8_chars(reason, rl) > REASON_MAX) {
		req_error_detail(r, "%s", M(r, "pay_err_refund_reason"));
		return GH_EVALIDATION;
	}
	j->a = r->arena;
	j->amount = amount;
	j->reason = reason;
	j->gateway_id = j->o.gateway_id;
	j->back = back;
	return req_write(r, refund_reserve, refund_reserved, j);
}

static int api_refund(struct req *r)
{
	json_t *in = body_object(r);
	if (!in)
		return GH_EINVAL;
	int64_t amount;
	if (pay_amount_get(json_object_get(in, "amount_fen"), &amount) || amount < 1) {
		req_error_detail(r, "%s", M(r, "pay_err_refund_amount"));
		return GH_EVALIDATION;
	}
	return refund(r, req_param(r, "order"), amount, json_string_value(json_object_get(in, "reason")), NULL);
}

static int refund_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	const char *number = req_param(r, "order");
	int64_t amount;
	const char *back = "/staff/payments";
	if (!parse_yuan(kv_get(&f, "amount"), &amount) || amount < 1)
		return resp_redirect(r, 303, "/staff/payments?error=amount");
	const char *reason = kv_get(&f, "reason");
	if (!reason || !*reason)
		return resp_redirect(r, 303, "/staff/payments?error=reason");
	return refund(r, number, amount, reason, back);
}

struct release_job {
	struct pay_order o;
	bool accept, has_refund;
	struct pay_refund f;
	const char *back;
};

/* On the writer: the decision applied, and its security event. */
static int release_write(struct req *w, void *arg)
{
	struct release_job *j = arg;
	int rc = pay_order_release(w->db, w->arena, &j->o, j->accept, w->who.account, &j->f, &j->has_refund);
	if (rc == GH_ECONFLICT)
		req_error_detail(w, "%s", M(w, j->accept ? N_("pay_err_cannot_accept") : N_("pay_err_not_held")));
	if (rc)
		return rc;
	identity_event(w->db, "pay_release", j->o.payer_id, w->who.account, w->ip,
		       arena_printf(w->arena, "{\"order\":\"%s\",\"decision\":\"%s\"}", j->o.number,
				    j->accept ? "accept" : "return"));
	return 0;
}

static int release_done(struct req *r, void *arg, int rc)
{
	struct release_job *j = arg;
	if (rc)
		return rc;
	pay_duty_nudge(); /* the refund, when there is one, is sent by the duty */
	if (j->back)
		return resp_redirect(r, 303, j->back);
	json_t *o = order_json(r, &j->o);
	json_object_set_new(o, "refund", j->has_refund ? refund_json(r, &j->f) : json_null());
	return resp_json(r, 200, o);
}

/* A held order: accepted (the excess refunded) or returned in full. */
static int release(struct req *r, const char *number, const char *decision, const char *back)
{
	struct release_job *j = arena_zalloc(r->arena, sizeof(*j));
	struct case_brief b;
	int rc = order_visible(r, number, &j->o, &b);
	if (rc)
		return rc;
	if (!may_decide(r, &j->o)) {
		req_error_detail(r, "%s", M(r, N_("pay_err_not_head")));
		return GH_EFORBIDDEN;
	}
	j->accept = decision && !strcmp(decision, "accept");
	if (!j->accept && (!decision || strcmp(decision, "return") != 0)) {
		req_error_detail(r, "%s", M(r, N_("pay_err_decision")));
		return GH_EVALIDATION;
	}
	j->back = back;
	return req_write(r, release_write, release_done, j);
}

static int api_release(struct req *r)
{
	json_t *in = body_object(r);
	if (!in)
		return GH_EINVAL;
	return release(r, req_param(r, "order"), json_string_value(json_object_get(in, "decision")), NULL);
}

static int release_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	return release(r, req_param(r, "order"), kv_get(&f, "decision"), "/staff/payments");
}

/* ---- administrators: reconciliation --------------------------------------------------------- */

DB_SQL(q_runs, "SELECT id, day, ran_at, lines, total, hall_total, differences FROM pay_recon_runs ORDER BY day DESC LIMIT 60");
DB_SQL(q_diffs, "SELECT d.id, r.day, d.kind, d.ref, COALESCE(o.number, ''), d.hall_amount, d.settled_amount, d.state, "
		"d.note, d.resolved_at FROM pay_recon_diffs d JOIN pay_recon_runs r ON r.id = d.run_id "
		"LEFT JOIN pay_orders o ON o.id = d.order_id WHERE (? = 'all' OR d.state = 'open') ORDER BY d.id DESC LIMIT 500");
DB_SQL(q_resolve, "UPDATE pay_recon_diffs SET state = 'resolved', resolved_by = ?, resolved_at = ?, note = ? "
		  "WHERE id = ? AND state = 'open'");

static int report(struct req *r, bool all, json_t **runs, json_t **diffs)
{
	struct db_rows rr, dr;
	int rc = db_query(r->db, r->arena, &q_runs, DB_NOARGS, &rr);
	if (!rc)
		rc = db_query(r->db, r->arena, &q_diffs, DB_ARGS(DB_TEXT(all ? "all" : "open")), &dr);
	if (rc)
		return rc;
	*runs = aj(r, json_array());
	*diffs = aj(r, json_array());
	for (size_t i = 0; i < rr.nrows; i++)
		json_array_append_new(*runs, json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I}", "id", (json_int_t)db_cell_int(&rr, i, 0),
						       "day", db_cell(&rr, i, 1), "ran_at", (json_int_t)db_cell_int(&rr, i, 2),
						       "lines", (json_int_t)db_cell_int(&rr, i, 3), "settled_fen",
						       (json_int_t)db_cell_int(&rr, i, 4), "hall_fen",
						       (json_int_t)db_cell_int(&rr, i, 5), "differences",
						       (json_int_t)db_cell_int(&rr, i, 6)));
	for (size_t i = 0; i < dr.nrows; i++)
		json_array_append_new(*diffs, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "id",
							(json_int_t)db_cell_int(&dr, i, 0), "day", db_cell(&dr, i, 1), "kind",
							db_cell(&dr, i, 2), "kind_name",
							MC(r, "pay_diff_", db_cell(&dr, i, 2)), "ref",
							db_cell(&dr, i, 3), "order", db_cell(&dr, i, 4), "hall_fen",
							(json_int_t)db_cell_int(&dr, i, 5), "settled_fen",
							(json_int_t)db_cell_int(&dr, i, 6), "state", db_cell(&dr, i, 7), "note",
							db_cell(&dr, i, 8)));
	return 0;
}

static int admin_page(struct req *r)
{
	json_t *runs, *diffs;
	bool all = req_query(r, "all") != NULL;
	int rc = report(r, all, &runs, &diffs);
	if (rc)
		return rc;
	size_t i;
	json_t *o;
	json_array_foreach(runs, i, o)
	{
		json_object_set_new(o, "settled", json_string(yuan(r, json_integer_value(json_object_get(o, "settled_fen")))));
		json_object_set_new(o, "hall", json_string(yuan(r, json_integer_value(json_object_get(o, "hall_fen")))));
		json_object_set_new(o, "ran", json_string(when(r, json_integer_value(json_object_get(o, "ran_at")))));
	}
	json_array_foreach(diffs, i, o)
	{
		json_object_set_new(o, "hall", json_string(yuan(r, json_integer_value(json_object_get(o, "hall_fen")))));
		json_object_set_new(o, "settled", json_string(yuan(r, json_integer_value(json_object_get(o, "settled_fen")))));
		json_object_set_new(o, "is_open", json_boolean(!strcmp(json_string_value(json_object_get(o, "state")), "open")));
	}
	json_t *ctx = page_ctx(r, "pay_admin_title");
	json_object_set_new(ctx, "nav_payments", json_true());
	json_object_set(ctx, "runs", runs);
	json_object_set(ctx, "diffs", diffs);
	json_object_set_new(ctx, "has_runs", json_boolean(json_array_size(runs) > 0));
	json_object_set_new(ctx, "has_diffs", json_boolean(json_array_size(diffs) > 0));
	json_object_set_new(ctx, "all", json_boolean(all));
	return resp_page(r, 200, "pay/admin", ctx);
}

static int api_report(struct req *r)
{
	json_t *runs, *diffs;
	int rc = report(r, req_query(r, "all") != NULL, &runs, &diffs);
	if (rc)
		return rc;
	return resp_json(r, 200, json_pack("{s:O,s:O}", "runs", runs, "differences", diffs));
}

struct resolve_job {
	int64_t id;
	const char *note;
	bool page; /* answer with the administrators' page, else JSON */
};

/* On the writer: the difference resolved with its note. */
static int resolve_write(struct req *w, void *arg)
{
	struct resolve_job *j = arg;
	bool own;
	int64_t changed = 0;
	int rc = cover_tx_begin(w->db, &own);
	if (!rc)
		rc = db_exec(w->db, &q_resolve,
			     DB_ARGS(DB_INT(w->who.account), DB_INT((int64_t)time(NULL)), DB_TEXT(j->note), DB_INT(j->id)), &changed);
	if (!rc && !changed) {
		req_error_detail(w, "%s", M(w, N_("pay_err_resolved")));
		rc = GH_ECONFLICT;
	}
	return cover_tx_end_id(w->db, own, rc, "pay_recon_diffs", j->id, "pay.recon_resolve");
}

static int resolve_done(struct req *r, void *arg, int rc)
{
	struct resolve_job *j = arg;
	if (rc)
		return rc;
	if (j->page)
		return resp_redirect(r, 303, "/admin/payments");
	return resp_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)j->id, "state", "resolved"));
}

static int resolve(struct req *r, const char *note, bool page)
{
	long id;
	if (str_to_long(str_c(req_param(r, "id")), 1, LONG_MAX, &id))
		return GH_ENOTFOUND;
	size_t nl = note ? strlen(note) : 0;
	if (!nl || str_utf8_chars(note, nl) > 500) {
		req_error_detail(r, "%s", M(r, N_("pay_err_note")));
		return GH_EVALIDATION;
	}
	struct resolve_job *j = arena_zalloc(r->arena, sizeof(*j));
	*j = (struct resolve_job){ .id = id, .note = note, .page = page };
	return req_write(r, resolve_write, resolve_done, j);
}

static int api_resolve(struct req *r)
{
	json_t *in = body_object(r);
	if (!in)
		return GH_EINVAL;
	return resolve(r, json_string_value(json_object_get(in, "note")), false);
}

static int resolve_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	return resolve(r, kv_get(&f, "note"), true);
}

/* The report as a table (every difference of the last runs), for CSV and XLSX. */
static int export(struct req *r, bool csv)
{
	json_t *runs, *diffs;
	int rc = report(r, true, &runs, &diffs);
	if (rc)
		return rc;
	static const char *const keys[] = { "pay_col_day", "pay_col_kind", "pay_col_ref", "pay_col_order", "pay_col_hall",
					    "pay_col_settled", "pay_col_state", "pay_col_note" };
	struct stats_table t = { .name = "reconciliation", .ncols = ARRAY_LEN(keys), .nrows = json_array_size(diffs) };
	t.head = arena_array(r->arena, t.ncols, sizeof(char *));
	t.numeric = arena_array(r->arena, t.ncols, sizeof(bool));
	t.cells = arena_array(r->arena, (t.nrows ? t.nrows : 1) * t.ncols, sizeof(char *));
	for (size_t c = 0; c < t.ncols; c++)
		t.head[c] = M(r, keys[c]);
	t.numeric[4] = t.numeric[5] = true;
	size_t i;
	json_t *o;
	json_array_foreach(diffs, i, o)
	{
		const char **row = &t.cells[i * t.ncols];
		row[0] = json_string_value(json_object_get(o, "day"));
		row[1] = json_string_value(json_object_get(o, "kind_name"));
		row[2] = json_string_value(json_object_get(o, "ref"));
		row[3] = json_string_value(json_object_get(o, "order"));
		row[4] = yuan(r, json_integer_value(json_object_get(o, "hall_fen")));
		row[5] = yuan(r, json_integer_value(json_object_get(o, "settled_fen")));
		row[6] = MC(r, "pay_diff_state_", json_string_value(json_object_get(o, "state")));
		row[7] = json_string_value(json_object_get(o, "note"));
	}
	resp_header(r, "Cache-Control", "private, no-store");
	if (csv) {
		struct sb out = SB_INIT;
		sb_set_cap(&out, 8 << 20);
		if ((rc = stats_csv(&t, &out))) {
			sb_release(&out);
			return rc;
		}
		resp_header(r, "Content-Disposition", "attachment; filename=\"reconciliation.csv\"");
		char *s = arena_strndup(r->arena, out.buf, out.len);
		size_t n = out.len;
		sb_release(&out);
		return resp_body(r, 200, "text/csv; charset=utf-8", s, n);
	}
	char *data;
	size_t len;
	if ((rc = stats_xlsx(r->arena, &t, 8 << 20, &data, &len)))
		return rc;
	resp_header(r, "Content-Disposition", "attachment; filename=\"reconciliation.xlsx\"");
	return resp_body(r, 200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data, len);
}

static int export_csv(struct req *r)
{
	return export(r, true);
}

static int export_xlsx(struct req *r)
{
	return export(r, false);
}

/* ---- routes ----------------------------------------------------------------------------------- */

const struct route pay_routes[] = {
	{ HTTP_GET, "/applications/{number}/payment", payment_page, ROLE_USER, 0, "pay.page" },
	{ HTTP_POST, "/applications/{number}/pay", start, APPLICANTS, ROUTE_CSRF, "pay.start" },
	{ HTTP_GET, "/pay/orders/{order}/return", return_page, ROLE_USER, 0, "pay.return" },
	{ HTTP_GET, "/pay/receipts/{number}/pdf", receipt_pdf, ROLE_USER, 0, "pay.receipt_pdf" },
	{ HTTP_GET, "/pay/receipts/{number}/json", receipt_json_download, ROLE_USER, 0, "pay.receipt_json" },
	{ HTTP_GET, "/verify/receipts/{number}", verify_page, ROLE_PUBLIC, 0, "pay.verify" },
	{ HTTP_GET, "/staff/payments", staff_page, ROLE_STAFF | ROLE_ADMIN, 0, "pay.staff" },
	{ HTTP_POST, "/staff/payments/{order}/refund", refund_post, ROLE_STAFF | ROLE_ADMIN, ROUTE_CSRF, "pay.refund" },
	{ HTTP_POST, "/staff/payments/{order}/release", release_post, ROLE_STAFF | ROLE_ADMIN, ROUTE_CSRF, "pay.release" },
	{ HTTP_GET, "/admin/payments", admin_page, ROLE_ADMIN, 0, "pay.admin" },
	{ HTTP_POST, "/admin/payments/differences/{id}/resolve", resolve_post, ROLE_ADMIN, ROUTE_CSRF, "pay.resolve" },
	{ HTTP_GET, "/admin/payments/reconciliation.csv", export_csv, ROLE_ADMIN, 0, "pay.export_csv" },
	{ HTTP_GET, "/admin/payments/reconciliation.xlsx", export_xlsx, ROLE_ADMIN, 0, "pay.export_xlsx" },
	{ HTTP_POST, "/api/v1/pay/notify", pay_notify_handler, ROLE_PUBLIC, ROUTE_NOAUTH, "pay.api_notify" },
	{ HTTP_GET, "/api/v1/applications/{number}/payment", api_payment, ROLE_USER, 0, "pay.api_payment", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/applications/{number}/payment", start, APPLICANTS, 0, "pay.api_start", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/pay/orders/{order}/check", api_check, ROLE_USER, 0, "pay.api_check", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/pay/receipts/{number}", receipt_json_download, ROLE_USER, 0, "pay.api_receipt", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/pay/receipts/{number}/pdf", receipt_pdf, ROLE_USER, 0, "pay.api_receipt_pdf", NULL, SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/verify/receipts/{number}", api_verify, ROLE_PUBLIC, 0, "pay.api_verify" },
	{ HTTP_GET, "/api/v1/staff/payments", api_staff_orders, ROLE_STAFF | ROLE_ADMIN, 0, "pay.api_staff", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/staff/payments/{order}/refunds", api_refund, ROLE_STAFF | ROLE_ADMIN, 0, "pay.api_refund", NULL,
	  SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/staff/payments/{order}/release", api_release, ROLE_STAFF | ROLE_ADMIN, 0, "pay.api_release", NULL,
	  SCOPE_APPLY },
	{ HTTP_GET, "/api/v1/admin/payments/reconciliation", api_report, ROLE_ADMIN, 0, "pay.api_report", NULL, SCOPE_ADMIN },
	{ HTTP_POST, "/api/v1/admin/payments/differences/{id}/resolve", api_resolve, ROLE_ADMIN, 0, "pay.api_resolve", NULL,
	  SCOPE_ADMIN },
};
const size_t pay_routes_n = ARRAY_LEN(pay_routes);
