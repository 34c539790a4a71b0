-- 0008_bundle_drafts (PostgreSQL): a bundle application may be saved as a draft and resumed.
-- submitted_at is NULL while it is a draft; draft_form (JSON object of the form's values) and
-- draft_materials (JSON array of {slot, attachments, ecert} over the bundle's material slots)
-- hold what was saved, and are cleared when the bundle is submitted.
ALTER TABLE bundle_applications ADD COLUMN submitted_at BIGINT;
ALTER TABLE bundle_applications ADD COLUMN draft_form TEXT;
ALTER TABLE bundle_applications ADD COLUMN draft_materials TEXT;
UPDATE bundle_applications SET submitted_at = created_at;
