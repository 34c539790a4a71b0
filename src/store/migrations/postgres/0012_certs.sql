-- 0012_certs (PostgreSQL): e-certificates (电子证照), the departments' signing keys, and each
-- sharing of a certificate with a department (src/certs). Keep the same logical shape as
-- migrations/sqlite/0012_certs.sql.

-- A department's Ed25519 signing keys. The current key has valid_until NULL; rotation sets
-- valid_until of the old key (it stays published, so older certificates still verify). The
-- secret key is sealed under the hall's key file (identity/crypto.h, field "cert_key").
CREATE TABLE cert_keys (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key_id TEXT NOT NULL UNIQUE,          -- base64url of the first 12 bytes of SHA-256(public key)
  department TEXT NOT NULL REFERENCES departments(code),
  public_key TEXT NOT NULL,             -- base64 (standard, padded), 32 bytes
  secret_sealed BYTEA NOT NULL,
  valid_from BIGINT NOT NULL,          -- unix seconds
  valid_until BIGINT,                  -- NULL: current
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX cert_keys_current ON cert_keys(department) WHERE valid_until IS NULL;

-- One certificate per approved application. document: the canonical JSON of the signed
-- content; signature: base64 Ed25519 over it; hash: hex SHA-256 of it.
CREATE TABLE certificates (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  cert_type TEXT NOT NULL,
  holder_id BIGINT NOT NULL REFERENCES accounts(id),   -- the account holding it (person or enterprise)
  department TEXT NOT NULL REFERENCES departments(code),
  application_id BIGINT NOT NULL UNIQUE REFERENCES applications(id),
  key_id TEXT NOT NULL REFERENCES cert_keys(key_id),
  document TEXT NOT NULL,
  signature TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  salt TEXT NOT NULL,                   -- of the log leaf's personal hashes
  leaf_index BIGINT,                   -- in the transparency log
  issued_at BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
  revoked_at BIGINT,
  revoked_by BIGINT REFERENCES accounts(id),
  revoke_reason TEXT,
  revoke_leaf_index BIGINT
);
CREATE INDEX certificates_holder ON certificates(holder_id, cert_type, status, id);

-- Each time a certificate replaces a material in a submitted application, it is shared with
-- the department handling that application, and only with it.
CREATE TABLE cert_shares (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  certificate_id BIGINT NOT NULL REFERENCES certificates(id),
  application_id BIGINT NOT NULL REFERENCES applications(id),
  department TEXT NOT NULL REFERENCES departments(code),
  slot BIGINT NOT NULL,
  salt TEXT NOT NULL,
  leaf_index BIGINT,
  shared_at BIGINT NOT NULL,
  UNIQUE (certificate_id, application_id, slot)
);
CREATE INDEX cert_shares_application ON cert_shares(application_id);
CREATE INDEX cert_shares_certificate ON cert_shares(certificate_id, id);

-- Daily sequence of certificate numbers: one row per department and day.
CREATE TABLE cert_numbers (
  department TEXT NOT NULL,
  day TEXT NOT NULL,
  last BIGINT NOT NULL,
  PRIMARY KEY (department, day)
);
