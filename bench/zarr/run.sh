#!/usr/bin/env bash
# Read speed of a chunked OME-Zarr volume: Cleave vs zarr-python 3, in the same run.
#
#   bench/zarr/run.sh [REPEATS] [SIZE]      (default 5 and 64x1024x1024: 128 MiB of uint16;
#                                           SKIP_BUILD=1 uses the binary already built)
#
# Writes one synthetic FIB-SEM channel (`cleave sample --kind fibsem`) per codec — zstd (level 3)
# and blosc (lz4, byte shuffle, level 5) — as NGFF 0.4 / Zarr v2 and zstd as NGFF 0.5 / Zarr v3,
# chunks 64×128×128, one level, then times reading the full-resolution array whole into memory:
# `cleave bench-read` (ImageFile.read in-process) and `zarr.open_array(...)[:]` in its own process,
# each best and median of REPEATS reads after a warm-up read (files in the page cache). Both use
# every core (Cleave: CLEAVE_THREADS, default all; zarr-python: its default thread pool).
# Prints the ratio Cleave / zarr-python (below 1: Cleave is faster) and checks both read the same
# number of samples. Also times `cleave convert VOL.ome.zarr VOL.tif` as a user types it.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEATS="${1:-5}"
SIZE="${2:-64x1024x1024}"
OUT=bench/out/zarr
mkdir -p "$OUT"
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product cleave 2>&1 | tail -n 1
CLEAVE=.build/release/cleave
python3 -c 'import zarr' 2>/dev/null || { echo "bench: zarr-python is missing (python3 -m pip install zarr)"; exit 1; }
for spec in "zstd 0.4" "blosc 0.4" "zstd 0.5"; do
  set -- $spec
  vol="$OUT/fib-$SIZE-$1-v$2.ome.zarr"
  [ -d "$vol" ] || "$CLEAVE" sample --kind fibsem --size "$SIZE" --channels 1 --seed 1 --codec "$1" --ngff "$2" \
    --chunk 64x128x128 --levels 1 --out "$vol" > /dev/null 2>&1
done
best() { sed -E 's/.*best_ms=([0-9.]+).*/\1/'; }
median() { sed -E 's/.*median_ms=([0-9.]+).*/\1/'; }
samples() { sed -E 's/.*samples=([0-9]+).*/\1/'; }
echo "volume $SIZE uint16, chunks 64x128x128, $(nproc) cores, zarr $(python3 -c 'import zarr; print(zarr.__version__)')"
printf "%-22s %10s %10s %10s %10s %8s\n" codec "cleave" "(median)" "zarr-py" "(median)" ratio
for spec in "zstd 0.4" "blosc 0.4" "zstd 0.5"; do
  set -- $spec
  vol="$OUT/fib-$SIZE-$1-v$2.ome.zarr"
  c=$("$CLEAVE" bench-read "$vol" --repeat "$REPEATS")
  r=$(python3 bench/zarr/bench_zarr_python.py "$vol/0" "$REPEATS")
  [ "$(echo "$c" | samples)" = "$(echo "$r" | samples)" ] || { echo "bench: sample counts differ: $c / $r"; exit 1; }
  ratio=$(python3 -c "print(f'{$(echo "$c" | best) / $(echo "$r" | best):.2f}')")
  printf "%-22s %10s %10s %10s %10s %8s\n" "$1 (NGFF $2)" "$(echo "$c" | best)" "$(echo "$c" | median)" \
    "$(echo "$r" | best)" "$(echo "$r" | median)" "$ratio"
done
echo "(ms, best of $REPEATS; ratio = Cleave / zarr-python, below 1 means Cleave is faster)"
vol="$OUT/fib-$SIZE-zstd-v0.4.ome.zarr"
start=$(date +%s.%N)
"$CLEAVE" convert "$vol" "$OUT/convert.tif" > /dev/null 2>&1
end=$(date +%s.%N)
echo "cleave convert $vol $OUT/convert.tif (read + uncompressed TIFF write, as typed): $(python3 -c "print(f'{$end - $start:.2f}')") s"
