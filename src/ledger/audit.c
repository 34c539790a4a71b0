/* audit.c: `govhall audit` — recomputes the whole tree from the stored leaves and checks,
 * reporting one line per problem:
 * - every leaf's text against its hash in the tree (the tile of leaf hashes), its kind column
 *   against its text, the index sequence (missing leaves), every hash of the stored tiles
 *   (leaf hashes and subtrees at the tile levels), the log head;
 * - every tree head: each stored checkpoint (its signature by a published log key, its origin
 *   being the log's, its root being the root of that many leaves), checkpoints deleted (the
 *   head records the largest ever signed; leaves older than the signing period plus a grace
 *   that no checkpoint covers), and checkpoints saved earlier by anyone (--checkpoint): each
 *   must be a prefix of the log, by the recomputed tree and by a consistency proof from the
 *   stored nodes;
 * - leaves of the first format (no "rows"): rebuilt from their source rows by their kind's
 *   function;
 * - ledger_refs against the leaves: each leaf's "rows" and the rows ledger_refs names for it
 *   must be the same set;
 * - every covered row against its latest leaf (rows.c).
 * Reads the log in pages; only reads. */
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "ledger/ledger_ext.h"
#include "store/db.h"

#define PAGE 1000

DB_SQL2(q_page, "SELECT idx, kind, ref, salt, leaf, created_at FROM ledger_leaves WHERE idx >= ? ORDER BY idx LIMIT 1000",
	"SELECT idx, kind, ref, " LEDGER_SALT_PG("salt") ", leaf, created_at FROM ledger_leaves WHERE idx >= ? ORDER BY idx "
	"LIMIT 1000");
DB_SQL(q_page_refs, "SELECT idx, tbl, rkey FROM ledger_refs WHERE idx >= ? AND idx <= ? ORDER BY idx");
DB_SQL(q_refs_after, "SELECT idx, tbl, rkey FROM ledger_refs WHERE idx >= ? ORDER BY idx LIMIT 100");
DB_SQL(q_cps, "SELECT size, root, note FROM ledger_checkpoints ORDER BY size");
/* Tiles holding hashes beyond a tree of ? leaves: the tile (L, N) may hold nodes of level 8L
 * below 256N + its width only (the next append to a longer tile fails). */
DB_SQL(q_tiles_beyond, "SELECT level, idx, length(hashes) FROM ledger_tiles WHERE level < 0 OR level >= 8 OR idx < 0 "
		       "OR idx * 8192 + length(hashes) > (CAST(? AS BIGINT) >> (8 * level)) * 32 ORDER BY level, idx LIMIT 100");
DB_SQL(q_head_more, "SELECT COALESCE(origin, ''), signed_size FROM ledger_head WHERE id = 1");
/* One snapshot for the whole audit, so a hall at work does not move under it (SQLite: a read
 * transaction of the WAL; it takes no write lock). */
DB_SQL2(q_snapshot, "BEGIN DEFERRED", "BEGIN ISOLATION LEVEL REPEATABLE READ");

/* The tile of a level being compared with the recomputed tree. */
struct atile {
	bool loaded;
	uint64_t idx;
	size_t n;
	unsigned char h[LEDGER_TILE_W][H32];
};

struct audit {
	struct db *db;
	struct arena *a, *ta;
	FILE *out;
	size_t problems;
	struct atile *tile; /* AUDIT_TILE_LEVELS */
};
#define AUDIT_TILE_LEVELS 8

