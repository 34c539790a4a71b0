#!/usr/bin/env bash
# Builds the Debian package with the Debian tools (dpkg-buildpackage: debhelper + meson) on a
# copy of the tree under build/deb/, so nothing lands beside the checkout, then checks it
# with lintian (errors fail; warnings are printed). Prints the path of the .deb last.
# Usage: scripts/deb.sh [--if-stale]   (--if-stale: reuse a package newer than every source file)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh deb

version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
out=build/deb
deb=$out/govhall_${version}_${arch}.deb

# The source files: what git knows (tracked and new, not ignored), or the tree without
# builds when this is not a git checkout.
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done >"$list"
else
  find . -path ./build -prune -o -path ./node_modules -prune -o -path ./.git -prune -o -type f -print0 >"$list"
fi

if [ "${1:-}" = "--if-stale" ] && [ -f "$deb" ]; then
  stale=
  while IFS= read -r -d '' f; do
    if [ "$f" -nt "$deb" ]; then stale=$f; break; fi
  done <"$list"
  if [ -z "$stale" ]; then
    echo "$deb"
    exit 0
  fi
  echo "deb: $stale is newer than $deb" >&2
fi

src=$out/src/govhall-$version
rm -rf "$out"
mkdir -p "$src"
tar -cf - --null -T "$list" | tar -xf - -C "$src"
echo "deb: building govhall $version ($out/build.log)" >&2
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
      dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log" >&2
  echo "deb: dpkg-buildpackage failed (see $out/build.log)" >&2
  exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out"/
rm -rf "$out/src"

# lintian: errors fail the build; warnings and information are listed.
if ! lintian --fail-on error --info "$deb" >"$out/lintian.txt" 2>&1; then
  cat "$out/lintian.txt" >&2
  echo "deb: lintian reports errors" >&2
  exit 1
fi
[ -s "$out/lintian.txt" ] && cat "$out/lintian.txt" >&2
echo "$deb"
