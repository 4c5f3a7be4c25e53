#!/bin/bash
# Instruction counts (callgrind, one thread) of the two commands that run the GLCM, as a user types
# them: the Locator grid with every patch statistic (per-patch GLCM) and pixel texture features
# (sliding GLCM). Run it with the cleave before and after a change and compare the "Collected" lines.
# valgrind cannot read the DWARF of a release build: the script strips a copy first.
#   bash bench/glcm/callgrind.sh .build/release/cleave TAG
set -euo pipefail
B=$1; T=${2:-run}; D=${CLEAVE_DATA:-$(dirname "$0")/../../../shared/data}/tem-microcrystals/dataset1-graphite-30kx
[ -d "$D" ] || { echo "callgrind.sh: $D is missing (the tem-microcrystals set)"; exit 1; }
OUT=$(mktemp -d); cp "$B" "$OUT/cleave"; strip --strip-debug "$OUT/cleave"
CLEAVE_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$OUT/locate.cg" "$OUT/cleave" locate "$D" --out "$OUT/loc" \
  --grid 8x8 --features all --seed 1 > "$OUT/locate.log" 2>&1
CLEAVE_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$OUT/features.cg" "$OUT/cleave" features "$D/Tile_001-002-000_0-000.tif" \
  --out "$OUT/feat" --features texture --scales 1.6 --texture-range 0:65535 --glcm-levels 16 > "$OUT/features.log" 2>&1
for c in locate features; do echo "$T $c $(grep -o 'Collected : [0-9]*' "$OUT/$c.log")"; done
echo "outputs in $OUT (loc/patches.csv, feat/*.tif); load: $(uptime | sed 's/.*load/load/')"
