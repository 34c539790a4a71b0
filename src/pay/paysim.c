/* paysim.c: `govhall paysim` — a payment gateway simulator that runs as its own process and
 * speaks the protocol of docs/payments.md, close to what China's unified public payment
 * platforms (统一公共支付平台) and GOV.UK Pay offer a government service: payments created
 * with an idempotency key and an expiry, a payer page with a QR code, asynchronous
 * notifications signed with HMAC-SHA256 or Ed25519 and retried on a back-off schedule for
 * hours, queries, partial refunds (never more than was paid, safe when concurrent), cancel,
 * and a signed daily settlement file. Its faults can be switched on (docs/payments.md,
 * "Simulator faults") so that the hall's handling of each is testable; and because it is a
 * process of its own, "the gateway is down" is real: stop it.
 *
 * It serves with the hall's HTTP layer (http/server.h) and keeps its state in a SQLite file of
 * its own (--state, never the hall's database), so a restarted simulator knows its payments.
 * Notifications go out from a thread of their own (base/duty.h), one at a time in order, so an
 * out-of-order fault is seen as such. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <qrencode.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/calendar.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/jobs.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "base/jsonout.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "http/client.h"
#include "identity/crypto.h"
#include "pay/pay.h"
#include "pay/pay_impl.h"
#include "pay/proto.h"
#include "store/db.h"
#include "view/view.h"

#define SIM_SCHEDULE_MAX 32
#define SIM_BATCH 20
#define SIM_NOTIFY_TIMEOUT_MS 5000
#define SIM_STALE_S 3600 /* how old a stale signature is */

/* WeChat Pay's schedule for unacknowledged notifications: about 24 hours in all. */
static const char default_schedule[] = "15,15,30,180,600,1200,1800,1800,1800,3600,10800,10800,10800,21600,21600";

static struct {
	const char *api_key, *secret, *base_url, *state;
	struct pay_signer signer, wrong;
	double schedule[SIM_SCHEDULE_MAX];
	size_t nschedule;
	struct duty *deliver, *expire;
	struct db *deliver_db, *expire_db;
	struct view *view;
} S;

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS sim_payments (\n"
	"  id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, idem_key TEXT NOT NULL UNIQUE,\n"
	"  request_hash TEXT NOT NULL, amount INTEGER NOT NULL, description TEXT NOT NULL,\n"
	"  return_url TEXT NOT NULL, notify_url TEXT NOT NULL, state TEXT NOT NULL,\n"
	"  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, paid_amount INTEGER NOT NULL DEFAULT 0,\n"
	"  paid_at INTEGER, refunded INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL DEFAULT 0);\n"
	"CREATE TABLE IF NOT EXISTS sim_refunds (\n"
	"  id TEXT PRIMARY KEY, payment_id TEXT NOT NULL, idem_key TEXT NOT NULL, request_hash TEXT NOT NULL,\n"
	"  amount INTEGER NOT NULL, reason TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,\n"
	"  UNIQUE (payment_id, idem_key));\n"
	"CREATE TABLE IF NOT EXISTS sim_events (\n"
	"  id TEXT PRIMARY KEY, payment_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,\n"
	"  body TEXT NOT NULL, notify_url TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,\n"
	"  next_at REAL NOT NULL, prio INTEGER NOT NULL DEFAULT 0, held INTEGER NOT NULL DEFAULT 0,\n"
	"  delivered_at INTEGER, gave_up INTEGER NOT NULL DEFAULT 0, last_status INTEGER NOT NULL DEFAULT 0);\n"
	"CREATE INDEX IF NOT EXISTS sim_events_due ON sim_events(delivered_at, gave_up, held, next_at);\n"
	"CREATE TABLE IF NOT EXISTS sim_faults (name TEXT PRIMARY KEY);\n";

static const char *const fault_names[] = { "bad_signature", "stale_signature", "duplicate", "reverse" };

static double now_f(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *random_id(struct arena *a, const char *prefix)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char b[16];
	randombytes_buf(b, sizeof(b));
	char s[17];
	for (size_t i = 0; i < 16; i++)
		s[i] = alphabet[b[i] & 31];
	s[16] = 0;
	return arena_printf(a, "%s%s", prefix, s);
}

/* ---- answers ---------------------------------------------------------------------------- */

static int fail(struct req *r, int status, const char *code, const char *message)
{
	return resp_json(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

static json_t *body_json(struct req *r)
{
	size_t len;
	const char *b = req_body(r, &len);
	json_t *j = b && len ? json_loadb(b, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (j)
		arena_cleanup(r->arena, (void (*)(void *))json_decref, j);
	return json_is_object(j) ? j : NULL;
}

static bool url_ok(const char *s)
{
	return s && strlen(s) <= 2000 && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8));
}

/* ---- payments --------------------------------------------------------------------------- */

#define PAY_COLS "id, reference, amount, state, created_at, expires_at, paid_amount, paid_at, refunded, seq, " \
		 "description, return_url, notify_url, request_hash"

struct sim_payment {
	const char *id, *reference, *state, *description, *return_url, *notify_url, *request_hash;
	int64_t amount, created_at, expires_at, paid_amount, paid_at, refunded, seq;
};

DB_SQL(q_pay_by_id, "SELECT " PAY_COLS " FROM sim_payments WHERE id = ?");
DB_SQL(q_pay_by_ref, "SELECT " PAY_COLS " FROM sim_payments WHERE reference = ?");
DB_SQL(q_pay_by_key, "SELECT " PAY_COLS " FROM sim_payments WHERE idem_key = ?");
DB_SQL(q_pay_insert, "INSERT INTO sim_payments (id, reference, idem_key, request_hash, amount, description, return_url, "
		     "notify_url, state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)");
DB_SQL(q_refunds_of, "SELECT id, amount, state, created_at FROM sim_refunds WHERE payment_id = ? ORDER BY created_at, id");

static void payment_row(const struct db_rows *rows, size_t i, struct sim_payment *p)
{
	size_t k = 0;
	p->id = db_cell(rows, i, k++);
	p->reference = db_cell(rows, i, k++);
	p->amount = db_cell_int(rows, i, k++);
	p->state = db_cell(rows, i, k++);
	p->created_at = db_cell_int(rows, i, k++);
	p->expires_at = db_cell_int(rows, i, k++);
	p->paid_amount = db_cell_int(rows, i, k++);
	p->paid_at = db_cell(rows, i, k) ? db_cell_int(rows, i, k) : 0;
	k++;
	p->refunded = db_cell_int(rows, i, k++);
	p->seq = db_cell_int(rows, i, k++);
	p->description = db_cell(rows, i, k++);
	p->return_url = db_cell(rows, i, k++);
	p->notify_url = db_cell(rows, i, k++);
	p->request_hash = db_cell(rows, i, k++);
}

static int payment_get(struct db *db, struct arena *a, struct db_sql *q, const char *key, struct sim_payment *p)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, DB_ARGS(DB_TEXT(key)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	payment_row(&rows, 0, p);
	return 0;
}

/* The payment the route's {id} names into p: 0; GH_ENOTFOUND when there is none, answered 404
 * already (the caller rolls back what it began and returns 0); another GH_E code. */
static int payment_param(struct req *r, struct sim_payment *p)
{
	int rc = payment_get(r->db, r->arena, &q_pay_by_id, req_param(r, "id"), p);
	if (rc == GH_ENOTFOUND)
		fail(r, 404, "not_found", "no such payment");
	return rc;
}

/* Where payers reach the simulator: --base-url, or the address the request was sent to. */
static const char *base_of(struct req *r)
{
	if (S.base_url)
		return S.base_url;
	const char *host = req_header(r, "Host");
	return arena_printf(r->arena, "http://%s", host ? host : "127.0.0.1");
}

/* The payment object; base (may be NULL: no pay_url) as base_of gives it. */
static json_t *payment_json(struct db *db, struct arena *a, const struct sim_payment *p, bool refunds, const char *base)
{
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:I}", "payment_id", p->id, "reference", p->reference,
			      "amount", (json_int_t)p->amount, "state", p->state, "created_at", (json_int_t)p->created_at,
			      "expires_at", (json_int_t)p->expires_at, "paid_amount", (json_int_t)p->paid_amount,
			      "refunded_amount", (json_int_t)p->refunded, "seq", (json_int_t)p->seq);
	if (base)
		json_object_set_new(o, "pay_url", json_string(arena_printf(a, "%s/pay/%s", base, p->id)));
	json_object_set_new(o, "paid_at", p->paid_at ? json_integer(p->paid_at) : json_null());
	if (refunds) {
		json_t *list = json_array();
		struct db_rows rows;
		if (db_query(db, a, &q_refunds_of, DB_ARGS(DB_TEXT(p->id)), &rows) == 0)
			for (size_t i = 0; i < rows.nrows; i++)
				json_array_append_new(list, json_pack("{s:s,s:s,s:I,s:s,s:I}", "refund_id", db_cell(&rows, i, 0),
								      "payment_id", p->id, "amount",
								      (json_int_t)db_cell_int(&rows, i, 1), "state",
								      db_cell(&rows, i, 2), "created_at",
								      (json_int_t)db_cell_int(&rows, i, 3)));
		json_object_set_new(o, "refunds", list);
	}
	return o;
}

