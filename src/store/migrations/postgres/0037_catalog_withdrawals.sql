-- 0037_catalog_withdrawals (postgres): items a hall no longer offers (src/catalog/import.c, the
-- import file's "withdrawn"). Keep the same logical shape as the other backend's
-- 0037_catalog_withdrawals.sql. A withdrawal retires the item's current version without a
-- newer one; a later import of the item makes a new version, current again. The catalog feed
-- (src/federation/natcat.c) carries withdrawals beside the versions, so the hub drops them.

-- One row per withdrawn version: code and version name the version that was current.
-- withdrawn_at: the same ISO form as service_items.created_at (the feed orders both by it).
CREATE TABLE IF NOT EXISTS service_withdrawals (
  code TEXT NOT NULL,
  version BIGINT NOT NULL,
  withdrawn_at TEXT NOT NULL,
  PRIMARY KEY (code, version)
);
CREATE INDEX IF NOT EXISTS service_withdrawals_at ON service_withdrawals(withdrawn_at, code, version);
