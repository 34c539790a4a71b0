-- 0001_catalog (PostgreSQL): the service catalogue. Keep the same logical shape as
-- migrations/sqlite/0001_catalog.sql. JSON columns are TEXT holding a JSON array (not jsonb,
-- which would not give the stored text back byte for byte); money is double precision to
-- match SQLite's REAL.

CREATE TABLE departments (
  code TEXT NOT NULL PRIMARY KEY,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  phone TEXT,
  address_zh TEXT,
  address_en TEXT,
  position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE regions (
  code TEXT NOT NULL PRIMARY KEY,
  parent TEXT REFERENCES regions(code),
  level TEXT NOT NULL CHECK (level IN ('city', 'district')),
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions(parent);

-- One row per published version of an item; exactly one current version per code.
CREATE TABLE service_items (
  code TEXT NOT NULL,
  version INTEGER NOT NULL,
  is_current INTEGER NOT NULL DEFAULT 1 CHECK (is_current IN (0, 1)),
  department TEXT NOT NULL REFERENCES departments(code),
  audience TEXT NOT NULL,            -- comma-separated: individual,enterprise
  theme TEXT NOT NULL,
  item_type TEXT NOT NULL,
  level TEXT NOT NULL,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  legal_limit_days INTEGER NOT NULL,
  promised_limit_days INTEGER NOT NULL,
  fee_yuan double precision NOT NULL,
  online_depth INTEGER NOT NULL,
  visits_required INTEGER NOT NULL,
  conditions_zh TEXT,
  conditions_en TEXT,
  legal_basis_zh TEXT,
  materials TEXT NOT NULL,           -- JSON array
  form TEXT NOT NULL,                -- JSON array
  outcome_ecert TEXT,
  keywords_zh TEXT NOT NULL,         -- JSON array
  content_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (code, version)
);
CREATE UNIQUE INDEX service_items_current ON service_items(code) WHERE is_current = 1;
CREATE INDEX service_items_department ON service_items(department) WHERE is_current = 1;
CREATE INDEX service_items_theme ON service_items(theme) WHERE is_current = 1;

CREATE TABLE bundles (
  code TEXT NOT NULL PRIMARY KEY,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  description_zh TEXT NOT NULL,
  description_en TEXT NOT NULL,
  position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE bundle_items (
  bundle TEXT NOT NULL REFERENCES bundles(code) ON DELETE CASCADE,
  item TEXT NOT NULL,                -- service_items.code (any version)
  position INTEGER NOT NULL,
  PRIMARY KEY (bundle, item)
);
CREATE INDEX bundle_items_item ON bundle_items(item);

-- catalog_generation counts catalogue changes; nodes compare it to refresh their caches.
CREATE TABLE catalog_meta (
  key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO catalog_meta (key, value) VALUES ('catalog_generation', '0');
