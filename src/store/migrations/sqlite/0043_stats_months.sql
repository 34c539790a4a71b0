-- 0043_stats_months (sqlite): the statistics of closed months kept summed (src/stats/months.c).
-- Keep the same logical shape as the other backend's 0043_stats_months.sql.
--
-- A range of a year read every daily rollup row of it (a row per day, department, item,
-- channel and metric): at a million applications about a million rows a request. A duty now
-- sums each month that has ended into stats_monthly (a row per month and dimensions) and
-- stats_day_totals (a row per day and metric, for the series), and marks it in stats_months;
-- figures read the marked months there and the other days from stats_daily. A rollup written
-- later into a marked month (an evaluation taken out after an appeal) unmarks it first, and
-- the duty sums it again.

-- A month summed: its first and last day (China Standard Time day numbers).
CREATE TABLE IF NOT EXISTS stats_months (
  first_day INTEGER PRIMARY KEY,
  last_day INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS stats_monthly (
  first_day INTEGER NOT NULL,
  department TEXT NOT NULL,
  item_code TEXT NOT NULL,
  channel TEXT NOT NULL,
  metric TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (first_day, department, item_code, channel, metric)
) STRICT;

CREATE TABLE IF NOT EXISTS stats_day_totals (
  day INTEGER NOT NULL,
  metric TEXT NOT NULL,
  first_day INTEGER NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (day, metric)
) STRICT;

-- Registrations as of a day sum every registration row before it: the rows without
-- dimensions, found by metric without reading the others.
CREATE INDEX IF NOT EXISTS stats_daily_plain ON stats_daily (metric, day)
  WHERE department = '' AND item_code = '' AND channel = '';
