#!/usr/bin/env bash
# Lithology from a simulated low-resolution scan (issue 21 item 3), timed as a user runs it (all
# outputs on), on three training splits of the sandstone slices; every split is checked by the
# independent numpy/scipy derivation in reference.py.
# Usage: bash bench/lithology/run.sh [CLEAVE] [DATA]   (defaults .build/release/cleave, ../shared/data)
set -euo pipefail
CLEAVE=${1:-.build/release/cleave}
DATA=${2:-../shared/data}
SIM=${SIM:-bench/out/lithology/sim}
OUT=bench/out/lithology
[ -d "$DATA/sandstone-xrm" ] || { echo "bench/lithology: $DATA/sandstone-xrm is missing (the shared sandstone data)"; exit 1; }
python3 bench/lithology/simulate.py "$DATA" "$SIM" 4
ALL="0000 0050 0100 0150 0200 0250 0300 0350 0400"
split() {   # name, training slices
  local name=$1; shift
  local train="$*" test="" t
  for t in $ALL; do case " $train " in *" $t "*) ;; *) test="$test $t";; esac; done
  local low="" lab="" timg="" tlab="" truth=""
  for t in $train; do timg="$timg $SIM/low/Sandstone_Versa$t.tif"; tlab="$tlab $SIM/labels/Sandstone_Versa$t.tif"; done
  for t in $test; do low="$low $SIM/low/Sandstone_Versa$t.tif"; truth="$truth $SIM/labels/Sandstone_Versa$t.tif"; done
  echo "== split $name: train$(printf ' %s' $train) / test$test"
  local start end
  start=$(date +%s.%N)
  "$CLEAVE" lithology $low --train-image $timg --train-labels $tlab --truth $truth --out "$OUT/$name" 2>/dev/null | grep -E "^all images|^  |^region"
  end=$(date +%s.%N)
  echo "time (whole command, all outputs): $(python3 -c "print(f'{$end - $start:.2f} s')")"
  python3 bench/lithology/reference.py "$SIM" "$OUT/$name" $train -- $test
}
uptime
split three-slices 0000 0200 0400
split two-slices 0100 0300
split one-slice 0000
