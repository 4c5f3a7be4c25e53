#!/usr/bin/env bash
# Block runner acceptance checks (issue 20 part 2): `cleave predict` on an OME-Zarr volume block
# by block, resumed after kill -9, shared with --blocks i/N, and refused bad requests.
# Usage: Tests/cli/blocks.sh path/to/cleave WORKDIR   (called by acceptance.sh; prints ok/FAIL lines
# and a last line "blocks: N passed, N failed").
set -u
CLEAVE=$1; B=$2; mkdir -p "$B"
source "$(dirname "$0")/lib.sh"
REFUSE_ONE_LINE=1

check "sample a FIB-SEM volume for the block runner" "$CLEAVE" sample --kind fibsem --size 24x200x240 --seed 3 --chunk 8x32x32 --out "$B/vol.ome.zarr"
check "train a forest on it" "$CLEAVE" train --image "$B/vol.ome.zarr" --labels "$B/vol.ome.zarr/labels/truth" --model "$B/m.json" \
  --trees 6 --pixels-per-class 300 --features gaussian,gradient_magnitude,hessian_eigenvalues --scales 0,1,2
check "predict the volume block by block" "$CLEAVE" predict --model "$B/m.json" --out "$B/ref" --block-size 64 "$B/vol.ome.zarr"
python3 - "$B" <<'PY' && ok "labels store: uint8 labels with the input's shape, chunks and scale; pyramid; class fractions" || bad "labels store contract"
import json, sys, os
b = sys.argv[1]; s = b + "/ref/vol-labels.ome.zarr"
a = json.load(open(s + "/0/.zarray")); i = json.load(open(b + "/vol.ome.zarr/0/.zarray"))
assert a["shape"] == i["shape"][1:] and a["chunks"] == i["chunks"][1:] and a["dtype"] == "|u1", (a, i)
m = json.load(open(s + "/.zattrs"))["multiscales"][0]; mi = json.load(open(b + "/vol.ome.zarr/.zattrs"))["multiscales"][0]
assert len(m["datasets"]) > 1 and m["datasets"][0]["coordinateTransformations"] == [{"type": "scale", "scale": mi["datasets"][0]["coordinateTransformations"][0]["scale"][1:]}], (m, mi)
assert [x["name"] for x in m["axes"]] == ["z", "y", "x"]
lines = open(b + "/ref/class-fractions.csv").read().splitlines()
assert lines[0].startswith("image,class") and len(lines) >= 3 and abs(sum(float(l.split(",")[4]) for l in lines[1:]) - 100) < 0.01, lines
assert os.path.exists(b + "/ref/vol-overlay.png")
PY
# The same labels as whole-volume prediction of the TIFF stack (the pre-existing path).
"$CLEAVE" convert "$B/vol.ome.zarr" "$B/vol.tif" > /dev/null 2>&1
"$CLEAVE" predict --model "$B/m.json" --out "$B/tif" --no-probabilities --no-uncertainty --no-overlay "$B/vol.tif" > /dev/null 2>&1
"$CLEAVE" convert "$B/ref/vol-labels.ome.zarr" "$B/ref-labels.tif" > /dev/null 2>&1
python3 - "$B" <<'PY' && ok "block-wise labels equal the TIFF stack's whole prediction" || bad "block-wise labels equal the TIFF stack's whole prediction"
import sys, tifffile, numpy as np
b = sys.argv[1]
x = tifffile.imread(b + "/ref-labels.tif"); y = tifffile.imread(b + "/tif/vol-labels.tif")
assert x.shape == y.shape and np.array_equal(x, y), (x.shape, y.shape, int((x != y).sum()))
PY
sums "$B/ref/vol-labels.ome.zarr" > "$B/ref.sums"
check "another block size gives the same chunks" "$CLEAVE" predict --model "$B/m.json" --out "$B/big" --block-size 160 "$B/vol.ome.zarr"
sums "$B/big/vol-labels.ome.zarr" > "$B/big.sums"
cmp -s "$B/ref.sums" "$B/big.sums" && ok "block size 64 and 160: identical checksums per chunk" || bad "block size 64 and 160: identical checksums per chunk"

# kill -9 at several moments (one output each), then the same command: identical to the
# uninterrupted run. At least one kill must land mid-run (some blocks done, not all).
partial=0
for delay in 0.1 0.35 0.6 0.9; do
  "$CLEAVE" predict --model "$B/m.json" --out "$B/killed-$delay" --block-size 64 "$B/vol.ome.zarr" > /dev/null 2>&1 &
  kpid=$!; sleep $delay; kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
  n=$(ls "$B/killed-$delay/vol-labels.ome.zarr/.cleave-blocks/" 2>/dev/null | grep -c 'done$')
  [ "$n" -gt 0 ] && [ "$n" -lt 48 ] && partial=$((partial + 1))
  "$CLEAVE" predict --model "$B/m.json" --out "$B/killed-$delay" --block-size 64 "$B/vol.ome.zarr" > "$B/rerun.log" 2>&1 \
    || bad "rerun after kill -9 at $delay s" "$(tail -n 2 "$B/rerun.log")"
  if cmp -s "$B/ref.sums" <(sums "$B/killed-$delay/vol-labels.ome.zarr") && cmp -s "$B/ref/class-fractions.csv" "$B/killed-$delay/class-fractions.csv"; then
    ok "killed at $delay s ($n of 48 blocks done), rerun = uninterrupted (checksums per chunk, class fractions)"
  else
    bad "killed at $delay s ($n of 48 blocks done), rerun = uninterrupted" "$(diff "$B/ref.sums" <(sums "$B/killed-$delay/vol-labels.ome.zarr") | head -n 4)"
  fi
