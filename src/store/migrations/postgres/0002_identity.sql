-- 0002_identity (PostgreSQL): accounts, sessions, API tokens, enterprise agents, rate limits and
-- security events. Keep the same logical shape as migrations/sqlite/0002_identity.sql.
-- Personal data (ID numbers, credit codes, phone numbers, TOTP secrets) is stored encrypted
-- (*_enc: key id + nonce + XChaCha20-Poly1305 ciphertext) with a keyed blind index (*_index)
-- for uniqueness and look-up, and a masked copy (*_mask) for display. Times are Unix seconds.

CREATE TABLE accounts (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('individual', 'enterprise', 'staff', 'admin')),
  name TEXT NOT NULL,
  id_enc BYTEA,
  id_index TEXT UNIQUE,
  id_mask TEXT,
  phone_enc BYTEA,
  phone_index TEXT UNIQUE,
  phone_mask TEXT,
  legal_rep TEXT,
  department TEXT REFERENCES departments(code),
  staff_roles TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  totp_enc BYTEA,
  totp_enabled INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1)),
  totp_last_step BIGINT NOT NULL DEFAULT 0,  -- the last time step used: a code works once
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  key_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL
);
CREATE INDEX accounts_kind ON accounts(kind);
CREATE INDEX accounts_department ON accounts(department);

CREATE TABLE sessions (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  acting_for BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
  mfa_pending INTEGER NOT NULL DEFAULT 0 CHECK (mfa_pending IN (0, 1)),
  created_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip TEXT
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE api_tokens (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  acting_for BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('app', 'miniprogram', 'kiosk', 'other')),
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_used BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_tokens_account ON api_tokens(account_id);

CREATE TABLE enterprise_agents (
  enterprise_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  agent_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (enterprise_id, agent_id)
);
CREATE INDEX enterprise_agents_agent ON enterprise_agents(agent_id);

-- Counters for rate limits: failed log-ins per account and per address, registrations per
-- address. Shared by all nodes through the database.
CREATE TABLE rate_limits (
  key TEXT NOT NULL PRIMARY KEY,
  count INTEGER NOT NULL,
  window_start BIGINT NOT NULL,
  blocked_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE security_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  account_id BIGINT,
  actor_id BIGINT,
  ip TEXT,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX security_events_at ON security_events(at);
CREATE INDEX security_events_account ON security_events(account_id);
