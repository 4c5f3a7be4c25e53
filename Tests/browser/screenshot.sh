#!/usr/bin/env bash
# Quick look at the workbench page (not run by .ci/run; Tests/browser/run.sh is the real test).
# Starts `cleave serve --demo` on a free loopback port with a scratch data directory, lets headless
# Chromium load the page, saves a screenshot, checks the demo image's tiles were requested, and
# stops the server it started.
#
#   bash Tests/browser/screenshot.sh [OUT.png] [CLEAVE_BINARY]   # default .build/release/cleave
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/cleave-workbench.png}"
bin="$(realpath "${2:-.build/release/cleave}")"
data="$(mktemp -d /tmp/cleave-browser-XXXXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
CLEAVE_WEB_DIR="$PWD/Web" "$bin" serve --demo --port "$port" --data "$data" >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/api/projects" >/dev/null && break
  sleep 0.1
done
sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(--no-sandbox)
timeout 60 chromium --headless=new "${sandbox[@]}" --disable-gpu --hide-scrollbars --window-size=1500,900 \
  --virtual-time-budget=8000 --screenshot="$out" "http://127.0.0.1:$port/" 2>/dev/null
test -s "$out"
tiles="$(find "$data/tiles" -name '*.png' | wc -l)"
echo "screenshot: $out; tiles generated: $tiles"
test "$tiles" -gt 0
