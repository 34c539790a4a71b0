-- 0011_publish_stats (SQLite): statistics rollups (public supervision) and published
-- information (信息公开). Keep the same logical shape as migrations/postgres/0011_publish_stats.sql.

-- One row per day (China Standard Time day number), department, item, channel and metric;
-- '' where a dimension does not apply (registrations have none). Kept up to date by upserts
-- in the same transaction as the event (src/stats/rollup.c, and the trigger below for
-- accounts); `govhall stats rebuild` recomputes the application and registration metrics.
CREATE TABLE stats_daily (
  day INTEGER NOT NULL,
  department TEXT NOT NULL DEFAULT '',
  item_code TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  metric TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (day, department, item_code, channel, metric)
) STRICT;

-- Registrations: counted by the database itself as each account row is inserted, so the
-- count commits or rolls back with the account, whichever code path creates it.
CREATE TRIGGER stats_accounts_insert AFTER INSERT ON accounts
WHEN NEW.kind IN ('individual', 'enterprise')
BEGIN
  INSERT INTO stats_daily (day, department, item_code, channel, metric, value)
  VALUES ((NEW.created_at + 28800) / 86400, '', '', '', 'reg_' || NEW.kind, 1)
  ON CONFLICT (day, department, item_code, channel, metric) DO UPDATE SET value = value + 1;
END;

-- Published information: announcements and policy documents in Markdown.
CREATE TABLE publish_documents (
  id INTEGER PRIMARY KEY,
  category TEXT NOT NULL CHECK (category IN ('announcement', 'policy', 'interpretation', 'news')),
  department TEXT NOT NULL REFERENCES departments(code),
  title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL DEFAULT '',
  body_zh TEXT NOT NULL,              -- Markdown (rendered safely: raw HTML removed)
  body_en TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('draft', 'review', 'published', 'withdrawn')),
  author_id INTEGER NOT NULL REFERENCES accounts(id),
  approver_id INTEGER REFERENCES accounts(id),
  note TEXT NOT NULL DEFAULT '',      -- the head's reason for sending back or withdrawing
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  published_at INTEGER,
  withdrawn_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX publish_documents_public ON publish_documents(state, published_at, id);
CREATE INDEX publish_documents_department ON publish_documents(department, state, updated_at);

CREATE TABLE publish_attachments (
  id INTEGER PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES publish_documents(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  filename TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX publish_attachments_document ON publish_attachments(document_id, id);
