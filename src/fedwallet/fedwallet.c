/* fedwallet.c: the wallet across halls (fedwallet.h): a hall answering for its certificates
 * (to the hub, and about one of them to another hall), and the person's wallet at the hall
 * where they are: consent, the fetch through the hub, the copies kept. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/jsonout.h"
#include "certs/certs.h"
#include "federation/federation.h"
#include "fedwallet/fedwallet.h"
#include "fedwallet/fedwallet_impl.h"
#include "http/handler.h"
#include "http/msg.h"
#include "http/router.h"
#include "http/sections.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "store/cover.h"
#include "store/db.h"
#include "store/personal.h"

#define ASK_MAX 8192              /* the hub's signed request */
#define DOC_MAX (1024 * 1024)     /* a hall's signed answer */
#define HALLS_MAX 32              /* halls in the hub's answer */
#define COPIES_MAX 200            /* certificates kept from one hall */
#define ANSWER_TTL 300            /* seconds a hall's signed answer is valid */
#define TEXT_MAX 200              /* numbers, types, hashes as taken from another hall */

int fw_refuse(struct req *r, int code, const char *why)
{
	req_error_detail(r, "%s", why);
	return code;
}

/* An answer to another hall or the hub: {error, error_description}. */
static int peer_refuse(struct req *r, int status, const char *error, const char *why)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, status, json_pack("{s:s,s:s}", "error", error, "error_description", why));
}

/* claims signed with this hall's message key, answered as application/jwt. */
static int answer_signed(struct req *r, json_t *claims)
{
	char *tok;
	int rc = claims ? fed_sign_doc(r->arena, claims, &tok) : GH_EINTERNAL;
	json_decref(claims);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_body(r, 200, "application/jwt", tok, strlen(tok));
}

bool fw_text_ok(const char *s)
{
	if (!s || !*s || strlen(s) > TEXT_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '/' || *s == '?' || *s == '&' || *s == '#' || *s == '%')
			return false;
	return true;
}

/* ---- B: what a hall answers ------------------------------------------------------------------ */

struct hold {
	const char *tok;
	size_t len;
	json_t *claims;
	const char *why, *sub, *asker;
	int64_t account;
	int rc;
};

static void hold_work(void *arg)
{
	struct hold *h = arg;
	h->rc = fed_hub_request_check(h->tok, h->len, &h->claims, &h->why);
}

static int hold_answer(struct req *r, void *arg)
{
	struct hold *h = arg;
	json_t *docs;
	int rc = certs_held_documents(r->db, r->arena, h->account, &docs);
	if (rc)
		return rc;
	int64_t now = time(NULL);
	json_t *claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:o}", "iss", fed_self(), "aud", h->asker, "sub", h->sub, "iat",
				   (json_int_t)now, "exp", (json_int_t)(now + ANSWER_TTL), "certificates", docs);
	char *tok, *sealed;
	rc = claims ? fed_sign_doc(r->arena, claims, &tok) : GH_EINTERNAL;
	json_decref(claims);
	/* Sealed to the asking hall's key: the hub relays it, and neither it nor anyone who
	 * replays the request can read it. */
	if (rc || (rc = fed_seal_for(r->arena, h->asker, tok, strlen(tok), &sealed)))
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_body(r, 200, "text/plain", sealed, strlen(sealed));
}

static int hold_done(struct req *r, void *arg)
{
	struct hold *h = arg;
	if (h->rc == GH_EUNAVAILABLE)
		return peer_refuse(r, 503, "unavailable", h->why);
	if (h->rc)
		return peer_refuse(r, 401, "invalid_signature", h->why);
	arena_cleanup(r->arena, (void (*)(void *))json_decref, h->claims);
	const char *sub = json_string_value(json_object_get(h->claims, "sub"));
	const char *asker = json_string_value(json_object_get(h->claims, "for"));
	if (!asker || !fed_hall_known(asker))
		return peer_refuse(r, 401, "invalid_signature", "the request names no hall of the directory to answer");
	int rc = fed_link_account(r->db, r->arena, sub, &h->account);
	if (rc == GH_ENOTFOUND)
		return peer_refuse(r, 404, "not_linked", "no account of this hall is linked to that subject");
	if (rc)
		return rc;
	h->sub = sub;
	h->asker = asker;
	/* The documents carry their log proofs: under a checkpoint that covers them all. */
	return ledger_signed_then(r, LEDGER_HEAD, hold_answer, h);
}

