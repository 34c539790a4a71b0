-- 0003_cases (SQLite): applications (办件), their history, and their attachments. Keep the same
-- logical shape as migrations/postgres/0003_cases.sql. Days (due_day, paused_since) are day
-- numbers since 1970-01-01 in China Standard Time; times are Unix seconds.

CREATE TABLE applications (
  id INTEGER PRIMARY KEY,
  number TEXT UNIQUE,                 -- 办件编号, given at submission; sorts by date
  query_code TEXT,                    -- with the number, shows progress without logging in
  item_code TEXT NOT NULL,
  item_version INTEGER NOT NULL,      -- the version of the item the application was filed under
  department TEXT NOT NULL REFERENCES departments(code),
  applicant_id INTEGER NOT NULL REFERENCES accounts(id),
  enterprise_id INTEGER REFERENCES accounts(id),   -- filed for an enterprise (by it or an agent)
  filed_by INTEGER REFERENCES accounts(id),        -- who typed it (counter clerk, agent)
  channel TEXT NOT NULL CHECK (channel IN ('web', 'app', 'miniprogram', 'kiosk', 'counter', 'open311')),
  state TEXT NOT NULL,
  form TEXT NOT NULL,                 -- JSON object: field key -> value
  materials TEXT NOT NULL,            -- JSON array: per material slot, attachments or an e-certificate
  idempotency_key TEXT,
  assigned_to INTEGER REFERENCES accounts(id),
  submitted_at INTEGER,
  accepted_at INTEGER,
  decided_at INTEGER,
  completed_at INTEGER,
  limit_days INTEGER NOT NULL,        -- promised limit, working days
  legal_limit_days INTEGER NOT NULL,
  accepted_day INTEGER,
  paused_since INTEGER,               -- day the clock stopped; NULL while it runs
  paused_workdays INTEGER NOT NULL DEFAULT 0,
  due_day INTEGER,                    -- promised limit's last day (pauses included)
  legal_due_day INTEGER,
  yellow_day INTEGER,                 -- from this day on the light is yellow (red after due_day)
  return_state TEXT,                  -- where a supplement or special procedure goes back to
  version INTEGER NOT NULL DEFAULT 0, -- bumped by every change: concurrent actions serialise
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  FOREIGN KEY (item_code, item_version) REFERENCES service_items(code, version),
  UNIQUE (applicant_id, idempotency_key)
) STRICT;
-- A department's queue in due-day order (the order of case_list's queue statement).
CREATE INDEX applications_queue ON applications(department, COALESCE(due_day, 2147483647), id)
  WHERE state <> 'draft';
-- Counts of a queue by state, item and light, answered from the index alone.
CREATE INDEX applications_queue_counts ON applications(department, state, item_code, due_day, yellow_day, completed_at, assigned_to)
  WHERE state <> 'draft';
CREATE INDEX applications_due ON applications(due_day) WHERE completed_at IS NULL;
CREATE INDEX applications_applicant ON applications(applicant_id, created_at);
CREATE INDEX applications_enterprise ON applications(enterprise_id, created_at);

CREATE TABLE application_events (
  id INTEGER PRIMARY KEY,
  application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  actor_id INTEGER REFERENCES accounts(id),
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}'   -- JSON: legal basis, missing materials, delivery, ...
) STRICT;
CREATE INDEX application_events_app ON application_events(application_id, id);

-- Uploaded files, stored on disk under their SHA-256 (src/cases/attach.c).
CREATE TABLE attachments (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL,
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  filename TEXT NOT NULL,
  owner_id INTEGER NOT NULL REFERENCES accounts(id),
  application_id INTEGER REFERENCES applications(id) ON DELETE SET NULL,
  event_id INTEGER REFERENCES application_events(id),
  slot INTEGER,                       -- material slot index, when it satisfies a material
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_app ON attachments(application_id);
CREATE INDEX attachments_owner ON attachments(owner_id, created_at);

-- The last sequence number given per day, for application numbers.
CREATE TABLE application_seq (
  day INTEGER NOT NULL PRIMARY KEY,
  last INTEGER NOT NULL
) STRICT;
