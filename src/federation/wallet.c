/* wallet.c: a person's certificates at other halls, asked through the hub (federation.h,
 * "Certificates of other halls"). The hub relays: it takes a hall's signed request for one
 * national subject, asks each other hall at which that subject logged in (oidc_subject_halls),
 * signing each request with its own key, and gives back each hall's signed answer as it came.
 * The hub neither reads nor keeps the certificates; what a hall answers is the domain's
 * (src/fedwallet), which checks what it receives with the helpers here. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "federation/fed_impl.h"
#include "federation/jwt.h"
#include "http/client.h"
#include "http/server.h"
#include "identity/crypto.h"
#include "store/db.h"

#define ASK_MAX 8192                   /* a hall's signed request to the hub */
#define ANSWER_MAX (1024 * 1024)       /* one hall's signed answer */
#define HALLS_MAX 32                   /* halls asked for one person */
#define ASK_TTL 120                    /* seconds a request is valid */

/* ---- a hall: its own signed documents, and other halls' -------------------------------------- */

int fed_seal_for(struct arena *a, const char *hall, const char *msg, size_t len, char **out)
{
	return fed_member_seal_for(a, hall, msg, len, out);
}

int fed_open_sealed(struct arena *a, const char *text, size_t len, char **out, size_t *outlen)
{
	return fed_member_open_sealed(a, text, len, out, outlen);
}

int fed_sign_doc(struct arena *a, const json_t *claims, char **out)
{
	return fed_member_sign_doc(a, claims, out);
}

/* The times and audience of a signed request or answer: iss as expected, aud this side, not
 * expired, issued not ahead of the clock and valid at most 10 minutes. */
static int claims_ok(const json_t *c, const char *iss, const char *aud, const char **why)
{
	int64_t now = time(NULL);
	json_int_t iat = json_integer_value(json_object_get(c, "iat")), exp = json_integer_value(json_object_get(c, "exp"));
	const char *ci = json_string_value(json_object_get(c, "iss")), *ca = json_string_value(json_object_get(c, "aud"));
	if (!ci || strcmp(ci, iss))
		*why = "signed for another issuer";
	else if (!ca || strcmp(ca, aud))
		*why = "signed for another audience";
	else if (!json_is_integer(json_object_get(c, "exp")) || exp <= now)
		*why = "expired";
	else if (!json_is_integer(json_object_get(c, "iat")) || iat > now + FED_SKEW || exp - iat > 600)
		*why = "issued ahead of the clock or valid too long";
	else if (!json_string_value(json_object_get(c, "sub")))
		*why = "no subject";
	else
		return 0;
	return GH_EINVAL;
}

int fed_peer_doc_check(struct arena *a, const char *hall, const char *tok, size_t len, size_t max, json_t **claims,
		       const char **why)
{
	*claims = NULL;
	struct jwk k;
	char owner[65];
	const char *kid = jwt_kid(a, tok, len);
	if (!kid || fed_member_peer_key(kid, k.pk, owner) || strcmp(owner, hall)) {
		*why = "not signed by a key of that hall in the directory";
		return GH_EINVAL;
	}
	snprintf(k.kid, sizeof(k.kid), "%s", kid);
	if (jwt_verify_max(tok, len, max, &k, 1, claims, why))
		return GH_EINVAL;
	if (claims_ok(*claims, hall, fed_self(), why)) {
		json_decref(*claims);
		*claims = NULL;
		return GH_EINVAL;
	}
	return 0;
}

int fed_hub_request_check(const char *tok, size_t len, json_t **claims, const char **why)
{
	*claims = NULL;
	struct jwk keys[JWKS_KEYS_MAX];
	size_t n = 0;
	if (!fed_cfg.rp || fed_rp_hub_keys(false, keys, &n)) {
		*why = "the hub's keys cannot be fetched";
		return GH_EUNAVAILABLE;
	}
	int rc = jwt_verify(tok, len, keys, n, claims, why);
	if (rc == GH_ENOTFOUND && !fed_rp_hub_keys(true, keys, &n))
		rc = jwt_verify(tok, len, keys, n, claims, why);
	if (rc)
		return GH_EINVAL;
	if (claims_ok(*claims, fed_cfg.issuer, fed_self(), why)) {
		json_decref(*claims);
		*claims = NULL;
		return GH_EINVAL;
	}
	return 0;
}