/* POST /federation/wallet/holdings: the hub's signed request (fed_hub_request_check) for the
 * certificates of the account linked to a national subject, for the hall the request names. */
static int holdings(struct req *r)
{
	if (!*fed_self())
		return GH_ENOTFOUND;
	struct hold *h = arena_zalloc(r->arena, sizeof(*h));
	h->tok = req_body(r, &h->len);
	if (!h->tok || h->len == 0 || h->len > ASK_MAX)
		return peer_refuse(r, 400, "invalid_request", "the body is the hub's signed request (a JWT) of at most 8 KiB");
	return req_job(r, hold_work, hold_done, h);
}

/* GET /federation/certificates/{number}/status?hash=H&subject=S, signed by another hall: what
 * this hall says of its certificate now (valid, revoked, unknown) and whether the account linked
 * to subject S holds it, signed. */
static int cert_status(struct req *r)
{
	char hall[65];
	const char *why;
	int rc = fed_request_sender(r, "GET", hall, &why);
	if (rc == GH_ENOTFOUND)
		return rc;
	if (rc)
		return peer_refuse(r, 401, "invalid_signature", why);
	const char *number = req_param(r, "number"), *hash = req_query(r, "hash"), *subject = req_query(r, "subject");
	if (!fw_text_ok(number) || !fw_text_ok(hash) || !fw_text_ok(subject))
		return peer_refuse(r, 400, "invalid_request", "number, hash and subject are required");
	int64_t account = 0;
	if ((rc = fed_link_account(r->db, r->arena, subject, &account)) && rc != GH_ENOTFOUND)
		return rc;
	const char *status;
	bool held;
	if ((rc = certs_status_for(r->db, r->arena, number, hash, account, &status, &held)))
		return rc;
	int64_t now = time(NULL);
	return answer_signed(r, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I}", "iss", fed_self(), "aud", hall, "sub", subject,
					  "number", number, "hash", hash, "status", status, "held", account && held, "iat",
					  (json_int_t)now, "exp", (json_int_t)(now + ANSWER_TTL)));
}

/* ---- A: the person's consent ---------------------------------------------------------------- */

DB_SQL(q_consent, "SELECT granted_at FROM wallet_fed_consents WHERE account_id = ? AND revoked_at IS NULL");
DB_SQL(q_grant, "INSERT INTO wallet_fed_consents (account_id, granted_at, revoked_at) VALUES (?, ?, NULL) "
		"ON CONFLICT (account_id) DO UPDATE SET granted_at = excluded.granted_at, revoked_at = NULL");
DB_SQL(q_revoke, "UPDATE wallet_fed_consents SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL");
DB_SQL(q_drop_all, "DELETE FROM wallet_fed_certs WHERE account_id = ?");
DB_SQL(q_drop_hall, "DELETE FROM wallet_fed_certs WHERE account_id = ? AND hall = ?");
DB_SQL(q_put, "INSERT INTO wallet_fed_certs (account_id, hall, number, cert_type, hash, status, document, fetched_at) "
	      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_copies, "SELECT hall, number, cert_type, hash, status, document, fetched_at, checked_at, check_status "
		 "FROM wallet_fed_certs WHERE account_id = ? ORDER BY hall, number LIMIT 1000");

/* When account's consent stands: 0 with *at; GH_ENOTFOUND without one. */
int fw_consent(struct db *db, struct arena *a, int64_t account, int64_t *at)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_consent, DB_ARGS(DB_INT(account)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	*at = db_cell_int(&rows, 0, 0);
	return 0;
}

struct consent {
	int64_t account, at;
	bool grant, page;
};

static int consent_write(struct req *w, void *arg)
{
	struct consent *c = arg;
	bool own;
	int rc = cover_tx_begin(w->db, &own);
	if (rc)
		return rc;
	rc = c->grant ? db_exec(w->db, &q_grant, DB_ARGS(DB_INT(c->account), DB_INT(c->at)), NULL)
		      : db_exec(w->db, &q_revoke, DB_ARGS(DB_INT(c->at), DB_INT(c->account)), NULL);
	if (!rc && !c->grant)
		rc = db_exec(w->db, &q_drop_all, DB_ARGS(DB_INT(c->account)), NULL);
	if (!rc)
		rc = cover_touch_id(w->db, "wallet_fed_consents", c->account, c->grant ? "wallet.consent" : "wallet.withdraw");
	return cover_tx_end(w->db, own, rc);
}

