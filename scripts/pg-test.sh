#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests (see docs: DESIGN.md "Test services").
#
#   scripts/pg-test.sh start [--state FILE]   start a cluster; prints
#                                            GOVHALL_TEST_PG=postgresql://postgres@127.0.0.1:PORT/govhall_test
#   scripts/pg-test.sh stop  [--state FILE]   stop it and remove its folder
#   scripts/pg-test.sh run [--state FILE] [--standby] -- CMD [ARGS...]
#                                            start, export GOVHALL_TEST_PG, run CMD, stop
#                                            (always), exit with CMD's status
#   scripts/pg-test.sh start --standby [--state FILE]
#                                            a primary and a streaming standby (pg_basebackup
#                                            -R) that every commit waits for; prints
#                                            GOVHALL_TEST_PG=postgresql://postgres@127.0.0.1:P1,127.0.0.1:P2/govhall_test?target_session_attrs=read-write
#                                            GOVHALL_TEST_PG_PRIMARY=... GOVHALL_TEST_PG_STANDBY=...
#   scripts/pg-test.sh kill-primary [--state FILE]  stops the primary at once (as a crash)
#   scripts/pg-test.sh promote [--state FILE]       promotes the standby; waits until it writes
#   scripts/pg-test.sh start --data DIR [--setting 'NAME = VALUE' ...] [--state FILE]
#                                            a cluster kept in DIR (made there the first time,
#                                            started again later; `stop` leaves it in place), with
#                                            the settings added (make bench-scale)
#
# The cluster lives in a fresh ${TMPDIR:-/tmp}/govhall-pg-XXXXXX owned by the `postgres` user
# (PostgreSQL refuses to run as root; Debian's postgresql package creates that user), listens
# on a free port on 127.0.0.1 only (unix socket inside the folder), trusts local connections,
# takes 100 connections (make test's API files, two at once: 34 at most, measured) and runs
# with fsync off (with --standby: synchronous_commit on and synchronous_standby_names
# naming the standby, so an answered commit is on both; the standby runs alone once promoted).
# `start` records the folder in the state file (default
# ${TMPDIR:-/tmp}/govhall-pg-test.state, or $GOVHALL_PG_STATE) so `stop` can find it; `run`
# uses a private state file, so several runs can go on at once.
# Always the binaries in /usr/lib/postgresql/15/bin: other pg_ctl programs may be on PATH.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TMP=${TMPDIR:-/tmp}
state=${GOVHALL_PG_STATE:-$TMP/govhall-pg-test.state}

say() { echo "pg-test: $*" >&2; }

# wait_until SECONDS CMD...: runs CMD until it succeeds, at most SECONDS long (a condition, not
# a time: it returns as soon as CMD holds). Status 1 when it never did.
wait_until() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1 # sleep-lint: allow -- the pause between two checks of the condition
  done
}
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# as_pg CMD...: runs CMD as the postgres user when we are root, else as ourselves.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  [ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb not found: install Debian's postgresql package (scripts/deps.sh test)"
  if [ -f "$state" ]; then
    old=$(sed -n 's/^dir=//p' "$state")
    if [ -n "$old" ] && [ -d "$old" ]; then
      die "a cluster from $state is still there ($old): run '$0 stop' first or use --state"
    fi
    rm -f "$state"
  fi
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user: install Debian's postgresql package"
  fi
  if [ -n "$keep" ]; then
    start_kept
    return
  fi
  dir=$(mktemp -d "$TMP/govhall-pg-XXXXXX")
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg test -w "$dir" || { rm -rf "$dir"; die "the postgres user cannot write $dir: set TMPDIR to a folder it can reach"; }
  printf 'dir=%s\n' "$dir" >"$state"

  if ! as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
      >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    stop_dir "$dir"
    die "initdb failed"
  fi
  local sync=off
  [ "$standby" = 1 ] && sync=on
  cat >"$dir/data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = $sync
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
CONF
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/data/postgresql.auto.conf"
  local port
  if ! port=$(launch "$dir/data" "$dir/server.log"); then
    tail -n 20 "$dir/server.log" >&2 || true
    stop_dir "$dir"
    die "could not start PostgreSQL"
  fi
  printf 'port=%s\n' "$port" >>"$state"
  if ! as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres govhall_test; then
    stop_dir "$dir"
    die "createdb failed"
  fi
  url="postgresql://postgres@127.0.0.1:$port/govhall_test"
  printf 'url=%s\n' "$url" >>"$state"
  if [ "$standby" = 1 ]; then
    start_standby "$dir" "$port"
    return
  fi
  say "PostgreSQL running in $dir on 127.0.0.1:$port"
  echo "GOVHALL_TEST_PG=$url"
}

