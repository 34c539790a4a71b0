-- 0010_ledger (SQLite): the transparency log (src/ledger). Keep the same logical shape as
-- migrations/postgres/0010_ledger.sql. Hashes are 32-byte BLOBs (SHA-256); times Unix seconds.

-- The log head: one row, locked by every append (appends are totally ordered). frontier holds
-- the roots of the perfect subtrees of the tree's binary decomposition, largest first
-- (32 bytes each), so an append reads one row; root is the current tree root.
CREATE TABLE ledger_head (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  frontier BLOB NOT NULL,
  root BLOB NOT NULL
) STRICT;
INSERT INTO ledger_head (id, size, frontier, root)
  VALUES (1, 0, X'', X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

-- One row per leaf. leaf is the canonical JSON that was hashed; salt (hex) salts its personal
-- hashes; ref names the source row ("decision:<event id>", "catalog_item:<code>:<version>").
CREATE TABLE ledger_leaves (
  idx INTEGER NOT NULL PRIMARY KEY,
  kind TEXT NOT NULL,
  ref TEXT,
  salt TEXT,
  leaf TEXT NOT NULL,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_leaves_ref ON ledger_leaves(ref);

-- Perfect subtrees of height >= 1: the node at (level, idx) covers leaves
-- [idx * 2^level, (idx + 1) * 2^level). Written once, when the last leaf of the range is
-- appended; proofs read O(log n) of them.
CREATE TABLE ledger_nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

-- Signed tree heads (C2SP tlog-checkpoint notes), one per size.
CREATE TABLE ledger_checkpoints (
  size INTEGER NOT NULL PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  key_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
