/* Fuzzes the checkpoint (C2SP signed note) parser, ledger_note_parse, with one known log key
 * (a fixed seed, name "127.0.0.1:8080/ledger"). Invariants: an accepted note is signed by that
 * key, so signing its origin, size and root again gives a note that parses to the same values;
 * a refused note always has a message. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "ledger/log_impl.h"

#define NAME "127.0.0.1:8080/ledger"

static void check(int ok)
{
	if (!ok)
		abort();
}

static struct ledger_key key;
static struct note_key nk;

static void setup(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	check(sodium_init() >= 0);
	unsigned char seed[32];
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(key.pk, key.sk, seed);
	ledger_note_key_hash(NAME, key.pk, key.key_hash);
	key.id = 1;
	nk.name = NAME;
	memcpy(nk.pk, key.pk, 32);
	memcpy(nk.key_hash, key.key_hash, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size > 16384)
		return 0;
	struct arena *a = arena_new(1 << 14);
	char *note = arena_strndup(a, (const char *)data, size);
	const char *origin = NULL;
	uint64_t sz = 0;
	unsigned char root[LEDGER_HASH_LEN];
	char err[256] = "";
	int rc = ledger_note_parse(a, note, &nk, 1, &origin, &sz, root, err, sizeof(err));
	if (rc) {
		check(err[0] != 0);
	} else {
		check(origin && *origin && sz <= INT64_MAX);
		char *again = ledger_note_sign(a, origin, sz, root, &key);
		const char *o2;
		uint64_t s2;
		unsigned char r2[LEDGER_HASH_LEN];
		check(ledger_note_parse(a, again, &nk, 1, &o2, &s2, r2, err, sizeof(err)) == 0);
		check(strcmp(o2, origin) == 0 && s2 == sz && memcmp(r2, root, LEDGER_HASH_LEN) == 0);
	}
	/* with no key known, the parser still checks the note's shape */
	(void)ledger_note_parse(a, note, NULL, 0, NULL, NULL, NULL, err, sizeof(err));
	arena_free(a);
	return 0;
}
