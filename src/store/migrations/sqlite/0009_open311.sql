-- 0009_open311 (SQLite): Open311 GeoReport v2 (src/open311). API keys of Open311 clients
-- (only keyed hashes stored), and one row per service request posted through the API,
-- kept in step with its application by a cases observer. Keep the same logical shape as
-- migrations/postgres/0009_open311.sql.

CREATE TABLE open311_keys (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,                 -- the client: "FixMyStreet Qinghe", "city app"
  key_hash TEXT NOT NULL UNIQUE,      -- keyed hash of the key (identity's token hash)
  key_hint TEXT NOT NULL,             -- the key's first 6 characters, to tell keys apart
  created_at INTEGER NOT NULL,
  last_used INTEGER,
  revoked_at INTEGER
) STRICT;

-- The applicant every Open311 request is filed for (one row at most, made by the first
-- `govhall open311 key add`): an individual account without credentials.
CREATE TABLE open311_applicant (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  account_id INTEGER NOT NULL REFERENCES accounts(id)
) STRICT;

CREATE TABLE open311_requests (
  id INTEGER PRIMARY KEY,
  token TEXT NOT NULL UNIQUE,         -- GET tokens/{token}
  key_id INTEGER NOT NULL REFERENCES open311_keys(id),
  application_id INTEGER NOT NULL UNIQUE REFERENCES applications(id),
  number TEXT NOT NULL UNIQUE,        -- service_request_id = the application's number
  service_code TEXT NOT NULL,
  department TEXT NOT NULL,
  lat REAL,
  lon REAL,
  address_string TEXT,
  address_id TEXT,
  description TEXT,
  media_url TEXT,
  contact_enc BLOB,                   -- sealed JSON: first_name, last_name, email, phone
  state TEXT NOT NULL,                -- the application's workflow state (observer)
  closed INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
  status_notes TEXT,                  -- the reason of the last decision, when one was given
  expected_day INTEGER,               -- the promised due day once accepted
  requested_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX open311_requests_time ON open311_requests(requested_at, id);
CREATE INDEX open311_requests_service ON open311_requests(service_code, requested_at);