/* ---- events ----------------------------------------------------------------------------- */

DB_SQL(q_fault_on, "SELECT 1 FROM sim_faults WHERE name = ?");
DB_SQL(q_event_insert, "INSERT INTO sim_events (id, payment_id, seq, type, body, notify_url, next_at, held) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_held_count, "SELECT COUNT(*) FROM sim_events WHERE payment_id = ? AND held = 1");
/* Released newest first (the out-of-order fault): all due now, ordered by prio. */
DB_SQL(q_release, "UPDATE sim_events SET held = 0, prio = -seq, next_at = ? WHERE payment_id = ? AND held = 1");

static bool fault_on(struct db *db, struct arena *a, const char *name)
{
	struct db_rows rows;
	return db_query(db, a, &q_fault_on, DB_ARGS(DB_TEXT(name)), &rows) == 0 && rows.nrows > 0;
}

/* Queues the notification of one event of p (as it is now), in the caller's transaction. */
static int event_add(struct db *db, struct arena *a, const struct sim_payment *p, const char *type, json_t *refund)
{
	const char *id = random_id(a, "ev_");
	int64_t now = (int64_t)time(NULL);
	json_t *body = json_pack("{s:s,s:s,s:I,s:I,s:o}", "event_id", id, "type", type, "created_at", (json_int_t)now,
				 "seq", (json_int_t)p->seq, "payment", payment_json(db, a, p, false, NULL));
	if (refund)
		json_object_set(body, "refund", refund);
	char *text = jsonout_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text)
		return GH_EINTERNAL;
	const char *t = arena_strdup(a, text);
	free(text);
	bool hold = fault_on(db, a, "reverse");
	int rc = db_exec(db, &q_event_insert,
			 DB_ARGS(DB_TEXT(id), DB_TEXT(p->id), DB_INT(p->seq), DB_TEXT(type), DB_TEXT(t), DB_TEXT(p->notify_url),
				 (struct db_val){ .type = DB_T_TEXT, .s = arena_printf(a, "%.3f", now_f()), .len = (size_t)-1 },
				 DB_INT(hold ? 1 : 0)),
			 NULL);
	if (rc || !hold)
		return rc;
	/* Out of order: events of a payment wait until there are two, then go newest first. */
	struct db_rows rows;
	if ((rc = db_query(db, a, &q_held_count, DB_ARGS(DB_TEXT(p->id)), &rows)))
		return rc;
	if (db_cell_int(&rows, 0, 0) >= 2)
		rc = db_exec(db, &q_release,
			     DB_ARGS((struct db_val){ .type = DB_T_TEXT, .s = arena_printf(a, "%.3f", now_f()), .len = (size_t)-1 },
				     DB_TEXT(p->id)),
			     NULL);
	return rc;
}

/* ---- the API ---------------------------------------------------------------------------- */

