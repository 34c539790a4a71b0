/* msg.c: messages between halls — the durable outbox, its delivery, and the inbox.
 *
 * Sending: fed_outbox_add() writes the message in the caller's transaction (so it exists iff
 * the change that causes it does), numbered 1, 2, ... per (dest, subject), with a random
 * idempotency key and the SHA-256 of its body. The duty "federation outbox" (a thread of its
 * own: it waits on other halls) sends, for each (dest, subject), only the oldest message not
 * delivered yet, whose time has come: POST <dest's base_url>/federation/inbox, signed
 * (httpsig.h) with this hall's message key, to the address the hub's directory gives. A 200
 * marks it delivered with the SHA-256 of the answer; anything else (no answer, 5xx, 409 out of
 * order) waits for the next try, after fed-retry's back-off (seconds per attempt, the last one
 * repeated). Due messages go least tried first, and a hall that fails once in a pass is not
 * tried again in that pass, so a hall that swallows connections holds up no other. So a hall
 * down for hours gets everything when it returns, in order.
 *
 * Receiving: POST /federation/inbox checks the signature against the directory (the key id
 * names the sending hall, which must be the body's "from"), then in one write: a Signature
 * seen before is a replay (409); an idempotency key seen before with the same body is the
 * sender's retry, answered with the answer recorded then (nothing is done again); with another
 * body, 422; a seq that is not the next of its (sender, subject), 409 (the sender retries);
 * otherwise the message is recorded with its answer. Both tables are covered by the
 * transparency log (their request and response hashes), so each side logs both. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "base/jsonout.h"
#include "federation/dir.h"
#include "federation/fed_impl.h"
#include "federation/httpsig.h"
#include "http/client.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "store/cover.h"
#include "store/db.h"

#define MSG_MAX (1024 * 1024) /* longest message body */
#define SUBJECT_MAX 128
#define KIND_MAX 32
#define BACKOFF_MAX 16
#define DELIVER_BATCH 50 /* messages looked at in one pass */

static const struct cover_table cover_outbox = {
	.table = "fed_outbox", .key = "idem_key",
	.cols = "dest, subject, seq, kind, request_hash, delivered_at, response_hash",
};
static const struct cover_table cover_inbox = {
	.table = "fed_inbox", .key = "sender, idem_key", .cols = "subject, seq, kind, request_hash, response_hash, received_at",
};

void fed_msg_register(void)
{
	cover_declare(&cover_outbox);
	cover_declare(&cover_inbox);
}

static bool token_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* ---- sending ----------------------------------------------------------------------------------- */

/* Numbering is serialized per (dest, subject): SQLite's writes are (BEGIN IMMEDIATE); on
 * PostgreSQL nodes take a transaction-level advisory lock of the pair first. */
DB_SQL2(q_seq_lock, "SELECT length(?) + length(?)",
	"SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended(?::text || '/' || ?::text, 18))) l");
