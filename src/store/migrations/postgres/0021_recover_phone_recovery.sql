-- 0021_recover_phone_recovery (PostgreSQL): verified phones, account recovery and the renewal
-- an administrator's reset asks for (src/identity/otp.c, recover.c). Keep the same logical
-- shape as migrations/sqlite/0021_recover_phone_recovery.sql. Times are Unix seconds.

-- When a one-time code sent to the number proved it is the account's (NULL: never; codes for
-- log-in and recovery go only to a verified number). must_renew: 1 after an administrator's
-- reset (the owner sets a new password at the next log-in), 2 when the second factor must be
-- enrolled again too.
ALTER TABLE accounts ADD COLUMN phone_verified_at BIGINT;
ALTER TABLE accounts ADD COLUMN must_renew INTEGER NOT NULL DEFAULT 0 CHECK (must_renew IN (0, 1, 2));

-- One-time codes belong to a subject: "acct:<id>", or "name:<blind index>" for a name typed
-- in the recovery form that designates no account that may recover (the code then reaches
-- nobody: account_id is NULL, and it can never be used). target_enc: the phone number a code
-- of purpose "phone" verifies, sealed like the accounts' numbers. Codes live minutes, so the
-- live ones are not carried over.
DROP TABLE one_time_codes;
CREATE TABLE one_time_codes (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject TEXT NOT NULL,
  account_id BIGINT REFERENCES accounts(id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  salt TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  target_enc BYTEA,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  used_at BIGINT
);
CREATE INDEX one_time_codes_subject ON one_time_codes(subject, purpose, id);
CREATE INDEX one_time_codes_account ON one_time_codes(account_id) WHERE account_id IS NOT NULL;

-- An SMS may name its number itself, sealed in the payload, instead of an account: a code to a
-- new number, and every recovery code (the row does not say whether an account was found).
ALTER TABLE outbox ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_recipient CHECK (account_id IS NOT NULL OR channel = 'sms');
