/* jwt.h: JSON Web Tokens (RFC 7519) in the JWS compact serialization (RFC 7515), signed with
 * EdDSA over Ed25519 (RFC 8037) and nothing else, and JSON Web Key Sets of such keys.
 *
 * Invariants:
 * - The algorithm is fixed by the key, never chosen by the token: a header whose "alg" is not
 *   exactly "EdDSA" is refused ("none", HS256 and the rest included), as is one with "crit",
 *   "jku", "jwk", "x5u" or "x5c" (keys come only from the key set the caller trusts).
 * - base64url is strict: the URL-safe alphabet without padding, no spaces, zero trailing bits.
 * - Sizes are checked before anything is decoded (JWT_MAX, JWKS_MAX, JWKS_KEYS_MAX).
 * Pure functions over memory: no I/O, no clock (the caller checks "exp" and the rest); every
 * parser here is fuzzed (tests/fuzz/fuzz_jwt.c). */
#ifndef GH_FED_JWT_H
#define GH_FED_JWT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"

#define JWT_MAX 8192        /* longest token accepted, in bytes */
#define JWKS_MAX 65536      /* longest key set document accepted */
#define JWKS_KEYS_MAX 16    /* keys kept from one key set */
#define JWT_KID_MAX 64      /* longest key id */

struct jwk {
	char kid[JWT_KID_MAX + 1];
	unsigned char pk[32]; /* Ed25519 public key */
};

/* base64url without padding of n bytes, NUL-terminated, in a. */
char *jwt_b64url(struct arena *a, const void *p, size_t n);
/* Strict base64url decoding of s (n bytes) into a; GH_EINVAL for anything else. */
int jwt_b64url_decode(struct arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen);

/* Signs claims (a JSON object, not stolen) with the Ed25519 secret key sk (64 bytes, libsodium
 * layout) under key id kid: header {"alg":"EdDSA","kid":kid,"typ":"JWT"}. The token is in a. */
int jwt_sign(struct arena *a, const char *kid, const json_t *claims, const unsigned char sk[64], char **out);

/* Checks token (len bytes) against the key set: shape, header, key by "kid" (one key and no
 * "kid": that key), signature; then gives the claims (a JSON object; json_decref it).
 * GH_EINVAL with *why (a static English phrase for logs and error details) otherwise;
 * GH_ENOTFOUND when the signature names a key the set lacks (the caller may refresh its set
 * once and try again). */
int jwt_verify(const char *token, size_t len, const struct jwk *keys, size_t nkeys, json_t **claims, const char **why);
/* The same for a token of up to max bytes (a signed document: a catalog feed's page). */
int jwt_verify_max(const char *token, size_t len, size_t max, const struct jwk *keys, size_t nkeys, json_t **claims,
		   const char **why);

/* The "kid" of a JWS's protected header, unverified (to find the key a caller then verifies
 * with): in a, at most JWT_KID_MAX bytes; NULL when the token has no readable header or no
 * such member. Never a reason to trust the token. */
const char *jwt_kid(struct arena *a, const char *token, size_t len);
/* Reads a JWKS document (RFC 7517): keys of kty "OKP", crv "Ed25519" with a "kid" (others,
 * and keys with "use" other than "sig", are skipped). GH_EINVAL with *why when the document
 * is no key set or holds no usable key. */
int jwks_parse(const char *text, size_t len, struct jwk *keys, size_t max, size_t *n, const char **why);
/* One key as a JWK object (new reference). */
json_t *jwk_json(const char *kid, const unsigned char pk[32]);

/* The PKCE S256 challenge of a verifier (RFC 7636 §4.2): base64url(SHA-256(verifier)), in a. */
char *jwt_pkce_s256(struct arena *a, const char *verifier);
/* Whether s is a PKCE code verifier: 43..128 characters of [A-Za-z0-9-._~] (§4.1). */
bool jwt_pkce_verifier_ok(const char *s);

#endif
