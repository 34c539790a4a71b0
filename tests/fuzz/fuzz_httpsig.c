/* Fuzzes the parsers of HTTP Message Signatures (src/federation/httpsig.h). The first byte
 * chooses:
 *   0: a Signature-Input value (member "gh"): what parses serializes again to a value that
 *      parses to the same signature metadata;
 *   1: a Signature value (member "gh"): 64 bytes or a refusal with a reason;
 *   2: a Content-Digest value: 32 bytes or a refusal with a reason;
 *   3: a whole message: lines Signature-Input, Signature, Content-Digest, Idempotency-Key, then
 *      the body, checked against one fixed key (hsig_verify never accepts without a reason
 *      to, and always says why it refuses);
 *   4: the input as an idempotency key and body: signed with the fixed key, the message
 *      verifies; with one byte of the body changed, it does not. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "federation/httpsig.h"

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
	memset(seed, 7, sizeof(seed));
	check(sodium_init() >= 0);
	crypto_sign_seed_keypair(pk, sk, seed);
	done = 1;
}

static int key_of(void *ctx, const char *keyid, unsigned char out[32])
{
	(void)ctx;
	if (strcmp(keyid, "k1"))
		return GH_ENOTFOUND;
	memcpy(out, pk, 32);
	return 0;
}

struct hdrs {
	const char *si, *sig, *cd, *ik;
};

static const char *hdr(void *ctx, const char *name)
{
	struct hdrs *h = ctx;
	if (!strcmp(name, "signature-input"))
		return h->si;
	if (!strcmp(name, "signature"))
		return h->sig;
	if (!strcmp(name, "content-digest"))
		return h->cd;
	if (!strcmp(name, "idempotency-key"))
		return h->ik;
	return NULL;
}

/* The next line of [*p, end) as a NUL-ended copy in a, or NULL at the end. */
static const char *line(struct arena *a, const char **p, const char *end)
{
	if (*p >= end)
		return NULL;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *e = nl ? nl : end;
	char *s = arena_strndup(a, *p, (size_t)(e - *p));
	*p = nl ? nl + 1 : end;
	return s;
}

static bool same_input(const struct hsig_input *x, const struct hsig_input *y)
{
	if (x->ncomp != y->ncomp || x->has_created != y->has_created || x->has_expires != y->has_expires ||
	    x->created != y->created || x->expires != y->expires || strcmp(x->keyid, y->keyid) || strcmp(x->alg, y->alg) ||
	    strcmp(x->nonce, y->nonce) || strcmp(x->tag, y->tag))
		return false;
	for (size_t i = 0; i < x->ncomp; i++)
		if (strcmp(x->comp[i], y->comp[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	keys();
	const char *d = (const char *)data + 1;
	size_t n = size - 1;
	struct arena *a = arena_new(0);
	const char *why = NULL;
	switch (data[0] % 5) {
	case 0: {
		struct hsig_input in, again;
		int rc = hsig_parse_input(d, n, "gh", &in, &why);
		if (rc == 0) {
			char *v = arena_printf(a, "gh=%s", hsig_params_value(a, &in));
			check(hsig_parse_input(v, strlen(v), "gh", &again, &why) == 0 && same_input(&in, &again));
		} else
			check((rc == GH_EINVAL || rc == GH_ENOTFOUND) && why != NULL);
		break;
	}
	case 1: {
		unsigned char sig[64];
		int rc = hsig_parse_signature(d, n, "gh", sig, &why);
		check(rc == 0 || why != NULL);
		break;
	}
	case 2: {
		unsigned char dg[32];
		int rc = hsig_parse_digest(d, n, dg, &why);
		check(rc == 0 || why != NULL);
		break;
	}
	case 3: {
		const char *p = d, *end = d + n;
		struct hdrs h;
		h.si = line(a, &p, end);
		h.sig = line(a, &p, end);
		h.cd = line(a, &p, end);
		h.ik = line(a, &p, end);
		struct hsig_msg m = { .method = "POST", .target_uri = "https://b.example/fed/inbox", .path = "/fed/inbox",
				      .header = hdr, .ctx = &h };
		struct hsig_input in;
		int rc = hsig_verify(a, &m, p, (size_t)(end - p), 1000, key_of, NULL, &in, &why);
		check(rc == 0 ? why == NULL && !strcmp(in.keyid, "k1") : rc == GH_EUNAUTH && why != NULL);
		break;
	}
	case 4: {
		if (n == 0)
			break;
		char *body = arena_strndup(a, d, n);
		struct hdrs h = { .ik = arena_printf(a, "\"%.20s\"", body) };
		if (strpbrk(h.ik, "\r\n") || strlen(body) != n)
			break;
		struct hsig_input in = { .label = HSIG_LABEL, .ncomp = 4, .has_created = true, .has_expires = true,
					 .created = 1000, .expires = 1300, .keyid = "k1" };
		const char *c[] = { "@method", "@target-uri", "content-digest", "idempotency-key" };
		for (int i = 0; i < 4; i++)
			strcpy(in.comp[i], c[i]);
		struct hsig_msg m = { .method = "POST", .target_uri = "https://b.example/fed/inbox", .path = "/fed/inbox",
				      .header = hdr, .ctx = &h };
		char *si, *sv;
		h.cd = hsig_digest(a, body, n);
		check(hsig_sign(a, &in, &m, sk, &si, &sv, &why) == 0);
		h.si = si;
		h.sig = sv;
		struct hsig_input got;
		check(hsig_verify(a, &m, body, n, 1100, key_of, NULL, &got, &why) == 0);
		body[n / 2] ^= 1;
		check(hsig_verify(a, &m, body, n, 1100, key_of, NULL, &got, &why) == GH_EUNAUTH);
		break;
	}
	}
	arena_free(a);
	return 0;
}
