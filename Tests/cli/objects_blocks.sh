#!/usr/bin/env bash
# Objects block by block (issue 20): `cleave objects` on an OME-Zarr label volume equals the
# whole-volume run (objects.csv byte for byte, the same labels), resumes after kill -9 with the
# same bytes, shares with --blocks i/N, and refuses bad requests in one line.
# Usage: Tests/cli/objects_blocks.sh path/to/cleave WORKDIR   (called by acceptance.sh; prints ok/FAIL
# lines and a last line "objects blocks: N passed, N failed").
set -u
CLEAVE=$1; B=$2; mkdir -p "$B"
source "$(dirname "$0")/lib.sh"
REFUSE_ONE_LINE=1
same_outputs() { cmp -s "$1/objects.csv" "$2/objects.csv" && cmp -s "$1/summary.csv" "$2/summary.csv" && cmp -s <(sums "$1/labels.ome.zarr") <(sums "$2/labels.ome.zarr"); }

# A FIB-SEM volume's truth labels (an OME-Zarr label image: 4 classes, pores and grains across every block border).
check "sample a FIB-SEM volume with truth labels" "$CLEAVE" sample --kind fibsem --size 20x120x150 --seed 8 --chunk 6x32x32 --out "$B/vol.ome.zarr"
T="$B/vol.ome.zarr/labels/truth"
"$CLEAVE" convert "$T" "$B/truth.tif" > /dev/null 2>&1
check "whole-volume objects of the TIFF" "$CLEAVE" objects "$B/truth.tif" --class 4 --min-size 3 --out "$B/whole"
check "objects of the OME-Zarr block by block" "$CLEAVE" objects "$T" --class 4 --min-size 3 --block-size 32 --out "$B/ref"
n=$(($(wc -l < "$B/whole/objects.csv") - 1))
if [ "$n" -gt 10 ] && cmp -s "$B/whole/objects.csv" "$B/ref/objects.csv" && cmp -s "$B/whole/summary.csv" "$B/ref/summary.csv" \
   && cmp -s "$B/whole/size_histogram.csv" "$B/ref/size_histogram.csv"; then
  ok "block-wise objects.csv, summary.csv, size_histogram.csv = the whole volume's, byte for byte ($n objects)"
else bad "block-wise objects.csv = the whole volume's" "$(diff "$B/whole/objects.csv" "$B/ref/objects.csv" | head -n 4)"; fi
"$CLEAVE" convert "$B/ref/labels.ome.zarr" "$B/ref-labels.tif" > /dev/null 2>&1
python3 - "$B" <<'PY' && ok "labels.ome.zarr = the whole volume's labels.tif; chunks, scale and label metadata" || bad "labels.ome.zarr = the whole volume's labels.tif"
import sys, json, tifffile, numpy as np
b = sys.argv[1]
x = tifffile.imread(b + "/ref-labels.tif"); y = tifffile.imread(b + "/whole/labels.tif")
assert x.shape == y.shape and np.array_equal(x, y), (x.shape, y.shape, int((x != y).sum()))
a = json.load(open(b + "/ref/labels.ome.zarr/0/.zarray")); i = json.load(open(b + "/vol.ome.zarr/labels/truth/0/.zarray"))
assert a["shape"] == i["shape"][-3:] and a["chunks"] == i["chunks"][-3:] and a["dtype"] == "<u2", (a, i)
attrs = json.load(open(b + "/ref/labels.ome.zarr/.zattrs"))
assert "image-label" in attrs and [x["name"] for x in attrs["multiscales"][0]["axes"]] == ["z", "y", "x"], attrs
PY
check "values (every class, connectivity 1), block size 40" "$CLEAVE" objects "$T" --connectivity 1 --block-size 40 --out "$B/values"
"$CLEAVE" objects "$B/truth.tif" --connectivity 1 --out "$B/values-whole" > /dev/null 2>&1
cmp -s "$B/values/objects.csv" "$B/values-whole/objects.csv" && ok "connectivity 1, all classes: objects.csv = the whole volume's" \
  || bad "connectivity 1, all classes: objects.csv = the whole volume's" "$(diff "$B/values/objects.csv" "$B/values-whole/objects.csv" | head -n 4)"

