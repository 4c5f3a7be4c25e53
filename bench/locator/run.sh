#!/usr/bin/env bash
# Locator benchmarks: Cleave vs the Python reference on the same files, in one run.
# Usage: bench/locator/run.sh   (from the repository root; needs ../shared/data and python3 with
# numpy, scipy, scikit-image, scikit-learn, tifffile). Each side runs BENCH_REPEAT times (default 3);
# the fastest run is reported (see timed.py). Cleave is timed as users run it, pictures on; the
# --no-pictures lines are extra. The reference libraries' versions are printed first.
# BENCH_NO_BUILD=1 skips the build step (when the release binary is already built).
# CLEAVE=/path/to/cleave times another build (e.g. main's, for a before/after in one session; implies
# no build); BENCH_NO_RECLUSTER=1 skips part 3 (it tests this tree's sources, not $CLEAVE).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${BENCH_NO_BUILD:-}${CLEAVE:-}" ] || swift build -c release --product cleave >/dev/null
CLEAVE=${CLEAVE:-.build/release/cleave}
DATA=${CLEAVE_SHARED_DATA:-../shared/data}/tem-microcrystals/dataset2-graphite-3kx-gridbars
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { python3 -c 'import time; print(time.perf_counter())'; }
ratio() { python3 -c "print(f'{$1/$2:.1f}x')"; }

python3 -c "import sys, numpy, scipy, sklearn, skimage; print(f'python {sys.version.split()[0]}, numpy {numpy.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, scikit-image {skimage.__version__}')"
echo "== 1. grid pipeline: dataset2 (8 tiles 1000², 10x10 grid, all 28 statistics, z-score, k-means 3)"
# Timed as users run it: all outputs on (8 tile overlays + the 4000x2000 mosaic, stored PNG by
# default). --no-pictures and the default feature set are extra lines, labelled.
read cleave_grid cleave_grid_cpu < <(python3 bench/locator/timed.py $CLEAVE locate "$DATA" --out "$WORK/grid" --grid 10x10 --features all)
read cleave_grid_np cleave_grid_np_cpu < <(python3 bench/locator/timed.py $CLEAVE locate "$DATA" --out "$WORK/grid-np" --grid 10x10 --features all --no-pictures)
read cleave_grid_default cleave_grid_default_cpu < <(python3 bench/locator/timed.py $CLEAVE locate "$DATA" --out "$WORK/grid-default" --grid 10x10 --clusters 3)
read python_grid python_grid_cpu < <(python3 bench/locator/timed.py python3 bench/locator/grid_reference.py "$DATA" 10 10)
echo "cleave  $cleave_grid s wall, $cleave_grid_cpu s CPU (end to end, all outputs incl. overlay PNGs, label TIFFs, tables)"
echo "        $cleave_grid_np s wall, $cleave_grid_np_cpu s CPU with --no-pictures"
echo "        $cleave_grid_default s wall, $cleave_grid_default_cpu s CPU for 'locate DATA --grid 10x10 --clusters 3' (default features, pictures on)"
echo "python  $python_grid s wall, $python_grid_cpu s CPU (end to end, incl. interpreter start)"
echo "ratio   wall $(ratio $python_grid $cleave_grid), CPU $(ratio $python_grid_cpu $cleave_grid_cpu) (pictures on); --no-pictures wall $(ratio $python_grid $cleave_grid_np)"

echo "== 2. sliding window 31x31 stride 1 on 4096² uint16 + k-means over all windows"
$CLEAVE sample --out "$WORK/big" --rows 1 --columns 1 --tile-size 4096 --seed 5 >/dev/null 2>&1
read cleave_win cleave_win_cpu < <(python3 bench/locator/timed.py $CLEAVE locate "$WORK/big/Tile_001-001.tif" --out "$WORK/win" --window 31 --stride 1)
read cleave_win_np cleave_win_np_cpu < <(python3 bench/locator/timed.py $CLEAVE locate "$WORK/big/Tile_001-001.tif" --out "$WORK/win-np" --window 31 --stride 1 --no-pictures)
read python_win python_win_cpu < <(python3 bench/locator/timed.py python3 bench/locator/window_reference.py "$WORK/big/Tile_001-001.tif" 31)
python3 - "$WORK/win/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); t = s['timings']
print(f"cleave stages: read {s['read_seconds']:.3f} s, moments {t['features']:.3f} s, k-means {t['clustering']:.3f} s, targets {t['targets']:.3f} s, pictures + label TIFFs {t['write pictures']:.3f} s")
PY
echo "cleave  $cleave_win s wall, $cleave_win_cpu s CPU (end to end, all outputs incl. the 4096² overlay PNG, label/picked TIFFs and targets)"
echo "        $cleave_win_np s wall, $cleave_win_np_cpu s CPU with --no-pictures"
echo "python  $python_win s wall, $python_win_cpu s CPU"
echo "ratio   wall $(ratio $python_win $cleave_win), CPU $(ratio $python_win_cpu $cleave_win_cpu) (pictures on); --no-pictures wall $(ratio $python_win $cleave_win_np)"

[ -n "${BENCH_NO_RECLUSTER:-}" ] && exit 0
echo "== 3. re-clustering cached features: 100 000 patches x 23 features"
CLEAVE_BENCH_RECLUSTER=1 swift test -c release --disable-testable-imports --filter LocatorBenchTests 2>&1 | grep -E "recluster" || true
