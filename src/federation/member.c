/* member.c: a hall as a member of the federation (role = hall with fed-hub-url), and the hub as
 * a party to messages (its own message key; its own registry as its directory).
 *
 * - Its message-signing key: an Ed25519 key made at the first start, the secret sealed under
 *   the key file (field "fed_key"), in fed_keys; its key id is the first 16 bytes of the
 *   SHA-256 of the public key, base64url.
 * - Its registration: `govhall federation join --name NAME --region REGION` sends the hub a
 *   registration signed with that key (registry.c); the hub's administrator approves it.
 * - The hub's directory (dir.h), refreshed by the duty "federation" every fed-directory-period
 *   seconds: fetched, checked against the hub's JWKS (fetched again once for a key id it does
 *   not know), kept in fed_directory with the keys it was checked with, and in memory. A
 *   directory refused (expired, unsigned, wrongly signed, of another issuer, malformed) or out
 *   of reach leaves the last good copy in use, which still expires when its time comes.
 * GET /federation/directory shows the copy in use.
 * - The hub: the same key, made at its first start, and as the directory in use the claims of
 *   its own registry (registry.c: approved halls and its own entry), read again by the same duty
 *   every HUB_DIR_PERIOD seconds (or fed-directory-period when shorter) and checked by the same code (fed_dir_from_claims), so
 *   its inbox and signed look-ups know the halls exactly as a hall knows them. */
#include <pthread.h>
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
#include "federation/jwt.h"
#include "http/client.h"
#include "http/server.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "ledger/witness.h"
#include "search/search.h"
#include "store/db.h"

#define DIR_RESP_MAX (FED_DIR_MAX + 1)
#define HUB_DIR_PERIOD 5 /* seconds between the hub's reads of its own registry (a local query) */

/* This hall's message key (read-only after init). */
static struct {
	char kid[JWT_KID_MAX + 1];
	unsigned char pk[32];
	unsigned char *sk; /* 64 bytes, sodium_malloc'd */
} own;

/* The directory in use. */
static struct {
	pthread_mutex_t lock;
	struct fed_dir *dir;
	int64_t fetched;
} cur = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- the key ----------------------------------------------------------------------------------- */

DB_SQL(q_key_current, "SELECT kid, public_key, secret_sealed FROM fed_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1");
DB_SQL(q_key_insert, "INSERT INTO fed_keys (kid, public_key, secret_sealed, created_at) VALUES (?, ?, ?, ?)");

static int key_load(struct db *db, struct arena *a, bool *found)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_key_current, DB_NOARGS, &rows);
	if (rc || !(*found = rows.nrows == 1))
		return rc;
	char *sk;
	size_t len;
	unsigned char *pk;
	size_t pklen;
	const char *x = db_cell(&rows, 0, 1);
	if (crypto_open(identity_keyring(), a, "fed_key", (const unsigned char *)db_cell(&rows, 0, 2), rows.lens[2], &sk, &len,
			NULL) ||
	    len != crypto_sign_SECRETKEYBYTES || jwt_b64url_decode(a, x, strlen(x), &pk, &pklen) || pklen != 32)
		return GH_EINVAL;
	memcpy(own.sk, sk, len);
	sodium_memzero(sk, len);
	memcpy(own.pk, pk, 32);
	snprintf(own.kid, sizeof(own.kid), "%s", db_cell(&rows, 0, 0));
	return 0;
}

static int key_make(struct db *db, struct arena *a)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], h[crypto_hash_sha256_BYTES];
	crypto_sign_keypair(pk, sk);
	crypto_hash_sha256(h, pk, sizeof(pk));
	unsigned char *sealed;
	size_t slen;
	int rc = crypto_seal(identity_keyring(), a, "fed_key", sk, sizeof(sk), &sealed, &slen);
	sodium_memzero(sk, sizeof(sk));
	if (!rc)
		rc = db_exec(db, &q_key_insert,
			     DB_ARGS(DB_TEXT(jwt_b64url(a, h, 16)), DB_TEXT(jwt_b64url(a, pk, sizeof(pk))), DB_BLOB(sealed, slen),
				     DB_INT(time(NULL))),
			     NULL);
	return rc;
}

