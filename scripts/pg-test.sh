#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests (see docs: DESIGN.md "Test services").
#
#   scripts/pg-test.sh start [--state FILE]   start a cluster; prints
#                                            GOVHALL_TEST_PG=postgresql://postgres@127.0.0.1:PORT/govhall_test
#   scripts/pg-test.sh stop  [--state FILE]   stop it and remove its folder
#   scripts/pg-test.sh run [--state FILE] -- CMD [ARGS...]
#                                            start, export GOVHALL_TEST_PG, run CMD, stop
#                                            (always), exit with CMD's status
#
# The cluster lives in a fresh ${TMPDIR:-/tmp}/govhall-pg-XXXXXX owned by the `postgres` user
# (PostgreSQL refuses to run as root; Debian's postgresql package creates that user), listens
# on a free port on 127.0.0.1 only (unix socket inside the folder), trusts local connections
# and runs with fsync off. `start` records the folder in the state file (default
# ${TMPDIR:-/tmp}/govhall-pg-test.state, or $GOVHALL_PG_STATE) so `stop` can find it; `run`
# uses a private state file, so several runs can go on at once.
# Always the binaries in /usr/lib/postgresql/15/bin: other pg_ctl programs may be on PATH.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TMP=${TMPDIR:-/tmp}
state=${GOVHALL_PG_STATE:-$TMP/govhall-pg-test.state}

say() { echo "pg-test: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
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
  local port tries=0
  while :; do
    port=$(free_port)
    cat >"$dir/data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
log_min_messages = warning
CONF
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/data/postgresql.auto.conf"
    if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 5 ]; then
      tail -n 20 "$dir/server.log" >&2 || true
      stop_dir "$dir"
      die "could not start PostgreSQL"
    fi
  done
  printf 'port=%s\n' "$port" >>"$state"
  if ! as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres govhall_test; then
    stop_dir "$dir"
    die "createdb failed"
  fi
  url="postgresql://postgres@127.0.0.1:$port/govhall_test"
  printf 'url=%s\n' "$url" >>"$state"
  say "PostgreSQL running in $dir on 127.0.0.1:$port"
  echo "GOVHALL_TEST_PG=$url"
}

stop_dir() {
  local d=$1
  if [ -f "$d/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$d/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
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
  say "stopped and removed $d"
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --state) [ $# -ge 2 ] || usage; state=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done

case "$cmd" in
  start) start ;;
  stop) stop ;;
  run)
    [ $# -gt 0 ] || usage
    if [ -z "${GOVHALL_PG_STATE:-}" ] && [ "$state" = "$TMP/govhall-pg-test.state" ]; then
      state=$(mktemp "$TMP/govhall-pg-run-XXXXXX.state")
      rm -f "$state"
    fi
    trap 'stop' EXIT
    trap 'exit 130' INT TERM
    line=$(start)
    export "${line?}"
    set +e
    "$@"
    rc=$?
    set -e
    exit "$rc"
    ;;
  *) usage ;;
esac
