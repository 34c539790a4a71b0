-- 0019_ops_blobs_keys (SQLite): files in the database (src/store/blob.c) and the keys every
-- node must hold (src/ops/keycheck.c). Keep the same logical shape as
-- migrations/postgres/0019_ops_blobs_keys.sql.

-- Uploaded files (attachments of applications and of published information), named by the
-- hex SHA-256 of their bytes and cut into chunks of at most 256 KiB (blob_chunks), so that any
-- node serves any file and no row is large. touched_at: when the bytes were last stored; the
-- collection removes blobs no row names once that is older than its grace period.
CREATE TABLE blobs (
  sha256 TEXT NOT NULL PRIMARY KEY,
  size INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  touched_at INTEGER NOT NULL
) STRICT;
CREATE INDEX blobs_touched ON blobs(touched_at);

CREATE TABLE blob_chunks (
  sha256 TEXT NOT NULL REFERENCES blobs(sha256) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (sha256, seq)
) STRICT;

-- The rows that name blobs, looked up by the collection.
CREATE INDEX attachments_sha256 ON attachments(sha256);
CREATE INDEX publish_attachments_sha256 ON publish_attachments(sha256);

-- The keys the hall's nodes must hold, published by the database: for each key of the key file
-- (kind 'data': personal data, tokens, CSRF) a check value that proves the key without
-- revealing it, and for each signing key of the transparency log (kind 'ledger') its public
-- key. A node whose key files do not match them refuses to start.
CREATE TABLE hall_keys (
  kind TEXT NOT NULL CHECK (kind IN ('data', 'ledger')),
  key_id INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (kind, key_id)
) STRICT;
