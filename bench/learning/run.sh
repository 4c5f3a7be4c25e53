#!/usr/bin/env bash
# CleaveLearning benchmark: k-means on 16.7 M sliding-window feature rows (fit on a 1 % sample,
# assign all) and re-clustering 100 k patches x 30 features with a new k; Cleave and
# scikit-learn on the same float32 files in the same run. Prints times and ratios.
#   bench/learning/run.sh            (data cached in $DATA, default /tmp/cleave-bench-learning)
set -euo pipefail
cd "$(dirname "$0")"
DATA=${DATA:-/tmp/cleave-bench-learning}
mkdir -p "$DATA"
[ -f "$DATA/sliding.f32" ] && [ -f "$DATA/patches.f32" ] || python3 make_data.py "$DATA"
swift build -c release 2>&1 | tail -1
BIN=.build/release/learning-bench
OUT=$(mktemp)
{
  $BIN assign "$DATA/sliding.f32" 16777216 4 4 167772 | sed 's/^TIME /TIME cleave /'
  python3 reference.py assign "$DATA/sliding.f32" 16777216 4 4 167772 | sed 's/^TIME /TIME sklearn /'
  $BIN recluster "$DATA/patches.f32" 100000 30 3 8 | sed 's/^TIME /TIME cleave /'
  python3 reference.py recluster "$DATA/patches.f32" 100000 30 3 8 | sed 's/^TIME /TIME sklearn /'
  $BIN agglomerative "$DATA/patches.f32" 100000 30 6 5000 | sed 's/^TIME /TIME cleave /'
  python3 reference.py agglomerative "$DATA/patches.f32" 100000 30 6 5000 | sed 's/^TIME /TIME sklearn /'
} | tee "$OUT" | grep -v '^TIME'
echo
echo "uptime: $(uptime)"
awk '/^TIME cleave/ {c[$3] = $4} /^TIME sklearn/ {s[$3] = $4}
     END {for (k in c) if (k in s) printf "%-26s cleave %8.1f ms   sklearn %8.1f ms   sklearn/cleave %6.1fx\n", k, c[k] * 1000, s[k] * 1000, s[k] / c[k]}' "$OUT" | sort
rm -f "$OUT"
