/* rp.c: a hall as a relying party of the hub: "log in with the national account".
 *
 * GET /login/national starts a log-in: a random state (also set as a cookie bound to this
 * browser, so nobody can finish a log-in they did not start here), nonce and PKCE verifier,
 * kept in fed_logins for FED_LOGIN_TTL seconds, and a redirect to the hub. The hub comes back
 * to /login/national/callback with a code (or an error, shown to the person): the row is taken
 * (a state works once), the code redeemed at the hub's token endpoint with this hall's client
 * secret and the verifier, the ID token checked (signature against the hub's JWKS, cached and
 * refreshed once for an unknown key; issuer; audience and azp; expiry and issue time with
 * FED_SKEW of tolerance; nonce), the person's claims read from userinfo (same subject), and
 * the local account linked or created (identity_external_login) with a session. Calls to the
 * hub run on the job pool. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/jsonout.h"
#include "federation/fed_impl.h"
#include "federation/jwt.h"
#include "http/msg.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "http/client.h"
#include "store/db.h"

#define FED_COOKIE "gh_fed"
#define META_TTL 300 /* seconds the hub's metadata and keys are kept */
#define HUB_MAX_RESP (64 * 1024)
#define FED_STARTS_PER_HOUR 60 /* national log-ins one address may start in an hour */

static struct {
	const char *client_id, *secret;
	long timeout_ms;
	char callback[600]; /* this hall's redirect URI */
} rp;

/* What the hub publishes, shared by the job threads. */
static struct {
	pthread_mutex_t lock;
	time_t fetched;
	char authorize[512], token[512], userinfo[512], jwks_uri[512];
	struct jwk keys[JWKS_KEYS_MAX];
	size_t nkeys;
} meta = { .lock = PTHREAD_MUTEX_INITIALIZER };

int fed_rp_init(struct app *app, char *err, size_t errlen)
{
	const struct config *c = &app->cfg;
	if (!c->fed_client_id || !*c->fed_client_id || !c->fed_client_secret || !*c->fed_client_secret) {
		snprintf(err, errlen, "fed-hub-url needs fed-client-id and fed-client-secret (`govhall federation client add` on the hub)");
		return GH_EINVAL;
	}
	rp.client_id = c->fed_client_id;
	rp.secret = c->fed_client_secret;
	rp.timeout_ms = c->fed_timeout;
	size_t ul = strlen(c->public_url);
	while (ul && c->public_url[ul - 1] == '/')
		ul--;
	snprintf(rp.callback, sizeof(rp.callback), "%.*s/login/national/callback", (int)ul, c->public_url);
	return 0;
}

/* ---- talking to the hub (job pool) ---------------------------------------------------------- */

enum rp_fail {
	RP_OK,
	RP_UNREACHABLE,   /* the hub did not answer, or not sensibly */
	RP_ISSUER,        /* another issuer */
	RP_AUDIENCE,      /* for another client */
	RP_EXPIRED,       /* expired, or issued in the future */
	RP_NONCE,         /* not this log-in's nonce */
	RP_SIGNATURE,     /* no valid EdDSA signature of a published key */
	RP_CODE,          /* the hub refused the code (used already, expired, PKCE) */
	RP_CLAIMS,        /* the claims lack what a hall needs */
};

static const char *const fail_key[] = {
	[RP_UNREACHABLE] = N_("fed_hub_unreachable"), [RP_ISSUER] = N_("fed_wrong_issuer"),
	[RP_AUDIENCE] = N_("fed_wrong_audience"),    [RP_EXPIRED] = N_("fed_token_expired"),
	[RP_NONCE] = N_("fed_bad_nonce"),            [RP_SIGNATURE] = N_("fed_bad_signature"),
	[RP_CODE] = N_("fed_code_refused"),          [RP_CLAIMS] = N_("fed_claims_missing"),
};

