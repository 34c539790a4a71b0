/* witness.c: C2SP tlog-witness request bodies, tlog-cosignature (Ed25519, cosignature/v1) lines,
 * the cosignatures of this hall's checkpoints, and `govhall verify` with a k-of-n requirement.
 * See witness.h. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "ledger/ledger_ext.h"
#include "ledger/witness.h"
#include "store/db.h"

#define EMDASH "\xe2\x80\x94"

/* ---- the add-checkpoint body ---- */

int witness_req_parse(struct arena *a, const char *body, size_t len, struct witness_req *out, const char **why)
{
#define BAD(s)               \
	do {                 \
		*why = (s);  \
		return GH_EINVAL; \
	} while (0)
	memset(out, 0, sizeof(*out));
	if (!body || len == 0)
		BAD("the body is empty");
	if (len > WITNESS_BODY_MAX)
		BAD("the body is longer than 16 KiB");
	if (memchr(body, 0, len))
		BAD("the body holds a NUL byte");
	const char *p = body, *end = body + len;
	const char *e = memchr(p, '\n', (size_t)(end - p));
	if (!e || e - p < 5 || memcmp(p, "old ", 4) != 0)
		BAD("the body does not start with an old size line");
	const char *d = p + 4;
	if (e - d > 19 || (d[0] == '0' && e - d > 1))
		BAD("the old size is not a decimal number without leading zeroes");
	uint64_t old = 0;
	for (const char *q = d; q < e; q++) {
		if (*q < '0' || *q > '9')
			BAD("the old size is not a decimal number without leading zeroes");
		old = old * 10 + (uint64_t)(*q - '0');
	}
	if (old > INT64_MAX)
		BAD("the old size is too large");
	out->old = old;
	p = e + 1;
	for (;;) {
		if (p >= end)
			BAD("the body has no empty line before the checkpoint");
		e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			BAD("a proof line does not end with a newline");
		if (e == p)
			break;
		if (out->n == WITNESS_PROOF_MAX)
			BAD("the consistency proof has more than 63 lines");
		char h[64];
		if ((size_t)(e - p) >= sizeof(h))
			BAD("a proof line is not a base64 SHA-256 hash");
		memcpy(h, p, (size_t)(e - p));
		h[e - p] = 0;
		if (ledger_unb64_hash(h, out->proof[out->n]))
			BAD("a proof line is not a base64 SHA-256 hash");
		out->n++;
		p = e + 1;
	}
	p = e + 1;
	if (p >= end)
		BAD("the body has no checkpoint");
	out->note = arena_strndup(a, p, (size_t)(end - p));
	return 0;
#undef BAD
}

int witness_note_open(struct arena *a, const char *note, const char **origin, uint64_t *size, unsigned char root[32],
		      size_t *body_len, const char **why)
{
	static __thread char err[160];
	if (ledger_note_parse(a, note, NULL, 0, origin, size, root, err, sizeof(err))) {
		*why = err;
		return GH_EINVAL;
	}
	const char *sep = strstr(note, "\n\n");
	*body_len = (size_t)(sep - note) + 1;
	return 0;
}

int witness_note_signed(struct arena *a, const char *note, const char *origin, const unsigned char (*keys)[32], size_t n)
{
	if (n == 0)
		return GH_EFORBIDDEN;
	struct note_key *k = arena_array(a, n, sizeof(*k));
	for (size_t i = 0; i < n; i++) {
		k[i].name = origin;
		memcpy(k[i].pk, keys[i], 32);
		ledger_note_key_hash(origin, k[i].pk, k[i].key_hash);
	}
	char err[160];
	return ledger_note_parse(a, note, k, n, NULL, NULL, NULL, err, sizeof(err)) ? GH_EFORBIDDEN : 0;
}

/* ---- cosignatures ---- */

/* SHA-256(name || "\n" || 0x04 || pk)[:4] */
static void cosig_key_id(const char *name, const unsigned char pk[32], unsigned char out[4])
{
	crypto_hash_sha256_state st;
	unsigned char h[32], t[2] = { '\n', 0x04 };
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
	crypto_hash_sha256_update(&st, t, 2);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, 4);
}

static char *cosig_message(struct arena *a, const char *note, size_t body_len, int64_t ts, size_t *len)
{
	char *m = arena_printf(a, "cosignature/v1\ntime %lld\n%.*s", (long long)ts, (int)body_len, note);
	*len = strlen(m);
	return m;
}

