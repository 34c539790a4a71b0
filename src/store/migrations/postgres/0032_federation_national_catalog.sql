-- 0032_federation_national_catalog (postgres): the hub's national catalog and national supervision
-- (src/federation/natcat.c, natstats.c). Keep the same logical shape as the other backend's
-- 0032_federation_national_catalog.sql. Every row is a copy of what a hall published in a document it
-- signed; the hub fetches them again (docs/federation.md). Times are Unix seconds.

-- One row per (hall, item): the newest version of the item the hall's catalog feed gave.
-- code: the hall's item code, which is the national item code (事项基本编码): the same service
-- has the same code in every hall that offers it.
CREATE TABLE fed_nat_items (
  hall_id TEXT NOT NULL,
  code TEXT NOT NULL,
  version BIGINT NOT NULL,
  department TEXT NOT NULL,
  dept_zh TEXT NOT NULL,
  dept_en TEXT NOT NULL,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  keywords TEXT NOT NULL,            -- the item's keywords and aliases, space-separated
  materials TEXT NOT NULL,           -- the names of its materials, space-separated
  summary_zh TEXT NOT NULL,
  summary_en TEXT NOT NULL,
  online_depth BIGINT NOT NULL,
  url TEXT NOT NULL,                 -- the item's guide at its hall
  PRIMARY KEY (hall_id, code)
);

-- Per hall: how far its catalog feed was read, and its last statistics document.
CREATE TABLE fed_nat_sources (
  hall_id TEXT PRIMARY KEY,
  feed_cursor TEXT NOT NULL DEFAULT '',
  feed_at BIGINT,                        -- last page taken
  stats_doc TEXT,                    -- the statistics document as the hall signed it (JWS)
  stats_from TEXT,
  stats_to TEXT,
  stats_at BIGINT,
  error TEXT                         -- the last refusal or failure, for the operator
);

-- The statistics document's figures, one row per (hall, department).
CREATE TABLE fed_nat_stats (
  hall_id TEXT NOT NULL,
  department TEXT NOT NULL,
  dept_zh TEXT NOT NULL,
  dept_en TEXT NOT NULL,
  submitted BIGINT NOT NULL,
  concluded BIGINT NOT NULL,
  on_time BIGINT NOT NULL,
  online BIGINT NOT NULL,
  evals BIGINT NOT NULL,
  bad BIGINT NOT NULL,
  rect_closed BIGINT NOT NULL,
  rect_done BIGINT NOT NULL,
  PRIMARY KEY (hall_id, department)
);
