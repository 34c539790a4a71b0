/* checkpoint.c: signed tree heads as C2SP tlog-checkpoint signed notes.
 *
 *   <origin>\n<size>\n<base64 root>\n\n— <key name> <base64(key hash[4] || Ed25519 signature)>\n
 *
 * The signature covers the note's body (the three lines with their newlines). The key name is
 * the origin; the key hash is SHA-256(name || "\n" || 0x01 || public key)[:4]. Checkpoints are
 * signed by a background duty when the tree grew, and on demand (a receipt for a leaf the
 * latest checkpoint does not cover); each is written under the log head's lock, so nodes sign
 * one at a time and never twice for one size. */
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/config.h"
#include "base/duty.h"
#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "ledger/ledger_ext.h"
#include "store/db.h"

#define NOTE_MAX 8192
#define EMDASH "\xe2\x80\x94"

DB_SQL(q_latest, "SELECT size, root, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1");
DB_SQL(q_cp_ins, "INSERT INTO ledger_checkpoints (size, root, note, key_id, created_at) VALUES (?, ?, ?, ?, ?)");
DB_SQL(q_signed, "UPDATE ledger_head SET signed_size = ? WHERE id = 1 AND signed_size < ?");
DB_SQL(q_origin, "SELECT origin FROM ledger_head WHERE id = 1");
DB_SQL(q_origin_set, "UPDATE ledger_head SET origin = ? WHERE id = 1 AND (origin IS NULL OR origin = '')");

int ledger_origin_keep(struct db *db, const struct config *cfg)
{
	char buf[300];
	return ledger_origin_fixed(db, cfg, true, buf, sizeof(buf));
}

int ledger_origin_fixed(struct db *db, const struct config *cfg, bool store, char *buf, size_t size)
{
	struct arena *a = arena_new(1024);
	struct db_rows r;
	int rc = db_query(db, a, &q_origin, DB_NOARGS, &r);
	if (!rc && (r.nrows != 1 || !db_cell(&r, 0, 0) || !*db_cell(&r, 0, 0))) {
		/* A new log: its origin is the public URL's host now, and stays so. */
		ledger_origin(cfg, buf, size);
		if (!store) {
			arena_free(a);
			return 0;
		}
		if (!(rc = db_exec(db, &q_origin_set, DB_ARGS(DB_TEXT(buf)), NULL)))
			rc = db_query(db, a, &q_origin, DB_NOARGS, &r); /* another node may have been first */
	}
	if (!rc && r.nrows == 1 && db_cell(&r, 0, 0))
		snprintf(buf, size, "%s", db_cell(&r, 0, 0));
	else if (!rc)
		rc = GH_EINTERNAL;
	arena_free(a);
	return rc;
}

char *ledger_note_sign(struct arena *a, const char *origin, uint64_t size, const unsigned char root[H32],
		       const struct ledger_key *key)
{
	char r64[64];
	ledger_b64(root, H32, r64, sizeof(r64));
	char *body = arena_printf(a, "%s\n%llu\n%s\n", origin, (unsigned long long)size, r64);
	unsigned char sig[4 + crypto_sign_BYTES];
	memcpy(sig, key->key_hash, 4);
	crypto_sign_detached(sig + 4, NULL, (const unsigned char *)body, strlen(body), key->sk);
	char s64[128];
	ledger_b64(sig, sizeof(sig), s64, sizeof(s64));
	return arena_printf(a, "%s\n" EMDASH " %s %s\n", body, origin, s64);
}

