#!/bin/sh
# Compresses the static files worth compressing (CSS, JavaScript, SVG, JSON, text) once, at
# install: FILE.gz beside each (gzip -9, no name or time, so the bytes are reproducible) and
# FILE.br when the brotli command is there. govhall (src/http/static.c) and nginx's
# gzip_static (deploy/nginx.conf) send them to clients that accept the coding.
# Usage: scripts/precompress.sh DIR   (under meson install: relative to the install prefix,
# with DESTDIR; run by meson.build's install script)
set -eu
dir=${1:?usage: precompress.sh DIR}
case "$dir" in
  /*) dir="${DESTDIR:-}$dir" ;;
  *) dir="${MESON_INSTALL_DESTDIR_PREFIX:-.}/$dir" ;;
esac
[ -d "$dir" ] || { echo "precompress: no directory $dir" >&2; exit 1; }
find "$dir" -type f \( -name '*.css' -o -name '*.js' -o -name '*.svg' -o -name '*.json' \
  -o -name '*.webmanifest' -o -name '*.txt' -o -name '*.html' -o -name '*.xml' -o -name '*.yaml' \) |
while IFS= read -r f; do
  gzip -9 -n -c -- "$f" >"$f.gz.tmp" && mv -- "$f.gz.tmp" "$f.gz"
  touch -r "$f" -- "$f.gz"
  if command -v brotli >/dev/null 2>&1; then
    brotli -q 11 -c -- "$f" >"$f.br.tmp" && mv -- "$f.br.tmp" "$f.br"
    touch -r "$f" -- "$f.br"
  fi
done
