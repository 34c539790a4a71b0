-- 0020_audit_coverage (PostgreSQL): what `govhall audit` needs to check every covered row (see
-- src/store/cover.h) and the log's own tree heads. Keep the same logical shape as
-- migrations/sqlite/0020_audit_coverage.sql.

-- The covered rows each leaf commits: one row per (table, key) in a leaf's "rows" (the leaf
-- holds them only as salted hashes). Kept in the order of the log (appends add at the end, one
-- index); `govhall audit` indexes them by row itself, for the time it runs, and checks this
-- table against the leaves.
CREATE TABLE ledger_refs (
  idx BIGINT NOT NULL,
  tbl TEXT NOT NULL,
  rkey TEXT NOT NULL,
  PRIMARY KEY (idx, tbl, rkey)
);

-- The log's origin line is fixed when the log is created (not derived from public-url at
-- each start): an existing log keeps the origin of its first checkpoint. signed_size is the
-- largest tree head ever signed, so deleting checkpoints shows.
ALTER TABLE ledger_head ADD COLUMN origin TEXT;
ALTER TABLE ledger_head ADD COLUMN signed_size BIGINT NOT NULL DEFAULT 0;
UPDATE ledger_head SET
  origin = (SELECT split_part(note, E'\n', 1) FROM ledger_checkpoints ORDER BY size LIMIT 1),
  signed_size = COALESCE((SELECT MAX(size) FROM ledger_checkpoints), 0);