static int api_create(struct req *r)
{
	const char *key = req_header(r, "Idempotency-Key");
	if (!pay_id_ok(key))
		return fail(r, 400, "idempotency_key", "Idempotency-Key: 1 to 64 characters [A-Za-z0-9_-] required");
	json_t *in = body_json(r);
	if (!in)
		return fail(r, 400, "bad_request", "the body must be a JSON object");
	const char *ref = json_string_value(json_object_get(in, "reference"));
	const char *desc = json_string_value(json_object_get(in, "description"));
	const char *ret = json_string_value(json_object_get(in, "return_url"));
	const char *notify = json_string_value(json_object_get(in, "notify_url"));
	json_t *ttl = json_object_get(in, "expires_in");
	int64_t amount;
	if (!pay_id_ok(ref))
		return fail(r, 400, "reference", "reference: 1 to 64 characters [A-Za-z0-9_-]");
	if (pay_amount_get(json_object_get(in, "amount"), &amount) || amount == 0)
		return fail(r, 400, "amount", "amount: a positive integer number of fen");
	if (!desc || strlen(desc) > 400 || !str_utf8_valid(desc, strlen(desc)))
		return fail(r, 400, "description", "description: text of at most 400 bytes");
	if (!url_ok(ret) || !url_ok(notify))
		return fail(r, 400, "url", "return_url and notify_url: http(s) addresses");
	if (ttl && (!json_is_integer(ttl) || json_integer_value(ttl) < 1 || json_integer_value(ttl) > 86400))
		return fail(r, 400, "expires_in", "expires_in: 1 to 86400 seconds");
	char *canon = jsonout_dumps(in, JSON_COMPACT | JSON_SORT_KEYS);
	char hash[65];
	crypto_sha256_hex(canon, strlen(canon), hash);
	free(canon);
	struct sim_payment p;
	int rc = db_begin(r->db);
	if (rc)
		return rc;
	rc = payment_get(r->db, r->arena, &q_pay_by_key, key, &p);
	if (rc == 0) {
		db_rollback(r->db);
		if (strcmp(p.request_hash, hash) != 0)
			return fail(r, 409, "idempotency_mismatch", "this Idempotency-Key was used for another request");
		return resp_json(r, 200, payment_json(r->db, r->arena, &p, true, base_of(r)));
	}
	if (rc != GH_ENOTFOUND)
		goto out;
	int64_t now = (int64_t)time(NULL);
	p = (struct sim_payment){ .id = random_id(r->arena, "gp_"), .reference = ref, .amount = amount, .state = "created",
				  .created_at = now, .expires_at = now + (ttl ? json_integer_value(ttl) : 1800),
				  .description = desc, .return_url = ret, .notify_url = notify };
	rc = db_exec(r->db, &q_pay_insert,
		     DB_ARGS(DB_TEXT(p.id), DB_TEXT(ref), DB_TEXT(key), DB_TEXT(hash), DB_INT(amount), DB_TEXT(desc),
			     DB_TEXT(ret), DB_TEXT(notify), DB_INT(now), DB_INT(p.expires_at)),
		     NULL);
	if (rc == GH_ECONFLICT) {
		db_rollback(r->db);
		return fail(r, 409, "duplicate_reference", "a payment with this reference exists (under another key)");
	}
	if (rc || (rc = db_commit(r->db)))
		goto out;
	return resp_json(r, 201, payment_json(r->db, r->arena, &p, true, base_of(r)));
out:
	db_rollback(r->db);
	return rc;
}

static int api_get(struct req *r)
{
	struct sim_payment p;
	int rc = payment_param(r, &p);
	if (rc)
		return rc == GH_ENOTFOUND ? 0 : rc;
	return resp_json(r, 200, payment_json(r->db, r->arena, &p, true, base_of(r)));
}

static int api_find(struct req *r)
{
	const char *ref = req_query(r, "reference");
	if (!pay_id_ok(ref))
		return fail(r, 400, "reference", "?reference= is required");
	struct sim_payment p;
	int rc = payment_get(r->db, r->arena, &q_pay_by_ref, ref, &p);
	if (rc == GH_ENOTFOUND)
		return fail(r, 404, "not_found", "no payment with this reference");
	if (rc)
		return rc;
	return resp_json(r, 200, payment_json(r->db, r->arena, &p, true, base_of(r)));
}

DB_SQL(q_set_state, "UPDATE sim_payments SET state = ?, seq = seq + 1 WHERE id = ? AND state IN ('created', 'started', 'failed') "
		    "RETURNING seq");

static int api_cancel(struct req *r)
{
	int rc = db_begin(r->db);
	if (rc)
		return rc;
	struct sim_payment p;
	struct db_rows rows;
	if ((rc = payment_param(r, &p))) {
		db_rollback(r->db);
		return rc == GH_ENOTFOUND ? 0 : rc;
	}
	if (!strcmp(p.state, "cancelled") || !strcmp(p.state, "expired")) {
		db_rollback(r->db);
		return resp_json(r, 200, payment_json(r->db, r->arena, &p, true, base_of(r)));
	}
	if ((rc = db_query(r->db, r->arena, &q_set_state, DB_ARGS(DB_TEXT("cancelled"), DB_TEXT(p.id)), &rows)))
		goto out;
	if (rows.nrows == 0) {
		db_rollback(r->db);
		return fail(r, 409, "not_cancellable", "the payment succeeded already");
	}
	p.state = "cancelled";
	p.seq = db_cell_int(&rows, 0, 0);
	if ((rc = event_add(r->db, r->arena, &p, "payment.cancelled", NULL)) || (rc = db_commit(r->db)))
		goto out;
	duty_nudge(S.deliver);
	return resp_json(r, 200, payment_json(r->db, r->arena, &p, true, base_of(r)));
out:
	db_rollback(r->db);
	return rc;
}

DB_SQL(q_refund_by_key, "SELECT id, amount, state, created_at, request_hash FROM sim_refunds WHERE payment_id = ? AND idem_key = ?");
/* The one conditional write that makes concurrent refunds safe: it succeeds only while the
 * refunds stay within what was paid. */
DB_SQL(q_refund_take, "UPDATE sim_payments SET refunded = refunded + ?, seq = seq + 1 "
		      "WHERE id = ? AND state = 'success' AND refunded + ? <= paid_amount RETURNING seq, refunded");
DB_SQL(q_refund_insert, "INSERT INTO sim_refunds (id, payment_id, idem_key, request_hash, amount, reason, state, created_at) "
			"VALUES (?, ?, ?, ?, ?, ?, 'success', ?)");

