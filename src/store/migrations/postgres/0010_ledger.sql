-- 0010_ledger (PostgreSQL): the transparency log (src/ledger). Keep the same logical shape as
-- migrations/sqlite/0010_ledger.sql. Hashes are 32-byte bytea (SHA-256); times Unix seconds.

-- The log head: one row, locked by every append (SELECT ... FOR UPDATE), so appends from all
-- nodes are totally ordered. frontier: the roots of the perfect subtrees of the tree's binary
-- decomposition, largest first (32 bytes each); root: the current tree root.
CREATE TABLE ledger_head (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  size BIGINT NOT NULL,
  frontier BYTEA NOT NULL,
  root BYTEA NOT NULL
);
INSERT INTO ledger_head (id, size, frontier, root)
  VALUES (1, 0, '\x'::bytea, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea);

CREATE TABLE ledger_leaves (
  idx BIGINT NOT NULL PRIMARY KEY,
  kind TEXT NOT NULL,
  ref TEXT,
  salt TEXT,
  leaf TEXT NOT NULL,
  hash BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX ledger_leaves_ref ON ledger_leaves(ref);

CREATE TABLE ledger_nodes (
  level INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE ledger_checkpoints (
  size BIGINT NOT NULL PRIMARY KEY,
  root BYTEA NOT NULL,
  note TEXT NOT NULL,
  key_id INTEGER NOT NULL,
  created_at BIGINT NOT NULL
);
