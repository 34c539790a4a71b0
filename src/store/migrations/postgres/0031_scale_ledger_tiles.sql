-- 0031_scale_ledger_tiles (PostgreSQL): the tree's hashes as tiles instead of one row per
-- node. Keep the same logical shape as migrations/sqlite/0031_scale_ledger_tiles.sql.

-- The tile (level, idx) (C2SP tlog-tiles' layout) holds the hashes of tree level 8 * level,
-- nodes idx * 256 .. idx * 256 + w - 1, 32 bytes each: w = 256 once full; the rightmost tile of
-- each level is partial and grows with the log. Level 0 holds the leaf hashes; nodes between
-- two tile levels are recomputed from the tile below (src/ledger/tiles.c). Hashes do not
-- compress: a full tile (8 KiB) is stored out of line as it is.
CREATE TABLE ledger_tiles (
  level INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  hashes BYTEA NOT NULL,
  PRIMARY KEY (level, idx)
);
ALTER TABLE ledger_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;

-- An existing log: its leaf hashes and its stored nodes at the tile levels, in order.
INSERT INTO ledger_tiles (level, idx, hashes)
  SELECT 0, idx / 256, string_agg(hash, '\x'::bytea ORDER BY idx) FROM ledger_leaves GROUP BY idx / 256;
INSERT INTO ledger_tiles (level, idx, hashes)
  SELECT level / 8, idx / 256, string_agg(hash, '\x'::bytea ORDER BY idx) FROM ledger_nodes
    WHERE level % 8 = 0 GROUP BY level / 8, idx / 256;

DROP TABLE ledger_nodes;

-- ledger_refs is read by leaf index only (the audit's pages, the backfill's lookups); its
-- primary key repeated each row's table and key in an index as large as the table. The audit
-- counts the rows named for each leaf against the leaf, so a duplicate still shows.
ALTER TABLE ledger_refs DROP CONSTRAINT ledger_refs_pkey;
CREATE INDEX ledger_refs_idx ON ledger_refs (idx);

-- Leaves are looked up by ref only with ref = ? (receipts, the backfill): the leaves without a
-- ref (a change leaf per account created, about one in six) need no entry in its index.
DROP INDEX ledger_leaves_ref;
CREATE INDEX ledger_leaves_ref ON ledger_leaves(ref) WHERE ref IS NOT NULL;
