#!/usr/bin/env bash
# Slurm check (issue 20 part 3): a 4-task `cleave submit` array on a real slurmctld/slurmd equals
# the single-process `cleave predict` byte for byte (checksums of every chunk, every level, the
# metadata and the summary files). Also: a cancelled array task fails the merge with a message
# naming the task, and submitting the same command again finishes the job (finished blocks
# kept) with the same bytes. Work folder: a path with a space and a quote.
#
#   bash Tests/slurm/start-slurm.sh          # a one-node cluster on this host (root)
#   bash Tests/slurm/array.sh .build/release/cleave
#
# Prints one line per check and closes with "slurm: N passed, N failed". Skips (exit 0) with a
# message when this cleave's predict has no --blocks (the block runner).
set -u
cd "$(dirname "$0")/../.."
CLEAVE=$(realpath "${1:-.build/release/cleave}")
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
bad()  { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }
check() { local name=$1; shift; local out; if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$(echo "$out" | tail -n 3)"; fi; }
finish() { echo "slurm: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

[ -x "$CLEAVE" ] || { echo "slurm: no binary at ${1:-.build/release/cleave}"; bad "cleave binary"; finish; }
if ! "$CLEAVE" predict --help 2>&1 | grep -q -- '--blocks'; then
  echo "slurm: skip: cleave predict has no --blocks yet (the block runner, issue 20 part 2), so there is nothing to split into array tasks"
  exit 0
fi
if ! sinfo -h >/dev/null 2>&1; then
  echo "slurm: no Slurm cluster answers sinfo; start one with: bash Tests/slurm/start-slurm.sh"
  bad "a Slurm cluster is up"; finish
fi

WORK=$(mktemp -d "/tmp/cleave slurm 'x'.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# Checksums of every file of an output folder but the block journal and the job scripts/logs.
sums() { (cd "$1" && find . -type f ! -path '*/.cleave-blocks/*' ! -path './slurm/*' | LC_ALL=C sort | xargs -d '\n' md5sum); }

check "sample a FIB-SEM volume" "$CLEAVE" sample --kind fibsem --size 24x200x240 --seed 3 --chunk 8x32x32 --out vol.ome.zarr
check "train a small forest on it" "$CLEAVE" train --image vol.ome.zarr --labels vol.ome.zarr/labels/truth --model "forest 'a'.json" \
  --trees 6 --pixels-per-class 300 --features gaussian,gradient_magnitude,hessian_eigenvalues --scales 0,1,2
check "single-process predict" "$CLEAVE" predict --model "forest 'a'.json" --out single --block-size 64 vol.ome.zarr
sums single > single.sums

# --- a 4-task array with --wait -------------------------------------------------------------------
out=$("$CLEAVE" submit --tasks 4 --wait --time 00:10:00 -- predict --model "forest 'a'.json" --out "array \"4\"" --block-size 64 vol.ome.zarr 2>&1)
status=$?
if [ $status -eq 0 ] && echo "$out" | grep -q "COMPLETED"; then ok "submit --tasks 4 --wait: merge job COMPLETED"
else bad "submit --tasks 4 --wait: merge job COMPLETED" "$(echo "$out" | tail -n 4)"; fi
sums "array \"4\"" > array.sums
chunks=$(grep -c '/0/' single.sums)
if [ "$chunks" -gt 10 ] && cmp -s single.sums array.sums; then ok "4-task array == single process, byte for byte ($(wc -l < single.sums) files, $chunks level-0 chunks)"
else bad "4-task array == single process, byte for byte" "$(diff single.sums array.sums | head -n 4)"; fi
logs=$(ls "array \"4\""/slurm/logs/predict-*_[0-3].out 2>/dev/null | wc -l)
merge_log=$(ls "array \"4\""/slurm/logs/predict-merge-*.out 2>/dev/null | head -n 1)
[ "$logs" -eq 4 ] && [ -n "$merge_log" ] && grep -q "share" "array \"4\""/slurm/logs/predict-*_0.out \
  && ok "one log per array task (4) and one for the merge" || bad "one log per array task (4) and one for the merge" "$(ls "array \"4\""/slurm/logs)"
grep -q -- '--blocks "$SLURM_ARRAY_TASK_ID/4"' "array \"4\""/slurm/predict-array.sh && [ -x "array \"4\""/slurm/predict-submit.sh ] \
  && ok "job scripts written next to the output" || bad "job scripts written next to the output"

# --- a cancelled task: the merge is cancelled and named; submitting again finishes -------------
# A job holding the whole node keeps the array pending, so that task 3 is cancelled before it runs.
blocker=$(sbatch --parsable --exclusive --job-name=cleave-test-blocker --output=/dev/null --wrap 'sleep 120')
for _ in $(seq 100); do [ "$(squeue -h -j "$blocker" -o %T)" = RUNNING ] && break; sleep 0.2; done
"$CLEAVE" submit --tasks 4 --wait --poll-interval 0.5 -- predict --model "forest 'a'.json" --out cancelled --block-size 64 vol.ome.zarr > cancel.out 2>&1 &
waiter=$!
array=""
for _ in $(seq 100); do
  array=$(sed -n 's/^submitted array job \([0-9]*\).*/\1/p' cancel.out)
  [ -n "$array" ] && break
  sleep 0.1
done
[ -n "$array" ] && scancel "${array}_3"
scancel "$blocker"
wait $waiter; status=$?
if [ $status -ne 0 ] && grep -qE "merge job [0-9]+ ended CANCELLED \(DependencyNeverSatisfied\); array task 3 (CANCELLED|never ran)" cancel.out \
   && grep -qF "resubmit with sh" cancel.out; then
  ok "a cancelled array task: --wait exits non-zero and names task 3 and how to resubmit"
else
  bad "a cancelled array task: --wait exits non-zero and names task 3 and how to resubmit" "$(tail -n 3 cancel.out)"
fi
[ -e cancelled/vol-labels.ome.zarr/.cleave-blocks ] && [ ! -e cancelled/class-fractions.csv ] \
  && ok "without the merge the output is not finished (no summary yet)" || bad "without the merge the output is not finished (no summary yet)" "$(ls cancelled)"
check "submitting the same command again finishes the job" "$CLEAVE" submit --tasks 4 --wait -- predict --model "forest 'a'.json" \
  --out cancelled --block-size 64 vol.ome.zarr
sums cancelled > cancelled.sums
cmp -s single.sums cancelled.sums && ok "cancelled + resubmitted == single process, byte for byte" \
  || bad "cancelled + resubmitted == single process, byte for byte" "$(diff single.sums cancelled.sums | head -n 4)"
finish