char *witness_cosign(struct arena *a, const char *name, const unsigned char pk[32],
		     int (*sign)(const unsigned char *msg, size_t len, unsigned char sig[64]), const char *note, int64_t ts)
{
	const char *sep = strstr(note, "\n\n");
	if (!sep || ts < 0)
		return NULL;
	size_t len;
	char *m = cosig_message(a, note, (size_t)(sep - note) + 1, ts, &len);
	unsigned char raw[4 + 8 + 64];
	cosig_key_id(name, pk, raw);
	for (int i = 0; i < 8; i++)
		raw[4 + i] = (unsigned char)((uint64_t)ts >> (56 - 8 * i));
	if (sign((const unsigned char *)m, len, raw + 12))
		return NULL;
	char b[160];
	sodium_bin2base64(b, sizeof(b), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	return arena_printf(a, EMDASH " %s %s\n", name, b);
}

int witness_cosigs_check(struct arena *a, const char *note, const char *lines, size_t len, const struct witness_key *w,
			 size_t n, bool *ok, int64_t *ts, const char **line, const char **why)
{
	const char *sep = note ? strstr(note, "\n\n") : NULL;
	if (!sep) {
		*why = "the checkpoint has no body";
		return -1;
	}
	size_t body_len = (size_t)(sep - note) + 1;
	if (ok)
		memset(ok, 0, n * sizeof(*ok));
	bool *seen = arena_zalloc(a, (n ? n : 1) * sizeof(bool));
	unsigned char (*ids)[4] = arena_array(a, n ? n : 1, 4);
	for (size_t i = 0; i < n; i++)
		cosig_key_id(w[i].name, w[i].pk, ids[i]);
	int count = 0;
	const char *p = lines, *end = lines + len;
	if (len > WITNESS_BODY_MAX) {
		*why = "the signature lines are longer than 16 KiB";
		return -1;
	}
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e) {
			*why = "a signature line does not end with a newline";
			return -1;
		}
		if ((size_t)(e - p) < 5 || memcmp(p, EMDASH " ", 4) != 0) {
			*why = "a signature line does not start with an em dash and a space";
			return -1;
		}
		const char *name = p + 4, *sp = memchr(name, ' ', (size_t)(e - name));
		if (!sp || sp == name) {
			*why = "a signature line has no key name";
			return -1;
		}
		unsigned char sig[256];
		size_t slen;
		const char *bend;
		size_t blen = (size_t)(e - sp - 1);
		if (blen == 0 || blen > 300 ||
		    sodium_base642bin(sig, sizeof(sig), sp + 1, blen, NULL, &slen, &bend, sodium_base64_VARIANT_ORIGINAL) ||
		    bend != e || slen < 4) {
			*why = "a signature line does not hold a base64 signature";
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (strlen(w[i].name) != (size_t)(sp - name) || memcmp(w[i].name, name, (size_t)(sp - name)) ||
			    memcmp(ids[i], sig, 4))
				continue;
			uint64_t t = 0;
			for (int b = 0; b < 8 && slen == 76; b++)
				t = (t << 8) | sig[4 + b];
			size_t mlen;
			char *m = slen == 76 && t <= INT64_MAX ? cosig_message(a, note, body_len, (int64_t)t, &mlen) : NULL;
			if (!m || crypto_sign_verify_detached(sig + 12, (const unsigned char *)m, mlen, w[i].pk)) {
				*why = "a cosignature of a trusted witness does not verify";
				return -1;
			}
			if (!seen[i]) {
				seen[i] = true;
				count++;
			}
			if (ok)
				ok[i] = true;
			if (ts)
				ts[i] = (int64_t)t;
			if (line)
				line[i] = arena_strndup(a, p, (size_t)(e - p) + 1);
		}
		p = e + 1;
	}
	return count;
}

int witness_unb64(const char *s, unsigned char out[32])
{
	return s ? ledger_unb64_hash(s, out) : -1;
}

/* ---- the log, for a witness and its clients ---- */

struct pk_list {
	unsigned char (*keys)[32];
	size_t max, n;
};

static void pk_add(void *ctx, uint32_t id, const char *hex)
{
	(void)id;
	struct pk_list *l = ctx;
	if (l->n < l->max && !sodium_hex2bin(l->keys[l->n], 32, hex, strlen(hex), NULL, NULL, NULL))
		l->n++;
}

int ledger_log_identity(struct db *db, const struct config *cfg, char *origin, size_t olen, unsigned char (*keys)[32],
			size_t max, size_t *n)
{
	int rc = ledger_origin_fixed(db, cfg, false, origin, olen);
	if (rc)
		return rc;
	char err[256];
	struct pk_list l = { keys, max, 0 };
	if ((rc = ledger_key_publics(cfg, pk_add, &l, err, sizeof(err))))
		return rc;
	/* The newest keys matter most: keep the last max of them. */
	*n = l.n;
	return 0;
}

