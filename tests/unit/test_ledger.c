/* Unit tests for src/ledger: RFC 6962 / 9162 hashing and proofs against the transparency-dev
 * vectors (every happy path accepted, every wantErr case rejected, roots equal
 * tree-vectors.json), proofs built from perfect subtrees checked against the verifiers for
 * every index and size up to 70, and the stored log on SQLite and PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "ledger/ledger.h"
#include "ledger/ledger_ext.h"
#include "ledger/ledger_impl.h"
#include "ledger/log_impl.h"
#include "store/db.h"
#include "store/group.h"
#include "testdb.h"

/* ---- the vectors ---- */

static const char *vector_dir(void)
{
	const char *d = getenv("GOVHALL_MERKLE_TESTDATA");
	if (!d || !*d)
		d = "tests/data/merkle";
	DIR *dd = opendir(d);
	if (!dd)
		return NULL;
	closedir(dd);
	return d;
}

/* A decoded field: bytes of any length (NULL p when absent or not base64). */
struct field {
	unsigned char buf[512];
	struct merkle_bytes b;
};

static void b64_field(const json_t *v, struct field *f)
{
	size_t len = 0;
	const char *s = json_string_value(v);
	f->b.p = NULL;
	f->b.len = 0;
	if (!s || sodium_base642bin(f->buf, sizeof(f->buf), s, strlen(s), NULL, &len, NULL,
				    sodium_base64_VARIANT_ORIGINAL) != 0)
		return;
	f->b.p = f->buf;
	f->b.len = len;
}

/* Unsigned 64-bit members (some vectors hold 2^64 - 1, beyond jansson's json_int_t) are read
 * from the file's text: "key": digits. */
static int u64_member(const char *text, const char *key, uint64_t *out)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(text, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	char *end;
	*out = strtoull(p, &end, 10);
	return 0;
}

static size_t proof_fields(const json_t *c, struct field *path)
{
	json_t *p = json_object_get(c, "proof");
	size_t n = 0, i;
	json_t *e;
	json_array_foreach(p, i, e) {
		if (n == LEDGER_PROOF_MAX + 1)
			break;
		b64_field(e, &path[n++]);
	}
	return n;
}

/* 0 when the verifier accepts the case. */
static int check_inclusion_case(const json_t *c, const char *text)
{
	static struct field leaf, root, path[LEDGER_PROOF_MAX + 1];
	static struct merkle_bytes pb[LEDGER_PROOF_MAX + 1];
	uint64_t idx, size;
	if (u64_member(text, "leafIdx", &idx) || u64_member(text, "treeSize", &size))
		return -1;
	b64_field(json_object_get(c, "leafHash"), &leaf);
	b64_field(json_object_get(c, "root"), &root);
	size_t n = proof_fields(c, path);
	for (size_t i = 0; i < n; i++)
		pb[i] = path[i].b;
	return merkle_verify_inclusion_bytes(idx, size, &leaf.b, pb, n, &root.b);
}

static int check_consistency_case(const json_t *c, const char *text)
{
	static struct field r1, r2, path[LEDGER_PROOF_MAX + 1];
	static struct merkle_bytes pb[LEDGER_PROOF_MAX + 1];
	uint64_t s1, s2;
	if (u64_member(text, "size1", &s1) || u64_member(text, "size2", &s2))
		return -1;
	b64_field(json_object_get(c, "root1"), &r1);
	b64_field(json_object_get(c, "root2"), &r2);
	size_t n = proof_fields(c, path);
	for (size_t i = 0; i < n; i++)
		pb[i] = path[i].b;
	return merkle_verify_consistency_bytes(s1, s2, &r1.b, &r2.b, pb, n);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Checks every .json file under path (any depth); returns how many. */
static int walk_dir(const char *path, int (*check)(const json_t *, const char *), int *happy, int *bad)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char fp[2048];
		snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) {
			DIR *sub = opendir(fp);
			if (sub) {
				closedir(sub);
				files += walk_dir(fp, check, happy, bad);
			}
			continue;
		}
		json_error_t je;
		char *text = slurp(fp);
		assert_non_null(text);
		json_t *c = json_loads(text, JSON_DECODE_INT_AS_REAL, &je);
		if (!c)
			fail_msg("%s: %s", fp, je.text);
		bool want_err = json_is_true(json_object_get(c, "wantErr"));
		int rc = check(c, text);
		free(text);
		if (want_err && rc == 0)
			fail_msg("accepted a wantErr case: %s (%s)", fp, json_string_value(json_object_get(c, "desc")));
		if (!want_err && rc != 0)
			fail_msg("rejected a happy path: %s (%s)", fp, json_string_value(json_object_get(c, "desc")));
		if (want_err)
			(*bad)++;
		else
			(*happy)++;
		files++;
		json_decref(c);
	}
	closedir(d);
	return files;
}

static int walk(const char *root, const char *sub, int (*check)(const json_t *, const char *), int *happy,
		int *bad)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", root, sub);
	return walk_dir(path, check, happy, bad);
}

static void test_vectors_inclusion(void **state)
{
	(void)state;
	const char *dir = vector_dir();
	assert_non_null(dir);
	int happy = 0, bad = 0;
	int n = walk(dir, "inclusion", check_inclusion_case, &happy, &bad);
	assert_true(n > 0);
	assert_true(happy > 0 && bad > 0);
	printf("inclusion vectors: %d accepted, %d rejected\n", happy, bad);
}

static void test_vectors_consistency(void **state)
{
	(void)state;
	const char *dir = vector_dir();
	assert_non_null(dir);
	int happy = 0, bad = 0;
	int n = walk(dir, "consistency", check_consistency_case, &happy, &bad);
	assert_true(n > 0);
	assert_true(happy > 0 && bad > 0);
	printf("consistency vectors: %d accepted, %d rejected\n", happy, bad);
}

/* An in-memory tree: perfect subtrees computed from the leaf hashes. */
struct memtree {
	unsigned char (*leaves)[H32];
	uint64_t n;
	unsigned gets;
};