/* Loads this hall's key, making it first when there is none. */
static int key_ready(struct db *db, char *err, size_t errlen)
{
	if (!identity_keyring()) {
		snprintf(err, errlen, "a hall in the federation needs the key file (identity) for its message key");
		return GH_EUNAVAILABLE;
	}
	if (!own.sk && !(own.sk = sodium_malloc(crypto_sign_SECRETKEYBYTES))) {
		snprintf(err, errlen, "out of memory for the hall's message key");
		return GH_EINTERNAL;
	}
	struct arena *a = arena_new(0);
	bool found = false;
	int rc = key_load(db, a, &found);
	if (!rc && !found && !(rc = key_make(db, a)))
		rc = key_load(db, a, &found);
	arena_free(a);
	if (rc == GH_EINVAL)
		snprintf(err, errlen, "the hall's message key does not open with this key file (another hall's?)");
	else if (rc)
		snprintf(err, errlen, "the hall's message key cannot be read or made (%s)", err_slug(rc));
	return rc;
}

int fed_member_init(struct app *app, char *err, size_t errlen)
{
	struct db *db;
	int rc = db_open_named(app->cfg.db, "govhall federation key", &db, err, errlen);
	if (rc)
		return rc;
	rc = key_ready(db, err, errlen);
	db_close(db);
	return rc;
}

void fed_member_release(void)
{
	if (own.sk)
		sodium_free(own.sk);
	own.sk = NULL;
	pthread_mutex_lock(&cur.lock);
	fed_dir_free(cur.dir);
	cur.dir = NULL;
	pthread_mutex_unlock(&cur.lock);
}

/* ---- the directory --------------------------------------------------------------------------- */

DB_SQL(q_dir_get, "SELECT token, hub_keys, fetched_at FROM fed_directory WHERE id = 1");
DB_SQL(q_dir_put, "INSERT INTO fed_directory (id, token, hub_keys, fetched_at, expires_at) VALUES (1, ?, ?, ?, ?) "
		  "ON CONFLICT (id) DO UPDATE SET token = excluded.token, hub_keys = excluded.hub_keys, "
		  "fetched_at = excluded.fetched_at, expires_at = excluded.expires_at");

static void use_dir(struct fed_dir *d, int64_t fetched)
{
	pthread_mutex_lock(&cur.lock);
	fed_dir_free(cur.dir);
	cur.dir = d;
	cur.fetched = fetched;
	pthread_mutex_unlock(&cur.lock);
}

/* The copy kept in the database, checked again with the keys it was checked with. */
static void load_kept(struct db *db, struct arena *a, int64_t now)
{
	struct db_rows rows;
	if (db_query(db, a, &q_dir_get, DB_NOARGS, &rows) || rows.nrows != 1)
		return;
	struct jwk keys[JWKS_KEYS_MAX];
	size_t n;
	const char *why, *tok = db_cell(&rows, 0, 0), *ks = db_cell(&rows, 0, 1);
	struct fed_dir *d;
	if (jwks_parse(ks, strlen(ks), keys, JWKS_KEYS_MAX, &n, &why) ||
	    fed_dir_parse(tok, strlen(tok), keys, n, fed_cfg.issuer, now, &d, &why)) {
		log_warn("federation: the kept directory is no longer usable: %s", why);
		return;
	}
	use_dir(d, db_cell_int(&rows, 0, 2));
}

static json_t *keys_json(const struct jwk *keys, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, jwk_json(keys[i].kid, keys[i].pk));
	return json_pack("{s:o}", "keys", arr);
}

struct member_run {
	struct app *app;
	struct db *db;
	struct duty *duty;
};
static struct member_run run;

/* The hub: its own registry as the directory in use. */
static int refresh_hub(struct member_run *m)
{
	int64_t now = time(NULL);
	struct arena *a = arena_new(0);
	json_t *c = fed_registry_claims(m->db, a, now);
	struct fed_dir *d = NULL;
	const char *why = "the registry cannot be read";
	int rc = c ? fed_dir_from_claims(c, fed_cfg.issuer, now, &d, &why) : GH_EUNAVAILABLE;
	json_decref(c);
	arena_free(a);
	if (rc) {
		log_warn("federation: the hub's own directory is refused (%s); the last copy stays in use", why);
		return rc;
	}
	use_dir(d, now);
	return 0;
}

