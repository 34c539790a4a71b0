-- bench/answers.lua: what the wrk scripts of the benchmarks share (bench/submit.lua,
-- bench/form.lua, bench/book.lua, bench/scale.lua): each thread's number (the global tid, set
-- in setup), and a count of the answers other than the one a request should get; done()
-- prints the total of every thread as "<label> N" (label "not201" unless expect was given
-- another), the line bench/run.sh or bench/scale.sh reads. wrk runs from the project's root:
--   package.path = "bench/?.lua;" .. package.path
--   local answers = require("answers")
--   setup, done = answers.setup, answers.done
--   response = answers.expect("submit.lua", function(status, headers) return status == 201 end)
local M = {}
local threads = {}
local label = "not201"

function M.setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

-- A response function: answers for which ok(status, headers) is false are counted in the
-- thread's global named by as (default "not201"), and the first three are shown on stderr
-- with the script's name.
function M.expect(name, ok, as)
  label = as or label
  _G[label] = 0
  return function(status, headers, body)
    if not ok(status, headers) then
      _G[label] = _G[label] + 1
      if _G[label] <= 3 then
        local to = headers["Location"] or headers["location"] or ""
        io.stderr:write(name .. ": answer " .. status .. " " .. to .. ": " .. string.sub(body, 1, 200) .. "\n")
      end
    end
  end
end

function M.done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + (t:get(label) or 0)
  end
  io.write(string.format("%s %d\n", label, total))
end

return M
