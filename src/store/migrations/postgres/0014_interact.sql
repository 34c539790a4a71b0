-- 0014_interact (PostgreSQL): evaluations (好差评), rectification of bad reviews, appeals,
-- consultations (咨询) with the items' FAQ, complaints and suggestions (投诉建议), and the
-- history of all of them (src/interact). Keep the same logical shape as
-- migrations/sqlite/0014_interact.sql. Times are Unix seconds; days are day numbers since
-- 1970-01-01 in China Standard Time.

-- Applications that may be rated: written by the cases observer when an application reaches
-- a decided terminal state (completed, not accepted, denied), in the transition's transaction.
CREATE TABLE rateable_cases (
  application_id BIGINT NOT NULL PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
  number TEXT NOT NULL UNIQUE,
  applicant_id BIGINT NOT NULL REFERENCES accounts(id),
  enterprise_id BIGINT REFERENCES accounts(id),
  department TEXT NOT NULL,
  item_code TEXT NOT NULL,
  channel TEXT NOT NULL,
  state TEXT NOT NULL,
  closed_at BIGINT NOT NULL,
  closed_day BIGINT NOT NULL,
  invited_at BIGINT                  -- the invitation to rate was sent (once per case)
);
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
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('application', 'consultation', 'complaint')),
  subject_id BIGINT NOT NULL,
  subject_ref TEXT NOT NULL,          -- the application number, or the consultation / complaint id
  rater_id BIGINT NOT NULL REFERENCES accounts(id),
  entered_by BIGINT REFERENCES accounts(id),   -- a counter clerk's rating device
  department TEXT NOT NULL,
  item_code TEXT,
  channel TEXT NOT NULL CHECK (channel IN ('web', 'app', 'kiosk', 'counter')),
  level BIGINT NOT NULL CHECK (level BETWEEN 1 AND 5),   -- 5 非常满意 .. 1 非常不满意
  tags TEXT NOT NULL DEFAULT '[]',    -- JSON array of reason tag codes
  comment TEXT NOT NULL DEFAULT '',
  bad BIGINT NOT NULL CHECK (bad IN (0, 1)),
  excluded BIGINT NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),  -- appeal upheld
  day BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (subject_kind, subject_id)   -- rated once
);
CREATE INDEX evaluations_rater ON evaluations(rater_id, id);
CREATE INDEX evaluations_department ON evaluations(department, id);

CREATE TABLE rectifications (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  evaluation_id BIGINT NOT NULL UNIQUE REFERENCES evaluations(id),
  department TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'visited', 'rectified', 'awaiting_rating', 'closed', 'cancelled')),
  due_day BIGINT NOT NULL,
  visit_at BIGINT, visit_method TEXT, visit_notes TEXT, visited_by BIGINT REFERENCES accounts(id),
  rectify_notes TEXT, rectified_at BIGINT, rectified_by BIGINT REFERENCES accounts(id),
  feedback TEXT, feedback_at BIGINT, feedback_by BIGINT REFERENCES accounts(id),
  citizen_level BIGINT CHECK (citizen_level BETWEEN 1 AND 3),    -- 3 满意, 2 基本满意, 1 不满意
  citizen_rated_at BIGINT,
  warned_at BIGINT,                  -- the overdue warning went to the department heads
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX rectifications_department ON rectifications(department, state, due_day);
CREATE INDEX rectifications_due ON rectifications(due_day) WHERE warned_at IS NULL;

CREATE TABLE appeals (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  evaluation_id BIGINT NOT NULL UNIQUE REFERENCES evaluations(id),   -- one appeal per review
  department TEXT NOT NULL,
  reason TEXT NOT NULL,
  filed_by BIGINT NOT NULL REFERENCES accounts(id),
  filed_at BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'upheld', 'rejected')),
  decided_by BIGINT REFERENCES accounts(id),
  decided_at BIGINT,
  decision_note TEXT
);
CREATE INDEX appeals_state ON appeals(state, id);

CREATE TABLE consultations (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  asker_id BIGINT NOT NULL REFERENCES accounts(id),
  department TEXT NOT NULL REFERENCES departments(code),
  item_code TEXT,
  subject TEXT NOT NULL,
  question TEXT NOT NULL,
  consent_public BIGINT NOT NULL CHECK (consent_public IN (0, 1)),
  channel TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'answered')),
  due_day BIGINT NOT NULL,
  answer TEXT, answered_by BIGINT REFERENCES accounts(id), answered_at BIGINT,
  public_question TEXT, public_answer TEXT,   -- staff's edited version, without personal data
  published BIGINT NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
  warned_at BIGINT,                 -- the overdue warning went to the department's staff
  created_at BIGINT NOT NULL
);
CREATE INDEX consultations_asker ON consultations(asker_id, id);
CREATE INDEX consultations_department ON consultations(department, state, due_day);
CREATE INDEX consultations_faq ON consultations(item_code, answered_at) WHERE published = 1;

CREATE TABLE complaints (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  complainant_id BIGINT NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL CHECK (kind IN ('complaint', 'suggestion')),
  department TEXT NOT NULL REFERENCES departments(code),
  item_code TEXT,
  application_number TEXT,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  channel TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'answered')),
  due_day BIGINT NOT NULL,
  escalation BIGINT NOT NULL DEFAULT 0 CHECK (escalation BETWEEN 0 AND 2),  -- 1 heads, 2 administrators
  escalated_at BIGINT,
  answer TEXT, answered_by BIGINT REFERENCES accounts(id), answered_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX complaints_complainant ON complaints(complainant_id, id);
CREATE INDEX complaints_department ON complaints(department, state, due_day);
CREATE INDEX complaints_open_due ON complaints(due_day) WHERE state = 'open';

-- Everything that happens to an evaluation, rectification, appeal, consultation or complaint.
CREATE TABLE interact_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject_kind TEXT NOT NULL,         -- evaluation, rectification, appeal, consultation, complaint
  subject_id BIGINT NOT NULL,
  at BIGINT NOT NULL,
  actor_id BIGINT REFERENCES accounts(id),   -- NULL: the system
  action TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX interact_events_subject ON interact_events(subject_kind, subject_id, id);