static int mem_get(void *ctx, unsigned level, uint64_t idx, unsigned char out[H32])
{
	struct memtree *t = ctx;
	uint64_t b = idx << level, e = (idx + 1) << level;
	if (e > t->n)
		return GH_EINTERNAL;
	t->gets++;
	merkle_root_of((const unsigned char(*)[H32])t->leaves + b, e - b, out);
	return 0;
}

static void test_tree_vectors(void **state)
{
	(void)state;
	const char *dir = vector_dir();
	assert_non_null(dir);
	char p[1024];
	snprintf(p, sizeof(p), "%s/tree-vectors.json", dir);
	json_error_t je;
	json_t *v = json_load_file(p, 0, &je);
	assert_non_null(v);
	json_t *inputs = json_object_get(v, "leaf_inputs_hex"), *roots = json_object_get(v, "root_by_size_hex");
	size_t nl = json_array_size(inputs);
	assert_int_equal(json_array_size(roots), nl + 1);
	unsigned char leaves[16][H32];
	struct merkle_frontier f = { 0 };
	for (size_t size = 0; size <= nl; size++) {
		unsigned char want[H32], got[H32], fr[H32];
		assert_int_equal(sodium_hex2bin(want, H32, json_string_value(json_array_get(roots, size)), 64, NULL,
						NULL, NULL),
				 0);
		merkle_root_of((const unsigned char(*)[H32])leaves, size, got);
		assert_memory_equal(got, want, H32);
		merkle_frontier_root(&f, fr);
		assert_memory_equal(fr, want, H32);
		struct memtree t = { .leaves = leaves, .n = size };
		unsigned char rh[H32];
		assert_int_equal(merkle_range_hash(mem_get, &t, 0, size, rh), 0);
		assert_memory_equal(rh, want, H32);
		if (size == nl)
			break;
		const char *hex = json_string_value(json_array_get(inputs, size));
		unsigned char data[64];
		size_t dl = 0;
		assert_int_equal(sodium_hex2bin(data, sizeof(data), hex, strlen(hex), NULL, &dl, NULL), 0);
		ledger_leaf_hash(data, dl, leaves[size]);
		assert_int_equal(merkle_frontier_push(&f, leaves[size], NULL, NULL), 0);
	}
	json_decref(v);
}

/* Every proof the generator builds is accepted; tampered ones are refused; reads are O(log n). */
static void test_generated_proofs(void **state)
{
	(void)state;
	enum { N = 70 };
	unsigned char leaves[N][H32];
	for (int i = 0; i < N; i++) {
		char buf[16];
		int l = snprintf(buf, sizeof(buf), "leaf %d", i);
		ledger_leaf_hash(buf, (size_t)l, leaves[i]);
	}
	unsigned char path[LEDGER_PROOF_MAX][H32];
	size_t n;
	for (uint64_t size = 1; size <= N; size++) {
		unsigned char root[H32];
		merkle_root_of((const unsigned char(*)[H32])leaves, size, root);
		struct memtree t = { .leaves = leaves, .n = size };
		for (uint64_t i = 0; i < size; i++) {
			t.gets = 0;
			assert_int_equal(merkle_inclusion_proof(mem_get, &t, i, size, path, &n), 0);
			assert_true(t.gets <= 2 * 7 + 2);
			assert_int_equal(ledger_verify_inclusion(i, size, leaves[i], (const unsigned char(*)[H32])path, n, root), 0);
			if (n) {
				path[0][3] ^= 1;
				assert_int_not_equal(
					ledger_verify_inclusion(i, size, leaves[i], (const unsigned char(*)[H32])path, n, root), 0);
				path[0][3] ^= 1;
			}
			assert_int_not_equal(ledger_verify_inclusion(i + 1, size, leaves[i], (const unsigned char(*)[H32])path, n, root), 0);
		}
		for (uint64_t s1 = 1; s1 <= size; s1++) {
			unsigned char r1[H32];
			merkle_root_of((const unsigned char(*)[H32])leaves, s1, r1);
			t.gets = 0;
			assert_int_equal(merkle_consistency_proof(mem_get, &t, s1, size, path, &n), 0);
			assert_true(t.gets <= 4 * 7 + 2);
			assert_int_equal(merkle_verify_consistency(s1, size, r1, root, (const unsigned char(*)[H32])path, n), 0);
			if (s1 < size) {
				path[n - 1][0] ^= 0x80;
				assert_int_not_equal(merkle_verify_consistency(s1, size, r1, root, (const unsigned char(*)[H32])path, n), 0);
				path[n - 1][0] ^= 0x80;
				assert_int_not_equal(merkle_verify_consistency(s1, size, root, r1, (const unsigned char(*)[H32])path, n), 0);
			}
		}
	}
}

/* ---- the stored log ---- */

static char *leaf_text(struct arena *a, int i)
{
	json_t *o = json_pack("{s:s,s:i,s:s}", "kind", "test", "n", i, "text", "记录 / record");
	char *s = ledger_canonical(a, o);
	json_decref(o);
	return s;
}

/* A migrated log database of kind (the test is skipped when there is none). */
static void open_log(struct testdb *t, enum db_kind kind)
{
	int o = testdb_open(t, kind, "test_ledger");
	if (o == 1)
		skip();
	assert_int_equal(o, 0);
	char err[256];
	assert_int_equal(db_migrate(t->db, err, sizeof(err)), 0);
}

