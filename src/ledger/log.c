/* log.c: the log's storage. Appends lock the head row (one row: size, frontier, root) inside
 * the caller's transaction, write the leaf, add its hash and those of the perfect subtrees it
 * completes at the tile levels to their tiles (tiles.c), and update the head: O(1) reads
 * amortised. Inside a transaction the head and the tile hashes are held in memory and written
 * once, before the COMMIT (db_tx_defer: "the head held in memory" below), a tile's new hashes
 * in one statement. Proofs read O(log n / 8) tiles. */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "ledger/ledger_impl.h"
#include "ledger/log_impl.h"
#include "base/sb.h"
#include "base/jsonout.h"
#include "store/cover.h"
#include "store/db.h"

DB_SQL2(q_head_lock, "SELECT size, frontier, root FROM ledger_head WHERE id = 1",
	"SELECT size, frontier, root FROM ledger_head WHERE id = 1 FOR UPDATE");
DB_SQL(q_head, "SELECT size, frontier, root FROM ledger_head WHERE id = 1");
DB_SQL(q_head_set, "UPDATE ledger_head SET size = ?, frontier = ?, root = ? WHERE id = 1");
DB_SQL(q_leaf_ins, "INSERT INTO ledger_leaves (idx, kind, ref, salt, leaf, created_at) "
		   "VALUES (?, ?, ?, ?, ?, ?)");
/* A leaf's hash is kept once, in the tile of leaf hashes (tiles.c); read with a leaf, it is
 * computed from its text. The salt is its 32 hex characters everywhere but in PostgreSQL's
 * column, which holds its 16 bytes (LEDGER_SALT_PG). */
DB_SQL2(q_leaf_get, "SELECT idx, kind, ref, salt, leaf, created_at FROM ledger_leaves WHERE idx = ?",
	"SELECT idx, kind, ref, " LEDGER_SALT_PG("salt") ", leaf, created_at FROM ledger_leaves WHERE idx = ?");
DB_SQL(q_leaf_ref, "SELECT idx FROM ledger_leaves WHERE ref = ? ORDER BY idx LIMIT 1000");
DB_SQL(q_ref_ins, "INSERT INTO ledger_refs (idx, tbl, rkey) VALUES (?, ?, ?)");
DB_SQL(q_ref_ins2, "INSERT INTO ledger_refs (idx, tbl, rkey) VALUES (?, ?, ?), (?, ?, ?)");
/* PostgreSQL: the leaf and its rows in one statement (one round trip, as before rows). */
DB_SQL(q_leaf_refs_pg, "WITH l AS (INSERT INTO ledger_leaves (idx, kind, ref, salt, leaf, created_at) "
		       "VALUES (?, ?, ?, decode(?, 'hex'), ?, ?)) INSERT INTO ledger_refs (tbl, rkey, idx) "
		       "SELECT e->>0, e->>1, CAST(? AS BIGINT) FROM jsonb_array_elements(CAST(? AS jsonb)) AS e");

/* Whether this process appended a leaf (commands sign a checkpoint before they exit). */
static _Atomic bool appended;

bool ledger_appended(void)
{
	return appended;
}

void ledger_set_appended(void)
{
	appended = true;
}

void ledger_salt_new(char out[LEDGER_SALT_HEX + 1])
{
	unsigned char b[LEDGER_SALT_HEX / 2];
	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, LEDGER_SALT_HEX + 1, b, sizeof(b));
}

bool ledger_salt_ok(const char *salt)
{
	size_t n = strspn(salt, "0123456789abcdef");
	return n == LEDGER_SALT_HEX && salt[n] == 0;
}

void ledger_personal_hash(const char *salt, const char *field, const char *value, char out[65])
{
	crypto_hash_sha256_state st;
	unsigned char z = 0, h[32];
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)salt, strlen(salt));
	crypto_hash_sha256_update(&st, &z, 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)field, strlen(field));
	crypto_hash_sha256_update(&st, &z, 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)value, strlen(value));
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static bool has_real(const json_t *v)
{
	if (json_is_real(v))
		return true;
	const char *k;
	json_t *e;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
			if (has_real(e))
				return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (has_real(e))
				return true;
	}
	return false;
}

