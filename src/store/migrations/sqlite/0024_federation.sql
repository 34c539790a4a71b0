-- 0024_federation (SQLite): one national identity (src/federation). Keep the same
-- logical shape as migrations/postgres/0024_federation.sql.
-- On the hub (role = hub), the OpenID Connect provider's signing keys (the secret sealed under
-- the key file, field "oidc_key"), its registered clients (the halls; only a keyed hash of each
-- client secret is kept), authorization codes and access tokens (hashes only, short-lived, a
-- code works once). On a hall, its log-ins in progress at the hub and the link from a national
-- account (issuer, subject) to the local account. Times are Unix seconds.

CREATE TABLE oidc_keys (
  id INTEGER PRIMARY KEY,
  kid TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,          -- base64url, 32 bytes
  secret_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
) STRICT;

CREATE TABLE oidc_clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,       -- JSON array of exact URIs
  logout_uris TEXT NOT NULL,         -- JSON array of exact URIs
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE oidc_codes (
  code_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  redirect_uri TEXT NOT NULL,
  challenge TEXT NOT NULL,
  nonce TEXT,
  auth_time INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) STRICT;
CREATE INDEX oidc_codes_expires ON oidc_codes(expires_at);

CREATE TABLE oidc_tokens (
  token_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE INDEX oidc_tokens_code ON oidc_tokens(code_hash);

CREATE TABLE fed_logins (
  state_hash TEXT PRIMARY KEY,
  nonce TEXT NOT NULL,
  verifier TEXT NOT NULL,
  next TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE fed_links (
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_login INTEGER NOT NULL,
  PRIMARY KEY (issuer, subject)
) STRICT;
