#!/usr/bin/env bash
# Prints what a browser downloads, gzipped (-9), after `make run`'s release build
# (or: RUSTFLAGS="--cfg erase_components" cargo leptos build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
site=${LEPTOS_SITE_ROOT:-target/site}
total=0
# With cargo-leptos' hash-files the names carry a hash: pkg/tabletalk.<hash>.wasm.
name() { (cd "$site" && ls -t pkg/tabletalk*."$1" | head -n 1); }
css=$(name css)
for f in "$(name wasm)" "$(name js)" "$css" echarts.min.js; do
  raw=$(stat -c %s "$site/$f")
  gz=$(gzip -9 -c "$site/$f" | wc -c)
  total=$((total + gz))
  printf '%-22s %9d bytes raw %9d bytes gzip\n' "$f" "$raw" "$gz"
  [ "$f" = "$css" ] && printf '%-22s %9s           %9d bytes gzip (every page)\n' "first visit" "" "$total"
done
printf '%-22s %9s           %9d bytes gzip (the costs page also loads ECharts)\n' "with ECharts" "" "$total"