static int hub_get(const char *url, const char *bearer, json_t **out, char *err, size_t errlen)
{
	char auth[128];
	const char *headers[3] = { "Accept: application/json", NULL, NULL };
	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		headers[1] = auth;
	}
	struct http_client_resp resp;
	int rc = http_client("GET", url, headers, NULL, 0, rp.timeout_ms, HUB_MAX_RESP, NULL, &resp, err, errlen);
	if (rc)
		return rc;
	*out = resp.status == 200 ? json_loadb(resp.body, resp.len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (resp.status != 200)
		snprintf(err, errlen, "%s answered %ld", url, resp.status);
	http_client_resp_free(&resp);
	return *out ? 0 : GH_EUNAVAILABLE;
}

static bool copy_url(char *dst, size_t n, const json_t *doc, const char *name)
{
	const char *s = json_string_value(json_object_get(doc, name));
	if (!s || strlen(s) >= n || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)))
		return false;
	snprintf(dst, n, "%s", s);
	return true;
}

/* Fetches the discovery document and the keys when older than META_TTL (or force). Holds the
 * lock while fetching, so one thread asks and the others wait for its answer. */
static enum rp_fail meta_refresh(bool force)
{
	pthread_mutex_lock(&meta.lock);
	enum rp_fail f = RP_OK;
	char err[256];
	if (!force && meta.fetched && time(NULL) - meta.fetched < META_TTL)
		goto out;
	json_t *doc = NULL, *keys = NULL;
	char url[600];
	snprintf(url, sizeof(url), "%s/.well-known/openid-configuration", fed_cfg.issuer);
	if (hub_get(url, NULL, &doc, err, sizeof(err))) {
		log_warn("federation: the hub's metadata: %s", err);
		f = RP_UNREACHABLE;
		goto out;
	}
	const char *iss = json_string_value(json_object_get(doc, "issuer"));
	if (!iss || strcmp(iss, fed_cfg.issuer)) {
		log_warn("federation: the hub's metadata names another issuer");
		json_decref(doc);
		f = RP_ISSUER;
		goto out;
	}
	if (!copy_url(meta.authorize, sizeof(meta.authorize), doc, "authorization_endpoint") ||
	    !copy_url(meta.token, sizeof(meta.token), doc, "token_endpoint") ||
	    !copy_url(meta.userinfo, sizeof(meta.userinfo), doc, "userinfo_endpoint") ||
	    !copy_url(meta.jwks_uri, sizeof(meta.jwks_uri), doc, "jwks_uri")) {
		json_decref(doc);
		f = RP_UNREACHABLE;
		goto out;
	}
	json_decref(doc);
	if (hub_get(meta.jwks_uri, NULL, &keys, err, sizeof(err))) {
		log_warn("federation: the hub's keys: %s", err);
		f = RP_UNREACHABLE;
		goto out;
	}
	char *text = jsonout_dumps(keys, JSON_COMPACT);
	json_decref(keys);
	const char *why;
	size_t n = 0;
	struct jwk k[JWKS_KEYS_MAX];
	if (!text || jwks_parse(text, strlen(text), k, JWKS_KEYS_MAX, &n, &why)) {
		log_warn("federation: the hub's keys: %s", text ? why : "out of memory");
		free(text);
		f = RP_UNREACHABLE;
		goto out;
	}
	free(text);
	memcpy(meta.keys, k, sizeof(k));
	meta.nkeys = n;
	meta.fetched = time(NULL);
out:
	pthread_mutex_unlock(&meta.lock);
	return f;
}

int fed_rp_hub_keys(bool force, struct jwk *keys, size_t *n)
{
	enum rp_fail f = meta_refresh(force);
	pthread_mutex_lock(&meta.lock);
	*n = f == RP_OK ? meta.nkeys : 0;
	if (*n)
		memcpy(keys, meta.keys, *n * sizeof(*keys));
	pthread_mutex_unlock(&meta.lock);
	return f == RP_OK ? 0 : GH_EUNAVAILABLE;
}

struct start_job {
	enum rp_fail fail;
	char authorize[512];
	char state[CRYPTO_TOKEN_LEN + 1], nonce[CRYPTO_TOKEN_LEN + 1], verifier[CRYPTO_TOKEN_LEN + 1];
	const char *next;
	bool login; /* prompt=login */
};

