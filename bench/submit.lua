-- bench/submit.lua: durable submissions through the API: every request files and submits a
-- new application (POST /api/v1/services/<item>/applications) with its own idempotency key
-- (wrk thread number + a per-thread counter + a run tag), so none is a repeat.
--   BENCH_TOKEN=<bearer> BENCH_TAG=<unique per run> \
--   wrk -t2 -c64 -d10s -s bench/submit.lua http://127.0.0.1:PORT/api/v1/services/gsa-0001/applications
local threads = {}
local n = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  tag = os.getenv("BENCH_TAG") or tostring(os.time())
end

function request()
  n = n + 1
  wrk.body = string.format(
    '{"form":{"phone":"13800000001","type":"consult","content":"Street light out at No. %d"},' ..
    '"materials":[],"submit":true,"channel":"app","idempotency_key":"%s-%d-%d"}', n, tag, tid, n)
  return wrk.format()
end

-- Counts answers other than 201 (wrk itself only counts >= 400); done() prints the total as
-- "not201 N" for bench/run.sh.
not201 = 0
function response(status, headers, body)
  if status ~= 201 then
    not201 = not201 + 1
    if not201 <= 3 then io.stderr:write("submit.lua: answer " .. status .. ": " .. string.sub(body, 1, 200) .. "\n") end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + (t:get("not201") or 0)
  end
  io.write(string.format("not201 %d\n", total))
end