static int api_refund(struct req *r)
{
	const char *key = req_header(r, "Idempotency-Key");
	if (!pay_id_ok(key))
		return fail(r, 400, "idempotency_key", "Idempotency-Key: 1 to 64 characters [A-Za-z0-9_-] required");
	json_t *in = body_json(r);
	int64_t amount;
	if (!in || pay_amount_get(json_object_get(in, "amount"), &amount) || amount == 0)
		return fail(r, 400, "amount", "amount: a positive integer number of fen");
	const char *reason = json_string_value(json_object_get(in, "reason"));
	if (reason && strlen(reason) > 400)
		return fail(r, 400, "reason", "reason: at most 400 bytes");
	char *canon = jsonout_dumps(in, JSON_COMPACT | JSON_SORT_KEYS);
	char hash[65];
	crypto_sha256_hex(canon, strlen(canon), hash);
	free(canon);
	int rc = db_begin(r->db);
	if (rc)
		return rc;
	struct sim_payment p;
	struct db_rows rows;
	if ((rc = payment_param(r, &p))) {
		db_rollback(r->db);
		return rc == GH_ENOTFOUND ? 0 : rc;
	}
	if ((rc = db_query(r->db, r->arena, &q_refund_by_key, DB_ARGS(DB_TEXT(p.id), DB_TEXT(key)), &rows)))
		goto out;
	if (rows.nrows) {
		db_rollback(r->db);
		if (strcmp(db_cell(&rows, 0, 4), hash) != 0)
			return fail(r, 409, "idempotency_mismatch", "this Idempotency-Key was used for another refund");
		return resp_json(r, 200, json_pack("{s:s,s:s,s:I,s:s,s:I}", "refund_id", db_cell(&rows, 0, 0), "payment_id", p.id,
						   "amount", (json_int_t)db_cell_int(&rows, 0, 1), "state", db_cell(&rows, 0, 2),
						   "created_at", (json_int_t)db_cell_int(&rows, 0, 3)));
	}
	if ((rc = db_query(r->db, r->arena, &q_refund_take, DB_ARGS(DB_INT(amount), DB_TEXT(p.id), DB_INT(amount)), &rows)))
		goto out;
	if (rows.nrows == 0) {
		db_rollback(r->db);
		if (strcmp(p.state, "success") != 0)
			return fail(r, 409, "not_paid", "only a payment that succeeded can be refunded");
		return fail(r, 409, "refund_exceeds", "refunds may not exceed what was paid");
	}
	p.seq = db_cell_int(&rows, 0, 0);
	p.refunded = db_cell_int(&rows, 0, 1);
	int64_t now = (int64_t)time(NULL);
	const char *id = random_id(r->arena, "gr_");
	if ((rc = db_exec(r->db, &q_refund_insert,
			  DB_ARGS(DB_TEXT(id), DB_TEXT(p.id), DB_TEXT(key), DB_TEXT(hash), DB_INT(amount),
				  DB_TEXT(reason ? reason : ""), DB_INT(now)),
			  NULL)))
		goto out;
	json_t *refund = json_pack("{s:s,s:s,s:I,s:s,s:I}", "refund_id", id, "payment_id", p.id, "amount", (json_int_t)amount,
				   "state", "success", "created_at", (json_int_t)now);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, refund);
	if ((rc = event_add(r->db, r->arena, &p, "refund.succeeded", refund)) || (rc = db_commit(r->db)))
		goto out;
	duty_nudge(S.deliver);
	return resp_json(r, 201, json_incref(refund));
out:
	db_rollback(r->db);
	return rc;
}

DB_SQL(q_settle_payments, "SELECT id, reference, paid_amount, paid_at FROM sim_payments WHERE paid_at >= ? AND paid_at < ? "
			  "AND state = 'success' ORDER BY paid_at, id");
DB_SQL(q_settle_refunds, "SELECT f.payment_id, p.reference, f.id, f.amount, f.created_at FROM sim_refunds f "
			 "JOIN sim_payments p ON p.id = f.payment_id WHERE f.created_at >= ? AND f.created_at < ? "
			 "AND f.state = 'success' ORDER BY f.created_at, f.id");

static int api_settlement(struct req *r)
{
	const char *day = req_param(r, "day");
	int32_t d;
	if (!day || calendar_parse_day(day, strlen(day), &d))
		return fail(r, 400, "day", "the day is YYYY-MM-DD");
	/* The day in China Standard Time: [00:00, 24:00) at UTC+8. */
	int64_t from = (int64_t)d * 86400 - 8 * 3600, to = from + 86400;
	struct db_rows ps, rs;
	int rc = db_query(r->db, r->arena, &q_settle_payments, DB_ARGS(DB_INT(from), DB_INT(to)), &ps);
	if (!rc)
		rc = db_query(r->db, r->arena, &q_settle_refunds, DB_ARGS(DB_INT(from), DB_INT(to)), &rs);
	if (rc)
		return rc;
	size_t n = ps.nrows + rs.nrows, i = 0, j = 0;
	struct pay_settle_line *lines = arena_array(r->arena, n ? n : 1, sizeof(*lines));
	/* Merged by time, payments first at a tie. */
	for (size_t k = 0; k < n; k++) {
		bool take_p = j >= rs.nrows || (i < ps.nrows && db_cell_int(&ps, i, 3) <= db_cell_int(&rs, j, 4));
		if (take_p) {
			lines[k] = (struct pay_settle_line){ .payment_id = db_cell(&ps, i, 0), .reference = db_cell(&ps, i, 1),
							     .refund_id = "", .amount = db_cell_int(&ps, i, 2),
							     .at = db_cell_int(&ps, i, 3) };
			i++;
		} else {
			lines[k] = (struct pay_settle_line){ .refund = true, .payment_id = db_cell(&rs, j, 0),
							     .reference = db_cell(&rs, j, 1), .refund_id = db_cell(&rs, j, 2),
							     .amount = -db_cell_int(&rs, j, 3), .at = db_cell_int(&rs, j, 4) };
			j++;
		}
	}
	struct sb out = SB_INIT;
	pay_settlement_write(&out, day, lines, n);
	char sig[160];
	pay_sig_make(&S.signer, (int64_t)time(NULL), out.buf, out.len, sig);
	resp_header(r, PAY_SIG_HEADER, sig);
	char *text = arena_strndup(r->arena, out.buf, out.len);
	size_t len = out.len;
	sb_release(&out);
	return resp_body(r, 200, "text/csv; charset=utf-8", text, len);
}

