-- 0004_notify (SQLite): the applicants' inbox and the durable outbox of notifications
-- (src/cases/notify.c). Keep the same logical shape as migrations/postgres/0004_notify.sql.
-- Times are Unix seconds. The outbox holds no plain personal data: a phone number is looked
-- up (and unsealed) only when an SMS is delivered.

CREATE TABLE inbox (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  application_id INTEGER REFERENCES applications(id) ON DELETE SET NULL,
  kind TEXT NOT NULL,                 -- the workflow action ("accept", "deny", ...)
  title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL,
  body_zh TEXT NOT NULL,
  body_en TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  read_at INTEGER                     -- NULL while unread
) STRICT;
CREATE INDEX inbox_account ON inbox(account_id, id);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  inbox_id INTEGER REFERENCES inbox(id) ON DELETE SET NULL,
  payload TEXT NOT NULL,              -- JSON: {to, number, kind, title_zh, ...}
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,           -- not before this time
  sent_at INTEGER,                    -- NULL until delivered
  last_error TEXT,                    -- the last failure, for operators (no secrets)
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox(sent_at, next_at);
