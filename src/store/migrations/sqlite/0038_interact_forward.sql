-- 0038_interact_forward (SQLite): consultations and complaints forwarded to the hall they belong
-- to (src/interact/forward.c). Keep the same logical shape as
-- migrations/postgres/0038_interact_forward.sql. Times are Unix seconds.
-- Its tables are made only when missing: a database put back to an older schema version (the
-- audit test's old leaves) runs it again.

-- At the hall where the person wrote (A): a consultation or complaint its staff forwarded to
-- another hall (B), which answers it; B's steps come back as messages and are kept here. The
-- thread itself stays in its own table, open until B's answer is written into it.
CREATE TABLE IF NOT EXISTS interact_forwards (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,       -- the messages' subject
  kind TEXT NOT NULL CHECK (kind IN ('consultation', 'complaint')),
  thread_id INTEGER NOT NULL,        -- consultations.id or complaints.id
  dest TEXT NOT NULL,                -- the hall it went to (directory id)
  reason TEXT NOT NULL,              -- why, in words for the person
  forwarded_by INTEGER NOT NULL REFERENCES accounts(id),
  state TEXT NOT NULL CHECK (state IN ('forwarded', 'received', 'answered', 'returned')),
  remote_id INTEGER,                 -- B's id of it, once filed there
  remote_due TEXT,                   -- B's due day (YYYY-MM-DD), once filed there
  note TEXT,                         -- B's reason when it did not take it
  last_seq INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS interact_forwards_thread ON interact_forwards(kind, thread_id, id);

-- At the hall that answers it (B): which of its consultations and complaints came from another
-- hall, and under which subject the answer goes back.
CREATE TABLE IF NOT EXISTS interact_received (
  kind TEXT NOT NULL CHECK (kind IN ('consultation', 'complaint')),
  thread_id INTEGER NOT NULL,
  origin TEXT NOT NULL,
  origin_number TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (kind, thread_id),
  UNIQUE (origin, origin_number)
) STRICT;
