-- bench/probe.lua: a light probe (each connection waits 5 ms between requests) whose latency
-- shows whether the event loop stays responsive while the job pool is saturated.
function delay()
  return 5
end
