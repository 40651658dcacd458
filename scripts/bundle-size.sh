#!/usr/bin/env bash
# Prints what a browser downloads, gzipped (-9), after `make run`'s release build
# (or: RUSTFLAGS="--cfg erase_components" cargo leptos build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
site=${LEPTOS_SITE_ROOT:-target/site}
total=0
for f in pkg/tabletalk.wasm pkg/tabletalk.js pkg/tabletalk.css echarts.min.js; do
  raw=$(stat -c %s "$site/$f")
  gz=$(gzip -9 -c "$site/$f" | wc -c)
  total=$((total + gz))
  printf '%-22s %9d bytes raw %9d bytes gzip\n' "$f" "$raw" "$gz"
  [ "$f" = pkg/tabletalk.css ] && printf '%-22s %9s           %9d bytes gzip (every page)\n' "first visit" "" "$total"
done
printf '%-22s %9s           %9d bytes gzip (the costs page also loads ECharts)\n' "with ECharts" "" "$total"
