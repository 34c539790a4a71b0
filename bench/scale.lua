-- bench/scale.lua: the requests of one figure of `make bench-scale` (bench/scale.sh), taken at
-- random from a file, one per line: METHOD <TAB> PATH [<TAB> BODY]. In a body, {n} becomes a
-- number unique to the request (run tag, wrk thread, counter: a fresh idempotency key).
--   SCALE_REQUESTS=FILE    the requests
--   SCALE_AUTH=VALUE       an Authorization header (Bearer ...), or none
--   SCALE_COOKIE=VALUE     a Cookie header, or none
--   SCALE_TAG=TEXT         part of {n}, unique per run
-- Prints "bad N" (answers outside 200-299: a redirect to the log-in page is no answer) at the
-- end, for bench/scale.sh.
package.path = "bench/?.lua;" .. package.path
local answers = require("answers")
setup, done = answers.setup, answers.done
local reqs = {}
local n = 0

function init(args)
  for line in io.lines(os.getenv("SCALE_REQUESTS")) do
    local m, p, b = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    if m then table.insert(reqs, { m, p, b }) end
  end
  if #reqs == 0 then error("scale.lua: no requests in " .. tostring(os.getenv("SCALE_REQUESTS"))) end
  local auth, cookie = os.getenv("SCALE_AUTH"), os.getenv("SCALE_COOKIE")
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
  if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
  tag = os.getenv("SCALE_TAG") or tostring(os.time())
  math.randomseed(os.time() + (tid or 0) * 7919)
end

function request()
  n = n + 1
  local r = reqs[math.random(1, #reqs)]
  local body = nil
  -- wrk.format uses the table given instead of wrk.headers: start from a copy of them
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  -- a client address of its own per request (the nodes trust 127.0.0.1 as a proxy): the
  -- per-address limits of the anonymous progress query measure no single client's flood
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  if r[3] ~= "" then
    body = r[3]:gsub("{n}", string.format("%s-%d-%d", tag, tid, n))
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(r[1], r[2], headers, body)
end

response = answers.expect("scale.lua", function(status) return status >= 200 and status < 300 end, "bad")
