/* dir.h: the hub's signed directory of halls — who is in the federation, where, and with which
 * public keys their messages are signed.
 *
 * The hub publishes it at /.well-known/govhall-directory as a JWT (jwt.h: EdDSA, signed with
 * the hub's OpenID Connect signing key, so a hall checks it against the hub's JWKS it already
 * trusts) whose claims are
 *   {"iss": hub, "iat": t, "exp": t + FED_DIR_TTL,
 *    "halls": [{"id", "name", "region", "base_url", "keys": [{"kid", "x"}]}],
 *    "hub": {"id", "name", "region", "base_url", "keys"}}
 * with only the halls the hub's administrator approved, and the hub itself (its id, address
 * and message key: messages from the hub to a hall, and to the hub's inbox, are checked and
 * addressed by it as a hall's are; it is no hall: no catalog, no log, no place to forward an
 * item to).
 *
 * Invariants:
 * - fed_dir_parse accepts only a directory signed by a key of the set, of this issuer, not
 *   expired, issued no later than FED_SKEW ahead of the caller's clock, living at most
 *   FED_DIR_TTL_MAX, with well-formed halls (identifiers and key ids unique across it), sizes
 *   bounded (FED_DIR_MAX, FED_DIR_HALLS_MAX, FED_DIR_KEYS_MAX). Anything else is refused with a
 *   reason, and the caller keeps its last good copy.
 * Pure functions over memory; fuzzed by tests/fuzz/fuzz_jwt.c. */
#ifndef GH_FED_DIR_H
#define GH_FED_DIR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "federation/jwt.h"

#define FED_DIR_MAX (1024 * 1024) /* longest directory accepted, in bytes */
#define FED_DIR_HALLS_MAX 512
#define FED_DIR_KEYS_MAX 4        /* message keys of one hall */
#define FED_DIR_TTL 86400         /* seconds a published directory is valid */
#define FED_DIR_TTL_MAX (7 * 86400)

struct fed_dir_hall {
	char id[65];
	char name[129], region[129];
	char base_url[500];
	size_t nkeys;
	struct jwk keys[FED_DIR_KEYS_MAX];
	/* Its transparency log, when the hall registered one ("log": {"origin", "keys": [base64
	 * Ed25519]}): the origin line of its checkpoints and the keys that sign them. Its witness
	 * (C2SP tlog-witness) cosigns with its message keys under the name fed_dir_witness_name. */
	char log_origin[256];
	size_t nlog;
	unsigned char log_keys[FED_DIR_KEYS_MAX][32];
};

#define FED_HUB_ID "hub" /* the hub's identifier in messages; no hall is called so */

struct fed_dir {
	int64_t iat, exp;
	size_t n;
	struct fed_dir_hall *halls; /* n of them; fed_dir_free */
	bool has_hub;
	struct fed_dir_hall hub;    /* the hub's entry (has_hub), not among halls */
	json_t *docs;               /* log origin -> the hall's keys document ("keys_document") */
};

/* Checks and reads a directory (text, len bytes) against the hub's keys and issuer at time now.
 * 0 with *out (fed_dir_free), or GH_EINVAL with *why (a static English phrase); GH_ENOTFOUND
 * when it is signed by a key id the set lacks (the caller may fetch the keys again once). */
int fed_dir_parse(const char *text, size_t len, const struct jwk *keys, size_t nkeys, const char *issuer, int64_t now,
		  struct fed_dir **out, const char **why);
void fed_dir_free(struct fed_dir *d);
/* The same checks of claims already verified (or built by the hub itself, of its own registry):
 * issuer, times and halls; c is not stolen. */
int fed_dir_from_claims(const json_t *c, const char *issuer, int64_t now, struct fed_dir **out, const char **why);

/* The hall of d whose message key is kid (its key in *pk), or NULL; the hub's entry too. */
const struct fed_dir_hall *fed_dir_key(const struct fed_dir *d, const char *kid, unsigned char pk[32]);
/* The hall of d called id (or the hub's entry), or NULL. */
const struct fed_dir_hall *fed_dir_hall(const struct fed_dir *d, const char *id);

/* Whether s is a hall identifier: 2-64 characters of a-z, 0-9, '-', '_' and '.' (the same as
 * a client id at the hub). */
bool fed_dir_id_ok(const char *s);

/* Reads one hall entry (as the directory and a registration give it) into h: NULL, or why it
 * is not one. */
struct arena;
const char *fed_dir_hall_from_json(struct arena *a, const json_t *j, struct fed_dir_hall *h);
/* The name a hall's witness cosigns under: its base URL without the scheme, then "/witness". */
void fed_dir_witness_name(const char *base_url, char *out, size_t n);
/* The hall entry as the directory publishes it (new reference). */
json_t *fed_dir_hall_json(const struct fed_dir_hall *h);

#endif