json_t *ledger_keys_document(struct db *db, struct arena *a, const struct config *cfg)
{
	char origin[256], path[4096], err[256];
	struct ledger_keys *k;
	if (ledger_origin_fixed(db, cfg, false, origin, sizeof(origin)))
		return NULL;
	ledger_key_path(cfg, path, sizeof(path));
	if (ledger_keys_load(path, origin, &k, err, sizeof(err)))
		return NULL;
	json_t *doc = json_object();
	json_object_set_new(doc, "log", ledger_keys_json(k));
	ledger_keys_free(k);
	if (ledger_wellknown_extend(db, a, doc)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static ledger_keys_of_fn foreign_keys;

void ledger_foreign_keys_set(ledger_keys_of_fn fn)
{
	foreign_keys = fn;
}

json_t *ledger_foreign_keys(struct db *db, const char *origin)
{
	return foreign_keys && origin ? foreign_keys(db, origin) : NULL;
}

const char *ledger_note_origin(struct arena *a, const char *note)
{
	size_t n = note ? strcspn(note, "\n") : 0;
	return n && n < 256 && note[n] == '\n' ? arena_strndup(a, note, n) : NULL;
}

int ledger_latest_checkpoint(struct db *db, struct arena *a, int64_t *size, const char **note)
{
	return ledger_checkpoint_latest(db, a, size, NULL, note);
}

int ledger_consistency_lines(struct db *db, struct arena *a, uint64_t size1, uint64_t size2, unsigned char (*path)[32],
			     size_t *n)
{
	unsigned char (*p)[H32] = arena_array(a, LEDGER_PROOF_MAX, H32);
	int rc = ledger_consistency_at(db, a, size1, size2, p, n, NULL);
	if (!rc && *n > 64)
		rc = GH_EINTERNAL;
	if (!rc)
		memcpy(path, p, *n * H32);
	return rc;
}

bool ledger_consistency_ok(uint64_t size1, uint64_t size2, const unsigned char root1[32], const unsigned char root2[32],
			   const unsigned char (*proof)[32], size_t n)
{
	return merkle_verify_consistency(size1, size2, root1, root2, proof, n) == 0;
}

int ledger_own_root(struct db *db, struct arena *a, uint64_t size, unsigned char root[32])
{
	return ledger_root_at(db, a, size, root);
}

/* ---- ledger_cosignatures ---- */

DB_SQL(q_cosig_put, "INSERT INTO ledger_cosignatures (size, witness, line, cosigned_at) VALUES (?, ?, ?, ?) "
		    "ON CONFLICT (size, witness) DO NOTHING");
DB_SQL(q_cosig_last, "SELECT COALESCE(MAX(size), 0) FROM ledger_cosignatures WHERE witness = ?");
DB_SQL(q_cosig_lines, "SELECT line FROM ledger_cosignatures WHERE size = ? ORDER BY witness");
DB_SQL(q_cosig_latest, "SELECT c.size, c.note FROM ledger_checkpoints c WHERE c.size = "
		       "(SELECT MAX(size) FROM ledger_cosignatures)");

int ledger_cosig_put(struct db *db, int64_t size, const char *witness, const char *line, int64_t at)
{
	return db_exec(db, &q_cosig_put, DB_ARGS(DB_INT(size), DB_TEXT(witness), DB_TEXT(line), DB_INT(at)), NULL);
}

int ledger_cosig_last(struct db *db, struct arena *a, const char *witness, int64_t *size)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_cosig_last, DB_ARGS(DB_TEXT(witness)), &rows);
	if (!rc)
		*size = rows.nrows ? db_cell_int(&rows, 0, 0) : 0;
	return rc;
}

int ledger_cosig_lines(struct db *db, struct arena *a, int64_t size, const char **lines)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_cosig_lines, DB_ARGS(DB_INT(size)), &rows);
	if (rc)
		return rc;
	size_t total = 1;
	for (size_t i = 0; i < rows.nrows; i++)
		total += strlen(db_cell(&rows, i, 0));
	char *s = arena_alloc(a, total), *q = s;
	for (size_t i = 0; i < rows.nrows; i++) {
		size_t l = strlen(db_cell(&rows, i, 0));
		memcpy(q, db_cell(&rows, i, 0), l);
		q += l;
	}
	*q = 0;
	*lines = s;
	return 0;
}

