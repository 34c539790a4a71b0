-- 0028_fedmsg_directory (PostgreSQL): the hub's directory of halls (src/federation). Keep
-- the same logical shape as migrations/sqlite/0028_fedmsg_directory.sql.
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
  registered_at BIGINT NOT NULL,
  decided_at BIGINT
);

CREATE TABLE fed_keys (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kid TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,          -- base64url, 32 bytes
  secret_sealed BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT
);

CREATE TABLE fed_directory (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  token TEXT NOT NULL,               -- the directory as the hub signed it
  hub_keys TEXT NOT NULL,            -- the hub's keys it was checked with (JWKS)
  fetched_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