static int refresh(struct member_run *m)
{
	if (fed_cfg.hub)
		return refresh_hub(m);
	int64_t now = time(NULL);
	struct arena *a = arena_new(0);
	pthread_mutex_lock(&cur.lock);
	bool have = cur.dir != NULL;
	pthread_mutex_unlock(&cur.lock);
	if (!have)
		load_kept(m->db, a, now);
	char url[600], err[256];
	snprintf(url, sizeof(url), "%s/.well-known/govhall-directory", fed_cfg.issuer);
	const char *headers[] = { "Accept: application/jwt", NULL };
	struct http_client_resp resp;
	int rc = http_client("GET", url, headers, NULL, 0, m->app->cfg.fed_timeout, DIR_RESP_MAX, NULL, &resp, err, sizeof(err));
	if (rc) {
		log_warn("federation: the hub's directory cannot be fetched (%s); the last good copy stays in use", err);
		goto out;
	}
	struct jwk keys[JWKS_KEYS_MAX];
	size_t n = 0;
	struct fed_dir *d = NULL;
	const char *why = "the hub answered with another status than 200";
	rc = GH_EUNAVAILABLE;
	if (resp.status == 200 && !(rc = fed_rp_hub_keys(false, keys, &n))) {
		rc = fed_dir_parse(resp.body, resp.len, keys, n, fed_cfg.issuer, now, &d, &why);
		/* A key id the kept keys lack: the hub may have rotated; fetch its keys once more. */
		if (rc == GH_ENOTFOUND && !fed_rp_hub_keys(true, keys, &n))
			rc = fed_dir_parse(resp.body, resp.len, keys, n, fed_cfg.issuer, now, &d, &why);
	} else if (rc)
		why = "the hub's keys cannot be fetched";
	if (rc) {
		log_warn("federation: the hub's directory is refused (%s); the last good copy stays in use", why);
		http_client_resp_free(&resp);
		/* Not a failure of the duty: asking again sooner would get the same answer. */
		rc = rc == GH_EUNAVAILABLE ? rc : 0;
		goto out;
	}
	json_t *kj = keys_json(keys, n);
	char *kt = jsonout_dumps(kj, JSON_COMPACT);
	json_decref(kj);
	char *tok = arena_strndup(a, resp.body, resp.len);
	http_client_resp_free(&resp);
	rc = db_exec(m->db, &q_dir_put, DB_ARGS(DB_TEXT(tok), DB_TEXT(kt), DB_INT(now), DB_INT(d->exp)), NULL);
	free(kt);
	if (rc) {
		fed_dir_free(d);
		goto out;
	}
	log_debug("federation: the hub's directory refreshed: %zu hall(s), valid until %lld", d->n, (long long)d->exp);
	use_dir(d, now);
out:
	arena_free(a);
	return rc;
}

static int pass(void *arg, bool *more)
{
	*more = false;
	return refresh(arg);
}

int fed_member_start(struct app *app, char *err, size_t errlen)
{
	if (!fed_cfg.member || run.duty)
		return 0;
	run.app = app;
	/* Its own thread and connection: a pass waits on the hub. */
	if (db_open_named(app->cfg.db, "govhall federation", &run.db, err, errlen))
		return GH_EUNAVAILABLE;
	int period = (int)app->cfg.fed_directory_period;
	if (fed_cfg.hub && period > HUB_DIR_PERIOD)
		period = HUB_DIR_PERIOD;
	if (!(run.duty = duty_start_alone("federation", pass, &run, period))) {
		db_close(run.db);
		run.db = NULL;
		snprintf(err, errlen, "federation: cannot start the directory's duty");
		return GH_EINTERNAL;
	}
	return 0;
}

void fed_member_stop(void)
{
	duty_stop(run.duty);
	if (run.db)
		db_close(run.db);
	run = (struct member_run){ 0 };
}