static void stored_log(enum db_kind kind)
{
	struct testdb t;
	open_log(&t, kind);
	char err[256];
	struct arena *a = arena_new(1 << 16);
	enum { N = 100 };
	unsigned char hashes[N][H32];

	/* refused leaves: nothing written */
	assert_int_equal(db_begin(t.db), 0);
	assert_int_equal(ledger_append(t.db, a, "test", "{\"n\":1, \"kind\":\"test\"}", NULL), GH_EINVAL);
	assert_int_equal(ledger_append(t.db, a, "test", "{\"kind\":\"other\"}", NULL), GH_EINVAL);
	assert_int_equal(ledger_append(t.db, a, "test", "{\"kind\":\"test\",\"x\":1.5}", NULL), GH_EINVAL);
	assert_int_equal(ledger_append(t.db, a, "Bad kind", "{\"kind\":\"Bad kind\"}", NULL), GH_EINVAL);
	assert_int_equal(ledger_append(t.db, a, "test", "[1]", NULL), GH_EINVAL);
	assert_int_equal(ledger_append(t.db, a, "test", "{\"kind\":\"test\"", NULL), GH_EINVAL);
	assert_int_equal(db_commit(t.db), 0);

	for (int i = 0; i < N; i++) {
		char *leaf = leaf_text(a, i);
		ledger_leaf_hash(leaf, strlen(leaf), hashes[i]);
		int64_t idx = -1;
		assert_int_equal(db_begin(t.db), 0);
		assert_int_equal(ledger_append(t.db, a, "test", leaf, &idx), 0);
		assert_int_equal(db_commit(t.db), 0);
		assert_int_equal(idx, i);
	}
	/* a rolled-back append leaves no trace */
	assert_int_equal(db_begin(t.db), 0);
	assert_int_equal(ledger_append(t.db, a, "test", leaf_text(a, 999), NULL), 0);
	assert_int_equal(db_rollback(t.db), 0);

	struct merkle_frontier f;
	unsigned char root[H32], want[H32];
	assert_int_equal(ledger_head_read(t.db, a, false, &f, root), 0);
	assert_int_equal(f.size, N);
	merkle_root_of((const unsigned char(*)[H32])hashes, N, want);
	assert_memory_equal(root, want, H32);

	unsigned char path[LEDGER_PROOF_MAX][H32];
	size_t n;
	unsigned reads;
	for (uint64_t size = 1; size <= N; size += 7) {
		unsigned char r[H32];
		merkle_root_of((const unsigned char(*)[H32])hashes, size, r);
		unsigned char got[H32];
		assert_int_equal(ledger_root_at(t.db, a, size, got), 0);
		assert_memory_equal(got, r, H32);
		for (uint64_t i = 0; i < size; i += 3) {
			arena_reset(a);
			assert_int_equal(ledger_inclusion_at(t.db, a, i, size, path, &n, &reads), 0);
			assert_true(reads <= 2 * 7 + 2); /* O(log n): never more than 2 log2(size) + 2 */
			assert_int_equal(ledger_verify_inclusion(i, size, hashes[i], (const unsigned char(*)[H32])path, n, r), 0);
		}
		assert_int_equal(ledger_consistency_at(t.db, a, size, N, path, &n, &reads), 0);
		assert_true(reads <= 4 * 7 + 2);
		assert_int_equal(merkle_verify_consistency(size, N, r, want, (const unsigned char(*)[H32])path, n), 0);
	}
	struct ledger_leaf l;
	assert_int_equal(ledger_leaf_read(t.db, a, 5, &l), 0);
	assert_string_equal(l.kind, "test");
	assert_memory_equal(l.hash, hashes[5], H32);
	assert_int_equal(ledger_leaf_read(t.db, a, N, &l), GH_ENOTFOUND);

	/* checkpoints: signed, parsed, verified against the published keys; tampering refused */
	char dir[] = "/tmp/ledger-keys-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char kp[128];
	snprintf(kp, sizeof(kp), "%s/log.key", dir);
	assert_int_equal(ledger_keys_create(kp, err, sizeof(err)), 0);
	struct ledger_keys *keys;
	assert_int_equal(ledger_keys_load(kp, "hall.example/ledger", &keys, err, sizeof(err)), 0);
	ledger_use_keys(keys);
	int64_t cps;
	assert_int_equal(ledger_checkpoint_now(t.db, a, keys, &cps), 0);
	assert_int_equal(cps, N);
	int64_t size;
	const char *note;
	assert_int_equal(ledger_checkpoint_latest(t.db, a, &size, root, &note), 0);
	assert_int_equal(size, N);
	assert_memory_equal(root, want, H32);
	json_t *kd = json_pack("{s:o}", "log", ledger_keys_json(keys));
	const char *origin;
	unsigned char r2[H32];
	int64_t s2;
	assert_int_equal(ledger_checkpoint_verify(a, note, kd, &origin, &s2, r2, err, sizeof(err)), 0);
	assert_string_equal(origin, "hall.example/ledger");
	assert_int_equal(s2, N);
	assert_memory_equal(r2, want, H32);
	char *bad = arena_strdup(a, note);
	bad[strlen("hall.example/ledger\n")] = '9'; /* size 100 -> 900 */
	assert_int_not_equal(ledger_checkpoint_verify(a, bad, kd, NULL, NULL, r2, err, sizeof(err)), 0);
	/* receipts verify offline; an altered leaf does not */
	json_t *rcpt;
	assert_int_equal(ledger_receipt(t.db, a, 42, &rcpt), 0);
	int64_t ri, rs;
	assert_int_equal(ledger_receipt_check(a, rcpt, kd, err, sizeof(err), &ri, &rs), 0);
	assert_int_equal(ri, 42);
	json_object_set_new(rcpt, "leaf", json_string("{\"kind\":\"test\",\"n\":43}"));
	assert_int_not_equal(ledger_receipt_check(a, rcpt, kd, err, sizeof(err), &ri, &rs), 0);
	json_decref(rcpt);
	/* a rotated key signs the next checkpoint; both stay published */
	uint32_t nid;
	assert_int_equal(ledger_keys_rotate(kp, &nid, err, sizeof(err)), 0);
	assert_int_equal(nid, 2);
	struct ledger_keys *k2;
	assert_int_equal(ledger_keys_load(kp, "hall.example/ledger", &k2, err, sizeof(err)), 0);
	assert_int_equal(k2->n, 2);
	assert_memory_equal(k2->k[0].pk, keys->k[0].pk, 32);
	assert_int_equal(db_begin(t.db), 0);
	assert_int_equal(ledger_append(t.db, a, "test", leaf_text(a, 1000), NULL), 0);
	assert_int_equal(db_commit(t.db), 0);
	assert_int_equal(ledger_checkpoint_now(t.db, a, k2, &cps), 0);
	assert_int_equal(cps, N + 1);
	assert_int_equal(ledger_checkpoint_latest(t.db, a, &size, root, &note), 0);
	json_t *kd2 = json_pack("{s:o}", "log", ledger_keys_json(k2));
	assert_int_equal(ledger_checkpoint_verify(a, note, kd2, NULL, NULL, r2, err, sizeof(err)), 0);
	assert_int_not_equal(ledger_checkpoint_verify(a, note, kd, NULL, NULL, r2, err, sizeof(err)), 0);
	json_decref(kd);
	json_decref(kd2);
	ledger_use_keys(NULL);
	ledger_keys_free(keys);
	ledger_keys_free(k2);
	unlink(kp);
	rmdir(dir);
	arena_free(a);
	testdb_close(&t);
}

