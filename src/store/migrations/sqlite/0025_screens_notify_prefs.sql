-- 0025_screens_notify_prefs (SQLite): which channel each account wants for which topic of
-- message (src/notify/prefs.c). Keep the same logical shape as the PostgreSQL twin. No row:
-- every channel (the default). A channel off: SMS and e-mail are not queued; the inbox keeps
-- the message but marks it read on arrival, so nothing is lost.

CREATE TABLE notify_prefs (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  topic TEXT NOT NULL,                -- "progress", "action", "replies"
  inbox INTEGER NOT NULL DEFAULT 1,   -- 0 or 1
  email INTEGER NOT NULL DEFAULT 1,
  sms INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, topic)
) STRICT;
