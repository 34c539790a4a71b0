/* oidc.c: the hub's OpenID Connect provider (OpenID Connect Core 1.0, RFC 6749, RFC 7636,
 * RFC 9207). Registered clients are the halls; the only flow is the authorization code with
 * PKCE S256; ID tokens are signed with EdDSA (jwt.h). Every route answers 404 unless
 * role = hub. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "federation/fed_impl.h"
#include "federation/jwt.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "store/db.h"

struct fed_settings fed_cfg;

/* The current signing key, loaded at start (read-only afterwards). */
static struct {
	char kid[JWT_KID_MAX + 1];
	unsigned char *sk; /* 64 bytes, sodium_malloc'd */
} hub_key;

void fed_hash(const char *s, char out[65])
{
	crypto_token_hash(identity_keyring(), s, out);
}

/* ---- keys ------------------------------------------------------------------------------------ */

DB_SQL(q_key_current, "SELECT kid, secret_sealed FROM oidc_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1");
DB_SQL(q_key_insert, "INSERT INTO oidc_keys (kid, public_key, secret_sealed, created_at) VALUES (?, ?, ?, ?)");
DB_SQL(q_keys_all, "SELECT kid, public_key FROM oidc_keys ORDER BY id DESC LIMIT 16");

static int key_load(struct db *db, struct arena *a, bool *found, char *err, size_t errlen)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_key_current, DB_NOARGS, &rows);
	if (rc) {
		snprintf(err, errlen, "the hub's signing keys cannot be read (%s)", err_slug(rc));
		return rc;
	}
	*found = rows.nrows == 1;
	if (!*found)
		return 0;
	char *sk;
	size_t len;
	if (crypto_open(identity_keyring(), a, "oidc_key", (const unsigned char *)db_cell(&rows, 0, 1), rows.lens[1], &sk,
			&len, NULL) ||
	    len != crypto_sign_SECRETKEYBYTES) {
		snprintf(err, errlen, "the hub's signing key does not open with this key file (another hall's?)");
		return GH_EINVAL;
	}
	memcpy(hub_key.sk, sk, len);
	sodium_memzero(sk, len);
	snprintf(hub_key.kid, sizeof(hub_key.kid), "%s", db_cell(&rows, 0, 0));
	return 0;
}

static int key_make(struct db *db, struct arena *a)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk, sk);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, pk, sizeof(pk));
	unsigned char *sealed;
	size_t slen;
	int rc = crypto_seal(identity_keyring(), a, "oidc_key", sk, sizeof(sk), &sealed, &slen);
	sodium_memzero(sk, sizeof(sk));
	if (!rc)
		rc = db_exec(db, &q_key_insert,
			     DB_ARGS(DB_TEXT(jwt_b64url(a, h, 12)), DB_TEXT(jwt_b64url(a, pk, sizeof(pk))), DB_BLOB(sealed, slen),
				     DB_INT(time(NULL))),
			     NULL);
	return rc;
}

int fed_hub_init(struct app *app, char *err, size_t errlen)
{
	if (!identity_keyring()) {
		snprintf(err, errlen, "the hub needs the key file (identity) before its signing key");
		return GH_EUNAVAILABLE;
	}
	if (!hub_key.sk && !(hub_key.sk = sodium_malloc(crypto_sign_SECRETKEYBYTES))) {
		snprintf(err, errlen, "out of memory for the hub's signing key");
		return GH_EINTERNAL;
	}
	struct db *db;
	int rc = db_open_named(app->cfg.db, "govhall hub keys", &db, err, errlen);
	if (rc)
		return rc;
	struct arena *a = arena_new(0);
	bool found = false;
	rc = key_load(db, a, &found, err, errlen);
	if (!rc && !found) {
		/* The first start of a hub makes its key; two nodes starting at once may both make
		 * one, and both then sign with the newest (the older stays published). */
		if ((rc = key_make(db, a)))
			snprintf(err, errlen, "the hub's signing key cannot be made (%s)", err_slug(rc));
		else
			rc = key_load(db, a, &found, err, errlen);
	}
	arena_free(a);
	db_close(db);
	return rc;
}

