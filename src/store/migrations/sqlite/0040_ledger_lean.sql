-- 0040_ledger_lean (SQLite): the log and the queue sized for a national hall
-- (docs/performance.md, "Where the bytes go"). Keep the same logical shape as
-- migrations/postgres/0040_ledger_lean.sql (where ledger_refs' index is a block-range index,
-- the leaves' ref index a hash index, the steps' index on application_id alone and a leaf's
-- salt its 16 bytes: kinds SQLite does not have, or no gain here, so those stay as they are).

-- A leaf's hash is kept once, in the tree's tile of leaf hashes (ledger_tiles level 0): the
-- log reads it there, the audit recomputes it from the leaf's text and compares it with the
-- tile, and a leaf read alone is hashed again from its text (32 bytes a leaf fewer).
ALTER TABLE ledger_leaves DROP COLUMN hash;

-- The queue without a state filter, its light counts and a department's overdue list read a
-- department's running applications in due-day order; the concluded ones (nearly all, after
-- years) are not in this index. It holds every column their filters read, so a page's ids and
-- the counts come from the index alone (src/cases/store.c), and it replaces the seven-column
-- index over every application.
DROP INDEX IF EXISTS applications_queue_counts;
CREATE INDEX IF NOT EXISTS applications_running ON applications(department, COALESCE(due_day, 2147483647), id,
  due_day, yellow_day, completed_at, state, item_code, assigned_to)
  WHERE completed_at IS NULL AND state <> 'draft';
