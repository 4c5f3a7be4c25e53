#!/usr/bin/env bash
# `cleave objects` on an OME-Zarr label volume block by block against the whole-volume run of the
# same labels as a TIFF stack, in one run: wall, CPU and peak RSS of each (/usr/bin/time -v), the
# ratio, and a check that objects.csv is byte-identical.
#
#   bench/objects-blocks/run.sh [SIZE] [BLOCK]   (default 64x512x512, blocks of 128)
#   SKIP_BUILD=1 uses the binary already built; CLEAVE=path another binary.
#
# The labels are the `truth` classes of `cleave sample --kind fibsem` (chunks 32x128x128); objects
# are the connected components of class 4 (grains crossing every block border), min size 3, as a
# user types the command (all outputs: objects.csv, labels, overlay, histogram, summary).
set -euo pipefail
SIZE="${1:-64x512x512}"; BLOCK="${2:-128}"
OUT=bench/out/objects-blocks
source "$(dirname "$0")/../blocks/lib.sh"
vol="$OUT/fib-$SIZE.ome.zarr"
fibsem "$vol" "$SIZE" 2 --chunk 32x128x128
[ -f "$OUT/truth-$SIZE.tif" ] || "$CLEAVE" convert "$vol/labels/truth" "$OUT/truth-$SIZE.tif" > /dev/null 2>&1
echo "load before: $(load), $(nproc) cores; volume $SIZE, blocks of $BLOCK"
rm -rf "$OUT/blocks" "$OUT/whole"
a=$(run blocks "$CLEAVE" objects "$vol/labels/truth" --class 4 --min-size 3 --block-size "$BLOCK" --out "$OUT/blocks"); echo "$a"
b=$(run whole "$CLEAVE" objects "$OUT/truth-$SIZE.tif" --class 4 --min-size 3 --out "$OUT/whole"); echo "$b"
cmp "$OUT/blocks/objects.csv" "$OUT/whole/objects.csv" && echo "objects.csv identical ($(($(wc -l < "$OUT/whole/objects.csv") - 1)) objects)"
python3 - "$a" "$b" <<'PY'
import sys, re
def v(s, k): return float(re.search(k + r"=([0-9.]+)", s).group(1))
a, b = sys.argv[1], sys.argv[2]
print(f"blocks/whole: wall {v(a, 'wall_s') / v(b, 'wall_s'):.2f}x, CPU {v(a, 'cpu_s') / v(b, 'cpu_s'):.2f}x, peak RSS {v(a, 'max_rss_mib') / v(b, 'max_rss_mib'):.2f}x")
PY
echo "load after: $(load)"