int fed_hub_key_rotate(struct db *db, char *kid, size_t kidlen)
{
	struct arena *a = arena_new(0);
	int rc = key_make(db, a);
	struct db_rows rows;
	if (!rc)
		rc = db_query(db, a, &q_key_current, DB_NOARGS, &rows);
	if (!rc)
		snprintf(kid, kidlen, "%s", rows.nrows ? db_cell(&rows, 0, 0) : "");
	arena_free(a);
	return rc;
}

int fed_hub_sign(struct arena *a, const json_t *claims, char **out)
{
	if (!hub_key.sk || !hub_key.kid[0])
		return GH_EUNAVAILABLE;
	return jwt_sign(a, hub_key.kid, claims, hub_key.sk, out) ? GH_EINTERNAL : 0;
}

void fed_hub_release(void)
{
	if (hub_key.sk)
		sodium_free(hub_key.sk);
	hub_key.sk = NULL;
}

/* ---- helpers --------------------------------------------------------------------------------- */

struct client {
	const char *id, *name, *secret_hash;
	json_t *redirects, *logouts; /* arrays, freed with the request */
};

DB_SQL(q_client, "SELECT client_id, name, secret_hash, redirect_uris, logout_uris FROM oidc_clients WHERE client_id = ?");

static void free_json(void *p)
{
	json_decref(p);
}

static int client_get(struct req *r, const char *id, struct client *c)
{
	if (!id || !*id || strlen(id) > 64)
		return GH_ENOTFOUND;
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_client, DB_ARGS(DB_TEXT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	c->id = db_cell(&rows, 0, 0);
	c->name = db_cell(&rows, 0, 1);
	c->secret_hash = db_cell(&rows, 0, 2);
	c->redirects = json_loads(db_cell(&rows, 0, 3), 0, NULL);
	c->logouts = json_loads(db_cell(&rows, 0, 4), 0, NULL);
	arena_cleanup(r->arena, free_json, c->redirects);
	arena_cleanup(r->arena, free_json, c->logouts);
	return 0;
}

/* Exact comparison, as OpenID Connect requires of redirect URIs. */
static bool listed(const json_t *arr, const char *uri)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		if (s && uri && strcmp(s, uri) == 0)
			return true;
	}
	return false;
}

/* A query parameter's value appended to a URL (with '?' or '&'). */
static void url_param(struct sb *sb, const char *name, const char *value)
{
	if (!value)
		return;
	sb_addch(sb, memchr(sb->buf, '?', sb->len) ? '&' : '?');
	sb_adds(sb, name);
	sb_addch(sb, '=');
	sb_add_urlenc(sb, value, strlen(value));
}

static char *sb_arena(struct req *r, struct sb *sb)
{
	char *s = arena_strndup(r->arena, sb->buf ? sb->buf : "", sb->len);
	sb_release(sb);
	return s;
}

/* RFC 6749 §4.1.2.1: an error of a request whose client and redirect URI are known goes back
 * to the client, with its state and the issuer (RFC 9207). */
static int redirect_error(struct req *r, const char *redirect_uri, const char *state, const char *error,
			  const char *description)
{
	struct sb sb = SB_INIT;
	sb_adds(&sb, redirect_uri);
	url_param(&sb, "error", error);
	url_param(&sb, "error_description", description);
	url_param(&sb, "state", state);
	url_param(&sb, "iss", fed_cfg.issuer);
	resp_header(r, "Cache-Control", "no-store");
	return resp_redirect(r, 303, sb_arena(r, &sb));
}

/* An answer of the token or userinfo endpoint in OAuth's JSON error shape. */
static int oauth_error(struct req *r, int status, const char *error, const char *description)
{
	resp_header(r, "Cache-Control", "no-store");
	if (status == 401)
		resp_header(r, "WWW-Authenticate",
			    arena_printf(r->arena, "%s error=\"%s\"", strcmp(error, "invalid_client") ? "Bearer" : "Basic", error));
	return resp_json(r, status, json_pack("{s:s,s:s}", "error", error, "error_description", description));
}

