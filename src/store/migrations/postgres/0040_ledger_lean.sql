-- 0040_ledger_lean (PostgreSQL): the log and the queue sized for a national hall
-- (docs/performance.md, "Where the bytes go"). Keep the same logical shape as
-- migrations/sqlite/0040_ledger_lean.sql.

-- A leaf's hash is kept once, in the tree's tile of leaf hashes (ledger_tiles level 0): the
-- log reads it there, the audit recomputes it from the leaf's text and compares it with the
-- tile, and a leaf read alone is hashed again from its text (32 bytes a leaf fewer).
ALTER TABLE ledger_leaves DROP COLUMN hash;

-- A leaf's salt is 16 random bytes, stored as those bytes instead of 32 hex characters (the log
-- reads it back as its hex text, which is what the leaf's hashes take: LEDGER_SALT_PG in
-- src/ledger/ledger.h; SQLite keeps the text).
ALTER TABLE ledger_leaves ALTER COLUMN salt TYPE BYTEA USING decode(salt, 'hex');

-- ledger_refs is written in the log's order and read by ranges of idx (the audit's pages): a
-- block-range index (a few bytes per 16 pages) instead of a B-tree entry per row (about 20
-- bytes a row, 220 an application).
DROP INDEX IF EXISTS ledger_refs_idx;
CREATE INDEX ledger_refs_idx ON ledger_refs USING brin (idx) WITH (pages_per_range = 16);

-- Leaves are looked up by ref only with ref = ?: a hash index keeps a 4-byte code a leaf
-- instead of the ref's text.
DROP INDEX IF EXISTS ledger_leaves_ref;
CREATE INDEX ledger_leaves_ref ON ledger_leaves USING hash (ref) WHERE ref IS NOT NULL;

-- An application's steps are read by application_id (about five, sorted by id in memory); on
-- application_id alone the B-tree keeps one entry an application with its steps' row
-- pointers (deduplication) instead of one a step.
DROP INDEX IF EXISTS application_events_app;
CREATE INDEX application_events_app ON application_events(application_id);

-- The queue without a state filter, its light counts and a department's overdue list read a
-- department's running applications in due-day order; the concluded ones (nearly all, after
-- years) are not in this index. It holds every column their filters read, so a page's ids and
-- the counts come from the index alone (src/cases/store.c), and it replaces the seven-column
-- index over every application.
DROP INDEX IF EXISTS applications_queue_counts;
CREATE INDEX IF NOT EXISTS applications_running ON applications(department, COALESCE(due_day, 2147483647), id)
  INCLUDE (due_day, yellow_day, completed_at, state, item_code, assigned_to)
  WHERE completed_at IS NULL AND state <> 'draft';