int fed_member_peer_key(const char *kid, unsigned char pk[32], char hall[65])
{
	pthread_mutex_lock(&cur.lock);
	const struct fed_dir_hall *h = NULL;
	if (cur.dir && cur.dir->exp > time(NULL))
		h = fed_dir_key(cur.dir, kid, pk);
	if (h && hall)
		snprintf(hall, 65, "%s", h->id);
	pthread_mutex_unlock(&cur.lock);
	return h ? 0 : GH_ENOTFOUND;
}

int fed_member_peer_url(const char *id, char *out, size_t n)
{
	pthread_mutex_lock(&cur.lock);
	const struct fed_dir_hall *h = cur.dir && cur.dir->exp > time(NULL) ? fed_dir_hall(cur.dir, id) : NULL;
	if (h)
		snprintf(out, n, "%s", h->base_url);
	pthread_mutex_unlock(&cur.lock);
	return h ? 0 : GH_ENOTFOUND;
}

size_t fed_member_regions(struct arena *a, const char ***out)
{
	size_t n = 0;
	pthread_mutex_lock(&cur.lock);
	if (cur.dir && cur.dir->exp > time(NULL)) {
		const char *self = fed_cfg.app ? fed_cfg.app->cfg.fed_client_id : NULL;
		const struct fed_dir_hall *me = self ? fed_dir_hall(cur.dir, self) : NULL;
		*out = arena_array(a, cur.dir->n ? cur.dir->n : 1, sizeof(**out));
		for (size_t i = 0; i < cur.dir->n; i++) {
			const char *reg = cur.dir->halls[i].region;
			bool dup = me && !strcmp(me->region, reg);
			for (size_t k = 0; k < n && !dup; k++)
				dup = !strcmp((*out)[k], reg);
			if (!dup)
				(*out)[n++] = arena_strdup(a, reg);
		}
	}
	pthread_mutex_unlock(&cur.lock);
	return n;
}

size_t fed_halls(struct arena *a, const char ***ids, const char ***names)
{
	size_t n = 0;
	pthread_mutex_lock(&cur.lock);
	if (cur.dir && cur.dir->exp > time(NULL)) {
		const char *self = fed_cfg.app ? fed_cfg.app->cfg.fed_client_id : NULL;
		*ids = arena_array(a, cur.dir->n + 1, sizeof(**ids));
		*names = arena_array(a, cur.dir->n + 1, sizeof(**names));
		for (size_t i = 0; i < cur.dir->n; i++) {
			if (self && !strcmp(cur.dir->halls[i].id, self))
				continue;
			(*ids)[n] = arena_strdup(a, cur.dir->halls[i].id);
			(*names)[n++] = arena_strdup(a, cur.dir->halls[i].name);
		}
	}
	pthread_mutex_unlock(&cur.lock);
	return n;
}

const char *fed_hall_of_place(struct arena *a, const char *text)
{
	const char **regions = NULL, **ids = NULL;
	size_t n = 0;
	pthread_mutex_lock(&cur.lock);
	if (text && cur.dir && cur.dir->exp > time(NULL)) {
		const char *self = fed_cfg.app ? fed_cfg.app->cfg.fed_client_id : NULL;
		const struct fed_dir_hall *me = self ? fed_dir_hall(cur.dir, self) : NULL;
		regions = arena_array(a, cur.dir->n + 1, sizeof(*regions));
		ids = arena_array(a, cur.dir->n + 1, sizeof(*ids));
		for (size_t i = 0; i < cur.dir->n; i++) {
			const struct fed_dir_hall *h = &cur.dir->halls[i];
			if (h == me || (me && !strcmp(me->region, h->region)))
				continue;
			regions[n] = arena_strdup(a, h->region);
			ids[n++] = arena_strdup(a, h->id);
		}
	}
	pthread_mutex_unlock(&cur.lock);
	const char *rest;
	int k = n ? search_place(a, text, regions, n, &rest) : -1;
	return k >= 0 ? ids[k] : NULL;
}