static int consent_done(struct req *r, void *arg, int rc)
{
	struct consent *c = arg;
	if (rc)
		return rc;
	if (c->page)
		return resp_redirect(r, 303, "/wallet");
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, c->grant ? json_pack("{s:b,s:I}", "consent", 1, "consent_at", (json_int_t)c->at)
					  : json_pack("{s:b,s:n}", "consent", 0, "consent_at"));
}

/* PUT /api/v1/wallet/federation/consent: the person agrees that this hall asks the hub for
 * their certificates at other halls; DELETE: they take it back, and the copies go. */
static int consent_set(struct req *r)
{
	struct consent *c = arena_zalloc(r->arena, sizeof(*c));
	c->account = r->who.account;
	c->at = time(NULL);
	c->grant = r->method == HTTP_PUT;
	if (r->method == HTTP_POST) {
		/* The wallet's page: consent=yes|no. */
		struct kvlist in;
		int rc = req_form(r, &in);
		if (rc)
			return rc;
		const char *v = kv_get(&in, "consent");
		c->page = true;
		c->grant = v && !strcmp(v, "yes");
	}
	if (!*fed_self())
		return fw_refuse(r, GH_ENOTFOUND, M(r, "fedwallet_not_joined"));
	return req_write(r, consent_write, consent_done, c);
}

/* ---- A: the fetch ----------------------------------------------------------------------------- */

struct copy {
	const char *hall, *number, *type, *hash, *status, *sealed;
};

struct fetch {
	struct arena *a;
	int64_t account, now;
	const char *subject;
	int rc;
	long status;
	const char *body;
	size_t len;
	json_t *summary;             /* per hall, for the answer */
	const char *answered[HALLS_MAX];
	size_t nanswered;
	struct copy *copies;
	size_t ncopies;
	bool no_consent, page;
};

static void fetch_work(void *arg)
{
	struct fetch *f = arg;
	f->rc = fed_hub_wallet_ask(f->a, f->subject, &f->status, &f->body, &f->len);
}

/* The copies of one hall's signed answer doc that check, into f; a summary line for the hall. */
static json_t *take_hall(struct req *r, struct fetch *f, const char *hall, const char *doc, size_t cap)
{
	json_t *claims;
	const char *why = "not sealed for this hall";
	char *tok = NULL;
	size_t tl = 0;
	if (!fw_text_ok(hall) || !doc || fed_open_sealed(r->arena, doc, strlen(doc), &tok, &tl) ||
	    fed_peer_doc_check(r->arena, hall, tok, tl, DOC_MAX, &claims, &why)) {
		log_warn("wallet: the answer of %s for a person's certificates is refused (%s)", fw_text_ok(hall) ? hall : "?",
			 doc ? why : "no document");
		return json_pack("{s:s,s:s}", "hall", fw_text_ok(hall) ? hall : "?", "error", "invalid_signature");
	}
	arena_cleanup(r->arena, (void (*)(void *))json_decref, claims);
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	json_t *list = json_object_get(claims, "certificates");
	if (!sub || strcmp(sub, f->subject) || !json_is_array(list))
		return json_pack("{s:s,s:s}", "hall", hall, "error", "invalid_signature");
	const struct keyring *k = identity_keyring();
	size_t kept = 0, refused = 0, i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		json_t *doc_j = json_object_get(e, "document");
		const char *st = json_string_value(json_object_get(e, "status"));
		json_t *v = json_is_object(doc_j) ? certs_verify_copy(r, doc_j) : NULL;
		const char *vs = json_string_value(json_object_get(v, "status"));
		const char *number = json_string_value(json_object_get(v, "number"));
		const char *hash = json_string_value(json_object_get(v, "hash"));
		const char *type = json_string_value(json_object_get(json_object_get(doc_j, "certificate"), "cert_type"));
		/* Another hall's copy, checked under its keys from the directory (issuer_log); this
		 * hall's own certificates are in the wallet already. */
		bool ok = v && vs && !strcmp(vs, "valid") && json_string_value(json_object_get(v, "issuer_log")) && st &&
			  (!strcmp(st, "valid") || !strcmp(st, "revoked")) && fw_text_ok(number) && fw_text_ok(hash) &&
			  fw_text_ok(type) && k && kept < COPIES_MAX && f->ncopies < cap;
		char *text = ok ? jsonout_dumps(doc_j, JSON_COMPACT) : NULL;
		if (text) {
			f->copies[f->ncopies++] = (struct copy){ .hall = hall,
								 .number = arena_strdup(r->arena, number),
								 .type = arena_strdup(r->arena, type),
								 .hash = arena_strdup(r->arena, hash),
								 .status = st,
								 .sealed = crypto_seal_text(k, r->arena, "wallet_fed", text) };
			free(text);
			kept++;
		} else
			refused++;
		json_decref(v);
	}
	if (refused)
		log_warn("wallet: %zu certificate(s) in the answer of %s do not verify and are left out", refused, hall);
	f->answered[f->nanswered++] = hall;
	return json_pack("{s:s,s:I,s:I}", "hall", hall, "certificates", (json_int_t)kept, "refused", (json_int_t)refused);
}