int ledger_note_parse(struct arena *a, const char *note, const struct note_key *keys, size_t nkeys,
		      const char **origin, uint64_t *size, unsigned char root[H32], char *err, size_t errlen)
{
#define BAD(...)                                       \
	do {                                           \
		snprintf(err, errlen, __VA_ARGS__);    \
		return GH_EINVAL;                      \
	} while (0)
	if (!note)
		BAD("no checkpoint");
	size_t len = strlen(note);
	if (len > NOTE_MAX)
		BAD("the checkpoint is longer than %d bytes", NOTE_MAX);
	const char *sep = strstr(note, "\n\n");
	if (!sep)
		BAD("the checkpoint has no blank line between its body and its signatures");
	size_t body_len = (size_t)(sep - note) + 1;
	/* body: origin, size, root: three non-empty lines */
	const char *l1 = note, *e1 = memchr(l1, '\n', body_len);
	if (!e1 || e1 == l1)
		BAD("the checkpoint has no origin line");
	const char *l2 = e1 + 1, *e2 = memchr(l2, '\n', (size_t)(note + body_len - l2));
	if (!e2 || e2 == l2)
		BAD("the checkpoint has no size line");
	const char *l3 = e2 + 1, *e3 = memchr(l3, '\n', (size_t)(note + body_len - l3));
	if (!e3 || e3 == l3)
		BAD("the checkpoint has no root line");
	if (e3 + 1 != note + body_len)
		BAD("the checkpoint has extension lines this verifier does not know");
	for (const char *p = l1; p < e1; p++)
		if ((unsigned char)*p < 0x20)
			BAD("the origin line holds control characters");
	if ((size_t)(e2 - l2) > 19 || (l2[0] == '0' && e2 - l2 > 1))
		BAD("the size line is not a decimal number");
	uint64_t sz = 0;
	for (const char *p = l2; p < e2; p++) {
		if (*p < '0' || *p > '9')
			BAD("the size line is not a decimal number");
		sz = sz * 10 + (uint64_t)(*p - '0');
	}
	if (sz > INT64_MAX)
		BAD("the size is too large");
	char r64[64];
	if ((size_t)(e3 - l3) >= sizeof(r64))
		BAD("the root line is not a base64 SHA-256 hash");
	memcpy(r64, l3, (size_t)(e3 - l3));
	r64[e3 - l3] = 0;
	unsigned char rt[H32];
	if (ledger_unb64_hash(r64, rt))
		BAD("the root line is not a base64 SHA-256 hash");
	/* signature lines */
	const char *p = sep + 2;
	int verified = 0, lines = 0;
	while (*p) {
		const char *e = strchr(p, '\n');
		if (!e)
			BAD("a signature line does not end with a newline");
		if (strncmp(p, EMDASH " ", 4) != 0)
			BAD("a signature line does not start with an em dash and a space");
		const char *name = p + 4, *sp = memchr(name, ' ', (size_t)(e - name));
		if (!sp || sp == name)
			BAD("a signature line has no key name");
		const char *b = sp + 1;
		size_t blen = (size_t)(e - b);
		unsigned char sig[256];
		size_t slen;
		const char *bend;
		if (blen == 0 || blen > 300 ||
		    sodium_base642bin(sig, sizeof(sig), b, blen, NULL, &slen, &bend, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    bend != e || slen < 5)
			BAD("a signature line does not hold a base64 signature");
		lines++;
		for (size_t k = 0; k < nkeys; k++) {
			if (strlen(keys[k].name) != (size_t)(sp - name) || memcmp(keys[k].name, name, (size_t)(sp - name)) != 0 ||
			    memcmp(keys[k].key_hash, sig, 4) != 0)
				continue;
			if (slen != 4 + crypto_sign_BYTES ||
			    crypto_sign_verify_detached(sig + 4, (const unsigned char *)note, body_len, keys[k].pk) != 0)
				BAD("the signature of key %s is not valid", keys[k].name);
			verified++;
		}
		p = e + 1;
	}
	if (lines == 0)
		BAD("the checkpoint has no signature");
	if (nkeys && !verified)
		BAD("no signature of the checkpoint is by a published log key");
	if (origin)
		*origin = arena_strndup(a, l1, (size_t)(e1 - l1));
	if (size)
		*size = sz;
	if (root)
		memcpy(root, rt, H32);
	return 0;
#undef BAD
}

/* The log keys of a keys document (the JSON of /.well-known/govhall-keys.json). */
static size_t keys_from_doc(struct arena *a, const json_t *doc, struct note_key **out)
{
	json_t *arr = json_object_get(json_object_get(doc, "log"), "keys");
	size_t n = 0, i;
	json_t *e;
	*out = arena_array(a, json_array_size(arr) + 1, sizeof(struct note_key));
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *pk = json_string_value(json_object_get(e, "public_key"));
		unsigned char buf[64];
		size_t len;
		if (!name || !pk || strlen(name) > 256 ||
		    sodium_base642bin(buf, sizeof(buf), pk, strlen(pk), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    len != 32)
			continue;
		struct note_key *k = &(*out)[n++];
		k->name = arena_strdup(a, name);
		memcpy(k->pk, buf, 32);
		ledger_note_key_hash(name, k->pk, k->key_hash);
	}
	return n;
}

int ledger_checkpoint_verify(struct arena *a, const char *note, const json_t *keys, const char **origin,
			     int64_t *size, unsigned char root[LEDGER_HASH_LEN], char *err, size_t errlen)
{
	struct note_key *k;
	size_t n = keys_from_doc(a, keys, &k);
	if (n == 0) {
		snprintf(err, errlen, "the keys document lists no log key");
		return GH_EINVAL;
	}
	uint64_t sz;
	int rc = ledger_note_parse(a, note, k, n, origin, &sz, root, err, errlen);
	if (!rc && size)
		*size = (int64_t)sz;
	return rc;
}

int ledger_checkpoint_latest(struct db *db, struct arena *a, int64_t *size, unsigned char root[H32], const char **note)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_latest, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	if (rows.lens[1] != H32)
		return GH_EINTERNAL;
	*size = db_cell_int(&rows, 0, 0);
	if (root)
		memcpy(root, rows.cells[1], H32);
	if (note)
		*note = db_cell(&rows, 0, 2);
	return 0;
}

