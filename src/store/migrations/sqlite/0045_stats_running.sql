-- 0045_stats_running (sqlite): the statistics' running totals at the end of each week that has
-- ended (src/stats/running.c), in place of the months summed (0043). Keep the same logical
-- shape as the other backend's 0045_stats_running.sql.
--
-- A year read eleven months of sums and every day of the two partial months at its ends from
-- stats_daily (at a million applications about 80,000 rows a request). Now a week that has
-- ended gets a row per dimension in stats_running holding every day up to its last (the week
-- before's running totals plus its own days), so the days between two week ends are one
-- difference: a range reads two weeks' rows and at most six days at each end from stats_daily.
-- A rollup written later into a summed week drops that week and every later one (their
-- running totals include it); the duty sums them again. The duty sums every week anew after
-- this migration.
DROP TABLE IF EXISTS stats_monthly;
DROP TABLE IF EXISTS stats_months;
DELETE FROM stats_day_totals;

-- A week summed (Monday to Sunday; China Standard Time day numbers). stats_day_totals'
-- first_day is the first day of the week its rows belong to.
CREATE TABLE IF NOT EXISTS stats_weeks (
  first_day INTEGER PRIMARY KEY,
  last_day INTEGER NOT NULL
) STRICT;

-- The totals of every day up to and including last_day (a summed week's last day), per
-- dimension; none where the total is zero.
CREATE TABLE IF NOT EXISTS stats_running (
  last_day INTEGER NOT NULL,
  department TEXT NOT NULL,
  item_code TEXT NOT NULL,
  channel TEXT NOT NULL,
  metric TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (last_day, department, item_code, channel, metric)
) STRICT;
