/* Fuzzes the witness's parsers (src/ledger/witness.c): an input starting with "old " is a
 * C2SP tlog-witness add-checkpoint body (witness_req_parse, then witness_note_open on its
 * checkpoint); any other input is read as cosignature lines (witness_cosigs_check) of a fixed
 * checkpoint against one trusted witness (a fixed seed, name "127.0.0.1:8091/witness").
 * Invariants: a refused input always has a reason; an accepted body has at most 63 proof
 * hashes and a checkpoint; a cosignature this witness makes of an accepted checkpoint is
 * accepted, once, with its timestamp; lines count at most the one trusted witness. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "ledger/witness.h"

#define NAME "127.0.0.1:8091/witness"
#define NOTE "127.0.0.1:8092/ledger\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\xe2\x80\x94 x AAAAAAA=\n"

static void check(int ok)
{
	if (!ok)
		abort();
}

static unsigned char pk[32], sk[64];

static int sign(const unsigned char *m, size_t len, unsigned char sig[64])
{
	return crypto_sign_detached(sig, NULL, m, len, sk);
}

static void setup(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	check(sodium_init() >= 0);
	unsigned char seed[32];
	memset(seed, 0x24, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size > 2 * WITNESS_BODY_MAX)
		return 0;
	struct arena *a = arena_new(1 << 14);
	struct witness_key w = { .name = NAME, .hall = "qinghe" };
	memcpy(w.pk, pk, 32);
	const char *why = NULL;
	if (size >= 4 && !memcmp(data, "old ", 4)) {
		struct witness_req *q = arena_alloc(a, sizeof(*q));
		if (witness_req_parse(a, (const char *)data, size, q, &why)) {
			check(why && *why);
		} else {
			check(q->n <= WITNESS_PROOF_MAX && q->note);
			const char *origin;
			uint64_t sz;
			unsigned char root[32];
			size_t body_len;
			if (witness_note_open(a, q->note, &origin, &sz, root, &body_len, &why) == 0) {
				check(origin && *origin && body_len <= strlen(q->note));
				char *line = witness_cosign(a, NAME, pk, sign, q->note, 1700000000);
				check(line != NULL);
				bool ok;
				int64_t ts;
				check(witness_cosigs_check(a, q->note, line, strlen(line), &w, 1, &ok, &ts, NULL, &why) == 1);
				check(ok && ts == 1700000000);
			} else
				check(why && *why);
		}
	} else {
		int n = witness_cosigs_check(a, NOTE, (const char *)data, size, &w, 1, NULL, NULL, NULL, &why);
		check(n == -1 ? why && *why : n == 0 || n == 1);
	}
	arena_free(a);
	return 0;
}
