#!/usr/bin/env bash
# Bytes on the wire for a first and a repeat visit of a page, as a browser
# that accepts brotli and gzip fetches them (see BENCHMARKS.md).
# Usage: scripts/wire-bytes.sh http://127.0.0.1:3000/login [extra asset path...]
# ENCODINGS (default "br, gzip") is the Accept-Encoding sent; COOKIE, if set,
# is sent with the page request (e.g. "tabletalk_session=<token>" for a signed-in page).
set -euo pipefail
page=$1; shift
origin=$(printf '%s' "$page" | sed -E 's#^(https?://[^/]+).*#\1#')
get() {
  curl -s -o /dev/null -w '%{size_download}|%{http_code}|%header{content-encoding}|%header{cache-control}' \
    -H "Accept-Encoding: ${ENCODINGS:-br, gzip}" -H "Cookie: ${COOKIE:-}" "$1"
}
html=$(curl -s -H 'Accept-Encoding: identity' -H "Cookie: ${COOKIE:-}" "$page")
assets=$(printf '%s' "$html" | grep -oE '/pkg/[^"]+\.(js|wasm|css)' | sort -u)
total=0; repeat=0
IFS='|' read -r bytes code enc cache <<<"$(get "$page")"
printf '%-60s %9s B  %s %s %s\n' "$page" "$bytes" "$code" "${enc:--}" "$cache"
total=$((total + bytes)); repeat=$((repeat + bytes))
for path in $assets "$@"; do
  IFS='|' read -r bytes code enc cache <<<"$(get "$origin$path")"
  printf '%-60s %9s B  %s %s %s\n' "$path" "$bytes" "$code" "${enc:--}" "$cache"
  total=$((total + bytes))
  # Re-downloaded on a repeat visit only when the cache headers do not keep it.
  case "$cache" in *max-age=*) ;; *) repeat=$((repeat + bytes)) ;; esac
done
echo "first visit: $total B; repeat visit: $repeat B"
