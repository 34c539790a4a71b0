/* cert_keys.c: departments' Ed25519 signing keys (table cert_keys). A secret key never
 * leaves this file but as a 64-byte buffer the caller wipes; at rest it is sealed under the
 * hall's key file (crypto_seal, field "cert_key"), so a copy of the database alone cannot
 * sign. Rotation ends the current key (valid_until = now) and starts a new one; ended keys
 * stay published so the certificates they signed still verify. */
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/util.h"
#include "certs/certs_impl.h"
#include "identity/crypto.h"
#include "store/cover.h"
#include "store/db.h"

#define KEY_COLS "key_id, department, public_key, valid_from, valid_until, created_at"

DB_SQL(q_current, "SELECT " KEY_COLS ", secret_sealed FROM cert_keys WHERE department = ? AND valid_until IS NULL");
DB_SQL(q_end, "UPDATE cert_keys SET valid_until = ? WHERE department = ? AND valid_until IS NULL RETURNING key_id");
DB_SQL(q_insert, "INSERT INTO cert_keys (key_id, department, public_key, secret_sealed, valid_from, created_at) "
		 "VALUES (?, ?, ?, ?, ?, ?)");
/* A department's first key, unless another transaction made one meanwhile (two first
 * approvals at once on PostgreSQL: the second waits for the first, then inserts nothing). */
DB_SQL(q_insert_first, "INSERT INTO cert_keys (key_id, department, public_key, secret_sealed, valid_from, created_at) "
		       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (department) WHERE valid_until IS NULL DO NOTHING");
DB_SQL(q_list_all, "SELECT " KEY_COLS " FROM cert_keys ORDER BY department, id");
DB_SQL(q_list_dept, "SELECT " KEY_COLS " FROM cert_keys WHERE department = ? ORDER BY id");
DB_SQL(q_get, "SELECT " KEY_COLS " FROM cert_keys WHERE key_id = ?");
DB_SQL(q_dept, "SELECT code FROM departments WHERE code = ?");

static void key_row(const struct db_rows *rows, size_t i, struct cert_key *k)
{
	k->key_id = db_cell(rows, i, 0);
	k->department = db_cell(rows, i, 1);
	k->public_key = db_cell(rows, i, 2);
	k->valid_from = db_cell_int(rows, i, 3);
	k->valid_until = db_cell(rows, i, 4) ? db_cell_int(rows, i, 4) : 0;
	k->created_at = db_cell_int(rows, i, 5);
}

static int key_make(struct db *db, const struct keyring *k, struct arena *a, const char *department, bool first,
		    struct cert_key *out)
{
	if (!k)
		return GH_EUNAVAILABLE;
	struct db_rows rows;
	int rc = db_query(db, a, &q_dept, DB_ARGS(DB_TEXT(department)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk, sk);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, pk, sizeof(pk));
	char id[32];
	sodium_bin2base64(id, sizeof(id), h, 12, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	unsigned char *sealed;
	size_t slen;
	crypto_seal(k, a, "cert_key", sk, sizeof(sk), &sealed, &slen);
	sodium_memzero(sk, sizeof(sk));
	int64_t now = clock_now();
	/* Both keys' rows are covered by the transparency log: the one ended and the new one. */
	bool own;
	if ((rc = cover_tx_begin(db, &own)))
		return rc;
	if (!first)
		rc = db_query(db, a, &q_end, DB_ARGS(DB_INT(now), DB_TEXT(department)), &rows);
	for (size_t i = 0; !rc && !first && i < rows.nrows; i++)
		rc = cover_touch(db, "cert_keys", db_cell(&rows, i, 0), "cert_key.end");
	const char *pub = cert_b64(a, pk, sizeof(pk));
	if (!rc)
		rc = db_exec(db, first ? &q_insert_first : &q_insert,
			     DB_ARGS(DB_TEXT(id), DB_TEXT(department), DB_TEXT(pub), DB_BLOB(sealed, slen), DB_INT(now),
				     DB_INT(now)),
			     NULL);
	if (!rc)
		rc = cover_touch(db, "cert_keys", id, "cert_key.new");
	if ((rc = cover_tx_end(db, own, rc)))
		return rc;
	*out = (struct cert_key){ .key_id = arena_strdup(a, id), .department = arena_strdup(a, department),
				  .public_key = pub, .valid_from = now, .created_at = now };
	return 0;
}

int cert_key_new(struct db *db, const struct keyring *k, struct arena *a, const char *department,
		 struct cert_key *out)
{
	return key_make(db, k, a, department, false, out);
}

int cert_key_current(struct db *db, const struct keyring *k, struct arena *a, const char *department,
		     struct cert_key *out, unsigned char sk[64])
{
	if (!k)
		return GH_EUNAVAILABLE;
	struct db_rows rows;
	int rc = db_query(db, a, &q_current, DB_ARGS(DB_TEXT(department)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0) {
		/* A department's first certificate: it gets its key now (the operator may have made
		 * one beforehand with `govhall cert key generate`). */
		if ((rc = key_make(db, k, a, department, true, out)))
			return rc;
		if ((rc = db_query(db, a, &q_current, DB_ARGS(DB_TEXT(department)), &rows)))
			return rc;
		if (rows.nrows == 0)
			return GH_EINTERNAL;
	}
	key_row(&rows, 0, out);
	char *plain;
	size_t plen;
	if ((rc = crypto_open(k, a, "cert_key", (const unsigned char *)db_cell(&rows, 0, 6), rows.lens[6], &plain, &plen,
			      NULL)))
		return rc;
	if (plen != 64) {
		sodium_memzero(plain, plen);
		return GH_EINTERNAL;
	}
	memcpy(sk, plain, 64);
	sodium_memzero(plain, plen);
	return 0;
}

int cert_keys_list(struct db *db, struct arena *a, const char *department, struct cert_key **out, size_t *n)
{
	struct db_rows rows;
	int rc = department ? db_query(db, a, &q_list_dept, DB_ARGS(DB_TEXT(department)), &rows)
			    : db_query(db, a, &q_list_all, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		key_row(&rows, i, &(*out)[i]);
	*n = rows.nrows;
	return 0;
}

int cert_key_get(struct db *db, struct arena *a, const char *key_id, struct cert_key *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_get, DB_ARGS(DB_TEXT(key_id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	key_row(&rows, 0, out);
	return 0;
}

int cert_keys_wellknown(struct db *db, struct arena *a, json_t *keys)
{
	struct cert_key *v;
	size_t n;
	int rc = cert_keys_list(db, a, NULL, &v, &n);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:b}", "key_id", v[i].key_id, "department",
						     v[i].department, "algorithm", "Ed25519", "public_key", v[i].public_key,
						     "valid_from", (json_int_t)v[i].valid_from, "valid_until",
						     v[i].valid_until ? json_integer(v[i].valid_until) : json_null(),
						     "current", v[i].valid_until == 0));
	json_object_set_new(keys, "departments", arr);
	return 0;
}
