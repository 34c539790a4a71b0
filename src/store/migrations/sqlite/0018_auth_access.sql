-- 0018_auth_access (SQLite): who owns what, and who contributed to what. Keep the same logical
-- shape as migrations/postgres/0018_auth_access.sql.
--
-- Things filed for an enterprise carry it (enterprise_id; NULL: filed by a person for
-- themself), so that they are the enterprise's, seen by its agents only while authorised
-- (identity_owns in src/identity/session.c): uploads, evaluations, consultations, complaints.
ALTER TABLE attachments ADD COLUMN enterprise_id INTEGER REFERENCES accounts(id);
UPDATE attachments SET enterprise_id = (SELECT a.enterprise_id FROM applications a WHERE a.id = attachments.application_id)
  WHERE application_id IS NOT NULL;
ALTER TABLE evaluations ADD COLUMN enterprise_id INTEGER REFERENCES accounts(id);
UPDATE evaluations SET enterprise_id = (SELECT c.enterprise_id FROM rateable_cases c WHERE c.application_id = evaluations.subject_id)
  WHERE subject_kind = 'application';
CREATE INDEX evaluations_enterprise ON evaluations(enterprise_id) WHERE enterprise_id IS NOT NULL;
ALTER TABLE consultations ADD COLUMN enterprise_id INTEGER REFERENCES accounts(id);
ALTER TABLE complaints ADD COLUMN enterprise_id INTEGER REFERENCES accounts(id);

-- Everyone who wrote any part of a published document (its author, whoever edited it, added a
-- file or sent it for review): none of them may approve it (separation of duties,
-- src/publish/store.c).
CREATE TABLE publish_contributors (
  document_id INTEGER NOT NULL REFERENCES publish_documents(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  PRIMARY KEY (document_id, account_id)
) STRICT;
INSERT INTO publish_contributors (document_id, account_id) SELECT id, author_id FROM publish_documents;
