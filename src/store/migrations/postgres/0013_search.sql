-- 0013_search (PostgreSQL): synonyms and colloquial phrases added by administrators, on top of
-- data/search/synonyms.txt (src/search/synonyms.c). search_generation counts their changes;
-- every node rebuilds its search index when it moves. Keep the same logical shape as
-- migrations/sqlite/0013_search.sql.

CREATE TABLE search_synonyms (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  phrases TEXT NOT NULL,
  terms TEXT NOT NULL,
  created_by BIGINT REFERENCES accounts(id),
  created_at BIGINT NOT NULL
);

INSERT INTO catalog_meta (key, value) VALUES ('search_generation', '0');
