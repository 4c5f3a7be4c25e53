#!/usr/bin/env bash
# Peak memory of the commands that read images, on ordinary images and on decompression bombs,
# with Cleave's estimate beside each measurement (issue 19 item 4).
#
#   bench/hostile/run.sh [CLEAVE] [BEFORE_CLEAVE]
#
# Inputs (made in a temporary folder): images of discs of 16 and 64 megapixels (uint8), and the bombs
# of Tests/cli/hostile_files.py (400 MP LZW TIFF, 900 MP and 1.8 GP deflate TIFFs, 1.8 GP with
# shared strips, 1.8 GP PNG). Each command runs as a user types it (pictures and every output on),
# under /usr/bin/time; "estimate" is what the command says it needs (read from its refusal under a
# 1 MB budget). BEFORE_CLEAVE, when given, is an older binary run on the bombs without the budget
# option, under an address-space cap of CAP_GB (default 8) and a BEFORE_SECONDS (90) limit so that it
# cannot take the machine down; a capped run shows as "> cap". The bombs run under a budget of
# AFTER_BUDGET (default 4G, not the default half of the memory: this machine is shared).
set -u
cd "$(dirname "$0")/../.."
CLEAVE=${1:-.build/release/cleave}
BEFORE=${2:-}
CAP_GB=${CAP_GB:-8}
AFTER_BUDGET=${AFTER_BUDGET:-4G}
WORK=$(mktemp -d /tmp/cleave-bench-hostile.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export SWIFT_BACKTRACE=enable=no
python3 Tests/cli/hostile_files.py "$WORK/in" bombs nonfinite >/dev/null
python3 - "$WORK/in" <<'EOF'
import sys, numpy as np, tifffile
rng = np.random.default_rng(1)
for side in (4000, 8000):
    # Discs of radius 20 every 100 px on a noisy background (objects has real objects to measure).
    y, x = np.mgrid[0:side, 0:side]
    discs = ((x % 100 - 50) ** 2 + (y % 100 - 50) ** 2 < 400)
    image = (60 + 120 * discs + rng.normal(0, 15, (side, side))).clip(0, 255).astype(np.uint8)
    tifffile.imwrite(f"{sys.argv[1]}/discs-{side * side // 1_000_000}mp.tif", image)
EOF
"$CLEAVE" train --image "$WORK/in/ramp.tif" --labels "$WORK/in/ramp-labels.tif" --trees 5 --pixels-per-class 200 \
    --model "$WORK/model.json" >/dev/null 2>&1

# commands IMAGE OUT: one line per command, "name<TAB>arguments"
commands() {
  local img=$1 out=$2
  printf 'info\tinfo %s\n' "$img"
  printf 'locate\tlocate %s --out %s/loc --no-exclude-dark\n' "$img" "$out"
  printf 'features\tfeatures %s --out %s/feat --bank fast\n' "$img" "$out"
  printf 'objects\tobjects %s --threshold 128 --out %s/obj\n' "$img" "$out"
  printf 'predict\tpredict --model %s --out %s/pred %s\n' "$WORK/model.json" "$out" "$img"
}

estimate() {  # the command's own estimate, from its refusal under a 1 MB budget
  "$CLEAVE" $1 --memory-budget 1M 2>&1 | grep -oE "needs about [0-9.]+ [GM]iB" | head -n 1 | sed 's/needs about //'
}

measure() {  # peak RSS (MB) and exit status
  /usr/bin/time -f "%M %x" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err"
  local status=$? rss
  rss=$(tail -n 1 "$WORK/time" | cut -d' ' -f1)
  [ -z "$rss" ] && rss=0
  local note=""
  [ $status -ne 0 ] && note=" (exit $status: $(grep -m 1 -oE 'Error: .{0,60}|Fatal error.{0,60}|failed to allocate.{0,40}|terminated by signal [0-9]+' "$WORK/err" "$WORK/time" | head -n 1 | sed 's/^[^:]*://'))"
  echo "$((rss / 1024)) MB$note"
}

echo "| image | command | estimate | peak RSS (budget 64G) |"
echo "|---|---|---:|---:|"
for img in ${IMAGES-discs-16mp.tif discs-64mp.tif}; do
  while IFS=$'\t' read -r name args; do
    rm -rf "$WORK/o"; mkdir -p "$WORK/o"
    est=$(estimate "$args")
    peak=$(measure "$CLEAVE" $args --memory-budget 64G)
    echo "| $img | $name | ${est:-–} | $peak |"
  done < <(commands "$WORK/in/$img" "$WORK/o")
done

echo
echo "| bomb | command | estimate | after: peak RSS (budget $AFTER_BUDGET) | before: peak RSS (cap $CAP_GB GB) |"
echo "|---|---|---:|---:|---:|"
for img in ${BOMBS:-lzw-400mp.tif deflate-1800mp.tif png-1800mp.png}; do
  [ -f "$WORK/in/$img" ] || continue
  while IFS=$'\t' read -r name args; do
    rm -rf "$WORK/o"; mkdir -p "$WORK/o"
    est=$(estimate "$args")
    after=$(measure "$CLEAVE" $args --memory-budget "$AFTER_BUDGET")
    before="–"
    if [ -n "$BEFORE" ]; then
      rm -rf "$WORK/o"; mkdir -p "$WORK/o"
      before=$( (ulimit -v $((CAP_GB * 1024 * 1024)); measure timeout "${BEFORE_SECONDS:-90}" "$BEFORE" $args) )
    fi
    echo "| $img | $name | ${est:-–} | $after | $before |"
  done < <(commands "$WORK/in/$img" "$WORK/o")
done
