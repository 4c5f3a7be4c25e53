#!/usr/bin/env bash
# Optional smoke test of the workbench page in a real browser (NOT run by .ci/run yet).
# Needs Debian's `chromium` (apt-get install chromium). Starts `cleave serve --demo` on a free
# loopback port with a scratch data directory, lets headless Chromium load the page, saves a
# screenshot, checks the demo image's tiles were requested, and stops the server it started.
#
#   bash Tests/browser/screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/cleave-workbench.png}"
data="$(mktemp -d /tmp/cleave-browser-XXXXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
swift build --product cleave >/dev/null
"$(swift build --show-bin-path)/cleave" serve --demo --port "$port" --data "$data" >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/api/projects" >/dev/null && break
  sleep 0.2
done
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,900 \
  --virtual-time-budget=8000 --screenshot="$out" "http://127.0.0.1:$port/" 2>/dev/null
test -s "$out"
tiles="$(find "$data/tiles" -name '*.png' | wc -l)"
echo "screenshot: $out; tiles generated: $tiles"
test "$tiles" -gt 0