static bool printable(const char *s, size_t max)
{
	if (!s)
		return true;
	size_t n = strlen(s);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* The subject of an account in ID tokens: stable, opaque, the same for every hall. */
static const char *subject_of(struct arena *a, int64_t account)
{
	char in[64], h[65];
	snprintf(in, sizeof(in), "oidc-sub:%lld", (long long)account);
	fed_hash(in, h);
	return arena_strndup(a, h, 32);
}

/* ---- discovery and keys -------------------------------------------------------------------- */

static int hub_only(struct req *r)
{
	(void)r;
	return fed_cfg.hub ? 0 : GH_ENOTFOUND;
}

static int discovery(struct req *r)
{
	int rc = hub_only(r);
	if (rc)
		return rc;
	const char *iss = fed_cfg.issuer;
	json_t *j = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:[s],s:[s],s:[s],s:[s],s:[s,s],s:[s],s:[s,s,s,s],s:[s,s,s,s,s,s,s,s],"
		"s:[s,s],s:b,s:b,s:[s,s,s,s]}",
		"issuer", iss, "authorization_endpoint", arena_printf(r->arena, "%s/oidc/authorize", iss), "token_endpoint",
		arena_printf(r->arena, "%s/oidc/token", iss), "userinfo_endpoint", arena_printf(r->arena, "%s/oidc/userinfo", iss),
		"jwks_uri", arena_printf(r->arena, "%s/oidc/jwks", iss), "end_session_endpoint",
		arena_printf(r->arena, "%s/oidc/logout", iss), "response_types_supported", "code", "grant_types_supported",
		"authorization_code", "subject_types_supported", "public", "id_token_signing_alg_values_supported", "EdDSA",
		"code_challenge_methods_supported", "S256", "token_endpoint_auth_methods_supported", "client_secret_basic",
		"client_secret_post", "response_modes_supported", "query", "scopes_supported", "openid", "profile",
		"id_number", "assurance", "claims_supported", "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
		"assurance_level", "prompt_values_supported", "none", "login", "authorization_response_iss_parameter_supported",
		1, "claims_parameter_supported", 0, "acr_values_supported", "urn:govhall:assurance:1",
		"urn:govhall:assurance:2", "urn:govhall:assurance:3", "urn:govhall:assurance:4");
	resp_header(r, "Cache-Control", "public, max-age=300");
	return resp_json(r, 200, j);
}

/* The published keys (newest first) into keys (at most JWKS_KEYS_MAX). */
static int hub_keys(struct req *r, struct jwk *keys, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_keys_all, DB_NOARGS, &rows);
	*n = 0;
	for (size_t i = 0; !rc && i < rows.nrows && *n < JWKS_KEYS_MAX; i++) {
		unsigned char *pk;
		size_t len;
		const char *x = db_cell(&rows, i, 1);
		if (jwt_b64url_decode(r->arena, x, strlen(x), &pk, &len) == 0 && len == 32) {
			snprintf(keys[*n].kid, sizeof(keys[*n].kid), "%s", db_cell(&rows, i, 0));
			memcpy(keys[(*n)++].pk, pk, 32);
		}
	}
	return rc;
}

static int jwks(struct req *r)
{
	int rc = hub_only(r);
	struct jwk k[JWKS_KEYS_MAX];
	size_t n;
	if (rc || (rc = hub_keys(r, k, &n)))
		return rc;
	json_t *keys = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(keys, jwk_json(k[i].kid, k[i].pk));
	resp_header(r, "Cache-Control", "public, max-age=300");
	return resp_json(r, 200, json_pack("{s:o}", "keys", keys));
}

/* ---- authorization ------------------------------------------------------------------------- */

