#!/usr/bin/env bash
# bench/scale.sh (make bench-scale): the hall against national-scale data on PostgreSQL, each
# figure beside the same figure on 10,000 applications, measured in the same run.
#
#   bench/scale.sh                 (or: make bench-scale; not part of make test)
#
# Settings (environment):
#   BENCH_SCALE=10000000      applications of the large database (as many citizens, 1/100 as
#                             many enterprises, over BENCH_SCALE_DAYS days)
#   BENCH_SCALE_SMALL=10000   applications of the comparison database
#   BENCH_SCALE_DAYS=730      the window (two years, ending yesterday)
#   BENCH_SCALE_DIR=build/bench-scale   a PostgreSQL cluster and key files kept between runs:
#                             generation resumes where it stopped, and a complete database is
#                             measured again without being made again
#   BENCH_SCALE_MAX_GB=50     refuse a large database estimated beyond this (or beyond the free
#                             disk); the estimate is the large database's own bytes per
#                             application once it holds 100,000, else BENCH_SCALE_GB_PER_M
#   BENCH_SCALE_GB_PER_M=6.0  GB per million applications (measured at 1,000,000: 5.93;
#                             see docs/performance.md)
#   BENCH_SCALE_GENERATE_ONLY=1   generate and stop (no measurement)
#   BENCH_SCALE_SECONDS=10    each measurement; BENCH_SCALE_ROUNDS=3 rounds, alternating the two
#                             databases, the median round of each is printed
#   BENCH_SCALE_CONNS=8       wrk connections (log-ins: 2, submissions: 16)
#   BENCH_THREADS=nproc       worker threads of each node; BENCH_BUILD=build/release
#
# The figures: log-in (POST /api/v1/auth/token), a citizen's own list (GET /api/v1/applications),
# the anonymous progress query (GET /api/v1/progress, random applications), a staff queue page
# (GET /staff/queue) and the overdue list (GET /overdue) of a department's staff member, the
# statistics of the last year (GET /api/v1/stats), a search (GET /api/v1/search), inclusion
# proofs of random leaves (GET /api/v1/ledger/proofs/inclusion), submissions
# (POST /api/v1/services/gsa-0001/applications); then the database size per million
# applications and each node's resident memory. Goal: every p99 within 2x of its 10,000 figure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SCALE=${BENCH_SCALE:-10000000}
SMALL=${BENCH_SCALE_SMALL:-10000}
DAYS=${BENCH_SCALE_DAYS:-730}
DIR=${BENCH_SCALE_DIR:-build/bench-scale}
MAXGB=${BENCH_SCALE_MAX_GB:-50}
GB_PER_M=${BENCH_SCALE_GB_PER_M:-6.0}
SECS=${BENCH_SCALE_SECONDS:-10}
ROUNDS=${BENCH_SCALE_ROUNDS:-3}
CONNS=${BENCH_SCALE_CONNS:-8}
THREADS=${BENCH_THREADS:-$(nproc)}
BUILD=${BENCH_BUILD:-build/release}

say() { echo "bench-scale: $*" >&2; }
die() { say "error: $*"; exit 1; }

for c in wrk psql curl python3 meson ninja; do
  command -v "$c" >/dev/null 2>&1 || { scripts/deps.sh bench; break; }
done

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release -Dtests=false >/dev/null || die "meson setup failed"
fi
ninja -C "$BUILD" govhall >/dev/null || die "build failed (ninja -C $BUILD govhall)"
BIN=$root/$BUILD/govhall

