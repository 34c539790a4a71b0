-- 0041_applications_channel_check (PostgreSQL): nothing to change. On SQLite the check on an
-- application's channel is rewritten as comparisons (an IN list there builds a temporary index
-- at every insert); PostgreSQL tests its IN list in place.
SELECT 1;