int ledger_checkpoint_now(struct db *db, struct arena *a, const struct ledger_keys *keys, int64_t *size_out)
{
	if (!keys || keys->n == 0)
		return GH_EUNAVAILABLE;
	struct merkle_frontier *f = arena_alloc(a, sizeof(*f));
	unsigned char root[H32];
	int64_t latest = -1;
	/* Nothing to sign (the usual case for the duty and for fresh=1 from anyone): answer
	 * without taking the write lock. */
	int rc = ledger_head_read(db, a, false, f, NULL);
	if (!rc)
		rc = ledger_checkpoint_latest(db, a, &latest, NULL, NULL);
	if (!rc && (int64_t)f->size <= latest) {
		if (size_out)
			*size_out = latest;
		return 0;
	}
	if (rc && rc != GH_ENOTFOUND)
		return rc;
	latest = -1;
	if ((rc = db_begin(db)))
		return rc;
	if ((rc = ledger_head_read(db, a, true, f, root)))
		goto fail;
	rc = ledger_checkpoint_latest(db, a, &latest, NULL, NULL);
	if (rc && rc != GH_ENOTFOUND)
		goto fail;
	rc = 0;
	if ((int64_t)f->size > latest) {
		const struct ledger_key *key = &keys->k[keys->n - 1];
		char *note = ledger_note_sign(a, keys->origin, f->size, root, key);
		if ((rc = db_exec(db, &q_cp_ins,
				  DB_ARGS(DB_INT((int64_t)f->size), DB_BLOB(root, H32), DB_TEXT(note), DB_INT(key->id),
					  DB_INT(time(NULL))),
				  NULL)) ||
		    (rc = db_exec(db, &q_signed, DB_ARGS(DB_INT((int64_t)f->size), DB_INT((int64_t)f->size)), NULL)))
			goto fail;
		latest = (int64_t)f->size;
	}
	if ((rc = db_commit(db)))
		goto fail;
	if (size_out)
		*size_out = latest;
	return 0;
fail:
	db_rollback(db);
	return rc;
}

/* ---- the background duty ---- */

static struct duty *duty;
static struct db *duty_db;
static struct arena *duty_arena;

static int sign_pass(void *arg, bool *more)
{
	(void)arg;
	*more = false;
	arena_reset(duty_arena);
	int64_t size;
	int rc = ledger_checkpoint_now(duty_db, duty_arena, ledger_loaded_keys, &size);
	if (rc)
		log_debug("ledger: checkpoint pass failed: %s", db_last_error(duty_db));
	return rc;
}

int ledger_start(struct app *app, char *err, size_t errlen)
{
	if (duty)
		return 0;
	if (!ledger_loaded_keys) {
		snprintf(err, errlen, "ledger: the log keys are not loaded");
		return GH_EINTERNAL;
	}
	if (!app->duty_db) {
		snprintf(err, errlen, "ledger: the duties' database connection is not open");
		return GH_EINTERNAL;
	}
	duty_db = app->duty_db; /* the duties thread's connection, shared by its duties */
	duty_arena = arena_new(64 * 1024);
	if (!(duty = duty_start("ledger", sign_pass, NULL, LEDGER_CHECKPOINT_PERIOD))) {
		duty_db = NULL;
		arena_free(duty_arena);
		duty_arena = NULL;
		snprintf(err, errlen, "ledger: cannot start the checkpoint thread");
		return GH_EINTERNAL;
	}
	return 0;
}

void ledger_stop(void)
{
	duty_stop(duty);
	duty = NULL;
	duty_db = NULL;
	arena_free(duty_arena);
	duty_arena = NULL;
}