/* ---- the payer ------------------------------------------------------------------------------ */

DB_SQL(q_paid, "UPDATE sim_payments SET state = 'success', paid_amount = ?, paid_at = ?, seq = seq + 1 "
	       "WHERE id = ? AND (state IN ('created', 'started', 'failed') AND (expires_at > ? OR ? = 1) "
	       "OR state IN ('expired', 'cancelled') AND ? = 1) RETURNING seq");
DB_SQL(q_failed, "UPDATE sim_payments SET state = 'failed', seq = seq + 1 "
		 "WHERE id = ? AND state IN ('created', 'started', 'failed') AND expires_at > ? RETURNING seq");

/* The payer pays (success) or fails to (failed): amount 0 = the amount asked; late = accept
 * it even after the payment expired or was cancelled (a bank's late confirmation). 0 with *p
 * updated, GH_ENOTFOUND, or GH_ECONFLICT when the payment can no longer be paid. */
static int payer_act(struct db *db, struct arena *a, const char *id, bool success, int64_t amount, bool late,
		     struct sim_payment *p)
{
	int rc = db_begin(db);
	if (rc)
		return rc;
	struct db_rows rows;
	if ((rc = payment_get(db, a, &q_pay_by_id, id, p)))
		goto out;
	int64_t now = (int64_t)time(NULL);
	if (success)
		rc = db_query(db, a, &q_paid,
			      DB_ARGS(DB_INT(amount ? amount : p->amount), DB_INT(now), DB_TEXT(id), DB_INT(now), DB_INT(late),
				      DB_INT(late)),
			      &rows);
	else
		rc = db_query(db, a, &q_failed, DB_ARGS(DB_TEXT(id), DB_INT(now)), &rows);
	if (rc)
		goto out;
	if (rows.nrows == 0) {
		rc = GH_ECONFLICT;
		goto out;
	}
	p->seq = db_cell_int(&rows, 0, 0);
	if (success) {
		p->state = "success";
		p->paid_amount = amount ? amount : p->amount;
		p->paid_at = now;
	} else {
		p->state = "failed";
	}
	if ((rc = event_add(db, a, p, success ? "payment.succeeded" : "payment.failed", NULL)) || (rc = db_commit(db)))
		goto out;
	duty_nudge(S.deliver);
	return 0;
out:
	db_rollback(db);
	return rc;
}

/* The form token of the payer page: a MAC of the payment id, so the page's form cannot be
 * posted from elsewhere. */
static void page_token(const char *id, char out[65])
{
	unsigned char mac[32];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)S.secret, strlen(S.secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"pay:", 4);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, 32);
}

static int page(struct req *r, int status, json_t *ctx)
{
	struct sb out = SB_INIT;
	int rc = view_render(S.view, "pay/sim_pay", r->lang, ctx, &out);
	json_decref(ctx);
	if (rc) {
		sb_release(&out);
		return rc;
	}
	resp_header(r, "Cache-Control", "no-store");
	return resp_html(r, status, &out);
}

static int payer_page(struct req *r)
{
	struct sim_payment p;
	int rc = payment_param(r, &p);
	if (rc)
		return rc == GH_ENOTFOUND ? 0 : rc;
	char yuan[32], tok[65];
	pay_yuan(p.amount, yuan);
	page_token(p.id, tok);
	const char *url = arena_printf(r->arena, "%s/pay/%s", base_of(r), p.id);
	bool payable = (!strcmp(p.state, "created") || !strcmp(p.state, "started") || !strcmp(p.state, "failed")) &&
		       p.expires_at > (int64_t)time(NULL);
	json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:s}", "id", p.id, "reference", p.reference, "amount",
				yuan, "description", p.description, "state", p.state, "token", tok, "payable", payable,
				"paid", !strcmp(p.state, "success"), "failed", !strcmp(p.state, "failed"), "return_url",
				p.return_url);
	json_object_set_new(ctx, "qr_svg", json_string(pay_qr_svg(r->arena, url)));
	return page(r, 200, ctx);
}

static int payer_post(struct req *r)
{
	struct kvlist f;
	int rc = req_form(r, &f);
	if (rc)
		return rc;
	const char *id = req_param(r, "id"), *t = kv_get(&f, "t"), *outcome = kv_get(&f, "outcome");
	char tok[65];
	page_token(id, tok);
	if (!t || strlen(t) != 64 || sodium_memcmp(t, tok, 64) != 0)
		return fail(r, 403, "forbidden", "the form did not come from this page");
	bool success = outcome && !strcmp(outcome, "success");
	struct sim_payment p;
	rc = payer_act(r->db, r->arena, id, success, 0, false, &p);
	if (rc == GH_ENOTFOUND)
		return fail(r, 404, "not_found", "no such payment");
	if (rc && rc != GH_ECONFLICT)
		return rc;
	if (rc == 0 && !success)
		return resp_redirect(r, 303, arena_printf(r->arena, "/pay/%s", id)); /* try again */
	/* Its own page says it is paid, with the link back to the merchant (a form may not lead to
	 * another site under the pages' policy, form-action 'self'); the merchant must not believe
	 * the address, only the notification or a query. */
	return resp_redirect(r, 303, arena_printf(r->arena, "/pay/%s", id));
}

/* ---- test controls ---------------------------------------------------------------------- */

DB_SQL(q_faults_clear, "DELETE FROM sim_faults");
DB_SQL(q_fault_add, "INSERT INTO sim_faults (name) VALUES (?) ON CONFLICT (name) DO NOTHING");

static int sim_faults(struct req *r)
{
	json_t *in = body_json(r), *list = json_object_get(in, "faults");
	if (!json_is_array(list))
		return fail(r, 400, "faults", "{\"faults\": [names]} expected");
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f)
	{
		bool known = false;
		for (size_t k = 0; k < ARRAY_LEN(fault_names); k++)
			known |= json_is_string(f) && !strcmp(json_string_value(f), fault_names[k]);
		if (!known)
			return fail(r, 400, "faults", "unknown fault (bad_signature, stale_signature, duplicate, reverse)");
	}
	int rc = db_begin(r->db);
	if (!rc)
		rc = db_exec(r->db, &q_faults_clear, DB_NOARGS, NULL);
	json_array_foreach(list, i, f)
	{
		if (!rc)
			rc = db_exec(r->db, &q_fault_add, DB_ARGS(DB_TEXT(json_string_value(f))), NULL);
	}
	if (rc || (rc = db_commit(r->db))) {
		db_rollback(r->db);
		return rc;
	}
	log_info("paysim: faults now %s", json_array_size(list) ? "on" : "off");
	return resp_json(r, 200, json_pack("{s:O}", "faults", list));
}