# kill -9 at several moments, then the same command: the same bytes. At least one kill must land mid-run.
partial=0
for delay in 0.2 0.5 0.9 1.4; do
  out="$B/killed-$delay"
  "$CLEAVE" objects "$T" --class 4 --min-size 3 --block-size 32 --out "$out" > /dev/null 2>&1 &
  kpid=$!; sleep $delay; kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
  [ -d "$out/.cleave-objects" ] && partial=$((partial + 1))
  "$CLEAVE" objects "$T" --class 4 --min-size 3 --block-size 32 --out "$out" > "$B/rerun.log" 2>&1 || bad "rerun after kill -9 at $delay s" "$(tail -n 2 "$B/rerun.log")"
  if same_outputs "$B/ref" "$out"; then ok "killed at $delay s, rerun = uninterrupted (objects.csv, summary.csv, checksums per chunk)"
  else bad "killed at $delay s, rerun = uninterrupted" "$(diff <(sums "$B/ref/labels.ome.zarr") <(sums "$out/labels.ome.zarr") | head -n 4)"; fi
done
[ $partial -gt 0 ] && ok "$partial kill(s) landed mid-run" || echo "note: no kill landed mid-run on this machine"

# --blocks i/N: three shares at once, then the same command without --blocks.
for i in 0 1 2; do "$CLEAVE" objects "$T" --class 4 --min-size 3 --block-size 32 --blocks $i/3 --out "$B/shares" > "$B/share$i.log" 2>&1 & done
wait
grep -q "run the same command without --blocks" "$B/share0.log" && ok "--blocks 0/3 says how to finish" || bad "--blocks 0/3 says how to finish" "$(cat "$B/share0.log")"
[ ! -e "$B/shares/objects.csv" ] && ok "--blocks does not finish" || bad "--blocks does not finish"
"$CLEAVE" objects "$T" --class 4 --min-size 3 --block-size 32 --out "$B/shares" > "$B/final.log" 2>&1
grep -q "0 labelled now" "$B/final.log" && ok "the finishing run labels no block the shares did" || bad "the finishing run labels no block the shares did" "$(cat "$B/final.log")"
same_outputs "$B/ref" "$B/shares" && ok "3 shares + finish = one run" || bad "3 shares + finish = one run"
dry=$("$CLEAVE" submit --tasks 3 --dry-run -- objects "$T" --class 4 --out "$B/submitted" 2>/dev/null)
if echo "$dry" | grep -q -- '#SBATCH --array=0-2' && echo "$dry" | grep -qF -- '--blocks "$SLURM_ARRAY_TASK_ID/3"' && [ ! -e "$B/submitted" ]; then
  ok "submit --dry-run runs objects as an array and a merge job"
else bad "submit --dry-run runs objects as an array and a merge job" "$(echo "$dry" | head -n 8)"; fi

# Bad requests: one line each.
refuse "--block-size 0 is refused" "block-size must be at least 1" "$CLEAVE" objects "$T" --block-size 0 --out "$B/x"
refuse "--fill-holes on a volume is refused" "--fill-holes is not available for OME-Zarr volumes" "$CLEAVE" objects "$T" --fill-holes --out "$B/x"
refuse "--blocks on a TIFF is refused" "--blocks shares the blocks of OME-Zarr volumes" "$CLEAVE" objects "$B/truth.tif" --blocks 0/2 --out "$B/x"
refuse "an output of other options is refused" "holds a block run with another" "$CLEAVE" objects "$T" --class 1 --block-size 32 --out "$B/ref"
python3 - "$B" <<'PY'
import sys, numpy as np, tifffile
v = np.zeros((8, 40, 40), np.float32); v[5, 7, 9] = 1.5
tifffile.imwrite(sys.argv[1] + "/grey.tif", v)
PY
"$CLEAVE" convert "$B/grey.tif" "$B/grey.ome.zarr" --chunk 4x16x16 > /dev/null 2>&1
refuse "a volume that is not integer is one line naming the voxel" "value 1.5 at x 9, y 7, z 5 is not a whole number" "$CLEAVE" objects "$B/grey.ome.zarr" --out "$B/grey"
refuse "a several-channel volume is refused" "has 2 channels" "$CLEAVE" objects "$B/vol.ome.zarr" --out "$B/x2"
summary "objects blocks"