/* ---- tiles: the tree stored as tiles of 256 hashes (tiles.c) ---- */

/* The bulk writer hands over the stored form: it unpacks to the text of the leaf's hash (ctx:
 * the hashes of the leaves by index). */
static int tile_sink_leaf(void *ctx, int64_t idx, const char *kind, const char *ref, const char *salt,
			  const unsigned char *stored, size_t len, int64_t created_at)
{
	(void)kind, (void)ref, (void)salt, (void)created_at;
	const unsigned char(*hashes)[LEDGER_HASH_LEN] = ctx;
	struct arena *a = arena_new(1 << 12);
	const char *text;
	size_t tl;
	unsigned char h[LEDGER_HASH_LEN];
	assert_int_equal(ledger_leaf_unpack(a, stored, len, &text, &tl), 0);
	ledger_leaf_hash(text, tl, h);
	assert_memory_equal(h, hashes[idx], LEDGER_HASH_LEN);
	arena_free(a);
	return 0;
}

static int tile_sink_ref(void *ctx, int64_t idx, const char *table, const char *key)
{
	(void)ctx, (void)idx, (void)table, (void)key;
	return 0;
}

/* The stored tiles as text "level/idx:hex of hashes;..." in key order, in a. */
static char *tiles_dump(struct db *db, struct arena *a)
{
	DB_SQL(q_tiles, "SELECT level, idx, hashes FROM ledger_tiles ORDER BY level, idx");
	struct db_rows rows;
	assert_int_equal(db_query(db, a, &q_tiles, DB_NOARGS, &rows), 0);
	size_t cap = 64;
	for (size_t i = 0; i < rows.nrows; i++)
		cap += 48 + 2 * rows.lens[i * 3 + 2];
	char *out = arena_alloc(a, cap), *p = out;
	for (size_t i = 0; i < rows.nrows; i++) {
		p += snprintf(p, cap - (size_t)(p - out), "%s/%s:", db_cell(&rows, i, 0), db_cell(&rows, i, 1));
		sodium_bin2hex(p, cap - (size_t)(p - out), (const unsigned char *)rows.cells[i * 3 + 2], rows.lens[i * 3 + 2]);
		p += strlen(p);
		*p++ = ';';
	}
	*p = 0;
	return out;
}

/* A log of 2,000 leaves spans two tile levels: its tiles hold the leaf hashes (level 0) and the
 * subtrees of 256 leaves (level 1), the rightmost partial; every proof verifies and reads at
 * most a handful of tiles; the bulk writer, flushing at other moments, leaves the same tiles
 * and head as appends one by one. */
