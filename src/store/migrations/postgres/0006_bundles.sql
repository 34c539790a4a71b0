-- 0006_bundles (PostgreSQL): bundle applications (一件事一次办): one form for the items of a
-- catalog bundle, fanned out into one child application per item applied for online
-- (src/cases/bundles.c). Keep the same logical shape as migrations/sqlite/0006_bundles.sql.

CREATE TABLE bundle_applications (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  bundle_code TEXT NOT NULL,
  applicant_id BIGINT NOT NULL REFERENCES accounts(id),
  enterprise_id BIGINT REFERENCES accounts(id),   -- filed for an enterprise (by it or an agent)
  number TEXT UNIQUE,                 -- "QB" + the first child's number without its "QH"
  idempotency_key TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (applicant_id, idempotency_key)
);
CREATE INDEX bundle_applications_applicant ON bundle_applications(applicant_id, id);
CREATE INDEX bundle_applications_enterprise ON bundle_applications(enterprise_id, id);

-- The bundle a child application belongs to (NULL for ordinary applications).
ALTER TABLE applications ADD COLUMN bundle_id BIGINT REFERENCES bundle_applications(id);
CREATE INDEX applications_bundle ON applications(bundle_id) WHERE bundle_id IS NOT NULL;
