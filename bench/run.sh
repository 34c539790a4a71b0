#!/usr/bin/env bash
# bench/run.sh: govhall beside nginx serving the same bytes, measured with wrk in the same run.
#
#   bench/run.sh                  (or: make bench)
#
# Settings (environment):
#   BENCH_SECONDS=10      duration of each wrk run
#   BENCH_WARMUP=2        seconds of warm-up per endpoint and server (0: none)
#   BENCH_CONNS=64        wrk connections; BENCH_WRK_THREADS=2 wrk threads
#   BENCH_THREADS=nproc   govhall worker threads (nginx gets the same number of workers)
#   BENCH_DB=URL          benchmark on this database instead of a fresh SQLite file (it is
#                         initialised with `init --demo`; use a throwaway postgresql:// URL)
#   BENCH_LOG_LEVEL=warn  govhall's log level (nginx runs with access_log off; see README)
#   BENCH_BUILD=build/release   build folder; BENCH_STRICT=1: exit 1 when a target is missed
#   BENCH_LOGIN_SECONDS=6   duration of each round's hash loop and login flood (0: skip both)
#   BENCH_LOGIN_ROUNDS=3    rounds alternating the hash loop and the login flood (median decides)
#   BENCH_LOGIN_CONNS=16    wrk connections of the login flood
#   BENCH_FLOOD_ROUNDS=3    rounds of correct log-ins beside a flood of wrong ones (0: skip);
#   BENCH_FLOOD_SECONDS=8   seconds of each round's flood and of its hash loop
#   BENCH_SLOW_SECONDS=20   slow-clients run per descriptor limit (0: skip); BENCH_SLOW_CONNS=3000; BENCH_SLOW_ADDRS=10
#   BENCH_KEY_FILE=PATH     govhall key file (default: in the temp folder, never the project root)
#   BENCH_SUBMIT_SECONDS=10 durable submissions run per channel (API, web form, kiosk) and SQLite loop (0: skip); BENCH_SUBMIT_CONNS=64
#   BENCH_SUBMIT_ROUNDS=3   rounds of the submissions: each channel right after a bare SQLite loop (its ratio is to that loop; the median round decides)
#   BENCH_BOOK_SECONDS=BENCH_SUBMIT_SECONDS  booking requests run beside the submissions (0: skip);
#                           BENCH_BOOK_ACCOUNTS=64 citizens holding places (2 of the demo, the rest registered)
#   BENCH_QUEUE_SECONDS=10  staff queue run (0: skip); BENCH_QUEUE_ROWS=1000000; BENCH_QUEUE_CONNS=8
#   BENCH_LEDGER_SECONDS=10 transparency log runs (0: skip); BENCH_LEDGER_LEAVES=10000000;
#                           BENCH_LEDGER_CONNS=16
#   BENCH_SEARCH_SECONDS=10 search run per engine (0: skip); BENCH_SEARCH_ITEMS=1720; BENCH_SEARCH_CLIENTS=64
#   BENCH_RECOVERY_ACCOUNTS=200 forgot-password timing, known vs unknown names (0: skip)
#   BENCH_OIDC_N=600        OpenID Connect logins at the hub (0: skip); BENCH_OIDC_CONNS=16
#   BENCH_FAILOVER_ROUNDS=3 PostgreSQL failover drills (0: skip); BENCH_FAILOVER_CLIENTS=16;
#                           BENCH_FAILOVER_SUBMISSIONS=200
#
# Prints one table (endpoint | govhall req/s p50 p99 | nginx req/s p50 p99 | ratio | target |
# verdict | p99 ratio) and govhall's resident memory after the run; then /healthz's latency
# while thousands of slow-header connections are held (bench/slowloris.py) under a 1,024
# descriptor limit, with the server's memory and descriptors at the end; then the login flood: successful
# log-ins per second against the bare Argon2id verification loop (bench/hashloop.c) on the
# same cores, and /healthz's p99 latency during the flood; then durable submissions per second
# with 64 clients (SQLite synchronous=FULL, group commit) against a bare SQLite loop committing
# the same rows one transaction each (bench/sqlite_loop.c), and the staff queue page's latency
# with a million applications (bench/seed_queue.sql); then the transparency log with ten
# million leaves: appends per second (one transaction each, as decisions append) and inclusion
# proofs per second over HTTP for random leaves (bench/ledger_proof.lua); then the search index beside SQLite FTS5 over 10,000 generated
# items (`govhall search-bench`); then PostgreSQL failover: the time from the primary's
# death to the first acknowledged submission on the promoted standby, and the submissions
# lost (bench/failover.mjs). Everything it starts or creates is
# stopped and removed on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
NPROC=$(nproc)
THREADS=${BENCH_THREADS:-$NPROC}
BUILD=${BENCH_BUILD:-build/release}
LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}

say() { echo "bench: $*" >&2; }
# Submissions per second by channel (the submissions section fills it; read by the later
# sections and the table of writes, also when that section is skipped).
declare -A c_rps=()
die() { say "error: $*"; exit 1; }