static int sim_pay(struct req *r)
{
	json_t *in = body_json(r);
	if (!in)
		return fail(r, 400, "bad_request", "the body must be a JSON object");
	const char *outcome = json_string_value(json_object_get(in, "outcome"));
	int64_t amount = 0;
	json_t *am = json_object_get(in, "amount");
	if (am && pay_amount_get(am, &amount))
		return fail(r, 400, "amount", "amount: an integer number of fen");
	struct sim_payment p;
	int rc = payer_act(r->db, r->arena, req_param(r, "id"), !outcome || !strcmp(outcome, "success"), amount,
			   json_is_true(json_object_get(in, "late")), &p);
	if (rc == GH_ENOTFOUND)
		return fail(r, 404, "not_found", "no such payment");
	if (rc == GH_ECONFLICT)
		return fail(r, 409, "not_payable", "the payment can no longer be paid (add \"late\": true to pay it anyway)");
	if (rc)
		return rc;
	return resp_json(r, 200, payment_json(r->db, r->arena, &p, true, base_of(r)));
}

DB_SQL(q_expire_now, "UPDATE sim_payments SET expires_at = ? WHERE id = ? AND state IN ('created', 'started', 'failed')");

/* The clock moves past an open payment's expiry: the expiry duty closes it (payment.expired)
 * within its next pass, which this wakes. 404 unknown, 409 no longer open. */
static int sim_expire(struct req *r)
{
	int64_t changed = 0;
	struct sim_payment p;
	int rc = payment_param(r, &p);
	if (rc == GH_ENOTFOUND)
		return 0;
	if (!rc)
		rc = db_exec(r->db, &q_expire_now, DB_ARGS(DB_INT((int64_t)time(NULL)), DB_TEXT(p.id)), &changed);
	if (rc)
		return rc;
	if (changed != 1)
		return fail(r, 409, "not_open", "the payment is no longer open");
	duty_nudge(S.expire);
	return resp_json(r, 202, json_pack("{s:s}", "payment_id", p.id));
}

DB_SQL(q_pay_invented, "INSERT INTO sim_payments (id, reference, idem_key, request_hash, amount, description, return_url, "
		      "notify_url, state, created_at, expires_at, paid_amount, paid_at, seq) "
		      "VALUES (?, ?, ?, '', ?, 'invented', ?, ?, 'success', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");

/* A payment this gateway invents (the merchant never made it): settled, so it is in the day's
 * settlement file, and announced with a signed notification. */
static int sim_notify(struct req *r)
{
	json_t *in = body_json(r);
	const char *url = json_string_value(json_object_get(in, "notify_url"));
	const char *ref = json_string_value(json_object_get(in, "reference"));
	int64_t amount = 0;
	if (!url_ok(url) || !pay_id_ok(ref) || pay_amount_get(json_object_get(in, "amount"), &amount) || !amount)
		return fail(r, 400, "bad_request", "{notify_url, reference, amount} expected");
	int64_t now = (int64_t)time(NULL);
	struct sim_payment p = { .id = random_id(r->arena, "gp_"), .reference = ref, .amount = amount, .state = "success",
				 .created_at = now, .expires_at = now + 1800, .paid_amount = amount, .paid_at = now, .seq = 2,
				 .notify_url = url };
	int64_t added = 0;
	int rc = db_begin(r->db);
	if (!rc)
		rc = db_exec(r->db, &q_pay_invented,
			     DB_ARGS(DB_TEXT(p.id), DB_TEXT(ref), DB_TEXT(p.id), DB_INT(amount), DB_TEXT(url), DB_TEXT(url),
				     DB_INT(now), DB_INT(p.expires_at), DB_INT(amount), DB_INT(now), DB_INT(p.seq)),
			     &added);
	if (!rc && !added)
		rc = GH_ECONFLICT;
	if (!rc)
		rc = event_add(r->db, r->arena, &p, "payment.succeeded", NULL);
	if (rc || (rc = db_commit(r->db))) {
		db_rollback(r->db);
		return rc == GH_ECONFLICT ? fail(r, 409, "reference", "a payment with this reference exists") : rc;
	}
	duty_nudge(S.deliver);
	return resp_json(r, 202, json_pack("{s:s}", "payment_id", p.id));
}

DB_SQL(q_events, "SELECT id, payment_id, seq, type, attempts, delivered_at, gave_up, last_status, held FROM sim_events "
		 "WHERE ? = '' OR payment_id = ? ORDER BY rowid");

static int sim_events(struct req *r)
{
	const char *pid = req_query(r, "payment_id");
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_events, DB_ARGS(DB_TEXT(pid ? pid : ""), DB_TEXT(pid ? pid : "")), &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; i < rows.nrows; i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:I,s:s,s:I,s:b,s:b,s:I,s:b}", "event_id", db_cell(&rows, i, 0),
						      "payment_id", db_cell(&rows, i, 1), "seq",
						      (json_int_t)db_cell_int(&rows, i, 2), "type", db_cell(&rows, i, 3),
						      "attempts", (json_int_t)db_cell_int(&rows, i, 4), "delivered",
						      db_cell(&rows, i, 5) != NULL, "gave_up", db_cell_int(&rows, i, 6) != 0,
						      "last_status", (json_int_t)db_cell_int(&rows, i, 7), "held",
						      db_cell_int(&rows, i, 8) != 0));
	return resp_json(r, 200, json_pack("{s:o}", "events", list));
}

