-- 0041_applications_channel_check (SQLite): the same check on an application's channel, written
-- as comparisons. SQLite tests "channel IN (six names)" in a CHECK through a temporary index it
-- builds at every insert (opened, filled, closed: about 30,000 instructions of the
-- group-commit writer per submission, docs/performance.md); "channel = 'web' OR ..." is tested
-- in place. Only the constraint's text changes, which SQLite's documentation allows through
-- writable_schema (the stored rows and their format are untouched; every row already passes
-- the check). PostgreSQL keeps its IN (migrations/postgres/0041_applications_channel_check.sql).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql,
     'CHECK (channel IN (''web'', ''app'', ''miniprogram'', ''kiosk'', ''counter'', ''open311''))',
     'CHECK (channel = ''web'' OR channel = ''app'' OR channel = ''miniprogram'' OR channel = ''kiosk'' OR channel = ''counter'' OR channel = ''open311'')')
 WHERE type = 'table' AND name = 'applications';
PRAGMA writable_schema = RESET;
