-- 0013_search (SQLite): synonyms and colloquial phrases added by administrators, on top of
-- data/search/synonyms.txt (src/search/synonyms.c). search_generation counts their changes;
-- every node rebuilds its search index when it moves. Keep the same logical shape as
-- migrations/postgres/0013_search.sql.

CREATE TABLE search_synonyms (
  id INTEGER PRIMARY KEY,
  phrases TEXT NOT NULL,              -- what people write, comma-separated
  terms TEXT NOT NULL,                -- the official wording searched as well, space-separated
  created_by INTEGER REFERENCES accounts(id),
  created_at INTEGER NOT NULL
) STRICT;

INSERT INTO catalog_meta (key, value) VALUES ('search_generation', '0');