static void start_work(void *arg)
{
	struct start_job *j = arg;
	j->fail = meta_refresh(false);
	pthread_mutex_lock(&meta.lock);
	snprintf(j->authorize, sizeof(j->authorize), "%s", meta.authorize);
	pthread_mutex_unlock(&meta.lock);
}

/* ---- the two pages ------------------------------------------------------------------------- */

DB_SQL(q_login_insert, "INSERT INTO fed_logins (state_hash, nonce, verifier, next, expires_at) VALUES (?, ?, ?, ?, ?)");
DB_SQL(q_login_prune, "DELETE FROM fed_logins WHERE expires_at < ?");
DB_SQL2(q_login_take, "DELETE FROM fed_logins WHERE state_hash = ? RETURNING nonce, verifier, next, expires_at",
	"DELETE FROM fed_logins WHERE state_hash = ? RETURNING nonce, verifier, next, expires_at");

static void fed_cookie(struct req *r, const char *value, long max_age)
{
	resp_header(r, "Set-Cookie",
		    arena_printf(r->arena, FED_COOKIE "=%s; Path=/login/national; HttpOnly; SameSite=Lax%s; Max-Age=%ld", value,
				 r->app->cfg.behind_tls ? "; Secure" : "", max_age));
}

static void url_param(struct sb *sb, const char *name, const char *value)
{
	sb_addch(sb, memchr(sb->buf, '?', sb->len) ? '&' : '?');
	sb_adds(sb, name);
	sb_addch(sb, '=');
	sb_add_urlenc(sb, value, strlen(value));
}

static int start_write(struct req *w, void *arg)
{
	struct start_job *j = arg;
	char h[65];
	fed_hash(j->state, h);
	int64_t now = time(NULL);
	int rc = db_exec(w->db, &q_login_prune, DB_ARGS(DB_INT(now)), NULL);
	if (!rc)
		rc = db_exec(w->db, &q_login_insert,
			     DB_ARGS(DB_TEXT(h), DB_TEXT(j->nonce), DB_TEXT(j->verifier), DB_TEXT(j->next),
				     DB_INT(now + FED_LOGIN_TTL)),
			     NULL);
	return rc;
}

static int start_sent(struct req *r, void *arg, int rc)
{
	struct start_job *j = arg;
	if (rc)
		return rc;
	struct sb sb = SB_INIT;
	sb_adds(&sb, j->authorize);
	url_param(&sb, "response_type", "code");
	url_param(&sb, "client_id", rp.client_id);
	url_param(&sb, "redirect_uri", rp.callback);
	url_param(&sb, "scope", "openid profile");
	url_param(&sb, "state", j->state);
	url_param(&sb, "nonce", j->nonce);
	url_param(&sb, "code_challenge", jwt_pkce_s256(r->arena, j->verifier));
	url_param(&sb, "code_challenge_method", "S256");
	if (j->login)
		url_param(&sb, "prompt", "login");
	char *to = arena_strndup(r->arena, sb.buf, sb.len);
	sb_release(&sb);
	fed_cookie(r, j->state, FED_LOGIN_TTL);
	resp_header(r, "Cache-Control", "no-store");
	return resp_redirect(r, 303, to);
}

static int fail(struct req *r, enum rp_fail f)
{
	req_error_detail(r, "%s", M(r, fail_key[f]));
	return f == RP_UNREACHABLE ? GH_EUNAVAILABLE : GH_EUNAUTH;
}

static int start_done(struct req *r, void *arg)
{
	struct start_job *j = arg;
	if (j->fail)
		return fail(r, j->fail);
	return req_write(r, start_write, start_sent, j);
}

static int login_start(struct req *r)
{
	if (!fed_cfg.rp)
		return GH_ENOTFOUND;
	/* Each start writes a row and calls the hub: bounded per address. */
	int rc = identity_rate_limit(r, arena_printf(r->arena, "fed_login:ip:%s", r->ip), FED_STARTS_PER_HOUR, 3600);
	if (rc)
		return rc;
	struct start_job *j = arena_zalloc(r->arena, sizeof(*j));
	crypto_new_token(j->state);
	crypto_new_token(j->nonce);
	crypto_new_token(j->verifier);
	j->next = identity_safe_next(req_query(r, "next"), "/account");
	const char *p = req_query(r, "prompt");
	j->login = p && !strcmp(p, "login");
	return req_job(r, start_work, start_done, j);
}

