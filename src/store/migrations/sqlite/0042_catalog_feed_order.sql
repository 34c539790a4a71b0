-- 0042_catalog_feed_order (sqlite): the order of the catalog feed (src/federation/natcat.c). Keep
-- the same logical shape as the other backend's 0042_catalog_feed_order.sql.
--
-- The feed was ordered by (created_at, code, version), a wall-clock second: a version written
-- in the same second as entries the hub had already read, with a lower code (a withdrawal and
-- a new version in one second, two imports in one second), sorted before the hub's cursor and
-- never reached it. Now every item version and withdrawal takes the next number of one
-- sequence in the transaction that writes it (the writer holds catalog_feed's lock until it
-- commits, so numbers become visible in order on PostgreSQL too), and a cursor is the last
-- number read.

CREATE TABLE IF NOT EXISTS catalog_feed (
  seq INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  version INTEGER NOT NULL,
  withdrawal INTEGER NOT NULL CHECK (withdrawal IN (0, 1)),
  UNIQUE (code, version, withdrawal)
) STRICT;

-- What was written before, in the order the feed gave it.
INSERT INTO catalog_feed (code, version, withdrawal)
SELECT code, version, w FROM (
  SELECT created_at AS at, code, version, 0 AS w FROM service_items
  UNION ALL SELECT withdrawn_at, code, version, 1 FROM service_withdrawals
) e WHERE true ORDER BY at, code, version, w
ON CONFLICT DO NOTHING;

DROP INDEX IF EXISTS service_withdrawals_at;

-- A hub reads every hall's feed again from its start with the new cursors (taking a feed
-- again changes nothing: the newest version of each item stays, withdrawals drop only the
-- version they name or older ones).
UPDATE fed_nat_sources SET feed_cursor = '' WHERE feed_cursor <> '';
