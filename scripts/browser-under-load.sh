#!/usr/bin/env bash
# Runs the browser suite RUNS times (default 3), each beside `stress-ng --cpu 2` (both cores
# busy), to show that the tests wait for conditions and not for time. Needs the test build
# (make test builds it). Prints one line per run and ends with the total.
# Usage: scripts/browser-under-load.sh [RUNS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scripts/deps.sh load || exit 1
export GOVHALL_BIN=$PWD/build/test/govhall
[ -x "$GOVHALL_BIN" ] || { echo "no $GOVHALL_BIN: run make test once first" >&2; exit 1; }
pass=0 fail=0
for i in $(seq "$runs"); do
  stress-ng --cpu 2 --timeout 3600s >/dev/null 2>&1 &
  load=$!
  out=$(mktemp)
  start=$(date +%s)
  node --test --test-concurrency=1 --test-reporter=tap tests/browser/ >"$out" 2>&1
  kill "$load" 2>/dev/null
  wait "$load" 2>/dev/null
  p=$(grep -E '^# pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$out" | tail -1 | awk '{print $3}')
  echo "run $i: ${p:-0} passed, ${f:-?} failed in $(( $(date +%s) - start )) s"
  [ "${f:-1}" = 0 ] || grep -E '^not ok|^    not ok|error:' "$out" | head -20
  pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))
  rm -f "$out"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
