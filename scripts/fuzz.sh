#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 60)
# on its committed corpus. New interesting inputs go to build/fuzz/new-corpus/<name>/; copy the
# useful ones (and every crash reproducer, once fixed) into tests/fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/deps.sh test
B=build/fuzz
if [ ! -f "$B/build.ninja" ]; then
  CC=clang meson setup "$B" -Dfuzzers=true -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$B" >/dev/null
status=0
for t in $(sed -n "s/^ *'\(fuzz_[a-z_]*\)',*$/\1/p" tests/fuzz/meson.build); do
  name=${t#fuzz_}
  mkdir -p "$B/new-corpus/$name" "$B/crashes/$name"
  echo "== $t (${secs}s)"
  if ! "$B/tests/fuzz/$t" -max_total_time="$secs" -artifact_prefix="$B/crashes/$name/" \
      "$B/new-corpus/$name" "tests/fuzz/corpus/$name" 2>"$B/$t.log"; then
    tail -30 "$B/$t.log"
    status=1
  else
    tail -1 "$B/$t.log"
  fi
done
exit $status
