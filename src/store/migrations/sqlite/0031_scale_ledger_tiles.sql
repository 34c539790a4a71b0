-- 0031_scale_ledger_tiles (SQLite): the tree's hashes as tiles instead of one row per node.
-- Keep the same logical shape as migrations/postgres/0031_scale_ledger_tiles.sql.

-- The tile (level, idx) (C2SP tlog-tiles' layout) holds the hashes of tree level 8 * level,
-- nodes idx * 256 .. idx * 256 + w - 1, 32 bytes each: w = 256 once full; the rightmost tile of
-- each level is partial and grows with the log. Level 0 holds the leaf hashes; nodes between
-- two tile levels are recomputed from the tile below (src/ledger/tiles.c).
CREATE TABLE ledger_tiles (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT;

-- An existing log: its leaf hashes and its stored nodes at the tile levels, in order (each
-- tile is grown hash by hash from its first; one row per tile is kept: its last).
WITH RECURSIVE t(tidx, pos, acc) AS (
  SELECT idx / 256, idx, hash FROM ledger_leaves WHERE idx % 256 = 0
  UNION ALL
  SELECT t.tidx, l.idx, CAST(t.acc || l.hash AS BLOB) FROM t JOIN ledger_leaves l ON l.idx = t.pos + 1
    WHERE (t.pos + 1) % 256 != 0
)
INSERT INTO ledger_tiles (level, idx, hashes)
  SELECT 0, tidx, acc FROM t
    WHERE (pos + 1) % 256 = 0 OR NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.idx = t.pos + 1);
WITH RECURSIVE t(lvl, tidx, pos, acc) AS (
  SELECT level, idx / 256, idx, hash FROM ledger_nodes WHERE level % 8 = 0 AND idx % 256 = 0
  UNION ALL
  SELECT t.lvl, t.tidx, n.idx, CAST(t.acc || n.hash AS BLOB) FROM t
    JOIN ledger_nodes n ON n.level = t.lvl AND n.idx = t.pos + 1 WHERE (t.pos + 1) % 256 != 0
)
INSERT INTO ledger_tiles (level, idx, hashes)
  SELECT lvl / 8, tidx, acc FROM t
    WHERE (pos + 1) % 256 = 0 OR NOT EXISTS (SELECT 1 FROM ledger_nodes n WHERE n.level = t.lvl AND n.idx = t.pos + 1);

DROP TABLE ledger_nodes;

-- (PostgreSQL also replaces ledger_refs' primary key with an index on idx; here the table is
-- WITHOUT ROWID, stored in its key's order, and has no separate index to save.)

-- Leaves are looked up by ref only with ref = ? (receipts, the backfill): the leaves without a
-- ref (a change leaf per account created, about one in six) need no entry in its index.
DROP INDEX ledger_leaves_ref;
CREATE INDEX ledger_leaves_ref ON ledger_leaves(ref) WHERE ref IS NOT NULL;
