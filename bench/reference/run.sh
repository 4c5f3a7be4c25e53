#!/usr/bin/env bash
# Implicit reference labels against the truth (issue 22 item 6): a scripted user session on a real
# labelled slice through the workbench's HTTP API (bench/reference/session.py).
# Usage: bench/reference/run.sh [SLICE] [SEED]   (default 0300, seed 7; CLEAVE=… to skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${SANDSTONE:-../shared/data/sandstone-xrm}
[ -d "$DATA" ] || { echo "bench/reference: $DATA is missing (the shared sandstone data)"; exit 1; }
source bench/server/serve.sh
SLICE=${1:-0300}
echo "cleave serve on 127.0.0.1:$PORT; slice $SLICE (its labels are the hidden truth); load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/reference/session.py 127.0.0.1 "$PORT" "$DATA/images/Sandstone_Versa$SLICE.tif" "$DATA/labels/Sandstone_Versa$SLICE.tif" "${2:-7}"