DB_SQL(q_next_seq, "SELECT COALESCE(MAX(seq), 0) + 1 FROM fed_outbox WHERE dest = ? AND subject = ?");
DB_SQL(q_out_insert, "INSERT INTO fed_outbox (dest, subject, seq, idem_key, kind, body, request_hash, created_at, next_at) "
		     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");

static struct duty *outbox_duty;

/* A message's text is stored sealed (crypto.h, the column's name as the field): a forwarded
 * application carries a person's name, ID number and form. Stored as "s1:" and the sealed text;
 * a text without that mark is one stored before bodies were sealed, read as it is. */
#define SEALED_MARK "s1:"

static int body_seal(struct arena *a, const char *field, const char *text, const char **out)
{
	const struct keyring *k = identity_keyring();
	if (!k)
		return GH_EUNAVAILABLE;
	*out = arena_printf(a, SEALED_MARK "%s", crypto_seal_text(k, a, field, text));
	return 0;
}

static int body_open(struct arena *a, const char *field, const char *stored, const char **out)
{
	if (strncmp(stored, SEALED_MARK, sizeof(SEALED_MARK) - 1)) {
		*out = stored;
		return 0;
	}
	const char *t = stored + sizeof(SEALED_MARK) - 1;
	const struct keyring *k = identity_keyring();
	char *plain;
	if (!k || crypto_open_text(k, a, field, t, strlen(t), &plain, NULL))
		return GH_EINVAL;
	*out = plain;
	return 0;
}

int fed_outbox_add(struct db *db, const char *self, const char *dest, const char *subject, const char *kind, const json_t *body)
{
	if (!fed_dir_id_ok(dest) || !token_ok(subject, SUBJECT_MAX) || !token_ok(kind, KIND_MAX) || !json_is_object(body))
		return GH_EINVAL;
	struct arena *a = arena_new(0);
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (rc)
		goto out;
	struct db_rows rows;
	rc = db_query(db, a, &q_seq_lock, DB_ARGS(DB_TEXT(dest), DB_TEXT(subject)), &rows);
	if (!rc)
		rc = db_query(db, a, &q_next_seq, DB_ARGS(DB_TEXT(dest), DB_TEXT(subject)), &rows);
	if (!rc) {
		int64_t seq = db_cell_int(&rows, 0, 0), now = time(NULL);
		char idem[CRYPTO_TOKEN_LEN + 1], h[65];
		const char *sealed;
		crypto_new_token(idem);
		json_t *msg = json_pack("{s:s,s:s,s:I,s:s,s:O}", "from", self, "subject", subject, "seq", (json_int_t)seq, "kind",
					kind, "body", body);
		char *text = msg ? jsonout_dumps(msg, JSON_COMPACT) : NULL;
		json_decref(msg);
		if (!text || strlen(text) > MSG_MAX)
			rc = GH_ETOOBIG;
		else if (!(rc = body_seal(a, "fed_outbox.body", text, &sealed))) {
			crypto_sha256_hex(text, strlen(text), h);
			rc = db_exec(db, &q_out_insert,
				     DB_ARGS(DB_TEXT(dest), DB_TEXT(subject), DB_INT(seq), DB_TEXT(idem), DB_TEXT(kind), DB_TEXT(sealed),
					     DB_TEXT(h), DB_INT(now), DB_INT(now)),
				     NULL);
			if (!rc)
				rc = cover_touch(db, "fed_outbox", idem, "federation.send");
		}
		free(text);
	}
	rc = cover_tx_end(db, own, rc);
out:
	arena_free(a);
	if (!rc)
		duty_nudge(outbox_duty);
	return rc;
}

/* The back-off: seconds before attempt k + 1 after k failed ones. */
static struct {
	int n;
	long s[BACKOFF_MAX];
} backoff;

int fed_msg_init(const char *spec, char *err, size_t errlen)
{
	backoff.n = 0;
	const char *p = spec && *spec ? spec : "5,15,60,300,1800,3600";
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 1 || v > 86400 || backoff.n == BACKOFF_MAX || (*end && *end != ',')) {
			snprintf(err, errlen, "fed-retry must be up to 16 numbers of seconds (1-86400) separated by commas, e.g. 5,15,60,300");
			return GH_EINVAL;
		}
		backoff.s[backoff.n++] = v;
		p = *end ? end + 1 : end;
	}
	if (backoff.n == 0) {
		snprintf(err, errlen, "fed-retry must name at least one delay");
		return GH_EINVAL;
	}
	return 0;
}

static long delay_after(int64_t attempts)
{
	return backoff.s[attempts < backoff.n ? attempts : backoff.n - 1];
}

DB_SQL(q_due, "SELECT o.id, o.dest, o.idem_key, o.body, o.attempts FROM fed_outbox o "
	      "WHERE o.delivered_at IS NULL AND o.next_at <= ? AND NOT EXISTS (SELECT 1 FROM fed_outbox p "
	      "WHERE p.dest = o.dest AND p.subject = o.subject AND p.delivered_at IS NULL AND p.seq < o.seq) "
	      "ORDER BY o.attempts, o.id LIMIT 50");
DB_SQL(q_delivered, "UPDATE fed_outbox SET delivered_at = ?, response_hash = ?, attempts = attempts + 1, last_error = NULL "
		    "WHERE id = ?");
DB_SQL(q_failed, "UPDATE fed_outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?");

struct outbox_run {
	struct app *app;
	struct db *db;
	const char *self;
};
static struct outbox_run orun;