static int fetch_write(struct req *w, void *arg)
{
	struct fetch *f = arg;
	int64_t at;
	int rc = fw_consent(w->db, w->arena, f->account, &at);
	f->no_consent = rc == GH_ENOTFOUND;
	if (rc)
		return f->no_consent ? 0 : rc;
	for (size_t i = 0; i < f->nanswered; i++)
		if ((rc = db_exec(w->db, &q_drop_hall, DB_ARGS(DB_INT(f->account), DB_TEXT(f->answered[i])), NULL)))
			return rc;
	for (size_t i = 0; i < f->ncopies; i++) {
		const struct copy *c = &f->copies[i];
		if ((rc = db_exec(w->db, &q_put,
				  DB_ARGS(DB_INT(f->account), DB_TEXT(c->hall), DB_TEXT(c->number), DB_TEXT(c->type), DB_TEXT(c->hash),
					  DB_TEXT(c->status), DB_TEXT(c->sealed), DB_INT(f->now)),
				  NULL)))
			return rc;
	}
	return 0;
}

static int fetch_stored(struct req *r, void *arg, int rc)
{
	struct fetch *f = arg;
	if (rc)
		return rc;
	if (f->no_consent)
		return fw_refuse(r, GH_ECONFLICT, M(r, "fedwallet_consent_first"));
	if (f->page)
		return resp_redirect(r, 303, "/wallet");
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:O,s:I}", "halls", f->summary, "fetched_at", (json_int_t)f->now));
}

static int fetch_done(struct req *r, void *arg)
{
	struct fetch *f = arg;
	if (f->rc || (f->status != 200 && f->status != 403))
		return fw_refuse(r, GH_EUNAVAILABLE, M(r, "fedwallet_hub_unreachable"));
	if (f->status == 403)
		return fw_refuse(r, GH_ECONFLICT, M(r, "fedwallet_national_first"));
	json_t *ans = json_loadb(f->body, f->len, JSON_REJECT_DUPLICATES, NULL);
	if (ans)
		arena_cleanup(r->arena, (void (*)(void *))json_decref, ans);
	json_t *halls = json_object_get(ans, "halls");
	if (!json_is_array(halls))
		return fw_refuse(r, GH_EUNAVAILABLE, M(r, "fedwallet_hub_unreachable"));
	f->summary = json_array();
	arena_cleanup(r->arena, (void (*)(void *))json_decref, f->summary);
	size_t cap = (size_t)HALLS_MAX * COPIES_MAX;
	f->copies = arena_zalloc(r->arena, cap * sizeof(*f->copies));
	size_t i;
	json_t *h;
	json_array_foreach(halls, i, h)
	{
		if (i >= HALLS_MAX)
			break;
		const char *hall = json_string_value(json_object_get(h, "hall"));
		const char *doc = json_string_value(json_object_get(h, "document"));
		const char *err = json_string_value(json_object_get(h, "error"));
		if (!doc && fw_text_ok(hall))
			json_array_append_new(f->summary, json_pack("{s:s,s:s}", "hall", hall, "error",
								    err && !strcmp(err, "not_linked") ? "not_linked" : "unavailable"));
		else if (fw_text_ok(hall) && strcmp(hall, fed_self()))
			json_array_append_new(f->summary, take_hall(r, f, arena_strdup(r->arena, hall), doc, cap));
	}
	return req_write(r, fetch_write, fetch_stored, f);
}

/* POST /api/v1/wallet/federation/fetch: with the person's consent, their certificates at other
 * halls, asked through the hub, checked and kept. */
