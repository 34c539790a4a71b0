/* notice.c: POST /api/v1/pay/notify — the gateway's asynchronous notifications.
 *
 * The hall believes a notification only when its signature (HMAC-SHA256 or Ed25519 over the
 * timestamp and the exact body, docs/payments.md) is valid and fresh: otherwise 400, a warning
 * in the log and a security event, and nothing changes. A valid one is recorded once by its
 * event id (a repeat is answered 200 and changes nothing), then applied to its order by
 * pay_apply() in the same transaction, which ignores what is older than what the order knows
 * (notifications out of order). A payment the hall never ordered is 404: logged, nothing made.
 * The answer is 200 once the change is committed, so the gateway stops retrying only then. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "http/server.h"
#include "http/msg.h"
#include "http/write.h"
#include "identity/identity.h"
#include "pay/pay_impl.h"
#include "store/db.h"
#include "view/view.h"

DB_SQL(q_notice, "INSERT INTO pay_notices (event_id, order_id, type, seq, outcome, received_at) VALUES (?, ?, ?, ?, ?, ?) "
		 "ON CONFLICT (event_id) DO NOTHING");

void pay_duty_nudge(void);

static int answer(struct req *r, int status, const char *result)
{
	return resp_json(r, status, json_pack("{s:s}", "result", result));
}

/* The security event of a refused notification: written along with the answer. */
struct refused {
	char ip[64], why[64];
};

static int refused_write(struct db *db, void *arg)
{
	const struct refused *f = arg;
	identity_event(db, "pay_notice_refused", 0, 0, f->ip, f->why);
	return 0;
}

static int refuse(struct req *r, const char *why, const char *detail_key)
{
	log_warn("pay: a notification from %s was refused: %s", r->ip, why);
	struct refused f;
	snprintf(f.ip, sizeof(f.ip), "%s", r->ip ? r->ip : "");
	snprintf(f.why, sizeof(f.why), "{\"why\":\"%.40s\"}", why);
	if (r->app->group)
		req_write_also(r, refused_write, &f, sizeof(f));
	else
		refused_write(r->db, &f);
	req_error_detail(r, "%s", M(r, detail_key));
	return GH_EINVAL;
}

struct notice_job {
	struct pay_notice n;
	bool duplicate;
	enum pay_outcome outcome;
};

/* On the writer: the notification recorded once by its event id and applied to its order. */
static int notice_write(struct req *w, void *arg)
{
	struct notice_job *j = arg;
	const struct pay_notice *n = &j->n;
	j->duplicate = false;
	j->outcome = PAY_UNCHANGED;
	int rc = db_begin(w->db);
	if (rc)
		return rc;
	struct pay_order o;
	if ((rc = pay_order_find(w->db, w->arena, n->payment.payment_id, n->payment.reference, true, &o))) {
		db_rollback(w->db);
		if (rc != GH_ENOTFOUND)
			return rc;
		log_warn("pay: a signed notification %s names a payment %s (reference %s) the hall never ordered", n->event_id,
			 n->payment.payment_id, n->payment.reference);
		req_error_detail(w, "%s", M(w, "pay_err_notice_unknown"));
		return GH_ENOTFOUND;
	}
	int64_t changed = 0;
	if ((rc = db_exec(w->db, &q_notice,
			  DB_ARGS(DB_TEXT(n->event_id), DB_INT(o.id), DB_TEXT(n->type), DB_INT(n->seq), DB_TEXT("received"),
				  DB_INT((int64_t)time(NULL))),
			  &changed)))
		goto out;
	if (!changed) {
		db_rollback(w->db);
		log_info("pay: notification %s for order %s again: processed once already", n->event_id, o.number);
		j->duplicate = true;
		return 0;
	}
	struct pay_refund *refunds = NULL;
	size_t nrefunds = 0;
	if (n->has_refund) {
		/* A refund the hall asked for: settled when the answer to the call was lost. */
		if ((rc = pay_refunds_of(w->db, w->arena, o.id, &refunds, &nrefunds)))
			goto out;
	} else if ((rc = pay_apply(w->db, w->arena, &o, &n->payment, &j->outcome))) {
		goto out;
	}
	if ((rc = db_commit(w->db)))
		goto out;
	for (size_t i = 0; i < nrefunds; i++)
		if (refunds[i].gateway_id && !strcmp(refunds[i].gateway_id, n->refund.refund_id) &&
		    (rc = pay_refund_settle(w->db, w->arena, &refunds[i], &n->refund)))
			return rc;
	if (j->outcome == PAY_STALE)
		log_info("pay: notification %s (%s, seq %lld) for order %s is older than what the order knows: ignored",
			 n->event_id, n->type, (long long)n->seq, o.number);
	return 0;
out:
	db_rollback(w->db);
	return rc;
}

static int notice_done(struct req *r, void *arg, int rc)
{
	struct notice_job *j = arg;
	if (rc)
		return rc;
	if (j->duplicate)
		return answer(r, 200, "duplicate");
	pay_duty_nudge(); /* a refund the hall owes is sent by the duty */
	return answer(r, 200, j->outcome == PAY_STALE ? "stale" : j->outcome == PAY_APPLIED ? "applied" : "unchanged");
}

int pay_notify_handler(struct req *r);
int pay_notify_handler(struct req *r)
{
	if (!pay_cfg.on)
		return GH_ENOTFOUND;
	size_t len;
	const char *body = req_body(r, &len);
	if (!body || len > PAY_NOTICE_MAX)
		return refuse(r, "body", N_("pay_err_notice_body"));
	enum pay_sig_verdict v = pay_sig_check(&pay_cfg.keys, req_header(r, PAY_SIG_HEADER), body, len, (int64_t)time(NULL),
					       pay_cfg.tolerance);
	if (v != PAY_SIG_OK)
		return refuse(r, pay_sig_verdict_name(v), v == PAY_SIG_STALE ? N_("pay_err_notice_stale") : N_("pay_err_notice_signature"));
	struct notice_job *j = arena_zalloc(r->arena, sizeof(*j));
	const char *why;
	if (pay_notice_parse(r->arena, body, len, &j->n, &why))
		return refuse(r, why, N_("pay_err_notice_body"));
	return req_write(r, notice_write, notice_done, j);
}