/* Sends one message; 0 with the answer's hash when the receiver took it. */
static int send_one(struct outbox_run *o, struct arena *a, const char *dest, const char *idem, const char *body, char rh[65],
		    char *why, size_t whylen)
{
	char base[500];
	if (fed_member_peer_url(dest, base, sizeof(base))) {
		snprintf(why, whylen, "%s is not in the directory this hall holds", dest);
		return GH_ENOTFOUND;
	}
	const char *url = arena_printf(a, "%s/federation/inbox", base);
	const char *path = strstr(strstr(url, "://") + 3, "/federation/inbox");
	const char *sig[5], *headers[7];
	if (fed_member_sign(a, "POST", url, path, body, strlen(body), idem, time(NULL), sig)) {
		snprintf(why, whylen, "this hall has no message key");
		return GH_EUNAVAILABLE;
	}
	headers[0] = "Content-Type: application/json";
	for (int i = 0; i < 5; i++)
		headers[i + 1] = sig[i];
	struct http_client_resp resp;
	char err[256];
	if (http_client("POST", url, headers, body, strlen(body), o->app->cfg.fed_timeout, 65536, NULL, &resp, err, sizeof(err))) {
		snprintf(why, whylen, "%s", err);
		return GH_EUNAVAILABLE;
	}
	int rc = 0;
	if (resp.status == 200)
		crypto_sha256_hex(resp.body, resp.len, rh);
	else {
		snprintf(why, whylen, "%s answered %ld: %.150s", dest, resp.status, resp.body);
		rc = GH_EUNAVAILABLE;
	}
	http_client_resp_free(&resp);
	return rc;
}

/* One pass: the due messages, least tried first. A hall that fails once in a pass is not tried
 * again in it (a hall that swallows connections costs one timeout per pass, not one per
 * message, so it holds up no other hall); its other messages wait for the next pass. */
