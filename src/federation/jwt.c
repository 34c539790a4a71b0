/* jwt.c: compact JWS with EdDSA (Ed25519) and key sets; see jwt.h for the rules. */
#include "federation/jwt.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonout.h"

char *jwt_b64url(struct arena *a, const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = arena_alloc(a, cap);
	sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

int jwt_b64url_decode(struct arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	if (n % 4 == 1)
		return GH_EINVAL; /* no byte string encodes to this length */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return GH_EINVAL;
	}
	unsigned char *buf = arena_alloc(a, n * 3 / 4 + 1);
	size_t len = 0;
	const char *end = NULL;
	if (sodium_base642bin(buf, n * 3 / 4 + 1, s, n, NULL, &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    end != s + n)
		return GH_EINVAL;
	buf[len] = 0;
	/* Canonical form only: one text per byte string (no stray trailing bits). */
	char *again = jwt_b64url(a, buf, len);
	if (strlen(again) != n || memcmp(again, s, n))
		return GH_EINVAL;
	*out = buf;
	*outlen = len;
	return 0;
}

static char *dump_b64(struct arena *a, const json_t *j)
{
	char *s = jsonout_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return NULL;
	char *b = jwt_b64url(a, s, strlen(s));
	free(s);
	return b;
}

int jwt_sign(struct arena *a, const char *kid, const json_t *claims, const unsigned char sk[64], char **out)
{
	json_t *h = json_pack("{s:s,s:s,s:s}", "alg", "EdDSA", "kid", kid, "typ", "JWT");
	char *hb = h ? dump_b64(a, h) : NULL;
	json_decref(h);
	char *pb = json_is_object(claims) ? dump_b64(a, claims) : NULL;
	if (!hb || !pb)
		return GH_EINVAL;
	char *input = arena_printf(a, "%s.%s", hb, pb);
	unsigned char sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)input, strlen(input), sk);
	*out = arena_printf(a, "%s.%s", input, jwt_b64url(a, sig, sizeof(sig)));
	return 0;
}

/* Decodes one part into a JSON object. */
static json_t *part_json(struct arena *a, const char *s, size_t n)
{
	unsigned char *raw;
	size_t len;
	if (jwt_b64url_decode(a, s, n, &raw, &len))
		return NULL;
	json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int verify(struct arena *a, const char *token, size_t len, size_t max, const struct jwk *keys, size_t nkeys,
		  json_t **claims, const char **why)
{
	*why = "malformed token";
	if (len == 0 || len > max || memchr(token, 0, len))
		return GH_EINVAL;
	const char *d1 = memchr(token, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
		return GH_EINVAL; /* exactly three parts */
	json_t *h = part_json(a, token, (size_t)(d1 - token));
	if (!h) {
		*why = "the token's header is not base64url JSON";
		return GH_EINVAL;
	}
	const char *alg = json_string_value(json_object_get(h, "alg"));
	json_t *kidj = json_object_get(h, "kid");
	const char *kid = json_string_value(kidj);
	int rc = GH_EINVAL;
	const struct jwk *key = NULL;
	if (!alg || strcmp(alg, "EdDSA")) {
		*why = "the token is not signed with EdDSA";
		goto out;
	}
	if (json_object_get(h, "crit") || json_object_get(h, "jku") || json_object_get(h, "jwk") ||
	    json_object_get(h, "x5u") || json_object_get(h, "x5c")) {
		*why = "the token's header names keys or extensions of its own";
		goto out;
	}
	if (kidj && !kid) {
		*why = "the token's key id is not a string";
		goto out;
	}
	for (size_t i = 0; i < nkeys && !key; i++)
		if (kid ? strcmp(keys[i].kid, kid) == 0 : nkeys == 1)
			key = &keys[i];
	if (!key) {
		*why = "the token is signed with a key the issuer does not publish";
		rc = GH_ENOTFOUND;
		goto out;
	}
	unsigned char *sig;
	size_t siglen;
	if (jwt_b64url_decode(a, d2 + 1, len - (size_t)(d2 + 1 - token), &sig, &siglen) || siglen != crypto_sign_BYTES) {
		*why = "the token's signature is malformed";
		goto out;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)token, (size_t)(d2 - token), key->pk)) {
		*why = "the token's signature does not verify";
		goto out;
	}
	json_t *c = part_json(a, d1 + 1, (size_t)(d2 - d1 - 1));
	if (!c) {
		*why = "the token's claims are not base64url JSON";
		goto out;
	}
	*claims = c;
	*why = NULL;
	rc = 0;
out:
	json_decref(h);
	return rc;
}