mkdir -p "$DIR/keys"
DIR=$(cd "$DIR" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/govhall-scale-XXXXXX")
state=$tmp/pg.state
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  scripts/pg-test.sh stop --state "$state" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A cluster kept in DIR/pg, tuned for a database larger than memory.
pgurl=$(scripts/pg-test.sh start --data "$DIR/pg" --state "$state" \
  --setting "shared_buffers = 2GB" --setting "effective_cache_size = 8GB" --setting "work_mem = 32MB" \
  --setting "maintenance_work_mem = 512MB" --setting "max_wal_size = 8GB" --setting "checkpoint_timeout = 30min" \
  --setting "wal_compression = on") || die "could not start PostgreSQL in $DIR/pg"
pgurl=${pgurl#GOVHALL_TEST_PG=}
base=${pgurl%/postgres}

psql_at() { psql -X -q -At -v ON_ERROR_STOP=1 "$base/$1" -c "$2"; }

# ensure_db NAME APPLICATIONS: made and initialised once, generated (or resumed) to the end.
ensure_db() {
  local name=$1 n=$2 key=$DIR/keys/$1.key
  if ! psql_at postgres "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql_at postgres "CREATE DATABASE $name" >/dev/null
  fi
  "$BIN" init --demo --history 0 --db "$base/$name" --key-file "$key" >"$tmp/init-$name.log" 2>&1 ||
    { cat "$tmp/init-$name.log" >&2; die "govhall init --demo ($name) failed"; }
  say "$name: generating $n applications over $DAYS days (resumes where an earlier run stopped)"
  local start=$SECONDS
  "$BIN" bench-scale generate --scale "$n" --days "$DAYS" --db "$base/$name" --key-file "$key" ||
    die "generating $name failed (run again to resume)"
  echo "$((SECONDS - start))" >"$tmp/gen-$name.secs"
  # The benefits a hall's 免申即享 duty would have offered over the two years: one sweep over
  # every account (`govhall offers`), recorded in the schedule the nodes share, so the nodes
  # measured below do not make it again at their start. Once, unless the schedule shows none
  # (a database generated before is measured again without a sweep of a quarter of an hour).
  if [ "$(psql_at "$name" "SELECT COUNT(*) FROM offers_schedule WHERE sweeping = 0 AND swept_at > 0")" = 1 ]; then
    say "$name: the 免申即享 sweep was made after generating (offers_schedule): not again"
    return 0
  fi
  start=$SECONDS
  "$BIN" offers --db "$base/$name" --key-file "$key" >"$tmp/offers-$name.log" 2>&1 ||
    { cat "$tmp/offers-$name.log" >&2; die "govhall offers ($name) failed"; }
  echo "$((SECONDS - start)) s: $(cat "$tmp/offers-$name.log")" >"$tmp/offers-$name.secs"
}

small=gh_scale_$SMALL
large=gh_scale_$SCALE

# Will the large database fit?
free_gb=$(df -P -B1G "$DIR" | awk 'NR == 2 {print $4}')
have=0
if psql_at postgres "SELECT 1 FROM pg_database WHERE datname = '$large'" | grep -q 1; then
  read -r have bytes < <(psql_at "$large" "SELECT (SELECT COUNT(*) FROM applications), pg_database_size(current_database())" | tr '|' ' ')
  [ "$have" -ge 100000 ] && GB_PER_M=$(awk -v b="$bytes" -v n="$have" 'BEGIN { printf "%.2f", b / n * 1e6 / 1e9 }')
fi
need=$(awk -v s="$SCALE" -v h="$have" -v g="$GB_PER_M" 'BEGIN { printf "%.1f", (s - h) * g / 1e6 }')
total=$(awk -v s="$SCALE" -v g="$GB_PER_M" 'BEGIN { printf "%.1f", s * g / 1e6 }')
fits=$(awk -v s="$SCALE" -v g="$GB_PER_M" -v m="$MAXGB" -v f="$free_gb" -v n="$need" \
  'BEGIN { largest = int(m / g * 10) / 10; if (largest * 1e6 > s) largest = s / 1e6;
           print (s * g / 1e6 <= m && n + 2 <= f) ? "yes" : "no", largest }')
if [ "${fits%% *}" != yes ]; then
  die "$SCALE applications need about $total GB ($GB_PER_M GB per million; $need GB more here, $free_gb GB free, limit BENCH_SCALE_MAX_GB=$MAXGB): the largest that fits is BENCH_SCALE=$(awk -v l="${fits#* }" 'BEGIN { printf "%d", l * 1e6 }')"
fi
say "large database: $SCALE applications, about $total GB at $GB_PER_M GB per million ($free_gb GB free)"

ensure_db "$small" "$SMALL"
ensure_db "$large" "$SCALE"
[ "${BENCH_SCALE_GENERATE_ONLY:-0}" = 1 ] && { say "generated; BENCH_SCALE_GENERATE_ONLY=1: not measured"; exit 0; }

# ---- the two nodes ------------------------------------------------------------------------
start_node() {
  local name=$1
  "$BIN" serve --db "$base/$name" --key-file "$DIR/keys/$name.key" --listen 127.0.0.1:0 --threads "$THREADS" \
    --trusted-proxies 127.0.0.1 --log-level warn >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  echo $! >"$tmp/$name.pid"
  local url=""
  for _ in $(seq 600); do
    url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/$name.out" | head -1)
    [ -n "$url" ] && break
    kill -0 "$(cat "$tmp/$name.pid")" 2>/dev/null || { tail -n 20 "$tmp/$name.err" >&2; die "govhall on $name exited at start"; }
    sleep 0.1
  done
  [ -n "$url" ] || die "govhall on $name did not start"
  echo "${url%/}" >"$tmp/$name.url"
}
start_node "$small"
start_node "$large"

accounts=$("$BIN" bench-scale accounts)
password=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["password"])' "$accounts")
citizen=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["citizens"][0])' "$accounts")
submitter=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["citizens"][1])' "$accounts")
staff=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["staff"])' "$accounts")