# start_kept: the cluster kept in $keep (--data): made there with initdb the first time (with
# the settings of a throwaway cluster and those of --setting), started on a free port each
# time; `stop` stops it and leaves it.
start_kept() {
  mkdir -p "$keep"
  keep=$(cd "$keep" && pwd)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$keep"
  chmod 700 "$keep"
  as_pg test -w "$keep" || die "the postgres user cannot write $keep"
  printf 'dir=%s\nkept=1\n' "$keep" >"$state"
  if [ ! -f "$keep/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$keep/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$keep/initdb.log" 2>&1 ||
      { cat "$keep/initdb.log" >&2; rm -f "$state"; die "initdb failed in $keep"; }
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$keep'"
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
      echo "max_connections = 50"
      echo "log_min_messages = warning"
      for s in "${settings[@]}"; do echo "$s"; done
    } >"$keep/data/postgresql.auto.conf"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$keep/data/postgresql.auto.conf"
  fi
  if [ -f "$keep/data/postmaster.pid" ]; then
    # left running (or killed) by an earlier run: stop it, then start it here
    as_pg "$PGBIN/pg_ctl" -D "$keep/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  local port
  port=$(launch "$keep/data" "$keep/server.log") || { tail -n 20 "$keep/server.log" >&2; rm -f "$state"; die "could not start PostgreSQL in $keep"; }
  printf 'port=%s\n' "$port" >>"$state"
  say "PostgreSQL running in $keep on 127.0.0.1:$port (kept)"
  echo "GOVHALL_TEST_PG=postgresql://postgres@127.0.0.1:$port/postgres"
}

# launch DATA LOG: starts the cluster in DATA on a free port (appended to its
# postgresql.auto.conf: the last setting wins), trying a few ports; prints the port.
launch() {
  local data=$1 log=$2 port tries=0
  while :; do
    port=$(free_port)
    echo "port = $port" >>"$data/postgresql.auto.conf"
    if as_pg "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null 2>&1; then
      echo "$port"
      return 0
    fi
    tries=$((tries + 1))
    [ "$tries" -ge 5 ] && return 1
  done
}

