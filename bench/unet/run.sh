#!/usr/bin/env bash
# U-Net protocol of issue 7 on the sandstone XRM slices, plus the synthetic FIB-SEM experiment.
#
#   train: dense labels of slices 0000, 0100, 0200 (top 3/4 of each; the bottom quarter is the
#          validation split, chosen automatically by `cleave train --method unet`), budget MINUTES;
#   test:  slices 0300 and 0400, clean and with the issue's synthetic artefacts (artefacts.py);
#   experiment: a seeded 2-detector FIB-SEM phantom, 1 vs 2 channels × 1 vs 3 slices.
#
# Usage: bench/unet/run.sh [WORK_DIR]    env: MINUTES (default 10), SEED (1), EXPERIMENT_STEPS (300),
#        SKIP_EXPERIMENT=1, SKIP_PROTOCOL=1
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-/tmp/cleave-unet-bench}
MINUTES=${MINUTES:-10}
SEED=${SEED:-1}
EXPERIMENT_STEPS=${EXPERIMENT_STEPS:-300}
S=../shared/data/sandstone-xrm
mkdir -p "$WORK"
swift build -c release --product cleave 2>&1 | tail -n 1
CLEAVE=.build/release/cleave
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${SKIP_PROTOCOL:-0}" != 1 ]; then
  python3 bench/unet/artefacts.py "$WORK/artefacts" 7 "$S/images/Sandstone_Versa0300.tif" "$S/images/Sandstone_Versa0400.tif" > /dev/null
  args=()
  for z in 0000 0100 0200; do args+=(--image "$S/images/Sandstone_Versa$z.tif" --labels "$S/labels/Sandstone_Versa$z.tif"); done
  /usr/bin/time -f "train: wall %e s, CPU %U+%S s, peak RSS %M KB" "$CLEAVE" train --method unet "${args[@]}" \
      --class 1=pore --class 2=grain --class 3=clay --class 4=dense --minutes "$MINUTES" --seed "$SEED" \
      --model "$WORK/unet.json" 2>&1 | grep -v "^\s*$" | tee "$WORK/train.log"
  # Each test set is predicted twice: one view, and --views 8 (test-time augmentation).
  for V in 1 8; do
    /usr/bin/time -f "predict clean, $V view(s): wall %e s, CPU %U+%S s, peak RSS %M KB" "$CLEAVE" predict --model "$WORK/unet.json" \
        --views $V --out "$WORK/clean-v$V" "$S/images/Sandstone_Versa0300.tif" "$S/images/Sandstone_Versa0400.tif" 2>&1 | grep -v "U-Net" | tee "$WORK/predict-clean-v$V.log"
    /usr/bin/time -f "predict artefacts, $V view(s): wall %e s, CPU %U+%S s, peak RSS %M KB" "$CLEAVE" predict --model "$WORK/unet.json" \
        --views $V --out "$WORK/artefact-pred-v$V" "$WORK/artefacts/Sandstone_Versa0300.tif" "$WORK/artefacts/Sandstone_Versa0400.tif" 2>&1 | grep -v "U-Net" | tee "$WORK/predict-artefacts-v$V.log"
  done
  for V in 1 8; do
  echo "== --views $V"
  python3 - "$S" "$WORK" "$V" <<'PY'
import sys
import numpy as np, tifffile
S, W, V = sys.argv[1], sys.argv[2], sys.argv[3]
names = ["pore", "grain", "clay", "dense"]
def scores(pairs):
    conf = np.zeros((4, 4), np.int64)
    for t, p in pairs:
        conf += np.bincount((t.ravel().astype(np.int64) - 1) * 4 + (p.ravel().astype(np.int64) - 1), minlength=16).reshape(4, 4)
    tp = np.diag(conf).astype(float)
    iou = tp / (conf.sum(0) + conf.sum(1) - tp)
    dice = 2 * tp / (conf.sum(0) + conf.sum(1))
    return iou, dice, tp.sum() / conf.sum()
for kind, folder in (("clean", f"clean-v{V}"), ("artefacts", f"artefact-pred-v{V}")):
    pairs = []
    for z in ("0300", "0400"):
        t = tifffile.imread(f"{S}/labels/Sandstone_Versa{z}.tif")
        p = tifffile.imread(f"{W}/{folder}/Sandstone_Versa{z}-labels.tif")
        pairs.append((t, p))
        iou, dice, acc = scores([(t, p)])
        print(f"{kind:9s} slice {z}: mIoU {iou.mean():.4f}  IoU " + " ".join(f"{n} {v:.3f}" for n, v in zip(names, iou)) + f"  accuracy {acc:.4f}")
    iou, dice, acc = scores(pairs)
    print(f"{kind:9s} 0300+0400: mIoU {iou.mean():.4f}  IoU " + " ".join(f"{n} {v:.3f}" for n, v in zip(names, iou))
          + "  Dice " + " ".join(f"{v:.3f}" for v in dice) + f"  accuracy {acc:.4f}")
PY
  done
fi

if [ "${SKIP_EXPERIMENT:-0}" != 1 ]; then
  "$CLEAVE" sample --kind fibsem --out "$WORK/fib" --seed 2
  /usr/bin/time -f "experiment: wall %e s, CPU %U+%S s" "$CLEAVE" experiment \
      --image "$WORK/fib/detector1.tif,$WORK/fib/detector2.tif" --labels "$WORK/fib/train-labels.tif" \
      --truth "$WORK/fib/truth/labels.tif" --classes "$WORK/fib/classes.csv" \
      --channels 1,2 --slices 1,3 --depths 3 --widths 8 --patch-size 64 --steps "$EXPERIMENT_STEPS" --seed "$SEED" --out "$WORK/experiment" 2>&1 \
      | grep -v "^  step" | tee "$WORK/experiment.log"
fi