#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

/* Canonical text of v, copied into the arena. */
static char *canonical_text(struct arena *a, const json_t *v, size_t *len)
{
	char *t = jsonout_dumps(v, CANON_FLAGS);
	if (!t)
		return NULL;
	size_t n = strlen(t);
	char *buf = arena_alloc(a, n + 1);
	memcpy(buf, t, n + 1);
	free(t);
	if (len)
		*len = n;
	return buf;
}

char *ledger_canonical(struct arena *a, const json_t *v)
{
	if (!v || has_real(v))
		return NULL;
	return canonical_text(a, v, NULL);
}

static bool kind_ok(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') || kind[i] == '_'))
			return false;
	return true;
}

/* The leaf must be its own canonical form, an object whose "kind" is kind. */
static int check_leaf(struct arena *a, const char *kind, const char *json)
{
	if (!kind_ok(kind) || !json)
		return GH_EINVAL;
	size_t len = strlen(json);
	if (len == 0 || len > LEDGER_LEAF_MAX)
		return GH_EINVAL;
	json_error_t e;
	json_t *v = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
	if (!v)
		return GH_EINVAL;
	int rc = 0;
	const char *k = json_string_value(json_object_get(v, "kind"));
	char *c = json_is_object(v) ? ledger_canonical(a, v) : NULL;
	if (!k || strcmp(k, kind) != 0 || !c || strcmp(c, json) != 0)
		rc = GH_EINVAL;
	json_decref(v);
	return rc;
}

/* ---- the head held in memory for the transaction ----
 * Appends in one transaction (a batch of the group-commit writer: every submission of it)
 * read the head row once, keep the frontier with the connection, and write the head and its
 * root once, right before the COMMIT (db_tx_defer): not a read, an update and a root of up to
 * 64 hashes per leaf. The memory is only used for the epoch it was made in (store/db.h's
 * db_tx_epoch: a rollback to a savepoint makes a new one, and the writer writes the head
 * before it takes a savepoint, so the row then read again is right). */
/* The hashes the appends add to tiles (the leaves' and the completed subtrees' at tile levels)
 * are held with it too, and written with the head, the new hashes of one tile in one statement
 * (a batch of 64 submissions: about one statement instead of 64); at most NODES_HELD, written
 * at once when full. */
#define NODES_HELD 64

struct held_node {
	unsigned level;
	uint64_t idx;
	unsigned char h[H32];
};

struct head_mem {
	uint64_t epoch; /* db_tx_epoch() the frontier belongs to; 0: none */
	bool dirty;     /* not written to the head row yet */
	struct merkle_frontier f;
	size_t nn; /* nodes held (of the same epoch), not written yet */
	struct held_node nodes[NODES_HELD];
};

static struct head_mem *head_mem(struct db *db)
{
	return db_tx_memory(db, sizeof(struct head_mem));
}

static int head_write(struct db *db, const struct merkle_frontier *f)
{
	unsigned char root[H32];
	merkle_frontier_root(f, root);
	return db_exec(db, &q_head_set, DB_ARGS(DB_INT((int64_t)f->size), DB_BLOB(f->h, f->n * H32), DB_BLOB(root, H32)),
		       NULL);
}

/* Writes the hashes held to their tiles: each level's in the order they came (ascending), a run
 * that continues one tile in one statement. */
static int nodes_write(struct db *db, struct head_mem *m)
{
	unsigned char run[NODES_HELD * H32];
	int rc = 0;
	bool done[NODES_HELD] = { false };
	for (size_t i = 0; !rc && i < m->nn; i++) {
		if (done[i])
			continue;
		const struct held_node *first = &m->nodes[i];
		size_t n = 0;
		for (size_t j = i; j < m->nn; j++) {
			const struct held_node *e = &m->nodes[j];
			if (done[j] || e->level != first->level)
				continue;
			/* the run ends at a tile's edge or a gap (none is expected) */
			if (e->idx != first->idx + n || (n && e->idx % LEDGER_TILE_W == 0))
				break;
			memcpy(run + n * H32, e->h, H32);
			done[j] = true;
			n++;
		}
		rc = ledger_tile_append(db, first->level, first->idx, run, n);
	}
	m->nn = 0;
	return rc;
}

