-- 0035_ledger_leaf_bytes (SQLite): a leaf is stored as bytes (src/ledger/pack.c): a version
-- byte, then its canonical text (0) or the text packed (1: 32-byte hashes instead of hex, member
-- names as one or two bytes). What is hashed, proved and put in receipts is the text, as
-- before: the leaves written before keep their text, as version 0, and every hash, tile,
-- checkpoint and receipt stays as it was. Keep the same logical shape as
-- migrations/postgres/0035_ledger_leaf_bytes.sql.
CREATE TABLE ledger_leaves_packed (
  idx INTEGER NOT NULL PRIMARY KEY,
  kind TEXT NOT NULL,
  ref TEXT,
  salt TEXT,
  leaf BLOB NOT NULL,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_leaves_packed (idx, kind, ref, salt, leaf, hash, created_at)
  SELECT idx, kind, ref, salt, CAST(X'00' || leaf AS BLOB), hash, created_at FROM ledger_leaves ORDER BY idx;
DROP TABLE ledger_leaves;
ALTER TABLE ledger_leaves_packed RENAME TO ledger_leaves;
CREATE INDEX ledger_leaves_ref ON ledger_leaves(ref) WHERE ref IS NOT NULL;