int jwt_verify(const char *token, size_t len, const struct jwk *keys, size_t nkeys, json_t **claims, const char **why)
{
	return jwt_verify_max(token, len, JWT_MAX, keys, nkeys, claims, why);
}

int jwt_verify_max(const char *token, size_t len, size_t max, const struct jwk *keys, size_t nkeys, json_t **claims,
		   const char **why)
{
	struct arena *a = arena_new(0);
	*claims = NULL;
	int rc = verify(a, token, len, max, keys, nkeys, claims, why);
	arena_free(a);
	return rc;
}

const char *jwt_kid(struct arena *a, const char *token, size_t len)
{
	const char *dot = token ? memchr(token, '.', len) : NULL;
	unsigned char *h;
	size_t hl;
	if (!dot || dot - token > 512 || jwt_b64url_decode(a, token, (size_t)(dot - token), &h, &hl))
		return NULL;
	json_t *j = json_loadb((const char *)h, hl, JSON_REJECT_DUPLICATES, NULL);
	const char *kid = json_string_value(json_object_get(j, "kid"));
	const char *out = kid && *kid && strlen(kid) <= JWT_KID_MAX ? arena_strdup(a, kid) : NULL;
	json_decref(j);
	return out;
}

int jwks_parse(const char *text, size_t len, struct jwk *keys, size_t max, size_t *n, const char **why)
{
	*n = 0;
	*why = "the key set is not a JSON object with \"keys\"";
	if (!text || len > JWKS_MAX)
		return GH_EINVAL;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *arr = json_object_get(j, "keys");
	if (!json_is_array(arr)) {
		json_decref(j);
		return GH_EINVAL;
	}
	size_t i;
	json_t *k;
	json_array_foreach(arr, i, k)
	{
		if (*n >= max)
			break;
		const char *kty = json_string_value(json_object_get(k, "kty"));
		const char *crv = json_string_value(json_object_get(k, "crv"));
		const char *x = json_string_value(json_object_get(k, "x"));
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *use = json_string_value(json_object_get(k, "use"));
		const char *alg = json_string_value(json_object_get(k, "alg"));
		if (!kty || strcmp(kty, "OKP") || !crv || strcmp(crv, "Ed25519") || !x || !kid || !*kid ||
		    strlen(kid) > JWT_KID_MAX || (use && strcmp(use, "sig")) || (alg && strcmp(alg, "EdDSA")) ||
		    json_object_get(k, "d"))
			continue; /* not an Ed25519 verification key (or a private one, never used) */
		struct arena *a = arena_new(0);
		unsigned char *pk;
		size_t pklen;
		if (jwt_b64url_decode(a, x, strlen(x), &pk, &pklen) == 0 && pklen == 32) {
			snprintf(keys[*n].kid, sizeof(keys[*n].kid), "%s", kid);
			memcpy(keys[*n].pk, pk, 32);
			(*n)++;
		}
		arena_free(a);
	}
	json_decref(j);
	if (*n == 0) {
		*why = "the key set holds no Ed25519 signing key";
		return GH_EINVAL;
	}
	*why = NULL;
	return 0;
}

json_t *jwk_json(const char *kid, const unsigned char pk[32])
{
	char x[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	sodium_bin2base64(x, sizeof(x), pk, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", x, "kid", kid, "use", "sig",
			 "alg", "EdDSA");
}

char *jwt_pkce_s256(struct arena *a, const char *verifier)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
	return jwt_b64url(a, h, sizeof(h));
}

bool jwt_pkce_verifier_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 43 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_' || c == '~'))
			return false;
	}
	return true;
}
