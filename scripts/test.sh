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
# Order: the package suite starts first and runs beside the unit and lint suites (side by side)
# and the two API suites (side by side, each GOVHALL_TEST_JOBS files at once, default 2); then
# the failover drill, the load balancers and the browser suite, each alone. Each suite prints
# its result, its wall and CPU (user+sys) time and its five slowest files (every file's times
# in build/test-logs/durations.tsv); a failing suite's whole TAP output is kept in
# build/test-logs/. A test file that crashes, or runs longer than GOVHALL_TEST_FILE_TIMEOUT ms
# (default 900000: hung), counts as a failure.
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
out_dir=$(mktemp -d)
trap 'scripts/pg-test.sh stop --state "$pgstate" >/dev/null 2>&1; rm -f "$pgstate"; rm -rf "$out_dir"' EXIT
if pgurl=$(scripts/pg-test.sh start --state "$pgstate"); then
  export GOVHALL_TEST_PG=${pgurl#GOVHALL_TEST_PG=}
else
  echo "test: could not start PostgreSQL" >&2
  add 0 1
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0

# Each suite runs with its output in a file of its own; a suite started in the background runs
# beside the next ones and is reported, in order, by `report`. A suite's line gives its wall
# time and the CPU time (user+sys) of everything it ran.
slug() { echo "$1" | tr -c 'A-Za-z0-9\n' '-'; }
# launch NAME CMD...: runs CMD in the background; its output, status and times are kept.
launch() {
  local name=$1 f
  f="$out_dir/$(slug "$1")"
  shift
  (
    start=$SECONDS
    GOVHALL_TEST_TIMES="$f.times" "$@" >"$f.out" 2>&1
    echo $? >"$f.rc"
    # times: this shell's, then its children's user and system time (e.g. "0m1.5s 0m0.2s"); not
    # in a pipeline, whose subshell would have no children.
    times >"$f.cpu"
    tail -1 "$f.cpu" | awk -v wall=$((SECONDS - start)) '
      function s(t) { split(t, a, "m"); sub("s", "", a[2]); return a[1] * 60 + a[2] }
      { printf "%d s wall, %d s CPU (user+sys)\n", wall, s($1) + s($2) }' >"$f.time"
  ) &
  echo $! >"$f.pid"
}
# run NAME CMD...: a suite alone.
run() { launch "$@"; report "$1"; }

# Counting. C suites: cmocka's test cases, and each fuzz replay as one test.
count_meson() {
  local out=$1
  tail -n 12 "$out"
  local log="$BUILD/meson-logs/testlog.txt" p f fp ff crashed
  p=$(grep -Eo '\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -Eo '\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  fp=$(grep -Ec '^ *[0-9]+/[0-9]+ govhall:fuzz-replay / .* OK ' "$out")
  ff=$(grep -Ec '^ *[0-9]+/[0-9]+ govhall:fuzz-replay / .* (FAIL|ERROR|TIMEOUT)' "$out")
  # A unit program that crashed before its summary counts as one failure.
  crashed=$(grep -Ec '^ *[0-9]+/[0-9]+ govhall:unit / .* (ERROR|TIMEOUT|FAIL)' "$out")
  [ "$crashed" -gt 0 ] && [ "$f" -eq 0 ] && f=$crashed
  np=$((p + fp)) nf=$((f + ff))
  # Each program's time, as tests/timing.mjs gives a file's (no CPU time: meson gives none).
  node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)) {
    const t = JSON.parse(l); console.log(`${t.name}\t${t.duration.toFixed(1)}\t-`); }' \
    "$BUILD/meson-logs/testlog.json" >"$2" 2>/dev/null
}
# node --test prints "# pass N", "# fail N" and "# cancelled N": a file that crashed is a failing
# test of its own, one that outlived --test-timeout (hung) is stopped and counted as cancelled,
# and a cancelled test counts as failed.
count_node() {
  local out=$1
  np=$(grep -E '^# pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
  nf=$(grep -E '^# fail [0-9]+' "$out" | tail -1 | awk '{print $3}')
  nc=$(grep -E '^# cancelled [0-9]+' "$out" | tail -1 | awk '{print $3}')
  np=${np:-0} nf=$((${nf:-0} + ${nc:-0}))
  if [ "$rc" -ne 0 ] || [ "$nf" -ne 0 ]; then
    # Each failed test with its diagnostic block (the YAML up to "..."; the first 25 lines of
    # each, 150 in all), so that CI's output shows the message and not only the test's name.
    awk '/^ *not ok /{n=25} n>0 {print; n--} /^ *\.\.\.$/{n=0}' "$out" | head -150
  fi
}
# report NAME: waits for the suite, prints its result and adds it to the total. The whole output
# of a suite that failed is kept in build/test-logs/.
report() {
  local name=$1 f
  f="$out_dir/$(slug "$1")"
  wait "$(cat "$f.pid")"
  rc=$(cat "$f.rc" 2>/dev/null || echo 1)
  echo "== $name"
  if [ "$name" = "unit and fuzz-replay" ]; then count_meson "$f.out" "$f.times"; else count_node "$f.out"; fi
  if [ "$rc" -ne 0 ] || [ "$nf" -ne 0 ]; then
    [ "$nf" -eq 0 ] && nf=1
    mkdir -p build/test-logs
    local keep
    keep="build/test-logs/$(slug "$name").tap"
    cp "$f.out" "$keep"
    echo "$name: exit status $rc; the whole output is in $keep"
  fi
  echo "$name: $np passed, $nf failed ($(cat "$f.time" 2>/dev/null))"
  add "$np" "$nf"
  # The slowest files (tests/timing.mjs); every file's times in build/test-logs/durations.tsv.
  if [ -s "$f.times" ]; then
    mkdir -p build/test-logs
    sort -t $'\t' -k2,2nr "$f.times" | awk -F '\t' -v s="$name" -v r="$root/" '{ sub(r, "", $1); print s "\t" $1 "\t" $2 "\t" $3 }' \
      >>build/test-logs/durations.tsv
    sort -t $'\t' -k2,2nr "$f.times" | head -5 | awk -F '\t' -v r="$root/" \
      '{ sub(r, "", $1); printf "  %6.1f s wall %6s s CPU  %s\n", $2, $3, $1 }'
  fi
}

# A test file still running after this long is stopped and counts as failed (a hung file).
node_test=(node --import ./tests/timing.mjs --test --test-reporter=tap --test-timeout="${GOVHALL_TEST_FILE_TIMEOUT:-900000}")
# API files wait for servers, PostgreSQL and timers more than they compute: each API suite runs
# this many files at once (every file has its own ports, data folder and database), and the
# SQLite and the PostgreSQL suites run side by side.
jobs=${GOVHALL_TEST_JOBS:-2}
export GOVHALL_BIN=$root/$BUILD/govhall
mkdir -p build/test-logs
printf 'suite\tfile\twall s\tCPU s\n' >build/test-logs/durations.tsv

# The package suite (mostly the build of the package, when there is none newer than the
# sources) runs beside the unit, lint and API suites: nothing in it depends on time.
launch "package" "${node_test[@]}" --test-concurrency=1 tests/deploy/
# The unit programs (meson runs as many at once as there are cores) beside the lint suite: the
# API document against Redocly CLI, @readme/openapi-parser and the route table; no fixed sleeps
# in the test code.
launch "unit and fuzz-replay" meson test -C "$BUILD" --suite unit --suite fuzz-replay --print-errorlogs
launch lint "${node_test[@]}" tests/lint/
report "unit and fuzz-replay"
report lint
GOVHALL_TEST_BACKEND=sqlite launch "api (SQLite)" "${node_test[@]}" --test-concurrency="$jobs" tests/api/
if [ -n "${GOVHALL_TEST_PG:-}" ]; then
  GOVHALL_TEST_BACKEND=postgres launch "api (PostgreSQL)" "${node_test[@]}" --test-concurrency="$jobs" tests/api/
fi
report "api (SQLite)"
[ -n "${GOVHALL_TEST_PG:-}" ] && report "api (PostgreSQL)"
report "package"
if [ -n "${GOVHALL_TEST_PG:-}" ]; then
  # A primary and a synchronous standby of its own (scripts/pg-test.sh start --standby).
  run "failover (PostgreSQL)" "${node_test[@]}" tests/failover/
  GOVHALL_TEST_BACKEND=postgres run "load balancers (PostgreSQL)" "${node_test[@]}" --test-concurrency=1 tests/lb/
fi
run "browser" "${node_test[@]}" --test-concurrency=1 tests/browser/

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
