-- bench/login.lua: a flood of successful log-ins through the API (POST /api/v1/auth/token)
-- with a demo account. Every request comes from its own X-Forwarded-For address (the server
-- runs with --trust-proxy true), so the per-address limit never applies; the per-account
-- limit only counts failures.
--   wrk -t2 -c16 -d10s -s bench/login.lua http://127.0.0.1:PORT/api/v1/auth/token
local threads = {}
local n = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"login":"13800000001","password":"Qinghe-demo-2026","channel":"other","name":"bench","scopes":"profile"}'
end

function request()
  n = n + 1
  -- 10.<thread>.<n high>.<n low>: distinct for 65536 requests per thread, then reused.
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", tid % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format()
end
