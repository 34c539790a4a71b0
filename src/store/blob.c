/* blob.c: files in the database, content-addressed and chunked (see blob.h). */
#include "store/blob.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"

/* pg_advisory_xact_lock key of the collection ("blob gc"), fixed forever. */
#define GC_LOCK "4711020402"
#define MAX_REFS 16

DB_SQL(q_touch, "UPDATE blobs SET touched_at = ? WHERE sha256 = ?");
DB_SQL(q_insert, "INSERT INTO blobs (sha256, size, chunks, touched_at) VALUES (?, ?, ?, ?)");
DB_SQL(q_chunk_put, "INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)");
DB_SQL(q_head, "SELECT size, chunks FROM blobs WHERE sha256 = ?");
DB_SQL(q_chunk_get, "SELECT data FROM blob_chunks WHERE sha256 = ? AND seq = ?");
DB_SQL(q_gc_lock, "SELECT CASE WHEN pg_try_advisory_xact_lock(" GC_LOCK ") THEN 1 ELSE 0 END");
DB_SQL(q_totals, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs");

static pthread_mutex_t refs_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *refs[MAX_REFS];
static size_t nrefs;
static bool gc_built;
/* Built once from the registered tables at the first collection; live for the process. */
static struct db_sql q_gc_find, q_gc_delete;

static void hash_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int blob_put(struct db *db, const void *data, size_t len, int64_t now, char out_hex[65], bool *existed)
{
	if (sodium_init() < 0)
		die("blob: libsodium failed to initialise");
	hash_hex(data, len, out_hex);
	if (existed)
		*existed = false;
	size_t chunks = len ? (len + BLOB_CHUNK - 1) / BLOB_CHUNK : 0;
	int64_t changes = 0;
	int rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = db_exec(db, &q_touch, DB_ARGS(DB_INT(now), DB_TEXT(out_hex)), &changes)))
		goto fail;
	if (changes == 1) {
		if (existed)
			*existed = true;
		return db_commit(db);
	}
	rc = db_exec(db, &q_insert,
		     DB_ARGS(DB_TEXT(out_hex), DB_INT((int64_t)len), DB_INT((int64_t)chunks), DB_INT(now)), NULL);
	if (rc == GH_ECONFLICT) {
		/* Another node stored the same bytes at the same moment: they are there now. */
		db_rollback(db);
		if (existed)
			*existed = true;
		return 0;
	}
	for (size_t i = 0; !rc && i < chunks; i++) {
		size_t off = i * BLOB_CHUNK, n = len - off < BLOB_CHUNK ? len - off : BLOB_CHUNK;
		rc = db_exec(db, &q_chunk_put,
			     DB_ARGS(DB_TEXT(out_hex), DB_INT((int64_t)i), DB_BLOB((const char *)data + off, n)), NULL);
	}
	if (rc)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

int blob_size(struct db *db, struct arena *a, const char *sha256, size_t *size)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_head, DB_ARGS(DB_TEXT(sha256)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	*size = (size_t)db_cell_int(&rows, 0, 0);
	return 0;
}

int blob_read(struct db *db, const char *sha256, int (*sink)(void *ctx, const void *p, size_t n), void *ctx)
{
	if (sodium_init() < 0)
		die("blob: libsodium failed to initialise");
	struct arena *a = arena_new(BLOB_CHUNK * 2 + 4096);
	struct db_rows rows;
	int rc = db_query(db, a, &q_head, DB_ARGS(DB_TEXT(sha256)), &rows);
	if (rc)
		goto out;
	if (rows.nrows != 1) {
		rc = GH_ENOTFOUND;
		goto out;
	}
	int64_t size = db_cell_int(&rows, 0, 0), chunks = db_cell_int(&rows, 0, 1), got = 0;
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	for (int64_t i = 0; i < chunks; i++) {
		arena_reset(a);
		if ((rc = db_query(db, a, &q_chunk_get, DB_ARGS(DB_TEXT(sha256), DB_INT(i)), &rows)))
			goto out;
		if (rows.nrows != 1 || rows.lens[0] > BLOB_CHUNK || !rows.cells[0]) {
			log_error("blob: %s: chunk %lld of %lld is missing or too long", sha256, (long long)i,
				  (long long)chunks);
			rc = GH_EIO;
			goto out;
		}
		crypto_hash_sha256_update(&st, (const unsigned char *)rows.cells[0], rows.lens[0]);
		got += (int64_t)rows.lens[0];
		if (got > size) {
			log_error("blob: %s: chunks hold more than its %lld bytes", sha256, (long long)size);
			rc = GH_EIO;
			goto out;
		}
		if ((rc = sink(ctx, rows.cells[0], rows.lens[0])))
			goto out;
	}
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[65];
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (got != size || strcmp(hex, sha256) != 0) {
		log_error("blob: %s: the stored bytes (%lld of %lld) do not hash to its name", sha256, (long long)got,
			  (long long)size);
		rc = GH_EIO;
	}
out:
	arena_free(a);
	return rc;
}