int fed_hub_wallet_ask(struct arena *a, const char *subject, long *status, const char **body, size_t *len)
{
	if (!fed_cfg.rp || !fed_cfg.app)
		return GH_ENOTFOUND;
	int64_t now = time(NULL);
	char jti[CRYPTO_TOKEN_LEN + 1];
	crypto_new_token(jti);
	json_t *claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "iss", fed_self(), "aud", fed_cfg.issuer, "sub", subject, "iat",
				   (json_int_t)now, "exp", (json_int_t)(now + ASK_TTL), "jti", jti);
	char *tok;
	int rc = claims ? fed_member_sign_doc(a, claims, &tok) : GH_EINTERNAL;
	json_decref(claims);
	if (rc)
		return rc;
	const char *headers[] = { "Content-Type: application/jwt", NULL };
	struct http_client_resp resp;
	char err[256];
	/* The hub asks each hall in turn, each within fed-timeout: wait for a few. */
	if (http_client("POST", arena_printf(a, "%s/federation/wallet", fed_cfg.issuer), headers, tok, strlen(tok),
			fed_cfg.app->cfg.fed_timeout * 4, (size_t)HALLS_MAX * ANSWER_MAX / 8, NULL, &resp, err, sizeof(err))) {
		log_warn("federation: the hub cannot be asked for a person's certificates (%s)", err);
		return GH_EUNAVAILABLE;
	}
	*status = resp.status;
	*body = arena_strndup(a, resp.body ? resp.body : "", resp.len);
	*len = resp.len;
	http_client_resp_free(&resp);
	return 0;
}

DB_SQL(q_link_subject, "SELECT subject FROM fed_links WHERE issuer = ? AND account_id = ? ORDER BY last_login DESC LIMIT 1");
DB_SQL(q_link_account, "SELECT account_id FROM fed_links WHERE issuer = ? AND subject = ?");

/* The one row of a link query with the hub's issuer and a key: 0, or GH_ENOTFOUND. */
static int link_row(struct db *db, struct arena *a, struct db_sql *q, struct db_val key, struct db_rows *rows)
{
	int rc = fed_cfg.rp ? db_query(db, a, q, DB_ARGS(DB_TEXT(fed_cfg.issuer), key), rows) : GH_ENOTFOUND;
	return rc ? rc : rows->nrows == 1 ? 0 : GH_ENOTFOUND;
}

int fed_link_subject(struct db *db, struct arena *a, int64_t account, const char **subject)
{
	struct db_rows rows;
	int rc = link_row(db, a, &q_link_subject, DB_INT(account), &rows);
	if (!rc)
		*subject = db_cell(&rows, 0, 0);
	return rc;
}

int fed_link_account(struct db *db, struct arena *a, const char *subject, int64_t *account)
{
	struct db_rows rows;
	int rc = link_row(db, a, &q_link_account, DB_TEXT(subject), &rows);
	if (!rc)
		*account = db_cell_int(&rows, 0, 0);
	return rc;
}

/* ---- the hub: POST /federation/wallet ------------------------------------------------------- */

DB_SQL(q_halls, "SELECT hall_id, keys FROM fed_halls WHERE state = 'approved' ORDER BY hall_id");
DB_SQL(q_linked, "SELECT 1 FROM oidc_subject_halls WHERE subject = ? AND client_id = ?");
DB_SQL(q_targets, "SELECT s.client_id, h.base_url FROM oidc_subject_halls s JOIN fed_halls h ON h.hall_id = s.client_id "
		  "AND h.state = 'approved' WHERE s.subject = ? AND s.client_id <> ? ORDER BY s.client_id LIMIT 32");

struct relay {
	struct arena *a;
	const char *from, *subject;
	size_t n;
	const char *hall[HALLS_MAX], *url[HALLS_MAX];
	const char *doc[HALLS_MAX], *error[HALLS_MAX];
	long timeout;
};

static int refuse(struct req *r, int status, const char *error, const char *why)
{
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, status, json_pack("{s:s,s:s}", "error", error, "error_description", why));
}

/* Which approved hall signed tok: its claims, or NULL with *why. */
static json_t *signer(struct req *r, const char *tok, size_t len, const char **hall, const char **why)
{
	struct db_rows rows;
	*why = "not signed by a hall of the directory";
	if (db_query(r->db, r->arena, &q_halls, NULL, 0, &rows))
		return NULL;
	for (size_t i = 0; i < rows.nrows; i++) {
		struct jwk keys[JWKS_KEYS_MAX];
		size_t n = 0;
		json_t *ks = json_loads(db_cell(&rows, i, 1), 0, NULL);
		size_t k;
		json_t *e;
		json_array_foreach(ks, k, e)
		{
			const char *kid = json_string_value(json_object_get(e, "kid")), *x = json_string_value(json_object_get(e, "x"));
			unsigned char *pk;
			size_t pl;
			if (n < JWKS_KEYS_MAX && kid && x && strlen(kid) <= JWT_KID_MAX &&
			    !jwt_b64url_decode(r->arena, x, strlen(x), &pk, &pl) && pl == 32) {
				snprintf(keys[n].kid, sizeof(keys[n].kid), "%s", kid);
				memcpy(keys[n++].pk, pk, 32);
			}
		}
		json_decref(ks);
		json_t *claims;
		int rc = n ? jwt_verify(tok, len, keys, n, &claims, why) : GH_ENOTFOUND;
		if (rc == GH_ENOTFOUND)
			continue;
		if (rc)
			return NULL;
		*hall = db_cell(&rows, i, 0);
		if (claims_ok(claims, *hall, fed_cfg.issuer, why)) {
			json_decref(claims);
			return NULL;
		}
		return claims;
	}
	return NULL;
}

