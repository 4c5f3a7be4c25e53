#!/usr/bin/env bash
# Workbench server benchmark: tile serving under 32 concurrent clients, re-cluster round trip on
# a 4096² image with cached features, responsiveness during a job, and the peak RSS of a 2 GiB
# upload — all against a real `cleave serve` on loopback, in one run.
# Usage: bench/server/run.sh   (from anywhere; needs python3, ~5 GB free disk)
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product cleave >/dev/null
CLEAVE=$PWD/.build/release/cleave
WORK=$(mktemp -d)
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
$CLEAVE sample --out "$WORK/sample" --rows 1 --columns 1 --tile-size 4096 --seed 5 >/dev/null 2>&1
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$CLEAVE serve --data "$WORK/data" --port "$PORT" --max-upload-mb 3000 --max-image-pixels 1100000000 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/projects" >/dev/null && break; sleep 0.1; done
echo "cleave serve (release) pid $SERVER on 127.0.0.1:$PORT, $(nproc) cores"
python3 bench/server/load.py 127.0.0.1 "$PORT" "$SERVER" "$WORK/sample/Tile_001-001.tif" "$WORK"
