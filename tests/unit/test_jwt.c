/* Unit tests for src/federation/jwt.c: the RFC 8037 example, signing and checking, the headers
 * and encodings refused, key sets and PKCE (RFC 7636 appendix B). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/err.h"
#include "federation/jwt.h"

/* RFC 8037 appendix A.1 and A.4. */
#define RFC_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC_JWS                                                                                        \
	"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

static struct jwk rfc_key(struct arena *a)
{
	struct jwk k = { .kid = "rfc" };
	unsigned char *x;
	size_t n;
	assert_int_equal(jwt_b64url_decode(a, RFC_X, strlen(RFC_X), &x, &n), 0);
	assert_int_equal(n, 32);
	memcpy(k.pk, x, 32);
	return k;
}

static void test_rfc8037(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct jwk k = rfc_key(a);
	json_t *claims = NULL;
	const char *why;
	/* The signature verifies (the one key of the set, no kid); the payload is text, not claims. */
	assert_int_equal(jwt_verify(RFC_JWS, strlen(RFC_JWS), &k, 1, &claims, &why), GH_EINVAL);
	assert_string_equal(why, "the token's claims are not base64url JSON");
	/* One bit of the signature changed: it does not. */
	char bad[] = RFC_JWS;
	bad[strlen(bad) - 3] ^= 1;
	assert_int_equal(jwt_verify(bad, strlen(bad), &k, 1, &claims, &why), GH_EINVAL);
	assert_string_equal(why, "the token's signature does not verify");
	/* The private key of the RFC signs the same bytes to the same signature (Ed25519 is
	 * deterministic). */
	unsigned char *d;
	size_t n;
	assert_int_equal(jwt_b64url_decode(a, RFC_D, strlen(RFC_D), &d, &n), 0);
	unsigned char pk[32], sk[64], sig[64];
	crypto_sign_seed_keypair(pk, sk, d);
	assert_memory_equal(pk, k.pk, 32);
	const char *input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
	crypto_sign_detached(sig, NULL, (const unsigned char *)input, strlen(input), sk);
	assert_string_equal(jwt_b64url(a, sig, 64), strrchr(RFC_JWS, '.') + 1);
	arena_free(a);
}

static void keypair(struct jwk *k, unsigned char sk[64], const char *kid, unsigned char seed_byte)
{
	unsigned char seed[32];
	memset(seed, seed_byte, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, sk, seed);
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
}

static void test_sign_verify(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct jwk keys[2];
	unsigned char sk1[64], sk2[64];
	keypair(&keys[0], sk1, "k1", 1);
	keypair(&keys[1], sk2, "k2", 2);
	json_t *c = json_pack("{s:s,s:s,s:i}", "iss", "https://hub.example", "name", "张三", "exp", 2000000000);
	char *tok;
	assert_int_equal(jwt_sign(a, "k2", c, sk2, &tok), 0);
	json_t *out = NULL;
	const char *why;
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, 2, &out, &why), 0);
	assert_true(json_equal(out, c));
	json_decref(out);
	/* Signed by k1's secret but naming k2: refused. */
	char *forged;
	assert_int_equal(jwt_sign(a, "k2", c, sk1, &forged), 0);
	assert_int_equal(jwt_verify(forged, strlen(forged), keys, 2, &out, &why), GH_EINVAL);
	/* A key the set lacks: GH_ENOTFOUND, so the caller may refresh its set once. */
	char *k3;
	assert_int_equal(jwt_sign(a, "k3", c, sk1, &k3), 0);
	assert_int_equal(jwt_verify(k3, strlen(k3), keys, 2, &out, &why), GH_ENOTFOUND);
	assert_null(out);
	json_decref(c);
	arena_free(a);
}

/* A token with the header h (JSON text), claims {} and the signature of k1's secret. */
static char *with_header(struct arena *a, const char *h, const unsigned char sk[64])
{
	char *hb = jwt_b64url(a, h, strlen(h)), *pb = jwt_b64url(a, "{}", 2);
	char *input = arena_printf(a, "%s.%s", hb, pb);
	unsigned char sig[64];
	crypto_sign_detached(sig, NULL, (const unsigned char *)input, strlen(input), sk);
	return arena_printf(a, "%s.%s", input, jwt_b64url(a, sig, 64));
}