DB_SQL(q_code_insert, "INSERT INTO oidc_codes (code_hash, client_id, account_id, redirect_uri, challenge, nonce, "
		      "auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_codes_prune, "DELETE FROM oidc_codes WHERE expires_at < ?");
DB_SQL(q_tokens_prune, "DELETE FROM oidc_tokens WHERE expires_at < ?");

struct code_job {
	char code[CRYPTO_TOKEN_LEN + 1];
	const char *client, *client_name, *redirect_uri, *challenge, *nonce, *state;
	bool after_form; /* the request comes straight from the hub's log-in form */
	int64_t account, auth_time;
};

static int code_write(struct req *w, void *arg)
{
	struct code_job *j = arg;
	char h[65];
	fed_hash(j->code, h);
	int64_t now = time(NULL);
	int rc = db_exec(w->db, &q_codes_prune, DB_ARGS(DB_INT(now - 3600)), NULL);
	if (!rc)
		rc = db_exec(w->db, &q_tokens_prune, DB_ARGS(DB_INT(now - 3600)), NULL);
	if (!rc)
		rc = db_exec(w->db, &q_code_insert,
			     DB_ARGS(DB_TEXT(h), DB_TEXT(j->client), DB_INT(j->account), DB_TEXT(j->redirect_uri),
				     DB_TEXT(j->challenge), DB_TEXT(j->nonce), DB_INT(j->auth_time), DB_INT(now + FED_CODE_TTL)),
			     NULL);
	return rc;
}

static int code_done(struct req *r, void *arg, int rc)
{
	struct code_job *j = arg;
	if (rc)
		return redirect_error(r, j->redirect_uri, j->state, "server_error", "the hub could not record the log-in; try again");
	struct sb sb = SB_INIT;
	sb_adds(&sb, j->redirect_uri);
	url_param(&sb, "code", j->code);
	url_param(&sb, "state", j->state);
	url_param(&sb, "iss", fed_cfg.issuer);
	resp_header(r, "Cache-Control", "no-store");
	char *to = sb_arena(r, &sb);
	if (!j->after_form)
		return resp_redirect(r, 303, to);
	/* Browsers apply the log-in page's form-action 'self' to every redirect its form's answer
	 * leads to, so the way to the hall is a new navigation: a Refresh, or the link. */
	resp_header(r, "Refresh", arena_printf(r->arena, "0; url=%s", to));
	return resp_page(r, 200, "federation/continue",
			 json_pack("{s:s,s:s,s:s}", "title", M(r, "fed_continue_title"), "to", to, "message",
				   MF(r, "fed_continue_message", MA("client", j->client_name))));
}

/* The log-in page, coming back here afterwards: the request again without prompt, with
 * auth_after so that only a log-in made from now on satisfies it. */
static int to_login(struct req *r, const char *redirect_uri, const char *state)
{
	static const char *const keep[] = { "response_type", "client_id", "redirect_uri", "scope", "state",
					    "nonce", "code_challenge", "code_challenge_method", "max_age" };
	struct sb next = SB_INIT;
	sb_adds(&next, "/oidc/authorize");
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		url_param(&next, keep[i], req_query(r, keep[i]));
	url_param(&next, "auth_after", arena_printf(r->arena, "%lld", (long long)time(NULL)));
	char *n = sb_arena(r, &next);
	if (strlen(n) > 512)
		return redirect_error(r, redirect_uri, state, "invalid_request", "the authorization request is too long");
	struct sb to = SB_INIT;
	sb_adds(&to, "/login?again=1");
	url_param(&to, "next", n);
	resp_header(r, "Cache-Control", "no-store");
	return resp_redirect(r, 303, sb_arena(r, &to));
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p = e;
	}
	return false;
}

