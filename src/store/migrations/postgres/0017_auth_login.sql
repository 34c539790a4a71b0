-- 0017_auth_login (PostgreSQL): the log-in throttle and one-time codes (src/identity/ratelimit.c,
-- src/identity/otp.c). Keep the same logical shape as migrations/sqlite/0017_auth_login.sql.
-- Times are Unix seconds.

-- Counters of failed log-in steps, shared by all nodes: per (account, address), per address,
-- per account and factor (password, totp, sms). Keys name accounts by id (or, for names
-- without an account, by the blind index of the name typed), never by personal data.
CREATE TABLE auth_throttle (
  key TEXT NOT NULL PRIMARY KEY,
  failures INTEGER NOT NULL,          -- counted failures (consecutive, or since forget_after)
  last_failure BIGINT NOT NULL,
  blocked_until BIGINT NOT NULL DEFAULT 0,
  forget_after BIGINT NOT NULL DEFAULT 0  -- seconds without a failure after which the count
                                           -- restarts; 0: never (consecutive failures)
);
CREATE INDEX auth_throttle_forget ON auth_throttle(last_failure) WHERE forget_after > 0;

-- Addresses a log-in succeeded from lately: under a flood, their log-ins are hashed first
-- (unless wrong passwords came from them since). No account is named.
CREATE TABLE auth_good_addresses (
  address TEXT NOT NULL PRIMARY KEY,
  last_success BIGINT NOT NULL
);
CREATE INDEX auth_good_addresses_age ON auth_good_addresses(last_success);

-- One-time codes sent to an account's registered phone (the log-in beyond the ceiling of
-- failures; later password recovery). Only a keyed hash of the code is stored; a code works
-- once, for ten minutes, and dies after a few wrong attempts.
CREATE TABLE one_time_codes (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  salt TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  used_at BIGINT
);
CREATE INDEX one_time_codes_account ON one_time_codes(account_id, purpose, id);