void blob_ref_table(const char *table)
{
	pthread_mutex_lock(&refs_mu);
	bool known = false;
	for (size_t i = 0; i < nrefs; i++)
		known |= strcmp(refs[i], table) == 0;
	if (!known) {
		if (gc_built || nrefs == MAX_REFS)
			die("blob: table %s registered too late or one too many", table);
		refs[nrefs++] = table;
	}
	pthread_mutex_unlock(&refs_mu);
}

/* The collection's statements, from the registered tables. False when there are none. */
static bool build_gc(void)
{
	pthread_mutex_lock(&refs_mu);
	if (!gc_built && nrefs) {
		struct sb find = SB_INIT, del = SB_INIT;
		sb_adds(&find, "SELECT sha256 FROM blobs WHERE touched_at < ?");
		sb_adds(&del, "DELETE FROM blobs WHERE sha256 = ? AND touched_at < ?");
		for (size_t i = 0; i < nrefs; i++) {
			sb_addf(&find, " AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.sha256 = blobs.sha256)", refs[i]);
			sb_addf(&del, " AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.sha256 = blobs.sha256)", refs[i]);
		}
		sb_adds(&find, " ORDER BY touched_at LIMIT ?");
		q_gc_find.sql = xstrdup(find.buf);
		q_gc_delete.sql = xstrdup(del.buf);
		sb_release(&find);
		sb_release(&del);
		gc_built = true;
	}
	bool ok = gc_built;
	pthread_mutex_unlock(&refs_mu);
	return ok;
}

int blob_gc(struct db *db, int64_t cutoff, long batch, long *removed)
{
	*removed = 0;
	if (!build_gc())
		return GH_EINVAL;
	struct arena *a = arena_new(8192);
	struct db_rows rows, lock;
	int rc = db_begin(db);
	if (rc)
		goto out;
	if (db_kind(db) == DB_POSTGRES) {
		if ((rc = db_query(db, a, &q_gc_lock, DB_NOARGS, &lock)))
			goto fail;
		if (db_cell_int(&lock, 0, 0) != 1)
			goto fail; /* another node collects */
	}
	if ((rc = db_query(db, a, &q_gc_find, DB_ARGS(DB_INT(cutoff), DB_INT(batch)), &rows)))
		goto fail;
	for (size_t i = 0; i < rows.nrows; i++) {
		int64_t n = 0;
		/* The removal checks again, so a blob touched or named since the look-up stays; its
		 * chunks go with it (ON DELETE CASCADE). */
		if ((rc = db_exec(db, &q_gc_delete, DB_ARGS(DB_TEXT(db_cell(&rows, i, 0)), DB_INT(cutoff)), &n)))
			goto fail;
		*removed += n == 1;
	}
	rc = db_commit(db);
	if (rc)
		*removed = 0;
	goto out;
fail:
	db_rollback(db);
out:
	arena_free(a);
	return rc;
}

int blob_totals(struct db *db, int64_t *n, int64_t *bytes)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_totals, DB_NOARGS, &rows);
	if (!rc) {
		*n = db_cell_int(&rows, 0, 0);
		*bytes = db_cell_int(&rows, 0, 1);
	}
	arena_free(a);
	return rc;
}
