#!/usr/bin/env bash
# Installs the Debian packages that build, run and test govhall need, only when missing.
# Usage: scripts/deps.sh [build|test|bench|load|shots|deb|all]   (default: all)
set -euo pipefail
what=${1:-all}

build_pkgs=(build-essential pkg-config meson ninja-build node-llhttp
  libevent-dev libsqlite3-dev libpq-dev libsodium-dev libjansson-dev libinih-dev
  libicu-dev libcmark-dev liboath-dev libmagic-dev libcurl4-openssl-dev
  libopencc-dev opencc python3-jieba libstemmer-dev libcairo2-dev libpango1.0-dev libqrencode-dev
  libxlsxwriter-dev zlib1g-dev libbrotli-dev fonts-noto-cjk)
# make deb: the Debian tools that build and check the package (the build's own packages too)
deb_pkgs=(debhelper dpkg-dev fakeroot lintian)
test_pkgs=(clang libclang-rt-14-dev libcmocka-dev postgresql sqlite3 nodejs npm chromium systemd haproxy nginx-light
  openssl util-linux "${deb_pkgs[@]}")
bench_pkgs=(wrk nginx-light sqlite3 postgresql nodejs npm)
load_pkgs=(stress-ng) # scripts/browser-under-load.sh
shots_pkgs=(chromium nodejs npm pngquant) # scripts/screenshots.mjs (make screenshots)

case "$what" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  bench) pkgs=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
  load) pkgs=("${load_pkgs[@]}") ;;
  shots) pkgs=("${build_pkgs[@]}" "${shots_pkgs[@]}") ;;
  deb) pkgs=("${build_pkgs[@]}" "${deb_pkgs[@]}") ;;
  all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}" "${load_pkgs[@]}" "${shots_pkgs[@]}") ;;
  *) echo "usage: scripts/deps.sh [build|test|bench|load|shots|deb|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # nodejs/npm may come from elsewhere on a machine: accept working commands too.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