struct finish_job {
	/* in */
	char code[256], nonce[CRYPTO_TOKEN_LEN + 1], verifier[CRYPTO_TOKEN_LEN + 1];
	const char *next;
	/* out */
	enum rp_fail fail;
	char sub[128], name[128], id_number[32];
	/* the session */
	char tok[CRYPTO_TOKEN_LEN + 1];
	int64_t account;
	bool created;
};

static bool aud_ok(const json_t *claims)
{
	const json_t *aud = json_object_get(claims, "aud");
	const char *azp = json_string_value(json_object_get(claims, "azp"));
	if (json_is_string(aud))
		return !strcmp(json_string_value(aud), rp.client_id) && (!azp || !strcmp(azp, rp.client_id));
	if (!json_is_array(aud))
		return false;
	bool found = false;
	size_t i;
	json_t *v;
	json_array_foreach(aud, i, v) found = found || (json_is_string(v) && !strcmp(json_string_value(v), rp.client_id));
	/* Several audiences: the token must have been issued to us (OpenID Connect Core §3.1.3.7). */
	return found && (json_array_size(aud) == 1 || (azp && !strcmp(azp, rp.client_id)));
}

/* OpenID Connect Core §3.1.3.7, in this order. */
static enum rp_fail check_id_token(struct finish_job *j, const char *idt)
{
	json_t *claims = NULL;
	const char *why;
	pthread_mutex_lock(&meta.lock);
	struct jwk keys[JWKS_KEYS_MAX];
	size_t n = meta.nkeys;
	memcpy(keys, meta.keys, sizeof(keys));
	pthread_mutex_unlock(&meta.lock);
	int rc = jwt_verify(idt, strlen(idt), keys, n, &claims, &why);
	if (rc == GH_ENOTFOUND && meta_refresh(true) == RP_OK) {
		/* A key we have not seen: the hub may have rotated; ask once more. */
		pthread_mutex_lock(&meta.lock);
		n = meta.nkeys;
		memcpy(keys, meta.keys, sizeof(keys));
		pthread_mutex_unlock(&meta.lock);
		rc = jwt_verify(idt, strlen(idt), keys, n, &claims, &why);
	}
	if (rc) {
		log_warn("federation: an ID token refused: %s", why);
		return RP_SIGNATURE;
	}
	enum rp_fail f = RP_OK;
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *nonce = json_string_value(json_object_get(claims, "nonce"));
	json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat");
	int64_t now = time(NULL);
	if (!iss || strcmp(iss, fed_cfg.issuer))
		f = RP_ISSUER;
	else if (!aud_ok(claims))
		f = RP_AUDIENCE;
	else if (!json_is_integer(exp) || !json_is_integer(iat) || json_integer_value(exp) + FED_SKEW < now ||
		 json_integer_value(iat) > now + FED_SKEW)
		f = RP_EXPIRED;
	else if (!nonce || !crypto_str_equal(nonce, j->nonce))
		f = RP_NONCE;
	else if (!sub || !*sub || strlen(sub) >= sizeof(j->sub))
		f = RP_CLAIMS;
	else
		snprintf(j->sub, sizeof(j->sub), "%s", sub);
	json_decref(claims);
	return f;
}

