#!/usr/bin/env bash
# Locator benchmarks: Cleave vs the Python reference on the same files, in one run.
# Usage: bench/locator/run.sh   (from the repository root; needs ../shared/data and python3 with
# numpy, scipy, scikit-image, scikit-learn, tifffile). Each side runs BENCH_REPEAT times (default 3);
# the fastest run is reported (see timed.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product cleave >/dev/null
CLEAVE=.build/release/cleave
DATA=${CLEAVE_SHARED_DATA:-../shared/data}/tem-microcrystals/dataset2-graphite-3kx-gridbars
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { python3 -c 'import time; print(time.perf_counter())'; }
ratio() { python3 -c "print(f'{$1/$2:.1f}x')"; }

echo "== 1. grid pipeline: dataset2 (8 tiles 1000², 10x10 grid, all 28 statistics, z-score, k-means 3)"
read cleave_grid cleave_grid_cpu < <(python3 bench/locator/timed.py $CLEAVE locate "$DATA" --out "$WORK/grid" --grid 10x10 --features all --no-pictures --no-exclude-dark --no-normalize-tiles)
read python_grid python_grid_cpu < <(python3 bench/locator/timed.py python3 bench/locator/grid_reference.py "$DATA" 10 10)
echo "cleave  $cleave_grid s wall, $cleave_grid_cpu s CPU (end to end, incl. reading, label TIFFs, tables)"
echo "python  $python_grid s wall, $python_grid_cpu s CPU (end to end, incl. interpreter start)"
echo "ratio   wall $(ratio $python_grid $cleave_grid), CPU $(ratio $python_grid_cpu $cleave_grid_cpu)"

echo "== 2. sliding window 31x31 stride 1 on 4096² uint16 + k-means over all windows"
$CLEAVE sample --out "$WORK/big" --rows 1 --columns 1 --tile-size 4096 --seed 5 >/dev/null 2>&1
read cleave_win cleave_win_cpu < <(python3 bench/locator/timed.py $CLEAVE locate "$WORK/big/Tile_001-001.tif" --out "$WORK/win" --window 31 --stride 1 --no-pictures --no-exclude-dark)
read python_win python_win_cpu < <(python3 bench/locator/timed.py python3 bench/locator/window_reference.py "$WORK/big/Tile_001-001.tif" 31)
python3 - "$WORK/win/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); t = s['timings']
print(f"cleave stages: read {s['read_seconds']:.3f} s, moments {t['features']:.3f} s, k-means {t['clustering']:.3f} s, targets {t['targets']:.3f} s")
PY
echo "cleave  $cleave_win s wall, $cleave_win_cpu s CPU (end to end, incl. label/picked TIFFs and targets)"
echo "python  $python_win s wall, $python_win_cpu s CPU"
echo "ratio   wall $(ratio $python_win $cleave_win), CPU $(ratio $python_win_cpu $cleave_win_cpu)"

echo "== 3. re-clustering cached features: 100 000 patches x 23 features"
CLEAVE_BENCH_RECLUSTER=1 swift test -c release --disable-testable-imports --filter LocatorBenchTests 2>&1 | grep -E "recluster" || true