int ledger_cosigned_note(struct db *db, struct arena *a, int64_t *size, const char **note)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_cosig_latest, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	*size = db_cell_int(&rows, 0, 0);
	const char *lines;
	if ((rc = ledger_cosig_lines(db, a, *size, &lines)))
		return rc;
	*note = arena_printf(a, "%s%s", db_cell(&rows, 0, 1), lines);
	return 0;
}

/* ---- `govhall verify` with a directory ---- */

static bool b64_key(const char *s, unsigned char out[32])
{
	size_t len;
	return s && !sodium_base642bin(out, 32, s, strlen(s), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) && len == 32;
}

static bool b64url_key(const char *s, unsigned char out[32])
{
	size_t len;
	return s && !sodium_base642bin(out, 32, s, strlen(s), NULL, &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) &&
	       len == 32;
}

int witness_verify_note(struct arena *a, const char *note, const json_t *dir, int k, FILE *out)
{
	const char *origin, *why;
	uint64_t size;
	unsigned char root[32];
	size_t body_len;
	if (witness_note_open(a, note, &origin, &size, root, &body_len, &why)) {
		fprintf(out, "INVALID: the checkpoint cannot be read: %s\n", why);
		return 1;
	}
	const json_t *halls = json_object_get(dir, "halls"), *h;
	size_t i, nw = 0;
	const char *log_hall = NULL;
	unsigned char lk[WITNESS_KEYS_MAX][32];
	size_t nlk = 0;
	struct witness_key *w = arena_array(a, json_array_size(halls) * 4 + 1, sizeof(*w));
	json_array_foreach(halls, i, h) {
		const char *id = json_string_value(json_object_get(h, "id"));
		const char *base = json_string_value(json_object_get(h, "base_url"));
		const json_t *lg = json_object_get(h, "log");
		const char *o = json_string_value(json_object_get(lg, "origin"));
		if (!id || !base)
			continue;
		if (o && !strcmp(o, origin)) {
			if (log_hall) {
				fprintf(out, "INVALID: the directory gives the log %s to two halls (%s, %s)\n", origin, log_hall, id);
				return 1;
			}
			log_hall = id;
			const json_t *x;
			size_t j;
			json_array_foreach(json_object_get(lg, "keys"), j, x)
				if (nlk < WITNESS_KEYS_MAX && b64_key(json_string_value(x), lk[nlk]))
					nlk++;
			continue; /* a log does not witness itself */
		}
		const char *s = strstr(base, "://");
		const char *name = arena_printf(a, "%s/witness", s ? s + 3 : base);
		const json_t *key;
		size_t j;
		json_array_foreach(json_object_get(h, "keys"), j, key)
			if (j < 4 && b64url_key(json_string_value(json_object_get(key, "x")), w[nw].pk)) {
				w[nw].name = name;
				w[nw++].hall = id;
			}
	}
	if (!log_hall) {
		fprintf(out, "INVALID: the directory names no hall whose log is %s\n", origin);
		return 1;
	}
	if (witness_note_signed(a, note, origin, (const unsigned char(*)[32])lk, nlk)) {
		fprintf(out, "INVALID: the checkpoint is not signed by a log key of %s in the directory\n", log_hall);
		return 1;
	}
	const char *sigs = note + body_len + 1;
	bool *ok = arena_zalloc(a, (nw ? nw : 1) * sizeof(bool));
	int got = witness_cosigs_check(a, note, sigs, strlen(sigs), w, nw, ok, NULL, NULL, &why);
	if (got < 0) {
		fprintf(out, "INVALID: %s\n", why);
		return 1;
	}
	/* One hall counts once, whichever of its keys cosigned. */
	int halls_ok = 0;
	for (size_t x = 0; x < nw; x++) {
		if (!ok[x])
			continue;
		bool dup = false;
		for (size_t y = 0; y < x; y++)
			dup |= ok[y] && !strcmp(w[y].hall, w[x].hall);
		halls_ok += !dup;
	}
	if (halls_ok < k) {
		fprintf(out, "INVALID: the checkpoint of %s (size %llu) carries %d cosignature(s) of the directory's witnesses; "
			     "%d required\n",
			log_hall, (unsigned long long)size, halls_ok, k);
		return 1;
	}
	fprintf(out, "VALID: checkpoint of %s (%s), size %llu, signed by its log key and cosigned by %d witness(es) of the "
		     "directory\n",
		log_hall, origin, (unsigned long long)size, halls_ok);
	return 0;
}