static void relay_work(void *arg)
{
	struct relay *x = arg;
	int64_t now = time(NULL);
	for (size_t i = 0; i < x->n; i++) {
		char jti[CRYPTO_TOKEN_LEN + 1];
		crypto_new_token(jti);
		json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "iss", fed_cfg.issuer, "aud", x->hall[i], "sub",
					   x->subject, "for", x->from, "iat", (json_int_t)now, "exp", (json_int_t)(now + ASK_TTL),
					   "jti", jti);
		char *tok = NULL;
		int rc = claims ? fed_hub_sign(x->a, claims, &tok) : GH_EINTERNAL;
		json_decref(claims);
		x->error[i] = "unavailable";
		if (rc)
			continue;
		const char *headers[] = { "Content-Type: application/jwt", NULL };
		struct http_client_resp resp;
		char err[256];
		if (http_client("POST", arena_printf(x->a, "%s/federation/wallet/holdings", x->url[i]), headers, tok, strlen(tok),
				x->timeout, ANSWER_MAX, NULL, &resp, err, sizeof(err))) {
			log_warn("federation: %s cannot be asked for a person's certificates (%s)", x->hall[i], err);
			continue;
		}
		if (resp.status == 200 && resp.len > 0) {
			x->doc[i] = arena_strndup(x->a, resp.body, resp.len);
			x->error[i] = NULL;
		} else
			x->error[i] = resp.status == 404 ? "not_linked" : "refused";
		http_client_resp_free(&resp);
	}
}

static int relay_done(struct req *r, void *arg)
{
	struct relay *x = arg;
	json_t *halls = json_array();
	for (size_t i = 0; i < x->n; i++)
		json_array_append_new(halls, x->doc[i] ? json_pack("{s:s,s:s}", "hall", x->hall[i], "document", x->doc[i])
						       : json_pack("{s:s,s:s}", "hall", x->hall[i], "error", x->error[i]));
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:o}", "halls", halls));
}

/* POST /federation/wallet (the hub): a hall's request, a JWT signed by its message key
 * {iss: hall, aud: hub, sub, iat, exp}, for the certificates of subject sub, who must have
 * logged in at that hall. */
static int relay(struct req *r)
{
	if (!fed_cfg.hub)
		return GH_ENOTFOUND;
	size_t len = 0;
	const char *body = req_body(r, &len);
	if (!body || len == 0 || len > ASK_MAX)
		return refuse(r, 400, "invalid_request", "the body is a signed request (a JWT) of at most 8 KiB");
	const char *why, *from = NULL;
	json_t *claims = signer(r, body, len, &from, &why);
	if (!claims)
		return refuse(r, 401, "invalid_signature", why);
	struct relay *x = arena_zalloc(r->arena, sizeof(*x));
	x->a = r->arena;
	x->from = from;
	x->subject = arena_strdup(r->arena, json_string_value(json_object_get(claims, "sub")));
	json_decref(claims);
	x->timeout = r->app->cfg.fed_timeout;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_linked, DB_ARGS(DB_TEXT(x->subject), DB_TEXT(from)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return refuse(r, 403, "not_linked", "the person has not logged in at the asking hall with the national account");
	if ((rc = db_query(r->db, r->arena, &q_targets, DB_ARGS(DB_TEXT(x->subject), DB_TEXT(from)), &rows)))
		return rc;
	for (size_t i = 0; i < rows.nrows && x->n < HALLS_MAX; i++, x->n++) {
		x->hall[x->n] = db_cell(&rows, i, 0);
		x->url[x->n] = db_cell(&rows, i, 1);
	}
	return x->n ? req_job(r, relay_work, relay_done, x) : relay_done(r, x);
}

const struct route fed_wallet_routes[] = {
	{ HTTP_POST, "/federation/wallet", relay, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.wallet_relay" },
};
const size_t fed_wallet_routes_n = sizeof(fed_wallet_routes) / sizeof(fed_wallet_routes[0]);