static int directory_page(struct req *r)
{
	if (!fed_cfg.rp)
		return GH_ENOTFOUND;
	pthread_mutex_lock(&cur.lock);
	json_t *j = NULL;
	if (cur.dir && cur.dir->exp > time(NULL)) {
		json_t *halls = json_array();
		for (size_t i = 0; i < cur.dir->n; i++) {
			json_t *h = fed_dir_hall_json(&cur.dir->halls[i]);
			json_t *kd = cur.dir->halls[i].nlog ? json_object_get(cur.dir->docs, cur.dir->halls[i].log_origin) : NULL;
			if (kd)
				json_object_set_new(h, "keys_document", json_deep_copy(kd));
			json_array_append_new(halls, h);
		}
		j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:o}", "hub", fed_cfg.issuer, "hall", r->app->cfg.fed_client_id,
			      "issued_at", (json_int_t)cur.dir->iat, "expires_at", (json_int_t)cur.dir->exp, "fetched_at",
			      (json_int_t)cur.fetched, "halls", halls);
	}
	pthread_mutex_unlock(&cur.lock);
	if (!j) {
		req_error_detail(r, "%s", "this hall holds no valid directory of the hub yet");
		return GH_ENOTFOUND;
	}
	resp_header(r, "Cache-Control", "no-store");
	return resp_json(r, 200, j);
}

const struct route fed_member_routes[] = {
	{ HTTP_GET, "/federation/directory", directory_page, ROLE_PUBLIC, ROUTE_NOAUTH, "federation.hall_directory" },
};
const size_t fed_member_routes_n = sizeof(fed_member_routes) / sizeof(fed_member_routes[0]);

/* ---- signing a message ------------------------------------------------------------------------ */

struct hdrs {
	const char *digest, *idem;
};

static const char *hdr_of(void *ctx, const char *name)
{
	struct hdrs *h = ctx;
	return !strcmp(name, "content-digest") ? h->digest : !strcmp(name, "idempotency-key") ? h->idem : NULL;
}

int fed_member_sign(struct arena *a, const char *method, const char *url, const char *path, const char *body, size_t len,
		    const char *idem, int64_t now, const char *headers[5])
{
	if (!own.sk)
		return GH_EUNAVAILABLE;
	struct hdrs h = { .digest = hsig_digest(a, body, len), .idem = arena_printf(a, "\"%s\"", idem) };
	struct hsig_input in = { .label = HSIG_LABEL, .ncomp = 4, .has_created = true, .has_expires = true,
				 .created = now, .expires = now + 300, .alg = "ed25519", .tag = "govhall" };
	snprintf(in.keyid, sizeof(in.keyid), "%s", own.kid);
	static const char *const comp[] = { "@method", "@target-uri", "content-digest", "idempotency-key" };
	for (size_t i = 0; i < 4; i++)
		snprintf(in.comp[i], sizeof(in.comp[i]), "%s", comp[i]);
	struct hsig_msg m = { .method = method, .target_uri = url, .path = path, .header = hdr_of, .ctx = &h };
	char *si, *sv;
	const char *why;
	if (hsig_sign(a, &in, &m, own.sk, &si, &sv, &why))
		return GH_EINTERNAL;
	headers[0] = arena_printf(a, "Content-Digest: %s", h.digest);
	headers[1] = arena_printf(a, "Idempotency-Key: %s", h.idem);
	headers[2] = arena_printf(a, "Signature-Input: %s", si);
	headers[3] = arena_printf(a, "Signature: %s", sv);
	headers[4] = NULL;
	return 0;
}

int fed_member_sign_doc(struct arena *a, const json_t *claims, char **out)
{
	return own.sk ? jwt_sign(a, own.kid, claims, own.sk, out) : GH_EUNAVAILABLE;
}

int fed_member_seal_for(struct arena *a, const char *hall, const char *msg, size_t len, char **out)
{
	unsigned char pk[32], x[32];
	bool found = false;
	pthread_mutex_lock(&cur.lock);
	const struct fed_dir_hall *h = cur.dir && cur.dir->exp > time(NULL) ? fed_dir_hall(cur.dir, hall) : NULL;
	if (h && h->nkeys) {
		memcpy(pk, h->keys[0].pk, 32);
		found = true;
	}
	pthread_mutex_unlock(&cur.lock);
	if (!found)
		return GH_ENOTFOUND;
	if (crypto_sign_ed25519_pk_to_curve25519(x, pk))
		return GH_EINVAL;
	unsigned char *c = arena_alloc(a, len + crypto_box_SEALBYTES);
	if (crypto_box_seal(c, (const unsigned char *)msg, len, x))
		return GH_EINTERNAL;
	*out = jwt_b64url(a, c, len + crypto_box_SEALBYTES);
	return 0;
}

