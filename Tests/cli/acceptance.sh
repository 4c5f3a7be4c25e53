#!/usr/bin/env bash
# Command-line acceptance tests: run the release `cleave` binary the way users and acceptance
# scripts do, and check the files and JSON it writes (the CLI contracts in the issues).
# Usage: Tests/cli/acceptance.sh [path/to/cleave]   (default: .build/release/cleave)
# Prints one line per check and closes with "cli: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
CLEAVE=${1:-.build/release/cleave}
DATA=../shared/data
WORK=$(mktemp -d /tmp/cleave-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
source Tests/cli/lib.sh

[ -x "$CLEAVE" ] || { echo "cli: no binary at $CLEAVE (build with swift build -c release)"; echo "cli: 0 passed, 1 failed"; exit 1; }

# --- sample + info + convert (issue 2) -------------------------------------------------------
check "sample writes a tile set" "$CLEAVE" sample --out "$WORK/sample" --seed 7 --rows 2 --columns 2 --tile-size 512
tile=$(ls "$WORK"/sample/Tile_*.tif 2>/dev/null | head -n 1)
[ -n "$tile" ] && ok "sample tile exists" || bad "sample tile exists"
"$CLEAVE" info "$tile" --json > "$WORK/info.json" 2>"$WORK/info.err"
pycheck "info --json has the contract fields" "
import json; d = json.load(open('$WORK/info.json'))
assert d['width'] == 512 and d['height'] == 512 and d['depth'] == 1 and d['channels'] == 1, d
assert d['pixelType'] == 'uint16', d
assert 'compression' in d and d['min'] <= d['max'], d"
check "convert tif -> png" "$CLEAVE" convert "$tile" "$WORK/tile.png"
check "convert tif -> mrc" "$CLEAVE" convert "$tile" "$WORK/tile.mrc"
"$CLEAVE" info "$WORK/tile.png" --json > "$WORK/png.json" 2>/dev/null
"$CLEAVE" info "$WORK/tile.mrc" --json > "$WORK/mrc.json" 2>/dev/null
pycheck "converted files keep size and range" "
import json; a = json.load(open('$WORK/info.json')); b = json.load(open('$WORK/png.json')); c = json.load(open('$WORK/mrc.json'))
for d in (b, c): assert (d['width'], d['height'], d['min'], d['max']) == (a['width'], a['height'], a['min'], a['max']), (a, d)
assert b['pixelType'] == 'uint16', b"
head -c 3000 "$tile" > "$WORK/truncated.tif"
refuse "truncated TIFF is refused" "truncat|end of file|past the end|short" "$CLEAVE" info "$WORK/truncated.tif"
refuse "missing file is refused" "no such|not found|cannot open|does not exist" "$CLEAVE" info "$WORK/nothing.tif"

if [ -d "$DATA" ]; then
  "$CLEAVE" info "$DATA/tem-microcrystals/dataset1-graphite-30kx/Tile_001-001-000_0-000.tif" --json > "$WORK/tem.json" 2>/dev/null
  pycheck "real TEM tile: 1000x1000 uint16, min 2627, max 14218" "
import json; d = json.load(open('$WORK/tem.json'))
assert (d['width'], d['height'], d['pixelType'], d['min'], d['max']) == (1000, 1000, 'uint16', 2627, 14218), d"
fi

# --- SerialEM montage in, Navigator file out (issue 18 item 5) --------------------------------
check "sample --montage writes a SerialEM montage" "$CLEAVE" sample --montage --out "$WORK/mont" --seed 3 --tile-size 512
if python3 -c 'import mrcfile' 2>/dev/null; then
  pycheck "mrcfile reads montage.mrc; its .mdoc places every section" "
import mrcfile, re
with mrcfile.open('$WORK/mont/montage.mrc', permissive=False) as m:
    assert m.data.shape == (6, 512, 512) and m.data.dtype.kind == 'u' and m.data.dtype.itemsize == 2, (m.data.shape, m.data.dtype)
    assert abs(float(m.voxel_size.x) - 50) < 1e-3, m.voxel_size
    first_max = int(m.data[0].max())
text = open('$WORK/mont/montage.mrc.mdoc').read()
sections = re.findall(r'\\[ZValue = (\\d+)\\]', text)
assert sections == [str(i) for i in range(6)], sections
pieces = re.findall(r'PieceCoordinates = (\\d+) (\\d+) 0', text)
assert [(int(x), int(y)) for x, y in pieces] == [(c * 464, r * 464) for r in range(2) for c in range(3)], pieces
mmm = re.findall(r'MinMaxMean = (\\S+) (\\S+)', text)[0]
assert int(mmm[1]) == first_max, (mmm, first_max)"
else
  bad "mrcfile reads montage.mrc" "mrcfile is not installed (python3 -m pip install mrcfile)"
fi
check "locate a SerialEM montage" "$CLEAVE" locate "$WORK/mont/montage.mrc" --out "$WORK/mont-loc"
[ -s "$WORK/mont-loc/targets.nav" ] && ok "locate writes targets.nav for a montage" || bad "locate writes targets.nav for a montage"
if python3 -c 'import pyserialem' 2>/dev/null; then
  pycheck "pyserialem opens targets.nav: points with stage XY on the montage, matching targets-stage.csv" "
import csv, io, contextlib, pyserialem
with contextlib.redirect_stdout(io.StringIO()):  # it echoes the header comments
    items = pyserialem.read_nav_file('$WORK/mont-loc/targets.nav')
rows = list(csv.DictReader(open('$WORK/mont-loc/targets-stage.csv')))
assert len(items) == len(rows) > 0, (len(items), len(rows))
for item, row in zip(items, rows):
    assert item.kind == 'Marker' and item.NumPts == 1 and item.Regis == 1, item
    assert abs(item.stage_x - float(row['stage_x_um'])) < 1e-3 and abs(item.stage_y - float(row['stage_y_um'])) < 1e-3
    assert item.PtsX == [item.stage_x] and item.PtsY == [item.stage_y]
truth = list(csv.DictReader(open('$WORK/mont/truth/particles.csv')))
xs = [float(p['stage_x']) for p in truth]; ys = [float(p['stage_y']) for p in truth]
for item in items:  # inside the montage's stage extent (particles lie within 40 px of every edge)
    assert min(xs) - 3 < item.stage_x < max(xs) + 3 and min(ys) - 3 < item.stage_y < max(ys) + 3, item.StageXYZ"
else
  bad "pyserialem opens targets.nav" "pyserialem is not installed (python3 -m pip install pyserialem)"
fi
cp "$WORK/mont/montage.mrc" "$WORK/mont/short.mrc"
grep -v '^PieceCoordinates = 464 0 0' "$WORK/mont/montage.mrc.mdoc" > "$WORK/mont/short.mrc.mdoc"
refuse "an .mdoc section without PieceCoordinates is refused with file, line and field" "short.mrc.mdoc:[0-9]+: section \\[ZValue = 1\\] has no PieceCoordinates" \
    "$CLEAVE" locate "$WORK/mont/short.mrc" --out "$WORK/mont-bad"

# --- locate + score (issue 3) ----------------------------------------------------------------
check "locate on the sample" "$CLEAVE" locate "$WORK/sample" --out "$WORK/loc" --grid 8x8 --exclude-dark --seed 1
pycheck "locate writes summary.json and patches.csv" "
import json, csv; s = json.load(open('$WORK/loc/summary.json'))
assert 'clusters' in s and 'silhouette' in s and 'timings' in s, list(s)
rows = list(csv.DictReader(open('$WORK/loc/patches.csv')))
assert len(rows) == 4 * 64, len(rows)
for col in ('image','row','col','x','y','width','height','cluster'): assert col in rows[0], col"
pycheck "summary.json states how the film level was measured (issue 18)" "
import json; s = json.load(open('$WORK/loc/summary.json'))
assert s['film_level_method'] in ('bright-population median', 'median') and isinstance(s['film_level_bimodal'], bool), s
assert s['film_level_check'] and s['film_level_measurement']['level'] == s['film_level'], s
assert s['dark_exclusion'] == 'requested' and len(s['tile_normalization']['gains']) == 4, s"
check "locate on the sample with 128-px patches" "$CLEAVE" locate "$WORK/sample" --out "$WORK/loc4" --grid 4x4 --seed 1 --no-pictures
pycheck "summary.json reports the line check: film cluster, fence, patches added; skipped with reason on 64-px patches (issue 18 fibres)" "
import json, csv; s = json.load(open('$WORK/loc4/summary.json')); c = s['line_check']
assert s['parameters']['line_check'] is True and c['applied'] is True, c
assert abs(c['fence'] - c['upper_quartile'] - 3 * (c['upper_quartile'] - c['lower_quartile'])) <= 1e-9 * max(1, c['fence']) and 0 <= c['added'] <= c['candidates'], c
rows = list(csv.DictReader(open('$WORK/loc4/patches.csv')))
assert sum(r['picked'] == '1' for r in rows) == s['picked_patches'] == s['clusters'][s['picked']] + c['added'], (s['picked_patches'], c)
small = json.load(open('$WORK/loc/summary.json'))['line_check']
assert small['applied'] is False and 'smaller than 82 px' in small['description'], small"
check "sample with a bar mesh over half the field" "$CLEAVE" sample --out "$WORK/mesh" --rows 1 --columns 2 --tile-size 256 --bar-coverage 0.5 --bar-angle 30
pycheck "the mesh covers about half the field" "
import json; t = json.load(open('$WORK/mesh/truth/truth.json'))
assert abs(t['gridbar_fraction'] - 0.5) < 0.1 and t['options']['bar_angle'] == 30, t['gridbar_fraction']"
check "locate with default flags on the mesh" "$CLEAVE" locate "$WORK/mesh" --out "$WORK/meshloc" --grid 8x8 --no-pictures
pycheck "default flags: the black population is found and two-step mode comes on" "
import json; s = json.load(open('$WORK/meshloc/summary.json'))
assert s['film_level_bimodal'] and s['film_level_method'] == 'bright-population median' and s['dark_exclusion'] == 'automatic', s"
refuse "a bar coverage out of range names the flag" "bar-coverage 0.95: must be 0.05…0.9" "$CLEAVE" sample --out "$WORK/mesh2" --bar-coverage 0.95
# Overlay PNGs (issue 18 item 7): the same bytes on 1 and 2 threads, stored (default) and
# compressed; every chunk CRC, the zlib stream (Python's zlib, independent of Cleave's encoder)
# and PIL's decode agree with the pixels Cleave's reader returns.
for level in 0 2; do
  CLEAVE_THREADS=1 "$CLEAVE" locate "$WORK/sample" --out "$WORK/png1-$level" --grid 8x8 --seed 1 --picture-compression $level >/dev/null 2>&1
  CLEAVE_THREADS=2 "$CLEAVE" locate "$WORK/sample" --out "$WORK/png2-$level" --grid 8x8 --seed 1 --picture-compression $level >/dev/null 2>&1
  same=1; for f in "$WORK/png1-$level"/*.png "$WORK/png1-$level"/*.tif; do cmp -s "$f" "$WORK/png2-$level/$(basename "$f")" || same=0; done
  [ $same = 1 ] && [ -s "$WORK/png1-$level/mosaic_overlay.png" ] && ok "locate pictures (level $level) identical for CLEAVE_THREADS=1 and 2" \
    || bad "locate pictures (level $level) identical for CLEAVE_THREADS=1 and 2"
  pycheck "locate pictures (level $level) are valid PNGs (CRCs, zlib stream, PIL)" "
import glob, struct, zlib
from PIL import Image
files = sorted(glob.glob('$WORK/png1-$level/*.png')); assert len(files) == 5, files
for f in files:
    b = open(f, 'rb').read(); assert b[:8] == bytes([137, 80, 78, 71, 13, 10, 26, 10]), f
    o, idat = 8, b''
    while o < len(b):
        n, = struct.unpack('>I', b[o:o + 4]); kind = b[o + 4:o + 8]; body = b[o + 8:o + 8 + n]
        assert struct.unpack('>I', b[o + 8 + n:o + 12 + n])[0] == zlib.crc32(kind + body), (f, kind)
        if kind == b'IHDR': w, h = struct.unpack('>II', body[:8])
        if kind == b'IDAT': idat += body
        o += 12 + n
    raw = zlib.decompress(idat); assert len(raw) == h * (1 + 3 * w), (f, len(raw))
    im = Image.open(f); im.load(); assert im.mode == 'RGB' and im.size == (w, h), (f, im.mode, im.size)
    if $level == 0:
        rows = [raw[r * (1 + 3 * w) + 1:(r + 1) * (1 + 3 * w)] for r in range(h)]
        assert all(raw[r * (1 + 3 * w)] == 0 for r in range(h)) and b''.join(rows) == im.tobytes(), f"
done
# Learning from picks (issue 18 item 4): --save-model trains a pick classifier, --model classifies with it.
"$CLEAVE" sample --out "$WORK/pick-b" --seed 8 --rows 2 --columns 2 --tile-size 512 --kind film >/dev/null 2>&1
"$CLEAVE" sample --out "$WORK/pick-a" --seed 7 --rows 2 --columns 2 --tile-size 512 --kind film >/dev/null 2>&1
check "locate --pick --save-model learns a pick classifier" "$CLEAVE" locate "$WORK/pick-a" --out "$WORK/pick-train" --grid 16x16 \
    --clusters 2 --compress-tails --pick 0 --pick-name particle --save-model "$WORK/pick.json" --no-pictures
pycheck "the saved model is version 3 with a forest on the scaled statistics" "
import json; m = json.load(open('$WORK/pick.json'))
assert m['version'] == 3 and m['classifier']['picked'] == [0] and m['classifier']['pickedName'] == 'particle', m.get('classifier', {}).keys()
f = m['classifier']['forest']; assert f['featureCount'] == len(m['features']) and f['classes'] == [0, 1], f['classes']"
"$CLEAVE" locate "$WORK/pick-b" --out "$WORK/pick-apply" --model "$WORK/pick.json" --no-pictures > "$WORK/pick-apply.txt" 2>&1
grep -q "classified by its pick classifier" "$WORK/pick-apply.txt" && ok "--model says it classified with the pick classifier" \
  || bad "--model says it classified with the pick classifier" "$(head -n 3 "$WORK/pick-apply.txt")"
pycheck "the classifier route: summary names it, heat is the picked probability, picked = argmax" "
import csv, json; s = json.load(open('$WORK/pick-apply/summary.json'))
assert s['picked_by'] == 'classifier' and s['model']['route'] == 'classifier', (s['picked_by'], s.get('model'))
rows = list(csv.DictReader(open('$WORK/pick-apply/patches.csv')))
assert all(0 <= float(r['heat']) <= 1 for r in rows) and any(r['picked'] == '1' for r in rows)
assert all((r['picked'] == '1') == (r['cluster'] == '0') for r in rows)"
"$CLEAVE" locate "$WORK/pick-b" --out "$WORK/pick-centroids" --model "$WORK/pick.json" --no-classifier --no-pictures > "$WORK/pick-centroids.txt" 2>&1
pycheck "--no-classifier takes the centroid route" "
import json; s = json.load(open('$WORK/pick-centroids/summary.json'))
assert s['picked_by'] == 'model' and s['model']['route'] == 'centroids' and s['model']['has_classifier'], s.get('model')"
python3 -c "
import json; m = json.load(open('$WORK/pick.json')); m['classifier']['forest']['classes'] = [0, 9]
json.dump(m, open('$WORK/pick-bad.json', 'w'))"
refuse "a model with a damaged classifier is refused in one line naming the field" "damaged Locator model \(classifier.forest.classes" \
    "$CLEAVE" locate "$WORK/pick-b" --out "$WORK/pick-bad-out" --model "$WORK/pick-bad.json"
[ ! -e "$WORK/pick-bad-out" ] && ok "a refused model writes nothing" || bad "a refused model writes nothing"
[ "$("$CLEAVE" locate "$WORK/pick-b" --out "$WORK/pick-bad-out" --model "$WORK/pick-bad.json" 2>&1 | wc -l)" -eq 1 ] \
  && ok "the damaged-classifier message is one line" || bad "the damaged-classifier message is one line"
refuse "--pick-name longer than 100 characters is refused" "pick-name" "$CLEAVE" locate "$WORK/pick-b" --out "$WORK/pick-name-out" \
    --pick-name "$(printf 'x%.0s' $(seq 1 101))" --save-model "$WORK/pick-long.json"
[ ! -e "$WORK/pick-long.json" ] && [ ! -e "$WORK/pick-name-out" ] && ok "a refused --pick-name writes nothing" || bad "a refused --pick-name writes nothing"
refuse "k larger than the patch count is refused" "cluster|patch" "$CLEAVE" locate "$WORK/sample" --out "$WORK/loc2" --grid 2x2 --clusters 50
refuse "empty folder is refused" "no image|empty|found no" "$CLEAVE" locate "$WORK/empty-does-not-exist" --out "$WORK/loc3"
if [ -d "$DATA" ]; then
  D1=$DATA/tem-microcrystals/dataset1-graphite-30kx
  check "locate dataset1 with the study's method" "$CLEAVE" locate "$D1" --out "$WORK/d1" --grid 4x4 \
      --features mean,std,relstd,skewness,kurtosis,mode --clusters 3 --cluster-method kmeans --truth "$D1/patch-labels.csv"
  pycheck "study method: ARI within 0.03 of scikit-learn's 0.588" "
import json; s = json.load(open('$WORK/d1/summary.json'))['scores']
assert abs(s['ari'] - 0.588) <= 0.03, s
for k in ('ami','nmi','homogeneity','completeness','v_measure'): assert k in s, k"
  check "locate dataset1 with defaults" "$CLEAVE" locate "$D1" --out "$WORK/d1d" --grid 4x4 --truth "$D1/patch-labels.csv"
  pycheck "defaults: ARI >= 0.80" "
import json; s = json.load(open('$WORK/d1d/summary.json'))['scores']; assert s['ari'] >= 0.80, s"
  check "score patches against labels" "$CLEAVE" score --truth "$D1/patch-labels.csv" --patches "$WORK/d1/patches.csv"
fi

# --- objects (issue 5) -----------------------------------------------------------------------
if [ -d "$DATA" ]; then
  L150=$DATA/sandstone-xrm/labels/Sandstone_Versa0150.tif
  check "objects of class 4" "$CLEAVE" objects "$L150" --class 4 --out "$WORK/obj"
  pycheck "objects.csv has the contract columns and 53 grains" "
import csv, json; rows = list(csv.DictReader(open('$WORK/obj/objects.csv')))
for c in 'label area perimeter centroid_row centroid_col eccentricity solidity equivalent_diameter bbox_min_row bbox_min_col bbox_max_row bbox_max_col'.split(): assert c in rows[0], c
assert len(rows) == 53, len(rows)
g = json.load(open('$WORK/obj/objects.geojson')); assert g['type'] == 'FeatureCollection' and len(g['features']) == 53"
  refuse "a rule naming an unknown measurement is refused" "unknown|not a measurement|valid" \
      "$CLEAVE" objects "$L150" --class 4 --out "$WORK/obj2" --rule "bogus > 3 -> big"
fi

# --- train + predict + score (issue 4) -------------------------------------------------------
if [ -d "$DATA" ]; then
  S=$DATA/sandstone-xrm
  check "train a forest on one slice" "$CLEAVE" train --image "$S/images/Sandstone_Versa0000.tif" \
      --labels "$S/labels/Sandstone_Versa0000.tif" --pixels-per-class 500 --trees 20 --seed 1 --model "$WORK/forest.json"
  check "predict another slice" "$CLEAVE" predict --model "$WORK/forest.json" --out "$WORK/pred" "$S/images/Sandstone_Versa0100.tif"
  [ -f "$WORK/pred/Sandstone_Versa0100-labels.tif" ] && ok "predict writes <stem>-labels.tif" || bad "predict writes <stem>-labels.tif"
  "$CLEAVE" score --truth "$S/labels/Sandstone_Versa0100.tif" --predicted "$WORK/pred/Sandstone_Versa0100-labels.tif" --json > "$WORK/seg.json" 2>/dev/null
  pycheck "prediction scores mean IoU > 0.75 with a small forest" "
import json; d = json.load(open('$WORK/seg.json'))
m = d.get('mean_iou', d.get('meanIoU')); assert m is not None and m > 0.75, d"
  # Issue 17: a model records its intensity normalisation; another bit depth and exposure does not break it.
  pycheck "the model records the default normalisation, bank and trees (issue 17)" "
import json; m = json.load(open('$WORK/forest.json'))
assert m['normalisation'] == 'percentile:0.1:99.9' and m['trainingPixelType'] == 'uint8', (m['normalisation'], m.get('trainingPixelType'))
assert len(m['featureNames']) == 49, len(m['featureNames'])"
  python3 -c "
import tifffile, numpy as np
a = tifffile.imread('$S/images/Sandstone_Versa0100.tif').astype(np.uint32)
tifffile.imwrite('$WORK/slice16.tif', (a * 180 + 2500).astype(np.uint16))" 2>/dev/null
  check "an 8-bit model predicts a 16-bit image of another exposure" "$CLEAVE" predict --model "$WORK/forest.json" --out "$WORK/pred16" "$WORK/slice16.tif"
  pycheck "the 16-bit prediction equals the 8-bit one on 99.9 % of pixels" "
import tifffile, numpy as np
a = tifffile.imread('$WORK/pred/Sandstone_Versa0100-labels.tif'); b = tifffile.imread('$WORK/pred16/slice16-labels.tif')
assert a.shape == b.shape and np.mean(a == b) > 0.999, np.mean(a == b)"
  check "train without normalisation" "$CLEAVE" train --image "$S/images/Sandstone_Versa0000.tif" \
      --labels "$S/labels/Sandstone_Versa0000.tif" --pixels-per-class 200 --trees 5 --seed 1 --normalize none --model "$WORK/raw.json"
  refuse "a model without normalisation refuses another pixel type in one line" "slice16.tif: is uint16, but the model was trained on uint8" \
      "$CLEAVE" predict --model "$WORK/raw.json" --out "$WORK/pred-raw" "$WORK/slice16.tif"
  [ ! -e "$WORK/pred-raw/slice16-labels.tif" ] && ok "the refused prediction writes nothing" || bad "the refused prediction writes nothing"
  refuse "a bad --normalize is refused" "^Error: --normalize: .*percentile:LOW:HIGH" "$CLEAVE" train --image "$S/images/Sandstone_Versa0000.tif" \
      --labels "$S/labels/Sandstone_Versa0000.tif" --normalize percentile:7 --model "$WORK/bad.json"
  refuse "labels of the wrong size are refused" "size|shape|match|label image is [0-9]+×[0-9]+, but" "$CLEAVE" train --image "$S/images/Sandstone_Versa0000.tif" \
      --labels "$tile" --model "$WORK/bad.json"
  [ ! -e "$WORK/bad.json" ] && ok "a refused training writes no model" || bad "a refused training writes no model"
fi

# --- U-Net (issue 7) --------------------------------------------------------------------------
check "sample a FIB-SEM volume" "$CLEAVE" sample --kind fibsem --out "$WORK/fib" --seed 2 --width 64 --height 64 --depth 8
check "train a small U-Net on two detectors x 3 slices" "$CLEAVE" train --method unet \
    --image "$WORK/fib/detector1.tif,$WORK/fib/detector2.tif" --labels "$WORK/fib/train-labels.tif" --classes "$WORK/fib/classes.csv" \
    --slices 3 --depth 2 --width 8 --patch-size 32 --batch 4 --steps 30 --evaluations 2 --seed 1 --model "$WORK/unet.json"
check "predict with the U-Net (kind detected from the model)" "$CLEAVE" predict --model "$WORK/unet.json" --out "$WORK/unet-pred" \
    "$WORK/fib/detector1.tif,$WORK/fib/detector2.tif"
pycheck "U-Net outputs: labels with training values, 4 x 8 probability pages" "
import tifffile, numpy as np, csv
l = tifffile.imread('$WORK/unet-pred/detector1-labels.tif'); p = tifffile.imread('$WORK/unet-pred/detector1-probabilities.tif')
assert l.shape == (8, 64, 64) and set(np.unique(l)) <= {1, 2, 3, 4}, (l.shape, np.unique(l))
assert p.shape == (32, 64, 64) and p.dtype == np.float32 and abs(p[0::8].sum(0) - 1).max() < 1e-3, p.shape
rows = list(csv.DictReader(open('$WORK/unet-pred/class-fractions.csv'))); assert len(rows) == 4, rows"
"$CLEAVE" convert "$WORK/fib/detector1.tif" "$WORK/fib-one.tif" --page 0 >/dev/null 2>&1
"$CLEAVE" convert "$WORK/fib/detector2.tif" "$WORK/fib-two.tif" --page 0 >/dev/null 2>&1
refuse "a 3-slice U-Net refuses a single image" "plane.*3 neighbouring slices|slices" "$CLEAVE" predict --model "$WORK/unet.json" \
    --out "$WORK/unet-bad" "$WORK/fib-one.tif,$WORK/fib-two.tif"
refuse "--slices beyond the stack is refused" "plane.*neighbouring slices|slices" "$CLEAVE" train --method unet \
    --image "$WORK/fib-one.tif" --labels "$WORK/fib-one.tif" --slices 3 --steps 2 --model "$WORK/unet-bad.json"

# --- train --method auto (issue 17) ---------------------------------------------------------------
auto_out=$("$CLEAVE" train --method auto --image "$WORK/fib/detector1.tif,$WORK/fib/detector2.tif" \
    --labels "$WORK/fib/train-labels.tif" --classes "$WORK/fib/classes.csv" --trees 10 --pixels-per-class 300 \
    --depth 2 --width 8 --patch-size 32 --batch 4 --steps 4 --evaluations 1 --seed 1 --model "$WORK/auto.json" 2>/dev/null)
if echo "$auto_out" | grep -qE "^method: (rf|unet) — kept the (forest|U-Net).*held-out mean IoU: U-Net [0-9.]+, forest [0-9.]+ on [0-9]+ labelled pixels" \
   && echo "$auto_out" | grep -qE "^  forest: mean" && echo "$auto_out" | grep -qE "^  U-Net:  mean"; then
  ok "train --method auto scores both methods on held-out labels and says which it kept"
else bad "train --method auto scores both methods on held-out labels and says which it kept" "$(echo "$auto_out" | head -n 3)"; fi
check "the auto-chosen model predicts" "$CLEAVE" predict --model "$WORK/auto.json" --out "$WORK/auto-pred" \
    "$WORK/fib/detector1.tif,$WORK/fib/detector2.tif"
refuse "--method auto without held-out labels is refused" "validation share is 0" "$CLEAVE" train --method auto \
    --image "$WORK/fib/detector1.tif" --labels "$WORK/fib/train-labels.tif" --validation 0 --steps 2 --model "$WORK/auto-bad.json"
[ ! -e "$WORK/auto-bad.json" ] && ok "a refused auto training writes no model" || bad "a refused auto training writes no model"

check "export the U-Net to ONNX with a test case" "$CLEAVE" export --model "$WORK/unet.json" --onnx "$WORK/unet.onnx" \
    --test-data "$WORK/unet-onnx-test"
if python3 -c 'import onnxruntime' 2>/dev/null; then
  check "onnxruntime reproduces Cleave's logits and probabilities" python3 "$(dirname "$0")/onnx_check.py" \
      "$WORK/unet.onnx" "$WORK/unet-onnx-test"
else
  bad "onnxruntime reproduces Cleave's logits and probabilities" "onnxruntime is not installed (python3 -m pip install onnxruntime)"
fi
echo '{"kind": "something else"}' > "$WORK/not-a-model.json"
refuse "export refuses a file that is not a Cleave model" "not a Cleave model" "$CLEAVE" export --model "$WORK/not-a-model.json" \
    --onnx "$WORK/nothing.onnx"
if [ -f "$WORK/forest.json" ]; then
  refuse "a random-forest model is not exported to ONNX" "random-forest" "$CLEAVE" export --model "$WORK/forest.json" \
      --onnx "$WORK/forest.onnx"
fi
[ ! -e "$WORK/nothing.onnx" ] && [ ! -e "$WORK/forest.onnx" ] && ok "a refused export writes nothing" || bad "a refused export writes nothing"

# --- hostile inputs (issue 19): non-finite pixels, bombs, lying headers, tampered models ------
bash Tests/cli/hostile.sh "$CLEAVE" > "$WORK/hostile.log" 2>&1
grep -E "^(FAIL|     )" "$WORK/hostile.log"
counts=$(grep -E "^hostile: [0-9]+ passed, [0-9]+ failed" "$WORK/hostile.log" | tail -n 1)
if [ -n "$counts" ]; then
  passed=$((passed + $(echo "$counts" | sed -E 's/hostile: ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$counts" | sed -E 's/.* ([0-9]+) failed/\1/')))
  echo "ok   hostile-input suite: ${counts#hostile: }"
else
  bad "hostile-input suite ran" "$(tail -n 3 "$WORK/hostile.log")"
fi

# --- register (issue 21, item 1) --------------------------------------------------------------
# A synthetic "EDS map" of sandstone slice 0000 (labels ÷2, rotated 17°, shifted, 10 % of border
# pixels relabelled, a corner cropped) registered to the grey image of 0000: the transform within
# 1 px and 0.5° of the truth (bench/register/make_eds_map.py writes the truth beside the map).
SAND=$DATA/sandstone-xrm
if [ -f "$SAND/labels/Sandstone_Versa0000.tif" ]; then
  python3 bench/register/make_eds_map.py "$SAND/labels/Sandstone_Versa0000.tif" "$WORK/eds.tif" --mirror --seed 2 --shift=-9,15
  check "register an EDS-like class map to a grey slice" "$CLEAVE" register "$WORK/eds.tif" \
      "$SAND/images/Sandstone_Versa0000.tif" --out "$WORK/reg"
  pycheck "register: transform.json holds the affine within 1 px and 0.5° of the truth, the score and the pictures" "
import json, math, os
import numpy as np
r = json.load(open('$WORK/reg/transform.json')); t = json.load(open('$WORK/eds.json'))
A, T = np.array(r['affine']), np.array(t['affine'])
assert A.shape == (2, 3), A
h, w = t['movingShape']
pts = np.array([[fx * (w - 1), fy * (h - 1), 1] for fx in (0.2, 0.8) for fy in (0.2, 0.8)])
err = np.hypot(*((pts @ A.T) - (pts @ T.T)).T).max()
ang = lambda M: math.degrees(math.atan2(-M[0][1], M[1][1]))
assert err < 1 and abs(ang(A) - ang(T)) < 0.5, (err, ang(A), ang(T))
assert r['mirrored'] is True and r['quality']['zScore'] >= r['quality']['minimumZScore'], r['quality']
assert 0 < r['quality']['correlationRatio'] <= 1
for f in ('overlay.png', 'checkerboard.png', 'registered.tif'): assert os.path.getsize('$WORK/reg/' + f) > 1000, f"
  # A class map of something else (random blobs): indistinguishable from chance, nothing written.
  python3 -c "
import numpy as np, tifffile
rng = np.random.default_rng(5); yy, xx = np.mgrid[0:400, 0:400]; m = np.ones((400, 400), np.uint8)
for _ in range(150):
    cx, cy, r = rng.uniform(0, 400), rng.uniform(0, 400), rng.uniform(4, 20); m[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = rng.integers(2, 5)
tifffile.imwrite('$WORK/unrelated.tif', m)"
  refuse "register refuses a map that does not match the plane" "no trustworthy match" "$CLEAVE" register "$WORK/unrelated.tif" \
      "$SAND/images/Sandstone_Versa0000.tif" --out "$WORK/reg-unrelated"
  [ ! -e "$WORK/reg-unrelated/transform.json" ] && ok "a refused registration writes no transform" || bad "a refused registration writes no transform"
  printf 'moving_x,moving_y,fixed_x,fixed_y\n0,0,3000,3000\n300,0,3600,3000\n0,300,3000,3600\n' > "$WORK/far.csv"
  refuse "register refuses landmarks that put the map outside the plane" "does not overlap" "$CLEAVE" register "$WORK/eds.tif" \
      "$SAND/images/Sandstone_Versa0000.tif" --landmarks "$WORK/far.csv" --out "$WORK/reg-far"
  printf 'moving_x,moving_y,fixed_x,fixed_y\n10,10,100,100\n200,40,400,300\n' > "$WORK/two.csv"
  refuse "register refuses too few landmarks" "2 landmark pairs, a similarity transform needs at least 3" "$CLEAVE" register \
      "$WORK/eds.tif" "$SAND/images/Sandstone_Versa0000.tif" --landmarks "$WORK/two.csv" --out "$WORK/reg-two"
  refuse "register refuses an unknown model" "model must be rigid, similarity or affine" "$CLEAVE" register "$WORK/eds.tif" \
      "$SAND/images/Sandstone_Versa0000.tif" --model projective --out "$WORK/reg-bad"
  # transfer (issue 21, item 2): the registered map's classes, cleaned (opening per class), train a forest.
  check "transfer trains a classifier from the registered map" "$CLEAVE" transfer "$WORK/eds.tif" \
      "$SAND/images/Sandstone_Versa0000.tif" --pixels-per-class 300 --out "$WORK/transfer"
  pycheck "transfer: cleaned training labels on the plane agree with the true labels, and a model" "
import json, numpy as np, tifffile
t = tifffile.imread('$WORK/transfer/training-labels.tif'); truth = tifffile.imread('$SAND/labels/Sandstone_Versa0000.tif')
assert t.shape == truth.shape, t.shape
kept = t > 0
assert 0.3 < kept.mean() < 0.95, kept.mean()
agree = (t[kept] == truth[kept]).mean()
assert agree > 0.97, agree
assert json.load(open('$WORK/transfer/model.json'))['kind']"
  # transfer registers with exactly register's options (one shared option group): the same refusal.
  refuse "transfer refuses a map that does not match the plane, as register does" "no trustworthy match" "$CLEAVE" transfer \
      "$WORK/unrelated.tif" "$SAND/images/Sandstone_Versa0000.tif" --min-z 4 --min-overlap 0.5 --out "$WORK/transfer-unrelated"
  [ ! -e "$WORK/transfer-unrelated/model.json" ] && ok "a refused transfer trains no model" || bad "a refused transfer trains no model"
  # lithology (issue 21, item 3): ×4 block means of the slices; region classes from the labels.
  python3 bench/lithology/simulate.py "$(dirname "$SAND")" "$WORK/litho-sim" 4 > /dev/null
  L="$WORK/litho-sim"
  check "lithology maps held-out low-resolution slices" "$CLEAVE" lithology "$L/low/Sandstone_Versa0100.tif" "$L/low/Sandstone_Versa0300.tif" \
      --train-image "$L/low/Sandstone_Versa0000.tif" "$L/low/Sandstone_Versa0200.tif" \
      --train-labels "$L/labels/Sandstone_Versa0000.tif" "$L/labels/Sandstone_Versa0200.tif" \
      --truth "$L/labels/Sandstone_Versa0100.tif" "$L/labels/Sandstone_Versa0300.tif" --trees 50 --out "$WORK/litho"
  pycheck "lithology: region maps, targets and a forest that beats the grey-mean baseline" "
import json, csv, tifffile
s = json.load(open('$WORK/litho/summary.json'))
assert s['accuracy']['blocks'] == 480 and s['accuracy']['forest'] > s['accuracy']['baseline'] + 0.03, s['accuracy']
assert s['porosityThresholdSource'].startswith('median'), s['porosityThresholdSource']
m = tifffile.imread('$WORK/litho/Sandstone_Versa0100-regions.tif')
assert m.shape == (256, 249) and set(m.ravel().tolist()) <= {0, 1, 2, 3, 4}, (m.shape, set(m.ravel().tolist()))
t = list(csv.DictReader(open('$WORK/litho/targets.csv')))
assert len(t) == 10 and [r['rank'] for r in t[:5]] == ['1', '2', '3', '4', '5'], t"
  refuse "lithology refuses a map larger than its image at the scale" "does not fit" "$CLEAVE" lithology "$L/low/Sandstone_Versa0100.tif" \
      --train-image "$L/low/Sandstone_Versa0000.tif" --train-labels "$L/labels/Sandstone_Versa0000.tif" --scale 2 --block 64 --out "$WORK/litho-bad"
  refuse "lithology refuses unpaired training files" "in pairs" "$CLEAVE" lithology "$L/low/Sandstone_Versa0100.tif" \
      --train-image "$L/low/Sandstone_Versa0000.tif" "$L/low/Sandstone_Versa0200.tif" --train-labels "$L/labels/Sandstone_Versa0000.tif" --out "$WORK/litho-bad"
  refuse "lithology refuses a block that is not a multiple of the scale" "block 30" "$CLEAVE" lithology "$L/low/Sandstone_Versa0100.tif" \
      --train-image "$L/low/Sandstone_Versa0000.tif" --train-labels "$L/labels/Sandstone_Versa0000.tif" --block 30 --out "$WORK/litho-bad"
else
  echo "skip register checks: $SAND is missing"
fi

# --- OME-Zarr (issue 20): convert, info, sample --kind fibsem, bad input, interop --------------
Z="$WORK/zarr"; mkdir -p "$Z"
check "sample --kind fibsem writes OME-Zarr" "$CLEAVE" sample --kind fibsem --size 12x96x80 --seed 4 --chunk 4x32x32 --out "$Z/fib.ome.zarr"
"$CLEAVE" info --json "$Z/fib.ome.zarr" > "$Z/fib.json" 2>/dev/null
pycheck "info reads the OME-Zarr volume (2 channels, nm scale, labels)" "
import json; d = json.load(open('$Z/fib.json'))
assert (d['format'], d['width'], d['height'], d['depth'], d['channels'], d['pixelType']) == ('ome-zarr', 80, 96, 12, 2, 'uint16'), d
assert d['spacing']['unit'] == 'nm' and d['spacing']['z'] == 10, d
assert d['metadata']['labels'] == 'truth', d"
check "convert OME-Zarr -> TIFF" "$CLEAVE" convert "$Z/fib.ome.zarr" "$Z/fib.tif"
check "convert TIFF -> OME-Zarr (NGFF 0.5, blosc)" "$CLEAVE" convert "$Z/fib.tif" "$Z/fib-v3.ome.zarr" --ngff 0.5 --codec blosc --chunk 4x32x32
check "convert OME-Zarr (v3) -> TIFF" "$CLEAVE" convert "$Z/fib-v3.ome.zarr" "$Z/fib-v3.tif"
pycheck "TIFF -> OME-Zarr -> TIFF keeps every value" "
import tifffile, numpy as np
a = tifffile.imread('$Z/fib.tif'); b = tifffile.imread('$Z/fib-v3.tif')
assert a.shape == b.shape and a.dtype == b.dtype == np.uint16 and np.array_equal(a, b), (a.shape, b.shape)"
cp -r "$Z/fib.ome.zarr" "$Z/absurd.ome.zarr"
sed -i 's/"shape": \[2, 12, 96, 80\]/"shape": [2, 12, 96000000000000, 80000000000000]/' "$Z/absurd.ome.zarr/0/.zarray"
refuse "absurd .zarray shape is refused" "shape.*(overflow|at most)" "$CLEAVE" convert "$Z/absurd.ome.zarr" "$Z/absurd.tif"
cp -r "$Z/fib.ome.zarr" "$Z/cut.ome.zarr"; head -c 50 "$Z/fib.ome.zarr/0/1/1/1/1" > "$Z/cut.ome.zarr/0/1/1/1/1"
refuse "truncated chunk is refused" "chunk 1/1/1/1 is corrupt or truncated" "$CLEAVE" convert "$Z/cut.ome.zarr" "$Z/cut.tif"
[ ! -e "$Z/cut.tif" ] && ok "no output after a corrupt chunk" || bad "no output after a corrupt chunk"
cp -r "$Z/fib.ome.zarr" "$Z/codec.ome.zarr"; sed -i 's/"id": "zstd"/"id": "lzma"/' "$Z/codec.ome.zarr/0/.zarray"
refuse "unsupported codec is named" "codec \"lzma\" is not supported" "$CLEAVE" info "$Z/codec.ome.zarr"
# kill -9 in the middle of writing: every chunk file present is whole (temporary name + rename),
# so the partial volume reads (unwritten chunks = fill value) with no corrupt chunk.
"$CLEAVE" sample --kind fibsem --size 32x512x512 --chunk 8x64x64 --out "$Z/killed.ome.zarr" > /dev/null 2>&1 &
kpid=$!; sleep 1.5; kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
if [ -d "$Z/killed.ome.zarr/0" ]; then
  check "a volume killed mid-write reads: only whole chunks" "$CLEAVE" convert "$Z/killed.ome.zarr" "$Z/killed.tif"
else
  echo "skip kill -9 check: the writer was killed before it created level 0"
fi
if python3 -c 'import zarr, ome_zarr, numcodecs, tifffile' 2>/dev/null; then
  check "zarr-python 3 and ome-zarr read Cleave's OME-Zarr images and labels" python3 Tests/cli/zarr_interop.py "$CLEAVE" "$Z/interop" cleave-written
  check "Cleave reads zarr-python's arrays (v2/v3, gzip/zstd/blosc) with identical values" python3 Tests/cli/zarr_interop.py "$CLEAVE" "$Z/interop" python-written
else
  echo "skip OME-Zarr interop checks: zarr and ome-zarr are not installed (python3 -m pip install zarr ome-zarr; .ci/run installs them)"
fi

# --- block runner (issue 20 part 2): predict on OME-Zarr block by block, kill -9 + resume, --blocks i/N
blocks_out=$(bash Tests/cli/blocks.sh "$CLEAVE" "$WORK/blocks" 2>&1)
echo "$blocks_out" | grep -E '^(ok|FAIL|     |note)'
passed=$((passed + $(echo "$blocks_out" | grep -c '^ok')))
failed=$((failed + $(echo "$blocks_out" | grep -c '^FAIL')))
echo "$blocks_out" | grep -q '^blocks: ' || bad "block runner checks ran to the end" "$(echo "$blocks_out" | tail -n 2)"

# --- objects block by block (issue 20): = the whole volume, kill -9 + resume, --blocks i/N
objblocks_out=$(bash Tests/cli/objects_blocks.sh "$CLEAVE" "$WORK/objblocks" 2>&1)
echo "$objblocks_out" | grep -E '^(ok|FAIL|     |note)'
passed=$((passed + $(echo "$objblocks_out" | grep -c '^ok')))
failed=$((failed + $(echo "$objblocks_out" | grep -c '^FAIL')))
echo "$objblocks_out" | grep -q '^objects blocks: ' || bad "objects block checks ran to the end" "$(echo "$objblocks_out" | tail -n 2)"

# --- cleave submit (issue 20 part 3): what needs no Slurm; the real array: Tests/slurm/array.sh --
refuse "submit without Slurm: one line, nothing written" "Slurm's sbatch was not found on PATH" \
  env PATH=/nonexistent "$(realpath "$CLEAVE")" submit --tasks 4 -- predict --model "$WORK/unet.json" --out "$Z/submit-none" "$Z/fib.ome.zarr"
[ ! -e "$Z/submit-none" ] && ok "a submission without Slurm writes nothing" || bad "a submission without Slurm writes nothing"
refuse "submit refuses a command that does not run in blocks" "cleave sample. does not run in blocks.*predict" \
  "$CLEAVE" submit --tasks 4 --dry-run -- sample --kind fibsem --out "$Z/x.ome.zarr"
refuse "submit refuses --tasks 0" "tasks must be at least 1" "$CLEAVE" submit --tasks 0 --dry-run -- predict --model "$WORK/unet.json" --out "$Z/s" "$Z/fib.ome.zarr"
refuse "submit without a command says how to give one" "after --" "$CLEAVE" submit --tasks 2 --dry-run
if "$CLEAVE" predict --help 2>&1 | grep -q -- '--blocks'; then
  refuse "submit refuses a bad --time" "time 2h: expected Slurm.s" "$CLEAVE" submit --tasks 4 --time 2h --dry-run -- \
    predict --model "$WORK/unet.json" --out "$Z/s" "$Z/fib.ome.zarr"
  refuse "submit refuses a missing volume before submitting" "nothing.ome.zarr" "$CLEAVE" submit --tasks 4 --dry-run -- \
    predict --model "$WORK/unet.json" --out "$Z/s" "$Z/nothing.ome.zarr"
  refuse "submit refuses an inner --blocks" "own --blocks" "$CLEAVE" submit --tasks 4 --dry-run -- \
    predict --model "$WORK/unet.json" --out "$Z/s" --blocks 0/2 "$Z/fib.ome.zarr"
  dry=$("$CLEAVE" submit --tasks 4 --dry-run -- predict --model "$WORK/unet.json" --out "$Z/submit dry" "$Z/fib.ome.zarr" 2>/dev/null)
  if echo "$dry" | grep -q -- '#SBATCH --array=0-3' && echo "$dry" | grep -qF -- '--blocks "$SLURM_ARRAY_TASK_ID/4"' \
     && echo "$dry" | grep -qF -- "--out '$Z/submit dry'" && [ ! -e "$Z/submit dry" ]; then
    ok "submit --dry-run prints the array, merge and submit scripts and writes nothing"
  else bad "submit --dry-run prints the array, merge and submit scripts and writes nothing" "$(echo "$dry" | head -n 12)"; fi
else
  echo "skip cleave submit --dry-run checks: cleave predict has no --blocks yet"
  refuse "submit says when predict has no --blocks" "no --blocks option" "$CLEAVE" submit --tasks 4 --dry-run -- \
    predict --model "$WORK/unet.json" --out "$Z/s" "$Z/fib.ome.zarr"
fi

# --- workbench accounts, backup and restore (issue 23) ----------------------------------------
# (Sessions, roles and the page are checked against a running server in Tests/browser/accounts.py.)
A="$WORK/accounts"; mkdir -p "$A/data"
refuse "user add: an empty standard input is refused" "no password on standard input" sh -c "\"$CLEAVE\" user add ada --admin --data \"$A/data\" < /dev/null"
refuse "user add: a short password is refused" "password is too short: at least 8 characters" sh -c "printf 'short\n' | \"$CLEAVE\" user add ada --data \"$A/data\""
refuse "user add: a bad name is refused" "name .* is not allowed" sh -c "printf 'long enough password\n' | \"$CLEAVE\" user add 'a b' --data \"$A/data\""
check "user list: no accounts yet" sh -c "\"$CLEAVE\" user list --data \"$A/data\" | grep -q 'no accounts'"
refuse "serve --host 0.0.0.0 without accounts is refused" "create an account first: cleave user add" "$CLEAVE" serve --host 0.0.0.0 --port 18093 --data "$A/data"
check "user add ada --admin" sh -c "printf 'long enough password\n' | \"$CLEAVE\" user add ada --admin --data \"$A/data\""
refuse "user add: a taken name is refused" "a user named ADA already exists" sh -c "printf 'long enough password\n' | \"$CLEAVE\" user add ADA --data \"$A/data\""
check "user list shows ada as admin" sh -c "\"$CLEAVE\" user list --data \"$A/data\" | grep -q '^ada	admin	'"
check "user passwd" sh -c "printf 'another long password\n' | \"$CLEAVE\" user passwd ada --data \"$A/data\""
refuse "user passwd: unknown name" "no user named bob" sh -c "printf 'another long password\n' | \"$CLEAVE\" user passwd bob --data \"$A/data\""
check "backup a data directory" "$CLEAVE" backup --data "$A/data" --out "$A/backup"
refuse "backup never overwrites" "already exists and is not empty" "$CLEAVE" backup --data "$A/data" --out "$A/backup"
refuse "backup of a directory without a database" "is not a workbench data directory" "$CLEAVE" backup --data "$A/none" --out "$A/backup2"
refuse "restore of something that is not a backup" "is not a Cleave backup" "$CLEAVE" restore "$A/data" --data "$A/restored"
check "restore into a new directory" "$CLEAVE" restore "$A/backup" --data "$A/restored"
check "the restored directory has the account" sh -c "\"$CLEAVE\" user list --data \"$A/restored\" | grep -q '^ada	admin	'"
# --database (PostgreSQL): a server that cannot be used is one line naming --database, at once
# (the runs against a real PostgreSQL server are Tests/postgres/cli.sh, from .ci/run).
refuse "serve --database: an unreachable server" "database: cannot connect to PostgreSQL at 127.0.0.1:1 \(database x\)" "$CLEAVE" serve --database postgres://u:pw@127.0.0.1:1/x --data "$A/pg" --port 18094
refuse "serve --database: not a PostgreSQL URL" "database: mysql://u@h/x is not a PostgreSQL URL" "$CLEAVE" serve --database mysql://u@h/x --data "$A/pg" --port 18094
refuse "user list --database: an unreachable server" "database: cannot connect to PostgreSQL" "$CLEAVE" user list --database postgres://u@127.0.0.1:1/x --data "$A/data"
check "user remove" "$CLEAVE" user remove ada --data "$A/data"
refuse "user remove: unknown name" "no user named ada" "$CLEAVE" user remove ada --data "$A/data"

# import-project: a project export zip written by Python's zipfile (deflate; the reference reader)
# becomes a new project; hostile archives are one line and leave no project behind.
I="$WORK/import"; mkdir -p "$I/data"
python3 - "$tile" "$I" <<'PY'
import hashlib, io, json, sys, zipfile
import numpy as np, tifffile
tile, out = sys.argv[1], sys.argv[2]
raw = open(tile, "rb").read()
image = tifffile.imread(tile)
h, w = image.shape[-2:]
labels = np.zeros((h, w), np.uint8); labels[:8, :8] = 1
provenance = np.zeros((h, w), np.uint8); provenance[:8, :8] = 1   # weak: from a result, not restorable
def tif(a):
    b = io.BytesIO(); tifffile.imwrite(b, a); return b.getvalue()
meta = {"format": "cleave-reference-data", "formatVersion": 2, "cleaveVersion": "python", "exportedAt": "2026-12-07T12:00:00.000Z",
        "project": {"id": "p1", "name": "From Python"}, "classes": [{"value": 1, "name": "grain", "colour": "#ff0000"}],
        "images": [{"id": "i1", "name": "tile.tif", "sha256": hashlib.sha256(raw).hexdigest(), "width": int(w), "height": int(h),
                    "image": "images/i1.tif", "labels": "labels/i1.tif", "provenance": "provenance/i1.tif", "strokes": "strokes/i1.json"}]}
entries = {"metadata.json": json.dumps(meta).encode(), "images/i1.tif": raw, "labels/i1.tif": tif(labels),
           "provenance/i1.tif": tif(provenance), "strokes/i1.json": b"[]"}
with zipfile.ZipFile(f"{out}/good.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in entries.items(): z.writestr(name, data)
with zipfile.ZipFile(f"{out}/evil.zip", "w") as z:
    for name, data in entries.items(): z.writestr(name, data)
    z.writestr("../../evil.sh", b"rm -rf ~")
with zipfile.ZipFile(f"{out}/newer.zip", "w") as z:
    for name, data in entries.items(): z.writestr(name, data if name != "metadata.json" else json.dumps({**meta, "formatVersion": 9}).encode())
open(f"{out}/short.zip", "wb").write(open(f"{out}/good.zip", "rb").read()[:-40])
PY
check "import-project: a deflated export from Python's zipfile" sh -c "\"$CLEAVE\" import-project \"$I/good.zip\" --data \"$I/data\" | grep -q 'project \"From Python (imported)\".*1 images, 1 classes, 0 strokes'"
check "import-project: a second import gets the next suffix" sh -c "\"$CLEAVE\" import-project \"$I/good.zip\" --data \"$I/data\" | grep -q 'From Python (imported 2)'"
refuse "import-project: a .. name is refused" 'climbs out of the archive with \.\.; refused \(path traversal\)' "$CLEAVE" import-project "$I/evil.zip" --data "$I/data"
refuse "import-project: a newer format is refused" "formatVersion 9 was written by a newer Cleave" "$CLEAVE" import-project "$I/newer.zip" --data "$I/data"
refuse "import-project: a truncated zip is refused" "truncated zip archive" "$CLEAVE" import-project "$I/short.zip" --data "$I/data"
refuse "import-project: not a zip" "not a zip archive" "$CLEAVE" import-project "$tile" --data "$I/data"
pycheck "import-project: two projects, nothing from the refused ones" "import sqlite3, os, sys; d = sys.argv[1]; n = sqlite3.connect(d + '/cleave.sqlite').execute('SELECT COUNT(*) FROM projects').fetchone()[0]; assert n == 2, n; assert os.listdir(d + '/tmp') == [], os.listdir(d + '/tmp')" "$I/data"
check "user add for the import" sh -c "printf 'long enough password\n' | \"$CLEAVE\" user add ada --data \"$I/data\""
refuse "import-project: accounts need --owner" "has accounts: give --owner NAME" "$CLEAVE" import-project "$I/good.zip" --data "$I/data"
check "import-project --owner ada" sh -c "\"$CLEAVE\" import-project \"$I/good.zip\" --data \"$I/data\" --owner ada --name 'Ada owns this' | grep -q 'Ada owns this'"

# --- one vocabulary: old spellings still work for one release and say so (issue 24) ------------
# Each old spelling must give the same outputs as the new one, plus one note on standard error.
# same NAME NOTE-PATTERN FILE-OLD FILE-NEW COMMAND-OLD… : the command (old spelling) succeeds,
# prints the note, and FILE-OLD equals FILE-NEW (written before by the new spelling).
same() {
  local name=$1 note=$2 old=$3 new=$4; shift 4; local err
  if ! err=$("$@" 2>&1 >/dev/null); then bad "$name" "$(echo "$err" | tail -n 2)"; return; fi
  if [ "$(echo "$err" | grep -cE "$note")" -ne 1 ]; then bad "$name" "note: $(echo "$err" | grep -v '^\s*$' | head -n 2)"; return; fi
  if ! cmp -s "$old" "$new"; then bad "$name" "$old differs from $new"; return; fi
  ok "$name"
}
V="$WORK/vocabulary"; mkdir -p "$V"
check "locate --cluster-method agglomerative" "$CLEAVE" locate "$tile" --out "$V/new" --grid 4x4 --clusters 2 --cluster-method agglomerative --no-pictures
same "locate --method (old) = --cluster-method, with a note" "note: cleave locate --method is now --cluster-method; the old spelling is accepted until Cleave 0.2" \
  "$V/old/patches.csv" "$V/new/patches.csv" \
  "$CLEAVE" locate "$tile" --out "$V/old" --grid 4x4 --clusters 2 --method agglomerative --no-pictures
check "objects --clusters" "$CLEAVE" objects "$tile" --threshold 8000 --clusters 2 --on area,eccentricity --out "$V/obj-new"
same "objects --cluster (old) = --clusters, with a note" "note: cleave objects --cluster is now --clusters" \
  "$V/obj-old/objects.csv" "$V/obj-new/objects.csv" \
  "$CLEAVE" objects "$tile" --threshold 8000 --cluster 2 --on area,eccentricity --out "$V/obj-old"
check "features --glcm-levels" "$CLEAVE" features "$tile" --out "$V/feat-new" --features texture --scales 1.6 --texture-range 0:65535 --glcm-levels 8
same "features --texture-levels (old) = --glcm-levels, with a note" "note: cleave features --texture-levels is now --glcm-levels" \
  "$V/feat-old/$(ls "$V/feat-new" | grep '\.tif$' | head -n 1)" "$V/feat-new/$(ls "$V/feat-new" | grep '\.tif$' | head -n 1)" \
  "$CLEAVE" features "$tile" --out "$V/feat-old" --features texture --scales 1.6 --texture-range 0:65535 --texture-levels 8
# train: the old σ and patch spellings reach the new options (their own checks answer, in the new words).
refuse "train --flatten SIGMA (old) is --flatten-sigma" "^Error: --flatten-sigma 0.5: σ must be 1…10000 pixels" \
  "$CLEAVE" train --method unet --image "$tile" --labels "$tile" --model "$V/u.json" --flatten 0.5
check "train --flatten SIGMA (old) prints one note" sh -c "\"$CLEAVE\" train --method unet --image \"$tile\" --labels \"$tile\" --model \"$V/u.json\" --flatten 0.5 2>&1 | grep -c 'note: cleave train --flatten SIGMA is now --flatten-sigma SIGMA' | grep -qx 1"
refuse "train --norm (old) is --layer-norm, with a note" "^Error: --layer-norm bogus" \
  "$CLEAVE" train --method unet --image "$tile" --labels "$tile" --model "$V/u.json" --norm bogus
check "train --norm (old) prints one note" sh -c "\"$CLEAVE\" train --method unet --image \"$tile\" --labels \"$tile\" --model \"$V/u.json\" --norm bogus 2>&1 | grep -c 'note: cleave train --norm is now --layer-norm' | grep -qx 1"
refuse "train --patch (old) is --patch-size" "^Error: --patch-size 30: must be a multiple of 2\^\(depth−1\) = 4" \
  "$CLEAVE" train --method unet --image "$tile" --labels "$tile" --model "$V/u.json" --patch 30
check "train --flatten none (old) is --no-flatten, with a note" sh -c "\"$CLEAVE\" train --method unet --image \"$tile\" --labels \"$tile\" --model \"$V/u.json\" --flatten none --patch-size 30 2>&1 | grep -q 'note: cleave train --flatten none is now --no-flatten'"
[ ! -e "$V/u.json" ] && ok "refused trainings wrote no model" || bad "refused trainings wrote no model"
if [ -f "$WORK/raw.json" ]; then  # trained above on sandstone with --normalize none
  same "train --normalise (old) = --normalize, with a note" "note: cleave train --normalise is now --normalize" \
    "$WORK/raw-old.json" "$WORK/raw.json" \
    "$CLEAVE" train --image "$S/images/Sandstone_Versa0000.tif" --labels "$S/labels/Sandstone_Versa0000.tif" \
      --pixels-per-class 200 --trees 5 --seed 1 --normalise none --model "$WORK/raw-old.json"
fi

summary cli
