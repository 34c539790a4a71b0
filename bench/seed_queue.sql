-- bench/seed_queue.sql: one million applications for the staff queue benchmark, spread over
-- every item of the demo catalog (so over its departments), over the states of the workflow
-- and over due days around today. Run with the sqlite3 CLI on a database made by
-- `govhall init --demo`:   sqlite3 DB < bench/seed_queue.sql
-- (The count comes from the parameter table: .parameter set @n 1000000 before reading it.)
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
CREATE TEMP TABLE bench_items AS
  SELECT row_number() OVER (ORDER BY code) - 1 AS k, code, version, department, promised_limit_days, legal_limit_days
  FROM service_items s WHERE version = (SELECT max(version) FROM service_items t WHERE t.code = s.code);
CREATE TEMP TABLE bench_states (k INTEGER PRIMARY KEY, state TEXT NOT NULL, accepted INTEGER NOT NULL, done INTEGER NOT NULL);
INSERT INTO bench_states VALUES
  (0, 'submitted', 0, 0), (1, 'submitted', 0, 0), (2, 'accepted', 1, 0), (3, 'accepted', 1, 0),
  (4, 'under_review', 1, 0), (5, 'under_review', 1, 0), (6, 'supplement', 1, 0), (7, 'approved', 1, 0),
  (8, 'completed', 1, 1), (9, 'completed', 1, 1);
BEGIN;
WITH RECURSIVE
  n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < coalesce(@n, 1000000)),
  clock(today, now) AS (SELECT CAST((unixepoch() + 8 * 3600) / 86400 AS INTEGER), unixepoch()),
  cnt(c) AS (SELECT count(*) FROM bench_items)
INSERT INTO applications (number, query_code, item_code, item_version, department, applicant_id, channel, state,
  form, materials, submitted_at, accepted_at, completed_at, limit_days, legal_limit_days, accepted_day,
  due_day, legal_due_day, yellow_day, version, created_at, updated_at)
SELECT printf('QB%09d', i), 'BENCHQRY', it.code, it.version, it.department, 1 + i % 2, 'app', st.state,
  '{"content":"seeded"}', '[]', now - i % 86400, CASE WHEN st.accepted THEN now - i % 86400 END,
  CASE WHEN st.done THEN now END, it.promised_limit_days, it.legal_limit_days,
  CASE WHEN st.accepted THEN today - 10 END,
  CASE WHEN st.accepted THEN today + (i / 10) % 41 - 20 END,
  CASE WHEN st.accepted THEN today + (i / 10) % 41 - 10 END,
  CASE WHEN st.accepted THEN today + (i / 10) % 41 - 23 END,
  2, now - i % 86400, now - i % 86400
FROM n, clock, cnt
JOIN bench_items it ON it.k = (i * 7) % cnt.c
JOIN bench_states st ON st.k = i % 10;
COMMIT;
