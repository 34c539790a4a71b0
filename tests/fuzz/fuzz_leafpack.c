/* Fuzzes the stored form of a leaf (src/ledger/pack.c), ledger_leaf_unpack, on bytes as read
 * from the database, and ledger_leaf_pack on the same bytes as text. Invariants: stored bytes
 * that unpack give text that packs and unpacks to itself; any text without a NUL packs to a
 * form that unpacks to exactly that text, and never to more than one byte beyond it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "ledger/ledger_impl.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void roundtrip(struct arena *a, const char *text, size_t len)
{
	const unsigned char *stored;
	size_t slen;
	check(ledger_leaf_pack(a, text, len, &stored, &slen) == 0);
	check(slen >= 1 && slen <= len + 1 && stored[0] <= 1);
	const char *back;
	size_t blen;
	check(ledger_leaf_unpack(a, stored, slen, &back, &blen) == 0);
	check(blen == len && memcmp(back, text, len) == 0 && back[blen] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2 * LEDGER_LEAF_MAX)
		return 0;
	struct arena *a = arena_new(1 << 14);
	const char *text;
	size_t len;
	if (ledger_leaf_unpack(a, data, size, &text, &len) == 0) {
		check(len <= LEDGER_LEAF_MAX && strlen(text) <= len);
		if (strlen(text) == len)
			roundtrip(a, text, len);
	}
	if (size <= LEDGER_LEAF_MAX && !memchr(data, 0, size)) {
		char *t = arena_strndup(a, (const char *)data, size);
		roundtrip(a, t, size);
	}
	arena_free(a);
	return 0;
}
