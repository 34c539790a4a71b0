-- 0033_remote_applications (PostgreSQL): 跨省通办, applications across halls (src/remote). Keep the
-- same logical shape as migrations/sqlite/0033_remote_applications.sql. Times are Unix seconds.

-- At the hall where the person applied (A): an application forwarded to the hall that owns the
-- item (B), which works it; B's state changes come back as messages and are kept here.
CREATE TABLE fed_forwarded (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,       -- this hall's number for it (also the messages' subject)
  dest TEXT NOT NULL,                -- the hall that works it (directory id)
  item_code TEXT NOT NULL,           -- the national item code at dest
  item_name TEXT,                    -- as dest names it, once it answered
  applicant_id BIGINT NOT NULL REFERENCES accounts(id),
  filed_by BIGINT REFERENCES accounts(id),   -- the clerk at the counter (异地代收), else NULL
  channel TEXT NOT NULL CHECK (channel IN ('web', 'counter')),
  delivery TEXT CHECK (delivery IN ('online', 'post')),   -- how the result is returned
  consent_at BIGINT NOT NULL,       -- when the person agreed to send form and files to dest
  remote_number TEXT,                -- dest's number of the application, once filed there
  state TEXT NOT NULL,               -- 'forwarded' until dest answers, then dest's state
  reason TEXT,                       -- dest's reason of its last step, if any
  last_seq BIGINT NOT NULL DEFAULT 0,        -- the last of dest's state messages applied
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX fed_forwarded_applicant ON fed_forwarded(applicant_id, id);

-- Its timeline: one row per state message of dest (and the forwarding itself, seq 0).
CREATE TABLE fed_forwarded_events (
  forwarded_id BIGINT NOT NULL REFERENCES fed_forwarded(id),
  seq BIGINT NOT NULL,
  action TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  at BIGINT NOT NULL,               -- when it happened at dest (the forwarding: here)
  PRIMARY KEY (forwarded_id, seq)
);

-- At the hall that works it (B): which of its applications came from another hall.
CREATE TABLE fed_received (
  application_id BIGINT PRIMARY KEY REFERENCES applications(id),
  origin TEXT NOT NULL,              -- the hall where the person applied
  origin_number TEXT NOT NULL,       -- its number there (the subject of the messages back)
  delivery TEXT,
  received_at BIGINT NOT NULL,
  UNIQUE (origin, origin_number)
);
