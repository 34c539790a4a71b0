-- 0039_fedwallet (SQLite): the wallet's certificates from other halls, fetched through
-- the hub with the person's consent (src/fedwallet). Keep the same logical shape as
-- migrations/postgres/0039_fedwallet.sql. Times are Unix seconds. It makes only what is
-- missing, so it runs again harmlessly.

-- On the hub: the halls at which a national subject has logged in (an ID token issued to that
-- hall), so that the hub asks only those halls for the person's certificates.
CREATE TABLE IF NOT EXISTS oidc_subject_halls (
  subject TEXT NOT NULL,             -- the subject of the hub's ID tokens
  client_id TEXT NOT NULL,           -- the hall (its client identifier = its directory id)
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (subject, client_id)
) STRICT;

-- On a hall: a person's consent to fetch their certificates from other halls (revocable).
CREATE TABLE IF NOT EXISTS wallet_fed_consents (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  granted_at INTEGER NOT NULL,
  revoked_at INTEGER                 -- NULL while it stands
) STRICT;

-- On a hall: the copies fetched, as the issuing hall signed them (the document sealed).
CREATE TABLE IF NOT EXISTS wallet_fed_certs (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  hall TEXT NOT NULL,                -- the issuing hall (directory id)
  number TEXT NOT NULL,
  cert_type TEXT NOT NULL,
  hash TEXT NOT NULL,                -- hex SHA-256 of the certificate's canonical content
  status TEXT NOT NULL,              -- as the issuing hall answered: valid | revoked
  document TEXT NOT NULL,            -- the whole document, sealed (field "wallet_fed")
  fetched_at INTEGER NOT NULL,
  checked_at INTEGER,                 -- the last check at the issuing hall (using it as a material)
  check_status TEXT,                 -- its answer then: valid | revoked | unknown | not_held
  PRIMARY KEY (account_id, hall, number)
) STRICT;
