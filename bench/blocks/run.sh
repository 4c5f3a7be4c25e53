#!/usr/bin/env bash
# The block runner (`cleave predict` on OME-Zarr): throughput against the whole-stack TIFF path in
# the same run, and peak memory on a volume far larger than the block.
#
#   bench/blocks/run.sh throughput [SIZE]   (default 32x1024x1024: 64 MiB of uint16)
#   bench/blocks/run.sh large [SIZE] [BANK] (default 512x2048x2048: 4 GiB of uint16; bank fast)
#   bench/blocks/run.sh unet [SIZE] [SHARE]  (default 512x2048x2048; SHARE i/N: only --blocks i/N)
#   SKIP_BUILD=1 uses the binary already built; CLEAVE=path another binary.
#
# Both modes write one synthetic FIB-SEM detector with `cleave sample --kind fibsem --channels 1`
# (chunks 64x128x128, zstd) and train a forest on a separate 16x256x256 volume of the same
# generator (its `truth` labels, 2000 pixels per class, 50 trees; BANK: default = ilastik,
# 49 features; fast = 9 features).
#
# throughput: `cleave predict` as a user types it (labels store + pyramid + class fractions +
# overlay) on VOL.ome.zarr, and the same volume as a multi-page TIFF through the pre-existing
# stack path (planes streamed, whole labels TIFF in memory; probability/uncertainty TIFFs off so
# both write the same things), each under /usr/bin/time -v; prints MB/s of input (uint16) for
# both, the ratio, and checks the two label volumes are identical.
# large: `cleave predict` on the big volume under /usr/bin/time -v: wall, CPU, max RSS.
# unet: the same with a U-Net trained as `cleave train --help` teaches (the training volume's
# truth labels on its 16 planes, --slices 3 as for FIB-SEM, default architecture: depth 3,
# width 16, group norm; UNET_STEPS steps, default 12 — accuracy is not what is measured) and
# predicted with the defaults (whole planes, 1024-pixel tiles): blocks of 64 whole planes. With
# SHARE, only that share of the blocks (`--blocks i/N`, as a Slurm array task runs it, no
# pyramid or summary); prints CPU seconds per plane.
set -euo pipefail
MODE="${1:-throughput}"
OUT=bench/out/blocks
source "$(dirname "$0")/lib.sh"
RUN_DIGITS=1
BANK="${3:-default}"
[ "$MODE" = large ] && BANK="${3:-fast}"
model="$OUT/model-$BANK.json"
if [ "$MODE" = unet ]; then
  model="$OUT/unet-${UNET_STEPS:-12}.json"
  if [ ! -f "$model" ]; then
    fibsem "$OUT/train.ome.zarr" 16x256x256 11
    "$CLEAVE" train --method unet --image "$OUT/train.ome.zarr" --labels "$OUT/train.ome.zarr/labels/truth" --slices 3 \
      --steps "${UNET_STEPS:-12}" --evaluations 1 --seed 1 --model "$model" > /dev/null
  fi
elif [ ! -f "$model" ]; then
  fibsem "$OUT/train.ome.zarr" 16x256x256 11
  "$CLEAVE" train --image "$OUT/train.ome.zarr" --labels "$OUT/train.ome.zarr/labels/truth" --model "$model" \
    --bank "$BANK" --pixels-per-class 2000 > /dev/null
fi
wall() { sed -E 's/.*wall_s=([0-9.]+).*/\1/'; }
if [ "$MODE" = unet ]; then
  echo "load before: $(load), $(nproc) cores, U-Net, blocks ${3:-all}"
else
  echo "load before: $(load), $(nproc) cores, bank $BANK"
