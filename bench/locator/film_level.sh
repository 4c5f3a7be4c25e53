#!/bin/bash
# Film level / bar coverage / exposure benchmark (bench/locator/RESULTS.md, "Film level from the
# film's own population"). Usage, from the repository root after `swift build -c release --product cleave`:
#   bench/locator/film_level.sh [OUT]            (OUT defaults to /tmp/cleave-film-level)
# Needs numpy, tifffile, scikit-learn (scoring only). Real-data rows need ../shared/data.
set -u
B=${CLEAVE:-.build/release/cleave}; OUT=${1:-/tmp/cleave-film-level}; HERE=$(dirname "$0"); mkdir -p "$OUT"
D=${DATA:-../shared/data}/tem-microcrystals
score() { python3 "$HERE/score_run.py" "$@"; }
echo "# synthetic bar meshes (seed 1): x = --grid 16x16 --clusters 2 --exclude-dark --compress-tails, d = defaults"
for c in 0.1 0.3 0.5 0.8; do for a in 0 37; do
  s=$OUT/s1-c$c-a$a; [ -d "$s" ] || "$B" sample --out "$s" --bar-coverage $c --bar-angle $a --seed 1 >/dev/null 2>&1
  "$B" locate "$s" --out "$s-x" --grid 16x16 --clusters 2 --exclude-dark --compress-tails --no-pictures >/dev/null 2>&1
  "$B" locate "$s" --out "$s-d" --no-pictures >/dev/null 2>&1
  echo "coverage $c angle $a x $(score "$s-x" "$s")"
  echo "coverage $c angle $a d $(score "$s-d" "$s")"
done; done
echo "# exposure gains 0.6..1.4 (kind film): k2 = --grid 16x16 --clusters 2 --compress-tails, d = defaults"
for seed in 1 2; do
  s=$OUT/e$seed; [ -d "$s" ] || "$B" sample --out "$s" --kind film --exposure-spread 0.4 --seed $seed >/dev/null 2>&1
  for fl in "" "--no-normalize-tiles"; do
    "$B" locate "$s" --out "$s-k2$fl" --grid 16x16 --clusters 2 --compress-tails --no-pictures $fl >/dev/null 2>&1
    "$B" locate "$s" --out "$s-d$fl" --no-pictures $fl >/dev/null 2>&1
    echo "seed $seed k2 $fl $(score "$s-k2$fl" "$s" | cut -c1-80) $(python3 "$HERE/tile_dependence.py" "$s-k2$fl" "$s")"
    echo "seed $seed d $fl $(score "$s-d$fl" "$s" | cut -c1-80) $(python3 "$HERE/tile_dependence.py" "$s-d$fl" "$s")"
  done
done
if [ -d "$D" ]; then
  echo "# real sets"
  python3 "$HERE/film_reference.py" "$D/dataset1-graphite-30kx" "$D/dataset2-graphite-3kx-gridbars" "$D/asbestos-fibres-holey-film" | grep SET
  "$B" locate "$D/dataset1-graphite-30kx" --out "$OUT/d1" --grid 4x4 --truth "$D/dataset1-graphite-30kx/patch-labels.csv" --no-pictures 2>/dev/null | grep -E "film level|ARI"
  "$B" locate "$D/dataset1-graphite-30kx" --out "$OUT/d1s" --grid 4x4 --features study --truth "$D/dataset1-graphite-30kx/patch-labels.csv" --no-pictures 2>/dev/null | grep ARI
  "$B" locate "$D/dataset2-graphite-3kx-gridbars" --out "$OUT/d2" --grid 10x10 --exclude-dark 2>/dev/null | grep -E "film level|tiles scaled|cluster|dark"
  "$B" locate "$D/asbestos-fibres-holey-film" --out "$OUT/asb" --grid 4x4 --no-pictures >/dev/null 2>&1
  echo "asbestos X patches, defaults --grid 4x4: $(score "$OUT/asb" "$D/asbestos-fibres-holey-film/patch-labels.csv")"
fi
