#!/bin/bash
# Line check (bench/locator/RESULTS.md, "Fibres: the line check"). Usage, from the repository root after
# `swift build -c release --product cleave`:   bench/locator/line_check.sh [OUT]   (default /tmp/cleave-line-check)
# Runs every set with the defaults and with --no-line-check, scores both, then line_check.py recomputes the
# variants of the check in scipy on the --no-line-check clusterings and prints the leave-one-set-out table.
set -u
B=${CLEAVE:-.build/release/cleave}; OUT=${1:-/tmp/cleave-line-check}; HERE=$(dirname "$0"); mkdir -p "$OUT"
D=${DATA:-../shared/data}/tem-microcrystals
score() { python3 "$HERE/score_run.py" "$@" | cut -c1-150; }
run() { local name=$1; shift; "$B" locate "$@" --out "$OUT/$name-on" --no-pictures > "$OUT/$name-on.txt" 2>&1
        "$B" locate "$@" --out "$OUT/$name-off" --no-pictures --no-line-check > "$OUT/$name-off.txt" 2>&1; }
for c in 0.1 0.3 0.5 0.8; do for a in 0 37; do
  s=$OUT/s1-c$c-a$a; [ -d "$s" ] || "$B" sample --out "$s" --bar-coverage $c --bar-angle $a --seed 1 >/dev/null 2>&1
  run s1-c$c-a$a "$s"
  echo "synthetic coverage $c angle $a: on $(score "$OUT/s1-c$c-a$a-on" "$s") | off $(score "$OUT/s1-c$c-a$a-off" "$s" | cut -c1-60)"
done; done
for seed in 1 2; do
  s=$OUT/e$seed; [ -d "$s" ] || "$B" sample --out "$s" --kind film --exposure-spread 0.4 --seed $seed >/dev/null 2>&1
  run e$seed "$s"
  echo "exposure seed $seed: on $(score "$OUT/e$seed-on" "$s") | off $(score "$OUT/e$seed-off" "$s" | cut -c1-60)"
done
if [ -d "$D" ]; then
  run asbestos "$D/asbestos-fibres-holey-film" --grid 4x4
  echo "asbestos --grid 4x4: on $(score "$OUT/asbestos-on" "$D/asbestos-fibres-holey-film/patch-labels.csv") | off $(score "$OUT/asbestos-off" "$D/asbestos-fibres-holey-film/patch-labels.csv" | cut -c1-60)"
  grep "line check" "$OUT/asbestos-on.txt"
  run dataset1 "$D/dataset1-graphite-30kx" --grid 4x4 --truth "$D/dataset1-graphite-30kx/patch-labels.csv"
  echo "dataset1 --grid 4x4: on $(grep -E 'ARI' "$OUT/dataset1-on.txt") | off $(grep -E 'ARI' "$OUT/dataset1-off.txt" | cut -c1-40)"
  grep "line check" "$OUT/dataset1-on.txt"
  "$B" locate "$D/dataset1-graphite-30kx" --out "$OUT/dataset1-study" --grid 4x4 --features study --truth "$D/dataset1-graphite-30kx/patch-labels.csv" --no-pictures 2>/dev/null | grep -E "ARI" | sed 's/^/dataset1 study features: /'
  run dataset2 "$D/dataset2-graphite-3kx-gridbars" --grid 10x10
  echo "dataset2 --grid 10x10: picked on $(python3 -c "import json;print(json.load(open('$OUT/dataset2-on/summary.json'))['picked_patches'])") off $(python3 -c "import json;print(json.load(open('$OUT/dataset2-off/summary.json'))['picked_patches'])")"
  grep "line check" "$OUT/dataset2-on.txt"
  python3 "$HERE/line_check.py" "$OUT" "${DATA:-../shared/data}"
fi