int fed_member_open_sealed(struct arena *a, const char *text, size_t len, char **out, size_t *outlen)
{
	unsigned char *c;
	size_t cl;
	if (!own.sk)
		return GH_EUNAVAILABLE;
	if (jwt_b64url_decode(a, text, len, &c, &cl) || cl <= crypto_box_SEALBYTES)
		return GH_EINVAL;
	unsigned char edpk[32], xpk[32], xsk[32];
	crypto_sign_ed25519_sk_to_pk(edpk, own.sk);
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, edpk) || crypto_sign_ed25519_sk_to_curve25519(xsk, own.sk))
		return GH_EINTERNAL;
	size_t ml = cl - crypto_box_SEALBYTES;
	unsigned char *m = arena_alloc(a, ml + 1);
	int rc = crypto_box_seal_open(m, c, cl, xpk, xsk);
	sodium_memzero(xsk, sizeof(xsk));
	if (rc)
		return GH_EINVAL;
	m[ml] = 0;
	*out = (char *)m;
	*outlen = ml;
	return 0;
}

int fed_member_cosign(const unsigned char *msg, size_t len, unsigned char sig[64])
{
	if (!own.sk)
		return GH_EUNAVAILABLE;
	crypto_sign_detached(sig, NULL, msg, len, own.sk);
	return 0;
}

int fed_member_own_kid(char *kid, size_t n)
{
	if (!own.sk)
		return GH_EUNAVAILABLE;
	snprintf(kid, n, "%s", own.kid);
	return 0;
}

int fed_member_own_key(unsigned char pk[32])
{
	if (!own.sk)
		return GH_EUNAVAILABLE;
	memcpy(pk, own.pk, 32);
	return 0;
}

json_t *fed_member_keys_doc(struct db *db, const char *origin)
{
	(void)db;
	pthread_mutex_lock(&cur.lock);
	json_t *d = cur.dir && cur.dir->exp > time(NULL) ? json_object_get(cur.dir->docs, origin) : NULL;
	d = d ? json_deep_copy(d) : NULL;
	pthread_mutex_unlock(&cur.lock);
	return d;
}

int fed_member_halls(struct fed_dir_hall **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&cur.lock);
	if (cur.dir && cur.dir->exp > time(NULL) && cur.dir->n) {
		*out = malloc(cur.dir->n * sizeof(**out));
		if (*out) {
			memcpy(*out, cur.dir->halls, cur.dir->n * sizeof(**out));
			*n = cur.dir->n;
		}
	}
	pthread_mutex_unlock(&cur.lock);
	return *n ? 0 : GH_ENOTFOUND;
}

/* ---- `govhall federation join` ------------------------------------------------------------------ */

