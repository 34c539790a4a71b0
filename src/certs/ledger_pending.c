/* ledger_pending.c: stand-ins for the transparency log's functions that the certificates
 * domain calls, built only while src/ledger/ledger.c is not in the tree (the two are
 * developed side by side). Nothing is logged: appends give no index, proofs are not found,
 * so online verification answers "unknown" until the real log is linked. Removed once the
 * log lands. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "ledger/ledger.h"

int ledger_append_ref(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt,
		      const char *canonical_json, int64_t *index)
{
	(void)db, (void)a, (void)kind, (void)ref, (void)salt, (void)canonical_json;
	if (index)
		*index = -1;
	return 0;
}

char *ledger_canonical(struct arena *a, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return NULL;
	char *out = arena_strdup(a, s);
	free(s);
	return out;
}

void ledger_salt_new(char out[LEDGER_SALT_HEX + 1])
{
	unsigned char b[LEDGER_SALT_HEX / 2];
	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, LEDGER_SALT_HEX + 1, b, sizeof(b));
}

void ledger_personal_hash(const char *salt, const char *field, const char *value, char out[65])
{
	crypto_hash_sha256_state st;
	unsigned char h[32];
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)salt, strlen(salt) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)field, strlen(field) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)value, strlen(value));
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int ledger_prove(struct db *db, struct arena *a, int64_t index, struct ledger_proof *out)
{
	(void)db, (void)a, (void)index, (void)out;
	return GH_ENOTFOUND;
}

int ledger_checkpoint_verify(struct arena *a, const char *note, const json_t *keys, const char **origin,
			     int64_t *size, unsigned char root[LEDGER_HASH_LEN], char *err, size_t errlen)
{
	(void)a, (void)note, (void)keys, (void)origin, (void)size, (void)root;
	snprintf(err, errlen, "the transparency log is not built in");
	return GH_EINVAL;
}

void ledger_audit_source(const char *kind, ledger_recompute_fn fn)
{
	(void)kind, (void)fn;
}

void ledger_audit_expect(const char *kind, ledger_expect_fn fn)
{
	(void)kind, (void)fn;
}

void ledger_verify_type(const char *type, ledger_verify_fn fn)
{
	(void)type, (void)fn;
}

void ledger_wellknown_add(ledger_wellknown_fn fn)
{
	(void)fn;
}
