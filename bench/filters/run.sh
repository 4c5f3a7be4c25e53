#!/usr/bin/env bash
# Feature computation per megapixel: Cleave's filter banks vs skimage.feature.multiscale_basic_features
# on the same sandstone slice (996 x 1024), in one run. Usage: bench/filters/run.sh [IMAGE]
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${1:-../shared/data/sandstone-xrm/images/Sandstone_Versa0000.tif}
OUT=$(mktemp -d)
swift build -c release --product cleave >/dev/null
echo "== Cleave (threads: ${CLEAVE_THREADS:-all}) =="
for bank in default ilastik fast; do
  best=""
  for i in 1 2 3; do
    line=$(.build/release/cleave features "$IMAGE" --out "$OUT" --bank "$bank" 2>/dev/null)
    t=$(echo "$line" | sed -E 's/.* in ([0-9.]+) s .*/\1/')
    n=$(echo "$line" | sed -E 's/.*: ([0-9]+) features.*/\1/')
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  echo "cleave $bank: $n features, best of 3: $best s (compute only, excludes reading/writing)"
  echo "$bank $best $n" >> "$OUT/times.txt"
done
echo "== scikit-image =="
python3 - "$IMAGE" "$OUT/times.txt" <<'PY'
import sys, time, numpy as np, tifffile
from skimage.feature import multiscale_basic_features
img = tifffile.imread(sys.argv[1])
mp = img.size / 1e6
best = 1e9
for _ in range(3):
    t = time.perf_counter(); f = multiscale_basic_features(img, workers=2); best = min(best, time.perf_counter() - t)
print(f"skimage multiscale_basic_features (defaults, workers=2): {f.shape[-1]} features, best of 3: {best:.3f} s = {best/mp:.3f} s/Mpx")
for line in open(sys.argv[2]):
    bank, t, n = line.split(); t = float(t); n = int(n)
    print(f"  cleave {bank:8s} {n:3d} features {t/mp:.3f} s/Mpx  -> {best/t:5.1f}x faster than skimage; "
          f"per feature {1e3*t/n/mp:.2f} ms/Mpx vs skimage {1e3*best/f.shape[-1]/mp:.2f} ms/Mpx ({(best/f.shape[-1])/(t/n):.1f}x)")
PY
rm -rf "$OUT"