static void tiled_log(enum db_kind kind)
{
	struct testdb t, u;
	int o = testdb_open(&t, kind, "test_ledger_tiles");
	if (o == 1)
		skip();
	assert_int_equal(o, 0);
	assert_int_equal(testdb_open(&u, kind, "test_ledger_tiles_bulk"), 0);
	char err[256];
	assert_int_equal(db_migrate(t.db, err, sizeof(err)), 0);
	assert_int_equal(db_migrate(u.db, err, sizeof(err)), 0);
	struct arena *a = arena_new(1 << 16);
	enum { N = 2000 };
	unsigned char(*hashes)[H32] = calloc(N, H32);
	struct ledger_bulk_sink sink = { hashes, tile_sink_leaf, tile_sink_ref };
	struct ledger_bulk *b;
	assert_int_equal(ledger_bulk_open(u.db, &sink, &b), 0);
	assert_int_equal(db_begin(t.db), 0);
	assert_int_equal(db_begin(u.db), 0);
	for (int i = 0; i < N; i++) {
		arena_reset(a);
		char *leaf = leaf_text(a, i);
		ledger_leaf_hash(leaf, strlen(leaf), hashes[i]);
		assert_int_equal(ledger_append(t.db, a, "test", leaf, NULL), 0);
		assert_int_equal(ledger_bulk_emit(b, a, "test", NULL, NULL, leaf, strlen(leaf), NULL, 1), 0);
		if (i % 300 == 299) { /* commits in the middle of tiles */
			assert_int_equal(db_commit(t.db), 0);
			assert_int_equal(db_begin(t.db), 0);
		}
		if (i % 700 == 699) {
			assert_int_equal(ledger_bulk_head(b, u.db), 0);
			assert_int_equal(db_commit(u.db), 0);
			assert_int_equal(db_begin(u.db), 0);
		}
	}
	assert_int_equal(db_commit(t.db), 0);
	assert_int_equal(ledger_bulk_head(b, u.db), 0);
	assert_int_equal(db_commit(u.db), 0);
	ledger_bulk_free(b);
	/* a bulk writer that starts again continues the stored partial tiles */
	assert_int_equal(ledger_bulk_open(u.db, &sink, &b), 0);
	assert_int_equal(ledger_bulk_size(b), N);
	ledger_bulk_free(b);

	arena_reset(a);
	char *dt = tiles_dump(t.db, a), *du = tiles_dump(u.db, a);
	assert_string_equal(dt, du);
	/* 7 full tiles and one of 208 leaf hashes; one tile of 7 subtrees of 256 leaves */
	DB_SQL(q_shape, "SELECT level, idx, length(hashes) FROM ledger_tiles ORDER BY level, idx");
	struct db_rows rows;
	assert_int_equal(db_query(t.db, a, &q_shape, DB_NOARGS, &rows), 0);
	assert_int_equal(rows.nrows, 9);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(db_cell_int(&rows, i, 2), 256 * H32);
	assert_int_equal(db_cell_int(&rows, 7, 2), (N - 7 * 256) * H32);
	assert_int_equal(db_cell_int(&rows, 8, 0), 1);
	assert_int_equal(db_cell_int(&rows, 8, 2), (N / 256) * H32);

	struct merkle_frontier f, g;
	unsigned char root[H32], root2[H32], want[H32];
	assert_int_equal(ledger_head_read(t.db, a, false, &f, root), 0);
	assert_int_equal(ledger_head_read(u.db, a, false, &g, root2), 0);
	merkle_root_of((const unsigned char(*)[H32])hashes, N, want);
	assert_memory_equal(root, want, H32);
	assert_memory_equal(root2, want, H32);
	assert_int_equal(g.size, N);

	static const uint64_t sizes[] = { 1, 2, 255, 256, 257, 511, 512, 513, 1024, 1500, 1999, N };
	unsigned char path[LEDGER_PROOF_MAX][H32];
	size_t n;
	unsigned reads;
	for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
		uint64_t size = sizes[s];
		unsigned char r[H32], got[H32];
		merkle_root_of((const unsigned char(*)[H32])hashes, size, r);
		arena_reset(a);
		assert_int_equal(ledger_root_at(t.db, a, size, got), 0);
		assert_memory_equal(got, r, H32);
		for (uint64_t i = 0; i < size; i += size / 9 + 1) {
			arena_reset(a);
			assert_int_equal(ledger_inclusion_at(t.db, a, i, size, path, &n, &reads), 0);
			/* the leaf's tile, the subtrees' tile above, and the partial ones at the right edge */
			assert_true(reads <= 4);
			assert_int_equal(ledger_verify_inclusion(i, size, hashes[i], (const unsigned char(*)[H32])path, n, r), 0);
		}
		arena_reset(a);
		assert_int_equal(ledger_consistency_at(t.db, a, size, N, path, &n, &reads), 0);
		assert_true(reads <= 6);
		assert_int_equal(merkle_verify_consistency(size, N, r, want, (const unsigned char(*)[H32])path, n), 0);
	}
	free(hashes);
	arena_free(a);
	testdb_close(&u);
	testdb_close(&t);
}

static void test_tiles_sqlite(void **state)
{
	(void)state;
	tiled_log(DB_SQLITE);
}

static void test_tiles_postgres(void **state)
{
	(void)state;
	tiled_log(DB_POSTGRES);
}

/* Appends from several connections at once (as from several nodes): every append waits for the
 * head lock instead of colliding, gets its own index, no index twice, and the head's root is the root of all leaves in index order. */
struct writer {
	const char *url;
	int id, n, failures, retries;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct db *db;
	char err[256];
	if (db_open(w->url, &db, err, sizeof(err))) {
		w->failures = w->n;
		return NULL;
	}
	struct arena *a = arena_new(1 << 14);
	for (int i = 0; i < w->n; i++) {
		arena_reset(a);
		json_t *o = json_pack("{s:s,s:i,s:i}", "kind", "test", "writer", w->id, "n", i);
		char *leaf = ledger_canonical(a, o);
		json_decref(o);
		for (int attempt = 0;; attempt++) {
			int rc = db_begin(db);
			if (!rc)
				rc = ledger_append(db, a, "test", leaf, NULL);
			if (!rc)
				rc = db_commit(db);
			if (!rc)
				break;
			db_rollback(db);
			w->retries++;
			if (attempt == 20) {
				w->failures++;
				break;
			}
		}
	}
	arena_free(a);
	db_close(db);
	return NULL;
}

static void concurrent(enum db_kind kind)
{
	struct testdb t;
	open_log(&t, kind);
	enum { W = 4, N = 40 };
	struct writer w[W];
	pthread_t th[W];
	for (int i = 0; i < W; i++) {
		w[i] = (struct writer){ .url = t.url, .id = i, .n = N };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < W; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
		/* the head lock makes writers wait for each other: no append ever collides */
		assert_int_equal(w[i].retries, 0);
	}
	struct arena *a = arena_new(1 << 16);
	struct merkle_frontier f;
	unsigned char root[H32], want[H32];
	assert_int_equal(ledger_head_read(t.db, a, false, &f, root), 0);
	assert_int_equal(f.size, W * N);
	unsigned char(*h)[H32] = calloc(W * N, H32);
	int seen[W][N];
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < W * N; i++) {
		struct ledger_leaf l;
		arena_reset(a);
		assert_int_equal(ledger_leaf_read(t.db, a, i, &l), 0);
		memcpy(h[i], l.hash, H32);
		json_t *j = json_loads(l.leaf, 0, NULL);
		seen[json_integer_value(json_object_get(j, "writer"))][json_integer_value(json_object_get(j, "n"))]++;
		json_decref(j);
	}
	for (int i = 0; i < W; i++)
		for (int k = 0; k < N; k++)
			assert_int_equal(seen[i][k], 1);
	merkle_root_of((const unsigned char(*)[H32])h, W * N, want);
	assert_memory_equal(root, want, H32);
	unsigned char path[LEDGER_PROOF_MAX][H32];
	size_t n;
	assert_int_equal(ledger_inclusion_at(t.db, a, 77, W * N, path, &n, NULL), 0);
	assert_int_equal(ledger_verify_inclusion(77, W * N, h[77], (const unsigned char(*)[H32])path, n, want), 0);
	free(h);
	arena_free(a);
	testdb_close(&t);
}

/* ---- appends in batches: the head held in memory for the transaction ---- */

