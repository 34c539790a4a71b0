-- 0015_search_aliases (PostgreSQL): what people call an item or a bundle (俗称, 常用名), as
-- JSON arrays of strings per language: searched (src/search/docs.c) and shown on the guide
-- page as "又称 / Also called". Part of the catalog record, so an item's aliases are versioned
-- with it. Keep the same logical shape as migrations/sqlite/0015_search_aliases.sql.

ALTER TABLE service_items ADD COLUMN aliases_zh TEXT NOT NULL DEFAULT '[]';
ALTER TABLE service_items ADD COLUMN aliases_en TEXT NOT NULL DEFAULT '[]';
ALTER TABLE bundles ADD COLUMN aliases_zh TEXT NOT NULL DEFAULT '[]';
ALTER TABLE bundles ADD COLUMN aliases_en TEXT NOT NULL DEFAULT '[]';
