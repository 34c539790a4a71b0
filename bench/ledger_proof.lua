-- bench/ledger_proof.lua: GET /api/v1/ledger/proofs/inclusion for a random leaf of a tree of
-- LEDGER_LEAVES leaves (environment), one random index per request, each wrk thread seeded
-- differently.
local n = tonumber(os.getenv("LEDGER_LEAVES") or "1000")
local seq = 0

function setup(thread)
  seq = seq + 1
  thread:set("seed", seq)
end

function init(args)
  math.randomseed(os.time() + (seed or 0) * 7919)
end

function request()
  return wrk.format("GET", "/api/v1/ledger/proofs/inclusion?index=" .. math.random(0, n - 1) .. "&size=" .. n)
end
