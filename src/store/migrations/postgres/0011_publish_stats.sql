-- 0011_publish_stats (PostgreSQL): statistics rollups (public supervision) and published
-- information (信息公开). Keep the same logical shape as migrations/sqlite/0011_publish_stats.sql.

CREATE TABLE stats_daily (
  day INTEGER NOT NULL,
  department TEXT NOT NULL DEFAULT '',
  item_code TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  metric TEXT NOT NULL,
  value BIGINT NOT NULL,
  PRIMARY KEY (day, department, item_code, channel, metric)
);

CREATE FUNCTION stats_account_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.kind IN ('individual', 'enterprise') THEN
    INSERT INTO stats_daily (day, department, item_code, channel, metric, value)
    VALUES (floor((NEW.created_at + 28800) / 86400.0)::integer, '', '', '', 'reg_' || NEW.kind, 1)
    ON CONFLICT (day, department, item_code, channel, metric) DO UPDATE SET value = stats_daily.value + 1;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER stats_accounts_insert AFTER INSERT ON accounts
  FOR EACH ROW EXECUTE FUNCTION stats_account_inserted();

CREATE TABLE publish_documents (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  category TEXT NOT NULL CHECK (category IN ('announcement', 'policy', 'interpretation', 'news')),
  department TEXT NOT NULL REFERENCES departments(code),
  title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL DEFAULT '',
  body_zh TEXT NOT NULL,
  body_en TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('draft', 'review', 'published', 'withdrawn')),
  author_id BIGINT NOT NULL REFERENCES accounts(id),
  approver_id BIGINT REFERENCES accounts(id),
  note TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  published_at BIGINT,
  withdrawn_at BIGINT,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX publish_documents_public ON publish_documents(state, published_at, id);
CREATE INDEX publish_documents_department ON publish_documents(department, state, updated_at);

CREATE TABLE publish_attachments (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id BIGINT NOT NULL REFERENCES publish_documents(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  mime TEXT NOT NULL,
  size BIGINT NOT NULL,
  filename TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX publish_attachments_document ON publish_attachments(document_id, id);