/* The log's head against its leaves: size leaves with indexes 0..size-1, the head's frontier
 * and stored root those of their hashes in index order. Returns the leaves' texts (in a). */
static char **check_head(struct db *db, struct arena *a, uint64_t size)
{
	struct merkle_frontier f;
	unsigned char root[H32], want[H32];
	assert_int_equal(ledger_head_read(db, a, false, &f, root), 0);
	assert_int_equal(f.size, size);
	unsigned char(*h)[H32] = calloc(size ? size : 1, H32);
	char **texts = arena_array(a, size ? size : 1, sizeof(char *));
	for (uint64_t i = 0; i < size; i++) {
		struct ledger_leaf l;
		assert_int_equal(ledger_leaf_read(db, a, (int64_t)i, &l), 0);
		memcpy(h[i], l.hash, H32);
		texts[i] = (char *)l.leaf;
	}
	struct ledger_leaf none;
	assert_int_equal(ledger_leaf_read(db, a, (int64_t)size, &none), GH_ENOTFOUND);
	merkle_root_of((const unsigned char(*)[H32])h, size, want);
	assert_memory_equal(root, want, H32);
	struct merkle_frontier g = { 0 };
	for (uint64_t i = 0; i < size; i++)
		assert_int_equal(merkle_frontier_push(&g, h[i], NULL, NULL), 0);
	assert_int_equal(g.n, f.n);
	assert_memory_equal(g.h, f.h, f.n * H32);
	/* every perfect subtree of the leaves readable with its root, and the tiles hold exactly
	 * the hashes of the tile levels (the appends hold them until the COMMIT: none may be lost,
	 * written twice or left from an append that was undone) */
	struct ledger_dbctx c = { db, a, 0 };
	for (unsigned level = 0; level < 64 && (size >> level); level++) {
		for (uint64_t i = 0; i < (size >> level); i++) {
			unsigned char got[H32];
			merkle_root_of((const unsigned char(*)[H32])h + (i << level), (uint64_t)1 << level, want);
			assert_int_equal(ledger_db_get(&c, level, i, got), 0);
			assert_memory_equal(got, want, H32);
		}
	}
	DB_SQL(q_tiles, "SELECT level, sum(length(hashes)) FROM ledger_tiles GROUP BY level ORDER BY level");
	struct db_rows rows;
	assert_int_equal(db_query(db, a, &q_tiles, DB_NOARGS, &rows), 0);
	size_t levels = 0;
	for (unsigned tl = 0; tl * LEDGER_TILE_H < 64 && (size >> (tl * LEDGER_TILE_H)); tl++)
		levels++;
	assert_int_equal(rows.nrows, levels);
	for (size_t i = 0; i < rows.nrows; i++) {
		assert_int_equal(db_cell_int(&rows, i, 0), (int64_t)i);
		assert_int_equal(db_cell_int(&rows, i, 1), (int64_t)(size >> (i * LEDGER_TILE_H)) * H32);
	}
	free(h);
	return texts;
}

/* An item of the group writer that appends a leaf: fail 1 fails after it (its leaf must go),
 * fail 2 first appends one in a nested transaction it rolls back (that leaf alone goes), fail 3
 * appends two and reads the head between them (a reader sees the appends held in memory). */
struct litem {
	int id, fail;
	atomic_int rc, done;
};

static atomic_int ldone;

static int litem_fn(struct db *db, void *p)
{
	struct litem *it = p;
	struct arena *a = arena_new(1 << 14);
	int rc = 0;
	if (it->fail == 2) {
		if (!(rc = db_begin(db))) {
			rc = ledger_append(db, a, "test", leaf_text(a, 100000 + it->id), NULL);
			db_rollback(db);
		}
	}
	int64_t idx = -1;
	if (!rc)
		rc = ledger_append(db, a, "test", leaf_text(a, it->id), &idx);
	if (!rc && it->fail == 3) {
		struct merkle_frontier f;
		if (!(rc = ledger_head_read(db, a, true, &f, NULL)))
			rc = f.size == (uint64_t)idx + 1 ? 0 : GH_EINTERNAL;
		if (!rc)
			rc = ledger_append(db, a, "test", leaf_text(a, 200000 + it->id), NULL);
	}
	if (!rc && it->fail == 1)
		rc = GH_EINVAL;
	arena_free(a);
	return rc;
}

static void litem_done(void *p, int rc)
{
	struct litem *it = p;
	atomic_store(&it->rc, rc);
	atomic_fetch_add(&it->done, 1);
	atomic_fetch_add(&ldone, 1);
}