static int deliver(struct outbox_run *o, bool *more)
{
	struct arena *a = arena_new(0);
	struct db_rows rows;
	int64_t now = time(NULL);
	const char *down[DELIVER_BATCH];
	size_t ndown = 0, delivered = 0;
	int rc = db_query(o->db, a, &q_due, DB_ARGS(DB_INT(now)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		int64_t id = db_cell_int(&rows, i, 0), attempts = db_cell_int(&rows, i, 4);
		const char *dest = db_cell(&rows, i, 1), *idem = db_cell(&rows, i, 2);
		bool skip = false;
		for (size_t k = 0; k < ndown && !skip; k++)
			skip = !strcmp(down[k], dest);
		if (skip)
			continue;
		char rh[65], why[400];
		const char *body;
		int src = body_open(a, "fed_outbox.body", db_cell(&rows, i, 3), &body);
		if (src)
			snprintf(why, sizeof(why), "the stored message cannot be opened with this hall's key file");
		else
			src = send_one(o, a, dest, idem, body, rh, why, sizeof(why));
		if (src && ndown < DELIVER_BATCH)
			down[ndown++] = dest;
		if (!(rc = db_begin(o->db))) {
			if (src == 0) {
				rc = db_exec(o->db, &q_delivered, DB_ARGS(DB_INT(time(NULL)), DB_TEXT(rh), DB_INT(id)), NULL);
				if (!rc)
					rc = cover_touch(o->db, "fed_outbox", idem, "federation.delivered");
			} else {
				long d = delay_after(attempts);
				if (attempts == 0)
					log_warn("federation: a message to %s waits (%s); next try in %ld s", dest, why, d);
				rc = db_exec(o->db, &q_failed, DB_ARGS(DB_INT(time(NULL) + d), DB_TEXT(why), DB_INT(id)), NULL);
			}
			rc = rc ? (db_rollback(o->db), rc) : db_commit(o->db);
			delivered += !rc && src == 0;
		}
	}
	/* A delivered message may free the next of its subject at once. */
	*more = !rc && delivered > 0;
	arena_free(a);
	return rc;
}

static int outbox_pass(void *arg, bool *more)
{
	return deliver(arg, more);
}

int fed_msg_start(struct app *app, char *err, size_t errlen)
{
	if (!fed_cfg.member || outbox_duty)
		return 0;
	orun.app = app;
	orun.self = fed_self();
	if (db_open_named(app->cfg.db, "govhall federation outbox", &orun.db, err, errlen))
		return GH_EUNAVAILABLE;
	if (!(outbox_duty = duty_start_alone("federation outbox", outbox_pass, &orun, (int)backoff.s[0]))) {
		db_close(orun.db);
		orun.db = NULL;
		snprintf(err, errlen, "federation: cannot start the outbox's duty");
		return GH_EINTERNAL;
	}
	return 0;
}

void fed_msg_stop(void)
{
	duty_stop(outbox_duty);
	outbox_duty = NULL;
	if (orun.db)
		db_close(orun.db);
	orun = (struct outbox_run){ 0 };
}

/* ---- receiving ------------------------------------------------------------------------------ */

DB_SQL(q_in_get, "SELECT request_hash, signature_hash, response FROM fed_inbox WHERE sender = ? AND idem_key = ?");
DB_SQL(q_in_sig, "SELECT 1 FROM fed_inbox WHERE signature_hash = ?");
DB_SQL(q_in_last, "SELECT COALESCE(MAX(seq), 0) FROM fed_inbox WHERE sender = ? AND subject = ?");
DB_SQL(q_in_insert, "INSERT INTO fed_inbox (sender, idem_key, subject, seq, kind, body, request_hash, signature_hash, "
		    "response, response_hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

struct in_msg {
	char sender[65];
	const char *idem, *subject, *kind, *body;
	int64_t seq;
	char req_hash[65], sig_hash[65];
	/* the answer */
	int status;
	const char *response; /* JSON text */
	const char *why;
	/* what the message does (kinds.c) */
	const struct fed_kind *k;
	struct fed_message fm;
	void *ctx;
};

static int in_write(struct req *w, void *arg)
{
	struct in_msg *m = arg;
	struct db_rows rows;
	m->status = 0;
	int rc = db_query(w->db, w->arena, &q_in_sig, DB_ARGS(DB_TEXT(m->sig_hash)), &rows);
	if (rc)
		return rc;
	if (rows.nrows) {
		m->status = 409;
		m->why = "this signature was used before: a replay";
		return 0;
	}
	if ((rc = db_query(w->db, w->arena, &q_in_get, DB_ARGS(DB_TEXT(m->sender), DB_TEXT(m->idem)), &rows)))
		return rc;
	if (rows.nrows == 1) {
		if (strcmp(db_cell(&rows, 0, 0), m->req_hash)) {
			m->status = 422;
			m->why = "this idempotency key came before with another message";
		} else {
			m->status = 200; /* the sender's retry: the answer recorded then */
			m->response = db_cell(&rows, 0, 2);
		}
		return 0;
	}
	if ((rc = db_query(w->db, w->arena, &q_in_last, DB_ARGS(DB_TEXT(m->sender), DB_TEXT(m->subject)), &rows)))
		return rc;
	int64_t last = db_cell_int(&rows, 0, 0);
	if (m->seq != last + 1) {
		m->status = 409;
		m->why = m->seq <= last ? "this sequence number of the subject was taken by another message"
					: "an earlier message of this subject has not arrived yet";
		return 0;
	}
	int64_t now = time(NULL);
	m->response = arena_printf(w->arena, "{\"received\":true,\"subject\":\"%s\",\"seq\":%lld,\"at\":%lld}", m->subject,
				   (long long)m->seq, (long long)now);
	char rh[65];
	crypto_sha256_hex(m->response, strlen(m->response), rh);
	bool own;
	if ((rc = cover_tx_begin(w->db, &own)))
		return rc;
	/* The message's effect first: it commits with the record, or neither does. */
	if (m->k->write && (rc = m->k->write(w, &m->fm, m->ctx)))
		return cover_tx_end(w->db, own, rc);
	const char *sealed;
	if ((rc = body_seal(w->arena, "fed_inbox.body", m->body, &sealed)))
		return cover_tx_end(w->db, own, rc);
	rc = db_exec(w->db, &q_in_insert,
		     DB_ARGS(DB_TEXT(m->sender), DB_TEXT(m->idem), DB_TEXT(m->subject), DB_INT(m->seq), DB_TEXT(m->kind),
			     DB_TEXT(sealed), DB_TEXT(m->req_hash), DB_TEXT(m->sig_hash), DB_TEXT(m->response), DB_TEXT(rh),
			     DB_INT(now)),
		     NULL);
	if (!rc)
		rc = cover_touch(w->db, "fed_inbox", arena_printf(w->arena, "%s:%s", m->sender, m->idem), "federation.receive");
	m->status = 200;
	return cover_tx_end(w->db, own, rc);
}

static int refuse(struct req *r, int status, const char *error, const char *why)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, status, json_pack("{s:s,s:s}", "error", error, "error_description", why));
}