token() { # URL LOGIN
  curl -s -f -X POST -H 'Content-Type: application/json' \
    -d "{\"login\":\"$2\",\"password\":\"$password\",\"channel\":\"app\",\"scopes\":\"profile apply\"}" "$1/api/v1/auth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
session() { # URL LOGIN -> gh_sid
  local jar=$tmp/jar.$RANDOM csrf
  csrf=$(curl -s -c "$jar" -b "$jar" "$1/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" --data-urlencode "login=$2" \
    --data-urlencode "password=$password" "$1/login"
  awk '$6 == "gh_sid" {print $7}' "$jar"
}

# The request files of each figure, per database.
year_to=$(date -d yesterday +%F)
year_from=$(date -d "yesterday - 364 days" +%F)
for db in "$small" "$large"; do
  url=$(cat "$tmp/$db.url")
  d=$tmp/req-$db
  mkdir -p "$d"
  for k in 1 2 3 4; do
    printf 'POST\t/api/v1/auth/token\t{"login":"1990000000%s","password":"%s","channel":"app","scopes":"profile"}\n' "$k" "$password"
  done >"$d/login"
  printf 'GET\t/api/v1/applications\n' >"$d/mine"
  psql_at "$db" "SELECT number, query_code FROM applications WHERE number IS NOT NULL ORDER BY md5(number) LIMIT 1000" |
    awk -F'|' '{printf "GET\t/api/v1/progress?number=%s&code=%s\n", $1, $2}' >"$d/progress"
  printf 'GET\t/staff/queue\n' >"$d/queue"
  printf 'GET\t/overdue\n' >"$d/overdue"
  printf 'GET\t/api/v1/stats?from=%s&to=%s\n' "$year_from" "$year_to" >"$d/stats"
  for q in %E8%BA%AB%E4%BB%BD%E8%AF%81 %E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7 %E7%A4%BE%E4%BF%9D%E5%8D%A1 \
    %E7%94%9F%E5%B0%8F%E5%AD%A9 shenfenzheng passport %E9%A9%BE%E7%85%A7%E4%B8%A2%E4%BA%86; do
    printf 'GET\t/api/v1/search?q=%s\n' "$q"
  done >"$d/search"
  size=$(psql_at "$db" "SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints")
  python3 - "$size" >"$d/proof" <<'PY'
import random, sys
n = int(sys.argv[1])
for _ in range(1000):
    print(f"GET\t/api/v1/ledger/proofs/inclusion?index={random.randrange(n)}&size={n}")
PY
  printf 'POST\t/api/v1/services/gsa-0001/applications\t{"form":{"phone":"%s","type":"consult","content":"Street light out"},"materials":[],"submit":true,"channel":"app","idempotency_key":"{n}"}\n' "$submitter" >"$d/submit"
  token "$url" "$citizen" >"$d/token.citizen" || die "the bench citizen cannot log in on $db"
  # The own list compares a full first page with a full first page: the bench citizen, chosen
  # among few accounts on the generator's first days, has more applications the larger the
  # run (6 on 10,000, 139 on 1,000,000), so the small database's page would show fewer rows.
  # Applications submitted here fill the page (20 rows) where it is not full.
  have_mine=$(curl -s -f -H "Authorization: Bearer $(cat "$d/token.citizen")" "$url/api/v1/applications" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])') || die "the bench citizen's list failed on $db"
  for k in $(seq "$have_mine" 19); do
    curl -s -f -o /dev/null -X POST -H "Authorization: Bearer $(cat "$d/token.citizen")" -H 'Content-Type: application/json' \
      -d "{\"form\":{\"phone\":\"$citizen\",\"type\":\"consult\",\"content\":\"Street light out\"},\"materials\":[],\"submit\":true,\"channel\":\"app\",\"idempotency_key\":\"fill-$k\"}" \
      "$url/api/v1/services/gsa-0001/applications" || die "filling the bench citizen's page failed on $db"
  done
  token "$url" "$submitter" >"$d/token.submitter" || die "the bench submitter cannot log in on $db"
  sid=$(session "$url" "$staff")
  [ -n "$sid" ] || die "the bench staff member cannot log in on $db"
  echo "gh_sid=$sid" >"$d/cookie"
done

to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}
# measure DB FIGURE CONNS AUTH -> "rps p50 p99 errors"
measure() {
  local db=$1 fig=$2 conns=$3 auth=$4 d=$tmp/req-$1 out
  local authv="" cookie=""
  case "$auth" in
    citizen | submitter) authv="Bearer $(cat "$d/token.$auth")" ;;
    staff) cookie=$(cat "$d/cookie") ;;
  esac
  out=$(SCALE_REQUESTS=$d/$fig SCALE_AUTH=$authv SCALE_COOKIE=$cookie SCALE_TAG="s$$r$RANDOM" \
    wrk -t2 -c"$conns" -d"${SECS}s" --timeout 10s --latency -s bench/scale.lua "$(cat "$tmp/$db.url")" 2>&1) || true
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  errs=$(awk '/^bad / {n += $2} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")
  echo "${rps:-0} $p50 $p99 $errs"
}

