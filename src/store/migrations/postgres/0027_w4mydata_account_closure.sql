-- 0027_w4mydata_account_closure (PostgreSQL): when a person closed their account (src/privacy).
-- A closed account is 'disabled' with closed_at set: it cannot log in, an administrator
-- cannot enable it again, its contact data and look-up indexes are erased, and the records a
-- law requires keeping stay linked to it (docs/privacy.md). Keep the same logical shape as
-- the SQLite twin.
ALTER TABLE accounts ADD COLUMN closed_at BIGINT;
