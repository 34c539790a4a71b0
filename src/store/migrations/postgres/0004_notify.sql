-- 0004_notify (PostgreSQL): the applicants' inbox and the durable outbox of notifications
-- (src/cases/notify.c). Keep the same logical shape as migrations/sqlite/0004_notify.sql.
-- Times are Unix seconds. The outbox holds no plain personal data: a phone number is looked
-- up (and unsealed) only when an SMS is delivered.

CREATE TABLE inbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  application_id BIGINT REFERENCES applications(id) ON DELETE SET NULL,
  kind TEXT NOT NULL,                 -- the workflow action ("accept", "deny", ...)
  title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL,
  body_zh TEXT NOT NULL,
  body_en TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  read_at BIGINT                      -- NULL while unread
);
CREATE INDEX inbox_account ON inbox(account_id, id);

CREATE TABLE outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  inbox_id BIGINT REFERENCES inbox(id) ON DELETE SET NULL,
  payload TEXT NOT NULL,              -- JSON: {to, number, kind, title_zh, ...}
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,            -- not before this time
  sent_at BIGINT,                     -- NULL until delivered
  last_error TEXT,                    -- the last failure, for operators (no secrets)
  created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox(sent_at, next_at);