FIGS=(login mine progress queue overdue stats search proof submit)
NAMES=("log-in" "a citizen's own list" "progress query (anonymous)" "staff queue page" "overdue list"
  "statistics over a year" "search" "inclusion proof" "submissions")
AUTHS=(none citizen none staff staff none none none submitter)
FCONNS=(2 "$CONNS" "$CONNS" "$CONNS" "$CONNS" "$CONNS" "$CONNS" "$CONNS" 16)

say "measuring: ${#FIGS[@]} figures x $ROUNDS rounds x 2 databases x ${SECS}s (small and large alternate)"
rows=()
below=0
for i in "${!FIGS[@]}"; do
  f=${FIGS[$i]}
  : >"$tmp/r-$f-small" ; : >"$tmp/r-$f-large"
  for round in $(seq "$ROUNDS"); do
    measure "$small" "$f" "${FCONNS[$i]}" "${AUTHS[$i]}" >>"$tmp/r-$f-small"
    measure "$large" "$f" "${FCONNS[$i]}" "${AUTHS[$i]}" >>"$tmp/r-$f-large"
  done
  # The median round by p99 of each database.
  med() { sort -k3,3n "$1" | sed -n "$(( (ROUNDS + 1) / 2 ))p"; }
  read -r s_rps s_p50 s_p99 s_err < <(med "$tmp/r-$f-small")
  read -r l_rps l_p50 l_p99 l_err < <(med "$tmp/r-$f-large")
  errs=$(cat "$tmp/r-$f-small" "$tmp/r-$f-large" | awk '{n += $4} END {print n + 0}')
  ratio=$(awk -v a="$l_p99" -v b="$s_p99" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  if [ "$errs" != 0 ]; then
    verdict="ERRORS($errs)"; below=1
  elif awk -v a="$s_rps" -v b="$l_rps" 'BEGIN { exit !(a + 0 == 0 || b + 0 == 0) }'; then
    verdict="NO ANSWERS"; below=1 # no request finished within the measurement: nothing to compare
  elif awk -v r="$ratio" 'BEGIN { exit !(r + 0 <= 2) }'; then
    verdict=PASS
  else
    verdict=OVER; below=1
  fi
  rows+=("${NAMES[$i]}|$s_rps|$s_p50|$s_p99|$l_rps|$l_p50|$l_p99|$ratio|$verdict")
done

rss() { awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {printf "%.0f MiB (peak %.0f MiB)", r / 1024, h / 1024}' "/proc/$(cat "$tmp/$1.pid")/status"; }
s_rss=$(rss "$small")
l_rss=$(rss "$large")
read -r s_apps s_bytes < <(psql_at "$small" "SELECT (SELECT COUNT(*) FROM applications), pg_database_size(current_database())" | tr '|' ' ')
read -r l_apps l_bytes < <(psql_at "$large" "SELECT (SELECT COUNT(*) FROM applications), pg_database_size(current_database())" | tr '|' ' ')
read -r l_events l_leaves l_accounts < <(psql_at "$large" "SELECT (SELECT COUNT(*) FROM application_events), (SELECT size FROM ledger_head), (SELECT COUNT(*) FROM accounts)" | tr '|' ' ')

echo
echo "national-scale figures: $l_apps applications ($l_accounts accounts, $l_events events, $l_leaves log leaves) beside $s_apps,"
echo "on PostgreSQL 15 (shared_buffers 2 GB); $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) memory; each node $THREADS workers; wrk -t2 -c$CONNS (log-ins -c2, submissions -c16), ${SECS}s x $ROUNDS rounds alternating, median round; load average $(cut -d' ' -f1 /proc/loadavg)"
printf '%-28s | %9s %8s %8s | %9s %8s %8s | %-9s | %s\n' "" "small" "" "" "large" "" "" "p99 ratio" "target <= 2x"
printf '%-28s | %9s %8s %8s | %9s %8s %8s | %-9s |\n' "figure" "req/s" "p50 ms" "p99 ms" "req/s" "p50 ms" "p99 ms" ""
printf '%s\n' "$(printf -- '-%.0s' $(seq 100))"
for row in "${rows[@]}"; do
  IFS='|' read -r name a b c d e f ratio verdict <<<"$row"
  printf '%-28s | %9.1f %8s %8s | %9.1f %8s %8s | %-9s | %s\n' "$name" "$a" "$b" "$c" "$d" "$e" "$f" "${ratio}x" "$verdict"
done
echo
awk -v sb="$s_bytes" -v sa="$s_apps" -v lb="$l_bytes" -v la="$l_apps" 'BEGIN {
  printf "database size: small %.2f GB (%.2f GB per million applications), large %.2f GB (%.2f GB per million applications)\n",
    sb / 1e9, sb / sa * 1e6 / 1e9, lb / 1e9, lb / la * 1e6 / 1e9 }'
echo "where the large database's bytes go (table with its indexes and TOAST; bytes per application):"
psql_at "$large" "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'
  ORDER BY 2 DESC LIMIT 10" |
  awk -F'|' -v la="$l_apps" '{ printf "  %-22s %8.1f MB %7.0f B/application  %10d rows  %5.0f B/row\n", $1, $2 / 1e6, $2 / la, $3, ($3 > 0 ? $2 / $3 : 0) }'
echo "node resident memory after the run: small $s_rss, large $l_rss"
for db in "$small" "$large"; do
  [ -f "$tmp/gen-$db.secs" ] && echo "generation of $db in this run: $(cat "$tmp/gen-$db.secs") s"
  [ -f "$tmp/offers-$db.secs" ] && echo "the 免申即享 sweep of $db (govhall offers) in this run: $(cat "$tmp/offers-$db.secs")"
  if grep -q '"level":"error"' "$tmp/$db.err" 2>/dev/null; then
    say "govhall on $db logged errors:"
    grep '"level":"error"' "$tmp/$db.err" | head -5 >&2
  fi
done
[ "$below" = 1 ] && [ "${BENCH_STRICT:-0}" = 1 ] && exit 1
exit 0