static int authorize(struct req *r)
{
	int rc = hub_only(r);
	if (rc)
		return rc;
	const char *client_id = req_query(r, "client_id"), *redirect_uri = req_query(r, "redirect_uri");
	struct client c;
	/* Without a known client and one of its redirect URIs, nothing is sent anywhere: the
	 * person is told here (OpenID Connect Core §3.1.2.6). */
	if ((rc = client_get(r, client_id, &c)) == GH_ENOTFOUND) {
		req_error_detail(r, "%s", M(r, "fed_unknown_client"));
		return GH_EINVAL;
	} else if (rc)
		return rc;
	if (!redirect_uri || !listed(c.redirects, redirect_uri)) {
		req_error_detail(r, "%s", M(r, "fed_bad_redirect"));
		return GH_EINVAL;
	}
	const char *state = req_query(r, "state"), *nonce = req_query(r, "nonce"), *prompt = req_query(r, "prompt");
	const char *challenge = req_query(r, "code_challenge"), *method = req_query(r, "code_challenge_method");
	if (!printable(state, FED_STATE_MAX))
		return redirect_error(r, redirect_uri, NULL, "invalid_request", "state is too long or not printable");
	if (!printable(nonce, FED_STATE_MAX))
		return redirect_error(r, redirect_uri, state, "invalid_request", "nonce is too long or not printable");
	const char *rt = req_query(r, "response_type");
	if (!rt || strcmp(rt, "code"))
		return redirect_error(r, redirect_uri, state, "unsupported_response_type", "only response_type=code is supported");
	if (!has_word(req_query(r, "scope"), "openid"))
		return redirect_error(r, redirect_uri, state, "invalid_scope", "scope must include openid");
	if (!challenge || !method || strcmp(method, "S256") || strlen(challenge) != 43 || !printable(challenge, 43))
		return redirect_error(r, redirect_uri, state, "invalid_request",
				      "PKCE is required: code_challenge with code_challenge_method=S256");
	if (prompt && has_word(prompt, "none") && strcmp(prompt, "none"))
		return redirect_error(r, redirect_uri, state, "invalid_request", "prompt=none cannot be combined");
	if (prompt && !has_word(prompt, "none") && !has_word(prompt, "login") && !has_word(prompt, "consent") &&
	    !has_word(prompt, "select_account"))
		return redirect_error(r, redirect_uri, state, "invalid_request", "unknown prompt value");
	long max_age = -1, auth_after = 0;
	if (req_query(r, "max_age") && req_query_long(r, "max_age", -1, 0, 1L << 30, &max_age))
		return redirect_error(r, redirect_uri, state, "invalid_request", "max_age must be a number of seconds");
	if (req_query(r, "auth_after") && req_query_long(r, "auth_after", 0, 0, 1L << 40, &auth_after))
		return redirect_error(r, redirect_uri, state, "invalid_request", "auth_after must be a time");
	bool none = prompt && has_word(prompt, "none");
	int64_t auth_time = 0, now = time(NULL);
	bool person = r->who.account && r->who.kind && !strcmp(r->who.kind, "individual") &&
		      identity_session_auth_time(r, &auth_time) == 0;
	bool fresh = auth_after && auth_time >= auth_after;
	bool need = !person || (!fresh && ((prompt && has_word(prompt, "login")) || (max_age >= 0 && now - auth_time > max_age)));
	if (r->who.account && !person && !none) {
		req_error_detail(r, "%s", M(r, "fed_individuals_only"));
		return GH_EFORBIDDEN;
	}
	if (need)
		return none ? redirect_error(r, redirect_uri, state, "login_required", "the person is not logged in at the hub")
			    : to_login(r, redirect_uri, state);
	struct code_job *j = arena_zalloc(r->arena, sizeof(*j));
	crypto_new_token(j->code);
	j->client = c.id;
	j->client_name = c.name;
	j->after_form = auth_after != 0;
	j->redirect_uri = redirect_uri;
	j->challenge = challenge;
	j->nonce = nonce;
	j->state = state;
	j->account = r->who.account;
	j->auth_time = auth_time;
	return req_write(r, code_write, code_done, j);
}

/* ---- token ---------------------------------------------------------------------------------- */

DB_SQL(q_code_take, "UPDATE oidc_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? "
		    "RETURNING client_id, account_id, redirect_uri, challenge, nonce, auth_time");
DB_SQL(q_code_seen, "SELECT used_at FROM oidc_codes WHERE code_hash = ? AND used_at IS NOT NULL");
DB_SQL(q_code_revoke, "UPDATE oidc_tokens SET revoked_at = ? WHERE code_hash = ? AND revoked_at IS NULL");
DB_SQL(q_subject_hall, "INSERT INTO oidc_subject_halls (subject, client_id, account_id, first_at, last_at) "
			"VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject, client_id) DO UPDATE SET account_id = excluded.account_id, "
			"last_at = excluded.last_at");
