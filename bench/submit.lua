-- bench/submit.lua: durable submissions through the API: every request files and submits a
-- new application (POST /api/v1/services/<item>/applications) with its own idempotency key
-- (wrk thread number + a per-thread counter + a run tag), so none is a repeat.
--   BENCH_TOKEN=<bearer> BENCH_TAG=<unique per run> \
--   wrk -t2 -c64 -d10s -s bench/submit.lua http://127.0.0.1:PORT/api/v1/services/gsa-0001/applications
package.path = "bench/?.lua;" .. package.path
local answers = require("answers")
setup, done = answers.setup, answers.done
local n = 0

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

-- Answers other than 201 are counted (wrk itself only counts >= 400).
response = answers.expect("submit.lua", function(status) return status == 201 end)