/* db_commit's deferred function (and before a savepoint). Memory of an older epoch describes
 * writes that were undone: it is dropped. */
static int head_flush(struct db *db)
{
	struct head_mem *m = head_mem(db);
	bool current = m->epoch && m->epoch == db_tx_epoch(db), write = m->dirty && current;
	m->dirty = false;
	int rc = current ? nodes_write(db, m) : 0;
	m->nn = 0;
	return rc ? rc : write ? head_write(db, &m->f) : 0;
}

static int head_read(struct db *db, struct arena *a, bool lock, struct merkle_frontier *f, unsigned char root[H32]);

int ledger_head_read(struct db *db, struct arena *a, bool lock, struct merkle_frontier *f,
		     unsigned char root[H32])
{
	/* A reader outside the append path gets the row, written first when it waits in memory;
	 * and the memory is dropped, as such a caller may write the row itself (bulk loads). */
	int rc = db_tx_flush(db);
	if (rc)
		return rc;
	head_mem(db)->epoch = 0;
	return head_read(db, a, lock, f, root);
}

static int head_read(struct db *db, struct arena *a, bool lock, struct merkle_frontier *f, unsigned char root[H32])
{
	struct db_rows rows;
	int rc = db_query(db, a, lock ? &q_head_lock : &q_head, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_EINTERNAL;
	int64_t size = db_cell_int(&rows, 0, 0);
	size_t flen = rows.lens[1];
	if (size < 0 || flen % H32 || flen / H32 != (size_t)__builtin_popcountll((unsigned long long)size) ||
	    rows.lens[2] != H32) {
		log_error("ledger: the log head is corrupt (size %lld, frontier %zu bytes)", (long long)size, flen);
		return GH_EINTERNAL;
	}
	f->size = (uint64_t)size;
	f->n = flen / H32;
	memcpy(f->h, rows.cells[1], flen);
	if (root)
		memcpy(root, rows.cells[2], H32);
	return 0;
}

struct put_ctx {
	struct db *db;
	struct head_mem *m; /* hold the nodes here; NULL: write each at once */
};

static int put_node(void *ctx, unsigned level, uint64_t idx, const unsigned char h[H32])
{
	struct put_ctx *p = ctx;
	if (level % LEDGER_TILE_H)
		return 0; /* not stored: recomputed from the tile below */
	if (!p->m)
		return ledger_tile_append(p->db, level, idx, h, 1);
	if (p->m->nn == NODES_HELD) {
		int rc = nodes_write(p->db, p->m);
		if (rc)
			return rc;
	}
	struct held_node *n = &p->m->nodes[p->m->nn++];
	n->level = level;
	n->idx = idx;
	memcpy(n->h, h, H32);
	return 0;
}

int ledger_append_text(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt,
		       const char *text, size_t text_len, const struct ledger_rows *rows, int64_t *index)
{
	size_t nrefs = rows ? rows->n : 0;
	int rc;
	if ((ref && (strlen(ref) == 0 || strlen(ref) > 200)) || (salt && !ledger_salt_ok(salt)))
		return GH_EINVAL;
	/* The frontier: the one kept for this transaction, or the head row's (locked). Pushed on
	 * a copy, which becomes the kept one once every row of the leaf is written. */
	uint64_t epoch = db_tx_epoch(db);
	struct head_mem *m = epoch ? head_mem(db) : NULL;
	struct merkle_frontier *f = arena_alloc(a, sizeof(*f));
	if (m && m->epoch == epoch) {
		f->size = m->f.size;
		f->n = m->f.n;
		memcpy(f->h, m->f.h, m->f.n * H32);
	} else {
		if (m) {
			/* what is held belongs to an epoch whose writes were undone */
			m->epoch = 0;
			m->nn = 0;
		}
		if ((rc = head_read(db, a, true, f, NULL)))
			return rc;
	}
	/* Nodes are held only while the head is (db_tx_defer writes both before the COMMIT). */
	if (m && db_tx_defer(db, head_flush))
		m = NULL;
	size_t held = m ? m->nn : 0;
	unsigned char h[H32];
	ledger_leaf_hash(text, text_len, h);
	int64_t idx = (int64_t)f->size, now = clock_now();
	const unsigned char *packed;
	size_t plen;
	ledger_leaf_pack(a, text, text_len, &packed, &plen); /* stored packed (pack.c); hashed as text */
	if (db_kind(db) == DB_POSTGRES)
		rc = db_exec(db, &q_leaf_refs_pg,
			     DB_ARGS(DB_INT(idx), DB_TEXT(kind), DB_TEXT(ref), DB_TEXT(salt), DB_BLOB(packed, plen),
				     DB_INT(now), DB_INT(idx), DB_TEXT(nrefs ? rows->json : "[]")),
			     NULL);
	else
		rc = db_exec(db, &q_leaf_ins,
			     DB_ARGS(DB_INT(idx), DB_TEXT(kind), DB_TEXT(ref), DB_TEXT(salt), DB_BLOB(packed, plen),
				     DB_INT(now)),
			     NULL);
	/* SQLite runs in this process: prepared inserts, two rows at a time (a step's two rows). */
	const struct ledger_row *v = nrefs ? rows->v : NULL;
	for (size_t i = 0; !rc && db_kind(db) != DB_POSTGRES && i < nrefs; i += 2)
		rc = i + 1 < nrefs ? db_exec(db, &q_ref_ins2,
					     DB_ARGS(DB_INT(idx), DB_TEXT(v[i].table), DB_TEXT(v[i].key), DB_INT(idx),
						     DB_TEXT(v[i + 1].table), DB_TEXT(v[i + 1].key)),
					     NULL)
				   : db_exec(db, &q_ref_ins, DB_ARGS(DB_INT(idx), DB_TEXT(v[i].table), DB_TEXT(v[i].key)), NULL);
	struct put_ctx pc = { db, m };
	if (!rc)
		rc = put_node(&pc, 0, (uint64_t)idx, h); /* the leaf's hash, in level 0's tile */
	if (!rc)
		rc = merkle_frontier_push(f, h, put_node, &pc);
	if (rc) {
		if (m && m->nn >= held)
			m->nn = held; /* this leaf's nodes go with it */
		return rc;
	}
	if (m) {
		m->epoch = epoch;
		m->dirty = true;
		m->f.size = f->size;
		m->f.n = f->n;
		memcpy(m->f.h, f->h, f->n * H32);
	} else if ((rc = head_write(db, f))) {
		return rc;
	}
	appended = true;
	if (index)
		*index = idx;
	return 0;
}

/* ---- covered rows (store/cover.h) ---- */


/* Keyed BLAKE2b-128 (the salt's hex text as the key) of the parts, each followed by a NUL, as
 * base64url without padding (LEDGER_ROW_HASH characters). */
static void row_mac(const char *salt, const char *const *parts, const size_t *lens, size_t n,
		    char out[LEDGER_ROW_HASH + 1])
{
	crypto_generichash_state st;
	unsigned char h[16], z = 0;
	crypto_generichash_init(&st, (const unsigned char *)salt, strlen(salt), sizeof(h));
	for (size_t i = 0; i < n; i++) {
		crypto_generichash_update(&st, (const unsigned char *)parts[i], lens[i]);
		crypto_generichash_update(&st, &z, 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2base64(out, LEDGER_ROW_HASH + 1, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void ledger_row_hashes(const char *salt, const char *table, const char *key, bool present,
		       const unsigned char digest[COVER_DIGEST_LEN], char id[LEDGER_ROW_HASH + 1],
		       char content[LEDGER_ROW_HASH + 1])
{
	const char *parts[4] = { "row", table, key, present ? (const char *)digest : "absent" };
	size_t lens[4] = { 3, strlen(table), strlen(key), present ? COVER_DIGEST_LEN : 6 };
	row_mac(salt, parts, lens, 3, id);
	parts[0] = "content";
	lens[0] = 7;
	row_mac(salt, parts, lens, 4, content);
}

static int cmp_row(const void *x, const void *y)
{
	return strcmp(((const struct ledger_row *)x)->id, ((const struct ledger_row *)y)->id);
}

int ledger_rows_prepare(struct db *db, struct arena *a, const char *salt, const struct cover_entry *rows, size_t n,
			struct ledger_rows *out)
{
	memset(out, 0, sizeof(*out));
	out->v = arena_array(a, n ? n : 1, sizeof(*out->v));
	for (size_t i = 0; i < n; i++) {
		const struct cover_entry *e = &rows[i];
		struct ledger_row *lr = &out->v[out->n++];
		lr->table = e->ci->table;
		lr->key = e->key;
		ledger_row_hashes(salt, e->ci->table, e->key, e->present, e->digest, lr->id, lr->content);
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_row); /* the order of the leaf's canonical text */
	if (db && db_kind(db) == DB_POSTGRES) {
		/* the rows as JSON too, for the one statement that writes the leaf and them */
		struct sb sb = SB_INIT;
		sb_addch(&sb, '[');
		for (size_t i = 0; i < out->n; i++) {
			sb_adds(&sb, i ? ",[" : "[");
			sb_add_json_str(&sb, out->v[i].table, strlen(out->v[i].table));
			sb_addch(&sb, ',');
			sb_add_json_str(&sb, out->v[i].key, strlen(out->v[i].key));
			sb_addch(&sb, ']');
		}
		sb_addch(&sb, ']');
		out->json = arena_strndup(a, sb.buf, sb.len);
		sb_release(&sb);
	}
	return 0;
}

int ledger_rows_text(struct arena *a, const char *kind, const char *ref, json_t *obj, const struct ledger_rows *lr,
		     char **text, size_t *text_len)
{
	int rc = 0;
	json_object_set_new(obj, "kind", json_string(kind));
	if (lr->n) {
		/* Format 2: the rows, and the ref (so the audit can check the ref column too). */
		json_t *jrows = json_object();
		for (size_t i = 0; i < lr->n; i++)
			json_object_set_new_nocheck(jrows, lr->v[i].id, json_string_nocheck(lr->v[i].content));
		json_object_set_new(obj, "v", json_integer(2));
		json_object_set_new(obj, "rows", jrows);
		if (ref)
			json_object_set_new(obj, "ref", json_string(ref));
	}
	/* Strings and integers only: built here, or parsed from a leaf checked canonical. */
	*text = canonical_text(a, obj, text_len);
	if (!*text || *text_len > LEDGER_LEAF_MAX)
		rc = GH_EINVAL;
	json_decref(obj);
	return rc;
}

int ledger_append_rows(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt_in,
		       json_t *obj, const struct cover_entry *rows, size_t n, int64_t *index)
{
	char salt[LEDGER_SALT_HEX + 1];
	if (salt_in)
		snprintf(salt, sizeof(salt), "%s", salt_in);
	else
		ledger_salt_new(salt);
	struct ledger_rows lr;
	int rc = ledger_rows_prepare(db, a, salt, rows, n, &lr);
	char *text = NULL;
	size_t text_len = 0;
	if (rc)
		json_decref(obj);
	else
		rc = ledger_rows_text(a, kind, ref, obj, &lr, &text, &text_len);
	if (!rc)
		rc = ledger_append_text(db, a, kind, ref, (salt_in || lr.n) ? salt : NULL, text, text_len, &lr, index);
	return rc;
}

int ledger_append_ref(struct db *db, struct arena *a, const char *kind, const char *ref, const char *salt,
		      const char *canonical_json, int64_t *index)
{
	int rc = check_leaf(a, kind, canonical_json);
	if (rc)
		return rc;
	if ((salt && !ledger_salt_ok(salt)) || (ref && (strlen(ref) == 0 || strlen(ref) > 200)))
		return GH_EINVAL;
	/* The covered rows this transaction changed go into this leaf. */
	struct cover_entry *rows;
	size_t n;
	if ((rc = cover_take(db, a, &rows, &n, NULL)))
		return rc;
	if (n == 0)
		return ledger_append_text(db, a, kind, ref, salt, canonical_json, strlen(canonical_json), NULL, index);
	json_t *obj = json_loads(canonical_json, JSON_REJECT_DUPLICATES, NULL);
	if (!obj)
		return GH_EINVAL;
	return ledger_append_rows(db, a, kind, ref, salt, obj, rows, n, index);
}

int ledger_append(struct db *db, struct arena *a, const char *kind, const char *canonical_json, int64_t *index)
{
	return ledger_append_ref(db, a, kind, NULL, NULL, canonical_json, index);
}

int ledger_root_at(struct db *db, struct arena *a, uint64_t size, unsigned char root[H32])
{
	struct ledger_dbctx c = { db, a, 0 };
	return merkle_range_hash(ledger_db_get, &c, 0, size, root);
}

int ledger_leaf_read(struct db *db, struct arena *a, int64_t index, struct ledger_leaf *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_leaf_get, DB_ARGS(DB_INT(index)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	out->index = db_cell_int(&rows, 0, 0);
	out->kind = db_cell(&rows, 0, 1);
	out->ref = db_cell(&rows, 0, 2);
	out->salt = db_cell(&rows, 0, 3);
	out->leaf = ledger_leaf_cell(a, &rows, 0, 4);
	if (!out->leaf)
		return GH_EINTERNAL;
	ledger_leaf_hash(out->leaf, strlen(out->leaf), out->hash);
	out->created_at = db_cell_int(&rows, 0, 5);
	return 0;
}

int ledger_find_ref(struct db *db, struct arena *a, const char *ref, int64_t **idx, size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_leaf_ref, DB_ARGS(DB_TEXT(ref)), &rows);
	if (rc)
		return rc;
	*n = rows.nrows;
	*idx = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(int64_t));
	for (size_t i = 0; i < rows.nrows; i++)
		(*idx)[i] = db_cell_int(&rows, i, 0);
	return 0;
}

/* A proof (merkle_inclusion_proof or merkle_consistency_proof) over the stored nodes,
 * counting the reads. */
static int proof_at(int (*prove)(merkle_get_fn, void *, uint64_t, uint64_t, unsigned char (*)[H32], size_t *),
		    struct db *db, struct arena *a, uint64_t x, uint64_t y, unsigned char (*path)[H32], size_t *n,
		    unsigned *reads)
{
	struct ledger_dbctx c = { db, a, 0 };
	int rc = prove(ledger_db_get, &c, x, y, path, n);
	if (reads)
		*reads = c.reads;
	return rc;
}

int ledger_inclusion_at(struct db *db, struct arena *a, uint64_t index, uint64_t size, unsigned char (*path)[H32],
			size_t *n, unsigned *reads)
{
	return proof_at(merkle_inclusion_proof, db, a, index, size, path, n, reads);
}

int ledger_consistency_at(struct db *db, struct arena *a, uint64_t size1, uint64_t size2, unsigned char (*path)[H32],
			  size_t *n, unsigned *reads)
{
	return proof_at(merkle_consistency_proof, db, a, size1, size2, path, n, reads);
}

int ledger_leaf_text(struct db *db, struct arena *a, int64_t index, const char **text)
{
	struct ledger_leaf l;
	int rc = ledger_leaf_read(db, a, index, &l);
	if (!rc)
		*text = l.leaf;
	return rc;
}

bool ledger_leaf_says(struct arena *a, const char *text, const char *expected)
{
	if (!text || !expected)
		return false;
	if (!strcmp(text, expected))
		return true;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(v)) {
		json_decref(v);
		return false;
	}
	json_object_del(v, "v");
	json_object_del(v, "rows");
	json_object_del(v, "ref");
	const char *c = ledger_canonical(a, v);
	json_decref(v);
	return c && !strcmp(c, expected);
}
