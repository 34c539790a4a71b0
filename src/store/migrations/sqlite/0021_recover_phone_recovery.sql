-- 0021_recover_phone_recovery (SQLite): verified phones, account recovery and the renewal an
-- administrator's reset asks for (src/identity/otp.c, recover.c). Keep the same logical shape
-- as migrations/postgres/0021_recover_phone_recovery.sql. Times are Unix seconds.

-- When a one-time code sent to the number proved it is the account's (NULL: never; codes for
-- log-in and recovery go only to a verified number). must_renew: 1 after an administrator's
-- reset (the owner sets a new password at the next log-in), 2 when the second factor must be
-- enrolled again too.
ALTER TABLE accounts ADD COLUMN phone_verified_at INTEGER;
ALTER TABLE accounts ADD COLUMN must_renew INTEGER NOT NULL DEFAULT 0 CHECK (must_renew IN (0, 1, 2));

-- One-time codes belong to a subject: "acct:<id>", or "name:<blind index>" for a name typed
-- in the recovery form that designates no account that may recover (the code then reaches
-- nobody: account_id is NULL, and it can never be used). target_enc: the phone number a code
-- of purpose "phone" verifies, sealed like the accounts' numbers. Codes live minutes, so the
-- live ones are not carried over.
DROP TABLE one_time_codes;
CREATE TABLE one_time_codes (
  id INTEGER PRIMARY KEY,
  subject TEXT NOT NULL,
  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  salt TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  target_enc BLOB,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  used_at INTEGER
) STRICT;
CREATE INDEX one_time_codes_subject ON one_time_codes(subject, purpose, id);
CREATE INDEX one_time_codes_account ON one_time_codes(account_id) WHERE account_id IS NOT NULL;

-- An SMS may name its number itself, sealed in the payload, instead of an account: a code to a
-- new number, and every recovery code (the row does not say whether an account was found).
CREATE TABLE outbox_new (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  inbox_id INTEGER REFERENCES inbox(id) ON DELETE SET NULL,
  payload TEXT NOT NULL,              -- JSON: {to, number, kind, title_zh, ...}
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,           -- not before this time
  sent_at INTEGER,                    -- NULL until delivered
  last_error TEXT,                    -- the last failure, for operators (no secrets)
  created_at INTEGER NOT NULL,
  CHECK (account_id IS NOT NULL OR channel = 'sms')
) STRICT;
INSERT INTO outbox_new (id, channel, account_id, inbox_id, payload, attempts, next_at, sent_at, last_error, created_at)
  SELECT id, channel, account_id, inbox_id, payload, attempts, next_at, sent_at, last_error, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(sent_at, next_at);