# start_standby DIR PRIMARY_PORT: a standby of the primary in DIR/standby, streaming through
# a replication slot; then makes the primary wait for it at every commit.
start_standby() {
  local dir=$1 pport=$2 sport
  if ! as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$dir/standby" -R \
      -C -S govhall_standby -X stream -c fast --no-sync >"$dir/basebackup.log" 2>&1; then
    cat "$dir/basebackup.log" >&2
    stop_dir "$dir"
    die "pg_basebackup failed"
  fi
  # The copy carries the primary's settings; the standby's own come after them.
  cat >>"$dir/standby/postgresql.auto.conf" <<CONF
cluster_name = 'govhall_standby'
synchronous_standby_names = ''
CONF
  if ! sport=$(launch "$dir/standby" "$dir/standby.log"); then
    tail -n 20 "$dir/standby.log" >&2 || true
    stop_dir "$dir"
    die "could not start the standby"
  fi
  printf 'standby_port=%s\n' "$sport" >>"$state"
  echo "synchronous_standby_names = 'govhall_standby'" >>"$dir/data/postgresql.auto.conf"
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" reload >/dev/null
  local q="SELECT sync_state FROM pg_stat_replication WHERE application_name = 'govhall_standby'"
  local st=""
  sync_state() {
    st=$(psql -X -At -h 127.0.0.1 -p "$pport" -U postgres -d postgres -c "$q" 2>/dev/null || true)
    [ "$st" = sync ]
  }
  wait_until 60 sync_state || true
  if [ "$st" != sync ]; then
    tail -n 20 "$dir/standby.log" >&2 || true
    stop_dir "$dir"
    die "the standby did not become synchronous (state '${st:-none}')"
  fi
  say "PostgreSQL primary 127.0.0.1:$pport and synchronous standby 127.0.0.1:$sport in $dir"
  echo "GOVHALL_TEST_PG=postgresql://postgres@127.0.0.1:$pport,127.0.0.1:$sport/govhall_test?target_session_attrs=read-write"
  echo "GOVHALL_TEST_PG_PRIMARY=postgresql://postgres@127.0.0.1:$pport/govhall_test"
  echo "GOVHALL_TEST_PG_STANDBY=postgresql://postgres@127.0.0.1:$sport/govhall_test"
}

state_dir() {
  [ -f "$state" ] || die "no cluster recorded in $state"
  sed -n 's/^dir=//p' "$state"
}

kill_primary() {
  local d
  d=$(state_dir)
  as_pg "$PGBIN/pg_ctl" -D "$d/data" -m immediate -w -t 30 stop >/dev/null
  say "primary stopped (immediate)"
}

promote() {
  local d
  d=$(state_dir)
  [ -d "$d/standby" ] || die "no standby in $d (start --standby)"
  as_pg "$PGBIN/pg_ctl" -D "$d/standby" -w -t 60 promote >/dev/null
  say "standby promoted"
}

stop_dir() {
  local d=$1 data
  if [ -f "$state" ] && grep -q '^kept=1$' "$state"; then
    # a kept cluster (--data): a clean stop, and the folder stays
    as_pg "$PGBIN/pg_ctl" -D "$d/data" -m fast -w -t 120 stop >/dev/null 2>&1 || true
    rm -f "$state"
    return
  fi
  for data in "$d/standby" "$d/data"; do
    if [ -f "$data/postmaster.pid" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
  done
  case "$d" in
    "$TMP"/govhall-pg-*) rm -rf "$d" ;;
    *) say "not removing unexpected folder $d" ;;
  esac
  rm -f "$state"
}

stop() {
  [ -f "$state" ] || { say "nothing to stop ($state not found)"; return 0; }
  local d
  d=$(sed -n 's/^dir=//p' "$state")
  [ -n "$d" ] || { rm -f "$state"; return 0; }
  stop_dir "$d"
  say "stopped $d"
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
standby=0
keep=""
settings=()
while [ $# -gt 0 ]; do
  case "$1" in
    --state) [ $# -ge 2 ] || usage; state=$2; shift 2 ;;
    --data) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
    --setting) [ $# -ge 2 ] || usage; settings+=("$2"); shift 2 ;;
    --standby) standby=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done

case "$cmd" in
  start) start ;;
  stop) stop ;;
  kill-primary) kill_primary ;;
  promote) promote ;;
  run)
    [ $# -gt 0 ] || usage
    if [ -z "${GOVHALL_PG_STATE:-}" ] && [ "$state" = "$TMP/govhall-pg-test.state" ]; then
      state=$(mktemp "$TMP/govhall-pg-run-XXXXXX.state")
      rm -f "$state"
    fi
    trap 'stop' EXIT
    trap 'exit 130' INT TERM
    lines=$(start)
    while IFS= read -r line; do export "${line?}"; done <<<"$lines"
    set +e
    "$@"
    rc=$?
    set -e
    exit "$rc"
    ;;
  *) usage ;;
esac