DB_SQL(q_token_insert, "INSERT INTO oidc_tokens (token_hash, client_id, account_id, code_hash, expires_at) "
		       "VALUES (?, ?, ?, ?, ?)");

struct token_job {
	const char *client, *code, *redirect_uri, *verifier;
	/* out */
	const char *error, *description;
	char token[CRYPTO_TOKEN_LEN + 1];
	int64_t account, auth_time;
	const char *nonce;
	struct identity_claims claims;
};

static int token_write(struct req *w, void *arg)
{
	struct token_job *j = arg;
	j->error = NULL;
	char h[65];
	fed_hash(j->code, h);
	int64_t now = time(NULL);
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_code_take, DB_ARGS(DB_INT(now), DB_TEXT(h), DB_INT(now)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1) {
		struct db_rows seen;
		if ((rc = db_query(w->db, w->arena, &q_code_seen, DB_ARGS(DB_TEXT(h)), &seen)))
			return rc;
		j->error = "invalid_grant";
		if (seen.nrows) {
			/* RFC 6749 §4.1.2: a code used twice revokes what it gave. */
			j->description = "the code was used already; the tokens issued for it are revoked";
			return db_exec(w->db, &q_code_revoke, DB_ARGS(DB_INT(now), DB_TEXT(h)), NULL);
		}
		j->description = "the code is unknown or expired";
		return 0;
	}
	j->error = "invalid_grant";
	if (strcmp(db_cell(&rows, 0, 0), j->client)) {
		j->description = "the code was issued to another client";
		return 0;
	}
	if (!j->redirect_uri || strcmp(db_cell(&rows, 0, 2), j->redirect_uri)) {
		j->description = "redirect_uri differs from the authorization request's";
		return 0;
	}
	if (!jwt_pkce_verifier_ok(j->verifier) || !crypto_str_equal(jwt_pkce_s256(w->arena, j->verifier), db_cell(&rows, 0, 3))) {
		j->description = "code_verifier does not match the code_challenge";
		return 0;
	}
	j->account = db_cell_int(&rows, 0, 1);
	j->nonce = db_cell(&rows, 0, 4);
	j->auth_time = db_cell_int(&rows, 0, 5);
	if ((rc = identity_person_claims(w->db, w->arena, j->account, &j->claims)) == GH_ENOTFOUND) {
		j->description = "the account is no longer active";
		return 0;
	} else if (rc)
		return rc;
	j->error = NULL;
	crypto_new_token(j->token);
	char th[65];
	fed_hash(j->token, th);
	if ((rc = db_exec(w->db, &q_token_insert,
			  DB_ARGS(DB_TEXT(th), DB_TEXT(j->client), DB_INT(j->account), DB_TEXT(h), DB_INT(now + FED_TOKEN_TTL)),
			  NULL)))
		return rc;
	/* The halls a person logged in at: the only ones the hub asks for their certificates. */
	return db_exec(w->db, &q_subject_hall,
		       DB_ARGS(DB_TEXT(subject_of(w->arena, j->account)), DB_TEXT(j->client), DB_INT(j->account), DB_INT(now),
			       DB_INT(now)),
		       NULL);
}

static int token_done(struct req *r, void *arg, int rc)
{
	struct token_job *j = arg;
	if (rc)
		return rc;
	if (j->error)
		return oauth_error(r, 400, j->error, j->description);
	int64_t now = time(NULL);
	json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:i,s:s}", "iss", fed_cfg.issuer, "sub",
				   subject_of(r->arena, j->account), "aud", j->client, "azp", j->client, "iat", (json_int_t)now,
				   "exp", (json_int_t)(now + FED_ID_TOKEN_TTL), "auth_time", (json_int_t)j->auth_time,
				   "assurance_level", j->claims.level, "acr",
				   arena_printf(r->arena, "urn:govhall:assurance:%d", j->claims.level));
	if (j->nonce)
		json_object_set_new(claims, "nonce", json_string(j->nonce));
	char *idt;
	rc = jwt_sign(r->arena, hub_key.kid, claims, hub_key.sk, &idt);
	json_decref(claims);
	if (rc)
		return GH_EINTERNAL;
	resp_header(r, "Cache-Control", "no-store");
	resp_header(r, "Pragma", "no-cache");
	return resp_json(r, 200, json_pack("{s:s,s:s,s:i,s:s,s:s}", "access_token", j->token, "token_type", "Bearer",
					   "expires_in", FED_TOKEN_TTL, "id_token", idt, "scope", "openid profile"));
}

