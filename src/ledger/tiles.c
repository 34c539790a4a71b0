/* tiles.c: the tree's stored hashes as tiles (C2SP tlog-tiles' layout): the tile (L, N) holds
 * the hashes of tree level 8L, nodes N*256 .. N*256+w-1, 32 bytes each, w the tile's width
 * (256 once full; the rightmost tile of a level is partial and grows as the log does). Level
 * 0's tiles hold the leaf hashes; a node at a level between two tile levels is recomputed from
 * at most 128 hashes of the tile below it. A hash costs 32 bytes instead of a row, and a proof
 * reads a handful of tiles (one per 8 levels of the path), each at most 8 KiB. */
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "ledger/ledger_impl.h"
#include "ledger/log_impl.h"
#include "store/db.h"

DB_SQL(q_tile_get, "SELECT hashes FROM ledger_tiles WHERE level = ? AND idx = ?");
DB_SQL(q_tile_new, "INSERT INTO ledger_tiles (level, idx, hashes) VALUES (?, ?, ?)");
/* The hash goes at the end of the tile only when the tile is as wide as the caller expects. */
DB_SQL2(q_tile_add,
	"UPDATE ledger_tiles SET hashes = CAST(hashes || ? AS BLOB) WHERE level = ? AND idx = ? AND length(hashes) = ?",
	"UPDATE ledger_tiles SET hashes = hashes || ? WHERE level = ? AND idx = ? AND length(hashes) = ?");
DB_SQL(q_tile_put, "INSERT INTO ledger_tiles (level, idx, hashes) VALUES (?, ?, ?) "
		   "ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes");

int ledger_tile_append(struct db *db, unsigned level, uint64_t idx, const unsigned char *h, size_t n)
{
	if (level % LEDGER_TILE_H)
		return 0; /* recomputed from the tile below */
	int64_t tl = level / LEDGER_TILE_H, ti = (int64_t)(idx / LEDGER_TILE_W), off = (int64_t)(idx % LEDGER_TILE_W);
	if (n == 0 || (uint64_t)off + n > LEDGER_TILE_W)
		return GH_EINVAL;
	if (off == 0)
		return db_exec(db, &q_tile_new, DB_ARGS(DB_INT(tl), DB_INT(ti), DB_BLOB(h, n * H32)), NULL);
	int64_t changed = 0;
	int rc = db_exec(db, &q_tile_add, DB_ARGS(DB_BLOB(h, n * H32), DB_INT(tl), DB_INT(ti), DB_INT(off * H32)), &changed);
	if (!rc && changed != 1) {
		log_error("ledger: the tile %lld/%lld is not %lld hashes wide (a stored tile is missing or corrupt)",
			  (long long)tl, (long long)ti, (long long)off);
		rc = GH_EINTERNAL;
	}
	return rc;
}

int ledger_tile_put(struct db *db, unsigned tlevel, uint64_t tidx, const unsigned char *hashes, size_t n)
{
	if (n == 0 || n > LEDGER_TILE_W)
		return GH_EINVAL;
	return db_exec(db, &q_tile_put, DB_ARGS(DB_INT(tlevel), DB_INT((int64_t)tidx), DB_BLOB(hashes, n * H32)), NULL);
}

int ledger_tile_read(struct ledger_dbctx *c, unsigned tlevel, uint64_t tidx, const unsigned char **hashes, size_t *n)
{
	for (size_t i = 0; i < LEDGER_TILE_CACHE; i++)
		if (c->tile[i].h && c->tile[i].level == tlevel && c->tile[i].idx == tidx) {
			*hashes = c->tile[i].h;
			*n = c->tile[i].n;
			return 0;
		}
	struct db_rows rows;
	int rc = db_query(c->db, c->a, &q_tile_get, DB_ARGS(DB_INT(tlevel), DB_INT((int64_t)tidx)), &rows);
	if (rc)
		return rc;
	c->reads++;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	size_t len = rows.lens[0];
	if (len == 0 || len % H32 || len / H32 > LEDGER_TILE_W) {
		log_error("ledger: the stored tile %u/%llu is corrupt (%zu bytes)", tlevel, (unsigned long long)tidx, len);
		return GH_EINTERNAL;
	}
	/* the cells live in c->a for the proof's time */
	struct ledger_tile_slot *s = &c->tile[c->next++ % LEDGER_TILE_CACHE];
	s->level = tlevel;
	s->idx = tidx;
	s->n = len / H32;
	s->h = (const unsigned char *)rows.cells[0];
	*hashes = s->h;
	*n = s->n;
	return 0;
}

int ledger_db_get(void *ctx, unsigned level, uint64_t idx, unsigned char out[H32])
{
	struct ledger_dbctx *c = ctx;
	/* the hashes this transaction's appends hold, written first */
	int rc = db_tx_flush(c->db);
	if (rc)
		return rc;
	unsigned tl = level / LEDGER_TILE_H, r = level % LEDGER_TILE_H;
	uint64_t first = idx << r, width = (uint64_t)1 << r;
	const unsigned char *h;
	size_t n;
	rc = ledger_tile_read(c, tl, first / LEDGER_TILE_W, &h, &n);
	uint64_t off = first % LEDGER_TILE_W;
	if (rc == GH_ENOTFOUND || (!rc && off + width > n)) {
		log_error("ledger: the stored node (%u, %llu) is missing (tile %u/%llu)", level, (unsigned long long)idx, tl,
			  (unsigned long long)(first / LEDGER_TILE_W));
		return GH_EINTERNAL;
	}
	if (rc)
		return rc;
	/* The perfect subtree over width hashes of the tile, pairwise level by level. */
	unsigned char buf[LEDGER_TILE_W / 2][H32];
	if (width == 1) {
		memcpy(out, h + off * H32, H32);
		return 0;
	}
	for (uint64_t i = 0; i < width / 2; i++)
		merkle_node_hash(h + (off + 2 * i) * H32, h + (off + 2 * i + 1) * H32, buf[i]);
	for (uint64_t w = width / 2; w > 1; w /= 2)
		for (uint64_t i = 0; i < w / 2; i++)
			merkle_node_hash(buf[2 * i], buf[2 * i + 1], buf[i]);
	memcpy(out, buf[0], H32);
	return 0;
}
