-- bench/form.lua: durable submissions through the HTML form (the web and kiosk channels):
-- every request posts the apply form (multipart/form-data, as a browser sends it) of a
-- logged-in citizen with its own idempotency key (wrk thread number + a per-thread counter +
-- a run tag), so none is a repeat; the answer is 303 to the application (or its receipt).
--   BENCH_COOKIE='gh_sid=...' BENCH_CSRF=<the session's form token> BENCH_TAG=<unique per run> \
--   [BENCH_KIOSK=1] wrk -t2 -c64 -d10s -s bench/form.lua http://127.0.0.1:PORT/services/gsa-0001/apply
package.path = "bench/?.lua;" .. package.path
local answers = require("answers")
setup, done = answers.setup, answers.done
local n = 0
local boundary = "----benchform7d1e"

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  local cookie = os.getenv("BENCH_COOKIE")
  if os.getenv("BENCH_KIOSK") == "1" then cookie = cookie .. "; kiosk=1" end
  wrk.headers["Cookie"] = cookie
  csrf = os.getenv("BENCH_CSRF")
  tag = os.getenv("BENCH_TAG") or tostring(os.time())
end

local function field(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n" .. value .. "\r\n"
end

function request()
  n = n + 1
  wrk.body = field("_csrf", csrf) .. field("idempotency_key", string.format("%s-%d-%d", tag, tid, n)) ..
    field("phone", "13800000001") .. field("type", "consult") ..
    field("content", string.format("Street light out at No. %d", n)) .. field("action", "submit") ..
    "--" .. boundary .. "--\r\n"
  return wrk.format()
end

-- Answers other than 303 to an application are counted.
response = answers.expect("form.lua", function(status, headers)
  return status == 303 and string.find(headers["Location"] or headers["location"] or "", "^/applications/") ~= nil
end)
