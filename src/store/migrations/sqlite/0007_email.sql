-- 0007_email (SQLite): an account's e-mail address for notifications, sealed like the phone
-- number (email_enc) with a masked copy for display. No blind index: addresses are not used
-- to log in and need not be unique.
ALTER TABLE accounts ADD COLUMN email_enc BLOB;
ALTER TABLE accounts ADD COLUMN email_mask TEXT;
