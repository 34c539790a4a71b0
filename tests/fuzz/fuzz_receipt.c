/* Fuzzes the receipt checker (the document `govhall verify` reads), ledger_receipt_check,
 * against a keys document listing one known log key (a fixed seed, name
 * "127.0.0.1:8080/ledger"). Invariants: a refused receipt always has a message; an accepted
 * one has a leaf that hashes to its leaf_hash and an index below its tree size. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "ledger/ledger_ext.h"

#define NAME "127.0.0.1:8080/ledger"

static void check(int ok)
{
	if (!ok)
		abort();
}

static json_t *keys_doc(void)
{
	static json_t *doc;
	if (!doc) {
		check(sodium_init() >= 0);
		unsigned char seed[32], pk[32], sk[64];
		memset(seed, 0x42, sizeof(seed));
		crypto_sign_seed_keypair(pk, sk, seed);
		char b[64];
		ledger_b64(pk, 32, b, sizeof(b));
		doc = json_pack("{s:{s:s,s:[{s:i,s:s,s:s,s:s}]}}", "log", "origin", NAME, "keys", "id", 1, "name", NAME,
				"algorithm", "Ed25519", "public_key", b);
		check(doc != NULL);
	}
	return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_t *keys = keys_doc();
	json_error_t e;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	if (!doc)
		return 0;
	struct arena *a = arena_new(1 << 14);
	char err[512] = "";
	int64_t idx = -1, sz = -1;
	int rc = ledger_receipt_check(a, doc, keys, err, sizeof(err), &idx, &sz);
	if (rc) {
		check(err[0] != 0);
	} else {
		check(idx >= 0 && idx < sz);
		const char *leaf = json_string_value(json_object_get(doc, "leaf"));
		unsigned char h[LEDGER_HASH_LEN], want[LEDGER_HASH_LEN];
		ledger_leaf_hash(leaf, strlen(leaf), h);
		check(ledger_unb64_hash(json_string_value(json_object_get(doc, "leaf_hash")), want) == 0);
		check(memcmp(h, want, LEDGER_HASH_LEN) == 0);
	}
	/* without keys: always refused, with a message */
	err[0] = 0;
	check(ledger_receipt_check(a, doc, NULL, err, sizeof(err), NULL, NULL) != 0 && err[0]);
	json_decref(doc);
	arena_free(a);
	return 0;
}
