/* Unit tests for src/federation/httpsig.c: the RFC 9421 B.2.6 example (Ed25519) byte for byte,
 * the RFC 9530 digest example, RFC 8941 parsing and what it refuses, and the federation's
 * checks: tampered, unsigned, expired, replayed out of its window, wrong key. */
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
#include "federation/httpsig.h"

/* RFC 9421 appendix B.1.4: test-key-ed25519 (PKCS#8 and SPKI, base64). */
#define RFC_SK_PKCS8 "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF"
#define RFC_PK_SPKI "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
#define RFC_INPUT                                                                                      \
	"sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");"       \
	"created=1618884473;keyid=\"test-key-ed25519\""
#define RFC_SIG "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
#define RFC_BASE                                                                                       \
	"\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n"                   \
	"\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n"      \
	"\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" "        \
	"\"content-length\");created=1618884473;keyid=\"test-key-ed25519\""

static void rfc_keys(unsigned char pk[32], unsigned char sk[64])
{
	unsigned char der[64], spki[64];
	size_t n, m;
	assert_int_equal(sodium_base642bin(der, sizeof(der), RFC_SK_PKCS8, strlen(RFC_SK_PKCS8), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(n, 48);
	assert_int_equal(sodium_base642bin(spki, sizeof(spki), RFC_PK_SPKI, strlen(RFC_PK_SPKI), NULL, &m, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(m, 44);
	crypto_sign_seed_keypair(pk, sk, der + 16);
	assert_memory_equal(pk, spki + 12, 32);
}

/* Headers of a test message: name/value pairs, the names lowercase. */
struct hdrs {
	const char *kv[24];
};

static const char *hdr(void *ctx, const char *name)
{
	struct hdrs *h = ctx;
	for (size_t i = 0; h->kv[i]; i += 2)
		if (!strcmp(h->kv[i], name))
			return h->kv[i + 1];
	return NULL;
}

static void set_hdr(struct hdrs *h, const char *name, const char *v)
{
	size_t i = 0;
	for (; h->kv[i]; i += 2)
		if (!strcmp(h->kv[i], name)) {
			h->kv[i + 1] = v;
			return;
		}
	h->kv[i] = name;
	h->kv[i + 1] = v;
	h->kv[i + 2] = NULL;
}

static void test_rfc9421_b26(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	unsigned char pk[32], sk[64];
	rfc_keys(pk, sk);
	struct hdrs h = { { "date", "Tue, 20 Apr 2021 02:07:55 GMT", "content-type", "application/json",
			    "content-length", "18", NULL } };
	struct hsig_msg m = { .method = "POST",
			      .target_uri = "https://example.com/foo?param=Value&Pet=dog",
			      .authority = "example.com",
			      .path = "/foo",
			      .query = "?param=Value&Pet=dog",
			      .header = hdr,
			      .ctx = &h };
	/* Parsed, the input is what the RFC says; its base is the RFC's, byte for byte. */
	struct hsig_input in;
	const char *why = NULL;
	assert_int_equal(hsig_parse_input(RFC_INPUT, strlen(RFC_INPUT), "sig-b26", &in, &why), 0);
	assert_int_equal(in.ncomp, 6);
	assert_string_equal(in.comp[3], "@authority");
	assert_true(in.has_created && !in.has_expires);
	assert_int_equal(in.created, 1618884473);
	assert_string_equal(in.keyid, "test-key-ed25519");
	char *base;
	assert_int_equal(hsig_base(a, &in, &m, &base, &why), 0);
	assert_string_equal(base, RFC_BASE);
	/* Signing gives the RFC's fields (Ed25519 is deterministic). */
	char *si, *sv;
	assert_int_equal(hsig_sign(a, &in, &m, sk, &si, &sv, &why), 0);
	assert_string_equal(si, RFC_INPUT);
	assert_string_equal(sv, RFC_SIG);
	/* The RFC's signature parses and verifies over the base. */
	unsigned char sig[64];
	assert_int_equal(hsig_parse_signature(RFC_SIG, strlen(RFC_SIG), "sig-b26", sig, &why), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, (unsigned char *)base, strlen(base), pk), 0);
	/* Another label is not there. */
	assert_int_equal(hsig_parse_signature(RFC_SIG, strlen(RFC_SIG), "gh", sig, &why), GH_ENOTFOUND);
	arena_free(a);
}

static void test_rfc9530_digest(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	const char *body = "{\"hello\": \"world\"}";
	assert_string_equal(hsig_digest(a, body, strlen(body)), "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
	unsigned char d[32];
	const char *why;
	/* Several algorithms: the sha-256 one is taken, others skipped. */
	const char *two = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:,"
			  " sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
	assert_int_equal(hsig_parse_digest(two, strlen(two), d, &why), 0);
	unsigned char want[32];
	crypto_hash_sha256(want, (const unsigned char *)body, strlen(body));
	assert_memory_equal(d, want, 32);
	const char *none = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
	assert_int_equal(hsig_parse_digest(none, strlen(none), d, &why), GH_ENOTFOUND);
	const char *shortd = "sha-256=:AAAA:";
	assert_int_equal(hsig_parse_digest(shortd, strlen(shortd), d, &why), GH_EINVAL);
	arena_free(a);
}

/* RFC 8941 inputs that must be refused, and ones that must parse. */
static void test_sf_parsing(void **state)
{
	(void)state;
	struct hsig_input in;
	const char *why;
	static const char *const bad[] = {
		"gh=(\"@method\";created=1",           /* inner list not closed */
		"gh=(\"@method\"\"@path\");created=1",  /* items not separated */
		"gh=(\"@method\");created=1,",          /* trailing comma */
		"gh=(\"@method\");created=1 x=1",       /* members not separated by commas */
		"Gh=(\"@method\");created=1",           /* key with an upper-case letter */
		"gh=(\"@met\\hod\");created=1",         /* a string escaping a letter */
		"gh=(\"@method);created=1",             /* a string not closed */
		"gh=(\"@method\");x=1234567890123456", /* an integer of 16 digits */
		"gh=(\"@method\");x=1.2345",      /* a decimal of 4 fractional digits */
		"gh=(\"@method\");x=1.",          /* a decimal ending with its point */
		"gh=(\"@method\");x=?2",          /* a boolean that is not one */
		"gh=(\"@method\");x=:AAA:",         /* base64 of a wrong length */
		"gh=(\"@method\");x=:AA=A:",        /* padding inside base64 */
		"gh=(\"@method\");x=:AB==:",        /* non-zero trailing bits */
		"gh=(\"@method\" \"@method\");created=1", /* a component twice */
		"gh=(\"@method\";req);created=1",       /* component parameters */
		"gh=(@method);created=1",               /* a component that is a token */
		"gh=(\"@method\");created=\"1\"",       /* created not an integer */
		"gh=(\"@method\");created=-1",          /* created negative */
		"gh=(\"@method\");x=\"\x01\"",      /* a control character */
		"gh=:AAAA:",                            /* not an inner list */
		"gh=(\"@method\");a=1;b=1;c=1;d=1;e=1;f=1;g=1;h=1;i=1", /* too many parameters */
		"a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,gh=(\"@method\")",    /* too many members */
		"gh=(\"@method\");x=*a?",               /* a token with a character outside tchar */
		"gh=(\"@method\");x=\"\xc3\xa9\"",      /* a string outside ASCII */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		int rc = hsig_parse_input(bad[i], strlen(bad[i]), "gh", &in, &why);
		if (rc != GH_EINVAL || !why)
			fail_msg("accepted or refused without a reason: %s", bad[i]);
	}
	/* Spaces around the value and members, a repeated key keeping the last value, booleans,
	 * tokens, decimals and byte sequences in other members, unknown parameters kept. */
	const char *ok = "  other=?1;x=1.5, gh=(\"@path\"), tok=a/b:c;q=-0.25 , "
			 "gh=( \"@method\"  \"content-digest\" );created=10;expires=20;keyid=\"hall-a\";alg=\"ed25519\";x;tag=\"t\"  ";
	assert_int_equal(hsig_parse_input(ok, strlen(ok), "gh", &in, &why), 0);
	assert_int_equal(in.ncomp, 2);
	assert_string_equal(in.comp[1], "content-digest");
	assert_int_equal(in.created, 10);
	assert_int_equal(in.expires, 20);
	assert_string_equal(in.keyid, "hall-a");
	assert_string_equal(in.tag, "t");
	assert_int_equal(hsig_parse_input(ok, strlen(ok), "zz", &in, &why), GH_ENOTFOUND);
	/* Sizes are bounded before parsing. */
	char *big = malloc(HSIG_FIELD_MAX + 2);
	memset(big, 'a', HSIG_FIELD_MAX + 1);
	big[HSIG_FIELD_MAX + 1] = 0;
	assert_int_equal(hsig_parse_input(big, HSIG_FIELD_MAX + 1, "gh", &in, &why), GH_EINVAL);
	free(big);
}

/* A federation message signed by hall-a, and the key set of the receiver. */
struct fx {
	unsigned char pk[32], sk[64], other_pk[32];
	struct hdrs h;
	struct hsig_msg m;
	const char *body;
	struct arena *a;
};

static int key_of(void *ctx, const char *keyid, unsigned char pk[32])
{
	struct fx *f = ctx;
	if (!strcmp(keyid, "hall-a")) {
		memcpy(pk, f->pk, 32);
		return 0;
	}
	if (!strcmp(keyid, "hall-c")) {
		memcpy(pk, f->other_pk, 32);
		return 0;
	}
	return GH_ENOTFOUND;
}

static void sign_fx(struct fx *f, int64_t created, int64_t expires, const char *keyid)
{
	struct hsig_input in = { .label = HSIG_LABEL, .ncomp = 4, .has_created = true, .has_expires = true,
				 .created = created, .expires = expires, .alg = "ed25519" };
	snprintf(in.keyid, sizeof(in.keyid), "%s", keyid);
	const char *c[] = { "@method", "@target-uri", "content-digest", "idempotency-key" };
	for (int i = 0; i < 4; i++)
		snprintf(in.comp[i], sizeof(in.comp[i]), "%s", c[i]);
	char *si, *sv;
	const char *why;
	set_hdr(&f->h, "content-digest", hsig_digest(f->a, f->body, strlen(f->body)));
	assert_int_equal(hsig_sign(f->a, &in, &f->m, f->sk, &si, &sv, &why), 0);
	set_hdr(&f->h, "signature-input", si);
	set_hdr(&f->h, "signature", sv);
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	unsigned char sk2[64];
	crypto_sign_keypair(f->pk, f->sk);
	crypto_sign_keypair(f->other_pk, sk2);
	f->a = arena_new(0);
	f->body = "{\"application\":\"A-1\",\"seq\":1}";
	set_hdr(&f->h, "idempotency-key", "\"a1b2c3\"");
	f->m = (struct hsig_msg){ .method = "POST", .target_uri = "https://b.example/fed/inbox", .path = "/fed/inbox",
				  .header = hdr, .ctx = &f->h };
}

static int verify_fx(struct fx *f, int64_t now, const char **why)
{
	struct hsig_input in;
	return hsig_verify(f->a, &f->m, f->body, strlen(f->body), now, key_of, f, &in, why);
}

static void test_verify(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	const char *why;
	sign_fx(&f, 1000, 1300, "hall-a");
	assert_int_equal(verify_fx(&f, 1000, &why), 0);
	assert_int_equal(verify_fx(&f, 1299, &why), 0);
	/* Expired; created too far ahead of the receiver's clock. */
	assert_int_equal(verify_fx(&f, 1300, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signature has expired");
	assert_int_equal(verify_fx(&f, 1000 - HSIG_SKEW - 1, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signature was created in the future");
	/* The body changed: the digest no longer matches. The digest changed with it: the
	 * signature no longer verifies. */
	f.body = "{\"application\":\"A-1\",\"seq\":2}";
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the Content-Digest is not that of the body");
	set_hdr(&f.h, "content-digest", hsig_digest(f.a, f.body, strlen(f.body)));
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signature does not verify");
	f.body = "{\"application\":\"A-1\",\"seq\":1}";
	sign_fx(&f, 1000, 1300, "hall-a");
	/* Another idempotency key, another target, another method: the signature fails. */
	set_hdr(&f.h, "idempotency-key", "\"a1b2c4\"");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signature does not verify");
	set_hdr(&f.h, "idempotency-key", "\"a1b2c3\"");
	f.m.target_uri = "https://c.example/fed/inbox";
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	f.m.target_uri = "https://b.example/fed/inbox";
	f.m.method = "PUT";
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	f.m.method = "POST";
	assert_int_equal(verify_fx(&f, 1000, &why), 0);
	/* A key the directory lacks; a key of another hall named for this signature. */
	sign_fx(&f, 1000, 1300, "hall-x");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signing key is not in the directory");
	sign_fx(&f, 1000, 1300, "hall-c");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signature does not verify");
	/* Lifetimes out of bounds. */
	sign_fx(&f, 1000, 1000 + HSIG_LIFETIME_MAX + 1, "hall-a");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	sign_fx(&f, 1000, 1000, "hall-a");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	/* Unsigned; a signature under another label only. */
	sign_fx(&f, 1000, 1300, "hall-a");
	struct hdrs keep = f.h;
	set_hdr(&f.h, "signature", "other=:AAAA:");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	f.h = keep;
	f.h.kv[0] = "x-none"; /* the idempotency key gone */
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "a covered component is absent from the message");
	f.h = keep;
	set_hdr(&f.h, "signature-input", "gh=(\"@method\" \"@target-uri\" \"content-digest\");created=1000;expires=1300;keyid=\"hall-a\"");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signature does not cover @method, @target-uri, content-digest and idempotency-key");
	set_hdr(&f.h, "signature-input", "gh=(\"@method\" \"@target-uri\" \"content-digest\" \"idempotency-key\");created=1000;expires=1300;keyid=\"hall-a\";alg=\"rsa-pss-sha512\"");
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the signature's alg is not ed25519");
	struct hdrs none = { { "idempotency-key", "\"a1b2c3\"", NULL } };
	f.m.ctx = &none;
	assert_int_equal(verify_fx(&f, 1000, &why), GH_EUNAUTH);
	assert_string_equal(why, "the message is not signed");
	arena_free(f.a);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc9421_b26),
		cmocka_unit_test(test_rfc9530_digest),
		cmocka_unit_test(test_sf_parsing),
		cmocka_unit_test(test_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
