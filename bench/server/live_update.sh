#!/usr/bin/env bash
# Workbench "live update" latency (issue 17): train on all strokes + predict the visible region,
# through the HTTP API as the page does it, against a release `cleave serve` on loopback.
# Usage: bench/server/live_update.sh [ROUNDS]   (default 15; needs python3 with numpy, scipy, tifffile)
#        CLEAVE=/path/to/release/cleave bench/server/live_update.sh   (skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${SANDSTONE:-/work/shared/data/sandstone-xrm}
if [ -z "${CLEAVE:-}" ]; then swift build -c release --product cleave >/dev/null; CLEAVE=$PWD/.build/release/cleave; fi
WORK=$(mktemp -d)
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$CLEAVE serve --data "$WORK/data" --port "$PORT" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/projects" >/dev/null && break; sleep 0.1; done
echo "cleave serve (release, $CLEAVE) pid $SERVER on 127.0.0.1:$PORT, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/server/live_update.py 127.0.0.1 "$PORT" "$DATA/images/Sandstone_Versa0300.tif" \
  "$DATA/labels/Sandstone_Versa0300.tif" "${1:-15}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
