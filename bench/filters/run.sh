#!/usr/bin/env bash
# Feature computation per megapixel: Cleave's filter banks vs skimage.feature.multiscale_basic_features
# on the same sandstone slice (996 x 1024), in one run. Usage: bench/filters/run.sh [IMAGE]
# Reports wall time and process CPU time (all threads), best of 3 each; on a shared machine the
# CPU-time ratio is the steadier number.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${1:-../shared/data/sandstone-xrm/images/Sandstone_Versa0000.tif}
OUT=$(mktemp -d)
swift build -c release --product cleave >/dev/null
uptime
for bank in default fast ilastik full; do
  for i in 1 2 3; do
    .build/release/cleave features "$IMAGE" --out "$OUT" --bank "$bank" --time-only 2>/dev/null \
      | sed -E "s/computed ([0-9]+) features .* in ([0-9.]+) s .*CPU ([0-9.]+) s.*/$bank \1 \2 \3/" >> "$OUT/times.txt"
  done
done
python3 - "$IMAGE" "$OUT/times.txt" <<'PY'
import sys, time, numpy as np, tifffile
from skimage.feature import multiscale_basic_features
img = tifffile.imread(sys.argv[1])
mp = img.size / 1e6
wall, cpu = 1e9, 1e9
for _ in range(3):
    t, c = time.perf_counter(), time.process_time()
    f = multiscale_basic_features(img, workers=2)
    wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
nf = f.shape[-1]
print(f"image {img.shape[1]}x{img.shape[0]} = {mp:.3f} Mpx")
print(f"skimage multiscale_basic_features (defaults, workers=2): {nf} features  wall {wall/mp:.3f} s/Mpx  CPU {cpu/mp:.3f} s/Mpx")
best = {}
for line in open(sys.argv[2]):
    bank, n, w, c = line.split()
    b = best.setdefault(bank, [int(n), 1e9, 1e9]); b[1] = min(b[1], float(w)); b[2] = min(b[2], float(c))
for bank, (n, w, c) in best.items():
    print(f"cleave {bank:8s} {n:3d} features  wall {w/mp:.3f} s/Mpx ({wall/w:5.1f}x)  CPU {c/mp:.3f} s/Mpx ({cpu/c:5.1f}x)"
          f"  per feature CPU {1e3*c/n/mp:.1f} ms/Mpx vs skimage {1e3*cpu/nf/mp:.1f} ({(cpu/nf)/(c/n):.1f}x)")
PY
rm -rf "$OUT"