/* client_secret_basic (RFC 6749 §2.3.1: form-encoded id and secret) or client_secret_post. */
static int client_auth(struct req *r, const struct kvlist *form, const char **id)
{
	const char *auth = req_header(r, "Authorization");
	const char *cid = NULL, *secret = NULL;
	if (auth && strncasecmp(auth, "Basic ", 6) == 0) {
		const char *b = auth + 6;
		size_t n = strlen(b), len = 0;
		if (n > 1024)
			return GH_EUNAUTH;
		char *raw = arena_alloc(r->arena, n + 1);
		if (sodium_base642bin((unsigned char *)raw, n, b, n, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL))
			return GH_EUNAUTH;
		raw[len] = 0;
		char *colon = strchr(raw, ':');
		if (!colon)
			return GH_EUNAUTH;
		*colon = 0;
		struct kvlist kv;
		char *pair = arena_printf(r->arena, "i=%s&s=%s", raw, colon + 1);
		if (form_decode(r->arena, pair, strlen(pair), 4, &kv))
			return GH_EUNAUTH;
		cid = kv_get(&kv, "i");
		secret = kv_get(&kv, "s");
	} else {
		cid = kv_get(form, "client_id");
		secret = kv_get(form, "client_secret");
	}
	struct client c;
	if (!cid || !secret || strlen(secret) > 256 || client_get(r, cid, &c))
		return GH_EUNAUTH;
	char h[65];
	fed_hash(secret, h);
	if (!crypto_str_equal(h, c.secret_hash))
		return GH_EUNAUTH;
	*id = c.id;
	return 0;
}

static int token(struct req *r)
{
	int rc = hub_only(r);
	if (rc)
		return rc;
	struct kvlist form;
	if (req_form(r, &form))
		return oauth_error(r, 400, "invalid_request", "the body must be application/x-www-form-urlencoded");
	const char *client;
	if (client_auth(r, &form, &client))
		return oauth_error(r, 401, "invalid_client", "unknown client or wrong client secret");
	const char *gt = kv_get(&form, "grant_type");
	if (!gt || strcmp(gt, "authorization_code"))
		return oauth_error(r, 400, "unsupported_grant_type", "only grant_type=authorization_code is supported");
	const char *code = kv_get(&form, "code");
	if (!code || strlen(code) != CRYPTO_TOKEN_LEN)
		return oauth_error(r, 400, "invalid_grant", "the code is unknown or expired");
	struct token_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->client = client;
	j->code = code;
	j->redirect_uri = kv_get(&form, "redirect_uri");
	j->verifier = kv_get(&form, "code_verifier");
	return req_write(r, token_write, token_done, j);
}

/* ---- userinfo ------------------------------------------------------------------------------ */

DB_SQL(q_token_get, "SELECT account_id, client_id FROM oidc_tokens WHERE token_hash = ? AND revoked_at IS NULL "
		    "AND expires_at > ?");

