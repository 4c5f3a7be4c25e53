#!/usr/bin/env bash
# Hostile inputs through every command that reads images (issue 19): non-finite pixels, decompression
# bombs of 400 MP to 1.8 GP (LZW, deflate, shared strips, PNG), MRC headers that lie about their size,
# tampered and truncated models, and the odd flags. Every command must end with one clear error line
# or a correct result: never a crash signal, never more memory than its budget (peak RSS measured with
# /usr/bin/time), never a partial output.
# Usage: Tests/cli/hostile.sh [path/to/cleave]   (about 2 minutes; called by Tests/cli/acceptance.sh)
# Prints one line per check (with the peak RSS) and closes with "hostile: N passed, N failed".
# HOSTILE_RSS=FILE appends "name<TAB>peak-KB<TAB>exit" per run (for bench/hostile/RESULTS.md).
set -u
cd "$(dirname "$0")/../.."
CLEAVE=${1:-.build/release/cleave}
WORK=$(mktemp -d /tmp/cleave-hostile.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export SWIFT_BACKTRACE=enable=no
source Tests/cli/lib.sh

[ -x "$CLEAVE" ] || { echo "hostile: no binary at $CLEAVE"; echo "hostile: 0 passed, 1 failed"; exit 1; }
[ -x /usr/bin/time ] || { echo "hostile: /usr/bin/time is missing (apt-get install time)"; echo "hostile: 0 passed, 1 failed"; exit 1; }
IN=$WORK/in
if ! python3 Tests/cli/hostile_files.py "$IN" > "$WORK/gen.log" 2>&1; then
  echo "hostile: could not write the input files: $(tail -n 2 "$WORK/gen.log")"; echo "hostile: 0 passed, 1 failed"; exit 1
fi

BUDGET=2G
BUDGET_KB=$((2 * 1024 * 1024))

# run NAME EXPECT PATTERN OUTDIR COMMAND…
#   EXPECT = ok: exit 0; refuse: exit 1 and exactly one "Error:" line matching PATTERN (extended regex).
#   Always: no crash signal, peak RSS within the budget, and for a refusal OUTDIR ("-" = none) holds no file.
run() {
  local name=$1 expect=$2 pattern=$3 outdir=$4; shift 4
  /usr/bin/time -f "%M %x" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err"
  local status=$? rss code
  read -r rss code < <(tail -n 1 "$WORK/time")
  [ -n "${HOSTILE_RSS:-}" ] && printf '%s\t%s\t%s\n' "$name" "$rss" "$status" >> "$HOSTILE_RSS"
  local mb=$((rss / 1024))
  if [ $status -gt 128 ] || grep -qE "Fatal error|Stack dump|Segmentation|Illegal instruction|Command terminated by signal|Crash" "$WORK/err" "$WORK/time"; then
    bad "$name" "crashed (exit $status): $(grep -m 1 -E 'Fatal|signal|Crash' "$WORK/err" "$WORK/time")"; return
  fi
  if [ "$rss" -gt "$BUDGET_KB" ]; then bad "$name" "peak RSS $mb MB is above the $BUDGET budget"; return; fi
  if [ "$expect" = ok ]; then
    if [ $status -ne 0 ]; then bad "$name" "exit $status: $(grep -m 1 'Error' "$WORK/err")"; return; fi
  else
    local errors; errors=$(grep -c "^Error: " "$WORK/err")
    if [ $status -eq 0 ]; then bad "$name" "exited 0"; return; fi
    if [ "$errors" -ne 1 ]; then bad "$name" "$errors error lines: $(head -n 3 "$WORK/err")"; return; fi
    if ! grep "^Error: " "$WORK/err" | grep -qE -- "$pattern"; then bad "$name" "message: $(grep '^Error: ' "$WORK/err")"; return; fi
    if [ "$outdir" != - ] && [ -d "$outdir" ] && [ -n "$(ls -A "$outdir")" ]; then
      bad "$name" "left files behind: $(ls -A "$outdir" | head -n 5 | tr '\n' ' ')"; return
    fi
  fi
  ok "$name ($mb MB)"
}
M="--memory-budget $BUDGET"

# --- a model to predict with (float32 training image) ---------------------------------------
"$CLEAVE" train --image "$IN/ramp.tif" --labels "$IN/ramp-labels.tif" --trees 5 --pixels-per-class 200 --bank fast \
    --seed 1 --model "$WORK/model.json" > /dev/null 2>&1 || bad "train the test model"
# Without intensity windows nothing reads pixels before the outputs are sized (how a lying MRC
# header reached a 10^15-byte allocation).
"$CLEAVE" train --image "$IN/ramp.tif" --labels "$IN/ramp-labels.tif" --trees 5 --pixels-per-class 200 --bank fast \
    --seed 1 --normalize none --model "$WORK/model-raw.json" > /dev/null 2>&1 || bad "train the test model without normalisation"

# --- non-finite pixels (item 1): one policy, one line naming the file and the first bad pixel ---
FINITE="pixel values must be finite, found"
for f in nan posinf neginf neginf-5pct; do
  img=$IN/$f.tif
  run "info reads $f.tif" ok "" - "$CLEAVE" info "$img" $M
  run "convert copies $f.tif" ok "" - "$CLEAVE" convert "$img" "$WORK/conv-$f.tif" $M
  run "locate (grid) refuses $f.tif" refuse "$f.tif: $FINITE" "$WORK/loc-$f" "$CLEAVE" locate "$img" --out "$WORK/loc-$f" --grid 2x2 --clusters 2 $M
  run "locate (study features) refuses $f.tif" refuse "$f.tif: $FINITE" "$WORK/locs-$f" "$CLEAVE" locate "$img" --out "$WORK/locs-$f" --grid 2x2 --clusters 2 --features study $M
  run "locate (window) refuses $f.tif" refuse "$f.tif: $FINITE" "$WORK/locw-$f" "$CLEAVE" locate "$img" --out "$WORK/locw-$f" --window 15 --stride 8 --clusters 2 $M
  run "features (texture) refuses $f.tif" refuse "$f.tif: $FINITE" "$WORK/feat-$f" "$CLEAVE" features "$img" --out "$WORK/feat-$f" --features texture --scales 1.6 $M
  run "features (fast bank) refuses $f.tif" refuse "$f.tif: $FINITE" "$WORK/featb-$f" "$CLEAVE" features "$img" --out "$WORK/featb-$f" --bank fast $M
  run "objects --threshold refuses $f.tif" refuse "$f.tif: $FINITE" "$WORK/obj-$f" "$CLEAVE" objects "$img" --threshold 100 --out "$WORK/obj-$f" $M
  run "predict refuses $f.tif" refuse "$f.tif: $FINITE" "$WORK/pred-$f" "$CLEAVE" predict --model "$WORK/model.json" --out "$WORK/pred-$f" "$img" $M
  run "train refuses $f.tif" refuse "$f.tif: $FINITE" - "$CLEAVE" train --image "$img" --labels "$IN/ramp-labels.tif" --bank fast --trees 2 --model "$WORK/m-$f.json" $M
  [ ! -e "$WORK/m-$f.json" ] && ok "refused training on $f.tif writes no model" || bad "refused training on $f.tif writes no model"
done
run "predict names the plane of a NaN in a streamed stack" refuse "nan-stack.tif: $FINITE NaN at column 3, row 4, plane 2" "$WORK/pred-stack" \
    "$CLEAVE" predict --model "$WORK/model.json" --out "$WORK/pred-stack" "$IN/nan-stack.tif" $M
run "huge finite values: features" ok "" - "$CLEAVE" features "$IN/extreme.tif" --out "$WORK/feat-extreme" --bank fast $M
run "huge finite values: objects" ok "" - "$CLEAVE" objects "$IN/extreme.tif" --threshold 0 --out "$WORK/obj-extreme" $M
run "huge finite values: predict" ok "" - "$CLEAVE" predict --model "$WORK/model.json" --out "$WORK/pred-extreme" "$IN/extreme.tif" $M
"$CLEAVE" locate "$IN/extreme.tif" --out "$WORK/loc-extreme" --grid 2x2 --clusters 2 $M > "$WORK/out" 2> "$WORK/err"
status=$?
[ $status -le 1 ] && ! grep -q "Fatal" "$WORK/err" && ok "huge finite values: locate ends cleanly (exit $status)" || bad "huge finite values: locate" "exit $status"

# --- decompression bombs (item 4): refused before decoding, within the budget -----------------
BUDGETMSG="needs about [0-9.]+ GiB of memory, more than the memory budget of 2.0 GiB; raise it with --memory-budget"
for f in lzw-400mp.tif deflate-900mp.tif deflate-1800mp.tif shared-1800mp.tif png-1800mp.png; do
  [ -f "$IN/$f" ] || { bad "bomb $f was generated"; continue; }
  img=$IN/$f
  run "info shows $f without its range" ok "" - "$CLEAVE" info "$img" $M
  run "convert refuses $f" refuse "$BUDGETMSG" - "$CLEAVE" convert "$img" "$WORK/bomb.tif" $M
  run "locate refuses $f" refuse "$BUDGETMSG" "$WORK/bl" "$CLEAVE" locate "$img" --out "$WORK/bl" $M
  run "features refuses $f" refuse "$BUDGETMSG" "$WORK/bf" "$CLEAVE" features "$img" --out "$WORK/bf" --bank fast $M
  run "objects refuses $f" refuse "$BUDGETMSG" "$WORK/bo" "$CLEAVE" objects "$img" --threshold 1 --out "$WORK/bo" $M
  run "predict refuses $f" refuse "$BUDGETMSG" "$WORK/bp" "$CLEAVE" predict --model "$WORK/model.json" --out "$WORK/bp" "$img" $M
  run "train refuses $f" refuse "$BUDGETMSG" - "$CLEAVE" train --image "$img" --labels "$img" --bank fast --model "$WORK/bomb-model.json" $M
  run "train --method unet refuses $f" refuse "$BUDGETMSG" - "$CLEAVE" train --method unet --image "$img" --labels "$img" --steps 1 --model "$WORK/bomb-unet.json" $M
  run "experiment refuses $f" refuse "$BUDGETMSG" "$WORK/bx" "$CLEAVE" experiment --image "$img" --labels "$img" --steps 1 --out "$WORK/bx" $M
  run "train --method auto refuses $f" refuse "$BUDGETMSG" - "$CLEAVE" train --method auto --image "$img" --labels "$img" --steps 1 --model "$WORK/bomb-auto.json" $M
done
# The default budget (half the physical memory) refuses the 1.8-gigapixel feature stack too.
run "features refuses the 1.8 GP bomb under the default budget" refuse "needs about [0-9.]+ GiB of memory, more than the memory budget" "$WORK/bfd" \
    env -u CLEAVE_MEMORY_BUDGET "$CLEAVE" features "$IN/deflate-1800mp.tif" --out "$WORK/bfd"
run "a bad --memory-budget is refused" refuse "memory-budget must be a size" - "$CLEAVE" features "$IN/ramp.tif" --out "$WORK/x" --memory-budget 12X

# --- MRC headers that lie (item 3): checked against the file before any allocation -------------
for f in mrc-lie-huge mrc-lie-8gb; do
  run "info refuses $f.mrc" refuse "$f.mrc: MRC truncated" - "$CLEAVE" info "$IN/$f.mrc" $M
  run "predict refuses $f.mrc, no partial files" refuse "$f.mrc: MRC truncated" "$WORK/mrc-$f" \
      "$CLEAVE" predict --model "$WORK/model-raw.json" --out "$WORK/mrc-$f" "$IN/$f.mrc" $M
  run "locate refuses $f.mrc" refuse "$f.mrc.*MRC truncated" "$WORK/mrcl-$f" "$CLEAVE" locate "$IN/$f.mrc" --out "$WORK/mrcl-$f" $M
  run "features refuses $f.mrc" refuse "$f.mrc: MRC truncated" "$WORK/mrcf-$f" "$CLEAVE" features "$IN/$f.mrc" --out "$WORK/mrcf-$f" $M
done

# --- tampered and truncated models (items 7 and 6) ---------------------------------------------
python3 - "$WORK/model.json" "$WORK" <<'EOF'
import base64, json, struct, sys
model = json.load(open(sys.argv[1])); out = sys.argv[2]
forest = model["forest"]; n = forest["nodeCount"]
starts = list(struct.unpack("<%di" % (len(base64.b64decode(forest["treeStarts"])) // 4), base64.b64decode(forest["treeStarts"])))
def save(name, change):
    m = json.loads(json.dumps(model)); change(m); json.dump(m, open(f"{out}/{name}.json", "w"))
bad = [0, n + 1000] + starts[2:]
save("tampered-starts", lambda m: m["forest"].__setitem__("treeStarts", base64.b64encode(struct.pack("<%di" % len(bad), *bad)).decode()))
save("tampered-class", lambda m: m["classes"][0].__setitem__("value", -3) or m["forest"]["classes"].__setitem__(0, -3))
text = open(sys.argv[1]).read(); open(f"{out}/truncated.json", "w").write(text[: len(text) // 2])
EOF
run "a tampered treeStarts is a damaged model" refuse "tampered-starts.json: damaged model file \(forest.treeStarts" "$WORK/pt" \
    "$CLEAVE" predict --model "$WORK/tampered-starts.json" --out "$WORK/pt" "$IN/ramp.tif" $M
run "a tampered class value is a damaged model" refuse "tampered-class.json: damaged model file" "$WORK/pc" \
    "$CLEAVE" predict --model "$WORK/tampered-class.json" --out "$WORK/pc" "$IN/ramp.tif" $M
run "a truncated model is damaged, not 'kind missing'" refuse "truncated.json: damaged model file .*truncated" "$WORK/ptr" \
    "$CLEAVE" predict --model "$WORK/truncated.json" --out "$WORK/ptr" "$IN/ramp.tif" $M

# --- small odd items (item 6) --------------------------------------------------------------------
run "a negative --clusters says what is wrong with it" refuse "clusters.*-3|-3.*clusters" "$WORK/neg" \
    "$CLEAVE" locate "$IN/ramp.tif" --out "$WORK/neg" --clusters -3
grep -q "Missing value" "$WORK/err" && bad "no 'Missing value' for a negative number" "$(cat "$WORK/err")" || ok "no 'Missing value' for a negative number"
run "an absurd GLCM distance is refused before reading" refuse "glcm-distance 5000: the GLCM distance must be 1 to 64" "$WORK/glcm" \
    "$CLEAVE" locate "$IN/ramp.tif" --out "$WORK/glcm" --grid 2x2 --clusters 2 --features mean,glcm_contrast --glcm-distance 5000
run "a GLCM distance beyond the patch is refused" refuse "glcm-distance 60: not shorter than the patch side" "$WORK/glcm" \
    "$CLEAVE" locate "$IN/ramp.tif" --out "$WORK/glcm" --grid 2x2 --clusters 2 --features mean,glcm_contrast --glcm-distance 60
run "--boundary constant:nan is refused in one line" refuse "boundary must be .*finite" - \
    "$CLEAVE" features "$IN/ramp.tif" --out "$WORK/bnd" --boundary constant:nan
run "--resume without --checkpoint is refused" refuse "resume.*--checkpoint" - \
    "$CLEAVE" train --method unet --image "$IN/ramp.tif" --labels "$IN/ramp-labels.tif" --resume --model "$WORK/u.json"

[ -z "$(find "$WORK" -name '*partial*' | head -n 1)" ] && ok "no .partial file anywhere" || bad "no .partial file anywhere" "$(find "$WORK" -name '*partial*' | head -n 3)"
summary hostile