static void test_headers_refused(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct jwk k;
	unsigned char sk[64];
	keypair(&k, sk, "k1", 1);
	static const char *const bad[] = {
		"{\"alg\":\"none\",\"kid\":\"k1\"}",
		"{\"alg\":\"HS256\",\"kid\":\"k1\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k1\"}",
		"{\"alg\":\"eddsa\",\"kid\":\"k1\"}",
		"{\"kid\":\"k1\"}",
		"{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"jku\":\"https://evil.example/keys\"}",
		"{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"jwk\":{}}",
		"{\"alg\":\"EdDSA\",\"kid\":1}",
		"{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\",\"kid\":\"k1\"}",
		"[\"alg\",\"EdDSA\"]",
	};
	json_t *out = NULL;
	const char *why;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *t = with_header(a, bad[i], sk);
		assert_int_not_equal(jwt_verify(t, strlen(t), &k, 1, &out, &why), 0);
		assert_non_null(why);
		assert_null(out);
	}
	char *ok = with_header(a, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", sk);
	assert_int_equal(jwt_verify(ok, strlen(ok), &k, 1, &out, &why), 0);
	json_decref(out);
	/* Shapes: two parts, four parts, padding, the standard alphabet, a NUL. */
	static const char *const shapes[] = { "a.b", "a.b.c.d", "", "..", "eyJhbGciOiJFZERTQSJ9=.e30.AA" };
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		assert_int_not_equal(jwt_verify(shapes[i], strlen(shapes[i]), &k, 1, &out, &why), 0);
	char *plus = arena_strdup(a, ok);
	plus[strlen(plus) - 1] = '+';
	assert_int_not_equal(jwt_verify(plus, strlen(plus), &k, 1, &out, &why), 0);
	assert_int_not_equal(jwt_verify(ok, strlen(ok) + 0 * 1, &k, 0, &out, &why), 0); /* no keys */
	arena_free(a);
}

static void test_b64url(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	unsigned char *out;
	size_t n;
	assert_int_equal(jwt_b64url_decode(a, "aGk", 3, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "hi", 2);
	/* Non-zero trailing bits ("aGl" also decodes to "hi" by a lax decoder): not canonical. */
	assert_int_equal(jwt_b64url_decode(a, "aGl", 3, &out, &n), GH_EINVAL);
	assert_int_equal(jwt_b64url_decode(a, "aGk=", 4, &out, &n), GH_EINVAL);
	assert_int_equal(jwt_b64url_decode(a, "a+/b", 4, &out, &n), GH_EINVAL);
	assert_int_equal(jwt_b64url_decode(a, "a", 1, &out, &n), GH_EINVAL);
	assert_int_equal(jwt_b64url_decode(a, "aG k", 4, &out, &n), GH_EINVAL);
	assert_int_equal(jwt_b64url_decode(a, "", 0, &out, &n), 0);
	assert_int_equal(n, 0);
	arena_free(a);
}

static void test_jwks(void **state)
{
	(void)state;
	struct jwk keys[JWKS_KEYS_MAX];
	size_t n;
	const char *why;
	const char *doc = "{\"keys\":["
			  "{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
			  "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"x\",\"x\":\"" RFC_X "\"},"
			  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"enc\",\"use\":\"enc\",\"x\":\"" RFC_X "\"},"
			  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"priv\",\"d\":\"" RFC_D "\",\"x\":\"" RFC_X "\"},"
			  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"short\",\"x\":\"AAAA\"},"
			  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\"},"
			  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"good\",\"use\":\"sig\",\"alg\":\"EdDSA\",\"x\":\"" RFC_X "\"}"
			  "]}";
	assert_int_equal(jwks_parse(doc, strlen(doc), keys, JWKS_KEYS_MAX, &n, &why), 0);
	assert_int_equal(n, 1);
	assert_string_equal(keys[0].kid, "good");
	assert_int_equal(jwks_parse("{\"keys\":[]}", 11, keys, JWKS_KEYS_MAX, &n, &why), GH_EINVAL);
	assert_int_equal(jwks_parse("[]", 2, keys, JWKS_KEYS_MAX, &n, &why), GH_EINVAL);
	assert_int_equal(jwks_parse("{", 1, keys, JWKS_KEYS_MAX, &n, &why), GH_EINVAL);
	/* What jwk_json writes, jwks_parse reads. */
	json_t *set = json_pack("{s:[o]}", "keys", jwk_json("k9", keys[0].pk));
	char *text = json_dumps(set, 0);
	assert_int_equal(jwks_parse(text, strlen(text), keys, JWKS_KEYS_MAX, &n, &why), 0);
	assert_string_equal(keys[0].kid, "k9");
	free(text);
	json_decref(set);
}

static void test_pkce(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	/* RFC 7636 appendix B. */
	assert_string_equal(jwt_pkce_s256(a, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
			    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	assert_true(jwt_pkce_verifier_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
	assert_false(jwt_pkce_verifier_ok("short"));
	assert_false(jwt_pkce_verifier_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+"));
	assert_false(jwt_pkce_verifier_ok(NULL));
	arena_free(a);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8037),	     cmocka_unit_test(test_sign_verify), cmocka_unit_test(test_headers_refused),
		cmocka_unit_test(test_b64url),	     cmocka_unit_test(test_jwks),	 cmocka_unit_test(test_pkce),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