static int userinfo(struct req *r)
{
	int rc = hub_only(r);
	if (rc)
		return rc;
	const char *auth = req_header(r, "Authorization"), *tok = NULL;
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		tok = auth + 7;
	else if (r->method == HTTP_POST) {
		struct kvlist form;
		if (req_form(r, &form) == 0)
			tok = kv_get(&form, "access_token");
	}
	if (!tok || strlen(tok) != CRYPTO_TOKEN_LEN)
		return oauth_error(r, 401, "invalid_token", "an access token of the hub is required");
	char h[65];
	fed_hash(tok, h);
	struct db_rows rows;
	if ((rc = db_query(r->db, r->arena, &q_token_get, DB_ARGS(DB_TEXT(h), DB_INT(time(NULL))), &rows)))
		return rc;
	if (rows.nrows != 1)
		return oauth_error(r, 401, "invalid_token", "the access token is unknown, expired or revoked");
	struct identity_claims c;
	int64_t account = db_cell_int(&rows, 0, 0);
	if ((rc = identity_person_claims(r->db, r->arena, account, &c)) == GH_ENOTFOUND)
		return oauth_error(r, 401, "invalid_token", "the account is no longer active");
	else if (rc)
		return rc;
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, json_pack("{s:s,s:s,s:s,s:i,s:s}", "sub", subject_of(r->arena, account), "name", c.name,
					   "id_number", c.id_number, "assurance_level", c.level, "acr",
					   arena_printf(r->arena, "urn:govhall:assurance:%d", c.level)));
}

/* ---- logout (OpenID Connect RP-Initiated Logout 1.0) -------------------------------------- */

static int logout_write(struct req *w, void *arg)
{
	(void)arg;
	return identity_session_end(w);
}

static int logout_done(struct req *r, void *arg, int rc)
{
	if (rc)
		return rc;
	identity_session_cookie(r, NULL);
	resp_header(r, "Cache-Control", "no-store");
	return resp_redirect(r, 303, arg);
}

static int logout(struct req *r)
{
	int rc = hub_only(r);
	if (rc)
		return rc;
	const char *hint = req_query(r, "id_token_hint"), *to = req_query(r, "post_logout_redirect_uri");
	const char *state = req_query(r, "state");
	/* The hint proves the request comes from a client the person logged in to: without one a
	 * link on any page could log people out. */
	struct jwk keys[JWKS_KEYS_MAX];
	size_t n;
	if ((rc = hub_keys(r, keys, &n)))
		return rc;
	json_t *claims = NULL;
	const char *why;
	if (!hint || jwt_verify(hint, strlen(hint), keys, n, &claims, &why)) {
		req_error_detail(r, "%s", M(r, "fed_logout_hint"));
		return GH_EINVAL;
	}
	arena_cleanup(r->arena, free_json, claims);
	const char *aud = json_string_value(json_object_get(claims, "aud"));
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	struct client c;
	if (!aud || !sub || !iss || strcmp(iss, fed_cfg.issuer) || client_get(r, aud, &c)) {
		req_error_detail(r, "%s", M(r, "fed_logout_hint"));
		return GH_EINVAL;
	}
	if (to && !listed(c.logouts, to)) {
		req_error_detail(r, "%s", M(r, "fed_bad_redirect"));
		return GH_EINVAL;
	}
	struct sb sb = SB_INIT;
	sb_adds(&sb, to ? to : "/");
	if (to)
		url_param(&sb, "state", state);
	char *dest = sb_arena(r, &sb);
	if (r->who.account && strcmp(subject_of(r->arena, r->who.account), sub) == 0)
		return req_write(r, logout_write, logout_done, dest);
	resp_header(r, "Cache-Control", "no-store");
	return resp_redirect(r, 303, dest);
}

const struct route fed_hub_routes[] = {
	{ HTTP_GET, "/.well-known/openid-configuration", discovery, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.discovery" },
	{ HTTP_GET, "/oidc/jwks", jwks, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.jwks" },
	{ HTTP_GET, "/oidc/authorize", authorize, ROLE_PUBLIC, 0, "federation.authorize" },
	{ HTTP_POST, "/oidc/token", token, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.token" },
	{ HTTP_GET | HTTP_POST, "/oidc/userinfo", userinfo, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.userinfo" },
	{ HTTP_GET, "/oidc/logout", logout, ROLE_PUBLIC, 0, "federation.logout" },
};
const size_t fed_hub_routes_n = sizeof(fed_hub_routes) / sizeof(fed_hub_routes[0]);
