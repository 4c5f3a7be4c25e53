#!/usr/bin/env bash
# Objects benchmark: label + measure every object of a 4096×4096 mask (~19 000 grains),
# Cleave vs scikit-image (label + regionprops_table with the same properties), same run.
#   bench/objects/run.sh            (from the repository root or anywhere)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${TMPDIR:-/tmp}/cleave-bench-objects"
mkdir -p "$data"
mask="$data/mask.png"
[ -f "$mask" ] || python3 "$here/make_data.py" "$mask"
(cd "$root" && swift build -c release --product cleave >/dev/null)
cleave="$root/.build/release/cleave"

echo "== Cleave (label + measure, in process; then all outputs written)"
cleave_best=""
for run in 1 2 3; do
  start=$(date +%s.%N)
  line=$("$cleave" objects "$mask" --connectivity 2 --out "$data/out" --timing 2>/dev/null | grep "label+measure")
  end=$(date +%s.%N)
  seconds=$(echo "$line" | awk '{print $3}')
  printf "run %d: label+measure %s s, whole command (read, measure, CSV, GeoJSON, TIFF, PNG) %.3f s\n" "$run" "$seconds" "$(echo "$end - $start" | bc)"
  if [ -z "$cleave_best" ] || (( $(echo "$seconds < $cleave_best" | bc) )); then cleave_best=$seconds; fi
done
echo "objects: $(($(wc -l < "$data/out/objects.csv") - 1))"

echo "== scikit-image $(python3 -c 'import skimage; print(skimage.__version__)')"
py=$(python3 "$here/reference.py" "$mask")
echo "$py"
py_total=$(echo "$py" | sed -E 's/.*total ([0-9.]+) s.*/\1/')
echo "== ratio (scikit-image total / Cleave best label+measure): $(echo "scale=1; $py_total / $cleave_best" | bc)x"