fi
if [ "$MODE" = throughput ]; then
  SIZE="${2:-32x1024x1024}"
  vol="$OUT/fib-$SIZE.ome.zarr"
  fibsem "$vol" "$SIZE" 1
  [ -f "$OUT/fib-$SIZE.tif" ] || "$CLEAVE" convert "$vol" "$OUT/fib-$SIZE.tif" > /dev/null 2>&1
  rm -rf "$OUT/zarr-out" "$OUT/tif-out"
  a=$(run blocks "$CLEAVE" predict --model "$model" --out "$OUT/zarr-out" "$vol"); echo "$a"
  b=$(run stack "$CLEAVE" predict --model "$model" --out "$OUT/tif-out" --no-probabilities --no-uncertainty "$OUT/fib-$SIZE.tif"); echo "$b"
  "$CLEAVE" convert "$OUT/zarr-out/fib-$SIZE-labels.ome.zarr" "$OUT/zarr-labels.tif" > /dev/null 2>&1
  python3 - "$OUT/zarr-labels.tif" "$OUT/tif-out/fib-$SIZE-labels.tif" "$SIZE" "$(echo "$a" | wall)" "$(echo "$b" | wall)" <<'PY'
import sys, tifffile, numpy as np
x, y = tifffile.imread(sys.argv[1]), tifffile.imread(sys.argv[2])
assert np.array_equal(x, y), "labels differ"
z, h, w = map(int, sys.argv[3].split("x")); mb = z * h * w * 2 / 1e6
a, b = float(sys.argv[4]), float(sys.argv[5])
print(f"labels identical; input {mb:.0f} MB: blocks {mb / a:.2f} MB/s, stack path {mb / b:.2f} MB/s, ratio blocks/stack time {a / b:.2f}")
PY
elif [ "$MODE" = unet ]; then
  SIZE="${2:-512x2048x2048}"
  SHARE="${3:-}"
  vol="$OUT/fib-$SIZE.ome.zarr"
  [ -d "$vol" ] || run sample "$CLEAVE" sample --kind fibsem --size "$SIZE" --channels 1 --seed 1 --out "$vol"
  name="unet-$SIZE${SHARE:+-share-${SHARE/\//of}}"
  rm -rf "$OUT/$name-out"
  result=$(run "$name" "$CLEAVE" predict --model "$model" --out "$OUT/$name-out" ${SHARE:+--blocks "$SHARE"} "$vol"); echo "$result"
  z=${SIZE%%x*}; rest=${SIZE#*x}; h=${rest%%x*}; w=${rest#*x}
  python3 - "$result" "$z" "$h" "$w" "$OUT/$name-out/fib-$SIZE-labels.ome.zarr/.cleave-blocks" <<'PY'
import os, re, sys
cpu = float(re.search(r"cpu_s=([0-9.]+)", sys.argv[1]).group(1))
z, h, w = map(int, sys.argv[2:5])
done = len([f for f in os.listdir(sys.argv[5]) if f.endswith(".done")])
blocks = __import__("json").load(open(sys.argv[5] + "/run.json"))["blockCount"]
planes = z * done // blocks  # blocks of equal depth (whole planes, one chunk deep)
print(f"input {z * h * w * 2 / 2**30:.2f} GiB, {blocks} blocks of whole {h}x{w} planes; {done} done = {planes} planes; {cpu / max(1, planes):.2f} CPU s per plane")
PY
else
  SIZE="${2:-512x2048x2048}"
  vol="$OUT/fib-$SIZE.ome.zarr"
  [ -d "$vol" ] || run sample "$CLEAVE" sample --kind fibsem --size "$SIZE" --channels 1 --seed 1 --out "$vol"
  du -sh "$vol"
  rm -rf "$OUT/large-out"
  run large "$CLEAVE" predict --model "$model" --out "$OUT/large-out" "$vol"
  z=${SIZE%%x*}; rest=${SIZE#*x}; h=${rest%%x*}; w=${rest#*x}
  python3 -c "import sys; print(f'input {$z * $h * $w * 2 / 2**30:.2f} GiB')"
fi
echo "load after: $(load)"
