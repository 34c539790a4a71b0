/* httpsig.h: HTTP Message Signatures (RFC 9421) with Ed25519, over the structured fields
 * (RFC 8941) Signature-Input and Signature, and Content-Digest (RFC 9530, sha-256): what a hall
 * signs its messages to other halls and to the hub with, and checks theirs with.
 *
 * A message of the federation carries one signature labelled "gh" whose covered components are
 * at least "@method", "@target-uri", "content-digest" and "idempotency-key", with the
 * parameters created, expires (at most HSIG_LIFETIME_MAX after created) and keyid, and alg
 * "ed25519" when given. The Content-Digest's sha-256 must be that of the body.
 *
 * Invariants:
 * - Parsing is strict RFC 8941 (the dictionary, inner lists, parameters, integers, decimals,
 *   strings, tokens, byte sequences, booleans) with sizes bounded before anything is decoded
 *   (HSIG_FIELD_MAX, HSIG_MEMBERS_MAX, HSIG_COMPONENTS_MAX, HSIG_PARAMS_MAX); duplicate
 *   dictionary keys keep the last value, as §4.2.2 says; a refusal always says why.
 * - The signature base (§2.5) is rebuilt from the parsed Signature-Input, serialized again
 *   canonically, so what is verified is exactly what was parsed.
 * - The algorithm is fixed by the key (Ed25519); an "alg" other than "ed25519" is refused.
 * Pure functions over memory: no I/O; the caller gives the clock (now). Fuzzed by
 * tests/fuzz/fuzz_httpsig.c. */
#ifndef GH_FED_HTTPSIG_H
#define GH_FED_HTTPSIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

#define HSIG_FIELD_MAX 4096      /* longest Signature-Input, Signature or Content-Digest value */
#define HSIG_MEMBERS_MAX 8       /* members of one dictionary */
#define HSIG_COMPONENTS_MAX 12   /* covered components of one signature */
#define HSIG_PARAMS_MAX 8        /* parameters of one member */
#define HSIG_NAME_MAX 64         /* longest key, component name or keyid */
#define HSIG_LIFETIME_MAX 600    /* seconds from created to expires, at most */
#define HSIG_SKEW 60             /* seconds a created time may lie ahead of the receiver's clock */
#define HSIG_LABEL "gh"

/* One signature's metadata: a member of Signature-Input. */
struct hsig_input {
	char label[HSIG_NAME_MAX + 1];
	size_t ncomp;
	char comp[HSIG_COMPONENTS_MAX][HSIG_NAME_MAX + 1]; /* component identifiers, unquoted */
	bool has_created, has_expires;
	int64_t created, expires;
	char keyid[HSIG_NAME_MAX + 1];
	char alg[HSIG_NAME_MAX + 1];   /* "" when absent */
	char nonce[HSIG_NAME_MAX + 1]; /* "" when absent */
	char tag[HSIG_NAME_MAX + 1];   /* "" when absent */
};

/* The message's parts a signature may cover. */
struct hsig_msg {
	const char *method;     /* "POST" */
	const char *target_uri; /* the full URI the request was sent to, "https://hall.example/fed/x" */
	const char *authority;  /* "hall.example" (NULL: not coverable) */
	const char *path;       /* "/fed/x" */
	const char *query;      /* "?a=1", or "?" when there is none (§2.2.7) */
	/* The value of the header field name (lowercase), or NULL when absent. */
	const char *(*header)(void *ctx, const char *name);
	void *ctx;
};

/* Reads member label of a Signature-Input value (v, n bytes). GH_ENOTFOUND when the dictionary
 * has no such member; GH_EINVAL with *why otherwise. */
int hsig_parse_input(const char *v, size_t n, const char *label, struct hsig_input *out, const char **why);
/* Reads member label of a Signature value: a byte sequence of 64 bytes. */
int hsig_parse_signature(const char *v, size_t n, const char *label, unsigned char sig[64], const char **why);
/* Reads the sha-256 member of a Content-Digest value (other algorithms are skipped).
 * GH_ENOTFOUND when it has none. */
int hsig_parse_digest(const char *v, size_t n, unsigned char out[32], const char **why);
/* The Content-Digest value of body: "sha-256=:…:", in a. */
char *hsig_digest(struct arena *a, const void *body, size_t n);

/* The value of "@signature-params" (§2.3): the inner list of in, serialized, in a. */
char *hsig_params_value(struct arena *a, const struct hsig_input *in);
/* The signature base (§2.5) of m under in, in a; GH_EINVAL with *why when a component is
 * absent, unknown or not a one-line value. */
int hsig_base(struct arena *a, const struct hsig_input *in, const struct hsig_msg *m, char **out, const char **why);

/* Signs m: in (label, components, created, expires, keyid) is the caller's; gives the values
 * of the Signature-Input and Signature fields, in a. */
int hsig_sign(struct arena *a, const struct hsig_input *in, const struct hsig_msg *m, const unsigned char sk[64],
	      char **sig_input, char **signature, const char **why);

/* The public key of keyid, or GH_ENOTFOUND. */
typedef int (*hsig_key_fn)(void *ctx, const char *keyid, unsigned char pk[32]);

/* Checks a federation message: Signature-Input and Signature (member HSIG_LABEL) of m, the
 * components and parameters required (above), the times against now, the Content-Digest
 * against body, and the signature under the key keyid names. 0 with *in filled (the signer's
 * keyid is in->keyid); GH_EUNAUTH with *why (a static English phrase) otherwise. */
int hsig_verify(struct arena *a, const struct hsig_msg *m, const void *body, size_t bodylen, int64_t now,
		hsig_key_fn key, void *keyctx, struct hsig_input *in, const char **why);

#endif
