#!/usr/bin/env bash
# Runs every suite and ends with one line "N passed, N failed" totalling all of them.
#  - unit (cmocka) and fuzz corpus replay, built with AddressSanitizer + UBSan;
#    the storage tests run against SQLite and the throwaway PostgreSQL cluster;
#  - API tests (node --test) against the real binary, once on SQLite and once on PostgreSQL;
#  - the PostgreSQL failover drill (tests/failover: the primary dies under load);
#  - deploy/haproxy.cfg and deploy/nginx.conf in front of two nodes (tests/lb: a node dies
#    under load);
#  - browser tests (playwright-core + Debian chromium, axe-core);
#  - lint: docs/openapi.yaml (Redocly CLI, @readme/openapi-parser, `govhall routes`) and no
#    fixed sleeps in the tests;
#  - the Debian package (built by scripts/deb.sh unless one newer than the sources exists,
#    checked with lintian, unpacked and run) and `meson install`.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

BUILD=build/test
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dtests=true >/dev/null ||
    { echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$BUILD" >"$BUILD/ninja.log" 2>&1 || { cat "$BUILD/ninja.log"; echo "0 passed, 1 failed"; exit 1; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi

pass=0 fail=0
add() { pass=$((pass + $1)); fail=$((fail + $2)); }

pgstate=$(mktemp -u)
trap 'scripts/pg-test.sh stop --state "$pgstate" >/dev/null 2>&1; rm -f "$pgstate"' EXIT
if pgurl=$(scripts/pg-test.sh start --state "$pgstate"); then
  export GOVHALL_TEST_PG=${pgurl#GOVHALL_TEST_PG=}
else
  echo "test: could not start PostgreSQL" >&2
  add 0 1
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0

# C suites: count cmocka's test cases, and each fuzz replay as one test.
echo "== unit and fuzz-replay suites"
meson test -C "$BUILD" --suite unit --suite fuzz-replay --print-errorlogs >"$BUILD/meson-test.out" 2>&1
tail -n 12 "$BUILD/meson-test.out"
log="$BUILD/meson-logs/testlog.txt"
p=$(grep -Eo '\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
f=$(grep -Eo '\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
fp=$(grep -Ec '^ *[0-9]+/[0-9]+ govhall:fuzz-replay / .* OK ' "$BUILD/meson-test.out")
ff=$(grep -Ec '^ *[0-9]+/[0-9]+ govhall:fuzz-replay / .* (FAIL|ERROR|TIMEOUT)' "$BUILD/meson-test.out")
# A unit program that crashed before its summary counts as one failure.
crashed=$(grep -Ec '^ *[0-9]+/[0-9]+ govhall:unit / .* (ERROR|TIMEOUT|FAIL)' "$BUILD/meson-test.out")
[ "$crashed" -gt 0 ] && [ "$f" -eq 0 ] && f=$crashed
add "$((p + fp))" "$((f + ff))"

# node --test prints "# pass N" and "# fail N".
node_suite() {
  local name=$1; shift
  echo "== $name"
  local out
  out=$(mktemp)
  "$@" >"$out" 2>&1
  local rc=$?
  local np nf
  np=$(grep -E '^# pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
  nf=$(grep -E '^# fail [0-9]+' "$out" | tail -1 | awk '{print $3}')
  np=${np:-0} nf=${nf:-0}
  if [ "$rc" -ne 0 ] || [ "$nf" -ne 0 ]; then
    grep -vE '^# (Subtest|pass|fail|tests|suites|cancelled|skipped|todo|duration_ms)|^ *ok ' "$out" | grep -E 'not ok|Error|error|expected|actual|at ' | head -60
    [ "$nf" -eq 0 ] && nf=1
    mkdir -p build/test-logs
    local keep="build/test-logs/$(echo "$name" | tr -c 'A-Za-z0-9\n' '-').tap"
    cp "$out" "$keep"
    echo "$name: exit status $rc; the whole output is in $keep"
  fi
  echo "$name: $np passed, $nf failed"
  add "$np" "$nf"
  rm -f "$out"
}

export GOVHALL_BIN=$root/$BUILD/govhall
# The API document against Redocly CLI, @readme/openapi-parser and the route table; no fixed
# sleeps in the test code.
node_suite "lint" node --test --test-reporter=tap tests/lint/
GOVHALL_TEST_BACKEND=sqlite node_suite "api (SQLite)" node --test --test-reporter=tap tests/api/
if [ -n "${GOVHALL_TEST_PG:-}" ]; then
  GOVHALL_TEST_BACKEND=postgres node_suite "api (PostgreSQL)" node --test --test-reporter=tap tests/api/
  # A primary and a synchronous standby of its own (scripts/pg-test.sh start --standby).
  node_suite "failover (PostgreSQL)" node --test --test-reporter=tap tests/failover/
  GOVHALL_TEST_BACKEND=postgres node_suite "load balancers (PostgreSQL)" \
    node --test --test-reporter=tap --test-concurrency=1 tests/lb/
fi
node_suite "browser" node --test --test-reporter=tap --test-concurrency=1 tests/browser/
node_suite "package" node --test --test-reporter=tap --test-concurrency=1 tests/deploy/

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
