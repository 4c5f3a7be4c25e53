#!/usr/bin/env bash
# End-to-end test of the workbench in a real browser (headless Chromium + chromedriver + Selenium).
#
#   bash Tests/browser/e2e.sh [CLEAVE_BINARY]      # default .build/release/cleave
#
# Writes a `cleave sample` tile, starts `cleave serve` on a free loopback port with a scratch data
# directory, runs Tests/browser/e2e.py against it (the page only: upload, cluster, pick, paint,
# undo, train, predict, accept, export; then the database, reference labels and exported files)
# and always stops the server. Screenshots, downloads and the server log go to $CLEAVE_ARTIFACTS
# (default .build/e2e-artifacts). Needs: chromium, chromium-driver (Debian), selenium (pip),
# numpy, scipy, tifffile. Last line: "browser: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
bin="$(realpath "${1:-.build/release/cleave}")"
artifacts="${CLEAVE_ARTIFACTS:-$root/.build/e2e-artifacts}"
[ -x "$bin" ] || { echo "e2e: no cleave binary at $bin (build it: swift build -c release)"; echo "browser: 0 passed, 1 failed"; exit 1; }

rm -rf "$artifacts"
mkdir -p "$artifacts"
scratch="$(mktemp -d /tmp/cleave-e2e-XXXXXX)"
server=""
browser=""
cleanup() {
  # The browser session runs in its own process group: this stops chromedriver and Chromium too.
  if [ -n "$browser" ]; then kill -TERM -- "-$browser" 2>/dev/null || true; fi
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server" 2>/dev/null || true
  fi
  cp "$scratch/serve.log" "$artifacts/serve.log" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT INT TERM

# A small tile with a pixel size, and its particle mask (for where to paint).
"$bin" sample --out "$scratch/sample" --rows 1 --columns 1 --tile-size 512 --kind film --seed 11 >/dev/null
tile="$(ls "$scratch"/sample/Tile_*.tif | head -n 1)"
truth="$scratch/sample/truth/$(basename "${tile%.tif}")_particles.tif"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
CLEAVE_WEB_DIR="$root/Web" "$bin" serve --port "$port" --data "$scratch/data" --jobs 1 >"$scratch/serve.log" 2>&1 &
server=$!
up=""
for _ in $(seq 1 150); do
  if curl -fs "http://127.0.0.1:$port/api/projects" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "e2e: the server did not start:"; cat "$scratch/serve.log"
  echo "browser: 0 passed, 1 failed"; exit 1
fi

started=$(date +%s)
status=0
setsid timeout -k 10 720 python3 Tests/browser/e2e.py --base "http://127.0.0.1:$port" --data "$scratch/data" \
  --tile "$tile" --truth "$truth" --artifacts "$artifacts" &
browser=$!
wait "$browser" || status=$?
if [ "$status" -ge 124 ]; then
  echo "e2e: the browser session was stopped after 720 s"
  echo "browser: 0 passed, 1 failed"
fi
echo "e2e: $(( $(date +%s) - started )) s in the browser; screenshots in $artifacts"
exit "$status"