static int fetch(struct req *r)
{
	struct fetch *f = arena_zalloc(r->arena, sizeof(*f));
	f->a = r->arena;
	f->account = r->who.account;
	f->now = time(NULL);
	f->page = r->method == HTTP_POST && strncmp(r->path, "/api/", 5) != 0;
	if (!*fed_self())
		return fw_refuse(r, GH_ENOTFOUND, M(r, "fedwallet_not_joined"));
	int64_t at;
	int rc = fw_consent(r->db, r->arena, f->account, &at);
	if (rc == GH_ENOTFOUND)
		return fw_refuse(r, GH_ECONFLICT, M(r, "fedwallet_consent_first"));
	if (rc)
		return rc;
	if ((rc = fed_link_subject(r->db, r->arena, f->account, &f->subject)) == GH_ENOTFOUND)
		return fw_refuse(r, GH_ECONFLICT, M(r, "fedwallet_national_first"));
	if (rc)
		return rc;
	return req_job(r, fetch_work, fetch_done, f);
}

/* ---- A: the wallet's certificates of other halls ------------------------------------------------ */

int fw_copy_open(struct arena *a, const char *sealed, json_t **doc)
{
	const struct keyring *k = identity_keyring();
	char *plain;
	if (!k || crypto_open_text(k, a, "wallet_fed", sealed, strlen(sealed), &plain, NULL))
		return GH_EINTERNAL;
	*doc = json_loads(plain, 0, NULL);
	return *doc ? 0 : GH_EINTERNAL;
}

/* The consent and the copies kept, each with its hall: GET /api/v1/wallet/federation's
 * answer (a new object into *out). */
static int wallet_state(struct req *r, json_t **out)
{
	int64_t at = 0;
	int rc = fw_consent(r->db, r->arena, r->who.account, &at);
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	bool consent = rc == 0;
	const char *sub;
	int lrc = fed_link_subject(r->db, r->arena, r->who.account, &sub);
	if (lrc && lrc != GH_ENOTFOUND)
		return lrc;
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_copies, DB_ARGS(DB_INT(r->who.account)), &rows)))
		return rc;
	json_t *items = json_array();
	for (size_t i = 0; i < rows.nrows; i++) {
		json_t *doc;
		if (fw_copy_open(r->arena, db_cell(&rows, i, 5), &doc)) {
			json_decref(items);
			return GH_EINTERNAL;
		}
		json_t *cert = json_object_get(doc, "certificate");
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:O}", "hall", db_cell(&rows, i, 0), "number", db_cell(&rows, i, 1),
				      "cert_type", db_cell(&rows, i, 2), "hash", db_cell(&rows, i, 3), "status",
				      db_cell(&rows, i, 4), "fetched_at", (json_int_t)db_cell_int(&rows, i, 6), "document", doc);
		jset(o, "cert_type_name", json_string_value(json_object_get(cert, "cert_type_name")));
		jset(o, "issued_on", json_string_value(json_object_get(cert, "issued_on")));
		jset(o, "issuer_name",
		     json_string_value(json_object_get(json_object_get(cert, "issuer"), en(r) ? "name_en" : "name_zh")));
		if (db_cell(&rows, i, 7)) {
			json_object_set_new(o, "checked_at", json_integer(db_cell_int(&rows, i, 7)));
			jset(o, "check_status", db_cell(&rows, i, 8));
		}
		json_decref(doc);
		json_array_append_new(items, o);
	}
	*out = json_pack("{s:b,s:o,s:b,s:o}", "consent", consent, "consent_at", consent ? json_integer(at) : json_null(),
			 "national", lrc == 0, "certificates", items);
	return 0;
}

/* GET /api/v1/wallet/federation */
static int wallet(struct req *r)
{
	json_t *out;
	int rc = wallet_state(r, &out);
	if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, out);
}

/* A person's consents are covered by the transparency log; the copies are what other halls
 * signed (each verifiable on its own) and are fetched again at will. */
static const struct cover_table cover_consents = {
	.table = "wallet_fed_consents", .key = "account_id", .cols = "granted_at, revoked_at",
};

void fedwallet_register(void)
{
	cover_declare(&cover_consents);
}

/* What the wallet holds of a person (store/personal.h): their consent (kept: a record of what
 * they allowed) and the copies of other halls' certificates (erased at closure: the halls that
 * issued them keep them). */
DB_SQL(q_personal_consent, "SELECT granted_at, revoked_at FROM wallet_fed_consents WHERE account_id = ?");
DB_SQL(q_personal_copies, "SELECT hall, number, cert_type, status, fetched_at, checked_at, check_status FROM wallet_fed_certs "
			  "WHERE account_id = ? ORDER BY fetched_at DESC, number LIMIT 2000");
static const struct personal_part part_consent = { .name = "wallet_consent", .kept = true, .query = &q_personal_consent };
static const struct personal_part part_copies = {
	.name = "wallet_other_halls", .kept = false, .query = &q_personal_copies, .erase_sql = { &q_drop_all },
};