done
[ $partial -gt 0 ] && ok "$partial kill(s) landed mid-run" || echo "note: no kill landed mid-run on this machine (all before the first block or after the last)"

# --blocks i/N: three shares at once (as array tasks), then the same command without --blocks.
for i in 0 1 2; do "$CLEAVE" predict --model "$B/m.json" --out "$B/shares" --block-size 64 --blocks $i/3 "$B/vol.ome.zarr" > "$B/share$i.log" 2>&1 & done
wait
grep -q "run the same command without --blocks" "$B/share0.log" && ok "--blocks 0/3 says how to finish" || bad "--blocks 0/3 says how to finish" "$(cat "$B/share0.log")"
[ ! -e "$B/shares/class-fractions.csv" ] && ok "--blocks does not finalise" || bad "--blocks does not finalise"
"$CLEAVE" predict --model "$B/m.json" --out "$B/shares" --block-size 64 "$B/vol.ome.zarr" > "$B/final.log" 2>&1
grep -q "0 computed now" "$B/final.log" && ok "final run computes no block the shares did" || bad "final run computes no block the shares did" "$(cat "$B/final.log")"
sums "$B/shares/vol-labels.ome.zarr" > "$B/shares.sums"
cmp -s "$B/ref.sums" "$B/shares.sums" && ok "3 shares + final = one run (checksums per chunk)" || bad "3 shares + final = one run"

# U-Net models (issue 20): blocks of whole planes (2 deep: the chunks) read with the slice above
# and below (--slices 3); the labels equal the TIFF stack's whole prediction, and kill -9 + rerun
# equals the uninterrupted run.
check "sample a volume of thin chunks for the U-Net" "$CLEAVE" sample --kind fibsem --size 32x192x224 --seed 4 --chunk 2x64x64 --out "$B/u.ome.zarr"
check "train a small U-Net on it (--slices 3)" "$CLEAVE" train --method unet --image "$B/u.ome.zarr" --labels "$B/u.ome.zarr/labels/truth" \
  --slices 3 --steps 3 --batch 2 --patch-size 64 --evaluations 1 --seed 1 --model "$B/u.json"
check "predict the volume with the U-Net block by block" "$CLEAVE" predict --model "$B/u.json" --out "$B/uref" --tile 64 "$B/u.ome.zarr"
"$CLEAVE" convert "$B/u.ome.zarr" "$B/u.tif" > /dev/null 2>&1
"$CLEAVE" predict --model "$B/u.json" --out "$B/utif" --tile 64 --no-probabilities --no-uncertainty --no-overlay "$B/u.tif" > /dev/null 2>&1
"$CLEAVE" convert "$B/uref/u-labels.ome.zarr" "$B/uref-labels.tif" > /dev/null 2>&1
python3 - "$B" <<'PY' && ok "U-Net: block-wise labels equal the TIFF stack's whole prediction" || bad "U-Net: block-wise labels equal the TIFF stack's whole prediction"
import sys, tifffile, numpy as np
b = sys.argv[1]
x = tifffile.imread(b + "/uref-labels.tif"); y = tifffile.imread(b + "/utif/u-labels.tif")
assert x.shape == y.shape == (32, 192, 224) and np.array_equal(x, y), (x.shape, y.shape, int((x != y).sum()))
assert len(np.unique(x)) > 1, "one class everywhere"
PY
sums "$B/uref/u-labels.ome.zarr" > "$B/uref.sums"
# kill -9 at a fixed moment and as soon as 1 and 8 of the 16 blocks are recorded done (so the
# kills land mid-run however loaded the machine is), then the same command.
udone() { ls "$1/u-labels.ome.zarr/.cleave-blocks/" 2>/dev/null | grep -c 'done$'; }
for when in 0.3s 1 8; do
  out="$B/ukilled-$when"
  "$CLEAVE" predict --model "$B/u.json" --out "$out" --tile 64 "$B/u.ome.zarr" > /dev/null 2>&1 &
  kpid=$!
  if [ "$when" = 0.3s ]; then sleep 0.3; else
    while kill -0 $kpid 2>/dev/null && [ "$(udone "$out")" -lt "$when" ]; do sleep 0.02; done
  fi
  kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
  n=$(udone "$out")
  "$CLEAVE" predict --model "$B/u.json" --out "$out" --tile 64 "$B/u.ome.zarr" > "$B/rerun.log" 2>&1 \
    || bad "U-Net: rerun after kill -9 ($when)" "$(tail -n 2 "$B/rerun.log")"
  if [ -s "$B/uref.sums" ] && cmp -s "$B/uref.sums" <(sums "$out/u-labels.ome.zarr") && cmp -s "$B/uref/class-fractions.csv" "$out/class-fractions.csv"; then
    ok "U-Net: killed with $n of 16 blocks done, rerun = uninterrupted (checksums per chunk, class fractions)"
  else
    bad "U-Net: killed with $n of 16 blocks done, rerun = uninterrupted" "$(diff "$B/uref.sums" <(sums "$out/u-labels.ome.zarr") | head -n 4)"
  fi
  if [ "$when" != 0.3s ] && { [ "$n" -lt 1 ] || [ "$n" -ge 16 ]; }; then bad "U-Net: the kill after block $when landed mid-run" "$n of 16 done"; fi
