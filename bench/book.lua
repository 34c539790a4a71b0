-- bench/book.lua: booking requests through the API: every request holds a place
-- (POST /api/v1/bookings) for one of several citizens, items and slots in turn, so the
-- per-person limit (booking-max-active, raised for the run) and the places per slot are never
-- the reason of an answer; each hold is one transaction with the conditional write that takes
-- the place.
--   BENCH_BOOK_TOKENS=t1,t2,...  BENCH_BOOK_ITEMS=psb-0001,...  BENCH_BOOK_SLOTS=YYYY-MM-DD/HH:MM,...
--   BENCH_BOOK_CENTRE=bench  wrk -t2 -c64 -d10s -s bench/book.lua http://127.0.0.1:PORT/api/v1/bookings
package.path = "bench/?.lua;" .. package.path
local answers = require("answers")
setup, done = answers.setup, answers.done

local function split(s)
  local t = {}
  for v in string.gmatch(s or "", "[^,]+") do table.insert(t, v) end
  return t
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  tokens = split(os.getenv("BENCH_BOOK_TOKENS"))
  items = split(os.getenv("BENCH_BOOK_ITEMS"))
  slots = split(os.getenv("BENCH_BOOK_SLOTS"))
  centre = os.getenv("BENCH_BOOK_CENTRE") or "bench"
  n = tid * 7919
end

function request()
  n = n + 1
  local token = tokens[n % #tokens + 1]
  local item = items[math.floor(n / #tokens) % #items + 1]
  local slot = slots[math.floor(n / (#tokens * #items)) % #slots + 1]
  local day, start = string.match(slot, "([^/]+)/(.+)")
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.body = string.format('{"centre":"%s","item":"%s","day":"%s","start":"%s"}', centre, item, day, start)
  return wrk.format()
end

-- Answers other than 201 are counted.
response = answers.expect("book.lua", function(status) return status == 201 end)
