-- 0044_offers_schedule (sqlite): where the 免申即享 duty stands (src/notify/offers.c), shared by
-- every node and kept across restarts. Keep the same logical shape as the other backend's
-- 0044_offers_schedule.sql. Each node kept it in memory, so every node swept every account at
-- its start (a million accounts: minutes of a database core) and on its own schedule.
CREATE TABLE IF NOT EXISTS offers_schedule (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sweeping INTEGER NOT NULL,   -- 1: a sweep is under way, at account sweep_cursor
  sweep_cursor INTEGER NOT NULL,
  swept_at INTEGER NOT NULL,        -- when the last sweep began (Unix seconds)
  rules_mark TEXT NOT NULL,     -- the proactive rules it judged (item versions, hashed)
  news TEXT NOT NULL            -- each news source's last entry judged, comma-separated
) STRICT;
