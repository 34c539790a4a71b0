/* Fuzzes the certificate document parser (src/certs/cert_doc.c): the input is a certificate
 * document as uploaded for verification — JSON, or a PDF rendition carrying one. Runs
 * cert_doc_parse and, on what parses, the offline checks against an empty keys document.
 * Checks what certs_impl.h promises: a parsed document has a number, type, issuer, a 64-digit
 * hash of its canonical content, and a proof no longer than the limit; a refusal carries a
 * message key of the certificate catalog; nothing parsed verifies without keys. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "certs/certs_impl.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct cert_doc d;
	struct cert_why why = { 0 };
	int rc = cert_doc_parse(a, (const char *)data, size, &d, &why);
	if (rc) {
		check(rc == GH_EINVAL);
		check(why.key && strncmp(why.key, "certs_", 6) == 0);
	} else {
		check(d.number && *d.number && d.cert_type && d.department && d.key_id);
		check(strlen(d.hash) == 64);
		check(d.nproof <= CERT_PROOF_MAX);
		json_t *keys = json_object();
		FILE *devnull = fopen("/dev/null", "w");
		if (devnull) {
			check(cert_verify_offline(a, d.root, keys, NULL, devnull) == 1);
			fclose(devnull);
		}
		unsigned char pk[32];
		check(cert_keys_find(keys, &d, pk, &why) == GH_EINVAL);
		json_decref(keys);
	}
	arena_free(a);
	return 0;
}
