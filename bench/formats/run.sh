#!/usr/bin/env bash
# Format benchmark: Cleave vs tifffile / Pillow (libtiff) reading the same files, each timed
# inside its own process (best and median of N reads after a warm-up; files in the page cache).
#
#   bench/formats/run.sh [REPEATS]     (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEATS="${1:-10}"
OUT=bench/out/formats
mkdir -p "$OUT"
swift build -c release --product cleave 2>&1 | tail -n 1
CLEAVE=.build/release/cleave
MASK=../shared/data/sandstone-xrm/masks/Sandstone_Versa0000.tif
if [ ! -f "$OUT/rgb8_lzw.tif" ]; then
  echo "bench: making test files in $OUT"
  python3 bench/formats/bench_reference.py make "$OUT" "$MASK"
fi
best() { sed -E 's/.*best_ms=([0-9.]+).*/\1/'; }
printf "%-16s %-10s %12s %12s %8s\n" file reference "cleave ms" "ref ms" ratio
for spec in "u16_raw.tif tifffile" "u16_raw.tif pillow" "u16_lzw.tif pillow" "u16_deflate.tif pillow" "rgb8_lzw.tif pillow"; do
  set -- $spec
  file="$OUT/$1"
  c=$($CLEAVE bench-read "$file" --repeat "$REPEATS" | best)
  r=$(python3 bench/formats/bench_reference.py time "$file" "$2" "$REPEATS" | best)
  ratio=$(python3 -c "print(f'{$c / $r:.2f}')")
  printf "%-16s %-10s %12s %12s %8s\n" "$1" "$2" "$c" "$r" "$ratio"
done
echo "(ratio = Cleave time / reference time; below 1 means Cleave is faster)"
