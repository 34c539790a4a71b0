-- 0014_interact (SQLite): evaluations (好差评), rectification of bad reviews, appeals,
-- consultations (咨询) with the items' FAQ, complaints and suggestions (投诉建议), and the
-- history of all of them (src/interact). Keep the same logical shape as
-- migrations/postgres/0014_interact.sql. Times are Unix seconds; days are day numbers since
-- 1970-01-01 in China Standard Time.

-- Applications that may be rated: written by the cases observer when an application reaches
-- a decided terminal state (completed, not accepted, denied), in the transition's transaction.
CREATE TABLE rateable_cases (
  application_id INTEGER NOT NULL PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
  number TEXT NOT NULL UNIQUE,
  applicant_id INTEGER NOT NULL REFERENCES accounts(id),
  enterprise_id INTEGER REFERENCES accounts(id),
  department TEXT NOT NULL,
  item_code TEXT NOT NULL,
  channel TEXT NOT NULL,
  state TEXT NOT NULL,
  closed_at INTEGER NOT NULL,
  closed_day INTEGER NOT NULL,
  invited_at INTEGER                  -- the invitation to rate was sent (once per case)
) STRICT;
CREATE INDEX rateable_cases_invite ON rateable_cases(closed_day) WHERE invited_at IS NULL;
CREATE INDEX rateable_cases_applicant ON rateable_cases(applicant_id);
-- Applications that ended before this migration may be rated too; they get no invitation (it
-- would come late), so invited_at is set.
INSERT INTO rateable_cases (application_id, number, applicant_id, enterprise_id, department, item_code, channel,
                            state, closed_at, closed_day, invited_at)
  SELECT id, number, applicant_id, enterprise_id, department, item_code, channel, state,
         COALESCE(completed_at, decided_at, updated_at), (COALESCE(completed_at, decided_at, updated_at) + 28800) / 86400,
         COALESCE(completed_at, decided_at, updated_at)
  FROM applications WHERE state IN ('completed', 'not_accepted', 'denied') AND number IS NOT NULL;

CREATE TABLE evaluations (
  id INTEGER PRIMARY KEY,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('application', 'consultation', 'complaint')),
  subject_id INTEGER NOT NULL,
  subject_ref TEXT NOT NULL,          -- the application number, or the consultation / complaint id
  rater_id INTEGER NOT NULL REFERENCES accounts(id),
  entered_by INTEGER REFERENCES accounts(id),   -- a counter clerk's rating device
  department TEXT NOT NULL,
  item_code TEXT,
  channel TEXT NOT NULL CHECK (channel IN ('web', 'app', 'kiosk', 'counter')),
  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),   -- 5 非常满意 .. 1 非常不满意
  tags TEXT NOT NULL DEFAULT '[]',    -- JSON array of reason tag codes
  comment TEXT NOT NULL DEFAULT '',
  bad INTEGER NOT NULL CHECK (bad IN (0, 1)),
  excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),  -- appeal upheld
  day INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (subject_kind, subject_id)   -- rated once
) STRICT;
CREATE INDEX evaluations_rater ON evaluations(rater_id, id);
CREATE INDEX evaluations_department ON evaluations(department, id);

CREATE TABLE rectifications (
  id INTEGER PRIMARY KEY,
  evaluation_id INTEGER NOT NULL UNIQUE REFERENCES evaluations(id),
  department TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'visited', 'rectified', 'awaiting_rating', 'closed', 'cancelled')),
  due_day INTEGER NOT NULL,
  visit_at INTEGER, visit_method TEXT, visit_notes TEXT, visited_by INTEGER REFERENCES accounts(id),
  rectify_notes TEXT, rectified_at INTEGER, rectified_by INTEGER REFERENCES accounts(id),
  feedback TEXT, feedback_at INTEGER, feedback_by INTEGER REFERENCES accounts(id),
  citizen_level INTEGER CHECK (citizen_level BETWEEN 1 AND 3),    -- 3 满意, 2 基本满意, 1 不满意
  citizen_rated_at INTEGER,
  warned_at INTEGER,                  -- the overdue warning went to the department heads
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX rectifications_department ON rectifications(department, state, due_day);
CREATE INDEX rectifications_due ON rectifications(due_day) WHERE warned_at IS NULL;

CREATE TABLE appeals (
  id INTEGER PRIMARY KEY,
  evaluation_id INTEGER NOT NULL UNIQUE REFERENCES evaluations(id),   -- one appeal per review
  department TEXT NOT NULL,
  reason TEXT NOT NULL,
  filed_by INTEGER NOT NULL REFERENCES accounts(id),
  filed_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'upheld', 'rejected')),
  decided_by INTEGER REFERENCES accounts(id),
  decided_at INTEGER,
  decision_note TEXT
) STRICT;
CREATE INDEX appeals_state ON appeals(state, id);

CREATE TABLE consultations (
  id INTEGER PRIMARY KEY,
  asker_id INTEGER NOT NULL REFERENCES accounts(id),
  department TEXT NOT NULL REFERENCES departments(code),
  item_code TEXT,
  subject TEXT NOT NULL,
  question TEXT NOT NULL,
  consent_public INTEGER NOT NULL CHECK (consent_public IN (0, 1)),
  channel TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'answered')),
  due_day INTEGER NOT NULL,
  answer TEXT, answered_by INTEGER REFERENCES accounts(id), answered_at INTEGER,
  public_question TEXT, public_answer TEXT,   -- staff's edited version, without personal data
  published INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
  warned_at INTEGER,                 -- the overdue warning went to the department's staff
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX consultations_asker ON consultations(asker_id, id);
CREATE INDEX consultations_department ON consultations(department, state, due_day);
CREATE INDEX consultations_faq ON consultations(item_code, answered_at) WHERE published = 1;

CREATE TABLE complaints (
  id INTEGER PRIMARY KEY,
  complainant_id INTEGER NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL CHECK (kind IN ('complaint', 'suggestion')),
  department TEXT NOT NULL REFERENCES departments(code),
  item_code TEXT,
  application_number TEXT,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  channel TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'answered')),
  due_day INTEGER NOT NULL,
  escalation INTEGER NOT NULL DEFAULT 0 CHECK (escalation BETWEEN 0 AND 2),  -- 1 heads, 2 administrators
  escalated_at INTEGER,
  answer TEXT, answered_by INTEGER REFERENCES accounts(id), answered_at INTEGER,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX complaints_complainant ON complaints(complainant_id, id);
CREATE INDEX complaints_department ON complaints(department, state, due_day);
CREATE INDEX complaints_open_due ON complaints(due_day) WHERE state = 'open';

-- Everything that happens to an evaluation, rectification, appeal, consultation or complaint.
CREATE TABLE interact_events (
  id INTEGER PRIMARY KEY,
  subject_kind TEXT NOT NULL,         -- evaluation, rectification, appeal, consultation, complaint
  subject_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  actor_id INTEGER REFERENCES accounts(id),   -- NULL: the system
  action TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX interact_events_subject ON interact_events(subject_kind, subject_id, id);