static void finish_work(void *arg)
{
	struct finish_job *j = arg;
	if ((j->fail = meta_refresh(false)))
		return;
	char token_url[512], userinfo_url[512], err[256];
	pthread_mutex_lock(&meta.lock);
	snprintf(token_url, sizeof(token_url), "%s", meta.token);
	snprintf(userinfo_url, sizeof(userinfo_url), "%s", meta.userinfo);
	pthread_mutex_unlock(&meta.lock);
	/* client_secret_basic: id and secret form-encoded, then base64 (RFC 6749 §2.3.1). */
	struct sb cred = SB_INIT, body = SB_INIT;
	sb_add_urlenc(&cred, rp.client_id, strlen(rp.client_id));
	sb_addch(&cred, ':');
	sb_add_urlenc(&cred, rp.secret, strlen(rp.secret));
	size_t blen = sodium_base64_ENCODED_LEN(cred.len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(blen), *auth = malloc(blen + 32);
	sodium_bin2base64(b64, blen, (const unsigned char *)cred.buf, cred.len, sodium_base64_VARIANT_ORIGINAL);
	snprintf(auth, blen + 32, "Authorization: Basic %s", b64);
	sodium_memzero(cred.buf, cred.len);
	sb_release(&cred);
	sb_adds(&body, "grant_type=authorization_code&code=");
	sb_add_urlenc(&body, j->code, strlen(j->code));
	sb_adds(&body, "&redirect_uri=");
	sb_add_urlenc(&body, rp.callback, strlen(rp.callback));
	sb_adds(&body, "&code_verifier=");
	sb_adds(&body, j->verifier);
	const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", auth, NULL };
	struct http_client_resp resp;
	int rc = http_client("POST", token_url, headers, body.buf, body.len, rp.timeout_ms, HUB_MAX_RESP, NULL, &resp, err, sizeof(err));
	sodium_memzero(auth, strlen(auth));
	free(auth);
	free(b64);
	sb_release(&body);
	if (rc) {
		log_warn("federation: the hub's token endpoint: %s", err);
		j->fail = RP_UNREACHABLE;
		return;
	}
	json_t *tj = json_loadb(resp.body, resp.len, JSON_REJECT_DUPLICATES, NULL);
	long status = resp.status;
	http_client_resp_free(&resp);
	const char *idt = json_string_value(json_object_get(tj, "id_token"));
	const char *at = json_string_value(json_object_get(tj, "access_token"));
	if (status == 400 || status == 401) {
		const char *e = json_string_value(json_object_get(tj, "error"));
		log_warn("federation: the hub refused the code: %s", e ? e : "(no error code)");
		j->fail = RP_CODE;
	} else if (status != 200 || !idt || !at || strlen(at) > 200) {
		j->fail = RP_UNREACHABLE;
	} else if (!(j->fail = check_id_token(j, idt))) {
		json_t *ui = NULL;
		char *access = strdup(at);
		if (hub_get(userinfo_url, access, &ui, err, sizeof(err))) {
			log_warn("federation: the hub's userinfo: %s", err);
			j->fail = RP_UNREACHABLE;
		} else {
			const char *sub = json_string_value(json_object_get(ui, "sub"));
			const char *name = json_string_value(json_object_get(ui, "name"));
			const char *idn = json_string_value(json_object_get(ui, "id_number"));
			/* userinfo speaks of the person the ID token named, or of nobody (§5.3.2). */
			if (!sub || strcmp(sub, j->sub) || !name || !idn || strlen(name) >= sizeof(j->name) ||
			    strlen(idn) >= sizeof(j->id_number))
				j->fail = RP_CLAIMS;
			else {
				snprintf(j->name, sizeof(j->name), "%s", name);
				snprintf(j->id_number, sizeof(j->id_number), "%s", idn);
			}
		}
		json_decref(ui);
		sodium_memzero(access, strlen(access));
		free(access);
	}
	json_decref(tj);
}

DB_SQL(q_link_upsert, "INSERT INTO fed_links (issuer, subject, account_id, created_at, last_login) VALUES (?, ?, ?, ?, ?) "
		      "ON CONFLICT (issuer, subject) DO UPDATE SET account_id = excluded.account_id, "
		      "last_login = excluded.last_login");

static int link_write(struct req *w, void *arg)
{
	struct finish_job *j = arg;
	int rc = identity_external_login(w, j->id_number, j->name, j->tok, &j->account, &j->created);
	if (!rc) {
		int64_t now = time(NULL);
		rc = db_exec(w->db, &q_link_upsert,
			     DB_ARGS(DB_TEXT(fed_cfg.issuer), DB_TEXT(j->sub), DB_INT(j->account), DB_INT(now), DB_INT(now)),
			     NULL);
	}
	return rc;
}

static int link_done(struct req *r, void *arg, int rc)
{
	struct finish_job *j = arg;
	sodium_memzero(j->id_number, sizeof(j->id_number));
	if (rc == GH_EINVAL || rc == GH_ECONFLICT) {
		req_error_detail(r, "%s", M(r, "fed_claims_missing"));
		return GH_EUNAUTH;
	}
	if (rc == GH_EFORBIDDEN) {
		req_error_detail(r, "%s", M(r, "fed_account_disabled"));
		return rc;
	}
	if (rc)
		return rc;
	identity_session_cookie(r, j->tok);
	fed_cookie(r, "", 0);
	resp_header(r, "Cache-Control", "no-store");
	return resp_redirect(r, 303, j->next);
}

static int finish_done(struct req *r, void *arg)
{
	struct finish_job *j = arg;
	sodium_memzero(j->verifier, sizeof(j->verifier));
	if (j->fail) {
		sodium_memzero(j->id_number, sizeof(j->id_number));
		fed_cookie(r, "", 0);
		return fail(r, j->fail);
	}
	return req_write(r, link_write, link_done, j);
}

struct take_job {
	char state_hash[65];
	struct finish_job *f;
	bool found;
};

static int take_write(struct req *w, void *arg)
{
	struct take_job *t = arg;
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_login_take, DB_ARGS(DB_TEXT(t->state_hash)), &rows);
	t->found = false;
	if (rc || rows.nrows != 1 || db_cell_int(&rows, 0, 3) < (int64_t)time(NULL))
		return rc;
	t->found = true;
	snprintf(t->f->nonce, sizeof(t->f->nonce), "%s", db_cell(&rows, 0, 0));
	snprintf(t->f->verifier, sizeof(t->f->verifier), "%s", db_cell(&rows, 0, 1));
	t->f->next = arena_strdup(w->arena, db_cell(&rows, 0, 2));
	return 0;
}