static void batched(enum db_kind kind)
{
	struct testdb t;
	open_log(&t, kind);
	char err[256];
	struct arena *a = arena_new(1 << 16);

	/* One transaction on a plain connection: several appends, the head read between them, then
	 * rolled back (nothing of it stays) or committed (all of it). */
	for (int commit = 0; commit < 2; commit++) {
		assert_int_equal(db_begin(t.db), 0);
		for (int i = 0; i < 5; i++) {
			int64_t idx;
			assert_int_equal(ledger_append(t.db, a, "test", leaf_text(a, 900 + 10 * commit + i), &idx), 0);
			assert_int_equal(idx, i);
			if (i == 2) {
				struct merkle_frontier f;
				assert_int_equal(ledger_head_read(t.db, a, true, &f, NULL), 0);
				assert_int_equal(f.size, 3);
			}
		}
		assert_int_equal(commit ? db_commit(t.db) : db_rollback(t.db), 0);
		check_head(t.db, a, commit ? 5 : 0);
	}

	/* Through the group writer, in batches with failures and nested rollbacks among them. */
	enum { N = 300 };
	struct litem *items = calloc(N, sizeof(*items));
	struct group *g = group_new(t.url, 1024, 64, err, sizeof(err));
	assert_non_null(g);
	atomic_store(&ldone, 0);
	int want = 5;
	for (int i = 0; i < N; i++) {
		items[i].id = i;
		items[i].fail = i % 37 == 5 ? 1 : i % 23 == 7 ? 2 : i % 19 == 3 ? 3 : 0;
		want += items[i].fail == 1 ? 0 : items[i].fail == 3 ? 2 : 1;
		assert_int_equal(group_submit(g, litem_fn, litem_done, &items[i]), 0);
	}
	group_drain(g);
	struct group_stats st;
	group_stats_get(g, &st);
	group_free(g);
	assert_int_equal(atomic_load(&ldone), N);
	assert_true(st.largest_batch > 1);
	for (int i = 0; i < N; i++)
		assert_int_equal(atomic_load(&items[i].rc), items[i].fail == 1 ? GH_EINVAL : 0);
	char **texts = check_head(t.db, a, (uint64_t)want);
	/* every item's leaf once, and none of the failed or rolled back */
	int *seen = calloc(3 * N, sizeof(int)), plain = 0;
	for (int i = 0; i < want; i++) {
		json_t *j = json_loads(texts[i], 0, NULL);
		json_int_t n = json_integer_value(json_object_get(j, "n"));
		json_decref(j);
		if (n >= 910 && n < 915)
			plain++; /* the committed transaction's */
		else if (n >= 200000 && n < 200000 + N)
			seen[2 * N + (n - 200000)]++;
		else if (n >= 0 && n < N)
			seen[n]++;
		else
			fail_msg("leaf %lld should not be in the log", (long long)n);
	}
	assert_int_equal(plain, 5);
	for (int i = 0; i < N; i++) {
		assert_int_equal(seen[i], items[i].fail == 1 ? 0 : 1);
		assert_int_equal(seen[2 * N + i], items[i].fail == 3 ? 1 : 0);
	}
	free(seen);
	free(items);
	arena_free(a);
	testdb_close(&t);
}

static void test_batched_sqlite(void **state)
{
	(void)state;
	batched(DB_SQLITE);
}

static void test_batched_postgres(void **state)
{
	(void)state;
	batched(DB_POSTGRES);
}

/* A step's two rows (the application's and the event's) under salt, in the leaf's order. */
static void step_rows(const char *salt, struct ledger_row rv[2])
{
	rv[0] = (struct ledger_row){ .table = "applications", .key = "7" };
	rv[1] = (struct ledger_row){ .table = "application_events", .key = "42" };
	unsigned char digest[32];
	memset(digest, 9, sizeof(digest));
	for (int i = 0; i < 2; i++)
		ledger_row_hashes(salt, rv[i].table, rv[i].key, true, digest, rv[i].id, rv[i].content);
	if (strcmp(rv[0].id, rv[1].id) > 0) {
		struct ledger_row t = rv[0];
		rv[0] = rv[1];
		rv[1] = t;
	}
}

/* The decision leaf written without jansson on the hot path is the canonical text jansson
 * gives for the same leaf (with and without an enterprise, with and without rows); a value that
 * is not plain ASCII leaves the fast path. */
static void test_decision_text(void **state)
{
	(void)state;
	struct arena *a = arena_new(1 << 16);
	const char *salt = "00112233445566778899aabbccddeeff";
	struct ledger_row rv[2];
	step_rows(salt, rv);
	for (int variant = 0; variant < 4; variant++) {
		struct ledger_decision d = { .event_id = 42, .at = 1790000000, .applicant_id = 3,
					     .enterprise_id = variant & 1 ? 9 : 0, .actor_id = 5, .number = "QH20261201000007",
					     .item_code = "psb-0001", .department = "psb", .action = "approve",
					     .from_state = "under_review", .to_state = "approved", .reason = "符合条件",
					     .detail = "{\"legal_basis\":\"第八条\"}" };
		struct ledger_rows lr = { .v = rv, .n = variant & 2 ? 2 : 0 };
		size_t len;
		char *fast = ledger_decision_text(a, salt, &d, "decision:42", &lr, &len);
		assert_non_null(fast);
		assert_int_equal(len, strlen(fast));
		json_t *o = json_loads(ledger_decision_leaf(a, salt, &d), 0, NULL);
		assert_non_null(o);
		if (lr.n) {
			json_t *rows = json_object();
			for (size_t i = 0; i < lr.n; i++)
				json_object_set_new(rows, rv[i].id, json_string(rv[i].content));
			json_object_set_new(o, "rows", rows);
			json_object_set_new(o, "v", json_integer(2));
			json_object_set_new(o, "ref", json_string("decision:42"));
		}
		assert_string_equal(fast, ledger_canonical(a, o));
		json_decref(o);
		d.item_code = "psb-\"0001";
		assert_null(ledger_decision_text(a, salt, &d, "decision:42", &lr, &len));
	}
	arena_free(a);
}

/* The stored form of a leaf (src/ledger/pack.c). A step's leaf with its rows packs to less than
 * half its text and unpacks to exactly the text (so the leaf hash is the text's); every kind of
 * text round-trips, a text packing would not give back is stored as version 0; malformed stored
 * bytes are refused, never read past. */
static void unpacks_to(struct arena *a, const char *text)
{
	const unsigned char *st;
	size_t sl, bl;
	const char *back;
	assert_int_equal(ledger_leaf_pack(a, text, strlen(text), &st, &sl), 0);
	assert_true(sl <= strlen(text) + 1);
	assert_int_equal(ledger_leaf_unpack(a, st, sl, &back, &bl), 0);
	assert_int_equal(bl, strlen(text));
	assert_string_equal(back, text);
}

static int unpack_rc(struct arena *a, const char *bytes, size_t n)
{
	const char *t;
	size_t l;
	return ledger_leaf_unpack(a, (const unsigned char *)bytes, n, &t, &l);
}