static void report(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(void *ctx, const char *fmt, ...)
{
	struct audit *au = ctx;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(au->out, fmt, ap);
	va_end(ap);
	fputc('\n', au->out);
	au->problems++;
}

/* The stored hash of node idx of tile level tl (*out NULL when its tile holds none). */
static int tile_hash(struct audit *au, unsigned tl, uint64_t idx, const unsigned char **out)
{
	uint64_t ti = idx / LEDGER_TILE_W, off = idx % LEDGER_TILE_W;
	if (tl >= AUDIT_TILE_LEVELS)
		return GH_EINTERNAL;
	struct atile *t = &au->tile[tl];
	if (!t->loaded || t->idx != ti) {
		arena_reset(au->ta);
		struct ledger_dbctx c = { au->db, au->ta, 0 };
		const unsigned char *p;
		size_t n = 0;
		int rc = ledger_tile_read(&c, tl, ti, &p, &n);
		if (rc && rc != GH_ENOTFOUND)
			return rc;
		if (!rc)
			memcpy(t->h, p, n * H32);
		t->n = rc ? 0 : n;
		t->loaded = true;
		t->idx = ti;
	}
	*out = off < t->n ? t->h[off] : NULL;
	return 0;
}

/* The recomputed hash of the node (level, idx) against its tile, at the tile levels above the
 * leaves (a leaf's hash is checked with its leaf, where its name is known). */
static int check_node(void *ctx, unsigned level, uint64_t idx, const unsigned char h[H32])
{
	struct audit *au = ctx;
	if (level == 0 || level % LEDGER_TILE_H)
		return 0;
	unsigned tl = level / LEDGER_TILE_H;
	const unsigned char *th;
	int rc = tile_hash(au, tl, idx, &th);
	if (rc)
		return rc;
	if (!th)
		report(au, "tile %u/%llu: holds no hash of node %u/%llu (proofs through it fail)", tl,
		       (unsigned long long)(idx / LEDGER_TILE_W), level, (unsigned long long)idx);
	else if (memcmp(th, h, H32) != 0)
		report(au, "tile %u/%llu: its hash of node %u/%llu differs from the recomputed tree (proofs through it are "
			   "wrong)",
		       tl, (unsigned long long)(idx / LEDGER_TILE_W), level, (unsigned long long)idx);
	return 0;
}

/* A tree head to compare with the recomputed tree when it reaches its size. */
struct head {
	int64_t size;
	unsigned char root[H32];
	const char *what; /* "checkpoint 12" or "the saved checkpoint 12" */
};

static int cmp_head(const void *x, const void *y)
{
	const struct head *a = x, *b = y;
	return a->size < b->size ? -1 : a->size > b->size;
}

/* The rows a v2 leaf of the current page commits, to check ledger_refs against. */
struct pleaf {
	int64_t idx;
	const char *salt;
	json_t *rows; /* NULL: a leaf without "rows" */
	size_t named; /* ledger_refs rows naming it */
};

static void check_refs(struct audit *au, struct pleaf *pl, size_t n, const struct db_rows *refs)
{
	size_t j = 0;
	for (size_t r = 0; r < refs->nrows; r++) {
		int64_t idx = db_cell_int(refs, r, 0);
		const char *tbl = db_cell(refs, r, 1), *key = db_cell(refs, r, 2);
		while (j < n && pl[j].idx < idx)
			j++;
		if (j == n || pl[j].idx != idx) {
			report(au, "ledger_refs: names %s:%s in leaf %lld, which is missing", tbl, key, (long long)idx);
			continue;
		}
		char id[65], content[65];
		static const unsigned char zero[32];
		ledger_row_hashes(pl[j].salt ? pl[j].salt : "", tbl, key, false, zero, id, content);
		if (!pl[j].rows || !json_object_get(pl[j].rows, id))
			report(au, "leaf %lld: ledger_refs names %s:%s, which the leaf does not log (ledger_refs altered)",
			       (long long)idx, tbl, key);
		else
			pl[j].named++;
	}
	for (size_t i = 0; i < n; i++)
		if (pl[i].rows && pl[i].named != json_object_size(pl[i].rows))
			report(au, "leaf %lld: logs %zu row(s), ledger_refs names %zu of them (ledger_refs altered)",
			       (long long)pl[i].idx, json_object_size(pl[i].rows), pl[i].named);
}

int ledger_audit(struct db *db, const struct ledger_audit_opts *o, FILE *out, size_t *leaves_out, size_t *rows_out,
		 size_t *problems_out)
{
	struct arena *keep = arena_new(1 << 16), *a = arena_new(1 << 20);
	struct audit au = { db, a, arena_new(1 << 14), out, 0, xcalloc(AUDIT_TILE_LEVELS, sizeof(struct atile)) };
	struct merkle_frontier *f = arena_zalloc(keep, sizeof(*f));
	struct merkle_frontier *head = arena_zalloc(keep, sizeof(*head));
	unsigned char head_root[H32], root[H32];
	struct pleaf *pl = arena_array(keep, PAGE, sizeof(*pl));
	size_t npl = 0;
	int rc;
	if ((rc = db_exec(db, &q_snapshot, DB_NOARGS, NULL)))
		goto out;
	if ((rc = ledger_head_read(db, keep, false, head, head_root)))
		goto out;
	struct db_rows hm;
	if ((rc = db_query(db, keep, &q_head_more, DB_NOARGS, &hm)))
		goto out;
	int64_t signed_size = db_cell_int(&hm, 0, 1);

	/* ---- tree heads: the stored checkpoints, then the saved ones ---- */
	struct db_rows cr;
	if ((rc = db_query(db, keep, &q_cps, DB_NOARGS, &cr)))
		goto out;
	struct head *heads = arena_array(keep, cr.nrows + o->nsaved + 1, sizeof(struct head));
	size_t nheads = 0;
	int64_t max_cp = 0;
	for (size_t i = 0; i < cr.nrows; i++) {
		struct head *h = &heads[nheads++];
		h->size = db_cell_int(&cr, i, 0);
		h->what = arena_printf(keep, "checkpoint %lld", (long long)h->size);
		if (cr.lens[i * cr.ncols + 1] == H32)
			memcpy(h->root, cr.cells[i * cr.ncols + 1], H32);
		if (h->size > max_cp)
			max_cp = h->size;
		const char *note = db_cell(&cr, i, 2);
		size_t ol = strcspn(note, "\n");
		char err[256];
		int64_t nsize;
		unsigned char nroot[H32];
		if (o->origin && (strlen(o->origin) != ol || strncmp(note, o->origin, ol) != 0))
			report(&au, "checkpoint %lld: signed for the origin %.*s, but the log's origin is %s", (long long)h->size,
			       (int)(ol > 200 ? 200 : ol), note, o->origin);
		else if (o->keys_doc && ledger_checkpoint_verify(keep, note, o->keys_doc, NULL, &nsize, nroot, err, sizeof(err)))
			report(&au, "checkpoint %lld: %s", (long long)h->size, err);
		else if (o->keys_doc && (nsize != h->size || memcmp(nroot, h->root, H32) != 0))
			report(&au, "checkpoint %lld: the signed note does not say the stored size and root", (long long)h->size);
	}
	if (signed_size > max_cp)
		report(&au, "checkpoints: the log head records a checkpoint of %lld leaves signed, the largest stored has "
			    "%lld: checkpoints were deleted",
		       (long long)signed_size, (long long)max_cp);
	for (size_t i = 0; i < o->nsaved; i++) {
		char err[256];
		const char *origin;
		uint64_t size = 0;
		int64_t ssize = 0;
		unsigned char r[H32];
		int bad = o->keys_doc ? ledger_checkpoint_verify(keep, o->saved[i], o->keys_doc, &origin, &ssize, r, err,
								   sizeof(err))
				      : ledger_note_parse(keep, o->saved[i], NULL, 0, &origin, &size, r, err, sizeof(err));
		if (o->keys_doc)
			size = (uint64_t)ssize;
		if (bad) {
			report(&au, "saved checkpoint %zu: %s", i + 1, err);
			continue;
		}
		if (o->origin && strcmp(origin, o->origin) != 0) {
			report(&au, "saved checkpoint %zu: of the log %s, not of this log (%s)", i + 1, origin, o->origin);
			continue;
		}
		struct head *h = &heads[nheads++];
		h->size = (int64_t)size;
		memcpy(h->root, r, H32);
		h->what = arena_printf(keep, "the saved checkpoint of %llu leaves", (unsigned long long)size);
		if ((int64_t)size > (int64_t)head->size) {
			report(&au, "%s: the log has only %llu leaves: leaves were removed since it was signed", h->what,
			       (unsigned long long)head->size);
			continue;
		}
		/* A consistency proof from the stored nodes, as a verifier holding it would ask. */
		if (size > 0) {
			unsigned char(*path)[H32] = arena_alloc(keep, LEDGER_PROOF_MAX * H32);
			size_t n = 0;
			if (ledger_consistency_at(db, keep, size, head->size, path, &n, NULL) ||
			    merkle_verify_consistency(size, head->size, r, head_root, (const unsigned char(*)[H32])path, n))
				report(&au, "%s: no consistency proof leads from it to the log's head (the log was rewritten)",
				       h->what);
		}
	}
	qsort(heads, nheads, sizeof(*heads), cmp_head);
	size_t next_head = 0;
	while (next_head < nheads && heads[next_head].size == 0)
		next_head++;

	/* ---- the leaves ---- */
	bool broken = false; /* a missing leaf: the recomputed tree cannot be compared any further */
	int64_t next = 0, late_first = -1, late_last = -1, late_at = 0;
	int64_t late_before = o->now - LEDGER_CHECKPOINT_PERIOD - o->grace;
	size_t leaves = 0;
	for (;;) {
		arena_reset(a);
		for (size_t i = 0; i < npl; i++)
			json_decref(pl[i].rows);
		npl = 0;
		struct db_rows rows;
		if ((rc = db_query(db, a, &q_page, DB_ARGS(DB_INT(next)), &rows)))
			goto out;
		if (rows.nrows == 0)
			break;
		for (size_t i = 0; i < rows.nrows; i++) {
			int64_t idx = db_cell_int(&rows, i, 0), at = db_cell_int(&rows, i, 5);
			const char *kind = db_cell(&rows, i, 1), *ref = db_cell(&rows, i, 2), *salt = db_cell(&rows, i, 3);
			const char *leaf = ledger_leaf_cell(a, &rows, i, 4), *name = ref ? ref : kind;
			leaves++;
			if (idx != next) {
				report(&au, "leaves %lld..%lld: missing from ledger_leaves", (long long)next, (long long)idx - 1);
				broken = true;
			}
			next = idx + 1;
			if (!leaf) {
				report(&au, "leaf %lld (%s): its stored form is not a leaf (src/ledger/pack.c)", (long long)idx, name);
				leaf = "";
			}
			/* A leaf's hash is stored once, in the tree's tile of leaf hashes (level 0). */
			unsigned char h[H32];
			ledger_leaf_hash(leaf, strlen(leaf), h);
			const unsigned char *th;
			if ((rc = tile_hash(&au, 0, (uint64_t)idx, &th)))
				goto out;
			unsigned long long t0 = (unsigned long long)((uint64_t)idx / LEDGER_TILE_W);
			if (!th)
				report(&au, "tile 0/%llu: holds no hash of node 0/%lld (proofs through it fail)", t0, (long long)idx);
			else if (memcmp(th, h, H32) != 0)
				report(&au, "tile 0/%llu: its hash of node 0/%lld differs from the recomputed tree: the text of leaf "
					    "%lld (%s) no longer hashes to it (the leaf or the tile altered)",
				       t0, (long long)idx, (long long)idx, name);
			json_t *v = json_loads(leaf, JSON_REJECT_DUPLICATES, NULL);
			const char *vk = json_string_value(json_object_get(v, "kind"));
			json_t *vrows = json_object_get(v, "rows");
			if (!vk || strcmp(vk, kind) != 0)
				report(&au, "leaf %lld (%s): its kind column (%s) is not the kind its text says", (long long)idx, name,
				       kind);
			const char *vref = json_string_value(json_object_get(v, "ref"));
			if (json_is_object(vrows) && (vref ? !ref || strcmp(vref, ref) != 0 : ref != NULL))
				report(&au, "leaf %lld (%s): its ref column is not the ref its text says (%s)", (long long)idx, name,
				       vref ? vref : "none");
			pl[npl++] = (struct pleaf){ idx, salt, json_is_object(vrows) ? json_incref(vrows) : NULL, 0 };
			json_decref(v);
			ledger_recompute_fn fn = ledger_source_of(kind);
			if (fn && ref && !pl[npl - 1].rows) {
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
			if (idx >= max_cp && at < late_before) {
				if (late_first < 0)
					late_first = idx, late_at = at;
				late_last = idx;
			}
			if (broken)
				continue;
			if ((rc = check_node(&au, 0, (uint64_t)idx, h)) || (rc = merkle_frontier_push(f, h, check_node, &au)))
				goto out;
			while (next_head < nheads && (uint64_t)heads[next_head].size == f->size) {
				merkle_frontier_root(f, root);
				if (memcmp(root, heads[next_head].root, H32) != 0)
					report(&au, "%s: its root is not the root of the first %lld leaves (not consistent with the "
						    "current tree)",
					       heads[next_head].what, (long long)heads[next_head].size);
				next_head++;
			}
		}
		struct db_rows refs;
		if ((rc = db_query(db, a, &q_page_refs, DB_ARGS(DB_INT(pl[0].idx), DB_INT(pl[npl - 1].idx)), &refs)))
			goto out;
		check_refs(&au, pl, npl, &refs);
	}
	if ((uint64_t)next != head->size)
		report(&au, "log head: says %llu leaves, the table holds leaves up to %lld", (unsigned long long)head->size,
		       (long long)next - 1);
	if (!broken) {
		merkle_frontier_root(f, root);
		if (memcmp(root, head_root, H32) != 0)
			report(&au, "log head: its root is not the root of the stored leaves");
		arena_reset(a);
		struct db_rows beyond;
		if ((rc = db_query(db, a, &q_tiles_beyond, DB_ARGS(DB_INT((int64_t)f->size)), &beyond)))
			goto out;
		for (size_t i = 0; i < beyond.nrows; i++)
			report(&au, "tile %s/%s: holds %lld bytes, beyond the tree of %llu leaves (the next append through it fails)",
			       db_cell(&beyond, i, 0), db_cell(&beyond, i, 1), (long long)db_cell_int(&beyond, i, 2),
			       (unsigned long long)f->size);
		for (; next_head < nheads; next_head++)
			report(&au, "%s: larger than the tree (%llu leaves): not consistent with it", heads[next_head].what,
			       (unsigned long long)f->size);
	}
	if (late_first >= 0)
		report(&au, "leaves %lld..%lld: appended more than %lld s ago (the first at %lld) and covered by no "
			    "checkpoint, though one is signed every %d s: checkpoints were deleted, or no node has signed since",
		       (long long)late_first, (long long)late_last, (long long)(o->now - late_at), (long long)late_at,
		       LEDGER_CHECKPOINT_PERIOD);
	{
		arena_reset(a);
		struct db_rows extra;
		if ((rc = db_query(db, a, &q_refs_after, DB_ARGS(DB_INT(next)), &extra)))
			goto out;
		for (size_t i = 0; i < extra.nrows; i++)
			report(&au, "ledger_refs: names %s:%s in leaf %s, which is not in the log", db_cell(&extra, i, 1),
			       db_cell(&extra, i, 2), db_cell(&extra, i, 0));
	}
	/* ---- every covered row against its latest leaf ---- */
	if ((rc = ledger_audit_rows(db, report, &au, rows_out)))
		goto out;
	*leaves_out = leaves;
	*problems_out = au.problems;
out:
	db_rollback(db);
	for (size_t i = 0; i < npl; i++)
		json_decref(pl[i].rows);
	arena_free(a);
	arena_free(keep);
	arena_free(au.ta);
	free(au.tile);
	return rc;
}
