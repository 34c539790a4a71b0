/* Fuzzes the national identity's parsers (src/federation/jwt.h). The first byte chooses:
 *   0: a compact JWS checked against a key set of one fixed key (jwt_verify);
 *   1: a JWKS document (jwks_parse);
 *   2: base64url (jwt_b64url_decode), re-encoded to the same text;
 *   3: claims: signed with the fixed key, the token must verify to the same claims, and any
 *      change of one byte of it must not;
 *   4: the claims of a directory of halls (src/federation/dir.h), signed with the fixed key:
 *      what it accepts has halls with identifiers, addresses and keys, each found by its key
 *      id, and gives the same directory again when signed again from what was read; the
 *      hub's entry, when there is one, is found by its key id and its id, and is no hall.
 * Invariants: a refusal always says why; what verifies gives a JSON object; keys parsed are
 * Ed25519 keys with a key id. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "federation/dir.h"
#include "federation/jwt.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static unsigned char pk[32], sk[64];

static void keys(void)
{
	static int done;
	if (done)
		return;
	unsigned char seed[32];
	memset(seed, 42, sizeof(seed));
	check(sodium_init() >= 0);
	crypto_sign_seed_keypair(pk, sk, seed);
	done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	keys();
	const char *d = (const char *)data + 1;
	size_t n = size - 1;
	struct jwk set[JWKS_KEYS_MAX];
	memcpy(set[0].kid, "k1", 3);
	memcpy(set[0].pk, pk, 32);
	struct arena *a = arena_new(0);
	const char *why = NULL;
	json_t *claims = NULL;
	switch (data[0] % 6) {
	case 0:
		if (jwt_verify(d, n, set, 1, &claims, &why) == 0)
			check(json_is_object(claims) && why == NULL);
		else
			check(why != NULL && claims == NULL);
		json_decref(claims);
		break;
	case 1: {
		size_t got = 0;
		if (jwks_parse(d, n, set, JWKS_KEYS_MAX, &got, &why) == 0) {
			check(got >= 1 && got <= JWKS_KEYS_MAX);
			for (size_t i = 0; i < got; i++)
				check(set[i].kid[0] != 0);
		} else
			check(why != NULL);
		break;
	}
	case 2: {
		unsigned char *out;
		size_t len;
		if (jwt_b64url_decode(a, d, n, &out, &len) == 0) {
			char *again = jwt_b64url(a, out, len);
			check(strlen(again) == n && memcmp(again, d, n) == 0);
		}
		break;
	}
	case 3: {
		json_t *c = json_loadb(d, n, JSON_REJECT_DUPLICATES, NULL);
		char *tok;
		if (json_is_object(c) && jwt_sign(a, "k1", c, sk, &tok) == 0) {
			check(jwt_verify(tok, strlen(tok), set, 1, &claims, &why) == 0 && json_equal(claims, c));
			json_decref(claims);
			claims = NULL;
			size_t tl = strlen(tok);
			tok[n % tl] ^= 1;
			if (jwt_verify(tok, tl, set, 1, &claims, &why) == 0) {
				/* Only a flip base64url ignores (none here: trailing bits must be zero). */
				abort();
			}
		}
		json_decref(c);
		break;
	}
	case 4: {
		json_t *c = json_loadb(d, n, JSON_REJECT_DUPLICATES, NULL);
		char *tok;
		struct fed_dir *dir = NULL;
		if (json_is_object(c) && jwt_sign(a, "k1", c, sk, &tok) == 0) {
			int rc = fed_dir_parse(tok, strlen(tok), set, 1, "https://hub.example", 1000, &dir, &why);
			if (rc == 0) {
				check(dir->exp > 1000 && dir->n <= FED_DIR_HALLS_MAX);
				json_t *halls = json_array();
				for (size_t i = 0; i < dir->n; i++) {
					unsigned char k[32];
					check(fed_dir_id_ok(dir->halls[i].id) && dir->halls[i].nkeys >= 1);
					check(fed_dir_key(dir, dir->halls[i].keys[0].kid, k) == &dir->halls[i]);
					check(fed_dir_hall(dir, dir->halls[i].id) == &dir->halls[i]);
					json_array_append_new(halls, fed_dir_hall_json(&dir->halls[i]));
				}
				json_t *again = json_pack("{s:s,s:I,s:I,s:o}", "iss", "https://hub.example", "iat", (json_int_t)dir->iat,
							  "exp", (json_int_t)dir->exp, "halls", halls);
				/* The hub's entry: found by its key and id, and no hall's. */
				if (dir->has_hub) {
					unsigned char k[32];
					check(fed_dir_key(dir, dir->hub.keys[0].kid, k) == &dir->hub);
					check(fed_dir_hall(dir, dir->hub.id) == &dir->hub);
					json_object_set_new(again, "hub", fed_dir_hall_json(&dir->hub));
				}
				struct fed_dir *d2 = NULL;
				check(jwt_sign(a, "k1", again, sk, &tok) == 0 &&
				      fed_dir_parse(tok, strlen(tok), set, 1, "https://hub.example", 1000, &d2, &why) == 0 &&
				      d2->n == dir->n && d2->has_hub == dir->has_hub);
				fed_dir_free(d2);
				json_decref(again);
			} else
				check(why != NULL && dir == NULL);
			fed_dir_free(dir);
		}
		json_decref(c);
		break;
	}
	case 5: {
		/* The key id of a token's header (jwt_kid), unverified: none, or a short one; for a
		 * token signed from the input's claims, the key id it was signed with. */
		const char *kid = jwt_kid(a, d, n);
		check(!kid || (*kid && strlen(kid) <= JWT_KID_MAX));
		json_t *c = json_loadb(d, n, JSON_REJECT_DUPLICATES, NULL);
		char *tok;
		if (json_is_object(c) && jwt_sign(a, "k1", c, sk, &tok) == 0)
			check((kid = jwt_kid(a, tok, strlen(tok))) && !strcmp(kid, "k1"));
		json_decref(c);
		break;
	}
	}
	arena_free(a);
	return 0;
}