static int in_done(struct req *r, void *arg, int rc)
{
	struct in_msg *m = arg;
	if (rc)
		return rc;
	if (m->status != 200)
		return refuse(r, m->status, m->status == 422 ? "idempotency_key_reused" : "conflict", m->why);
	resp_header(r, "Cache-Control", "no-store");
	return resp_body(r, 200, "application/json", m->response, strlen(m->response));
}

static const char *hdr_of(void *ctx, const char *name)
{
	return req_header(ctx, name);
}

static int peer_key(void *ctx, const char *kid, unsigned char pk[32])
{
	return fed_member_peer_key(kid, pk, ctx);
}

static int inbox(struct req *r)
{
	if (!fed_cfg.member)
		return GH_ENOTFOUND;
	size_t len;
	const char *body = req_body(r, &len);
	if (!body)
		body = "";
	if (len > MSG_MAX)
		return refuse(r, 413, "too_large", "a message is at most 1 MiB");
	struct in_msg *m = arena_zalloc(r->arena, sizeof(*m));
	struct hsig_msg hm = { .method = "POST",
			       .target_uri = arena_printf(r->arena, "%s%s", fed_cfg.self_url, r->path),
			       .path = r->path,
			       .header = hdr_of,
			       .ctx = r };
	struct hsig_input in;
	const char *why;
	if (hsig_verify(r->arena, &hm, body, len, time(NULL), peer_key, m->sender, &in, &why)) {
		log_warn("federation: a message refused: %s", why);
		return refuse(r, 401, "invalid_signature", why);
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *from = json_string_value(json_object_get(j, "from"));
	const json_t *seq = json_object_get(j, "seq");
	m->subject = arena_strdup(r->arena, json_string_value(json_object_get(j, "subject")) ?: "");
	m->kind = arena_strdup(r->arena, json_string_value(json_object_get(j, "kind")) ?: "");
	bool shaped = from && json_is_integer(seq) && json_integer_value(seq) >= 1 && token_ok(m->subject, SUBJECT_MAX) &&
		      token_ok(m->kind, KIND_MAX) && json_is_object(json_object_get(j, "body"));
	m->seq = shaped ? json_integer_value(seq) : 0;
	bool same = from && !strcmp(from, m->sender);
	json_t *mbody = json_incref(json_object_get(j, "body"));
	arena_cleanup(r->arena, (void (*)(void *))json_decref, mbody);
	json_decref(j);
	if (!shaped)
		return refuse(r, 422, "invalid_message", "a message is {\"from\", \"subject\", \"seq\" (1, 2, ...), \"kind\", \"body\" (an object)}");
	if (!same)
		return refuse(r, 403, "wrong_sender", "the message says it is from another hall than the key that signed it");
	/* A kind this hall does not know is refused unrecorded: the sender keeps it and tries
	 * again, so this hall takes it once upgraded (federation.h). */
	if (!(m->k = fed_kind_find(m->kind)))
		return refuse(r, 422, "unknown_kind",
			      arena_printf(r->arena, "this hall does not act on messages of kind %s (yet): the sender keeps it", m->kind));
	m->fm = (struct fed_message){ .from = m->sender, .subject = m->subject, .kind = m->kind, .seq = m->seq, .body = mbody };
	/* The Idempotency-Key is a structured-field string (draft-ietf-httpapi-idempotency-key-header). */
	const char *ik = req_header(r, "Idempotency-Key");
	size_t ikn = ik ? strlen(ik) : 0;
	if (ikn < 3 || ikn > 130 || ik[0] != '"' || ik[ikn - 1] != '"' || !token_ok(arena_strndup(r->arena, ik + 1, ikn - 2), 128))
		return refuse(r, 422, "invalid_message", "the Idempotency-Key must be a quoted string of 1-128 printable characters");
	m->idem = arena_strndup(r->arena, ik + 1, ikn - 2);
	m->body = arena_strndup(r->arena, body, len);
	crypto_sha256_hex(body, len, m->req_hash);
	const char *sig = req_header(r, "Signature");
	crypto_sha256_hex(sig, strlen(sig), m->sig_hash);
	if (m->k->prepare) {
		const char *kwhy = NULL;
		int krc = m->k->prepare(r, &m->fm, &m->ctx, &kwhy);
		if (krc == GH_EVALIDATION)
			return refuse(r, 422, "invalid_message", kwhy ? kwhy : "the message's body is not what its kind takes");
		if (krc)
			return krc;
	}
	return req_write(r, in_write, in_done, m);
}

const struct route fed_msg_routes[] = {
	{ HTTP_POST, "/federation/inbox", inbox, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.inbox" },
};
const size_t fed_msg_routes_n = sizeof(fed_msg_routes) / sizeof(fed_msg_routes[0]);

/* ---- `govhall federation send|outbox|inbox` ------------------------------------------------- */

DB_SQL(q_out_list, "SELECT dest, subject, seq, kind, attempts, COALESCE(delivered_at, 0), COALESCE(last_error, '') "
		   "FROM fed_outbox ORDER BY id");
DB_SQL(q_in_list, "SELECT sender, subject, seq, kind, body, received_at FROM fed_inbox ORDER BY sender, subject, seq");

int fed_msg_cli(struct app *app, struct db *db, int argc, char **argv)
{
	struct arena *a = arena_new(0);
	int rc = 2;
	struct db_rows rows;
	if (argc >= 1 && !strcmp(argv[0], "send")) {
		const char *dest = argc >= 2 ? argv[1] : NULL, *subject = NULL, *kind = "note", *body = "{}";
		for (int i = 2; i < argc; i++) {
			if (i + 1 < argc && !strcmp(argv[i], "--subject"))
				subject = argv[++i];
			else if (i + 1 < argc && !strcmp(argv[i], "--kind"))
				kind = argv[++i];
			else if (i + 1 < argc && !strcmp(argv[i], "--body"))
				body = argv[++i];
			else
				dest = NULL;
		}
		json_t *b = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
		if (!dest || !subject || !json_is_object(b) || !app->cfg.fed_client_id || !*app->cfg.fed_client_id) {
			fprintf(stderr, "govhall: send needs a hall id, --subject S, a JSON object as --body and fed-client-id\n");
		} else if ((rc = fed_outbox_add(db, app->cfg.fed_client_id, dest, subject, kind, b))) {
			fprintf(stderr, "govhall: the message could not be queued (%s)\n", err_slug(rc));
			rc = 1;
		} else
			printf("queued for %s (subject %s): the outbox delivers it\n", dest, subject);
		json_decref(b);
	} else if (argc == 1 && !strcmp(argv[0], "outbox")) {
		rc = db_query(db, a, &q_out_list, DB_NOARGS, &rows);
		for (size_t i = 0; !rc && i < rows.nrows; i++)
			printf("%s\t%s\t%s\t%s\tattempts %s\t%s\t%s\n", db_cell(&rows, i, 0), db_cell(&rows, i, 1), db_cell(&rows, i, 2),
			       db_cell(&rows, i, 3), db_cell(&rows, i, 4),
			       db_cell_int(&rows, i, 5) ? "delivered" : "waiting", db_cell(&rows, i, 6));
		rc = rc ? 1 : 0;
	} else if (argc == 1 && !strcmp(argv[0], "inbox")) {
		rc = db_query(db, a, &q_in_list, DB_NOARGS, &rows);
		for (size_t i = 0; !rc && i < rows.nrows; i++) {
			const char *body;
			if (body_open(a, "fed_inbox.body", db_cell(&rows, i, 4), &body)) {
				fprintf(stderr, "govhall: a received message cannot be opened: give the hall's own key file (--key-file)\n");
				rc = 1;
				break;
			}
			printf("%s\t%s\t%s\t%s\t%s\n", db_cell(&rows, i, 0), db_cell(&rows, i, 1), db_cell(&rows, i, 2),
			       db_cell(&rows, i, 3), body);
		}
		rc = rc ? 1 : 0;
	}
	arena_free(a);
	return rc;
}
