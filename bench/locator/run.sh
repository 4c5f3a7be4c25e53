#!/usr/bin/env bash
# Locator benchmarks: Cleave vs the Python reference on the same files, in one run.
# Usage: bench/locator/run.sh   (from the repository root; needs ../shared/data and python3 with
# numpy, scipy, scikit-image, scikit-learn, tifffile)
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
t0=$(date +%s.%N); $CLEAVE locate "$DATA" --out "$WORK/grid" --grid 10x10 --features all --no-pictures >/dev/null 2>&1; t1=$(date +%s.%N)
cleave_grid=$(python3 -c "print($t1-$t0)")
t0=$(date +%s.%N); python3 bench/locator/grid_reference.py "$DATA" 10 10; t1=$(date +%s.%N)
python_grid=$(python3 -c "print($t1-$t0)")
echo "cleave  $(printf %.3f $cleave_grid) s (end to end, incl. reading, label TIFFs, tables)"
echo "python  $(printf %.3f $python_grid) s (end to end, incl. interpreter start)"
echo "ratio   $(ratio $python_grid $cleave_grid)"

echo "== 2. sliding window 31x31 stride 1 on 4096² uint16 + k-means over all windows"
$CLEAVE sample --out "$WORK/big" --rows 1 --columns 1 --tile-size 4096 --seed 5 >/dev/null 2>&1
t0=$(date +%s.%N); $CLEAVE locate "$WORK/big/Tile_001-001.tif" --out "$WORK/win" --window 31 --stride 1 --no-pictures >/dev/null 2>&1; t1=$(date +%s.%N)
cleave_win=$(python3 -c "print($t1-$t0)")
t0=$(date +%s.%N); python3 bench/locator/window_reference.py "$WORK/big/Tile_001-001.tif" 31; t1=$(date +%s.%N)
python_win=$(python3 -c "print($t1-$t0)")
python3 - "$WORK/win/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); t = s['timings']
print(f"cleave stages: read {s['read_seconds']:.3f} s, moments {t['features']:.3f} s, k-means {t['clustering']:.3f} s, targets {t['targets']:.3f} s")
PY
echo "cleave  $(printf %.3f $cleave_win) s (end to end, incl. label/picked TIFFs and targets)"
echo "python  $(printf %.3f $python_win) s"
echo "ratio   $(ratio $python_win $cleave_win)"

echo "== 3. re-clustering cached features: 100 000 patches x 23 features"
CLEAVE_BENCH_RECLUSTER=1 swift test -c release --disable-testable-imports --filter LocatorBenchTests 2>&1 | grep -E "recluster" || true