done

# Bad requests: one line each, and nothing is marked done.
check "train a model with a wide filter (σ 10)" "$CLEAVE" train --image "$B/vol.ome.zarr" --labels "$B/vol.ome.zarr/labels/truth" \
  --model "$B/wide.json" --trees 3 --pixels-per-class 100 --features gaussian --scales 0,10
refuse "block size smaller than the halo names --block-size" "^Error: --block-size 16 is smaller than the [0-9]+-pixel halo" \
  "$CLEAVE" predict --model "$B/wide.json" --out "$B/small" --block-size 16 "$B/vol.ome.zarr"
[ ! -e "$B/small/vol-labels.ome.zarr" ] && ok "a refused block size writes nothing" || bad "a refused block size writes nothing"
refuse "--blocks 3/3 is refused" "^Error: --blocks 3/3: needs i/N" "$CLEAVE" predict --model "$B/m.json" --out "$B/x" --blocks 3/3 "$B/vol.ome.zarr"
refuse "--blocks on a TIFF is refused" "--blocks shares the blocks of OME-Zarr volumes" "$CLEAVE" predict --model "$B/m.json" --out "$B/x" --blocks 0/2 "$B/vol.tif"
check "train another model" "$CLEAVE" train --image "$B/vol.ome.zarr" --labels "$B/vol.ome.zarr/labels/truth" --model "$B/m2.json" \
  --trees 3 --pixels-per-class 100 --features gaussian --scales 0,1
refuse "an output of another model is refused" "holds a block run with another model" \
  "$CLEAVE" predict --model "$B/m2.json" --out "$B/ref" --block-size 64 "$B/vol.ome.zarr"
refuse "an output of another block size is refused" "holds a block run with another options" \
  "$CLEAVE" predict --model "$B/m.json" --out "$B/ref" --block-size 96 "$B/vol.ome.zarr"
cmp -s <(sums "$B/ref/vol-labels.ome.zarr") "$B/ref.sums" && ok "refused runs left the output untouched" || bad "refused runs left the output untouched"
"$CLEAVE" sample --kind fibsem --size 8x64x64 --channels 1 --seed 3 --chunk 8x32x32 --out "$B/one.ome.zarr" > /dev/null 2>&1
refuse "a model of other channels is refused" "has 1 channel, but the model was trained on 2" \
  "$CLEAVE" predict --model "$B/m.json" --out "$B/one" "$B/one.ome.zarr"
# A corrupt chunk in the input: the share run before it was fine; the run that meets it stops
# with one line and the blocks that read it are not marked done.
cp -r "$B/vol.ome.zarr" "$B/bad.ome.zarr"
"$CLEAVE" predict --model "$B/m.json" --out "$B/bad" --block-size 64 --blocks 1/2 "$B/bad.ome.zarr" > /dev/null 2>&1
chunk=$(cd "$B/bad.ome.zarr/0" && find . -type f ! -name '.*' | LC_ALL=C sort | sed -n 20p)
head -c 30 "$B/vol.ome.zarr/0/$chunk" > "$B/bad.ome.zarr/0/$chunk"
refuse "a corrupt input chunk is one line" "chunk .* is corrupt or truncated" "$CLEAVE" predict --model "$B/m.json" --out "$B/bad" --block-size 64 "$B/bad.ome.zarr"
python3 - "$B" <<'PY' && ok "the blocks of the corrupt chunk are not marked done; no summary" || bad "the blocks of the corrupt chunk are not marked done; no summary"
import os, sys, json
b = sys.argv[1]; j = b + "/bad/bad-labels.ome.zarr/.cleave-blocks"
total = json.load(open(j + "/run.json"))["blockCount"]
done = [f for f in os.listdir(j) if f.endswith(".done")]
assert 0 < len(done) < total, (len(done), total)
assert not os.path.exists(b + "/bad/class-fractions.csv")
PY
summary "blocks"
