-- 0028_fedmsg_directory (SQLite): the hub's directory of halls (src/federation). Keep the
-- same logical shape as migrations/postgres/0028_fedmsg_directory.sql.
-- On the hub, the halls' signed registrations and the administrator's decision on each: the
-- approved ones make the signed directory. On a hall, its own message-signing keys (the secret
-- sealed under the key file, field "fed_key") and the last good copy of the hub's directory.
-- Times are Unix seconds.

CREATE TABLE fed_halls (
  hall_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  region TEXT NOT NULL,
  base_url TEXT NOT NULL,
  keys TEXT NOT NULL,                -- JSON array of {"kid", "x"} (base64url Ed25519 keys)
  registration TEXT NOT NULL,        -- the registration as the hall signed it (the body)
  signature TEXT NOT NULL,           -- its Signature-Input and Signature fields
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
  registered_at INTEGER NOT NULL,
  decided_at INTEGER
) STRICT;

CREATE TABLE fed_keys (
  id INTEGER PRIMARY KEY,
  kid TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,          -- base64url, 32 bytes
  secret_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
) STRICT;

CREATE TABLE fed_directory (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  token TEXT NOT NULL,               -- the directory as the hub signed it
  hub_keys TEXT NOT NULL,            -- the hub's keys it was checked with (JWKS)
  fetched_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
