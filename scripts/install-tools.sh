#!/usr/bin/env bash
# Installs what building (and, with `test`, testing) Tabletalk needs, when missing.
# Usage: scripts/install-tools.sh run|test
# Versions are pinned: the wasm-bindgen CLI must equal the `wasm-bindgen` crate
# pinned in Cargo.toml, or the generated JS and WASM do not match.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
mode=${1:-run}
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
  say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 16 minutes, once)"
  cargo install --locked cargo-leptos --version "${CARGO_LEPTOS_VERSION}"
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}\$"; then
  say "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
  # Not --locked: one locked dependency is missing from the registry mirror.
  cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" --force
fi

if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/esbuild ] || [ ! -x node_modules/.bin/terser ] || [ ! -d node_modules/echarts ]; then
  say "installing wasm-opt (npm binaryen), ECharts, esbuild and terser"
  npm ci --no-audit --no-fund
fi

if [ "$mode" = test ]; then
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    say "installing Playwright (browsers are not downloaded: Debian's Chromium is used)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
  if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    say "installing Debian's python3-aiosmtpd (the SMTP server of the email tests)"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-aiosmtpd >/dev/null
  fi
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's Chromium for the browser tests"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
  fi
fi

# The charts' JavaScript, served from public/ (not committed: it comes from npm):
# only the chart types and components the dashboard uses (scripts/echarts-entry.js),
# bundled by esbuild (production build: ECharts' development checks left out) and
# minified by terser, which packs it about 4% smaller than esbuild's minifier.
if [ ! -f public/echarts.min.js ] || [ scripts/echarts-entry.js -nt public/echarts.min.js ] || [ package-lock.json -nt public/echarts.min.js ]; then
  bundle=$(mktemp)
  node_modules/.bin/esbuild scripts/echarts-entry.js --bundle --format=iife --target=es2019 \
    --define:process.env.NODE_ENV=\"production\" --log-level=warning --outfile="$bundle"
  node_modules/.bin/terser "$bundle" --compress passes=2 --mangle --toplevel \
    --output public/echarts.min.js
  rm -f "$bundle"
fi