# The npm packages from the lockfile (the payment and recovery runs are node scripts that share
# the API tests' helpers), installed as `make test` installs them.
if { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
fi

# listening NAME PID OUT ERR: waits (up to 30 s) for "listening on URL" in OUT and prints URL;
# dies with the end of ERR when the server exits first.
listening() {
  local url=""
  for _ in $(seq 300); do
    url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$3" | head -1)
    [ -n "$url" ] && break
    kill -0 "$2" 2>/dev/null || { tail -n 20 "$4" >&2; die "$1 exited at start"; }
    sleep 0.1
  done
  [ -n "$url" ] || die "$1 did not start listening"
  echo "${url%/}"
}

for c in wrk nginx python3 meson ninja; do
  if ! command -v "$c" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$c" ]; then
    say "$c is missing: installing the bench dependencies"
    scripts/deps.sh bench
    break
  fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ---- build -------------------------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release -Dtests=false >/dev/null || die "meson setup failed"
fi
ninja -C "$BUILD" govhall >/dev/null || die "build failed (ninja -C $BUILD govhall)"
BIN=$root/$BUILD/govhall

# ---- temp area and cleanup ---------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/govhall-bench-XXXXXX")
gh_pid="" ng_pid="" lf_pid="" ds_pid="" qs_pid="" ls_pid="" wf_pid="" sl_pid="" sw_pid=""
cleanup() {
  local rc=$?
  for p in "$gh_pid" "$lf_pid" "$ds_pid" "$qs_pid" "$ls_pid" "$wf_pid" "$sl_pid" "$sw_pid"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  if [ -n "$ng_pid" ] && kill -0 "$ng_pid" 2>/dev/null; then
    kill -QUIT "$ng_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$ng_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ng_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---- govhall -----------------------------------------------------------------------------
DB=${BENCH_DB:-$tmp/govhall.db}
# The key file lives with the temporary database, never in the project root.
KEY_FILE=${BENCH_KEY_FILE:-$tmp/govhall.key}
"$BIN" init --demo --history 0 --db "$DB" --key-file "$KEY_FILE" >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log" >&2; die "govhall init --demo failed"; }

"$BIN" serve --db "$DB" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" --log-level "$LOG_LEVEL" \
  >"$tmp/govhall.out" 2>"$tmp/govhall.err" &
gh_pid=$!
gh_url=$(listening "govhall" "$gh_pid" "$tmp/govhall.out" "$tmp/govhall.err")

# ---- the same bytes for nginx ------------------------------------------------------------
ENDPOINTS=(/healthz /services /services/psb-0001 /api/v1/services/psb-0001)
NAMES=("healthz" "catalog page" "guide page" "JSON item")
TARGETS=(0.7 - 0.5 0.6)

docroot=$tmp/docroot
mkdir -p "$docroot"
# Saves each endpoint's body as docroot/N and prints "N<TAB>Content-Type"; also the
# security and cache headers govhall sends, which nginx then sends too (same bytes on the wire).
python3 - "$gh_url" "$docroot" "${ENDPOINTS[@]}" >"$tmp/fetched" <<'PY'
import sys, urllib.request
base, docroot, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
extra = {}
for i, p in enumerate(paths):
    with urllib.request.urlopen(base + p) as r:
        if r.status != 200:
            sys.exit(f"{p}: HTTP {r.status}")
        body = r.read()
        with open(f"{docroot}/{i}", "wb") as f:
            f.write(body)
        print(f"{i}\t{r.headers['Content-Type']}\t{len(body)}")
        for h in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
            if r.headers.get(h):
                extra[h] = r.headers[h]
for h, v in extra.items():
    print(f"H\t{h}\t{v}")
PY
# The guide page compressed for nginx's gzip_static (the compression run): gzip -9 as govhall's
# cache compresses it.
gzip -9 -n -k "$docroot/2"
chmod 755 "$tmp" "$docroot"
chmod 644 "$docroot"/*

ng_port=$(free_port)
{
  echo "worker_processes $THREADS;"
  echo "pid $tmp/nginx.pid;"
  echo "error_log $tmp/nginx-error.log warn;"
  echo "events { worker_connections 4096; }"
  echo "http {"
  echo "  access_log off;"
  echo "  client_body_temp_path $tmp/client_body;"
  echo "  proxy_temp_path $tmp/proxy;"
  echo "  fastcgi_temp_path $tmp/fastcgi;"
  echo "  uwsgi_temp_path $tmp/uwsgi;"
  echo "  scgi_temp_path $tmp/scgi;"
  echo "  sendfile on; tcp_nopush on; tcp_nodelay on;"
  echo "  keepalive_timeout 65; keepalive_requests 1000000;"
  echo "  open_file_cache max=64 inactive=60s; open_file_cache_valid 60s;"
  echo "  server_tokens off; etag off;"
  echo "  gzip_static on;" # docroot/N.gz, made below for the compression run
  echo "  types { }"
  echo "  server {"
  echo "    listen 127.0.0.1:$ng_port reuseport;"
  while IFS=$'\t' read -r a b c; do
    if [ "$a" = H ]; then printf '    add_header %s "%s" always;\n' "$b" "$c"; fi
  done <"$tmp/fetched"
  while IFS=$'\t' read -r i ctype _; do
    if [ "$i" = H ]; then continue; fi
    echo "    location = ${ENDPOINTS[$i]} { default_type \"$ctype\"; alias $docroot/$i; }"
  done <"$tmp/fetched"
  echo "  }"
  echo "}"
} >"$tmp/nginx.conf"
"$NGINX" -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" -g 'daemon off;' 2>>"$tmp/nginx-error.log" &
ng_pid=$!
ng_url=http://127.0.0.1:$ng_port
for _ in $(seq 100); do
  python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1]+'/healthz')" "$ng_url" 2>/dev/null && break
  kill -0 "$ng_pid" 2>/dev/null || { cat "$tmp/nginx-error.log" >&2; die "nginx exited at start"; }
  sleep 0.1
done

# Same bytes and type from both?
for i in "${!ENDPOINTS[@]}"; do
  python3 - "$gh_url${ENDPOINTS[$i]}" "$ng_url${ENDPOINTS[$i]}" <<'PY' || say "warning: the bytes differ between two fetches of ${ENDPOINTS[$i]} (per-request content?)"
import sys, urllib.request
a, b = (urllib.request.urlopen(u) for u in sys.argv[1:3])
ba, bb = a.read(), b.read()
if ba != bb or a.headers["Content-Type"] != b.headers["Content-Type"]:
    sys.exit(f"{sys.argv[1]}: {len(ba)} vs {len(bb)} bytes, {a.headers['Content-Type']} vs {b.headers['Content-Type']}")
PY
done

# ---- measure -----------------------------------------------------------------------------
# wrk_run URL SECONDS -> "req/s p50_ms p99_ms errors"
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
wrk_run() {
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$2"s --latency "$1" 2>&1) || { echo "wrk failed: $out" >&2; echo "0 0 0 1"; return; }
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")
  echo "${rps:-0} $(to_ms "${p50:-0}") $(to_ms "${p99:-0}") $errs"
}

say "govhall $gh_url (threads $THREADS) vs nginx $ng_url (workers $THREADS); wrk -t$WRK_THREADS -c$CONNS -d${SECONDS_PER_RUN}s on $NPROC cores"
rows=()
below=0
for i in "${!ENDPOINTS[@]}"; do
  p=${ENDPOINTS[$i]}
  if [ "$WARMUP" != 0 ]; then
    wrk -t1 -c8 -d"$WARMUP"s "$gh_url$p" >/dev/null 2>&1 || true
    wrk -t1 -c8 -d"$WARMUP"s "$ng_url$p" >/dev/null 2>&1 || true
  fi
  say "measuring $p"
  read -r g_rps g_p50 g_p99 g_err < <(wrk_run "$gh_url$p" "$SECONDS_PER_RUN")
  read -r n_rps n_p50 n_p99 n_err < <(wrk_run "$ng_url$p" "$SECONDS_PER_RUN")
  ratio=$(awk -v a="$g_rps" -v b="$n_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  # Tail latency beside nginx's on the same bytes (issue: within 2x).
  p99r=$(awk -v a="$g_p99" -v b="$n_p99" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  if awk -v r="$p99r" 'BEGIN { exit !(r + 0 > 0 && r + 0 <= 2) }'; then p99v=PASS; else p99v=OVER; below=1; fi
  t=${TARGETS[$i]}
  if [ "$g_err" != 0 ] || [ "$n_err" != 0 ]; then
    verdict="ERRORS(gh $g_err, nginx $n_err)"
    below=1
  elif [ "$t" = - ]; then
    verdict="report"
    t="-"
  elif awk -v r="$ratio" -v t="$t" 'BEGIN { exit !(r + 0 >= t + 0) }'; then
    verdict=PASS
    t=">=${t}x"
  else
    verdict=BELOW
    t=">=${t}x"
    below=1
  fi
  rows+=("$(printf '%s|%s|%.0f|%s|%s|%.0f|%s|%s|%sx|%s|%s|%sx|%s' "${NAMES[$i]}" "$p" "$g_rps" "$g_p50" "$g_p99" "$n_rps" "$n_p50" "$n_p99" "$ratio" "$t" "$verdict" "$p99r" "$p99v")")
done

rss=$(awk '/^VmRSS:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$gh_pid/status" 2>/dev/null || echo "?")
hwm=$(awk '/^VmHWM:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$gh_pid/status" 2>/dev/null || echo "?")

echo
printf '%-13s %-26s | %-28s | %-28s | %-6s | %-7s | %-8s | %s\n' "" "" "govhall" "nginx" "req/s" "target" "verdict" "p99 ratio (target <= 2x)"
printf '%-13s %-26s | %12s %7s %7s | %12s %7s %7s | %-6s | %-7s | %-8s |\n' "endpoint" "path" "req/s" "p50 ms" "p99 ms" "req/s" "p50 ms" "p99 ms" "ratio" "" ""
printf '%s\n' "$(printf -- '-%.0s' $(seq 160))"
for row in "${rows[@]}"; do
  IFS='|' read -r name p grps gp50 gp99 nrps np50 np99 ratio t verdict p99r p99v <<<"$row"
  printf '%-13s %-26s | %12s %7s %7s | %12s %7s %7s | %-6s | %-7s | %-8s | %s %s\n' \
    "$name" "$p" "$grps" "$gp50" "$gp99" "$nrps" "$np50" "$np99" "$ratio" "$t" "$verdict" "$p99r" "$p99v"
done
echo
echo "govhall RSS after the run: $rss (peak $hwm); threads $THREADS; database ${BENCH_DB:+$BENCH_DB}${BENCH_DB:-SQLite (temp file)}"
if grep -q '"level":"error"' "$tmp/govhall.err" 2>/dev/null; then
  say "govhall logged errors during the run:"
  grep '"level":"error"' "$tmp/govhall.err" | head -5 >&2
fi
# ---- compression -------------------------------------------------------------------------
# The guide page as a browser gets it (Accept-Encoding): bytes on the wire against the raw page
# (goal <= 30%), and wrk asking for gzip from govhall (its cache keeps the compressed page)
# and from nginx (gzip_static: the page compressed once beforehand), beside govhall's plain
# figure from the table above.
guide=/services/psb-0001
raw_bytes=$(stat -c %s "$docroot/2")
gz_bytes=$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$gh_url$guide")
# Brotli's strong level is made on the job pool after the first ask (the fast level's copy is
# sent meanwhile, under a weak ETag): ask until both workers answer with the strong one.
strong=0
for _ in $(seq 100); do
  if curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip, deflate, br' "$gh_url$guide" | grep -qi '^etag: W/'; then
    strong=0; sleep 0.05
  else
    strong=$((strong + 1)); [ "$strong" -ge 8 ] && break
  fi
done
br_bytes=$(curl -s -H 'Accept-Encoding: gzip, deflate, br' -o /dev/null -w '%{size_download}' "$gh_url$guide")
gz_enc=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$gh_url$guide" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-encoding" {print $2}')
wire_pct=$(awk -v a="$br_bytes" -v b="$raw_bytes" 'BEGIN { printf "%.1f", 100 * a / b }')
gz_pct=$(awk -v a="$gz_bytes" -v b="$raw_bytes" 'BEGIN { printf "%.1f", 100 * a / b }')
if [ "$gz_enc" = gzip ] && awk -v p="$wire_pct" 'BEGIN { exit !(p + 0 > 0 && p + 0 <= 30) }'; then cz_verdict=PASS; else cz_verdict=BELOW; below=1; fi
zwrk() { # URL -> "req/s p50 p99 errors" with Accept-Encoding: gzip
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$SECONDS_PER_RUN"s --latency -H 'Accept-Encoding: gzip' "$1" 2>&1) || { echo "0 0 0 1"; return; }
  echo "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out") $(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")") $(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")") $(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")"
}
say "measuring $guide with Accept-Encoding: gzip"
read -r zg_rps zg_p50 zg_p99 zg_err < <(zwrk "$gh_url$guide")
read -r zn_rps zn_p50 zn_p99 zn_err < <(zwrk "$ng_url$guide")
IFS='|' read -r _ _ plain_rps _ <<<"${rows[2]}"
echo
echo "compression (guide page $guide; wrk -c$CONNS ${SECONDS_PER_RUN}s with Accept-Encoding: gzip; nginx with gzip_static)"
printf '  %-34s %10s   %s\n' "bytes raw" "$raw_bytes" ""
printf '  %-34s %10s   %s%% of raw (Content-Encoding: %s)\n' "bytes on the wire (gzip)" "$gz_bytes" "$gz_pct" "${gz_enc:-none}"
printf '  %-34s %10s   %s%% of raw, target <= 30%%   %s\n' "bytes on the wire (br, as browsers)" "$br_bytes" "$wire_pct" "$cz_verdict"
printf '  %-34s %10.0f   p50 %s ms, p99 %s ms; %sx govhall plain (%s req/s)\n' "govhall req/s (gzip)" "${zg_rps:-0}" "$zg_p50" "$zg_p99" \
  "$(awk -v a="${zg_rps:-0}" -v b="${plain_rps:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" "$plain_rps"
printf '  %-34s %10.0f   p50 %s ms, p99 %s ms\n' "nginx req/s (gzip_static)" "${zn_rps:-0}" "$zn_p50" "$zn_p99"
z_ratio=$(awk -v a="${zg_rps:-0}" -v b="${zn_rps:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
z_p99r=$(awk -v a="$zg_p99" -v b="$zn_p99" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
if [ "$zg_err" != 0 ] || [ "$zn_err" != 0 ]; then z_verdict="ERRORS(gh $zg_err, nginx $zn_err)"; below=1
elif awk -v r="$z_ratio" 'BEGIN { exit !(r + 0 >= 0.5) }'; then z_verdict=PASS; else z_verdict=BELOW; below=1; fi
printf '  %-34s %9sx   target >= 0.5x (as the plain page)   %s;  p99 ratio %sx\n' "ratio govhall/nginx (gzip)" "$z_ratio" "$z_verdict" "$z_p99r"

# ---- slow clients ------------------------------------------------------------------------
# BENCH_SLOW_CONNS connections from BENCH_SLOW_ADDRS addresses send request heads one byte a
# second and never finish them (bench/slowloris.py, reconnecting whenever the server closes
# one) for BENCH_SLOW_SECONDS, while wrk probes /healthz from another address. The server
# starts under systemd's default descriptor limit (soft 1,024; the hard limit as this shell
# has it, which the server raises to), then again with 1,024 as the hard limit too (nothing to
# raise: connections beyond what fits are shed or evict the oldest slow ones). The server's
# resident memory and open descriptors are read near the end, with the slow connections held.
SLOW_SECONDS=${BENCH_SLOW_SECONDS:-20}
SLOW_CONNS=${BENCH_SLOW_CONNS:-3000}
SLOW_ADDRS=${BENCH_SLOW_ADDRS:-10}
if [ "$SLOW_SECONDS" != 0 ]; then
  command -v prlimit >/dev/null 2>&1 || die "prlimit is missing (Debian: util-linux)"
  hard=$(ulimit -Hn)
  echo
  echo "slow clients: $SLOW_CONNS connections from $SLOW_ADDRS addresses sending request heads one byte a second (bench/slowloris.py), ${SLOW_SECONDS}s; /healthz probed with wrk -c4"
  printf '  %-22s | %9s %9s %7s | %-30s | %9s %5s %9s | %s\n' "descriptors soft:hard" "p50 ms" "p99 ms" "errors" "server: shed, evicted, timed out" "RSS MiB" "fds" "log bytes" "verdict"
  for limits in "1024:$hard" "1024:1024"; do
    : >"$tmp/slow.out"
    prlimit --nofile="$limits" "$BIN" serve --db "$DB" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" \
      --log-level "$LOG_LEVEL" >"$tmp/slow.out" 2>"$tmp/slow.err" &
    sl_pid=$!
    sl_url=$(listening "govhall (slow clients)" "$sl_pid" "$tmp/slow.out" "$tmp/slow.err")
    python3 bench/slowloris.py "$sl_url" "$SLOW_CONNS" "$SLOW_ADDRS" "$SLOW_SECONDS" >"$tmp/slowloris.out" 2>&1 &
    sw_pid=$!
    sleep 3 # let the slow connections pile up first
    wrk -t1 -c4 -d"$((SLOW_SECONDS > 8 ? SLOW_SECONDS - 6 : 2))"s --latency "$sl_url/healthz" >"$tmp/slowprobe.wrk" 2>&1 || true
    sl_rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$sl_pid/status" 2>/dev/null || echo "?")
    sl_fds=$(find "/proc/$sl_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    sl_counts=$(curl -s --max-time 5 "$sl_url/metrics" | awk '
      /^govhall_http_connections_shed_total/ {shed += $NF}
      /^govhall_http_connections_evicted_total/ {ev = $NF}
      /^govhall_http_connection_timeouts_total/ {to = $NF}
      END {printf "%d, %d, %d", shed, ev, to}')
    wait "$sw_pid" || true
    kill "$sl_pid" 2>/dev/null; wait "$sl_pid" 2>/dev/null || true
    sl_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/slowprobe.wrk")")
    sl_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/slowprobe.wrk")")
    sl_errs=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$tmp/slowprobe.wrk")
    sl_reqs=$(awk '/requests in/ {print $1}' "$tmp/slowprobe.wrk")
    sl_log=$(wc -c <"$tmp/slow.err")
    slow=$(sed -n 's/^slow: //p' "$tmp/slowloris.out")
    # The failure this guards against: /healthz unanswered within the 2 s a health check waits.
    if [ "$sl_errs" = 0 ] && [ "${sl_reqs:-0}" -gt 0 ] && awk -v p="$sl_p99" 'BEGIN { exit !(p + 0 > 0 && p + 0 < 250) }'; then
      sl_verdict="PASS (target: every probe answered, p99 < 250 ms)"
    else
      sl_verdict="BELOW (target: every probe answered, p99 < 250 ms)"; below=1
    fi
    printf '  %-22s | %9s %9s %7s | %-30s | %9s %5s %9s | %s\n' "$limits" "$sl_p50" "$sl_p99" "$sl_errs" "${sl_counts:-?}" "$sl_rss" "$sl_fds" "$sl_log" "$sl_verdict"
    echo "    slowloris: $slow"
  done
fi

# ---- login flood -------------------------------------------------------------------------
# Log-ins are bound by Argon2id (m=19 MiB, t=2, p=1) on the job pool. The ceiling is a bare
# libsodium verification loop on as many threads as cores (bench/hashloop.c); wrk floods
# POST /api/v1/auth/token with a valid demo log-in on a second govhall (--trust-proxy true, one
# X-Forwarded-For address per request, job pool = cores) while a light probe (bench/probe.lua)
# measures /healthz's latency: the event loop must stay responsive while every core hashes.
# On a shared machine the hashing rate drifts by more than the margin the target allows, so
# BENCH_LOGIN_ROUNDS short rounds alternate the ceiling and the flood (each BENCH_LOGIN_SECONDS
# long); every round is printed and the median round (by its ratio) decides. Any answer other
# than 201 in any round is a missed log-in, and the verdict says so.
LOGIN_SECONDS=${BENCH_LOGIN_SECONDS:-6}
LOGIN_ROUNDS=${BENCH_LOGIN_ROUNDS:-3}
LOGIN_CONNS=${BENCH_LOGIN_CONNS:-16}
if [ "$LOGIN_SECONDS" != 0 ] && [ "$LOGIN_ROUNDS" != 0 ]; then
  cc -O2 -std=c11 -pthread bench/hashloop.c -lsodium -o "$tmp/hashloop" || die "cannot build bench/hashloop.c (libsodium-dev?)"
  "$BIN" serve --db "$DB" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" --job-threads "$NPROC" --trust-proxy true \
    --log-level "$LOG_LEVEL" >"$tmp/flood.out" 2>"$tmp/flood.err" &
  lf_pid=$!
  lf_url=$(listening "govhall (login flood)" "$lf_pid" "$tmp/flood.out" "$tmp/flood.err")
  probe=$(python3 - "$lf_url" <<'PY'
import json, sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1] + "/api/v1/auth/token", method="POST",
    data=json.dumps({"login": "13800000001", "password": "Qinghe-demo-2026", "channel": "other", "scopes": "profile"}).encode(),
    headers={"Content-Type": "application/json", "X-Forwarded-For": "10.255.0.1"})
try:
    print(urllib.request.urlopen(req).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
)
  [ "$probe" = 201 ] || die "a demo log-in answered $probe instead of 201 (is init --demo creating the demo accounts?)"
  lg_rows=()
  for round in $(seq "$LOGIN_ROUNDS"); do
    say "login round $round/$LOGIN_ROUNDS: hash loop ${LOGIN_SECONDS}s ($NPROC threads), then wrk -c$LOGIN_CONNS ${LOGIN_SECONDS}s with /healthz probed"
    hl=$("$tmp/hashloop" "$NPROC" "$LOGIN_SECONDS" | sed -n 's/.* \([0-9.]*\) hashes\/s$/\1/p') || die "hashloop failed"
    wrk -t"$WRK_THREADS" -c"$LOGIN_CONNS" -d"$LOGIN_SECONDS"s -s bench/login.lua "$lf_url/api/v1/auth/token" >"$tmp/login.wrk" 2>&1 &
    login_wrk=$!
    sleep 1 # let the flood fill the job pool first
    wrk -t1 -c4 -d"$((LOGIN_SECONDS > 2 ? LOGIN_SECONDS - 2 : 1))"s --latency -s bench/probe.lua "$lf_url/healthz" >"$tmp/probe.wrk" 2>&1 || true
    wait "$login_wrk" || true
    l_errs=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$tmp/login.wrk")
    # successful log-ins only: a refusal (503, 429) is answered at once and would count as one
    l_rps=$(awk -v e="$l_errs" -v s="$LOGIN_SECONDS" '/requests in/ {n = $1} END { printf "%.1f", (n - e > 0 ? n - e : 0) / s }' "$tmp/login.wrk")
    h_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/probe.wrk")")
    h_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/probe.wrk")")
    l_ratio=$(awk -v a="${l_rps:-0}" -v b="${hl:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }')
    lg_rows+=("${l_ratio}|${l_rps:-0}|${hl:-0}|${l_errs}|${h_p99}|${h_p50}")
  done
  kill "$lf_pid" 2>/dev/null; wait "$lf_pid" 2>/dev/null || true
  echo
  echo "login flood (POST /api/v1/auth/token, Argon2id m=19 MiB t=2 p=1; $NPROC cores, job pool $NPROC, wrk -c$LOGIN_CONNS; $LOGIN_ROUNDS rounds of ${LOGIN_SECONDS}s hash loop + ${LOGIN_SECONDS}s flood)"
  printf '  %-6s %12s %12s %7s %8s | %16s %9s\n' "round" "logins/s" "hashes/s" "ratio" "missed" "/healthz p99 ms" "p50 ms"
  l_missed=0
  for i in "${!lg_rows[@]}"; do
    IFS='|' read -r ratio rps hl errs p99 p50 <<<"${lg_rows[$i]}"
    l_missed=$((l_missed + errs))
    printf '  %-6s %12.1f %12.1f %6sx %8s | %16s %9s\n' "$((i + 1))" "$rps" "$hl" "$ratio" "$errs" "$p99" "$p50"
  done
  # The median round by ratio decides the throughput; the median of the probes' p99 the latency.
  med=$(printf '%s\n' "${lg_rows[@]}" | sort -t'|' -k1,1n | sed -n "$(( (LOGIN_ROUNDS + 1) / 2 ))p")
  IFS='|' read -r m_ratio m_rps m_hl _ _ _ <<<"$med"
  m_p99=$(printf '%s\n' "${lg_rows[@]}" | cut -d'|' -f5 | sort -n | sed -n "$(( (LOGIN_ROUNDS + 1) / 2 ))p")
  if [ "$l_missed" != 0 ]; then
    l_verdict="ERRORS($l_missed missed log-ins: non-201 answers or socket errors)"; below=1
  elif awk -v r="$m_ratio" 'BEGIN { exit !(r + 0 >= 0.9) }'; then
    l_verdict=PASS
  else
    l_verdict=BELOW; below=1
  fi
  if awk -v p="$m_p99" 'BEGIN { exit !(p + 0 > 0 && p + 0 < 10) }'; then h_verdict=PASS; else h_verdict=BELOW; below=1; fi
  printf '  %-34s %9sx   target >= 0.9x   %s   (median round: %s logins/s, %s hashes/s)\n' "logins/s over hashes/s" "$m_ratio" "$l_verdict" "$m_rps" "$m_hl"
  printf '  %-34s %10s   target < 10 ms   %s   (median of the rounds)\n' "/healthz p99 ms during the flood" "$m_p99" "$h_verdict"
  if grep -q '"level":"error"' "$tmp/flood.err" 2>/dev/null; then
    say "govhall logged errors during the login flood:"
    grep '"level":"error"' "$tmp/flood.err" | head -5 >&2
  fi
fi

# ---- correct log-ins outside a flood of wrong ones ----------------------------------------
# 300 connections from 30 loopback addresses (127.0.0.2-31) post wrong log-ins without pause
# while 5 other addresses (127.0.0.40-44) log the demo citizen in again and again
# (bench/login_flood.py; the server trusts no proxy, so the peer address is the client's).
# Goal: every one of those log-ins succeeds (a 503 is a miss) and their p99 stays under 3 s.
# Rounds alternate the ceiling (the bare Argon2id loop on as many threads as cores) and the
# flood, so a noisy machine does not decide the verdict: the median round decides, every round
# is printed. Each round starts with empty log-in counters (auth_throttle), so every round
# floods the hashing queue alike; the ratio is the flood's verified log-ins per second (jobs
# completed, from /metrics) over the bare loop's hashes per second.
FLOOD_ROUNDS=${BENCH_FLOOD_ROUNDS:-3}
FLOOD_SECONDS=${BENCH_FLOOD_SECONDS:-8}
if [ "$FLOOD_ROUNDS" != 0 ]; then
  [ -x "$tmp/hashloop" ] || cc -O2 -std=c11 -pthread bench/hashloop.c -lsodium -o "$tmp/hashloop" || die "cannot build bench/hashloop.c (libsodium-dev?)"
  "$BIN" serve --db "$DB" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" --job-threads "$NPROC" \
    --log-level "$LOG_LEVEL" >"$tmp/wflood.out" 2>"$tmp/wflood.err" &
  wf_pid=$!
  wf_url=$(listening "govhall (wrong-login flood)" "$wf_pid" "$tmp/wflood.out" "$tmp/wflood.err")
  clear_throttle() {
    case "$DB" in
      postgres*) psql -q -X "$DB" -c "DELETE FROM auth_throttle" >/dev/null ;;
      *) sqlite3 -cmd ".timeout 5000" "$DB" "DELETE FROM auth_throttle" ;;
    esac
  }
  jobs_done() { python3 -c 'import sys,urllib.request
for l in urllib.request.urlopen(sys.argv[1] + "/metrics").read().decode().splitlines():
    if l.startswith("govhall_jobs_completed_total "): print(l.split()[1])' "$wf_url"; }
  fl_rows=()
  for round in $(seq "$FLOOD_ROUNDS"); do
    say "round $round/$FLOOD_ROUNDS: hash loop ${FLOOD_SECONDS}s, then the wrong-login flood ${FLOOD_SECONDS}s"
    hl=$("$tmp/hashloop" "$NPROC" "$FLOOD_SECONDS" | sed -n 's/.* \([0-9.]*\) hashes\/s$/\1/p')
    clear_throttle
    j0=$(jobs_done)
    out=$(python3 bench/login_flood.py "$wf_url" "$FLOOD_SECONDS") || die "bench/login_flood.py failed"
    j1=$(jobs_done)
    fl_rows+=("$(python3 - "$out" "$hl" "$j0" "$j1" "$FLOOD_SECONDS" <<'PY'
import json, sys
o, hl, j0, j1, secs = json.loads(sys.argv[1]), float(sys.argv[2] or 0), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rate = (j1 - j0) / secs
p = o["probe"]
print(f'{p["p99_ms"]}|{p["p50_ms"]}|{p["ok"]}|{p["miss"]}|{rate:.1f}|{hl:.1f}|{(rate / hl if hl else 0):.2f}|{o["flood"]["n"]}|{json.dumps(o["flood"]["by_status"])}|{json.dumps(p["by_status"])}')
PY
)")
  done
  wf_rss=$(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {printf "%.1f MiB (peak %.1f MiB)", r / 1024, h / 1024}' "/proc/$wf_pid/status" 2>/dev/null || echo "?")
  wf_fds=$(ls "/proc/$wf_pid/fd" 2>/dev/null | wc -l)
  kill "$wf_pid" 2>/dev/null; wait "$wf_pid" 2>/dev/null || true
  echo
  echo "correct log-ins during a flood of wrong ones (300 connections from 30 addresses; 5 other addresses log in; $NPROC cores, job pool $NPROC, ${FLOOD_SECONDS}s x $FLOOD_ROUNDS rounds)"
  printf '  %-6s %10s %9s %6s %6s | %12s %12s %7s | %s\n' "round" "p99 ms" "p50 ms" "ok" "miss" "verified/s" "bare hash/s" "ratio" "flood answers"
  for i in "${!fl_rows[@]}"; do
    IFS='|' read -r p99 p50 ok miss rate hl ratio fn fst pst <<<"${fl_rows[$i]}"
    printf '  %-6s %10s %9s %6s %6s | %12s %12s %6sx | %s of %s\n' "$((i + 1))" "$p99" "$p50" "$ok" "$miss" "$rate" "$hl" "$ratio" "$fst" "$fn"
  done
  # The median round (by p99, misses first) decides.
  med=$(printf '%s\n' "${fl_rows[@]}" | awk -F'|' '{ print $4 * 1000000 + $1 "|" $0 }' | sort -t'|' -k1,1n | cut -d'|' -f2- | sed -n "$(( (FLOOD_ROUNDS + 1) / 2 ))p")
  IFS='|' read -r m_p99 _ m_ok m_miss _ _ m_ratio _ _ _ <<<"$med"
  if [ "$m_miss" = 0 ] && [ "$m_ok" -gt 0 ] && awk -v p="$m_p99" 'BEGIN { exit !(p + 0 < 3000) }'; then fl_verdict=PASS; else fl_verdict=BELOW; below=1; fi
  printf '  %-34s %10s   target < 3000 ms, no miss   %s   (median round: %s ok, %s missed; verified/bare %sx)\n' \
    "p99 of the outside log-ins" "$m_p99" "$fl_verdict" "$m_ok" "$m_miss" "$m_ratio"
  echo "  govhall at the end of the flood: RSS $wf_rss, $wf_fds open file descriptors"
  if grep -q '"level":"error"' "$tmp/wflood.err" 2>/dev/null; then
    say "govhall logged errors during the wrong-login flood:"
    grep '"level":"error"' "$tmp/wflood.err" | head -5 >&2
  fi
fi

# ---- durable submissions -----------------------------------------------------------------
# Every answered submission must survive a power cut: SQLite runs with synchronous=FULL (an
# fsync per COMMIT). The ceiling without group commit is a bare loop committing the same rows
# one transaction each (bench/sqlite_loop.c: an application row as govhall leaves it after
# submitting, plus its event row), on a copy of the same database, run right before each
# channel's run in every round (BENCH_SUBMIT_ROUNDS); govhall gets 64 concurrent clients (bench/submit.lua: each request files and
# submits a new application with its own idempotency key) and batches their writes on its
# group-commit writer (src/store/group.h).
SUBMIT_SECONDS=${BENCH_SUBMIT_SECONDS:-10}
SUBMIT_CONNS=${BENCH_SUBMIT_CONNS:-64}
SUBMIT_ITEM=${BENCH_SUBMIT_ITEM:-gsa-0001}
if [ "$SUBMIT_SECONDS" != 0 ]; then
  command -v sqlite3 >/dev/null 2>&1 || die "the sqlite3 command-line shell is missing (Debian: sqlite3)"
  cc -O2 -std=c11 bench/sqlite_loop.c -lsqlite3 -o "$tmp/sqlite_loop" || die "cannot build bench/sqlite_loop.c (libsqlite3-dev?)"
  sdb=$tmp/durable.db
  "$BIN" init --demo --history 0 --db "$sdb" --key-file "$KEY_FILE" >"$tmp/durable-init.log" 2>&1 || { cat "$tmp/durable-init.log" >&2; die "govhall init --demo (durable) failed"; }
  cp "$sdb" "$tmp/loop.db"
  # CPU seconds (user + system) a process has used so far.
  cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
  sqlite_loop() {
    say "bare SQLite loop: one transaction per submission, synchronous=FULL, ${SUBMIT_SECONDS}s"
    "$tmp/sqlite_loop" "$tmp/loop.db" "$SUBMIT_SECONDS" "$SUBMIT_ITEM" 1 >"$tmp/loop.out" &
    local lp=$! c=0
    # its CPU time, read just before it ends
    while kill -0 "$lp" 2>/dev/null; do v=$(cpu_s "$lp"); [ "$v" != 0 ] && c=$v; sleep 0.2; done
    wait "$lp" || return 1
    echo "$c" >"$tmp/loop.cpu"
    echo "$(sed -n 's/.* \([0-9.]*\) commits\/s$/\1/p' "$tmp/loop.out") $c"
  }

  "$BIN" serve --db "$sdb" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" --sqlite-synchronous full \
    --log-level "$LOG_LEVEL" >"$tmp/durable.out" 2>"$tmp/durable.err" &
  ds_pid=$!
  ds_url=$(listening "govhall (submissions)" "$ds_pid" "$tmp/durable.out" "$tmp/durable.err")
  token=$(python3 bench/citizen.py token "$ds_url") || die "cannot get an API token for the demo citizen"
  # The web form (and the kiosk, the same form with the kiosk cookie): a citizen's session and
  # its form token, as a browser has them after logging in.
  read -r web_cookie web_csrf < <(python3 bench/citizen.py web "$ds_url" "$SUBMIT_ITEM") || die "cannot log the demo citizen in through the pages"
  export BENCH_TOKEN=$token BENCH_TAG=bench$$ BENCH_COOKIE=$web_cookie BENCH_CSRF=$web_csrf
  if [ "$WARMUP" != 0 ]; then
    BENCH_TAG=warm$$ wrk -t1 -c8 -d"$WARMUP"s -s bench/submit.lua "$ds_url/api/v1/services/$SUBMIT_ITEM/applications" >/dev/null 2>&1 || true
  fi
  # One run per channel: name, lua script, path, BENCH_KIOSK.
  CHANNELS=("API|bench/submit.lua|/api/v1/services/$SUBMIT_ITEM/applications|0"
            "web form|bench/form.lua|/services/$SUBMIT_ITEM/apply|0"
            "kiosk form|bench/form.lua|/services/$SUBMIT_ITEM/apply|1")
  # BENCH_SUBMIT_ROUNDS rounds; in each, every channel runs right after the bare loop, and its
  # ratio is taken against that loop: on a shared machine the fsync's cost moves between two
  # measurements by more than the target's margin (as in the login flood). The median round
  # of each channel decides; every round is printed.
  SUBMIT_ROUNDS=${BENCH_SUBMIT_ROUNDS:-3}
  declare -A c_n c_errs c_p50 c_p99 c_rows c_cpu c_ratio c_loop c_line
  loops=()
  for round in $(seq "$SUBMIT_ROUNDS"); do
    for ch in "${CHANNELS[@]}"; do
      IFS='|' read -r c_name c_lua c_path c_kiosk <<<"$ch"
      k="$c_name|$round"
      read -r lr _ < <(sqlite_loop) || die "sqlite_loop failed"
      loops+=("$lr")
      c_loop[$k]=$lr
      before_rows=$(sqlite3 "$sdb" "SELECT count(*) FROM applications WHERE state = 'submitted'")
      cpu0=$(cpu_s "$ds_pid")
      say "durable submissions ($c_name, round $round/$SUBMIT_ROUNDS): wrk -t$WRK_THREADS -c$SUBMIT_CONNS -d${SUBMIT_SECONDS}s POST $c_path"
      BENCH_KIOSK=$c_kiosk BENCH_TAG="bench$$-${c_name// /}-$round" wrk -t"$WRK_THREADS" -c"$SUBMIT_CONNS" -d"$SUBMIT_SECONDS"s --latency \
        -s "$c_lua" "$ds_url$c_path" >"$tmp/submit.wrk" 2>&1 || true
      cpu1=$(cpu_s "$ds_pid")
      after_rows=$(sqlite3 "$sdb" "SELECT count(*) FROM applications WHERE state = 'submitted'")
      c_rps[$k]=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/submit.wrk")
      c_n[$k]=$(awk '/requests in/ {print $1}' "$tmp/submit.wrk")
      c_errs[$k]=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} /^not201/ {n += $2} END {print n + 0}' "$tmp/submit.wrk")
      c_p50[$k]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/submit.wrk")")
      c_p99[$k]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/submit.wrk")")
      # Every answered submission is a row: wrk's count (answers received) must match, give or
      # take the requests in flight when wrk stopped (answered after wrk hung up).
      c_rows[$k]=$((after_rows - before_rows))
      # govhall's CPU per submission (every thread: loops, writer, job pool), wrk's not counted.
      c_cpu[$k]=$(awk -v a="$cpu0" -v b="$cpu1" -v n="${c_rows[$k]}" 'BEGIN { if (n > 0) printf "%.0f", 1e6 * (b - a) / n; else print "n/a" }')
      c_ratio[$k]=$(awk -v a="${c_rps[$k]:-0}" -v b="${lr:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }')
    done
  done
  kill "$ds_pid" 2>/dev/null; wait "$ds_pid" 2>/dev/null || true
  ds_pid=""
  # The loop's rate: the median of its runs (the booking section below compares with it).
  sl_rate=$(printf '%s\n' "${loops[@]}" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  # The loop's CPU per commit (its own process: the SQLite work and the fsync's system time),
  # from its last run.
  sl_cpu_last=$(cat "$tmp/loop.cpu" 2>/dev/null || echo 0)
  sl_cpu_us=$(awk -v c="$sl_cpu_last" -v r="${loops[${#loops[@]}-1]}" -v s="$SUBMIT_SECONDS" \
    'BEGIN { n = r * s; if (n > 0) printf "%.0f", 1e6 * c / n; else print "n/a" }')
  echo
  echo "durable submissions (POST $SUBMIT_ITEM through each channel, SQLite WAL synchronous=FULL; $NPROC cores, $THREADS workers, wrk -c$SUBMIT_CONNS, ${SUBMIT_SECONDS}s each; $SUBMIT_ROUNDS rounds, each channel right after a bare loop)"
  printf '  %-12s %5s | %12s %12s %7s | %8s %8s | %7s %7s | %s\n' "channel" "round" "loop/s" "submitted/s" "ratio" "p50 ms" "p99 ms" "rows" "answers" "CPU us per submission"
  for ch in "${CHANNELS[@]}"; do
    IFS='|' read -r c_name _ _ _ <<<"$ch"
    for round in $(seq "$SUBMIT_ROUNDS"); do
      k="$c_name|$round"
      printf '  %-12s %5s | %12.1f %12.1f %6sx | %8s %8s | %7s %7s | %s\n' "$c_name" "$round" "${c_loop[$k]:-0}" "${c_rps[$k]:-0}" \
        "${c_ratio[$k]}" "${c_p50[$k]}" "${c_p99[$k]}" "${c_rows[$k]}" "${c_n[$k]:-0}" "${c_cpu[$k]}"
    done
  done
  printf '  %-34s %10.1f   %s\n' "commits/s (bench/sqlite_loop.c)" "${sl_rate:-0}" "(one transaction per submission; median of ${#loops[@]} runs; CPU $sl_cpu_us us per commit)"
  for ch in "${CHANNELS[@]}"; do
    IFS='|' read -r c_name _ _ _ <<<"$ch"
    # the median round by ratio
    med=$(for round in $(seq "$SUBMIT_ROUNDS"); do echo "${c_ratio[$c_name|$round]} $round"; done | sort -g | awk '{ r[NR] = $2 } END { print r[int((NR + 1) / 2)] }')
    k="$c_name|$med"
    errs=0
    for round in $(seq "$SUBMIT_ROUNDS"); do errs=$((errs + ${c_errs[$c_name|$round]:-0})); done
    if [ "$errs" != 0 ]; then
      verdict="ERRORS($errs unexpected answers or socket errors)"; below=1
    elif awk -v r="${c_ratio[$k]}" 'BEGIN { exit !(r + 0 >= 3) }'; then
      verdict=PASS
    else
      verdict=BELOW; below=1
    fi
    printf '  %-34s %10.1f   %sx the loop, target >= 3x   %s   (median round %s: loop %s/s, p50 %s ms, p99 %s ms; %s rows for %s answers; CPU %s us per submission)\n' \
      "submissions/s ($c_name)" "${c_rps[$k]:-0}" "${c_ratio[$k]}" "$verdict" "$med" "${c_loop[$k]}" "${c_p50[$k]}" "${c_p99[$k]}" \
      "${c_rows[$k]}" "${c_n[$k]:-0}" "${c_cpu[$k]}"
    c_rps[$c_name]=${c_rps[$k]}
  done
  if grep -q '"level":"error"' "$tmp/durable.err" 2>/dev/null; then
    say "govhall logged errors during the submissions:"
    grep '"level":"error"' "$tmp/durable.err" | head -5 >&2
  fi

  # ---- booking requests, beside the submissions ----
  # The same database and settings; a test centre open around the clock (1000 online places
  # per slot) serving every item for individuals (145), BENCH_BOOK_ACCOUNTS citizens (the two
  # of the demo and the rest registered through the API), booking-max-active raised to 100:
  # 64 x 145 x 100 holds before the per-person limit, so neither it nor a full slot answers
  # within the run; 64 clients each hold a place (bench/book.lua): the conditional write that
  # takes the place, on the group-commit writer like the submissions. Beside the submissions,
  # against the same ceiling (the bare SQLite loop, one transaction each): target >= 3x.
  if [ "${BENCH_BOOK_SECONDS:-$SUBMIT_SECONDS}" != 0 ]; then
    BOOK_SECONDS=${BENCH_BOOK_SECONDS:-$SUBMIT_SECONDS}
    python3 - "$root/data/catalog/services.json" "$tmp/bench-centre.json" "$tmp/bench-items" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
items = [i["code"] for i in (d if isinstance(d, list) else d["services"]) if "individual" in (i.get("audience") or [])]
json.dump({"centres": [{"code": "bench", "name_zh": "压测中心", "name_en": "Bench centre", "address_zh": "清河市",
    "address_en": "Qinghe", "phone": "0000-00000", "hours": {"open": "00:00", "close": "24:00"}, "slot_minutes": 30,
    "capacity": {"online": 1000, "phone": 0, "counter": 0},
    "counters": [{"code": "B1", "name_zh": "一号", "name_en": "One", "items": items}]}]}, open(sys.argv[2], "w"))
open(sys.argv[3], "w").write(",".join(items))
PY
    "$BIN" booking import "$tmp/bench-centre.json" --db "$sdb" --key-file "$KEY_FILE" >"$tmp/book-import.log" 2>&1 \
      || { cat "$tmp/book-import.log" >&2; die "govhall booking import (bench centre) failed"; }
    "$BIN" serve --db "$sdb" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" --sqlite-synchronous full \
      --booking-max-active 100 --trust-proxy true --log-level "$LOG_LEVEL" >"$tmp/book.out" 2>"$tmp/book.err" &
    bk_pid=$!
    bk_url=$(listening "govhall (bookings)" "$bk_pid" "$tmp/book.out" "$tmp/book.err")
    bk_env=$(python3 - "$bk_url" "${BENCH_BOOK_ACCOUNTS:-64}" <<'PY'
import json, sys, urllib.request
base, accounts = sys.argv[1], int(sys.argv[2])
def call(method, path, body=None, ip="127.0.0.1"):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json", "X-Forwarded-For": ip})
    return json.load(urllib.request.urlopen(req))
def id_number(i):
    # GB 11643: born on the 15th of a month of 1960..1999, one per i.
    body = "110105%04d%02d15%03d" % (1960 + i % 40, 1 + i // 40 % 12, 700 + i // 480)
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w[k] for k, c in enumerate(body)) % 11]
logins = [("13800000001", "Qinghe-demo-2026"), ("13800000002", "Qinghe-demo-2026")]
for i in range(max(0, accounts - 2)):
    # Each from an address of its own (--trust-proxy): the per-address limit of registrations.
    login = ("1370000%04d" % i, "Bench lantern %d by the river" % i)
    call("POST", "/api/v1/accounts/individual", {"name": "压测", "id_number": id_number(i), "phone": login[0],
                                                  "password": login[1]}, ip="10.77.%d.%d" % (i // 200, i % 200 + 1))
    logins.append(login)
tokens = [call("POST", "/api/v1/auth/token", {"login": phone, "password": pw, "channel": "other", "name": "bench",
                                               "scopes": "apply"}, ip="10.78.%d.%d" % (k // 200, k % 200 + 1))["token"]
          for k, (phone, pw) in enumerate(logins)]
days = call("GET", "/api/v1/centres/bench/slots?item=psb-0001&days=20")["days"]
slots = ["%s/%s" % (d["day"], s["start"]) for d in days for s in d["slots"]]
print("BENCH_BOOK_TOKENS=%s BENCH_BOOK_SLOTS=%s BENCH_BOOK_CENTRE=bench" % (",".join(tokens), ",".join(slots)))
PY
) || die "cannot prepare the booking bench (tokens, slots)"
    export $bk_env BENCH_BOOK_ITEMS="$(cat "$tmp/bench-items")"
    if [ "$WARMUP" != 0 ]; then
      wrk -t1 -c8 -d"$WARMUP"s -s bench/book.lua "$bk_url/api/v1/bookings" >/dev/null 2>&1 || true
    fi
    say "booking requests: wrk -t$WRK_THREADS -c$SUBMIT_CONNS -d${BOOK_SECONDS}s POST /api/v1/bookings"
    wrk -t"$WRK_THREADS" -c"$SUBMIT_CONNS" -d"$BOOK_SECONDS"s --latency -s bench/book.lua "$bk_url/api/v1/bookings" >"$tmp/book.wrk" 2>&1 || true
    kill "$bk_pid" 2>/dev/null; wait "$bk_pid" 2>/dev/null || true
    b_rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/book.wrk")
    b_errs=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} /^not201/ {n += $2} END {print n + 0}' "$tmp/book.wrk")
    b_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/book.wrk")")
    b_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/book.wrk")")
    b_ratio=$(awk -v a="${b_rps:-0}" -v b="${sl_rate:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    b_vs=$(awk -v a="${b_rps:-0}" -v b="${c_rps[API]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    if [ "$b_errs" != 0 ] || ! awk -v r="${b_rps:-0}" 'BEGIN { exit !(r + 0 > 0) }'; then
      b_verdict="ERRORS($b_errs non-201 answers or socket errors)"; below=1
      grep '^book.lua' "$tmp/book.wrk" | head -3 >&2
    elif awk -v r="$b_ratio" 'BEGIN { exit !(r + 0 >= 3) }'; then
      b_verdict="target >= 3x   PASS"
    else
      b_verdict="target >= 3x   BELOW"; below=1
    fi
    echo "booking requests (POST /api/v1/bookings: a hold, SQLite WAL synchronous=FULL; $NPROC cores, $THREADS workers, wrk -c$SUBMIT_CONNS, ${BOOK_SECONDS}s)"
    printf '  %-34s %10.1f   %s\n' "holds/s (govhall)" "${b_rps:-0}" "(p50 $b_p50 ms, p99 $b_p99 ms; $b_errs non-201 answers or socket errors)"
    printf '  %-34s %9sx   %s\n' "vs commits/s of the SQLite loop" "$b_ratio" "$b_verdict"
    printf '  %-34s %9sx\n' "vs submissions/s (API) above" "$b_vs"
    if grep -q '"level":"error"' "$tmp/book.err" 2>/dev/null; then
      say "govhall logged errors during the bookings:"
      grep '"level":"error"' "$tmp/book.err" | head -5 >&2
    fi
  fi
fi

# ---- payment notifications -------------------------------------------------------------------
# bench/pay_notify.mjs: a hall on SQLite beside a real `govhall paysim`; BENCH_PAY_N orders sent
# to the gateway, then as many signed payment.succeeded notifications from 64 concurrent clients
# (each confirmed: order paid, application moved on, receipt signed, log, statistics, inbox),
# then the same again as duplicates (the endpoint's own cost, the ceiling). Needs `npm ci`.
PAY_N=${BENCH_PAY_N:-400}
if [ "$PAY_N" != 0 ]; then
  command -v node >/dev/null 2>&1 || die "node is missing"
  echo
  echo "payment notifications (POST /api/v1/pay/notify, HMAC-SHA256 signed, 64 clients, beside the submissions above)"
  if GOVHALL_BIN="$BIN" BENCH_PAY_N="$PAY_N" node bench/pay_notify.mjs >"$tmp/pay.out" 2>&1; then
    sed 's/^/  /' "$tmp/pay.out"
    p_rps=$(sed -n 's/^payment notifications: .* = \([0-9.]*\)\/s;.*/\1/p' "$tmp/pay.out")
  else
    say "the payment notification run failed:"; tail -20 "$tmp/pay.out" >&2; below=1
  fi
fi

# ---- forwarded applications (跨省通办) -----------------------------------------------------------
# bench/federation_apply.mjs: a hub and two halls on SQLite; BENCH_FED_N applications of a Qinghe
# citizen for a Lanshan item (one PDF each) from 16 clients, timed until Lanshan filed each and
# Qinghe holds its answer; beside the same number of local submissions at Lanshan. Needs `npm ci`.
FED_N=${BENCH_FED_N:-400}
if [ "$FED_N" != 0 ]; then
  command -v node >/dev/null 2>&1 || die "node is missing"
  echo
  echo "forwarded applications between two halls (outbox, signed delivery, filing, the state back; 16 clients)"
  if GOVHALL_BIN="$BIN" BENCH_FED_N="$FED_N" node bench/federation_apply.mjs >"$tmp/fed.out" 2>&1; then
    sed 's/^/  /' "$tmp/fed.out"
  else
    say "the forwarded applications run failed:"; tail -20 "$tmp/fed.out" >&2; below=1
  fi
fi

# ---- OpenID Connect logins at the hub ---------------------------------------------------------
# bench/oidc_logins.mjs: a hub on SQLite; BENCH_OIDC_CONNS browsers with the demo citizen's hub
# session run BENCH_OIDC_N full code flows with PKCE through openid-client (authorize, token with
# the ID token checked, userinfo), as a hall's "log in with the national account" does.
OIDC_N=${BENCH_OIDC_N:-600}
if [ "$OIDC_N" != 0 ]; then
  command -v node >/dev/null 2>&1 || die "node is missing"
  echo
  echo "OpenID Connect logins at the hub (authorize + token + userinfo, PKCE S256, ${BENCH_OIDC_CONNS:-16} clients)"
  if GOVHALL_BIN="$BIN" BENCH_OIDC_N="$OIDC_N" node bench/oidc_logins.mjs >"$tmp/oidc.out" 2>&1; then
    sed 's/^/  /' "$tmp/oidc.out"
    o_rps=$(sed -n 's/^OpenID Connect logins: .* = \([0-9.]*\)\/s;.*/\1/p' "$tmp/oidc.out")
  else
    say "the OpenID Connect run failed:"; tail -20 "$tmp/oidc.out" >&2; below=1
  fi
fi

# ---- the write paths side by side -------------------------------------------------------------
# The three figures above, each of 64 concurrent clients on SQLite with synchronous=FULL, every
# write on the group-commit writer: filing and submitting an application, holding a booking's
# place, confirming a payment from the gateway's signed notification.
if [ -n "${c_rps[API]:-}${b_rps:-}${p_rps:-}${o_rps:-}" ]; then
  echo
  echo "writes under 64 concurrent clients (SQLite WAL synchronous=FULL; $NPROC cores, $THREADS workers)"
  printf '  %-44s %10s\n' "submissions/s (API)" "${c_rps[API]:-skipped}"
  printf '  %-44s %10s\n' "booking requests/s (holds)" "${b_rps:-skipped}"
  printf '  %-44s %10s\n' "payment notifications processed/s" "${p_rps:-skipped}"
  printf '  %-44s %10s\n' "OpenID Connect logins/s at the hub (${BENCH_OIDC_CONNS:-16} clients)" "${o_rps:-skipped}"
fi

# ---- staff queue with a million applications -------------------------------------------------
# A fresh database with the demo catalog and accounts gets BENCH_QUEUE_ROWS applications
# (bench/seed_queue.sql: one INSERT ... SELECT over a recursive CTE, spread over every item and
# so every department, over the workflow's states and over due days around today); a staff
# member (13800000004, department psb: about a tenth of them) logs in through the pages and
# wrk fetches GET /staff/queue with that session. Reported only; the budget is p99 < 100 ms.
QUEUE_SECONDS=${BENCH_QUEUE_SECONDS:-10}
QUEUE_ROWS=${BENCH_QUEUE_ROWS:-1000000}
QUEUE_CONNS=${BENCH_QUEUE_CONNS:-8}
if [ "$QUEUE_SECONDS" != 0 ]; then
  command -v sqlite3 >/dev/null 2>&1 || die "the sqlite3 command-line shell is missing (Debian: sqlite3)"
  command -v curl >/dev/null 2>&1 || die "curl is missing"
  qdb=$tmp/queue.db
  "$BIN" init --demo --history 0 --db "$qdb" --key-file "$KEY_FILE" >"$tmp/queue-init.log" 2>&1 || { cat "$tmp/queue-init.log" >&2; die "govhall init --demo (queue) failed"; }
  say "seeding $QUEUE_ROWS applications"
  seed_start=$(date +%s.%N)
  { echo ".parameter set @n $QUEUE_ROWS"; cat bench/seed_queue.sql; } | sqlite3 "$qdb" >/dev/null || die "seeding the queue database failed"
  seed_secs=$(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  "$BIN" serve --db "$qdb" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" \
    --log-level "$LOG_LEVEL" >"$tmp/queue.out" 2>"$tmp/queue.err" &
  qs_pid=$!
  qs_url=$(listening "govhall (queue)" "$qs_pid" "$tmp/queue.out" "$tmp/queue.err")
  # Log in through the pages: GET /login sets gh_pre and carries _csrf; POST /login answers
  # 303 with the session cookie gh_sid.
  jar=$tmp/queue.cookies
  csrf=$(curl -s -c "$jar" -b "$jar" "$qs_url/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  [ -n "$csrf" ] || die "no _csrf field on /login"
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" \
    --data-urlencode login=13800000004 --data-urlencode password=Qinghe-demo-2026 "$qs_url/login")
  sid=$(awk '$6 == "gh_sid" {print $7}' "$jar")
  [ "$code" = 303 ] && [ -n "$sid" ] || die "staff log-in answered $code (no gh_sid)"
  one=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Cookie: gh_sid=$sid" "$qs_url/staff/queue")
  [ "${one%% *}" = 200 ] || die "GET /staff/queue answered ${one%% *}"
  say "staff queue: wrk -t$WRK_THREADS -c$QUEUE_CONNS -d${QUEUE_SECONDS}s GET /staff/queue (one request alone took ${one#* } s)"
  wrk -t"$WRK_THREADS" -c"$QUEUE_CONNS" -d"$QUEUE_SECONDS"s --latency -H "Cookie: gh_sid=$sid" "$qs_url/staff/queue" >"$tmp/queue.wrk" 2>&1 || true
  kill "$qs_pid" 2>/dev/null; wait "$qs_pid" 2>/dev/null || true
  qs_pid=""
  q_rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/queue.wrk")
  q_errs=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$tmp/queue.wrk")
  q_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/queue.wrk")")
  q_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/queue.wrk")")
  if [ "$q_errs" != 0 ]; then
    q_verdict="ERRORS($q_errs non-2xx or socket errors)"
  elif awk -v p="$q_p99" 'BEGIN { exit !(p + 0 > 0 && p + 0 < 100) }'; then
    q_verdict="report (within the budget)"
  else
    q_verdict="report (OVER the budget)"
  fi
  echo
  echo "staff queue (GET /staff/queue as staff of psb; $QUEUE_ROWS applications, seeded in ${seed_secs}s; wrk -c$QUEUE_CONNS, ${QUEUE_SECONDS}s)"
  printf '  %-34s %10.1f\n' "req/s" "${q_rps:-0}"
  printf '  %-34s %10s   budget < 100 ms   %s   (p50 %s ms; one request alone %s s)\n' "p99 ms" "$q_p99" "$q_verdict" "$q_p50" "${one#* }"
fi

# ---- transparency log with ten million leaves ---------------------------------------------
# A fresh database gets BENCH_LEDGER_LEAVES leaves from `govhall ledger bench-seed` (a
# benchmark-only command writing leaves and perfect subtrees in large transactions), then
# `govhall ledger bench-append` appends one leaf per transaction (SQLite synchronous=FULL, as the
# server runs) for BENCH_LEDGER_SECONDS, and wrk asks for inclusion proofs of random leaves
# against the full tree (each proof reads O(log n) stored hashes). Reported only.
LEDGER_SECONDS=${BENCH_LEDGER_SECONDS:-10}
LEDGER_LEAVES=${BENCH_LEDGER_LEAVES:-10000000}
LEDGER_CONNS=${BENCH_LEDGER_CONNS:-16}
if [ "$LEDGER_SECONDS" != 0 ]; then
  command -v curl >/dev/null 2>&1 || die "curl is missing"
  ldb=$tmp/ledger.db
  "$BIN" init --db "$ldb" --key-file "$KEY_FILE" >"$tmp/ledger-init.log" 2>&1 || { cat "$tmp/ledger-init.log" >&2; die "govhall init (ledger) failed"; }
  say "seeding $LEDGER_LEAVES log leaves"
  seed_start=$(date +%s.%N)
  "$BIN" ledger bench-seed "$LEDGER_LEAVES" --db "$ldb" --key-file "$KEY_FILE" >"$tmp/ledger-seed.log" 2>&1 || { cat "$tmp/ledger-seed.log" >&2; die "seeding the log failed"; }
  l_seed=$(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  say "appending for ${LEDGER_SECONDS}s"
  l_append=$("$BIN" ledger bench-append "$LEDGER_SECONDS" --db "$ldb" --key-file "$KEY_FILE" 2>&1) || die "appending failed: $l_append"
  l_rate=$(echo "$l_append" | awk '{print $1}')
  l_size=$(sqlite3 "$ldb" 'SELECT size FROM ledger_head' 2>/dev/null || echo "$LEDGER_LEAVES")
  "$BIN" serve --db "$ldb" --key-file "$KEY_FILE" --listen 127.0.0.1:0 --threads "$THREADS" \
    --log-level "$LOG_LEVEL" >"$tmp/ledger.out" 2>"$tmp/ledger.err" &
  ls_pid=$!
  ls_url=$(listening "govhall (ledger)" "$ls_pid" "$tmp/ledger.out" "$tmp/ledger.err")
  one=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$ls_url/api/v1/ledger/proofs/inclusion?index=12345&size=$l_size")
  [ "${one%% *}" = 200 ] || die "GET /api/v1/ledger/proofs/inclusion answered ${one%% *}"
  say "inclusion proofs: wrk -t$WRK_THREADS -c$LEDGER_CONNS -d${LEDGER_SECONDS}s, random leaves of $l_size"
  LEDGER_LEAVES=$l_size wrk -t"$WRK_THREADS" -c"$LEDGER_CONNS" -d"$LEDGER_SECONDS"s --latency -s bench/ledger_proof.lua \
    "$ls_url" >"$tmp/ledger.wrk" 2>&1 || true
  kill "$ls_pid" 2>/dev/null; wait "$ls_pid" 2>/dev/null || true
  ls_pid=""
  p_rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/ledger.wrk")
  p_errs=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$tmp/ledger.wrk")
  p_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/ledger.wrk")")
  p_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/ledger.wrk")")
  echo
  echo "transparency log ($LEDGER_LEAVES leaves seeded in ${l_seed}s; SQLite)"
  printf '  %-34s %10.1f   %s\n' "appends/s" "${l_rate:-0}" "(one transaction each, synchronous=FULL, head row locked)"
  printf '  %-34s %10.1f   %s\n' "inclusion proofs/s (HTTP)" "${p_rps:-0}" "(p50 $p_p50 ms, p99 $p_p99 ms; $p_errs errors; one alone ${one#* } s)"
fi

# ---- search: the in-memory index beside SQLite FTS5 --------------------------------------------
# `govhall search-bench` generates BENCH_SEARCH_ITEMS items (1,720 by default: ten times the
# demo catalog, its items cloned with varied names and codes) into a fresh database, builds the
# index from it the way a rebuild does (timed; budget one second per 10,000 items), fills an
# FTS5 table (trigram tokenizer) with the same documents,
# and runs the same query mix (every kind: colloquial, pinyin, Traditional, English, typos)
# from BENCH_SEARCH_CLIENTS concurrent clients served by one thread per core, first against
# the index, then against FTS5. Targets: >= 20,000 queries/s and p99 < 2 ms.
SEARCH_SECONDS=${BENCH_SEARCH_SECONDS:-10}
SEARCH_ITEMS=${BENCH_SEARCH_ITEMS:-1720}
SEARCH_CLIENTS=${BENCH_SEARCH_CLIENTS:-64}
if [ "$SEARCH_SECONDS" != 0 ]; then
  say "search: $SEARCH_ITEMS items, $SEARCH_CLIENTS clients, ${SEARCH_SECONDS}s per engine"
  "$BIN" search-bench --items "$SEARCH_ITEMS" --clients "$SEARCH_CLIENTS" --seconds "$SEARCH_SECONDS" >"$tmp/search.out" 2>"$tmp/search.err" \
    || { cat "$tmp/search.err" >&2; die "govhall search-bench failed"; }
  read -r sb_build sb_mem < <(sed -n 's/^index build \([0-9.]*\) ms .*memory \([0-9.]*\) MiB$/\1 \2/p' "$tmp/search.out")
  read -r g_qps g_p50 g_p99 < <(sed -n 's/^govhall q\/s \([0-9.]*\) p50 \([0-9.]*\) ms p99 \([0-9.]*\) ms.*/\1 \2 \3/p' "$tmp/search.out")
  read -r f_qps f_p50 f_p99 < <(sed -n 's/^fts5 q\/s \([0-9.]*\) p50 \([0-9.]*\) ms p99 \([0-9.]*\) ms.*/\1 \2 \3/p' "$tmp/search.out")
  s_ratio=$(awk -v a="${g_qps:-0}" -v b="${f_qps:-0}" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')
  if awk -v q="${g_qps:-0}" -v p="${g_p99:-99}" 'BEGIN { exit !(q + 0 >= 20000 && p + 0 < 2) }'; then s_verdict=PASS; else s_verdict=BELOW; below=1; fi
  if awk -v b="${sb_build:-99999}" -v n="$SEARCH_ITEMS" 'BEGIN { exit !(b + 0 < 1000 * n / 10000) }'; then b_verdict=PASS; else b_verdict=OVER; below=1; fi
  echo
  echo "search ($SEARCH_ITEMS items; $SEARCH_CLIENTS clients on $NPROC cores; ${SEARCH_SECONDS}s per engine; load average $(cut -d' ' -f1 /proc/loadavg))"
  printf '  %-34s %10s   %10s   %10s\n' "" "queries/s" "p50 ms" "p99 ms"
  printf '  %-34s %10.0f   %10s   %10s\n' "govhall index" "${g_qps:-0}" "${g_p50:-?}" "${g_p99:-?}"
  printf '  %-34s %10.0f   %10s   %10s\n' "SQLite FTS5 (trigram, bm25)" "${f_qps:-0}" "${f_p50:-?}" "${f_p99:-?}"
  printf '  %-34s %9sx   target >= 20000 q/s and p99 < 2 ms   %s\n' "ratio (index / FTS5)" "$s_ratio" "$s_verdict"
  printf '  %-34s %10s   budget < 1000 ms per 10000 items   %s   (index memory %s MiB)\n' "index (re)build ms" "${sb_build:-?}" "$b_verdict" "${sb_mem:-?}"
fi

# ---- forgot password: the same time for every name ----------------------------------------
# bench/recovery.mjs on the release build: BENCH_RECOVERY_ACCOUNTS citizens with verified numbers,
# then POST /api/v1/auth/recovery one request at a time for each of their numbers and as many
# numbers without an account, shuffled. Prints both medians and their difference (a figure: the
# handler does the same steps for both, docs/security.md "Account recovery").
RECOVERY_ACCOUNTS=${BENCH_RECOVERY_ACCOUNTS:-200}
if [ "$RECOVERY_ACCOUNTS" != 0 ]; then
  command -v node >/dev/null 2>&1 || die "node is missing (Debian: nodejs)"
  say "forgot password timing: $RECOVERY_ACCOUNTS known and as many unknown names"
  BENCH_RECOVERY_ACCOUNTS=$RECOVERY_ACCOUNTS GOVHALL_BIN=$BIN node bench/recovery.mjs >"$tmp/recovery.out" 2>"$tmp/recovery.err" \
    || { tail -n 20 "$tmp/recovery.err" >&2; die "the recovery timing run failed"; }
  read -r rc_known rc_unknown rc_diff rc_n rc_bad < <(sed -n \
    's/^recovery known_ms \([0-9.]*\) unknown_ms \([0-9.]*\) difference_ms \([-0-9.]*\) requests \([0-9]*\) non202 \([0-9]*\)$/\1 \2 \3 \4 \5/p' "$tmp/recovery.out")
  echo
  echo "forgot password (POST /api/v1/auth/recovery, one request at a time, $rc_n requests; SQLite)"
  printf '  %-34s %10s\n' "median ms, account with a number" "${rc_known:-?}"
  printf '  %-34s %10s\n' "median ms, no account" "${rc_unknown:-?}"
  printf '  %-34s %10s   (%s answers other than 202)\n' "difference of medians ms" "${rc_diff:-?}" "${rc_bad:-?}"
fi

# ---- PostgreSQL failover -------------------------------------------------------------------
# The test suite's drill (tests/failover/drill.mjs) on the release build, BENCH_FAILOVER_ROUNDS
# times: a primary and a synchronous standby (scripts/pg-test.sh start --standby), one node on
# the multi-host URL, BENCH_FAILOVER_CLIENTS clients submitting with idempotency keys (a 503 is
# retried after 50 ms with the same key); after BENCH_FAILOVER_SUBMISSIONS acknowledged, the
# primary is stopped at once, /readyz waited for to say 503, the standby promoted, and the load
# goes on for as many more. Recovery: from the kill to the first 201 of a request sent after
# it. Lost: acknowledged submissions missing on the new primary (must be 0).
FAILOVER_ROUNDS=${BENCH_FAILOVER_ROUNDS:-3}
if [ "$FAILOVER_ROUNDS" != 0 ]; then
  command -v node >/dev/null 2>&1 || die "node is missing (Debian: nodejs)"
  [ -x /usr/lib/postgresql/15/bin/initdb ] || die "PostgreSQL 15 is missing (Debian: postgresql)"
  say "failover: $FAILOVER_ROUNDS rounds"
  GOVHALL_BIN=$BIN node bench/failover.mjs >"$tmp/failover.out" 2>"$tmp/failover.err" \
    || { tail -n 20 "$tmp/failover.err" >&2; die "the failover drill failed"; }
  read -r f_med f_max f_lost f_dup f_stray f_audit < <(sed -n \
    's/^failover rounds [0-9]* recovery_ms_median \([0-9]*\) recovery_ms_max \([0-9]*\) lost \([0-9]*\) duplicated \([0-9]*\) strays \([0-9]*\) audit_failed \([0-9]*\)$/\1 \2 \3 \4 \5 \6/p' "$tmp/failover.out")
  if [ "${f_lost:-1}" = 0 ] && [ "${f_dup:-1}" = 0 ] && [ "${f_stray:-1}" = 0 ] && [ "${f_audit:-1}" = 0 ]; then
    f_verdict=PASS
  else
    f_verdict=FAIL; below=1
  fi
  echo
  echo "PostgreSQL failover ($FAILOVER_ROUNDS rounds; primary + synchronous standby, 1 node with 2 workers, ${BENCH_FAILOVER_CLIENTS:-16} clients)"
  sed -n 's/^round \([0-9]*\) recovery_ms \([0-9]*\) promote_ms \([0-9]*\) acknowledged \([0-9]*\) lost \([0-9]*\).*/  round \1: recovery \2 ms (promotion \3 ms), \4 acknowledged, \5 lost/p' "$tmp/failover.out"
  printf '  %-34s %10s   %s\n' "recovery ms (kill -> first 201)" "${f_med:-?}" "(median; max ${f_max:-?} ms)"
  printf '  %-34s %10s   target 0   %s   (duplicated %s, unacknowledged %s, audit failures %s)\n' "submissions lost" "${f_lost:-?}" "$f_verdict" "${f_dup:-?}" "${f_stray:-?}" "${f_audit:-?}"
fi

if [ "$below" = 1 ] && [ "${BENCH_STRICT:-0}" = 1 ]; then
  exit 1
fi
exit 0