static void test_leaf_pack(void **state)
{
	(void)state;
	struct arena *a = arena_new(1 << 16);
	const char *salt = "00112233445566778899aabbccddeeff";
	struct ledger_row rv[2];
	step_rows(salt, rv);
	struct ledger_decision d = { .event_id = 4242, .at = 1790000000, .applicant_id = 3, .enterprise_id = 9,
				     .actor_id = 5, .number = "QH20261201000007", .item_code = "psb-0001",
				     .department = "psb", .action = "approve", .from_state = "under_review",
				     .to_state = "approved", .reason = "符合条件", .detail = "{}" };
	struct ledger_rows lr = { .v = rv, .n = 2 };
	size_t len, sl, bl;
	char *text = ledger_decision_text(a, salt, &d, "decision:4242", &lr, &len);
	assert_non_null(text);
	const unsigned char *st;
	const char *back;
	assert_int_equal(ledger_leaf_pack(a, text, len, &st, &sl), 0);
	assert_int_equal(st[0], 1);
	assert_true(sl * 2 < len);
	assert_int_equal(ledger_leaf_unpack(a, st, sl, &back, &bl), 0);
	assert_int_equal(bl, len);
	assert_string_equal(back, text);
	unsigned char h1[32], h2[32];
	ledger_leaf_hash(text, len, h1);
	ledger_leaf_hash(back, bl, h2);
	assert_memory_equal(h1, h2, 32);

	/* every token, and near misses of each (kept as literal text) */
	const char *texts[] = {
		"{\"kind\":\"change\",\"n\":0,\"m\":7,\"k\":99,\"l\":100,\"x\":18446744073709551615,\"y\":-123456}",
		"{\"at\":99999999999999999999999,\"b\":00123,\"c\":\"007\",\"d\":1e10}",
		"{\"h\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
		"{\"h\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}",
		"{\"h\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\"}",
		"{\"r\":{\"AAAAAAAAAAAAAAAAAAAAAA\":\"_-_-_-_-_-_-_-_-_-_-_w\"}}",
		"{\"r\":\"AAAAAAAAAAAAAAAAAAAAAB\",\"s\":\"AAAAAAAAAAAAAAAAAAAAA\",\"t\":\"AAAAAAAAAAAAAAAAAAAAA=A\"}",
		"{\"kind\":\"certificate\",\"ref\":\"certificate:CN-1\",\"v\":2,\"rows\":{},\"name\":\"张三\\n\\\"\"}",
		"{\"\":\"\",\"v\":2}",
		"\"",
		"x",
		"{\"kind\":\"evaluation_appeal\",\"status\":\"withdrawn\",\"to\":\"awaiting_payment\"}",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		unpacks_to(a, texts[i]);
	/* a control character is not canonical JSON: version 0, the text as it is */
	assert_int_equal(ledger_leaf_pack(a, "{\"a\":\"\t\"}", 9, &st, &sl), 0);
	assert_int_equal(st[0], 0);
	assert_int_equal(sl, 10);
	unpacks_to(a, "{\"a\":\"\t\"}");

	/* what is refused */
	assert_int_equal(unpack_rc(a, "", 0), GH_EINVAL);
	assert_int_equal(unpack_rc(a, "\x02{}", 3), GH_EINVAL);             /* unknown version */
	assert_int_equal(unpack_rc(a, "\x00{\x00}", 4), GH_EINVAL);         /* a NUL in the text */
	assert_int_equal(unpack_rc(a, "\x01{\x01\xab\xcd", 5), GH_EINVAL);  /* a hash cut short */
	assert_int_equal(unpack_rc(a, "\x01\x02\x01\x02\x03", 5), GH_EINVAL); /* a row hash cut short */
	assert_int_equal(unpack_rc(a, "\x01\x03\x80", 3), GH_EINVAL);       /* a number cut short */
	assert_int_equal(unpack_rc(a, "\x01\x03\x85\x00", 4), GH_EINVAL);   /* a needless continuation */
	assert_int_equal(unpack_rc(a, "\x01\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 12), GH_EINVAL); /* > 64 bits */
	assert_int_equal(unpack_rc(a, "\x01\x04\xff", 3), GH_EINVAL);       /* no such word */
	assert_int_equal(unpack_rc(a, "\x01\x04", 2), GH_EINVAL);           /* a word cut short */
	assert_int_equal(unpack_rc(a, "\x01{\x00}", 4), GH_EINVAL);         /* no op 0 */
	assert_int_equal(unpack_rc(a, "\x01\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12), 0); /* 2^64 - 1 */
	/* a stored form whose text would pass the limit */
	size_t big = LEDGER_LEAF_MAX / 66 + 2;
	unsigned char *many = arena_alloc(a, 1 + big * 33);
	many[0] = 1;
	for (size_t i = 0; i < big; i++) {
		many[1 + i * 33] = 1;
		memset(many + 2 + i * 33, 0xab, 32);
	}
	assert_int_equal(ledger_leaf_unpack(a, many, 1 + big * 33, &back, &bl), GH_EINVAL);
	assert_int_equal(ledger_leaf_unpack(a, many, 1 + (big - 2) * 33, &back, &bl), 0);
	assert_int_equal(bl, (big - 2) * 66);
	arena_free(a);
}

static void test_concurrent_sqlite(void **state)
{
	(void)state;
	concurrent(DB_SQLITE);
}

static void test_concurrent_postgres(void **state)
{
	(void)state;
	concurrent(DB_POSTGRES);
}

static void test_stored_sqlite(void **state)
{
	(void)state;
	stored_log(DB_SQLITE);
}

static void test_stored_postgres(void **state)
{
	(void)state;
	stored_log(DB_POSTGRES);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_inclusion),
		cmocka_unit_test(test_vectors_consistency),
		cmocka_unit_test(test_tree_vectors),
		cmocka_unit_test(test_generated_proofs),
		cmocka_unit_test(test_decision_text),
		cmocka_unit_test(test_leaf_pack),
		cmocka_unit_test(test_stored_sqlite),
		cmocka_unit_test(test_stored_postgres),
		cmocka_unit_test(test_tiles_sqlite),
		cmocka_unit_test(test_tiles_postgres),
		cmocka_unit_test(test_concurrent_sqlite),
		cmocka_unit_test(test_concurrent_postgres),
		cmocka_unit_test(test_batched_sqlite),
		cmocka_unit_test(test_batched_postgres),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
