/* audit.c: `govhall audit` — recomputes every leaf from the stored rows and the whole tree,
 * and reports every leaf whose text no longer hashes to its stored hash, every source row
 * whose content no longer matches its leaf (or that is gone), every missing leaf, every
 * stored node that differs from the recomputed tree, every row expected in the log with no
 * leaf, and every tree head (the log head, each stored checkpoint) that is not consistent
 * with the recomputed tree or whose signature does not verify. Reads the log in pages. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "ledger/ledger_ext.h"
#include "store/db.h"

#define PAGE 1000

DB_SQL(q_page, "SELECT idx, kind, ref, salt, leaf, hash FROM ledger_leaves WHERE idx >= ? ORDER BY idx LIMIT 1000");
DB_SQL(q_node, "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?");
DB_SQL(q_cps, "SELECT size, root, note FROM ledger_checkpoints ORDER BY size");

struct audit {
	struct db *db;
	struct arena *a;
	FILE *out;
	size_t problems;
};

static void report(struct audit *au, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct audit *au, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(au->out, fmt, ap);
	va_end(ap);
	fputc('\n', au->out);
	au->problems++;
}

static int check_node(void *ctx, unsigned level, uint64_t idx, const unsigned char h[H32])
{
	struct audit *au = ctx;
	struct db_rows rows;
	int rc = db_query(au->db, au->a, &q_node, DB_ARGS(DB_INT(level), DB_INT((int64_t)idx)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		report(au, "node %u/%llu: missing from ledger_nodes (proofs through it fail)", level,
		       (unsigned long long)idx);
	else if (rows.lens[0] != H32 || memcmp(rows.cells[0], h, H32) != 0)
		report(au, "node %u/%llu: the stored hash differs from the recomputed tree (proofs through it are wrong)",
		       level, (unsigned long long)idx);
	return 0;
}

struct expect_ctx {
	struct audit *au;
	const char *kind;
};

static void emit_missing(void *ctx, const char *ref)
{
	struct expect_ctx *e = ctx;
	report(e->au, "%s: no leaf in the log for this row (missing leaf)", ref);
}

struct cp {
	int64_t size;
	unsigned char root[H32];
	const char *note;
};

int ledger_audit(struct db *db, const struct ledger_keys *keys, FILE *out, size_t *leaves_out, size_t *problems_out)
{
	struct arena *keep = arena_new(1 << 16), *a = arena_new(1 << 20);
	struct audit au = { db, a, out, 0 };
	struct merkle_frontier *f = arena_zalloc(keep, sizeof(*f));
	struct merkle_frontier *head = arena_zalloc(keep, sizeof(*head));
	unsigned char head_root[H32], root[H32];
	int rc;
	if ((rc = ledger_head_read(db, keep, false, head, head_root)))
		goto out;
	/* the stored checkpoints, oldest first */
	struct db_rows cr;
	if ((rc = db_query(db, keep, &q_cps, DB_NOARGS, &cr)))
		goto out;
	struct cp *cps = arena_array(keep, cr.nrows + 1, sizeof(struct cp));
	json_t *kd = NULL;
	if (keys)
		kd = json_pack("{s:o}", "log", ledger_keys_json(keys));
	for (size_t i = 0; i < cr.nrows; i++) {
		cps[i].size = db_cell_int(&cr, i, 0);
		if (cr.lens[i * cr.ncols + 1] == H32)
			memcpy(cps[i].root, cr.cells[i * cr.ncols + 1], H32);
		cps[i].note = db_cell(&cr, i, 2);
		char err[256];
		int64_t nsize;
		unsigned char nroot[H32];
		if (kd && ledger_checkpoint_verify(keep, cps[i].note, kd, NULL, &nsize, nroot, err, sizeof(err)))
			report(&au, "checkpoint %lld: %s", (long long)cps[i].size, err);
		else if (kd && (nsize != cps[i].size || memcmp(nroot, cps[i].root, H32) != 0))
			report(&au, "checkpoint %lld: the signed note does not say the stored size and root", (long long)cps[i].size);
	}
	json_decref(kd);
	size_t next_cp = 0;
	while (next_cp < cr.nrows && cps[next_cp].size == 0)
		next_cp++;
	bool broken = false; /* a missing leaf: the recomputed tree cannot be compared any further */
	int64_t next = 0;
	size_t leaves = 0;
	for (;;) {
		arena_reset(a);
		struct db_rows rows;
		if ((rc = db_query(db, a, &q_page, DB_ARGS(DB_INT(next)), &rows)))
			goto out;
		if (rows.nrows == 0)
			break;
		for (size_t i = 0; i < rows.nrows; i++) {
			int64_t idx = db_cell_int(&rows, i, 0);
			const char *kind = db_cell(&rows, i, 1), *ref = db_cell(&rows, i, 2), *salt = db_cell(&rows, i, 3);
			const char *leaf = db_cell(&rows, i, 4);
			leaves++;
			if (idx != next) {
				report(&au, "leaves %lld..%lld: missing from ledger_leaves", (long long)next, (long long)idx - 1);
				broken = true;
			}
			next = idx + 1;
			unsigned char h[H32];
			ledger_leaf_hash(leaf, strlen(leaf), h);
			if (rows.lens[i * rows.ncols + 5] != H32 || memcmp(rows.cells[i * rows.ncols + 5], h, H32) != 0)
				report(&au, "leaf %lld (%s): its text no longer hashes to its stored hash", (long long)idx,
				       ref ? ref : kind);
			ledger_recompute_fn fn = ledger_source_of(kind);
			if (fn && ref) {
				char *json = NULL;
				int src = fn(db, a, ref, salt ? salt : "", &json);
				if (src == GH_ENOTFOUND)
					report(&au, "leaf %lld (%s): the source row is gone", (long long)idx, ref);
				else if (src)
					report(&au, "leaf %lld (%s): the source row could not be read (%s)", (long long)idx, ref,
					       err_name(src));
				else if (strcmp(json, leaf) != 0)
					report(&au, "leaf %lld (%s): the source row no longer matches its leaf", (long long)idx, ref);
			}
			if (broken)
				continue;
			if ((rc = merkle_frontier_push(f, h, check_node, &au)))
				goto out;
			while (next_cp < cr.nrows && (uint64_t)cps[next_cp].size == f->size) {
				merkle_frontier_root(f, root);
				if (memcmp(root, cps[next_cp].root, H32) != 0)
					report(&au, "checkpoint %lld: its root is not the root of the first %lld leaves (not "
						    "consistent with the current tree)",
					       (long long)cps[next_cp].size, (long long)cps[next_cp].size);
				next_cp++;
			}
		}
	}
	if ((uint64_t)next != head->size)
		report(&au, "log head: says %llu leaves, the table holds leaves up to %lld", (unsigned long long)head->size,
		       (long long)next - 1);
	if (!broken) {
		merkle_frontier_root(f, root);
		if (memcmp(root, head_root, H32) != 0)
			report(&au, "log head: its root is not the root of the stored leaves");
		for (; next_cp < cr.nrows; next_cp++)
			report(&au, "checkpoint %lld: larger than the tree (%llu leaves): not consistent with it",
			       (long long)cps[next_cp].size, (unsigned long long)f->size);
	}
	/* rows with no leaf */
	const char *kinds[16];
	ledger_expect_fn fns[16];
	size_t nk = ledger_expects(kinds, fns, 16);
	for (size_t i = 0; i < nk; i++) {
		arena_reset(a);
		struct expect_ctx e = { &au, kinds[i] };
		if ((rc = fns[i](db, a, &e, emit_missing)))
			goto out;
	}
	*leaves_out = leaves;
	*problems_out = au.problems;
out:
	arena_free(a);
	arena_free(keep);
	return rc;
}