static int sim_health(struct req *r)
{
	return resp_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static const struct route sim_routes[] = {
	{ HTTP_POST, "/v1/payments", api_create, ROLE_SYSTEM, 0, "paysim.create" },
	{ HTTP_GET, "/v1/payments", api_find, ROLE_SYSTEM, 0, "paysim.find" },
	{ HTTP_GET, "/v1/payments/{id}", api_get, ROLE_SYSTEM, 0, "paysim.get" },
	{ HTTP_POST, "/v1/payments/{id}/cancel", api_cancel, ROLE_SYSTEM, 0, "paysim.cancel" },
	{ HTTP_POST, "/v1/payments/{id}/refunds", api_refund, ROLE_SYSTEM, 0, "paysim.refund" },
	{ HTTP_GET, "/v1/settlements/{day}", api_settlement, ROLE_SYSTEM, 0, "paysim.settlement" },
	{ HTTP_GET, "/pay/{id}", payer_page, ROLE_PUBLIC, 0, "paysim.payer" },
	{ HTTP_POST, "/pay/{id}", payer_post, ROLE_PUBLIC, 0, "paysim.payer_post" },
	{ HTTP_POST, "/sim/faults", sim_faults, ROLE_SYSTEM, 0, "paysim.faults" },
	{ HTTP_POST, "/sim/payments/{id}/pay", sim_pay, ROLE_SYSTEM, 0, "paysim.pay" },
	{ HTTP_POST, "/sim/notify", sim_notify, ROLE_SYSTEM, 0, "paysim.notify" },
	{ HTTP_POST, "/sim/payments/{id}/expire", sim_expire, ROLE_SYSTEM, 0, "paysim.expire" },
	{ HTTP_GET, "/sim/events", sim_events, ROLE_SYSTEM, 0, "paysim.events" },
	{ HTTP_GET, "/healthz", sim_health, ROLE_PUBLIC, ROUTE_NOLOG, "paysim.health" },
};

/* The merchant (the hall) authenticates with its API key as a bearer token. */
static int sim_authenticate(struct req *r)
{
	const char *h = req_header(r, "Authorization");
	size_t kl = strlen(S.api_key);
	if (h && !strncmp(h, "Bearer ", 7) && strlen(h + 7) == kl && sodium_memcmp(h + 7, S.api_key, kl) == 0)
		r->role = ROLE_SYSTEM;
	return 0;
}

/* ---- notification delivery -------------------------------------------------------------- */

DB_SQL(q_due, "SELECT id, body, notify_url, attempts FROM sim_events WHERE delivered_at IS NULL AND gave_up = 0 "
	      "AND held = 0 AND next_at <= ? ORDER BY next_at, prio, seq LIMIT 20");
DB_SQL(q_delivered, "UPDATE sim_events SET delivered_at = ?, attempts = attempts + 1, last_status = ? WHERE id = ?");
DB_SQL(q_retry, "UPDATE sim_events SET attempts = ?, next_at = ?, gave_up = ?, last_status = ? WHERE id = ?");

static long post_notice(const char *url, const char *body, size_t len, const struct pay_signer *s, int64_t ts,
			const char *event_id)
{
	char sig[160], h_sig[200], h_id[100];
	pay_sig_make(s, ts, body, len, sig);
	snprintf(h_sig, sizeof(h_sig), PAY_SIG_HEADER ": %s", sig);
	snprintf(h_id, sizeof(h_id), "Govpay-Event-Id: %s", event_id);
	const char *headers[] = { "Content-Type: application/json", h_sig, h_id, NULL };
	struct http_client_resp resp;
	char err[256];
	if (http_client("POST", url, headers, body, len, SIM_NOTIFY_TIMEOUT_MS, 64 * 1024, NULL, &resp, err, sizeof(err))) {
		log_info("paysim: notification %s to %s: %s", event_id, url, err);
		return 0;
	}
	http_client_resp_free(&resp);
	return resp.status;
}

static int deliver_pass(void *arg, bool *more)
{
	struct db *db = arg;
	struct arena *a = arena_new(0);
	struct db_rows rows;
	double now = now_f();
	int rc = db_query(db, a, &q_due,
			  DB_ARGS((struct db_val){ .type = DB_T_TEXT, .s = arena_printf(a, "%.3f", now), .len = (size_t)-1 }),
			  &rows);
	if (rc) {
		arena_free(a);
		return rc;
	}
	bool bad = fault_on(db, a, "bad_signature"), stale = fault_on(db, a, "stale_signature"),
	     dup = fault_on(db, a, "duplicate");
	for (size_t i = 0; i < rows.nrows && !rc; i++) {
		const char *id = db_cell(&rows, i, 0), *body = db_cell(&rows, i, 1), *url = db_cell(&rows, i, 2);
		int64_t attempts = db_cell_int(&rows, i, 3);
		int64_t ts = (int64_t)time(NULL) - (stale ? SIM_STALE_S : 0);
		const struct pay_signer *s = bad ? &S.wrong : &S.signer;
		long status = post_notice(url, body, rows.lens[i * rows.ncols + 1], s, ts, id);
		if (dup && status >= 200 && status < 300)
			status = post_notice(url, body, rows.lens[i * rows.ncols + 1], s, ts, id);
		if (status >= 200 && status < 300) {
			rc = db_exec(db, &q_delivered, DB_ARGS(DB_INT((int64_t)time(NULL)), DB_INT(status), DB_TEXT(id)), NULL);
			continue;
		}
		/* Not acknowledged: again after the next step of the schedule, or never after its last. */
		bool give_up = (size_t)attempts >= S.nschedule;
		double next = now_f() + (give_up ? 0 : S.schedule[attempts]);
		if (give_up)
			log_warn("paysim: notification %s to %s given up after %lld attempts", id, url, (long long)attempts + 1);
		rc = db_exec(db, &q_retry,
			     DB_ARGS(DB_INT(attempts + 1),
				     (struct db_val){ .type = DB_T_TEXT, .s = arena_printf(a, "%.3f", next), .len = (size_t)-1 },
				     DB_INT(give_up ? 1 : 0), DB_INT(status), DB_TEXT(id)),
			     NULL);
	}
	*more = rows.nrows == SIM_BATCH;
	arena_free(a);
	return rc;
}

DB_SQL(q_expiring, "SELECT " PAY_COLS " FROM sim_payments WHERE state IN ('created', 'started', 'failed') AND expires_at <= ? "
		   "LIMIT 50");
DB_SQL(q_expire, "UPDATE sim_payments SET state = 'expired', seq = seq + 1 WHERE id = ? AND state IN ('created', 'started', 'failed') "
		 "RETURNING seq");

/* Payments past their expiry become expired (and say so). */
static int expire_pass(void *arg, bool *more)
{
	struct db *db = arg;
	struct arena *a = arena_new(0);
	struct db_rows rows;
	int rc = db_query(db, a, &q_expiring, DB_ARGS(DB_INT((int64_t)time(NULL))), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		struct sim_payment p;
		payment_row(&rows, i, &p);
		struct db_rows up;
		if ((rc = db_begin(db)))
			break;
		rc = db_query(db, a, &q_expire, DB_ARGS(DB_TEXT(p.id)), &up);
		if (!rc && up.nrows) {
			p.state = "expired";
			p.seq = db_cell_int(&up, 0, 0);
			rc = event_add(db, a, &p, "payment.expired", NULL);
		}
		if (rc || (rc = db_commit(db)))
			db_rollback(db);
	}
	if (!rc && rows.nrows)
		duty_nudge(S.deliver);
	*more = rows.nrows == 50;
	arena_free(a);
	return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

static int parse_schedule(const char *s)
{
	S.nschedule = 0;
	while (s && *s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || !isfinite(v) || v < 0 || v > 7 * 86400 || S.nschedule == SIM_SCHEDULE_MAX)
			return -1;
		S.schedule[S.nschedule++] = v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return S.nschedule ? 0 : -1;
}

void pay_sim_usage(FILE *f)
{
	fprintf(f, "usage: govhall paysim [--addr HOST:PORT] [--state FILE] [--api-key KEY] [--secret SECRET]\n"
		   "                      [--sign hmac|ed25519] [--schedule S,S,...] [--base-url URL]\n"
		   "\n"
		   "A payment gateway simulator speaking the protocol of docs/payments.md.\n"
		   "  --addr       where to listen (default 127.0.0.1:9400; port 0 = any free port)\n"
		   "  --state      its own SQLite file of payments (default paysim.db; never the hall's database)\n"
		   "  --api-key    the merchant's key (the hall's pay-api-key; default: sim-key)\n"
		   "  --secret     signs notifications and settlement files (the hall's pay-notify-secret; default: sim-secret)\n"
		   "  --sign       hmac (HMAC-SHA256, default) or ed25519 (the key derived from --secret; its public\n"
		   "               key, the hall's pay-notify-public-key, is printed at start)\n"
		   "  --schedule   seconds between attempts of an unacknowledged notification (default: 15,15,30,\n"
		   "               180,600,1200,1800,1800,1800,3600,10800,10800,10800,21600,21600: about 24 hours)\n"
		   "  --base-url   the address payers reach it at (default: http:// and the Host the merchant called)\n");
}

int pay_sim_cli(const struct config *cfg, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			pay_sim_usage(stdout);
			return 0;
		}
	struct app app = { .cfg = *cfg, .started = time(NULL) };
	app.cfg.listen = (char *)opt(argc, argv, "--addr", "127.0.0.1:9400");
	S.state = opt(argc, argv, "--state", "paysim.db");
	S.api_key = opt(argc, argv, "--api-key", "sim-key");
	S.secret = opt(argc, argv, "--secret", "sim-secret");
	const char *sign = opt(argc, argv, "--sign", "hmac");
	if (parse_schedule(opt(argc, argv, "--schedule", default_schedule))) {
		fprintf(stderr, "govhall paysim: --schedule is a comma-separated list of seconds (at most %d)\n", SIM_SCHEDULE_MAX);
		return 2;
	}
	if (!*S.api_key || !*S.secret || (strcmp(sign, "hmac") && strcmp(sign, "ed25519"))) {
		pay_sim_usage(stderr);
		return 2;
	}
	if (db_url_sqlite_path(S.state) == NULL || !strcmp(S.state, cfg->db)) {
		fprintf(stderr, "govhall paysim: --state must be a SQLite file of its own, not the hall's database\n");
		return 2;
	}
	char pk[45] = "";
	if (!strcmp(sign, "ed25519")) {
		pay_signer_ed25519(&S.signer, S.secret, NULL, pk);
		pay_signer_ed25519(&S.wrong, "not the key", NULL, NULL);
	} else {
		S.signer = (struct pay_signer){ .alg = PAY_SIG_HMAC, .secret = S.secret };
		S.wrong = (struct pay_signer){ .alg = PAY_SIG_HMAC, .secret = "not the key" };
	}
	log_set_level(cfg->log_level);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	char err[512];
	struct db *db;
	app.cfg.db = (char *)S.state;
	if (db_open(S.state, &db, err, sizeof(err)) || db_exec_script(db, schema)) {
		fprintf(stderr, "govhall paysim: cannot open %s: %s\n", S.state, err);
		return 1;
	}
	db_close(db);
	char i18n[4096];
	snprintf(i18n, sizeof(i18n), "%s/i18n", cfg->data_dir);
	if (view_load(cfg->templates_dir, i18n, &S.view, err, sizeof(err))) {
		fprintf(stderr, "govhall paysim: templates: %s\n", err);
		return 1;
	}
	app.authenticate = sim_authenticate;
	app.router = router_new();
	if (router_add(app.router, sim_routes, ARRAY_LEN(sim_routes))) {
		view_free(S.view);
		return 1;
	}
	app.metrics = metrics_new(router_count(app.router));
	app.jobs = jobs_new(1, 16);
	if (db_open_named(S.state, "paysim delivery", &S.deliver_db, err, sizeof(err)) ||
	    db_open_named(S.state, "paysim expiry", &S.expire_db, err, sizeof(err))) {
		fprintf(stderr, "govhall paysim: %s\n", err);
		return 1;
	}
	S.base_url = opt(argc, argv, "--base-url", NULL);
	S.deliver = duty_start_alone("paysim notifications", deliver_pass, S.deliver_db, 1);
	S.expire = duty_start_alone("paysim expiry", expire_pass, S.expire_db, 1);
	fprintf(stdout, "paysim: merchant key set, signing with %s%s%s\n", sign, *pk ? ", public key " : "", pk);
	fflush(stdout);
	int rc = server_run(&app);
	duty_stop(S.deliver);
	duty_stop(S.expire);
	db_close(S.deliver_db);
	db_close(S.expire_db);
	jobs_free(app.jobs);
	metrics_free(app.metrics);
	router_free(app.router);
	view_free(S.view);
	return rc ? 1 : 0;
}
