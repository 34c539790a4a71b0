-- 0015_privacy_sealed_forms (SQLite): personal fields of stored forms are sealed, and staff
-- access to an applicant's data is recorded (src/cases/sealed.c, src/cases/access.c).
--
-- applications.form and bundle_applications.draft_form keep a JSON object of the values; a
-- personal field's value (cases/forms.h) is {"masked": "...", "sealed": "<base64url>"}
-- instead of the plain text. form_key_id / draft_key_id: the key the personal fields are
-- sealed under, 0 when the form has none, NULL for a form stored before this migration (the
-- cases duty seals those at start, `govhall key reseal` too).
ALTER TABLE applications ADD COLUMN form_key_id INTEGER;
CREATE INDEX applications_form_unsealed ON applications(id) WHERE form_key_id IS NULL;
ALTER TABLE bundle_applications ADD COLUMN draft_key_id INTEGER;

-- Who saw or revealed whose data: one row per staff member, application and day for views
-- of an application's detail, one row per reveal of a personal field. subject_id is the
-- account the data belongs to (the enterprise for an application filed for one).
CREATE TABLE access_events (
  id INTEGER PRIMARY KEY,
  subject_id INTEGER NOT NULL REFERENCES accounts(id),
  application_id INTEGER NOT NULL REFERENCES applications(id),
  actor_id INTEGER NOT NULL REFERENCES accounts(id),
  department TEXT,                    -- the actor's department (NULL for an administrator)
  actor_role TEXT NOT NULL,           -- "admin", or the staff duties then ("counter,reviewer")
  kind TEXT NOT NULL CHECK (kind IN ('view', 'reveal')),
  field TEXT,                         -- the form field revealed
  reason TEXT,                        -- the reason given for a reveal (optional)
  day INTEGER NOT NULL,               -- days since 1970-01-01, China Standard Time
  at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX access_events_view_once ON access_events(application_id, actor_id, day) WHERE kind = 'view';
CREATE INDEX access_events_subject ON access_events(subject_id, id);

-- Open311 requests are public: their status notes no longer carry the reasons staff wrote to
-- the applicant (src/open311/store.c); those copied before are dropped.
UPDATE open311_requests SET status_notes = NULL;
