#!/usr/bin/env bash
# Workbench "live update" latency (issue 17): train on all strokes + predict the visible region,
# through the HTTP API as the page does it, against a release `cleave serve` on loopback.
# Usage: bench/server/live_update.sh [ROUNDS]   (default 15; needs python3 with numpy, scipy, tifffile)
#        CLEAVE=/path/to/release/cleave bench/server/live_update.sh   (skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${SANDSTONE:-/work/shared/data/sandstone-xrm}
source bench/server/serve.sh
echo "cleave serve (release, $CLEAVE) pid $SERVER on 127.0.0.1:$PORT, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/server/live_update.py 127.0.0.1 "$PORT" "$DATA/images/Sandstone_Versa0300.tif" \
  "$DATA/labels/Sandstone_Versa0300.tif" "${1:-15}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