void fedwallet_personal_declare(void)
{
	personal_declare(&part_consent);
	personal_declare(&part_copies);
}

/* The wallet's page (certs' section "certs.wallet"): other halls' certificates, the consent
 * and the fetch, for a person at a hall joined to a hub. */
static int wallet_section(struct req *r, const void *subject, json_t *ctx)
{
	(void)subject;
	if (!*fed_self() || !r->who.kind || strcmp(r->who.kind, "individual") || r->who.enterprise)
		return 0;
	json_t *fed;
	int rc = wallet_state(r, &fed);
	if (rc)
		return rc;
	json_t *copies = json_object_get(fed, "certificates"), *o;
	size_t i;
	json_array_foreach(copies, i, o)
	{
		const char *hall = json_string_value(json_object_get(o, "hall"));
		jset(o, "hall_name", fed_hall_name(r->arena, hall) ?: hall);
		json_object_set_new(o, "is_revoked", json_boolean(!strcmp(json_string_value(json_object_get(o, "status")), "revoked")));
		json_object_set_new(o, "check_href", json_sprintf("/wallet/federation/certificates/%s/%s/check", hall,
								  json_string_value(json_object_get(o, "number"))));
		const char *cs = json_string_value(json_object_get(o, "check_status"));
		if (cs) {
			jset(o, "check_result", fw_check_message(r, cs));
			jset(o, "check_when", req_when(r, json_integer_value(json_object_get(o, "checked_at"))));
		}
	}
	/* How the check just made went (the page's button comes back with ?check=CODE): a result
	 * the issuing hall gave is shown only when a copy holds it, so a link cannot claim one. */
	const char *code = req_query(r, "check");
	bool stored = code && (!strcmp(code, "valid") || !strcmp(code, "revoked") || !strcmp(code, "not_held") ||
			       !strcmp(code, "unknown"));
	bool held = false;
	json_array_foreach(copies, i, o)
	{
		const char *cs = json_string_value(json_object_get(o, "check_status"));
		held = held || (cs && code && !strcmp(cs, code));
	}
	if (!stored || held) {
		jset(fed, "check_message", fw_check_message(r, code));
		json_object_set_new(fed, "check_ok", json_boolean(code && !strcmp(code, "valid")));
	}
	json_object_set_new(fed, "has_copies", json_boolean(json_array_size(copies) > 0));
	if (json_is_true(json_object_get(fed, "consent")))
		jset(fed, "consent_when", req_when(r, json_integer_value(json_object_get(fed, "consent_at"))));
	json_object_set_new(ctx, "fed", fed);
	return 0;
}

void fedwallet_init(struct app *app)
{
	(void)app;
	fw_materials_init();
	page_section_add("certs.wallet", 10, wallet_section);
}

static const struct route fedwallet_routes[] = {
	{ HTTP_POST, "/federation/wallet/holdings", holdings, ROLE_PUBLIC, ROUTE_NOAUTH, "fedwallet.holdings" },
	{ HTTP_GET, "/federation/certificates/{number}/status", cert_status, ROLE_PUBLIC, ROUTE_NOAUTH, "fedwallet.status" },
	{ HTTP_GET, "/api/v1/wallet/federation", wallet, ROLE_CITIZEN, 0, "fedwallet.api_wallet", NULL, SCOPE_APPLY },
	{ HTTP_PUT | HTTP_DELETE, "/api/v1/wallet/federation/consent", consent_set, ROLE_CITIZEN, 0, "fedwallet.api_consent",
	  NULL, SCOPE_APPLY },
	{ HTTP_POST, "/api/v1/wallet/federation/fetch", fetch, ROLE_CITIZEN, 0, "fedwallet.api_fetch", NULL, SCOPE_APPLY },
	{ HTTP_POST, "/wallet/federation/consent", consent_set, ROLE_CITIZEN, ROUTE_CSRF, "fedwallet.consent" },
	{ HTTP_POST, "/wallet/federation/fetch", fetch, ROLE_CITIZEN, ROUTE_CSRF, "fedwallet.fetch" },
};

int fedwallet_add_routes(struct router *rt)
{
	return router_add(rt, fedwallet_routes, sizeof(fedwallet_routes) / sizeof(fedwallet_routes[0])) ||
		       router_add(rt, fw_material_routes, fw_material_routes_n)
		   ? GH_EINVAL
		   : 0;
}
