#!/usr/bin/env bash
# bench/callgrind.sh: instructions per submission, counted by callgrind, the figure a shared
# machine cannot disturb (docs/performance.md, Submissions).
#   bench/callgrind.sh [api|form] [SECONDS] [OUT-DIR]
# A fresh demo database, the release build under valgrind --tool=callgrind with counting off,
# a warm-up (wrk -t1 -c8, 5 s), then counting on for wrk -t1 -c16 over SECONDS (15) of
# submissions of gsa-0001 through the channel; prints the instructions of every thread over
# the rows written, and those of the workers (HTTP, checks, validation, sealing, the answer)
# and of the group-commit writer apart. The writer's share per row falls as its batches grow,
# so compare runs that wrote about as many rows. Needs valgrind, wrk, sqlite3 and python3.
#   BENCH_BUILD=build/release
set -euo pipefail
CHANNEL=${1:-api}
SECONDS_RUN=${2:-15}
OUT=${3:-$(mktemp -d /tmp/govhall-callgrind.XXXXXX)}
BIN=${BENCH_BUILD:-build/release}/govhall
ITEM=gsa-0001
for c in valgrind callgrind_control callgrind_annotate wrk sqlite3 python3; do
  command -v "$c" >/dev/null || { echo "callgrind.sh: $c is missing" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "callgrind.sh: no $BIN (make release, or set BENCH_BUILD)" >&2; exit 1; }
case "$CHANNEL" in
  api) lua=bench/submit.lua path=/api/v1/services/$ITEM/applications ;;
  form) lua=bench/form.lua path=/services/$ITEM/apply ;;
  *) echo "callgrind.sh: the channel is api or form" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
"$BIN" init --demo --history 0 --db "$OUT/db" --key-file "$OUT/key" >"$OUT/init.log" 2>&1
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.%p" --separate-threads=yes --instr-atstart=no \
  "$BIN" serve --db "$OUT/db" --key-file "$OUT/key" --listen 127.0.0.1:0 --threads 2 --sqlite-synchronous full \
  --log-level warn >"$OUT/out" 2>"$OUT/err" &
vp=$!
trap 'kill "$vp" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 600); do
  url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$OUT/out" | head -1)
  [ -n "$url" ] && break
  kill -0 "$vp" 2>/dev/null || { cat "$OUT/err" >&2; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { echo "callgrind.sh: the server did not start" >&2; exit 1; }
# The demo citizen's API token, and its session and form token for the web form.
BENCH_TOKEN=$(python3 bench/citizen.py token "$url")
read -r BENCH_COOKIE BENCH_CSRF < <(python3 bench/citizen.py web "$url" "$ITEM")
export BENCH_TOKEN BENCH_COOKIE BENCH_CSRF BENCH_KIOSK=0
submitted() { sqlite3 "$OUT/db" "SELECT count(*) FROM applications WHERE state = 'submitted'"; }
BENCH_TAG=warm$$ wrk -t1 -c8 -d5s -s "$lua" "$url$path" >"$OUT/warm.wrk" 2>&1
before=$(submitted)
callgrind_control -i on "$vp" >/dev/null 2>&1
BENCH_TAG=run$$ wrk -t1 -c16 -d"${SECONDS_RUN}s" -s "$lua" "$url$path" >"$OUT/run.wrk" 2>&1
callgrind_control -i off "$vp" >/dev/null 2>&1
rows=$(( $(submitted) - before ))
callgrind_control -d "$vp" >/dev/null 2>&1
kill "$vp"
wait "$vp" 2>/dev/null || true
trap - EXIT
[ "$rows" -gt 0 ] || { echo "callgrind.sh: no rows written" >&2; exit 1; }
# Each thread's file of the dump: the writer runs case_transition, the workers answer.
total=0 workers=0 writer=0
for f in "$OUT"/cg.*.1-*; do
  t=$(awk '/^totals:/ {print $2; exit}' "$f")
  [ -n "$t" ] || continue
  total=$((total + t))
  if grep -q "fn=.*resp_body" "$f"; then workers=$((workers + t))
  elif grep -q "fn=.*case_transition" "$f"; then writer=$((writer + t)); fi
done
echo "callgrind ($CHANNEL, $ITEM, wrk -t1 -c16 ${SECONDS_RUN}s): $rows rows; $OUT"
printf '  instructions per submission: all threads %d, workers %d, writer %d\n' \
  $((total / rows)) $((workers / rows)) $((writer / rows))
