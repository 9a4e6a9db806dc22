#!/usr/bin/env bash
# Set up everything Results Online needs on a fresh Debian machine: system
# packages (fonts for every script, chromium, age, redis, poppler) and a
# virtual environment with the project installed, then the npm libraries the pages use,
# bundled into templates/vendor/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  # WeasyPrint's text stack
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
  # fc-match: finds the CJK face build/fonts.py reduces
  fontconfig
  # real glyphs for every script a candidate name may use
  fonts-noto-core fonts-noto-extra fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core
  # real tools the tests and users run
  chromium age redis-server poppler-utils
  # organisation accounts when replicas run (tests start their own server as a non-root user)
  postgresql
  # load generator for benchmarks/verify_load.py
  wrk
)

# node and npm bundle the browser libraries (package.json), and node --test runs the
# browser modules' unit tests (tests/js); Debian's are enough.
command -v node >/dev/null || DEB_PACKAGES+=(nodejs)
command -v npm >/dev/null || DEB_PACKAGES+=(npm)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing the project and its dev dependencies"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# npm: install exactly the lock, only when it changed; then bundle what the pages import.
npm_stamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$npm_stamp" ]; then
  echo "bootstrap: installing the npm packages of package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$npm_stamp"
fi
node scripts/bundle-js.mjs
