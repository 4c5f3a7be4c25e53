#!/usr/bin/env bash
# Implicit reference labels against the truth (issue 22 item 6): a scripted user session on a real
# labelled slice through the workbench's HTTP API (bench/reference/session.py).
# Usage: bench/reference/run.sh [SLICE] [SEED]   (default 0300, seed 7; CLEAVE=… to skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${SANDSTONE:-../shared/data/sandstone-xrm}
[ -d "$DATA" ] || { echo "bench/reference: $DATA is missing (the shared sandstone data)"; exit 1; }
if [ -z "${CLEAVE:-}" ]; then swift build -c release --product cleave >/dev/null; CLEAVE=$PWD/.build/release/cleave; fi
WORK=$(mktemp -d)
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CLEAVE" serve --data "$WORK/data" --port "$PORT" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf -H "X-Cleave-User: bench-reference-0001" "http://127.0.0.1:$PORT/api/projects" >/dev/null && break; sleep 0.1; done
SLICE=${1:-0300}
echo "cleave serve on 127.0.0.1:$PORT; slice $SLICE (its labels are the hidden truth); load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/reference/session.py 127.0.0.1 "$PORT" "$DATA/images/Sandstone_Versa$SLICE.tif" "$DATA/labels/Sandstone_Versa$SLICE.tif" "${2:-7}"