int fed_member_join(struct app *app, struct db *db, int argc, char **argv)
{
	const struct config *c = &app->cfg;
	const char *name = NULL, *region = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--region") && i + 1 < argc)
			region = argv[++i];
		else {
			fprintf(stderr, "govhall: unknown or incomplete option %s\n", argv[i]);
			return 2;
		}
	}
	if (!name || !region || !*name || !*region) {
		fprintf(stderr, "govhall: joining needs --name (the hall's name, as citizens know it) and --region (its province or city)\n");
		return 2;
	}
	if (!c->fed_hub_url || !*c->fed_hub_url || !c->fed_client_id || !*c->fed_client_id || !c->public_url ||
	    !*c->public_url) {
		fprintf(stderr, "govhall: joining needs fed-hub-url, fed-client-id (this hall's id at the hub) and public-url\n");
		return 2;
	}
	char err[256];
	if (key_ready(db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		return 1;
	}
	struct arena *a = arena_new(0);
	size_t ul = strlen(c->public_url), hl = strlen(c->fed_hub_url);
	while (ul && c->public_url[ul - 1] == '/')
		ul--;
	while (hl && c->fed_hub_url[hl - 1] == '/')
		hl--;
	json_t *body = json_pack("{s:s,s:s,s:s,s:s%,s:[{s:s,s:s}]}", "id", c->fed_client_id, "name", name, "region", region,
				 "base_url", c->public_url, ul, "keys", "kid", own.kid, "x", jwt_b64url(a, own.pk, 32));
	/* Its transparency log, so the other halls' witnesses know it (witness.c). */
	json_t *lg = fed_witness_log_json(db, c);
	if (body && lg)
		json_object_set_new(body, "log", lg);
	/* Its keys document, so that its certificates verify at other halls, at the hub and offline
	 * from the hub's directory. */
	json_t *kd = lg ? ledger_keys_document(db, a, c) : NULL;
	if (body && kd)
		json_object_set_new(body, "keys_document", kd);
	char *text = body ? jsonout_dumps(body, JSON_COMPACT) : NULL;
	int rc = 1;
	struct fed_dir_hall check;
	json_t *again = text ? json_loads(text, 0, NULL) : NULL;
	const char *why = again ? fed_dir_hall_from_json(a, again, &check) : "the registration is not text";
	json_decref(again);
	if (why) {
		fprintf(stderr, "govhall: %s\n", why);
		goto out;
	}
	const char *url = arena_printf(a, "%.*s/federation/halls", (int)hl, c->fed_hub_url);
	const char *path = strstr(url + 8, "/federation/halls");
	const char *sig[5], *headers[7];
	char idem[CRYPTO_TOKEN_LEN + 1];
	crypto_new_token(idem);
	if (fed_member_sign(a, "POST", url, path, text, strlen(text), idem, time(NULL), sig)) {
		fprintf(stderr, "govhall: the registration could not be signed\n");
		goto out;
	}
	headers[0] = "Content-Type: application/json";
	for (int i = 0; i < 5; i++)
		headers[i + 1] = sig[i];
	struct http_client_resp resp;
	if (http_client("POST", url, headers, text, strlen(text), c->fed_timeout, 65536, NULL, &resp, err, sizeof(err))) {
		fprintf(stderr, "govhall: the hub cannot be reached (%s)\n", err);
		goto out;
	}
	if (resp.status == 409 && json_object_get(body, "log") && strstr(resp.body, "origin")) {
		/* Another hall's log has this log's origin (both made without a public-url of their own,
		 * say): join without it; the log is then not witnessed. */
		fprintf(stderr, "govhall: the hub knows another hall's log of this origin (%s): joining without the log, "
				"which the other halls will not witness\n",
			json_string_value(json_object_get(json_object_get(body, "log"), "origin")));
		http_client_resp_free(&resp);
		json_object_del(body, "log");
		json_object_del(body, "keys_document");
		free(text);
		text = jsonout_dumps(body, JSON_COMPACT);
		crypto_new_token(idem);
		bool sig_ok = text && !fed_member_sign(a, "POST", url, path, text, strlen(text), idem, time(NULL), sig);
		for (int i = 0; sig_ok && i < 5; i++)
			headers[i + 1] = sig[i];
		if (!sig_ok || http_client("POST", url, headers, text, strlen(text), c->fed_timeout, 65536, NULL, &resp, err, sizeof(err))) {
			fprintf(stderr, "govhall: the hub cannot be reached (%s)\n", err);
			goto out;
		}
	}
	if (resp.status == 202 || resp.status == 200) {
		printf("registration of %s (key %s) sent to %.*s: %s\n", c->fed_client_id, own.kid, (int)hl, c->fed_hub_url,
		       resp.status == 202 ? "waiting for the hub's administrator to approve it"
					  : "unchanged, the hub's decision stands");
		rc = 0;
	} else
		fprintf(stderr, "govhall: the hub refused the registration (%ld): %.*s\n", resp.status, (int)resp.len, resp.body);
	http_client_resp_free(&resp);
out:
	json_decref(body);
	free(text);
	arena_free(a);
	return rc;
}
