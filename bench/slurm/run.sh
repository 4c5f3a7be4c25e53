#!/usr/bin/env bash
# Slurm array vs one process: throughput per array task and the merge time of
# `cleave submit --tasks 4 --wait -- predict …` against `cleave predict …` on the same volume.
#
#   bash Tests/slurm/start-slurm.sh                 # the one-node cluster on this host (root)
#   bench/slurm/run.sh [SIZE] [TASKS]               (default 32x1024x1024, 4; SKIP_BUILD=1 uses
#                                                     the binary already built; CLEAVE=path
#                                                     another binary)
#
# Three runs of the same prediction (forest, block size 256, two-channel synthetic FIB-SEM
# volume in OME-Zarr, 8x128x128 chunks), each timed as a user types it, all outputs on
# (labels + pyramid + overlay + class-fractions.csv):
#   1. one process:        cleave predict --model M --out single VOL         (/usr/bin/time -v)
#   2. the shares by hand: cleave predict … --blocks i/N, one after the other with
#                          CLEAVE_THREADS=1 (as an array task with one CPU runs), then the merge
#                          (the same command without --blocks) — exact wall/CPU per task and merge
#   3. the real array:     cleave submit --tasks N --wait -- predict …       (wall end to end, with
#                          scheduling), each task's and the merge job's RunTime from scontrol (1 s)
# and checks that all three outputs are identical (checksums of every chunk). Prints the load
# (uptime) next to every number: timings taken while others build are indicative only.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE="${1:-32x1024x1024}"
TASKS="${2:-4}"
OUT=$(realpath -m bench/out/slurm)
mkdir -p "$OUT"
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product cleave 2>&1 | tail -n 1
CLEAVE=$(realpath "${CLEAVE:-.build/release/cleave}")
grep -q -- --blocks <<< "$("$CLEAVE" predict --help)" || { echo "bench: cleave predict has no --blocks (the block runner)"; exit 1; }
sinfo -h >/dev/null 2>&1 || { echo "bench: no Slurm cluster answers; bash Tests/slurm/start-slurm.sh"; exit 1; }
cd "$OUT"
vol="fib-$SIZE.ome.zarr"
[ -d "$vol" ] || "$CLEAVE" sample --kind fibsem --size "$SIZE" --seed 1 --chunk 8x128x128 --out "$vol" > /dev/null 2>&1
[ -d train.ome.zarr ] || "$CLEAVE" sample --kind fibsem --size 24x256x256 --seed 2 --chunk 8x128x128 --out train.ome.zarr > /dev/null 2>&1
[ -f forest.json ] || "$CLEAVE" train --image train.ome.zarr --labels train.ome.zarr/labels/truth --model forest.json \
  --trees 20 --pixels-per-class 2000 > /dev/null 2>&1
voxels=$(python3 -c "import math; print(math.prod(int(v) for v in '$SIZE'.split('x')))")
predict=(predict --model forest.json --block-size 256)
sums() { (cd "$1" && find . -type f ! -path '*/.cleave-blocks/*' ! -path './slurm/*' | LC_ALL=C sort | xargs -d '\n' md5sum); }
# timed LABEL COMMAND…: prints "wall_s cpu_s peak_MiB" of one run, measured by /usr/bin/time -v.
timed() {
  local log="$OUT/time-$1.txt"; shift
  /usr/bin/time -v "$@" > "$log.out" 2> "$log"
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = (n == 3) ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2] }
              /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { m = $2 }
              END { printf "%.2f %.2f %.0f", w, u + s, m / 1024 }' "$log"
}
load() { uptime | sed -E 's/.*load average: ([0-9.]+).*/\1/'; }
mvox() { python3 -c "print(f'{$voxels / 1e6 / $1:.2f}')"; }
share_mvox() { python3 -c "print(f'{$voxels / $TASKS / 1e6 / $1:.2f}')"; }

echo "volume $SIZE x 2 channels uint16 ($((voxels / 1000000)) Mvoxels), chunks 8x128x128, forest 20 trees, block size 256, $(nproc) cores, $TASKS tasks"
rm -rf single shares array
l=$(load); read -r w c m <<< "$(timed single "$CLEAVE" "${predict[@]}" --out single "$vol")"
single_wall=$w
echo "one process (all cores):        wall $w s, CPU $c s, peak $m MiB: $(mvox "$w") Mvoxel/s wall, $(mvox "$c") Mvoxel per CPU-s   [load $l]"
sums single > single.sums

total_cpu=0
for ((i = 0; i < TASKS; i++)); do
  l=$(load); read -r w c m <<< "$(CLEAVE_THREADS=1 timed "share$i" "$CLEAVE" "${predict[@]}" --out shares --blocks "$i/$TASKS" "$vol")"
  echo "share $i/$TASKS by hand (1 thread): wall $w s, CPU $c s, peak $m MiB: $(share_mvox "$w") Mvoxel/s wall, $(share_mvox "$c") Mvoxel per CPU-s   [load $l]"
  total_cpu=$(python3 -c "print($total_cpu + $c)")
done
l=$(load); read -r w c m <<< "$(timed merge "$CLEAVE" "${predict[@]}" --out shares "$vol")"
echo "merge (pyramid, summary, all cores): wall $w s, CPU $c s, peak $m MiB   [load $l]"
echo "shares' CPU in total: $total_cpu s"
sums shares > shares.sums
cmp -s single.sums shares.sums && echo "shares + merge == one process: identical ($(wc -l < single.sums) files)" || { echo "bench: shares differ from one process"; exit 1; }

l=$(load); read -r w c m <<< "$(timed array "$CLEAVE" submit --tasks "$TASKS" --wait --poll-interval 0.5 -- "${predict[@]}" --out array "$vol")"
echo "cleave submit --tasks $TASKS --wait (end to end, Slurm on this host): wall $w s = $(python3 -c "print(f'{$w / $single_wall:.2f}')") x one process   [load $l]"
tail -n 1 "$OUT/time-array.txt.out"
array_job=$(sed -n 's/^submitted array job \([0-9]*\).*merge job \([0-9]*\).*/\1 \2/p' "$OUT/time-array.txt.out")
read -r aid mid <<< "$array_job"
scontrol -o show job "$aid" | sed -E 's/.*ArrayTaskId=([0-9]+).*RunTime=([0-9:-]+).*StartTime=([^ ]+) EndTime=([^ ]+).*/task \1: RunTime \2 (\3 → \4)/' | sort
scontrol -o show job "$mid" | sed -E 's/.*RunTime=([0-9:-]+).*StartTime=([^ ]+) EndTime=([^ ]+).*/merge: RunTime \1 (\2 → \3)/'
sums array > array.sums
cmp -s single.sums array.sums && echo "array == one process: identical" || { echo "bench: array differs from one process"; exit 1; }
