-- 0005_warnings_calendar (SQLite): deadline warnings to staff, and the working-day calendar
-- as administrators edit it (src/cases/warnings.c, src/cases/calendar_admin.c). Keep the same
-- logical shape as migrations/postgres/0005_warnings_calendar.sql. Days are day numbers since
-- 1970-01-01 in China Standard Time; times are Unix seconds.

-- One row per application and colour: the primary key makes a warning once-only across
-- passes, restarts and nodes (INSERT ... ON CONFLICT DO NOTHING; only the inserter sends).
CREATE TABLE warnings (
  application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  colour TEXT NOT NULL CHECK (colour IN ('yellow', 'red')),
  at INTEGER NOT NULL,
  PRIMARY KEY (application_id, colour)
) STRICT;

-- Official holidays (every day of a holiday period, weekend days included) and adjusted
-- working weekend days (调休上班). A day is one or the other. Seeded from
-- data/catalog/holidays.json by `govhall init` (and at start when never seeded).
CREATE TABLE calendar_days (
  day INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
  note TEXT NOT NULL DEFAULT ''
) STRICT;

-- Bumped by every change of calendar_days (and by the first seeding): each node compares it
-- with the calendar it holds and reloads. 0 = never seeded nor edited.
INSERT INTO catalog_meta (key, value) VALUES ('calendar_generation', '0');