static int take_done(struct req *r, void *arg, int rc)
{
	struct take_job *t = arg;
	if (rc)
		return rc;
	if (!t->found) {
		fed_cookie(r, "", 0);
		req_error_detail(r, "%s", M(r, "fed_state_unknown"));
		return GH_EINVAL;
	}
	return req_job(r, finish_work, finish_done, t->f);
}

static bool word(const char *s, size_t max)
{
	if (!s || !*s || strlen(s) > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

static int login_callback(struct req *r)
{
	if (!fed_cfg.rp)
		return GH_ENOTFOUND;
	const char *state = req_query(r, "state"), *mine = req_cookie(r, FED_COOKIE);
	/* The state must be the one this browser was given: a log-in someone else started (and
	 * whose answer they sent here) is refused. */
	if (!state || !mine || strlen(mine) != CRYPTO_TOKEN_LEN || !crypto_str_equal(state, mine)) {
		req_error_detail(r, "%s", M(r, "fed_state_mismatch"));
		return GH_EINVAL;
	}
	const char *error = req_query(r, "error"), *code = req_query(r, "code");
	if (error) {
		fed_cookie(r, "", 0);
		req_error_detail(r, "%s", MF(r, "fed_hub_refused", MA("reason", word(error, 40) ? error : "unknown")));
		return GH_EUNAUTH;
	}
	if (!code || !*code || strlen(code) >= sizeof(((struct finish_job *)0)->code)) {
		req_error_detail(r, "%s", M(r, "fed_state_unknown"));
		return GH_EINVAL;
	}
	struct take_job *t = arena_zalloc(r->arena, sizeof(*t));
	t->f = arena_zalloc(r->arena, sizeof(*t->f));
	snprintf(t->f->code, sizeof(t->f->code), "%s", code);
	fed_hash(state, t->state_hash);
	return req_write(r, take_write, take_done, t);
}

const struct route fed_rp_routes[] = {
	{ HTTP_GET, "/login/national", login_start, ROLE_PUBLIC, 0, "federation.login" },
	{ HTTP_GET, "/login/national/callback", login_callback, ROLE_PUBLIC, 0, "federation.callback" },
};
const size_t fed_rp_routes_n = sizeof(fed_rp_routes) / sizeof(fed_rp_routes[0]);
