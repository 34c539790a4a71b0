-- 0026_rules_item_rules (SQLite): decision rules of item versions (秒批, 免申即享) and the
-- benefits offered by them. Keep the same logical shape as
-- migrations/postgres/0026_rules_item_rules.sql.

-- An item version's decision rules (the item record's "rules" member, catalog data:
-- docs/catalog.md "Decision rules"). Written by the catalog's import with the version.
CREATE TABLE item_rules (
  code TEXT NOT NULL,
  version INTEGER NOT NULL,
  rules TEXT NOT NULL,                  -- JSON object, validated at import
  proactive INTEGER NOT NULL DEFAULT 0 CHECK (proactive IN (0, 1)),
  PRIMARY KEY (code, version),
  FOREIGN KEY (code, version) REFERENCES service_items(code, version)
) STRICT;

-- Benefits offered without applying (免申即享): the hall's duty found that account met every
-- condition of a proactive item version and said so in its inbox, once per account and rule
-- version (the key); the message itself is the inbox row.
CREATE TABLE rule_offers (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  item_code TEXT NOT NULL,
  version INTEGER NOT NULL,
  offered_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, item_code, version)
) STRICT;
